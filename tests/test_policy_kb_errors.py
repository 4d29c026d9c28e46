"""Bad policy files and bad profiles fail with messages naming the file and the field."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from policy_kb.facts import ProfileError, validate_profile
from policy_kb.kb import POLICY_DIR, KnowledgeBase
from policy_kb.schema import PolicyFileError


@pytest.fixture
def kb_dir(tmp_path):
    target = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, target)
    return target


def _edit(kb_dir: Path, policy_id: str, change) -> Path:
    path = kb_dir / f"{policy_id}.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _error(kb_dir) -> PolicyFileError:
    with pytest.raises(PolicyFileError) as info:
        KnowledgeBase.from_directory(kb_dir)
    return info.value


def test_unknown_fact_name(kb_dir):
    path = _edit(kb_dir, "senior_allowance",
                 lambda d: d["eligibility"]["all"][0].update(fact="agee"))
    err = _error(kb_dir)
    assert err.file == str(path)
    assert err.field == "eligibility.all[0].fact"
    assert "agee" in err.message


def test_operator_typo(kb_dir):
    _edit(kb_dir, "senior_allowance", lambda d: d["eligibility"]["all"][0].update(op="=>"))
    err = _error(kb_dir)
    assert err.field == "eligibility.all[0].op" and "'=>'" in err.message and ">=" in err.message


def test_wrong_value_type(kb_dir):
    _edit(kb_dir, "senior_allowance", lambda d: d["eligibility"]["all"][0].update(value="八十"))
    err = _error(kb_dir)
    assert err.field == "eligibility.all[0].value"


def test_unknown_enum_value(kb_dir):
    _edit(kb_dir, "ltc_insurance", lambda d: d["eligibility"]["all"][1].update(value="中度"))
    err = _error(kb_dir)
    assert err.field == "eligibility.all[1].value" and "中度失能" in err.message


def test_ordering_a_bool_is_refused(kb_dir):
    _edit(kb_dir, "senior_allowance",
          lambda d: d["eligibility"]["all"][1].update(op=">=", value=True))
    assert _error(kb_dir).field == "eligibility.all[1].op"


def test_unknown_policy_reference(kb_dir):
    path = _edit(kb_dir, "ltc_insurance", lambda d: d.update(related=["ltc_insurence"]))
    err = _error(kb_dir)
    assert err.file == str(path) and err.field == "related[0]" and "ltc_insurence" in err.message


def test_date_in_wrong_format(kb_dir):
    path = kb_dir / "care_service_voucher.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("valid_from: 2026-01-01",
                                                             "valid_from: 2026/01/01"), encoding="utf-8")
    err = _error(kb_dir)
    assert err.field == "valid_from" and "YYYY-MM-DD" in err.message


def test_unknown_top_level_field(kb_dir):
    _edit(kb_dir, "meal_assistance", lambda d: d.update(benifit="x"))
    err = _error(kb_dir)
    assert err.field == "benifit"


def test_missing_required_field(kb_dir):
    _edit(kb_dir, "meal_assistance", lambda d: d.pop("sources"))
    assert _error(kb_dir).field == "sources"


def test_id_must_match_file_name(kb_dir):
    _edit(kb_dir, "meal_assistance", lambda d: d.update(id="meals"))
    assert _error(kb_dir).field == "id"


def test_invented_amount_must_be_a_number(kb_dir):
    _edit(kb_dir, "senior_allowance", lambda d: d["amount"].update(value="大约100"))
    assert _error(kb_dir).field == "amount.value"


def test_yaml_syntax_error_names_file(kb_dir):
    path = kb_dir / "meal_assistance.yml"
    path.write_text("id: meal_assistance\nname: [unclosed\n", encoding="utf-8")
    err = _error(kb_dir)
    assert err.file == str(path) and "YAML" in err.field


def test_local_rule_inside_not_is_refused(kb_dir):
    _edit(kb_dir, "meal_assistance",
          lambda d: d.update(eligibility={"not": {"local_rule": "x"}}))
    assert _error(kb_dir).field == "eligibility.not"


def test_validate_cli_reports_file_and_field(kb_dir):
    _edit(kb_dir, "senior_allowance", lambda d: d["eligibility"]["all"][0].update(op="=>"))
    proc = subprocess.run([sys.executable, "-m", "app.cli", "policy", "validate", "--dir", str(kb_dir)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "senior_allowance.yml" in proc.stderr and "eligibility.all[0].op" in proc.stderr


# --- profiles ---------------------------------------------------------------------------

@pytest.mark.parametrize("profile,key", [
    ({"agee": 80}, "agee"),
    ({"age": "八十"}, "age"),
    ({"age": 200}, "age"),
    ({"age": -1}, "age"),
    ({"age": True}, "age"),
    ({"district": "上海"}, "district"),
    ({"district": "园区"}, "district"),          # aliases are the dialogue's job, not the API's
    ({"hukou": "yes"}, "hukou"),
    ({"care_level": "半失能"}, "care_level"),
    ({"disability_grade": 5}, "disability_grade"),
    ({"disability_grade": True}, "disability_grade"),
    ({"subject": "me"}, "subject"),
])
def test_bad_profile_names_the_key(profile, key):
    with pytest.raises(ProfileError) as info:
        validate_profile(profile)
    assert info.value.key == key


def test_good_profile_passes_and_none_means_unknown():
    profile = {"age": 85, "district": "姑苏区", "hukou": True, "disability_grade": "none",
               "care_level": "重度失能", "living": None}
    assert validate_profile(profile) == {k: v for k, v in profile.items() if v is not None}


def _cli(*args, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "app.cli", *args], input=stdin,
                          capture_output=True, text=True, env=env)


@pytest.fixture
def cli_env(tmp_path):
    import os
    return {**os.environ, "ELDERCARE_VAR_DIR": str(tmp_path / "var")}


def test_cli_unknown_key_exits_2(cli_env):
    proc = _cli("policy", "evaluate", "--profile", "-", stdin=json.dumps({"agee": 80}), env=cli_env)
    assert proc.returncode == 2 and "agee" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_unknown_value_exits_2(cli_env):
    proc = _cli("policy", "evaluate", "--profile", "-", stdin=json.dumps({"district": "上海"}), env=cli_env)
    assert proc.returncode == 2 and "上海" in proc.stderr


def test_cli_bad_what_if_exits_2(cli_env):
    proc = _cli("policy", "evaluate", "--profile", "-", "--what-if", "care_level=很严重",
                stdin=json.dumps({"age": 80}), env=cli_env)
    assert proc.returncode == 2 and "care_level" in proc.stderr


def test_cli_bad_date_exits_2(cli_env):
    proc = _cli("policy", "evaluate", "--profile", "-", "--as-of", "2026-13-01",
                stdin="{}", env=cli_env)
    assert proc.returncode == 2 and "YYYY-MM-DD" in proc.stderr
