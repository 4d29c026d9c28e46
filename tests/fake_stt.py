"""A fake speech-to-text engine for the Telegram tests (the speech model is the machine's edge).

Configured as ELDERCARE_STT_ENGINE=fake_stt:FakeEngine. It checks it was given what a real
engine gets — 16 kHz mono 16-bit WAV with some sound in it — and returns the transcript the
test wrote to ELDERCARE_FAKE_TRANSCRIPT_FILE.
"""
from __future__ import annotations

import io
import os
import time
import wave


class FakeEngine:
    def transcribe(self, wav: bytes) -> str:
        with wave.open(io.BytesIO(wav)) as audio:
            assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (16000, 1, 2)
            assert audio.getnframes() > 8000   # at least half a second
        time.sleep(float(os.environ.get("ELDERCARE_FAKE_STT_DELAY") or 0))   # a slow engine, when a test wants one
        with open(os.environ["ELDERCARE_FAKE_TRANSCRIPT_FILE"], encoding="utf-8") as fh:
            return fh.read().strip()
