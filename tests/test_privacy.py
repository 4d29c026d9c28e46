"""Personal data kept only as long as needed: 「删除我的信息」 in the chat, `eldercare privacy
forget --sender`, and the retention purge — on real trackers (Rasa's SQL tracker store) and the
real bookings database."""
from __future__ import annotations

import asyncio
import datetime as dt
import re
import sqlite3
import time

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import update

from console_support import eldercare
from e2e_support import Chat
from storage.bookings import BookingStore
from storage.db import make_engine, migrated_engine
from storage.privacy import forget, purge
from storage.tables import bookings

PHONE = "13812345678"
DAY = 86400


def tracker_with(store: SQLTrackerStore, sender: str, said: str, at: float) -> None:
    tracker = DialogueStateTracker(sender, slots=[])
    tracker.update(UserUttered(said, timestamp=at))
    tracker.update(ActionExecuted("action_advisor", timestamp=at))
    asyncio.run(store.save(tracker))


def book(store: BookingStore, sender: str, key: str):
    booking, _ = store.submit(kind="home_service", sender_id=sender, filed_by="relative", relationship="子女",
                              phone=PHONE, idempotency_key=key, service_type="助浴",
                              booking_date=dt.date.today() + dt.timedelta(days=3), time_slot="上午",
                              address="姑苏区十全街 88 号", addressed_as="王阿姨", district="姑苏区",
                              profile={"age": 85, "care_level": "中度失能"}, elder_name="王秀英")
    return booking


@pytest.fixture
def var(tmp_path):
    db = migrated_engine(f"sqlite:///{tmp_path / 'eldercare.db'}")
    trackers = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    return tmp_path, db, trackers


def counts(tmp_path, sender):
    with sqlite3.connect(tmp_path / "tracker.db") as conn:
        return conn.execute("select count(*) from events where sender_id = ?", (sender,)).fetchone()[0]


def test_forget_removes_the_conversation_and_the_personal_fields_only(var):
    tmp_path, db, trackers = var
    now = time.time()
    tracker_with(trackers, "alice", "我妈85岁，中度失能", now)
    tracker_with(trackers, "bob", "我爸80岁", now)
    store = BookingStore(db)
    mine, theirs = book(store, "alice", "k1"), book(store, "bob", "k2")
    removed = forget("alice", db, make_engine(f"sqlite:///{tmp_path / 'tracker.db'}"))
    assert (removed.conversations, removed.bookings) == (1, 1) and removed.events == 2
    assert counts(tmp_path, "alice") == 0 and counts(tmp_path, "bob") == 2
    kept = store.get(mine.reference)
    assert (kept.phone, kept.address, kept.addressed_as, kept.profile, kept.elder_name) == ("", None, None, None, None)
    assert (kept.kind, kept.status, kept.district, kept.service_type) == ("home_service", "submitted", "姑苏区", "助浴")
    assert kept.personal_removed_at is not None
    assert store.get(theirs.reference).phone == PHONE            # someone else's booking untouched
    again = forget("alice", db, make_engine(f"sqlite:///{tmp_path / 'tracker.db'}"))
    assert (again.events, again.bookings) == (0, 0)             # idempotent


def test_purge_by_retention_spares_recent_conversations_and_open_bookings(var):
    tmp_path, db, trackers = var
    now = time.time()
    tracker_with(trackers, "old", "我妈85岁", now - 40 * DAY)
    tracker_with(trackers, "recent", "我爸80岁", now - 2 * DAY)
    store = BookingStore(db)
    closed, still_open = book(store, "old", "k-closed"), book(store, "old", "k-open")
    with db.begin() as conn:   # the cancellation happened 40 days ago
        conn.execute(update(bookings).where(bookings.c.reference == closed.reference).values(
            status="cancelled", updated_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=40)))
    removed = purge(30, db, make_engine(f"sqlite:///{tmp_path / 'tracker.db'}"), now=now)
    assert removed.conversations == 1 and removed.bookings == 1
    assert counts(tmp_path, "old") == 0 and counts(tmp_path, "recent") == 2
    assert store.get(closed.reference).phone == ""
    assert store.get(still_open.reference).phone == PHONE       # staff still need it to deliver the service


