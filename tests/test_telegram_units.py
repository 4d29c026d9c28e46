"""Telegram pieces without a network: rendering, ID photos, voice conversion."""
from __future__ import annotations

import datetime as dt
import io
import wave
from pathlib import Path

import pytest

from channels.core import id_photo, render, speech
from telegram_media import id_card, landscape, valid_id, voice_note

TODAY = dt.date(2026, 12, 1)


def test_long_replies_split_at_sentence_ends_under_the_limit():
    text = "这是一句话。" * 1200
    pieces = render.split_long(text)
    assert len(pieces) > 1 and all(len(p) <= render.LIMIT for p in pieces)
    assert all(p.endswith("。") for p in pieces) and "".join(pieces) == text


def test_result_cards_become_a_few_messages_and_json_is_never_shown():
    messages = [{"custom": {"type": "recommendations", "profile": {}, "results": []}},
                {"text": "根据老人家说的情况…"}] + [{"text": f"{i}. 政策{i}\n为什么：…"} for i in range(1, 4)] + \
               [{"text": "还有 3 项。", "buttons": [{"title": "1. 更多", "payload": "/more"}]}]
    out = render.bubbles(messages)
    assert len(out) <= 2 and out[-1][1] == [("1. 更多", "/more")]
    assert all("recommendations" not in text for text, _ in out)


@pytest.mark.parametrize("style", ["straight", "rotated", "blurred"])
def test_an_id_card_photo_gives_the_masked_number_and_the_age(style):
    number = valid_id("19410305")
    found = id_photo.read_id(id_card(number, style), TODAY)
    assert found == id_photo.IdReading(number[:4] + "*" * 10 + number[-4:], 85)


def test_a_photo_without_a_card_or_a_broken_image_gives_nothing():
    assert id_photo.read_id(landscape(), TODAY) is None
    assert id_photo.read_id(b"\xff\xd8 broken", TODAY) is None


def test_a_wrong_checksum_is_no_id():
    number = valid_id("19410305")
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    assert id_photo.find_id([f"公民身份号码 {wrong}"], TODAY) is None


def test_a_voice_note_becomes_16k_mono_wav():
    with wave.open(io.BytesIO(speech.to_wav16k(voice_note(1.0)))) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (16000, 1, 2)
        assert 15000 < audio.getnframes() < 17000


def test_voice_is_on_by_default_and_off_when_said(monkeypatch):
    for name in ("ELDERCARE_STT_MODEL", "ELDERCARE_STT_ENGINE", "ELDERCARE_SPEECH_DIR"):
        monkeypatch.delenv(name, raising=False)
    spec = speech.engine_spec()
    assert spec is not None and spec.kind == "whisper", "make setup puts the default model in models/speech"
    monkeypatch.setenv("ELDERCARE_STT_ENGINE", "off")
    assert speech.load_engine() is None


VOICE_CLIP = Path(__file__).parent / "data" / "voice_zh_aishell.ogg"   # AISHELL-1, Apache-2.0 (data/README.md)


def test_the_real_default_engine_hears_a_mandarin_voice_note(monkeypatch):
    """The packaged Whisper base on 4 s of read Mandarin: 甚至出现交易几乎停滞的情况."""
    for name in ("ELDERCARE_STT_MODEL", "ELDERCARE_STT_ENGINE", "ELDERCARE_SPEECH_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ELDERCARE_STT_THREADS", "2")
    engine = speech.load_engine()
    assert engine is not None, "no default speech model: run make setup (scripts/speech-model.sh)"
    heard = engine.transcribe(speech.to_wav16k(VOICE_CLIP.read_bytes()))
    assert "出现交易" in heard and "情况" in heard, heard
    assert heard == speech.clean(heard)   # Simplified already


def test_a_button_never_stores_a_phone_or_id_number(tmp_path):
    from sqlalchemy import text
    from storage.db import migrated_engine
    from storage.telegram_buttons import ButtonStore
    engine = migrated_engine(f"sqlite:///{tmp_path / 'b.db'}")
    ButtonStore(engine).add("chat-1", [("1. 打 13812345678 确认", "/inform{\"age\": 83}"),
                                       ("2. 身份证 320502194105123012", "/deny")])
    with engine.connect() as conn:
        stored = " ".join(f"{t} {p}" for t, p in conn.execute(text("SELECT title, payload FROM telegram_buttons")))
    assert "13812345678" not in stored and "320502194105123012" not in stored
    assert '/inform{"age": 83}' in stored and "/deny" in stored   # payloads work as before
