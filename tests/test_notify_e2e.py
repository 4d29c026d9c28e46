"""政策找人 end to end on Telegram: `eldercare notify` sends the notice through the fake Bot API into
the family's chat, and a tap on its button goes through the real bridge to the real advisor."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time

import pytest

from fake_bot_api import FakeBotApi
from storage.bookings import BookingStore
from storage.db import migrated_engine
from storage.followups import FollowupStore
from storage.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e
TOKEN = "123456789:AAFakeTokenForNotifyE2EOnly_abcdefghijk"
CHAT = 7301


@pytest.fixture(scope="module")
def api():
    server = FakeBotApi(TOKEN).start()
    yield server
    server.stop()


def env_for(advisor, api) -> dict:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": api.base_url,
           "ELDERCARE_VAR_DIR": str(advisor.var), "ELDERCARE_STT_ENGINE": "off"}   # no voice here: no model to load
    env.pop("ELDERCARE_DB_URL", None)   # the advisor's own SQLite database, as `eldercare serve` has it
    return env


@pytest.fixture(scope="module")
def bridge(advisor, api, tmp_path_factory):
    log = open(tmp_path_factory.mktemp("notify-bridge") / "telegram.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "telegram", "--url", advisor.url], cwd=PROJECT_ROOT,
                            env=env_for(advisor, api), stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not api.called("getUpdates"):
        assert proc.poll() is None and time.monotonic() < deadline, "the bridge never polled"
        time.sleep(0.2)
    yield proc
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def notify(advisor, api, as_of: str) -> str:
    done = subprocess.run([sys.executable, "-m", "app.cli", "notify", "--as-of", as_of], cwd=PROJECT_ROOT,
                          env=env_for(advisor, api), capture_output=True, text=True, timeout=180)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert TOKEN.split(":")[1] not in out
    return out


def tap(api, chat: int, message: dict) -> list[dict]:
    [[button]] = message["reply_markup"]["inline_keyboard"]
    before = len(api.sent(chat))
    api.tap(chat, message["_message"], button["callback_data"])
    return api.wait_sent(chat, before + 1)[before:]


def test_a_notice_arrives_with_its_button_and_a_tap_gets_the_advisors_answer(advisor, api, bridge):
    engine = migrated_engine(f"sqlite:///{advisor.var / 'eldercare.db'}")
    store = FollowupStore(engine)
    # what the consent dialogue keeps for 「我妈79岁，3月生日，姑苏区，本地户口」
    today = dt.date.today()
    store.keep(channel="telegram", address=f"tg-{CHAT}", sender_id=f"tg-{CHAT}", person="母亲",
               facts={"district": "姑苏区", "hukou": True, "subject": "relative"},
               birth_year=today.year - (79 if today.month >= 3 else 80), birth_month=3,
               wording="以后有新政策，或者您母亲满足新的条件时，要不要提醒您？")
    followup = store.get(f"tg-{CHAT}", "母亲")
    birthday = dt.date(followup.birth_year + 80, 3, 1)
    ahead = dt.date(birthday.year, 1, 1)              # two months before 80
    notify(advisor, api, (ahead - dt.timedelta(days=1)).isoformat())
    assert api.sent(CHAT) == []
    out = notify(advisor, api, ahead.isoformat())
    assert "满龄前提醒" in out and f"tg-{CHAT}" not in out
    [message] = api.wait_sent(CHAT, 1)
    assert message["text"].startswith(f"您母亲{birthday.year}年3月满80岁，到时可以申请高龄津贴（尊老金）")
    answer = "\n".join(m.get("text", "") for m in tap(api, CHAT, message))
    assert "户籍所在社区居委会" in answer and "身份证" in answer      # how to apply, from the KB
    notify(advisor, api, ahead.isoformat())            # the same day again: nothing new
    time.sleep(1)
    assert len([m for m in api.sent(CHAT) if "满80岁" in m.get("text", "")]) == 1


def test_a_booking_confirmed_by_staff_reaches_the_family(advisor, api, bridge):
    chat = CHAT + 1
    engine = migrated_engine(f"sqlite:///{advisor.var / 'eldercare.db'}")
    FollowupStore(engine).keep(channel="telegram", address=f"tg-{chat}", sender_id=f"tg-{chat}", person="",
                               facts={"hukou": True}, age=83, wording="要不要提醒您？")
    today = dt.date.today().isoformat()
    notify(advisor, api, today)
    bookings = BookingStore(engine)
    booking, _ = bookings.submit(kind="home_service", sender_id=f"tg-{chat}", filed_by="relative", relationship="子女",
                                 phone="13955556666", idempotency_key=f"notify-e2e-{time.time_ns()}",
                                 service_type="助浴", booking_date=dt.date.today() + dt.timedelta(days=3),
                                 time_slot="上午", address="姑苏区平江路100号")
    bookings.set_status(booking.reference, "confirmed", actor="staff")
    notify(advisor, api, today)
    [message] = api.wait_sent(chat, 1)
    assert message["text"] == f"您的居家服务预约（{booking.reference}）已经确认了。"
    assert "13955556666" not in str(api.calls)
    reply = "\n".join(m.get("text", "") for m in tap(api, chat, message))
    assert booking.reference in reply and "已确认" in reply     # the advisor's status check, this booking
