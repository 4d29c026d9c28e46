"""make setup's speech model (scripts/speech-model.sh): pinned, joined, hash-checked."""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from storage.settings import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "speech-model.sh"
MODEL = PROJECT_ROOT / "models" / "speech" / "whisper-base"


def test_the_default_model_is_in_place_with_the_pinned_hash():
    assert (MODEL / "model.bin").stat().st_size == 145_217_607, "run make setup"
    pinned = next(line.split("=", 1)[1] for line in SCRIPT.read_text().splitlines()
                  if line.startswith("MODEL_BIN_SHA256="))
    assert pinned.startswith("905e5bf8") and pinned.endswith("1a57")
    digest = hashlib.sha256()
    with open(MODEL / "model.bin", "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    assert digest.hexdigest() == pinned


def test_a_model_that_does_not_match_its_pin_stops_setup_and_leaves_nothing(tmp_path):
    wrong = tmp_path / "speech-model.sh"
    wrong.write_text(SCRIPT.read_text().replace("MODEL_BIN_SHA256=905e5bf8", "MODEL_BIN_SHA256=005e5bf8")
                     .replace('ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"', f'ROOT="{PROJECT_ROOT}"'))
    wrong.chmod(0o755)
    speech_dir = tmp_path / "speech"
    done = subprocess.run([str(wrong)], env={**os.environ, "ELDERCARE_SPEECH_DIR": str(speech_dir)},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode != 0
    assert "model.bin 不对" in done.stderr and "905e5bf8" in done.stderr
    assert not (speech_dir / "whisper-base").exists() and not list(speech_dir.glob(".download*"))


def test_voice_off_needs_no_model(tmp_path):
    done = subprocess.run([str(SCRIPT)], env={**os.environ, "ELDERCARE_STT_ENGINE": "off",
                                              "ELDERCARE_SPEECH_DIR": str(tmp_path / "none")},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not (tmp_path / "none").exists()
