"""Typing an option's number works like tapping its button; the buttons come from the
conversation itself, so every Rasa instance resolves a number the same way."""
import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

from channels.numbered_choices import last_buttons, resolve
from channels.outage import DATABASE_DOWN, LOCKS_DOWN, outage_message
from understanding.choices import choice_number

HUKOU = [{"title": "1. 有苏州户口", "payload": "/inform{\"hukou\": true}"},
         {"title": "2. 没有", "payload": "/inform{\"hukou\": false}"}]


@pytest.mark.parametrize("text,number", [
    ("1", 1), (" 2 ", 2), ("２", 2), ("二", 2), ("两", 2), ("第三个", 3), ("选1", 1), ("10", 10),
    ("3。", 3), ("第2项", 2),
])
def test_choice_numbers(text, number):
    assert choice_number(text) == number


@pytest.mark.parametrize("text", ["我85岁", "一个人住", "", "1950", "第一次来"])
def test_not_a_choice(text):
    assert choice_number(text) is None


def test_the_last_replys_buttons_in_order():
    events = [UserUttered("你好"), ActionExecuted("action_advisor"),
              BotUttered("请问老人家今年多大岁数？", {"buttons": [{"title": "1. 旧的", "payload": "/old"}]}),
              UserUttered("85岁"), ActionExecuted("action_advisor"),
              BotUttered("好的，记下了：85岁。"),
              BotUttered("老人家有苏州户口吗？", {"buttons": HUKOU[:1]}),
              BotUttered("", {"buttons": HUKOU[1:]})]
    payloads = last_buttons(events)
    assert payloads == ["/inform{\"hukou\": true}", "/inform{\"hukou\": false}"]
    assert resolve("2", payloads) == "/inform{\"hukou\": false}"
    assert resolve("二", payloads) == "/inform{\"hukou\": false}"
    assert resolve("3", payloads) == "3"          # out of range: the text as typed
    assert resolve("85岁", payloads) == "85岁"
    assert resolve("1", last_buttons([])) == "1"  # nothing offered yet
    assert last_buttons(events + [UserUttered("2")]) == []   # answered: the old buttons are gone


def test_outages_are_named_and_other_errors_are_not():
    import redis
    from sqlalchemy.exc import OperationalError
    assert outage_message(redis.exceptions.ConnectionError("refused")) == LOCKS_DOWN
    wrapped = RuntimeError("lock failed")
    wrapped.__cause__ = redis.exceptions.TimeoutError()
    assert outage_message(wrapped) == LOCKS_DOWN
    assert outage_message(OperationalError("select 1", {}, Exception("server closed the connection"))) == DATABASE_DOWN
    assert outage_message(ValueError("a bug")) is None


def test_a_buttons_own_words_typed_work_like_a_tap():
    from channels.numbered_choices import resolve_typed
    offer = [{"title": "1. 好，继续回答", "payload": "/affirm"}, {"title": "2. 更多", "payload": "/more"},
             {"title": "3. 确认提交", "payload": "/affirm"}]
    events = [UserUttered("我妈85岁住姑苏区"), ActionExecuted("action_advisor"),
              BotUttered("要继续吗？", {"buttons": offer})]
    assert resolve_typed("好，继续回答", events) == "/affirm"
    assert resolve_typed("好 继续回答。", events) == "/affirm"
    assert resolve_typed("2", events) == "/more"
    assert resolve_typed("好继续", events) == "好继续"          # not the button's words: the classifier decides
    assert resolve_typed("继续回答吧我妈还有低保", events) == "继续回答吧我妈还有低保"
