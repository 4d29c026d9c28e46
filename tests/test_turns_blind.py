"""A newcomer's blind check, turn by turn without servers (the classes it found, with examples of our
own; the intents are what the trained classifier gives these words).

1. Chat, greetings, a question about the bot, an off-topic question or noise never use up the open
   question: answered briefly, the same question again (more simply); never a skip. Only clear words
   ("不知道", "跳过", "不想说", "保密") skip. A question asked twice is left open, not marked 不知道,
   and age and district, when missing, are said with the results and named first in the offer.
   A late answer ("园区" when 户口 is asked) is the fact it names, not a skip of the question asked.
2. "How much money" lists the items that pay, with the KB's amounts (待核实 marked, never a figure of
   our own), once; it asks the one fact it needs first; impatience gets a shorter answer, never the
   same cards again; leaving to ask elsewhere gets a short goodbye with where to ask.
"""
from __future__ import annotations

import re

import pytest

from actions.relevance import Topic, money_policies, topic_line, topics
from tests.test_conversation import KB, Session, results_shown

DISTRICT_Q = "住在苏州哪个区"
AGE_Q = "多大岁数"


def text(reply) -> str:
    return Session.text(reply)


def asks(reply) -> str | None:
    return (reply.payload or {}).get("asking") if reply.payload else None


# --- 1. chat is never a skip ----------------------------------------------------------------------------
CHAT = [("你是真人还是机器", "help"), ("你叫啥名字", "help"), ("你是AI吧", "help"), ("早上好", "greet"),
        ("在不在", "greet"), ("明天会下雨吗", "out_of_scope"), ("推荐个好吃的饭店", "out_of_scope"),
        ("zxcvb", "nlu_fallback"), ("。。。", "out_of_scope"), ("😂😂", "out_of_scope"), ("啊啊啊啊", "affirm"),
        ("什么意思", "dont_know"), ("听不懂你说的", "dont_know"), ("问这个干嘛", "help")]


@pytest.mark.parametrize("said,intent", CHAT)
def test_chat_while_a_question_is_open_asks_the_same_question_again(said, intent):
    s = Session()
    s.say("我爸八十三")
    assert s.slots["asked_fact"] == "district"
    reply = s.say(said, intent)
    assert s.slots["asked_fact"] == "district" and s.slots.get("district") is None, text(reply)
    assert "先跳过" not in text(reply) and DISTRICT_Q in reply.messages[-1]["text"], text(reply)
    assert "回复上面的数字就行" in text(reply)   # the second time, more simply


@pytest.mark.parametrize("said", ["你是真人还是机器", "请问你是人工客服吗", "你是AI吧", "你们是哪个单位的", "你叫啥名字"])
def test_a_question_about_the_bot_is_answered_then_the_question(said):
    s = Session()
    s.say("你好", "greet")
    reply = s.say(said, "help")
    assert "不是真人" in text(reply) and "12345" in text(reply)
    assert s.slots["asked_fact"] == "age" and AGE_Q in reply.messages[-1]["text"]
    assert "直接告诉我老人的情况就行" not in text(reply)   # not the general help


@pytest.mark.parametrize("said,intent", [("为啥要问户口", "ask_policy"), ("问这个干嘛", "help"),
                                         ("为什么要问这个", "ask_policy"), ("问户口干吗", "help"),
                                         ("户口跟这个有什么关系", "ask_policy")])
def test_why_a_question_is_asked_is_answered_and_it_is_asked_again(said, intent):
    s = Session()
    s.say("我妈八十四，住在姑苏区")
    assert s.slots["asked_fact"] == "hukou"
    reply = s.say(said, intent)
    assert "尊老金" in text(reply) and s.slots["asked_fact"] == "hukou" and s.slots.get("hukou") is None
    assert "苏州户口" in reply.messages[-1]["text"]


