"""Issue 16 end to end, over the real Rasa and action servers: the ways Suzhou families say it,
and requests that never trap them."""
from __future__ import annotations

import re

import pytest

from e2e_support import Chat

pytestmark = pytest.mark.e2e
REFERENCE = re.compile(r"\b(?:JY|LH|PG|GW)-\d{8}-\d{4}\b")


def profile(chat: Chat, reply) -> dict:
    payload = Chat.recommendations(reply)
    return payload["profile"] if payload else {}


def test_a_relative_books_with_the_full_name_and_dou_xing(advisor):
    chat = advisor.chat()
    chat.say("我妈八十四了住在娄葑，苏州户口")
    chat.say("帮我妈约个上门助浴")
    chat.say("都行")                                        # the earliest date, any time of day
    asked = chat.say("园区娄葑北区12幢301室")
    assert "称呼" in Chat.texts(asked)
    reply = chat.say("王秀英")                               # the full name answers "how to address her"
    assert "不用说全名" not in Chat.texts(reply) and "电话" in Chat.texts(reply)
    summary = chat.say("13912345678")
    text = Chat.texts(summary)
    assert "王*英" in text and "王秀英" not in text and "不限" in text
    done = chat.say("确认")
    assert REFERENCE.search(Chat.texts(done)), "\n".join(chat.transcript)


def test_a_booking_first_conversation_ends_with_a_reference_and_the_results(advisor):
    chat = advisor.chat()
    chat.say("想给我妈约个上门助浴")
    reply = chat.say("她八十三了，住在娄葑，苏州户口，吃低保的")
    assert "记下了" in Chat.texts(reply) and "没听明白" not in Chat.texts(reply)
    for answer in ("明天上午", "园区娄葑北区12幢301室", "叫她王阿姨", "13812345678"):
        reply = chat.say(answer)
    assert "请核对" in Chat.texts(reply), "\n".join(chat.transcript)
    done = chat.say("确认")
    assert REFERENCE.search(Chat.texts(done))
    payload = Chat.recommendations(done)
    assert payload and payload["cards"] > 0 and "政府购买居家上门服务" in Chat.texts(done)


def test_a_whole_request_dictated_in_one_message(advisor):
    chat = advisor.chat()
    reply = chat.say("帮我妈约一下上门助洁明天上午地址是园区星海街200号12栋302电话13912345678")
    text = Chat.texts(reply)
    assert "居家养老服务预约" in text and "称呼" in text and "139" not in text, "\n".join(chat.transcript)
    summary = chat.say("叫她张阿姨")
    assert "星海街200号12栋302" in Chat.texts(summary) and "139****5678" in Chat.texts(summary)


def test_places_named_as_people_name_them(advisor):
    chat = advisor.chat()
    reply = chat.say("我爸今年八十一，住在凤凰镇")
    assert profile(chat, reply).get("district") == "张家港市"
    chat = advisor.chat()
    reply = chat.say("我妈82岁，住在太湖边上")
    assert "district" not in profile(chat, reply) and "吴中区" in Chat.texts(reply)   # asked, never guessed


def test_speech_as_it_comes(advisor):
    chat = advisor.chat()
    reply = chat.say("我妈今年七十六哦不是七十七，住在相城")
    assert profile(chat, reply).get("age") == 77
    reply = chat.say("户口其实还在安徽老家")
    assert profile(chat, reply).get("hukou") is False
    chat = advisor.chat()
    chat.say("我外公八十出头，住在昆山，本地户口")
    reply = chat.say("直接告诉我")
    assert "高龄津贴" in Chat.texts(reply) and "年龄约80到83岁" in Chat.texts(reply)
    chat = advisor.chat()
    chat.say("你好")
    wait = chat.say("我今年")
    assert "接着说" in Chat.texts(wait)
    reply = chat.say("八十一")
    assert profile(chat, reply).get("age") == 81


def test_a_question_is_not_a_statement_and_is_answered_from_the_kb(advisor):
    chat = advisor.chat()
    reply = chat.say("吴江的急难救助多久能拿到钱")
    text = Chat.texts(reply)
    assert "3个工作日" in text and "记下了" not in text
    reply = chat.say("养老服务消费补贴什么时候结束")
    assert "2026年12月31日" in Chat.texts(reply)


def test_an_everyday_phrase_never_wipes_the_conversation(advisor):
    chat = advisor.chat()
    chat.say("我妈85岁住在姑苏区，苏州户口")
    reply = chat.say("刚才都说过了呀")
    assert "我们重新开始" not in Chat.texts(reply), "\n".join(chat.transcript)
    if "要清空" in Chat.texts(reply):
        kept = chat.say("不是")
        assert "都还在" in Chat.texts(kept)
    reply = chat.say("直接告诉我")
    assert "高龄津贴" in Chat.texts(reply)                  # nothing was lost
    wiped = chat.say("重新开始")
    assert "我们重新开始" in Chat.texts(wiped)              # an explicit restart still works


def test_a_loss_is_heard_and_an_outside_question_is_referred(advisor):
    chat = advisor.chat()
    chat.say("我今年八十二，住在相城，苏州户口")
    reply = chat.say("我老伴走了")
    assert "节哀" in Chat.texts(reply) and "祝" not in Chat.texts(reply)
    reply = chat.say("养老金今年涨多少")
    assert "12333" in Chat.texts(reply) and "高龄津贴" not in Chat.texts(reply)
