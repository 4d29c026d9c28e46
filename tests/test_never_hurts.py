"""Issue 17, turn by turn without servers: nothing destructive on a guess, grief and hardship heard,
honest edges, stable numbers. Examples are the project's own, written for the classes the blind
checks found (none is a phrase of the evaluation sets)."""
from __future__ import annotations

from tests.test_conversation import Session


def text(reply) -> str:
    return Session.text(reply)


def test_a_widow_is_the_elder_not_her_late_husband():
    s = Session()
    reply = s.say("老头子年初过世了，现在屋里就我一个")
    assert "节哀" in text(reply) and s.slots["elder_word"] == "本人" and s.slots["living"] == "独居"
    assert "您今年多大" in text(reply)


def test_an_emergency_comes_first_and_alone():
    s = Session()
    s.say("我外婆八十七，住在姑苏区")
    reply = s.say("外婆刚刚在卫生间跌倒了爬不起来")
    first = reply.messages[0]["text"]
    assert first.startswith("如果老人现在有危险") and "120" in first
    assert "估计" not in text(reply) and "？" not in text(reply)     # no estimate, no question now


def test_questions_outside_the_kb_never_use_up_the_open_question():
    s = Session()
    s.say("我爸八十一了")   # the district is asked
    said = []
    for question in ("社保断了几年能补吗", "医保卡丢了怎么补", "去杭州旅游老人门票免不免"):
        reply = s.say(question)
        said.append(text(reply))
        assert "我只管苏州" in text(reply) and "先跳过" not in text(reply), text(reply)
    assert s.slots.get("district") is None        # never skipped: still on offer, not marked 不知道
    assert "等您想好了再说" in said[1]              # not asked a third time in a row: what is known so far
    assert sum("住在苏州哪个区" in t for t in said) <= 1


def test_questions_about_the_spouse_name_the_spouse():
    s = Session()
    s.say("我七十九，住相城，苏州户口")
    reply = s.say("还有我老伴，他八十二")
    assert s.slots["elder_word"] == "老伴" and "您今年" not in text(reply)
    assert s.slots["household"]["本人"]["facts"]["age"] == 79


def test_one_question_refused_is_not_the_booking_refused():
    s = Session()
    s.say("我妈八十四，住园区，苏州户口")
    s.say("帮我妈约个上门助洁", "book_service")
    s.say("下周二上午")
    reply = s.say("算了地址先不说，让工作人员打电话问我")
    assert s.slots.get("booking_kind") == "home_service" and "不提交" not in text(reply)
    assert s.slots["address"] == "（工作人员电话确认）" and s.slots["task_field"] != "address"


def test_a_menu_renumbers_once_another_list_came_between():
    s = Session()
    s.say("我奶奶九十一，住张家港，苏州户口")
    first = dict(s.buttons)
    s.say("1", "affirm")                     # 好，继续回答: a question with its own options
    assert s.slots.get("menu") is None
    assert first[1] == "/affirm"


def test_a_booking_for_the_other_parent_is_for_that_parent():
    s = Session()
    s.say("我父母一个八十六一个八十一，都住吴中，苏州户口")
    s.say("看母亲的")
    assert s.slots["elder_word"] == "母亲"
    s.say("给我爸约个助洁", "book_service")
    assert s.slots["elder_word"] == "父亲" and s.slots["booking_kind"] == "home_service"


def test_what_was_recorded_is_said_when_asked():
    s = Session()
    s.say("我姑妈的婆婆……不是，我婆婆八十了，住太仓")
    reply = s.say("你都记了些什么")
    assert "记下的有" in text(reply) and "80岁" in text(reply)


def test_grief_said_across_a_comma_is_still_grief():
    s = Session()
    s.say("我今年七十四，住昆山")
    reply = s.say("我女儿，前几年生病走了，就这一个孩子")
    assert "节哀" in text(reply) and "祝" not in text(reply)
    assert s.slots.get("emergency") is None


def test_a_relatives_own_age_is_not_the_elders():
    s = Session()
    s.say("我婆婆八十三，住相城")
    reply = s.say("我本人也六十了，是家里老大")
    assert s.slots["age"] == 83 and "您自己的情况" in text(reply)


def test_a_phone_refused_keeps_the_booking_and_says_what_it_is_for():
    s = Session()
    s.say("我爷爷八十八，住姑苏，苏州户口")
    s.say("给爷爷约个助餐送饭", "book_service")
    for answer in ("后天中午", "姑苏区十全街100号2幢101", "叫他李爷爷"):
        s.say(answer)
    assert s.slots["task_field"] == "phone"
    reply = s.say("算了电话就不想给了")
    assert s.slots.get("booking_kind") == "home_service" and "座机" in text(reply)


def test_a_break_in_under_way_is_110():
    reply = Session().say("外面有人在拧我家门锁，我一个人在家")
    assert "110" in text(reply)


def test_another_citys_medical_reimbursement_goes_to_the_medical_line():
    reply = Session().say("我妈在南京看病，异地就医怎么报销")
    assert "12393" in text(reply)


def test_a_thank_you_and_goodbye_with_how_in_it_still_ends():
    s = Session()
    s.say("我外婆八十五，住吴江，苏州户口")
    reply = s.say("懂了，我知道怎么弄了，谢谢，再见")
    assert "身体健康" in text(reply)
