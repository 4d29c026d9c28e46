"""Rasa's own checks: data validation and the conversation test stories."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.serve import model_path
from storage.settings import PROJECT_ROOT, Settings

RASA = str(Path(sys.executable).with_name("rasa"))


def _run(args, tmp_path):
    return subprocess.run([RASA, *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          env={"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
                               "HOME": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"})


def test_rasa_data_validate_is_clean(tmp_path):
    proc = _run(["data", "validate", "--data", "data/nlu", "data/rules.yml", "--domain", "domain.yml",
                 "--config", "config.yml", "--fail-on-warnings"], tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_conversation_stories_pass(tmp_path):
    model = model_path(Settings.from_env())
    if not model.exists():
        pytest.fail("没有训练好的模型：先运行 `make train`")
    out = tmp_path / "results"
    proc = _run(["test", "core", "--stories", "tests/test_stories.yml", "--model", str(model),
                 "--out", str(out), "--fail-on-prediction-errors"], tmp_path)
    failed = out / "failed_test_stories.yml"
    detail = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert proc.returncode == 0, (proc.stdout[-2000:] + proc.stderr[-2000:] + detail)
