"""Derived facts (policy_kb/derived.yml) are applied by the engine: one truth for every caller."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from policy_kb.derived import DERIVED_FILE, load_derivations
from policy_kb.engine import evaluate
from policy_kb.kb import KnowledgeBase
from policy_kb.schema import PolicyFileError

KB = KnowledgeBase.from_directory()


def status(profile: dict, policy_id: str) -> str:
    return next(r.status for r in evaluate(KB, profile) if r.id == policy_id)


def test_dementia_moves_an_estimated_level_one_step():
    assert KB.derive({"care_level": "轻度失能", "dementia": True})[0]["care_level"] == "中度失能"
    assert KB.derive({"care_level": "完全失能", "dementia": True})[0]["care_level"] == "完全失能"  # capped


def test_an_assessed_level_already_counts_the_dementia():
    profile = {"care_level": "轻度失能", "dementia": True, "care_assessed": True}
    assert KB.derive(profile) == (profile, [])


def test_nothing_to_move_without_a_level_or_a_diagnosis():
    assert KB.derive({"dementia": True}) == ({"dementia": True}, [])
    assert KB.derive({"care_level": "轻度失能", "dementia": False})[1] == []


def test_the_engine_evaluates_the_derived_profile():
    # family_care_bed needs 中度失能 or worse: the stated 轻度 plus dementia counts as 中度
    assert status({"care_level": "轻度失能"}, "family_care_bed") == "not_eligible"
    assert status({"care_level": "轻度失能", "dementia": True}, "family_care_bed") == "possible"


def test_what_it_changed_is_explained():
    _, applied = KB.derive({"care_level": "中度失能", "dementia": True})
    assert applied == [{"id": "dementia_raises_estimated_care_level", "fact": "care_level",
                        "from": "中度失能", "to": "重度失能", "explain": applied[0]["explain"]}]
    assert "失智" in applied[0]["explain"]


def test_cli_lists_the_derived_facts(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "app.cli", "policy", "evaluate", "--profile", "-"],
                          input=json.dumps({"age": 80, "care_level": "轻度失能", "dementia": True}),
                          capture_output=True, text=True,
                          env={**os.environ, "ELDERCARE_VAR_DIR": str(tmp_path / "var")})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["derived"][0]["to"] == "中度失能"
    assert next(r for r in out["results"] if r["id"] == "family_care_bed")["status"] == "possible"


@pytest.mark.parametrize("change,field", [
    (lambda d: d[0]["set"].update(fact="care_levle"), "[0].set.fact"),
    (lambda d: d[0]["set"].update(step=0), "[0].set.step"),
    (lambda d: d[0].update(colour="red"), "[0].colour"),
    (lambda d: d[0]["when"]["all"][0].update(op="=>"), "[0].when.all[0].op"),
    (lambda d: d[0].pop("explain"), "[0].explain"),
])
def test_a_bad_derivation_names_the_file_and_field(tmp_path, change, field):
    data = yaml.safe_load(DERIVED_FILE.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "derived.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyFileError) as info:
        load_derivations(path)
    assert info.value.field == field and str(path) in str(info.value)
