"""End to end on Telegram: the real python-telegram-bot bridge (`eldercare telegram`) against a
fake Bot API server, with the real advisor behind it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from e2e_support import free_port
from fake_bot_api import FakeBotApi
from storage.settings import PROJECT_ROOT
from telegram_media import id_card, landscape, valid_id, voice_note

pytestmark = pytest.mark.e2e
TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmno"
PHONE = "13955556666"


class Bridge:
    def __init__(self, advisor, api: FakeBotApi, tmp_path, *args, extra_env=None):
        self.log_path = tmp_path / f"telegram-{time.time_ns()}.log"
        self.transcript = tmp_path / "transcript.txt"
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": api.base_url,
               "ELDERCARE_VAR_DIR": str(advisor.var), "ELDERCARE_STT_ENGINE": "fake_stt:FakeEngine",
               "ELDERCARE_FAKE_TRANSCRIPT_FILE": str(self.transcript),
               "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT / "tests"), os.environ.get("PYTHONPATH", "")]),
               **(extra_env or {})}
        env.pop("ELDERCARE_DB_URL", None)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", "telegram", "--url", advisor.url, *args],
                                     cwd=PROJECT_ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def api():
    server = FakeBotApi(TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def bridge(advisor, api, tmp_path_factory):
    running = Bridge(advisor, api, tmp_path_factory.mktemp("telegram"))
    deadline = time.monotonic() + 60
    while not api.called("getUpdates"):
        assert running.proc.poll() is None, running.log_text()
        assert time.monotonic() < deadline, "the bridge never polled"
        time.sleep(0.2)
    yield running
    running.stop()


def texts(messages) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def last_keyboard(messages) -> tuple[dict, list[dict]]:
    message = next(m["_message"] for m in reversed(messages) if m.get("reply_markup"))
    return message, [row[0] for row in message["reply_markup"]["inline_keyboard"]]


def say(api, chat: int, text: str, at_least: int = 1) -> list[dict]:
    before = len(api.sent(chat))
    api.text(chat, text)
    return api.wait_sent(chat, before + at_least)[before:]


def tap(api, chat: int, messages, title_part: str) -> list[dict]:
    message, buttons = last_keyboard(messages)
    button = next(b for b in buttons if title_part in b["text"])
    before = len(api.sent(chat))
    api.tap(chat, message, button["callback_data"])
    return api.wait_sent(chat, before + 1)[before:]


def test_start_commands_and_a_conversation_to_a_booking(api, bridge):
    chat = 501
    first = say(api, chat, "/start", at_least=2)   # the welcome at once, the first question after the advisor's cold turn
    assert "养老政策顾问" in texts(first) and "多大岁数" in texts(first)
    assert {c["command"] for c in api.called("setMyCommands")[0]["commands"]} == {"start", "help", "restart", "status", "stop"}
    asked = say(api, chat, "我妈今年85岁，住在姑苏区")
    _, buttons = last_keyboard(asked)
    assert [b["text"] for b in buttons] == ["1. 有苏州户口", "2. 没有，是外地户口"]
    assert all(len(b["callback_data"].encode()) <= 64 and not b["callback_data"].startswith("/") for b in buttons)
    answered_before = len(api.called("answerCallbackQuery"))
    results = tap(api, chat, asked, "有苏州户口")
    assert len(api.called("answerCallbackQuery")) == answered_before + 1
    marked = api.called("editMessageReplyMarkup")[-1]["reply_markup"]["inline_keyboard"]
    assert marked[0][0]["text"].startswith("✅")
    text = texts(results)
    assert "高龄津贴" in text and "{" not in text and "recommendations" not in text   # readable, never JSON
    assert len(results) <= 4
    # a typed number works like a tap
    more = say(api, chat, "2")
    assert "老年助餐服务" in texts(more) and "高龄津贴" not in texts(more)   # the second page
    say(api, chat, "帮我约个助浴")
    say(api, chat, "明天上午")
    say(api, chat, "姑苏区平江路100号3幢201室")
    say(api, chat, "王阿姨")
    summary = say(api, chat, PHONE)
    assert "138" not in texts(summary) and "139****6666" in texts(summary)
    done = tap(api, chat, summary, "确认提交")
    assert "JY-" in texts(done)
    status = say(api, chat, "/status")
    assert "JY-" in texts(status) and "139****6666" in texts(status) and PHONE not in texts(status)
    assert api.called("sendChatAction")


def test_voice_note_is_transcribed_and_shown(api, bridge):
    chat = 502
    bridge.transcript.write_text("我爸今年八十二岁住在吴中区", encoding="utf-8")
    before = len(api.sent(chat))
    api.voice(chat, voice_note())
    reply = api.wait_sent(chat, before + 3)[before:]
    assert reply[0]["text"] == "正在听您的语音…"
    heard = next(m for m in reply if m["text"].startswith("我听到的是："))
    assert heard["text"] == "我听到的是：我爸今年八十二岁住在吴中区"
    assert [row[0]["text"] for row in heard["reply_markup"]["inline_keyboard"]] == ["不对"]
    assert "有苏州户口吗" in texts(reply)     # the same text path as typed input
    wrong = tap(api, chat, [heard], "不对")   # one tap: heard wrong, asked to say it again or type
    assert "听错了" in texts(wrong) and "打字" in texts(wrong)


def test_a_voice_note_over_the_limit_is_refused_politely(api, bridge):
    chat = 509
    api.files["long1"] = voice_note(1.0)
    before = len(api.sent(chat))
    api.other(chat, voice={"file_id": "long1", "file_unique_id": "long1", "duration": 600,
                           "mime_type": "audio/ogg", "file_size": 4000})
    reply = texts(api.wait_sent(chat, before + 1)[before:])
    assert "太长了" in reply and "120秒" in reply
    assert not any(p.get("file_id") == "long1" for p in api.called("getFile"))   # never downloaded


def test_a_long_voice_note_does_not_hold_up_other_chats(advisor, api, bridge, tmp_path):
    """Transcription runs in the worker pool: while one chat's note takes 6 s, another chat's
    typed turn is answered at once."""
    bridge.stop()   # one bridge polls at a time
    slow = Bridge(advisor, api, tmp_path, extra_env={"ELDERCARE_STT_ENGINE": "test_voice:SlowEngine",
                                                     "ELDERCARE_SLOW_STT_SECONDS": "6"})
    try:
        started = len(api.called("getUpdates"))
        deadline = time.monotonic() + 60
        while len(api.called("getUpdates")) <= started + 1:
            assert slow.proc.poll() is None and time.monotonic() < deadline, slow.log_text()
            time.sleep(0.2)
        voice_chat, text_chat = 511, 512
        api.voice(voice_chat, voice_note(2.0))
        api.wait_sent(voice_chat, 1)                      # 正在听您的语音…
        sent_at = time.monotonic()
        answered = texts(say(api, text_chat, "我妈85岁住在姑苏区"))
        assert "有苏州户口吗" in answered
        assert time.monotonic() - sent_at < 4.5          # long before the 6 s note is done (1 s of it is say's settling)
        assert not any(m["text"].startswith("我听到的是") for m in api.sent(voice_chat))
        heard = texts(api.wait_sent(voice_chat, 3, timeout=60))
        assert "我听到的是：我妈今年2秒" in heard
    finally:
        slow.stop()
        bridge.__init__(advisor, api, bridge.log_path.parent)   # the module's bridge runs on


def test_the_default_engine_hears_a_real_voice_note(advisor, api, bridge, tmp_path):
    """No engine configured: the packaged Whisper base, in its worker, on 4 s of read Mandarin."""
    from pathlib import Path
    bridge.stop()   # one bridge polls at a time
    real = Bridge(advisor, api, tmp_path, extra_env={"ELDERCARE_STT_ENGINE": ""})
    try:
        chat = 513
        started = len(api.called("getUpdates"))
        deadline = time.monotonic() + 60
        while len(api.called("getUpdates")) <= started + 1:
            assert real.proc.poll() is None and time.monotonic() < deadline, real.log_text()
            time.sleep(0.2)
        api.voice(chat, (Path(__file__).parent / "data" / "voice_zh_aishell.ogg").read_bytes())
        reply = texts(api.wait_sent(chat, 3, timeout=90))
        assert "正在听您的语音…" in reply and "我听到的是：甚至出现交易" in reply, reply
    finally:
        real.stop()
        bridge.__init__(advisor, api, bridge.log_path.parent)   # the module's bridge runs on


def test_id_photo_is_read_masked_and_confirmed(api, bridge):
    chat = 503
    number = valid_id("19410305")
    before = len(api.sent(chat))
    api.photo(chat, id_card(number, "rotated"))
    reply = api.wait_sent(chat, before + 1, timeout=90)[before:]
    masked = number[:4] + "*" * 10 + number[-4:]
    assert f"{masked}，85岁，对吗？" in texts(reply) and number not in json.dumps(api.calls, ensure_ascii=False)
    confirmed = tap(api, chat, reply, "对")
    assert "年龄85岁" in texts(confirmed)
    assert number not in bridge.log_text()


def test_other_media_get_a_polite_reply(api, bridge):
    chat = 504
    before = len(api.sent(chat))
    api.photo(chat, landscape())
    assert "没在照片上找到身份证号码" in texts(api.wait_sent(chat, before + 1, timeout=90)[before:])
    before = len(api.sent(chat))
    api.other(chat, sticker={"file_id": "s1", "file_unique_id": "s1", "type": "regular", "width": 512,
                             "height": 512, "is_animated": False, "is_video": False})
    assert "只看得懂文字、语音和身份证照片" in texts(api.wait_sent(chat, before + 1)[before:])
    before = len(api.sent(chat))
    api.other(chat, location={"latitude": 31.3, "longitude": 120.6})
    assert "只看得懂" in texts(api.wait_sent(chat, before + 1)[before:])


def test_two_chats_interleaved_keep_their_own_conversations(api, bridge):
    a, b = 505, 506
    api.text(a, "我妈90岁住昆山")
    api.text(b, "我今年66岁住太仓")
    api.wait_sent(a, 1)
    api.wait_sent(b, 1)
    api.text(a, "本地户口")
    api.text(b, "外地户口")
    ra, rb = texts(api.wait_sent(a, 2)), texts(api.wait_sent(b, 2))
    assert "高龄津贴" in ra and "年龄90岁" in ra and "66" not in ra
    assert "年龄66岁" in rb and "90岁" not in rb


def test_a_tap_on_a_button_sent_before_a_restart_still_works(advisor, api, bridge, tmp_path):
    chat = 507
    asked = say(api, chat, "我外婆88岁住相城")
    bridge.stop()
    again = Bridge(advisor, api, tmp_path)
    try:
        answered = tap(api, chat, asked, "有苏州户口")
        assert "有苏州户籍" in texts(answered)
    finally:
        again.stop()
        bridge.__init__(advisor, api, bridge.log_path.parent)   # the module's bridge runs on


def test_webhook_needs_the_secret_token(advisor, api, tmp_path):
    port = free_port()
    hook = Bridge(advisor, api, tmp_path, "--webhook", f"https://example.org/telegram", "--port", str(port),
                  extra_env={"TELEGRAM_WEBHOOK_SECRET": "s3cret-token"})
    try:
        deadline = time.monotonic() + 60
        while not api.called("setWebhook"):
            assert hook.proc.poll() is None, hook.log_text()
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert api.called("setWebhook")[-1]["secret_token"] == "s3cret-token"
        update = {"update_id": 99001, "message": {"message_id": 1, "date": int(time.time()),
                                                  "chat": {"id": 508, "type": "private"},
                                                  "from": {"id": 508, "is_bot": False, "first_name": "王"},
                                                  "text": "你好"}}

        def post(headers):
            request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", data=json.dumps(update).encode(),
                                             headers={"Content-Type": "application/json", **headers})
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:
                    return reply.status
            except urllib.error.HTTPError as exc:
                return exc.code
        deadline = time.monotonic() + 30
        while True:
            try:
                status = post({})
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline
                time.sleep(0.3)
        assert status == 403
        time.sleep(1)
        assert not api.sent(508)                   # reached nobody
        assert post({"X-Telegram-Bot-Api-Secret-Token": "s3cret-token"}) == 200
        assert "多大岁数" in texts(api.wait_sent(508, 1))
    finally:
        hook.stop()


def test_logs_hold_no_token_phone_or_id(bridge, advisor):
    # runs last in this module: everything above has been logged by now
    for log in (bridge.log_text(), advisor.log_text()):
        assert TOKEN not in log and TOKEN.split(":")[1] not in log
        assert PHONE not in log


def test_serve_starts_the_bridge_when_a_token_is_set(tmp_path):
    from e2e_support import Advisor
    own = FakeBotApi(TOKEN).start()
    served = Advisor(tmp_path, extra_env={"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": own.base_url})
    try:
        deadline = time.monotonic() + 60
        while not own.called("getUpdates"):
            assert time.monotonic() < deadline, served.log_text()[-2000:]
            time.sleep(0.2)
        own.text(601, "你好")
        assert "多大岁数" in texts(own.wait_sent(601, 1))
    finally:
        assert served.stop() == 0
        own.stop()