@pytest.mark.parametrize("chats", [
    [("你好呀", "greet"), ("在不在", "greet"), ("早上好", "greet")],
    [("zxcvb", "nlu_fallback"), ("😂😂", "out_of_scope"), ("。。。", "out_of_scope")],
    [("你是AI吧", "help"), ("明天会下雨吗", "out_of_scope"), ("帮我查下火车票", "out_of_scope")],
    [("养老金能领多少", "out_of_scope"), ("上海的老人有什么补贴", "ask_recommendation"), ("北京呢", "nlu_fallback")],
    [("什么意思", "dont_know"), ("听不懂你说的", "dont_know"), ("啊啊啊啊", "affirm")],
])
def test_the_age_is_never_dropped_by_chat(chats):
    s = Session()
    s.say("你好", "greet")
    history = ["age"]
    for said, intent in chats:
        reply = s.say(said, intent)
        history.append(s.slots.get("asked_fact"))
        assert "先跳过" not in text(reply) and "先空着" not in text(reply), text(reply)
        assert s.slots.get("age") is None, text(reply)   # never marked 不知道
        assert not re.search(r"\d项可以享受", text(reply)), text(reply)   # no results without an age
    assert not any(history[i] == history[i + 1] == history[i + 2] == "age" for i in range(len(history) - 2))
    assert "等您想好了再说" in "\n".join(text(r) for r in s.replies)
    reply = s.say("八十六")   # still taken whenever it comes
    assert s.slots["age"] == 86 and "记下了：年龄86岁" in text(reply)


@pytest.mark.parametrize("chats", [
    [("你好", "greet"), ("你好", "greet")],
    [("asdfghjkl", "out_of_scope"), ("asdfghjkl", "out_of_scope")],
    [("你是机器人吗", "help"), ("哈哈", "out_of_scope")],
    [("推荐个好吃的饭店", "out_of_scope"), ("zxcvb", "nlu_fallback")],
    [("长护险怎么申请", "ask_policy"), ("尊老金是什么", "ask_policy")],
])
def test_a_district_left_open_is_said_with_the_results_and_offered_first(chats):
    s = Session()
    s.say("我妈八十二，苏州户口")
    for said, intent in chats:
        reply = s.say(said, intent)
    assert s.slots.get("district") is None and "先跳过" not in text(reply)
    assert "等您想好了再说" in text(reply) and "还不知道居住地" in text(reply)
    assert "再回答几个问题（居住地" in text(reply)   # named first in the offer
    reply = s.say("好，继续回答", "affirm")
    assert s.slots["asked_fact"] == "district" and DISTRICT_Q in text(reply)


@pytest.mark.parametrize("late,district", [("园区", "苏州工业园区"), ("她住吴中", "吴中区"), ("在相城", "相城区"),
                                           ("昆山的", "昆山市"), ("住在姑苏区", "姑苏区")])
def test_a_late_answer_is_the_fact_it_names_never_a_skip(late, district):
    s = Session()
    s.say("我外婆九十")
    s.say("不知道", "dont_know")          # the district skipped: 户口 is asked
    assert s.slots["asked_fact"] == "hukou"
    s.say("你好", "greet")                # the hukou question asked a second time
    reply = s.say(late, "inform")         # …and the district comes late
    assert s.slots["district"] == district and s.slots.get("hukou") is None, text(reply)
    assert "先跳过" not in text(reply) and "先空着" not in text(reply) and "记下了：居住地" in text(reply)
    assert "户籍" in text(reply) and s.slots.get("hukou") is None   # asked twice: left open, offered
    reply = s.say("好，继续回答", "affirm")
    assert s.slots["asked_fact"] == "hukou" and "苏州户口" in text(reply), text(reply)
    reply = s.say("有")
    assert s.slots["hukou"] is True, text(reply)


@pytest.mark.parametrize("said,intent", [("跳过", "inform"), ("保密", "inform"), ("下一个", "more"),
                                         ("不告诉你", "deny"), ("这个不方便说", "dont_know"), ("不想说", "dont_know")])
def test_only_clear_words_skip_a_question(said, intent):
    s = Session()
    s.say("我妈八十四，住在姑苏区")
    assert s.slots["asked_fact"] == "hukou"
    reply = s.say(said, intent)
    assert s.slots["hukou"] == "不知道", text(reply)   # skipped: never read as "没有"
    assert "先跳过" in text(reply) and s.slots.get("asked_fact") != "hukou"


@pytest.mark.parametrize("skip,intent", [("不想说", "dont_know"), ("保密", "inform"), ("跳过", "inform"),
                                         ("记不清了", "dont_know"), ("这个不方便说", "dont_know")])
