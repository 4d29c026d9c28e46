"""The KB in a SQL database (SQLite and PostgreSQL): idempotent reload, YAML stays the truth."""
from __future__ import annotations

import datetime as dt
import shutil

import yaml

from storage.db import make_engine, upgrade
from storage import kb_store as store
from policy_kb.engine import evaluate
from policy_kb.kb import POLICY_DIR, KnowledgeBase


def test_sync_is_idempotent_and_loads_the_same_kb(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    kb = KnowledgeBase.from_directory()
    first = store.sync(engine, kb)
    assert len(first["added"]) == 19
    second = store.sync(engine, kb)
    assert second["added"] == second["updated"] == second["removed"] == []
    loaded = store.load(engine)
    profile = {"age": 81, "district": "吴江区", "hukou": True, "emergency": True, "care_level": "中度失能"}
    day = dt.date(2026, 11, 29)
    assert [r.to_dict() for r in evaluate(loaded, profile, day)] == \
           [r.to_dict() for r in evaluate(kb, profile, day)]
    engine.dispose()


def test_editing_yaml_updates_and_removes_rows(db_url, tmp_path):
    engine = make_engine(db_url)
    upgrade(engine)
    policies = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, policies)
    store.sync(engine, KnowledgeBase.from_directory(policies))
    # a staffer lowers the 高龄津贴 age to 75 and retires 助餐
    path = policies / "senior_allowance.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["eligibility"]["all"][0]["value"] = 75
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (policies / "meal_assistance.yml").unlink()
    (policies / "home_care_service_subsidy.yml").write_text(
        (policies / "home_care_service_subsidy.yml").read_text(encoding="utf-8")
        .replace("related: [meal_assistance]\n", ""), encoding="utf-8")
    report = store.sync(engine, KnowledgeBase.from_directory(policies))
    assert report["updated"] == sorted(["home_care_service_subsidy", "senior_allowance"]) or \
        set(report["updated"]) == {"home_care_service_subsidy", "senior_allowance"}
    assert report["removed"] == ["meal_assistance"]
    loaded = store.load(engine)
    assert "meal_assistance" not in loaded.by_id
    result = {r.id: r for r in evaluate(loaded, {"age": 76, "hukou": True}, dt.date(2026, 11, 29))}
    assert result["senior_allowance"].status == "eligible"
    engine.dispose()
