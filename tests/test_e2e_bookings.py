"""End to end over the REST channel: filing, checking and cancelling requests."""
from __future__ import annotations

import concurrent.futures
import re

import pytest

from storage.bookings import BookingStore
from storage.db import migrated_engine
from e2e_support import Advisor, Chat

pytestmark = pytest.mark.e2e
REFERENCE = re.compile(r"\b(JY|LH|PG|GW)-\d{8}-\d{4}\b")
PHONE = "13812345678"


def store_of(advisor: Advisor) -> BookingStore:
    return BookingStore(migrated_engine(f"sqlite:///{advisor.var / 'eldercare.db'}"))


def button(messages, title_part: str) -> str:
    """The number of the button whose title contains `title_part`, as an elder would type it."""
    for m in messages:
        for b in m.get("buttons") or []:
            if title_part in b["title"]:
                return b["title"].split(".")[0]
    raise AssertionError(f"no button {title_part!r} in {messages}")


def answer_until_summary(chat: Chat, reply: list[dict], answers: list[str]) -> list[dict]:
    """Give the answers in order until the advisor shows the summary to confirm."""
    for answer in answers:
        if "请核对" in Chat.texts(reply):
            break
        reply = chat.say(answer)
    assert "请核对" in Chat.texts(reply), "\n".join(chat.transcript)
    return reply


def book_bath(chat: Chat, phone: str = PHONE) -> list[dict]:
    """A home-care booking up to the summary; returns the summary messages. Who is filing it
    (我妈 -> 子女) is taken from the words, never asked."""
    chat.say("我想给我妈预约上门助浴")
    chat.say("下周三上午")
    chat.say("姑苏区平江路100号3幢201室")
    asked = chat.say("叫她王阿姨")
    assert "联系电话" in Chat.texts(asked), "\n".join(chat.transcript)
    return chat.say(phone)


def test_home_service_booking_masks_phone_and_stores_one(advisor):
    chat = advisor.chat()
    summary = book_bath(chat)
    text = Chat.texts(summary)
    assert "助浴" in text and "平江路100号" in text and "上午" in text
    assert "138****5678" in text and PHONE not in text
    done = chat.say(button(summary, "确认"))
    reference = REFERENCE.search(Chat.texts(done)).group()
    assert reference.startswith("JY-")
    booking = store_of(advisor).get(reference)
    assert booking.phone == PHONE and booking.service_type == "助浴" and booking.status == "submitted"
    assert booking.relationship == "子女" and booking.filed_by == "relative"
    assert booking.addressed_as == "王阿姨" and "称呼：王阿姨" in text
    assert "您是老人的什么人" not in "\n".join(chat.transcript)
    # personal data never reaches the server logs
    assert PHONE not in advisor.log_text()


def test_double_confirmation_creates_one_booking(advisor):
    chat = advisor.chat()
    summary = book_bath(chat, phone="13900001111")
    number = button(summary, "确认")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda _: chat.say(number), range(2)))
    found = {m.group() for r in replies for m in [REFERENCE.search(Chat.texts(r))] if m}
    assert len(found) == 1
    stored = [b for b in store_of(advisor).list(kind="home_service") if b.phone == "13900001111"]
    assert len(stored) == 1


def test_past_date_is_refused_with_reason(advisor):
    chat = advisor.chat()
    chat.say("预约上门助洁")
    reply = chat.say("昨天下午")
    assert "已经过去了" in Chat.texts(reply)


def test_a_request_started_by_mistake_shows_the_way_out(advisor):
    chat = advisor.chat()
    chat.say("帮我约个能力评估")
    reply = chat.say("直接告诉我结果")     # not a date: said why, the way out shown with the re-ask
    assert "先把这个预约办好" in Chat.texts(reply) and "不约了" in Chat.texts(reply)
    assert "多大岁数" not in Chat.texts(reply)      # one question at a time
    assert "不提交了" in Chat.texts(chat.say("不约了"))


def test_asking_a_status_at_the_summary_is_answered_not_misunderstood(advisor):
    chat = advisor.chat()
    book_bath(chat, "13955550123")
    reply = chat.say("我排到第几了")
    assert "没听明白" not in Chat.texts(reply) and "还没有提交" in Chat.texts(reply)
    assert "请核对" in Chat.texts(reply)        # the request is still there, to confirm


def test_bad_phone_is_refused(advisor):
    chat = advisor.chat()
    chat.say("预约上门助餐")
    chat.say("后天上午")
    chat.say("吴中区木渎镇中山路5号")
    chat.say("张奶奶")
    reply = chat.say("12345")
    assert "电话号码好像不对" in Chat.texts(reply)


def test_change_one_field_at_the_summary(advisor):
    chat = advisor.chat()
    summary = book_bath(chat)
    which = chat.say(button(summary, "修改"))
    asked = chat.say(button(which, "联系电话"))
    assert "电话" in Chat.texts(asked)
    again = chat.say("13700002222")
    text = Chat.texts(again)
    assert "137****2222" in text and "平江路100号" in text   # the rest is kept


def test_waitlist_application_gets_reference_and_queue_position(advisor):
    chat = advisor.chat()
    chat.say("我妈今年82岁，住在相城区，有苏州户口")
    reply = answer_until_summary(chat, chat.say("帮我妈申请公办养老院排队"),
                                 ["低保户", "好几样都要人帮", "不是", "她叫张桂兰", "相城区", "13811112222", "女儿"])
    done = chat.say(button(reply, "确认"))
    text = Chat.texts(done)
    reference = REFERENCE.search(text).group()
    assert reference.startswith("LH-") and "排在第" in text
    booking = store_of(advisor).get(reference)
    assert booking.priority_tier == 2   # 低保 and 中度失能
    assert booking.elder_name == "张桂兰" and "张桂兰" not in Chat.texts(reply)   # the summary shows 张*兰