def test_a_skipped_age_is_said_with_the_results_and_asked_first_on_going_on(skip, intent):
    s = Session()
    s.say("你好", "greet")
    reply = s.say(skip, intent)
    assert s.slots["age"] == "不知道" and "年龄先空着" in text(reply)
    s.say("昆山")
    reply = s.say("有")
    assert results_shown(reply)
    assert "还不知道年龄" in text(reply) and "再回答几个问题（年龄" in text(reply), text(reply)
    reply = s.say("好，继续回答", "affirm")
    assert s.slots["asked_fact"] == "age" and AGE_Q in text(reply)
    reply = s.say("85")
    assert s.slots["age"] == 85 and "尊老金" in text(reply)


@pytest.mark.parametrize("said,intent", [("我去社区问问", "dont_know"), ("我还是打12345问吧", "goodbye"),
                                         ("行吧我自己去民政局问", "nlu_fallback")])
def test_leaving_while_a_question_is_open_is_no_skip(said, intent):
    s = Session()
    s.say("你好", "greet")
    reply = s.say(said, intent)
    assert s.slots.get("age") is None and "先跳过" not in text(reply)
    assert "12345" in text(reply) and "？" not in text(reply)


# --- 2. money, impatience, leaving ----------------------------------------------------------------------
FULL = "我妈83岁住姑苏区苏州户口"
NOT_MONEY = ("公办养老机构入住轮候", "老年人免费健康体检", "老年助餐服务", "养老顾问")


def _kb_figures() -> set[str]:
    figures = set()
    for pid in money_policies():
        policy = KB.get(pid)
        figures |= set(re.findall(r"\d+(?:\.\d+)?", str(policy.amount or {}) + str(policy.raw.get("benefit"))))
    return figures | {"12345"}


def assert_no_invented_figure(said: str) -> None:
    stripped = re.sub(r"\d+岁|满\d+|年龄\d+|\d+项", "", said)
    for figure in re.findall(r"\d+(?:\.\d+)?", stripped):
        assert figure in _kb_figures(), f"{figure} is not the KB's: {said}"


@pytest.mark.parametrize("said,intent", [("到底能领多少钱", "ask_policy"), ("能拿多少钱", "ask_policy"),
                                         ("每个月能领多少", "ask_policy"), ("一共能领多少补贴", "ask_recommendation"),
                                         ("一共能拿多少", "nlu_fallback"), ("有钱拿吗", "out_of_scope")])
def test_a_money_question_first_asks_the_one_fact_it_needs(said, intent):
    s = Session()
    reply = s.say(said, intent)
    assert "哪一项" not in text(reply) and s.slots["asked_fact"] == "age", text(reply)
    assert "先要看年龄" in text(reply) and "尊老金" in text(reply)
    s.say("83")
    s.say("姑苏")
    reply = s.say("有")
    said_back = text(reply)
    assert "能领钱或补贴的" in said_back and "尊老金" in said_back and "3000元" in said_back, said_back
    assert "待核实" in said_back and "民政" in said_back
    assert not any(name in said_back for name in NOT_MONEY[:2]), said_back
    assert_no_invented_figure(said_back)


@pytest.mark.parametrize("said,intent", [("到底能领多少钱", "ask_policy"), ("一共能拿多少", "nlu_fallback"),
                                         ("一共能领多少补贴", "ask_recommendation"), ("快点说 总共多少钱", "out_of_scope"),
                                         ("能领什么钱", "ask_recommendation"), ("我问的是钱", "inform")])
def test_a_money_question_mid_chat_lists_the_money_items_only(said, intent):
    s = Session()
    s.say(FULL)
    reply = s.say(said, intent)
    answer = text(reply)
    assert "您问的是哪一项" not in answer and not results_shown(reply), answer
    assert "尊老金" in answer and "适老化改造" in answer and "待核实" in answer, answer
    assert not any(name in answer for name in NOT_MONEY), answer
    assert_no_invented_figure(answer)


