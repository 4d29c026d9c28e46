"""政策找人 in the conversation (actions/reminders.py): the offer comes once, at the end of the
results, on a channel that can tell the family later; only a clear yes keeps anything (the real
FollowupStore, in a fresh SQLite database); 不用提醒了 deletes it."""
from __future__ import annotations

import pytest

from actions import reminders
from test_conversation import Session

FACTS = "我妈79岁，住姑苏区，苏州户口，身体好，一个人住"


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("ELDERCARE_DB_URL", f"sqlite:///{tmp_path / 'eldercare.db'}")
    reminders.store.cache_clear()
    yield reminders.store()
    reminders.store.cache_clear()


def text(reply) -> str:
    return "\n".join(m["text"] for m in reply.messages)


def to_the_offer(s: Session):
    s.say(FACTS)
    reply = s.say("/deny", "deny")   # no more questions: the results are complete
    assert "要不要提醒您" in text(reply)
    titles = [b["title"] for m in reply.messages for b in m.get("buttons", [])]
    assert titles[:2] == ["1. 要，提醒我", "2. 不用提醒"]
    return reply


def test_a_clear_yes_keeps_the_facts_with_the_month_of_birth_never_the_age(store):
    s = Session("tg-101")
    to_the_offer(s)
    assert "几月份生日" in text(s.say("/affirm", "affirm"))
    assert "会在这里告诉您" in text(s.say("她三月份生日"))
    kept, = store.for_sender("tg-101")
    assert (kept.channel, kept.address, kept.person) == ("telegram", "tg-101", "母亲")
    assert (kept.birth_year, kept.birth_month, kept.birth_month_known) == (1947, 3, True)   # 79 on 2026-12-01
    assert "age" not in kept.facts and kept.facts["district"] == "姑苏区"
    assert "要不要提醒" in kept.consent_wording
    # asked once: the results again do not offer it again
    assert "要不要提醒" not in text(s.say("/more", "more"))


def test_without_the_month_the_age_alone_is_kept_and_no_notice_comes_early(store):
    s = Session("tg-102")
    to_the_offer(s)
    s.say("/affirm", "affirm")
    s.say("不记得了")
    kept, = store.for_sender("tg-102")
    assert kept.birth_month_known is False and kept.birth_year == 2026 - 79


def test_no_or_anything_else_keeps_nothing_and_the_offer_is_not_repeated(store):
    s = Session("tg-103")
    to_the_offer(s)
    assert "不提醒" in text(s.say("/deny", "deny"))
    assert store.for_sender("tg-103") == []
    other = Session("tg-104")
    to_the_offer(other)
    other.say("长护险怎么申请", "ask_policy")   # the offer lapses; the question is answered
    assert store.for_sender("tg-104") == [] and other.slots["reminder"] == "passed"


def test_a_web_chat_is_never_offered_what_it_cannot_receive(store):
    s = Session("web-1")
    s.say(FACTS)
    assert "提醒" not in text(s.say("/deny", "deny"))


def test_a_phone_caller_gives_a_number_to_call_back(store, monkeypatch):
    s = Session("console-abc")
    s.say = _with_operator(s)
    to_the_offer(s)
    s.say("/affirm", "affirm")
    assert "打哪个电话告诉您" in text(s.say("不知道"))
    assert "热线会打电话" in text(s.say("13912345678"))
    kept, = store.for_sender("console-abc")
    assert (kept.channel, kept.address) == ("console", "13912345678")


def test_stop_deletes_what_was_kept(store):
    s = Session("tg-105")
    to_the_offer(s)
    s.say("/affirm", "affirm")
    s.say("3月")
    assert store.for_sender("tg-105")
    assert "不再提醒" in text(s.say("以后别再提醒我了"))
    assert store.for_sender("tg-105") == []


def _with_operator(session: Session):
    """The console's messages carry the operator in their metadata."""
    from actions.conversation import Conversation
    from test_conversation import KB, SEARCH, TODAY, pipeline_turn

    def say(text_: str, intent: str = "inform"):
        reply = Conversation(session.slots, pipeline_turn(text_, intent), KB, SEARCH, TODAY,
                             sender_id=session.sender, metadata={"operator": {"id": 1}}).respond()
        session.slots.update(reply.slots)
        return reply
    return say


@pytest.mark.parametrize("stop", ["以后不要再发提醒给我了", "别再推送了", "取消通知", "td", "不需要再通知了", "勿要再题醒了"])
def test_stopping_in_other_words_deletes_it_even_inside_a_look_up(store, stop):
    s = Session(f"tg-stop-{abs(hash(stop)) % 10000}")
    to_the_offer(s)
    s.say("/affirm", "affirm")
    s.say("五月")
    assert store.for_sender(s.sender)
    # the classifier may call it a cancellation: still the reminders, never a booking look-up
    reply = s.say(stop, "cancel_booking")
    assert "不再提醒" in text(reply) and "编号" not in text(reply)
    assert store.for_sender(s.sender) == []


@pytest.mark.parametrize("yes", ["好呀你提醒我吧", "要的呀", "可以，麻烦了"])
def test_a_yes_in_other_words_is_a_yes_and_is_kept_at_once(store, yes):
    s = Session(f"tg-yes-{abs(hash(yes)) % 10000}")
    to_the_offer(s)
    assert "几月份生日" in text(s.say(yes))
    assert store.for_sender(s.sender)   # kept already: a family that leaves now is told too


def test_the_birthday_as_families_say_it(store):
    s = Session("tg-month-1")
    to_the_offer(s)
    s.say("/affirm", "affirm")
    assert "生日按6月算" in text(s.say("阴历五月"))   # a lunar month counts as the month after: never early
    kept, = store.for_sender("tg-month-1")
    assert kept.birth_month == 6
    t = Session("tg-month-2")
    to_the_offer(t)
    t.say("/affirm", "affirm")
    t.say("11")                                      # a bare number at this question is the month
    assert store.for_sender("tg-month-2")[0].birth_month == 11
    u = Session("tg-month-3")
    to_the_offer(u)
    u.say("/affirm", "affirm")
    u.say("1945年8月")                                # the year said beats the age's guess
    assert (store.for_sender("tg-month-3")[0].birth_year, store.for_sender("tg-month-3")[0].birth_month) == (1945, 8)


def test_a_question_at_the_birthday_question_is_answered_and_the_yes_kept(store):
    s = Session("tg-month-q")
    to_the_offer(s)
    s.say("/affirm", "affirm")
    reply = s.say("助餐在哪里吃", "ask_policy")
    assert "记下了" in text(reply) and "助餐" in text(reply)
    assert store.for_sender("tg-month-q")[0].birth_month_known is False


def test_after_a_goodbye_the_offer_comes_with_it(store):
    s = Session("tg-bye")
    s.say(FACTS)
    reply = s.say("好的就这样吧，谢谢", "goodbye")
    assert "身体健康" in text(reply) and "要不要提醒您" in text(reply)
