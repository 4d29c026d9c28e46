"""End to end on WeChat: the real endpoint (`eldercare wechat`) with the real advisor behind it,
driven by signed and encrypted XML posts as WeChat makes them, against a fake WeChat platform
(token, 客服消息, media) — the platform is the machine's edge."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from channels.wechat.protocol import WeChatCrypto, parse_message
from e2e_support import free_port
from fake_wechat import (AES_KEY, APP_ID, APP_SECRET, TOKEN, FakeWeChat, WeChatUser, open_reply, post_to, signed_post,
                         url_check)
from storage.settings import PROJECT_ROOT
from telegram_media import id_card, valid_id, voice_note

pytestmark = pytest.mark.e2e
PHONE = "13955556666"
STT_DELAY = 6.0   # seconds the fake engine takes: longer than WeChat's 5 s, so the answer goes by 客服消息


@pytest.fixture(scope="module")
def platform():
    server = FakeWeChat().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def crypto():
    return WeChatCrypto(TOKEN, AES_KEY, APP_ID)


@pytest.fixture(scope="module")
def endpoint(advisor, platform, tmp_path_factory):
    var = tmp_path_factory.mktemp("wechat")
    port = free_port()
    transcript = var / "transcript.txt"
    env = {**os.environ, "WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": APP_SECRET, "WECHAT_TOKEN": TOKEN,
           "WECHAT_AES_KEY": AES_KEY, "WECHAT_API_BASE": platform.base_url, "ELDERCARE_VAR_DIR": str(advisor.var),
           "ELDERCARE_STT_ENGINE": "fake_stt:FakeEngine", "ELDERCARE_FAKE_TRANSCRIPT_FILE": str(transcript),
           "ELDERCARE_FAKE_STT_DELAY": str(STT_DELAY),
           "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT / "tests"), os.environ.get("PYTHONPATH", "")])}
    env.pop("ELDERCARE_DB_URL", None)   # the advisor's own database, as `eldercare serve` has it
    log_path = var / "wechat.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "wechat", "--url", advisor.url, "--port", str(port)],
                            cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, "the WeChat endpoint did not start"
        try:
            urllib.request.urlopen(url + "/health", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    proc.url, proc.log_path, proc.transcript = url, log_path, transcript
    yield proc
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def post(endpoint, query: dict, body: str) -> tuple[int, str]:
    return post_to(endpoint.url, query, body)


def User(endpoint, platform, crypto, openid: str) -> WeChatUser:
    return WeChatUser(endpoint.url, platform, crypto, openid, slow_seconds=STT_DELAY + 30)


def choice(reply: str, words: str) -> str:
    """The number of the line holding these words ("2. 没有…" → "2")."""
    return next(m.group(1) for line in reply.splitlines() if words in line
                for m in [re.match(r"\s*(\d+)\.", line)] if m)


def test_the_url_check_and_signatures(endpoint, crypto):
    with urllib.request.urlopen(f"{endpoint.url}/wechat?{urllib.parse.urlencode(url_check('echo-42'))}") as reply:
        assert reply.read().decode() == "echo-42"
    forged = {**url_check("echo-43"), "signature": "0" * 40}
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{endpoint.url}/wechat?{urllib.parse.urlencode(forged)}")
    assert refused.value.code == 403
    query, body = signed_post("text", "oForger", crypto=crypto, content="我妈85岁")
    assert post(endpoint, {**query, "msg_signature": "0" * 40}, body)[0] == 403
    query, body = signed_post("text", "oForger", content="我妈85岁")   # plain mode, signature of another token
    assert post(endpoint, {**query, "signature": "1" * 40}, body)[0] == 403


def test_a_whole_conversation_to_results_and_a_booking(endpoint, platform, crypto):
    user = User(endpoint, platform, crypto, "oUserWhole")
    passive, _ = user.send("event", event="subscribe")
    assert "养老政策顾问" in passive and "多大岁数" in passive   # the greeting, then the first question
    asked = user.say("我妈今年85岁，住在姑苏区")
    assert "1. 有苏州户口" in asked and "回复数字即可" in asked
    results = user.say(choice(asked, "有苏州户口"))   # a typed number chooses
    assert "高龄津贴" in results and "{" not in results
    user.say("帮我约个助浴")
    user.say("明天上午")
    user.say("姑苏区平江路100号3幢201室")
    user.say("王阿姨")
    summary = user.say(PHONE)
    assert PHONE not in summary and "139****6666" in summary
    done = user.say(choice(summary, "确认提交"))
    assert "JY-" in done
    assert len(platform.sent.get("oUserWhole", [])) <= 1   # answered within 5 s: passive replies, no quota used


def test_a_voice_message_with_wechats_own_recognition(endpoint, platform, crypto):
    user = User(endpoint, platform, crypto, "oUserVoice")
    passive, later = user.send("voice", recognition="我爸今年八十二岁住在吴中区。")
    reply = "\n".join([passive or ""] + later)
    assert "我听到的是：我爸今年八十二岁住在吴中区" in reply and "有苏州户口吗" in reply
    assert "听错了就直接打字" in reply and not platform.called("/cgi-bin/media/get")


def test_a_slow_voice_message_is_answered_by_customer_service_message(endpoint, platform, crypto):
    """No Recognition: the audio is fetched and transcribed (6 s): WeChat hears "正在听…" at once and
    the rest comes as one 客服消息."""
    endpoint.transcript.write_text("我妈今年九十岁住在相城区", encoding="utf-8")
    platform.add_media("voice-slow", voice_note(2.0))
    user = User(endpoint, platform, crypto, "oUserSlow")
    passive, later = user.send("voice", media_id="voice-slow")
    assert passive == "正在听您的语音…"
    assert len(later) == 1 and "我听到的是：我妈今年九十岁住在相城区" in later[0] and "户口" in later[0]


def test_an_id_photo_is_read_masked_and_confirmed_by_number(endpoint, platform, crypto):
    number = valid_id("19400315")
    platform.add_media("photo-1", id_card(number), "image/jpeg")
    user = User(endpoint, platform, crypto, "oUserPhoto")
    passive, later = user.send("image", media_id="photo-1")
    shown = "\n".join([passive or ""] + later)
    assert number not in shown and "对吗" in shown and "1. 对" in shown
    answered = user.say("1")
    assert "多大岁数" not in answered and number not in answered


def test_the_same_message_three_times_is_answered_once(endpoint, platform, crypto):
    query, body = signed_post("text", "oUserRetry", crypto=crypto, content="我妈今年85岁，住在姑苏区", msg_id=777001)
    replies = [post(endpoint, query, body) for _ in range(3)]
    assert replies[0][0] == 200 and "户口" in parse_message(open_reply(crypto, replies[0][1])).content
    assert [r for r in replies[1:]] == [(200, "success"), (200, "success")]
    time.sleep(1.0)
    assert not platform.sent.get("oUserRetry")   # nor sent again another way


def test_two_users_interleaved_keep_their_own_conversations(endpoint, platform, crypto):
    a, b = (User(endpoint, platform, crypto, openid) for openid in ("oUserA", "oUserB"))
    got: dict[str, str] = {}

    def talk(user, text):
        got[user.openid] = user.say(text)
    threads = [threading.Thread(target=talk, args=(a, "我妈今年88岁，住在吴江区")),
               threading.Thread(target=talk, args=(b, "我爸今年66岁，住在昆山"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "户口" in got["oUserA"] and "户口" in got["oUserB"]
    threads = [threading.Thread(target=talk, args=(a, "1")), threading.Thread(target=talk, args=(b, "1"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "88岁" in got["oUserA"] and "66岁" not in got["oUserA"]
    assert "66岁" in got["oUserB"] and "88岁" not in got["oUserB"]


def test_bad_input_gets_a_polite_chinese_reply(endpoint, platform, crypto):
    user = User(endpoint, platform, crypto, "oUserRude")
    for text in ("", "💩" * 50, "x" * 5000, "'; DROP TABLE bookings; --"):
        reply = user.say(text)
        assert reply.strip() and "Traceback" not in reply
    passive, _ = user.send("event", event="unsubscribe")
    assert passive is None   # nothing to say to someone who left


def test_no_secret_in_the_log(endpoint, platform):
    log = endpoint.log_path.read_text(encoding="utf-8", errors="replace")
    assert platform.issued >= 1 and "TOKEN-" not in log and APP_SECRET not in log and AES_KEY not in log
    assert PHONE not in log