def test_money_for_a_low_income_elder_lists_what_pays():
    s = Session()
    s.say("我爸七十五，住吴中区，苏州户口，家里是低保户，有残疾人证二级")
    reply = s.say("到底能领多少钱", "ask_policy")
    answer = text(reply)
    assert "困难残疾人生活补贴" in answer and "重度残疾人护理补贴" in answer and "待核实" in answer, answer
    assert "尊老金" not in answer        # 75: not yet
    assert_no_invented_figure(answer)


@pytest.mark.parametrize("impatient,intent", [("快点说 总共多少钱", "out_of_scope"), ("别问了", "deny"),
                                              ("你们这个太慢了 我问的是钱", "thank"), ("赶紧的", "affirm"),
                                              ("磨磨唧唧的", "nlu_fallback"), ("快点", "out_of_scope")])
def test_money_asked_again_or_impatiently_is_one_short_line(impatient, intent):
    s = Session()
    s.say(FULL)
    first = text(s.say("到底能领多少钱", "ask_policy"))
    reply = s.say(impatient, intent)
    again = text(reply)
    assert not results_shown(reply) and "先看能领钱或补贴的" not in again, again
    assert len(again) < len(first) and "\n" not in again, again
    assert "尊老金" in again and "民政" in again and "哪一项" not in again, again


@pytest.mark.parametrize("impatient,intent", [("快点", "out_of_scope"), ("别问了", "deny"), ("赶紧的", "affirm"),
                                              ("磨磨唧唧的", "nlu_fallback"), ("太慢了", "thank")])
def test_impatience_after_the_results_is_shorter_never_the_same_cards(impatient, intent):
    s = Session()
    first = s.say(FULL)
    assert results_shown(first)
    reply = s.say(impatient, intent)
    assert not results_shown(reply) and "项可以享受：" in text(reply) and "\n" not in text(reply), text(reply)   # one line of names, not the cards
    assert "直接告诉我老人的情况就行" not in text(reply) and "没听明白" not in text(reply)


@pytest.mark.parametrize("said", ["那尊老金到底多少 快点", "尊老金到底几块钱 赶紧说", "尊老金一个月多少钱"])
def test_a_named_amount_is_answered_even_impatiently(said):
    s = Session()
    s.say(FULL)
    reply = s.say(said, "ask_policy")
    answer = text(reply)
    assert "高龄津贴" in answer and "待核实" in answer and not results_shown(reply), answer
    assert "先看能领钱或补贴的" not in answer
    assert_no_invented_figure(answer)


@pytest.mark.parametrize("said,intent", [("行了行了 我自己去问街道", "inform"), ("算了算了", "deny"),
                                         ("不问了 我去社区问问", "dont_know"), ("我还是打12345问吧", "goodbye"),
                                         ("行吧我自己去民政局问", "nlu_fallback"), ("我直接去街道问", "nlu_fallback")])
def test_leaving_to_ask_elsewhere_gets_a_short_goodbye_with_where(said, intent):
    s = Session()
    s.say(FULL)
    reply = s.say(said, intent)
    answer = text(reply)
    assert "12345" in answer and "姑苏区的街道" in answer and "祝您母亲身体健康" in answer, answer
    assert "没听明白" not in answer and not results_shown(reply) and s.slots["age"] == 83


def test_a_question_about_where_to_ask_is_no_goodbye():
    s = Session()
    s.say(FULL)
    reply = s.say("尊老金是去街道问吗", "ask_policy")
    assert "祝" not in text(reply) and "高龄津贴" in text(reply)


# --- the line above the first results never introduces what it is not about ------------------------------
def _topic(name: str) -> Topic:
    return next(t for t in topics() if t.name == name)


@pytest.mark.parametrize("name,own,other", [("money", ["senior_allowance", "home_modification"], "public_care_home_waitlist"),
                                            ("money", ["care_service_voucher"], "free_health_checkup"),
                                            ("care", ["ltc_insurance"], "meal_assistance"),
                                            ("care", ["ltc_insurance", "home_care_service_subsidy"], "elder_care_advisor"),
                                            ("caregiver", ["respite_service"], "public_care_home_waitlist")])
