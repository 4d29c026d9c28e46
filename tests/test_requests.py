"""Requests as tasks of the one decision per turn (actions/requests.py), turn by turn, with the
real booking store on a fresh SQLite database: facts, asides and hard answers inside a
request, names, "都行", whole requests in one message, and no question asked a third time."""
from __future__ import annotations

import re

import pytest

from actions import booking_support
from test_conversation import Session


@pytest.fixture(autouse=True)
def fresh_store(tmp_path, monkeypatch):
    monkeypatch.setenv("ELDERCARE_DB_URL", f"sqlite:///{tmp_path / 'requests.db'}")
    booking_support.store.cache_clear()
    yield booking_support.store()
    booking_support.store.cache_clear()


def text(reply) -> str:
    return Session.text(reply)


def reference(reply) -> str | None:
    m = re.search(r"[A-Z]{2}-\d{8}-\d{4}", text(reply))
    return m.group() if m else None


def test_a_relative_who_gives_the_full_name_and_duo_xing_gets_a_reference(fresh_store):
    s = Session()
    s.say("想给我妈约个上门助浴", "book_service")
    assert s.slots["task_field"] == "booking_date"
    s.say("都行", "affirm")                                  # the earliest date
    assert s.slots["booking_date"] == "2026-12-02"
    s.say("随便", "affirm")                                  # any time of day
    s.say("姑苏区十全街88号2幢301")
    reply = s.say("王秀英", "out_of_scope")                   # a full name answers "how to address"
    assert s.slots["elder_name"] == "王秀英" and "不用说全名" not in text(reply)
    s.say("13912345678")
    summary = s.say("我是她女儿")
    assert "王*英" in text(summary) and "王秀英" not in text(summary)
    done = s.say("确认", "affirm")
    ref = reference(done)
    assert ref
    booking = fresh_store.get(ref)
    assert booking.elder_name == "王秀英" and booking.time_slot == "不限"
    assert booking.to_dict()["elder_name"] == "王*英"


def test_facts_said_inside_a_request_are_kept_and_the_results_follow_the_reference():
    s = Session()
    s.say("想给我妈约个上门助浴", "book_service")
    reply = s.say("她八十三了，住在娄葑，苏州户口，吃低保的")
    said = text(reply)
    assert "记下了" in said and "83" in said and "没听明白" not in said
    assert s.slots["age"] == 83 and s.slots["economic_status"] == "低保" and s.slots["hukou"] is True
    assert s.slots["task_field"] == "booking_date"          # the request's question again
    for answer, intent in (("明天上午", "inform"), ("园区娄葑北区12幢301", "inform"), ("王阿姨", "inform"),
                           ("13812345678", "inform"), ("女儿", "inform")):
        s.say(answer, intent)
    done = s.say("确认", "affirm")
    assert reference(done)
    assert done.payload and done.payload.get("cards")   # the results follow
    assert done.payload and done.payload["cards"] > 0          # the results, with the reference


def test_a_whole_request_in_one_message_fills_every_field_it_gives():
    s = Session()
    s.say("帮我妈约一下上门助洁明天上午地址是园区星海街200号12栋302电话13912345678", "book_service")
    assert s.slots["service_type"] == "助洁" and s.slots["booking_date"] == "2026-12-02"
    assert s.slots["time_slot"] == "上午" and s.slots["address"] == "园区星海街200号12栋302"
    assert s.slots["phone"] == "13912345678"
    assert s.slots["task_field"] == "addressed_as"


def test_a_policy_question_inside_a_request_is_answered_and_the_request_resumes():
    s = Session()
    s.say("帮我约个助餐", "book_service")
    reply = s.say("长护险怎么申请", "ask_policy")
    said = text(reply)
    assert "长期护理保险" in said and "想约哪一天" in said and "没听明白" not in said
    reply = s.say("直接告诉我", "ask_recommendation")
    assert "先把这个预约办好" in text(reply)            # why no results yet, and no age question
    assert "想约哪一天" not in text(reply) and "上午、下午" in text(reply)   # not asked a third time


def test_no_booking_question_is_asked_a_third_time():
    s = Session()
    s.say("帮我约个助餐", "book_service")
    s.say("明天上午")
    assert s.slots["task_field"] == "address"                       # asked once
    first = s.say("不知道啊", "dont_know")
    assert "地址" in text(first) and s.slots["task_field"] == "address"   # asked again, once
    second = s.say("不知道啊", "dont_know")
    assert "工作人员打电话时会和您确认" in text(second) and s.slots["task_field"] == "addressed_as"


def test_the_same_wrong_phone_three_times_offers_choices_then_a_way_out():
    s = Session()
    s.say("帮我约个助餐明天上午地址姑苏区十全街88号", "book_service")
    s.say("王阿姨")
    replies = [s.say("123") for _ in range(3)]
    assert "请再说一下" in text(replies[0])
    assert "重新输入电话" in str(replies[1].messages) and "不约了" in str(replies[1].messages)
    assert "不提交" in text(replies[2]) and not s.slots.get("booking_kind")


def test_a_past_date_says_what_is_possible():
    s = Session()
    s.say("帮我约个助浴", "book_service")
    reply = s.say("昨天")
    assert "已经过去了" in text(reply) and "最早可以约12月2日" in text(reply)


def test_noon_for_meals_is_answered():
    s = Session()
    s.say("帮我约个助餐明天", "book_service")
    reply = s.say("中午")
    assert "中午" in text(reply) and s.slots["time_slot"] == "上午"


def test_stop_at_any_question():
    s = Session()
    s.say("帮我约个助餐", "book_service")
    reply = s.say("不约了", "cancel_booking")
    assert "不提交" in text(reply) and not s.slots.get("booking_kind")


def test_a_waitlist_application_asks_the_real_name(fresh_store):
    s = Session()
    s.say("我妈82岁住相城区，苏州户口，低保，不能自理，卧床不起")
    s.say("帮我妈申请公办养老院", "apply_waitlist")
    for answer in ("不是", "她叫张桂兰"):
        reply = s.say(answer)
    assert s.slots["elder_name"] == "张桂兰"
    for answer in ("相城区的", "13912345678", "女儿"):
        reply = s.say(answer)
    done = s.say("确认", "affirm")
    ref = reference(done)
    assert ref and fresh_store.get(ref).elder_name == "张桂兰"


def test_a_booking_from_another_chat_can_be_cancelled_after_the_phone_check(fresh_store):
    s = Session()
    s.say("帮我约个助餐明天上午地址姑苏区十全街88号", "book_service")
    s.say("王阿姨")
    s.say("13912345678")
    s.say("女儿")
    ref = reference(s.say("确认", "affirm"))
    other = Session(sender="another-chat")
    other.say(f"我要取消{ref}", "cancel_booking")
    assert other.slots["task_field"] == "lookup_phone"
    reply = other.say("13912345678")
    assert "确定要取消" in text(reply)
    reply = other.say("确定", "affirm")
    assert "已取消" in text(reply) and fresh_store.get(ref).status == "cancelled"


def test_a_request_left_still_leads_to_the_results():
    s = Session()
    s.say("想给我妈约个上门服务", "book_service")
    reply = s.say("算了不约了", "cancel_booking")
    assert "不提交" in text(reply) and s.slots["asked_fact"] == "age"     # the advice goes on
