"""Engine behaviour beyond single rules: output contract, next_fact, what-if, the CLI JSON."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

from policy_kb.engine import evaluate, next_fact, what_if
from policy_kb.kb import KnowledgeBase

KB = KnowledgeBase.from_directory()
DAY = dt.date(2026, 11, 29)


def by_id(results):
    return {r.id: r for r in results}


def test_empty_profile_every_policy_answered_and_next_fact_is_age():
    results = evaluate(KB, {}, DAY)
    assert len(results) == len(KB) == 19
    assert by_id(results)["elder_care_advisor"].status == "eligible"
    # age decides the most unknown results, so it is asked first
    assert next_fact(KB, results) == "age"


def test_results_sorted_best_first():
    order = {"eligible": 0, "possible": 1, "unknown": 2, "not_eligible": 3}
    statuses = [r.status for r in evaluate(KB, {"age": 85, "district": "姑苏区"}, DAY)]
    assert statuses == sorted(statuses, key=order.get)


def test_next_fact_skips_facts_the_user_does_not_know():
    results = evaluate(KB, {}, DAY)
    assert next_fact(KB, results, exclude={"age"}) != "age"


def test_next_fact_none_when_everything_is_decided():
    full = {"subject": "self", "age": 70, "district": "吴中区", "hukou": True, "care_level": "能力完好",
            "care_assessed": True, "dementia": False, "economic_status": "一般", "living": "与家人同住",
            "disability_grade": "none", "family_planning_special": False, "medical_insured": True,
            "emergency": False, "family_caregiver": True}
    results = evaluate(KB, full, DAY)
    assert all(r.status != "unknown" for r in results)
    assert next_fact(KB, results) is None


def test_reasons_are_chinese_sentences_for_a_user():
    r = by_id(evaluate(KB, {"age": 59, "hukou": True}, DAY))["public_care_home_waitlist"]
    assert r.status == "not_eligible" and r.reasons == ["年龄59岁，未满60岁"]


def test_unknown_lists_the_deciding_facts():
    r = by_id(evaluate(KB, {"age": 85}, DAY))["senior_allowance"]
    assert r.status == "unknown" and r.missing == ["hukou"]


def test_possible_carries_next_step():
    r = by_id(evaluate(KB, {"medical_insured": True, "care_level": "重度失能", "care_assessed": False}, DAY))
    ltc = r["ltc_insurance"].to_dict()
    assert ltc["status"] == "possible" and "评估" in ltc["next_step"]
    assert any("评估" in reason for reason in ltc["reasons"])


def test_voucher_outside_dates_says_so():
    profile = {"age": 70, "care_level": "重度失能", "care_assessed": True}
    after = by_id(evaluate(KB, profile, dt.date(2027, 1, 1)))["care_service_voucher"]
    assert after.status == "not_eligible" and "结束" in after.reasons[0]
    before = by_id(evaluate(KB, profile, dt.date(2025, 12, 31)))["care_service_voucher"]
    assert before.status == "not_eligible" and "还没开始" in before.reasons[0]


def test_what_if_assessment_returns_only_changes():
    profile = {"age": 82, "district": "相城区", "hukou": True, "medical_insured": True,
               "care_level": "中度失能", "care_assessed": False}
    changed = {c["id"]: c for c in what_if(KB, profile, {"care_assessed": True}, DAY)}
    assert set(changed) == {"ltc_insurance", "care_service_voucher"}
    assert changed["ltc_insurance"]["before"]["status"] == "possible"
    assert changed["ltc_insurance"]["after"]["status"] == "eligible"


def test_what_if_birthday_raises_priority_and_allowance():
    profile = {"age": 79, "district": "姑苏区", "hukou": True, "care_level": "重度失能",
               "economic_status": "一般", "family_planning_special": False}
    changed = {c["id"]: c for c in what_if(KB, profile, {"age": 80}, DAY)}
    assert changed["senior_allowance"]["after"]["status"] == "eligible"
    assert changed["public_care_home_waitlist"]["before"]["priority_tier"] == 5
    assert changed["public_care_home_waitlist"]["after"]["priority_tier"] == 4


def test_cli_evaluate_contract(tmp_path):
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps({"age": 83, "district": "昆山市", "hukou": True, "living": "独居",
                                   "care_level": "中度失能", "economic_status": "特困"}), encoding="utf-8")
    env = {**os.environ, "ELDERCARE_VAR_DIR": str(tmp_path / "var")}
    proc = subprocess.run([sys.executable, "-m", "app.cli", "policy", "evaluate", "--profile", str(profile),
                           "--as-of", "2026-11-29"], capture_output=True, text=True, env=env, check=True)
    out = json.loads(proc.stdout)
    assert out["as_of"] == "2026-11-29"
    assert set(out) == {"as_of", "derived", "results", "next_fact"} and out["derived"] == []
    first = out["results"][0]
    assert {"id", "name", "status", "reasons", "missing", "benefit", "apply"} <= set(first)
    waitlist = next(r for r in out["results"] if r["id"] == "public_care_home_waitlist")
    assert waitlist["priority_tier"] == 1
    tekun = next(r for r in out["results"] if r["id"] == "tekun_support")
    assert tekun["status"] == "eligible"