def test_the_topic_line_counts_only_the_topics_own_cards(name, own, other):
    topic = _topic(name)
    items = [{"id": pid} for pid in own] + [{"id": other}, {"id": other}]
    line = topic_line(items, topic, 3)
    assert line != topic.why and f"{len(own)}项" in line
    assert topic_line([{"id": pid} for pid in topic.policies[:3]], topic, 3) == topic.why
    assert topic_line([{"id": other}] + items, topic, 3) is None


def test_money_results_are_never_introduced_with_the_waiting_list():
    s = Session()
    reply = s.say("我妈83岁住姑苏区苏州户口，想问问补贴的事", "inform")
    cards = [m["text"] for m in reply.messages if m["text"].startswith("· ")]
    if "先看能领钱或补贴的" in text(reply):
        assert not any("轮候" in c for c in cards), text(reply)
    assert "能领钱或补贴的有2项，排在最前面" in text(reply), text(reply)


@pytest.mark.parametrize("said,intent", [("我问问社区再告诉你", "goodbye"), ("我回头问问我哥再说", "nlu_fallback"),
                                         ("等我问问我妈", "dont_know"), ("我去查一下户口本再说", "check_status"),
                                         ("我找找户口本", "nlu_fallback")])
def test_the_answer_later_skips_for_now_and_is_no_goodbye(said, intent):
    s = Session()
    s.say("我妈八十四，住在姑苏区")
    assert s.slots["asked_fact"] == "hukou"
    reply = s.say(said, intent)
    assert s.slots["hukou"] == "不知道" and "没听明白" not in text(reply), text(reply)
    assert "祝" not in text(reply) and results_shown(reply)
    reply = s.say(said, intent)   # no question open now: heard, not "没听明白"
    assert "问清楚了随时告诉我" in text(reply) and "没听明白" not in text(reply), text(reply)


@pytest.mark.parametrize("said", ["一个月给多少", "一个月能领多少", "每月能拿多少"])
def test_how_much_right_after_a_policy_is_about_that_policy(said):
    s = Session()
    s.say(FULL)
    s.say("尊老金怎么领", "ask_policy")
    reply = s.say(said, "ask_policy")
    assert "高龄津贴（尊老金）能得到多少" in text(reply) and "适老化" not in text(reply), text(reply)


@pytest.mark.parametrize("turns", [
    [("你好", "greet"), ("你是机器人吗", "help"), ("哈哈", "out_of_scope")],
    [("到底能领多少钱", "ask_policy"), ("83", "inform"), ("姑苏", "inform"), ("有", "inform")],
    [("我爸七十五，住吴中区，苏州户口，家里是低保户，有残疾人证二级", "inform"), ("到底能领多少钱", "ask_policy"),
     ("快点说 总共多少钱", "out_of_scope")],
    [("我妈瘫在床上 八十二 住吴中 苏州户口", "inform"), ("一共能拿多少", "nlu_fallback"), ("别问了", "deny"),
     ("行了行了 我自己去问街道", "inform")],
])
def test_every_bubble_fits_a_phone_screen(turns):
    s = Session()
    for said, intent in turns:
        reply = s.say(said, intent)
        assert all(len(m["text"]) <= 200 for m in reply.messages), text(reply)


@pytest.mark.parametrize("said", ["那我过两天去社区问问，今天先这样吧，再见", "好嘞我去街道问问 拜拜",
                                  "我回去和老伴商量商量再说，谢谢，拜", "晓得了谢谢，明朝去居委会问问，再会"])
def test_a_goodbye_that_also_says_where_they_will_ask_is_the_goodbye(said):
    s = Session()
    s.say("我妈85岁住吴江区")
    reply = text(s.say(said, "goodbye"))
    assert reply.startswith("好的，祝") and "？" not in reply, reply   # a goodbye, whether or not it names where to ask


@pytest.mark.parametrize("said", ["我妈83岁住姑苏区苏州户口 想问问她能有什么补贴",
                                  "我爸九十了住相城 本地户口 有哪些补贴能拿",
                                  "我七十六 住昆山 户口在昆山 有啥补助"])
def test_which_subsidies_with_the_facts_given_gets_the_results(said):
    """"有什么补贴" is what they can get — the results (money first), not the money list alone."""
    s = Session()
    reply = s.say(said, "ask_recommendation")
    assert results_shown(reply), text(reply)