def test_privacy_cli_forget_and_purge(var):
    tmp_path, db, trackers = var
    tracker_with(trackers, "tg-4242", "我85岁", time.time() - 100 * DAY)
    book(BookingStore(db), "tg-4242", "k-cli")
    done = eldercare(tmp_path, "privacy", "forget", "--sender", "tg-4242")
    assert done.returncode == 0 and "已删除" in done.stdout and "1 个预约" in done.stdout, done.stderr
    none = eldercare(tmp_path, "privacy", "forget", "--sender", "tg-4242")
    assert none.returncode == 0 and "没有找到" in none.stdout
    tracker_with(trackers, "web-1", "我85岁", time.time() - 100 * DAY)
    swept = eldercare(tmp_path, "privacy", "purge", "--days", "30")
    assert swept.returncode == 0 and "删除了 1 段对话" in swept.stdout
    assert eldercare(tmp_path, "privacy", "purge", "--days", "0").returncode == 1


@pytest.mark.e2e
def test_delete_my_information_in_the_chat(advisor):
    chat = advisor.chat()
    chat.say("我妈今年85岁，住在姑苏区，本地户口")
    reply = chat.say("帮我约个助浴")
    for answer in ("明天上午", "姑苏区十全街88号2幢301", "王阿姨", PHONE, "1"):
        reply = chat.say(answer)
    reference = re.search(r"JY-\d{8}-\d{4}", Chat.texts(reply)).group(0)
    # asked, then declined: nothing removed
    reply = chat.say("删除我的信息")
    assert "要删除您在这里留下的信息吗" in Chat.texts(reply) and "确定删除" in Chat.texts(reply) + str(reply)
    chat.say("2")
    store = BookingStore(migrated_engine(f"sqlite:///{advisor.var / 'eldercare.db'}"))
    assert store.get(reference).phone == PHONE
    assert counts(advisor.var, chat.sender) > 0
    # asked and confirmed (a plain yes works as well as its number): the conversation and the
    # booking's personal fields go
    chat.say("把我的资料删了")
    reply = chat.say("确定")
    assert "已经删除了" in Chat.texts(reply)
    assert counts(advisor.var, chat.sender) == 0
    kept = store.get(reference)
    assert kept.phone == "" and kept.address is None and kept.status == "submitted"
    # the next message starts afresh: nothing of the elder is remembered
    reply = chat.say("我妈能领什么")
    assert "多大" in Chat.texts(reply) and "85" not in Chat.texts(reply)


def test_a_console_calls_transcript_is_forgotten_once(var):
    from storage.operators import OperatorStore
    tmp_path, db, trackers = var
    store = OperatorStore(db)
    call = store.start_call(store.add("wangfang", "wangfang-pass1", "王芳"))
    store.add_turn(call, "83 昆山 本地 独居 半失能", [{"text": "好的，记下了"}], {"profile": {"age": 83}})
    store.end_call(call, "advised", "明天回电")
    tracker_engine = make_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    assert forget(call.sender_id, db, tracker_engine).calls == 1
    assert store.turns(call) == [] and store.call(call.id).note is None
    assert store.call(call.id).outcome == "advised"          # the call itself stays, for the statistics
    assert forget(call.sender_id, db, tracker_engine).calls == 0
    assert purge(0.0001, db, tracker_engine, now=time.time() + DAY).calls == 0


@pytest.mark.e2e
def test_delete_my_information_in_the_middle_of_a_booking(advisor):
    chat = advisor.chat()
    chat.say("我妈82岁，住在吴中区，本地户口")
    reply = chat.say("帮她申请公办养老院")
    assert "请核对" not in Chat.texts(reply)                   # the booking form is asking its questions
    reply = chat.say("删除我的信息")
    assert "要删除您在这里留下的信息吗" in Chat.texts(reply)
    reply = chat.say("确定")
    assert "已经删除了" in Chat.texts(reply)
    assert counts(advisor.var, chat.sender) == 0


@pytest.mark.e2e
def test_an_empty_message_gets_a_polite_prompt_and_changes_nothing(advisor):
    chat = advisor.chat()
    chat.say("我妈82岁")
    before = counts(advisor.var, chat.sender)
    for empty in ("", "   ", "\n"):
        reply = chat.say(empty)
        assert Chat.texts(reply) == "您还没有输入内容。可以说说老人的年龄、住在哪个区，或者直接问我政策。"
    assert counts(advisor.var, chat.sender) == before
    assert "82岁" in Chat.texts(chat.say("直接告诉我")) or "住在" in Chat.texts(chat.say("你好"))
