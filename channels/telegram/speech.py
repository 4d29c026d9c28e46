"""Voice notes: OGG/Opus from Telegram → 16 kHz mono WAV (PyAV) → text, through a small
speech-to-text interface. The engine is configured by the deployer:

* ELDERCARE_STT_MODEL=<directory>: faster-whisper with that CTranslate2 model (offline);
* ELDERCARE_STT_ENGINE=<module>:<Class>: any class with `transcribe(wav: bytes) -> str`
  (how the tests plug in a fake engine, and how another engine can be used);
* neither: voice is not enabled, and the bot asks for text.
"""
from __future__ import annotations

import importlib
import io
import logging
import os
import wave
from typing import Protocol

logger = logging.getLogger(__name__)
RATE = 16_000


class SpeechToText(Protocol):
    def transcribe(self, wav: bytes) -> str: ...


def to_wav16k(audio: bytes) -> bytes:
    """Any audio PyAV reads (Telegram voice notes are OGG/Opus) as 16 kHz mono 16-bit WAV."""
    import av
    out = io.BytesIO()
    with av.open(io.BytesIO(audio)) as container, wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        for frame in container.decode(audio=0):
            for chunk in resampler.resample(frame):
                wav.writeframes(chunk.to_ndarray().tobytes())
        for chunk in resampler.resample(None):   # flush
            wav.writeframes(chunk.to_ndarray().tobytes())
    return out.getvalue()


class FasterWhisper:
    """faster-whisper on the CPU with a model directory the deployer provides."""

    def __init__(self, model_dir: str):
        from faster_whisper import WhisperModel   # optional: pip install faster-whisper
        self.model = WhisperModel(model_dir, device="cpu", compute_type="int8")

    def transcribe(self, wav: bytes) -> str:
        segments, _ = self.model.transcribe(io.BytesIO(wav), language="zh", beam_size=5, temperature=0.0,
                                            condition_on_previous_text=False)
        return "".join(s.text for s in segments).strip()


def load_engine() -> SpeechToText | None:
    spec = os.environ.get("ELDERCARE_STT_ENGINE")
    model = os.environ.get("ELDERCARE_STT_MODEL")
    try:
        if spec:
            module, _, name = spec.partition(":")
            return getattr(importlib.import_module(module), name)()
        if model:
            return FasterWhisper(model)
    except Exception as exc:  # a missing package or model: voice off, said once in the log
        logger.warning("speech-to-text not available (%s): voice notes are answered with a request for text",
                       type(exc).__name__)
    return None
