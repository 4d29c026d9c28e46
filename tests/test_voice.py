"""Voice notes without the speech model: engine choice, limits, the worker pool, clean-up.

(The real engine on a real clip: tests/test_voice_engine.py.)"""
from __future__ import annotations

import asyncio
import io
import os
import time
import wave

import pytest

from channels.core import speech
from telegram_media import voice_note


class SlowEngine:
    """A stand-in engine for the worker pool: takes ELDERCARE_SLOW_STT_SECONDS (default 1.5 s)
    of CPU per note, then says how long the note was; an empty note raises."""

    def transcribe(self, wav: bytes) -> str:
        with wave.open(io.BytesIO(wav)) as audio:
            seconds = audio.getnframes() / audio.getframerate()
        deadline = time.monotonic() + float(os.environ.get("ELDERCARE_SLOW_STT_SECONDS", "1.5"))
        while time.monotonic() < deadline:   # busy, like a real decoder
            pass
        if seconds < 0.2:
            raise ValueError("nothing heard")
        return f"我媽今年{round(seconds)}秒"


@pytest.fixture
def no_engine_env(monkeypatch):
    for name in ("ELDERCARE_STT_ENGINE", "ELDERCARE_STT_MODEL", "ELDERCARE_SPEECH_DIR", "ELDERCARE_STT_PROMPT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_whisper_output_is_turned_to_simplified_with_phone_numbers_joined():
    assert speech.clean(" 我媽今年83了，住在吳江區，沒有低保 ") == "我妈今年83了，住在吴江区，没有低保"
    assert speech.clean("电话189.062.315.47") == "电话18906231547"
    assert speech.clean("1386-254-3871") == "13862543871"
    assert speech.clean("8-13-0岁，1,200块") == "8-13-0岁，1,200块"   # not a phone number: left as heard
    assert speech.clean("住在湖东累疼疼疼疼疼疼疼疼") == "住在湖东累疼"           # a decoding loop is cut
    assert speech.clean("不得不得不得不得") == "不得" and speech.clean("谢谢，好好好") == "谢谢，好好好"
    assert speech.clean("13955556666") == "13955556666"
    assert speech.clean("就这一个﹐孩子﹑老伴") == "就这一个，孩子、老伴"


def test_voice_can_be_switched_off(no_engine_env):
    no_engine_env.setenv("ELDERCARE_STT_ENGINE", "off")
    assert speech.engine_spec() is None and speech.load_engine() is None and speech.Transcriber.from_env() is None


def test_the_default_is_the_packaged_model_and_a_missing_one_means_voice_off(no_engine_env, tmp_path):
    no_engine_env.setenv("ELDERCARE_SPEECH_DIR", str(tmp_path))
    assert speech.engine_spec() is None                      # make setup has not put it there
    (tmp_path / "whisper-base").mkdir()
    (tmp_path / "whisper-base" / "model.bin").write_bytes(b"x")
    spec = speech.engine_spec()
    assert spec == speech.EngineSpec("whisper", str(tmp_path / "whisper-base"), True, 1)


def test_a_deployer_model_or_engine_overrides_the_default(no_engine_env, tmp_path):
    (tmp_path / "model.bin").write_bytes(b"x")
    no_engine_env.setenv("ELDERCARE_STT_MODEL", str(tmp_path))
    no_engine_env.setenv("ELDERCARE_STT_PROMPT", "off")
    assert speech.engine_spec() == speech.EngineSpec("whisper", str(tmp_path), False, 1)
    no_engine_env.setenv("ELDERCARE_STT_ENGINE", "test_voice:SlowEngine")
    assert speech.engine_spec() == speech.EngineSpec("class", "test_voice:SlowEngine")


def test_a_note_longer_than_the_limit_is_refused_while_decoding():
    with pytest.raises(speech.TooLong):
        speech.to_wav16k(voice_note(3.0), max_seconds=2)
    assert 2.9 < speech.wav_seconds(speech.to_wav16k(voice_note(3.0), max_seconds=5)) < 3.1


def _transcriber(**limits) -> speech.Transcriber:
    return speech.Transcriber(speech.EngineSpec("class", "test_voice:SlowEngine"), workers=1,
                              limits=speech.Limits(**{"max_seconds": 120, "queue": 1, **limits}))


def test_transcription_runs_outside_the_event_loop_and_the_queue_is_bounded():
    stt = _transcriber(queue=1)

    async def scenario():
        await stt.start()
        await asyncio.sleep(0)
        gaps, last, done = [], time.monotonic(), False

        async def ticker():
            nonlocal last
            while not done:
                await asyncio.sleep(0.05)
                gaps.append(time.monotonic() - last)
                last = time.monotonic()
        tick = asyncio.create_task(ticker())
        started = time.monotonic()
        notes = [asyncio.create_task(stt.transcribe(voice_note(n))) for n in (2.0, 3.0, 1.0)]
        results = await asyncio.gather(*notes, return_exceptions=True)
        done = True
        await tick
        return results, max(gaps), time.monotonic() - started

    try:
        results, worst_gap, took = asyncio.run(scenario())
    finally:
        stt.close()
    assert results[0] == "我妈今年2秒" and results[1] == "我妈今年3秒"   # in the worker, cleaned to Simplified
    assert isinstance(results[2], speech.Busy)                         # one working + one waiting: the third waits no more
    assert worst_gap < 0.5, f"the event loop stalled {worst_gap:.2f} s"   # other chats go on meanwhile
    assert took >= 3.0 and stt.pending == 0


def test_size_limit_and_an_engine_error_reach_the_caller():
    stt = _transcriber(max_bytes=2000)

    async def scenario():
        with pytest.raises(speech.TooLong):
            await stt.transcribe(voice_note(3.0))          # larger than 2000 bytes: no work done
        assert stt.too_long(200, None) and stt.too_long(None, 5000) and not stt.too_long(10, 1000)
        os.environ["ELDERCARE_SLOW_STT_SECONDS"] = "0"
        short = speech.Transcriber(stt.spec, workers=1)
        try:
            with pytest.raises(ValueError):
                await short.transcribe(voice_note(0.1))
        finally:
            short.close()
            del os.environ["ELDERCARE_SLOW_STT_SECONDS"]

    try:
        asyncio.run(scenario())
    finally:
        stt.close()


def test_the_default_engine_in_its_worker_process(no_engine_env):
    """The product's path with the packaged model: a worker process, the shipped clip, cleaned text."""
    from pathlib import Path
    clip = (Path(__file__).parent / "data" / "voice_zh_aishell.ogg").read_bytes()
    import dataclasses
    spec = speech.engine_spec()
    assert spec is not None and spec.kind == "whisper", "no default speech model: run make setup"
    stt = speech.Transcriber(dataclasses.replace(spec, threads=2), nice=0)   # quick, for the test's sake

    async def scenario():
        await stt.start()
        return await stt.transcribe(clip)
    try:
        heard = asyncio.run(scenario())
    finally:
        stt.close()
    assert "出现交易" in heard and "情况" in heard, heard


def test_an_engine_that_cannot_load_turns_voice_off():
    stt = speech.Transcriber(speech.EngineSpec("class", "no_such_module:Engine"), workers=1)

    async def scenario():
        await stt.start()
        for _ in range(100):
            await asyncio.sleep(0.1)
            if not stt.available:
                return False
        return True
    try:
        assert asyncio.run(scenario()) is False
    finally:
        stt.close()