def test_status_from_another_conversation_needs_the_phone(advisor):
    owner = advisor.chat()
    summary = book_bath(owner, phone="13733334444")
    reference = REFERENCE.search(Chat.texts(owner.say(button(summary, "确认")))).group()
    stranger = advisor.chat()
    asked = stranger.say(f"查一下{reference}到哪一步了")
    assert "电话" in Chat.texts(asked) and "13733334444" not in Chat.texts(asked)
    wrong = stranger.say("13900009999")
    assert "不一致" in Chat.texts(wrong)
    right = stranger.say("137 3333 4444")
    text = Chat.texts(right)
    assert "已提交" in text and "137****4444" in text


def test_wrong_reference_is_said_so(advisor):
    chat = advisor.chat()
    reply = chat.say("查一下JY-20261129-9999")
    assert "没有找到" in Chat.texts(reply)


def test_cancel_own_booking(advisor):
    chat = advisor.chat()
    summary = book_bath(chat, phone="13655556666")
    reference = REFERENCE.search(Chat.texts(chat.say(button(summary, "确认")))).group()
    ask = chat.say("我要取消预约")
    assert reference in Chat.texts(ask)
    done = chat.say(button(ask, "确定取消"))
    assert "已取消" in Chat.texts(done)
    assert store_of(advisor).get(reference).status == "cancelled"


@pytest.mark.parametrize("point,stored", [("after_commit", 1), ("before_commit", 0)])
def test_crash_at_confirmation_never_loses_or_invents_a_booking(tmp_path, point, stored):
    """Kill the action server between the confirmation and the reply, then start again."""
    var = tmp_path / "var"
    var.mkdir()
    crashing = Advisor(var, {"ELDERCARE_TEST_CRASH_POINT": point})
    chat = crashing.chat()
    summary = book_bath(chat, phone="13522223333")
    reply = chat.say(button(summary, "确认"))
    assert not REFERENCE.search(Chat.texts(reply))            # nothing acknowledged
    crashing.stop()
    assert len(store_of(crashing).list()) == stored           # stored only if committed
    restarted = Advisor(var)                                  # same database and tracker store
    again = Chat(restarted.url, chat.sender).say("确认提交")
    reference = REFERENCE.search(Chat.texts(again))
    assert reference, again                                  # confirming again completes it
    assert len(store_of(restarted).list()) == 1              # and never twice
    assert restarted.stop() == 0


def test_twenty_concurrent_waitlist_confirmations_store_one(advisor):
    """The same family applies from 20 conversations at once (phone line, app, relatives)."""
    phone = "13966667777"
    chats, numbers = [], []
    for _ in range(20):
        chat = advisor.chat()
        chat.say("我妈今年82岁，住在相城区，有苏州户口，低保户，半失能，不是失独家庭")
        reply = answer_until_summary(chat, chat.say("帮她申请公办养老院排队"), ["张桂兰", "相城区", phone, "女儿"])
        chats.append(chat)
        numbers.append(button(reply, "确认"))
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda pair: pair[0].say(pair[1]), zip(chats, numbers)))
    references = {REFERENCE.search(Chat.texts(r)).group() for r in replies}
    assert len(references) == 1                       # every family member gets the same number
    stored = [b for b in store_of(advisor).list(kind="waitlist") if b.phone == phone]
    assert len(stored) == 1


def test_switching_to_a_booking_keeps_facts_and_does_not_repeat_itself(advisor):
    chat = advisor.chat()
    chat.say("我妈今年83岁住在姑苏区有苏州户口")
    estimate = chat.say("洗澡要人帮")
    assert "估计属于" in Chat.texts(estimate)
    switched = chat.say("帮我预约上门助浴")
    text = Chat.texts(switched)
    assert "居家养老服务预约" in text and "估计属于" not in text
    assert "哪一天" in text        # the service came with the request; the date is next


@pytest.mark.parametrize("request_text,prefix,kind", [
    ("帮我妈申请能力评估", "PG-", "assessment"),
    ("想约个养老顾问当面聊聊", "GW-", "advisor"),
])
def test_assessment_and_advisor_requests(advisor, request_text, prefix, kind):
    chat = advisor.chat()
    reply = answer_until_summary(chat, chat.say(request_text),
                                 ["下周一下午", "吴中区木渎镇金山路12号", "李阿姨", "0512-66881234", "儿子"])
    assert "0512****1234" in Chat.texts(reply)
    reference = REFERENCE.search(Chat.texts(chat.say(button(reply, "确认")))).group()
    assert reference.startswith(prefix)
    booking = store_of(advisor).get(reference)
    assert booking.kind == kind and booking.time_slot == "下午" and booking.phone == "0512-66881234"


def test_an_address_must_look_like_one(advisor):
    chat = advisor.chat()
    chat.say("帮我妈约个助洁")
    chat.say("后天上午")
    reply = chat.say("不知道地址")
    assert "地址" in Chat.texts(reply) and "称呼" not in Chat.texts(reply)   # asked again
    assert "称呼" in Chat.texts(chat.say("相城区元和街道御窑路8号"))


def test_a_request_during_a_lookup_switches_to_it(advisor):
    chat = advisor.chat()
    asked = chat.say("我排到第几了")
    assert "还没有提交过" in Chat.texts(asked) and "编号" in Chat.texts(asked)
    switched = chat.say("帮我妈申请公办养老院")
    assert "入住轮候申请" in Chat.texts(switched) and "没听明白" not in Chat.texts(switched)
