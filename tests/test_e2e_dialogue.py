"""End to end: `eldercare serve` (real Rasa server + action server), conversations over HTTP."""
from __future__ import annotations

import json
import os

import pytest

from e2e_support import Chat
from policy_kb.facts import load_facts

pytestmark = pytest.mark.e2e
FACTS = load_facts()


def asked_fact(messages) -> str | None:
    """Which fact the advisor asked about: from the buttons' payloads, or the question text."""
    payload = Chat.recommendations(messages)
    if payload and payload.get("asking"):
        return payload["asking"]
    for m in messages:
        for b in m.get("buttons") or []:
            if b["payload"].startswith("/inform{"):
                return next(iter(json.loads(b["payload"][len("/inform"):])))
    text = Chat.texts(messages)
    return next((f for f, spec in FACTS.items() if any(q and q in text for q in spec.question.values())), None)


def answer_by_number(messages, fact: str, value) -> str:
    for m in messages:
        for b in m.get("buttons") or []:
            if b["payload"] == "/inform" + json.dumps({fact: value}, ensure_ascii=False):
                return b["title"].split(".")[0]
    raise AssertionError(f"no button for {fact}={value}: {messages}")


def number_of(messages, payload: str) -> str:
    for m in messages:
        for b in m.get("buttons") or []:
            if b["payload"] == payload:
                return b["title"].split(".")[0]
    raise AssertionError(f"no button {payload}: {messages}")


def shows_results(messages) -> bool:
    payload = Chat.recommendations(messages)
    return bool(payload and payload.get("cards"))


def converse(chat: Chat, opening: str, persona: dict, typed: dict | None = None, full: bool = True,
             max_turns: int = 30):
    """Answer every question from `persona` (by number, or with `typed` text). Returns the last
    recommendations payload and the messages, once results came and (with `full`) once the
    offered questions are all answered."""
    messages = chat.say(opening)
    latest = None
    for _ in range(max_turns):
        latest = Chat.recommendations(messages) or latest
        fact = asked_fact(messages)
        if fact is None:
            if latest and latest.get("cards") and full and any(
                    b["payload"] == "/affirm" for m in messages for b in m.get("buttons") or []):
                messages = chat.say("好的")   # yes, ask me the rest
                continue
            assert latest and shows_results(messages) or latest, "advisor neither asked nor answered:\n" + \
                "\n".join(chat.transcript)
            return latest, messages
        if typed and fact in typed:
            reply = typed[fact]
        elif fact not in persona:
            reply = "不知道"
        elif FACTS[fact].options:
            reply = answer_by_number(messages, fact, persona[fact])
        else:
            reply = str(persona[fact])
        messages = chat.say(reply)
    raise AssertionError("conversation did not settle after %d turns:\n%s" % (max_turns, "\n".join(chat.transcript)))


def result(rec: dict, policy_id: str) -> dict:
    return next(r for r in rec["results"] if r["id"] == policy_id)


def no_empty_bubbles(messages) -> None:
    for m in messages:
        assert m.get("text") or m.get("buttons") or m.get("custom"), m


# --- results first ---------------------------------------------------------------------------

def test_a_full_first_message_gets_results_at_once(advisor):
    chat = advisor.chat()
    reply = chat.say("你好，我今年72岁，住在姑苏区，是苏州户口。身体还行，生活能自理。")
    assert shows_results(reply)
    payload = Chat.recommendations(reply)
    assert payload["profile"] == {"subject": "self", "age": 72, "district": "姑苏区", "hukou": True,
                                  "care_level": "能力完好"}
    text = Chat.texts(reply)
    assert text.count("记下了") == 1 and "估计" in text and "要继续吗" in text
    assert "本人" not in text   # who is talking is never asked
    no_empty_bubbles(reply)


def test_operator_shorthand_gets_results_at_once(advisor):
    reply = advisor.chat().say("来电老人 83岁 昆山 本地户籍 独居 半失能")
    assert shows_results(reply)
    assert Chat.recommendations(reply)["profile"]["care_level"] == "中度失能"


def test_age_and_district_then_one_question_then_results(advisor):
    chat = advisor.chat()
    first = chat.say("我妈84了，住在吴中区")
    assert not shows_results(first) and asked_fact(first) == "hukou"
    assert "母亲有苏州户口吗" in Chat.texts(first)   # the elder named by the family's own word
    assert shows_results(chat.say("本地户口"))


def test_relative_with_several_facts_at_once(advisor):
    chat = advisor.chat()
    persona = {"care_level": "重度失能", "care_assessed": False, "medical_insured": True,
               "economic_status": "一般", "living": "与家人同住", "family_caregiver": True,
               "dementia": False, "disability_grade": "none", "family_planning_special": False,
               "emergency": False}
    rec, messages = converse(chat, "我妈今年85岁，住在姑苏区，有苏州户口", persona)
    profile = rec["profile"]
    assert profile["subject"] == "relative"
    assert profile["age"] == 85 and profile["district"] == "姑苏区" and profile["hukou"] is True
    assert profile["care_level"] == "重度失能"
    assert result(rec, "senior_allowance")["status"] == "eligible"
    assert result(rec, "ltc_insurance")["status"] == "possible"   # not yet assessed
    assert set(result(rec, "senior_allowance")) >= {"id", "name", "status", "reasons", "missing",
                                                    "benefit", "apply"}
    text = "\n".join(chat.transcript)
    assert "母亲" in text and "民政" in text    # the family's word for her; 待核实 closing line
    assert Chat.recommendations(chat.say("更多"))["cards"] > 0   # the recommendation page: top 3, then "更多"


def test_impatient_users_get_results_now(advisor):
    chat = advisor.chat()
    chat.say("我爸八十了")
    assert shows_results(chat.say("别问了，直接告诉我"))
    chat = advisor.chat()
    chat.say("我妈79岁")
    assert shows_results(chat.say("不知道了"))


def test_later_answers_update_the_results_and_say_what_changed(advisor):
    chat = advisor.chat()
    first = chat.say("我今年70岁，住在吴江区，有苏州户口")
    assert shows_results(first)
    reply = chat.say("上个月家里着火了，日子过不下去了")
    text = Chat.texts(reply)
    assert "结果有变化" in text and "急难" in text
    payload = Chat.recommendations(reply)     # the channel contract: the current state
    assert payload["profile"]["emergency"] is True
    assert result(payload, "wujiang_emergency_aid")["status"] == "eligible"


# --- every answer counts -------------------------------------------------------------------------

def test_a_bare_number_after_the_greeting_is_an_age_not_goodbye(advisor):
    chat = advisor.chat()
    greeting = chat.say("你好")
    assert asked_fact(greeting) == "age"
    reply = chat.say("82")
    assert "祝老人家身体健康" not in Chat.texts(reply)
    assert Chat.recommendations(reply)["profile"]["age"] == 82 and asked_fact(reply) == "district"
    reply = chat.say("88")   # "88" while district is asked and age known: read nothing into it rashly
    assert "district" not in (Chat.recommendations(reply) or {}).get("profile", {})


def test_another_answer_than_asked_is_taken_and_the_question_stays(advisor):
    chat = advisor.chat()
    first = chat.say("我爸82岁")
    assert asked_fact(first) == "district"
    reply = chat.say("他有苏州户口")
    assert "记下了：有苏州户籍" in Chat.texts(reply) and asked_fact(reply) == "district"


def test_the_same_facts_said_again_are_heard_and_the_question_stays(advisor):
    chat = advisor.chat()
    chat.say("我外婆88岁住相城")
    reply = chat.say("我外婆88岁 住相城")   # an elder repeating herself, or a message sent twice
    text = Chat.texts(reply)
    assert "没听明白" not in text and "已经记下了：年龄88岁，居住地：相城区" in text
    assert asked_fact(reply) == "hukou"


def test_policy_question_mid_way_is_answered_then_resumes(advisor):
    chat = advisor.chat()
    asked = chat.say("我爸82岁")
    answer = chat.say("长护险怎么申请")
    text = Chat.texts(answer)
    assert "长期护理保险" in text and "定点" in text
    assert asked_fact(answer) == asked_fact(asked) == "district"   # and the question is asked again


@pytest.mark.parametrize("question,expected", [
    ("谁能先排上养老院", "1 特困供养人员"),
    ("尊老金一个月给多少", "高龄津贴"),
    ("长护险几天能批下来", "没有写明办理时间"),
])
def test_policy_questions_asked_as_who_how_much_how_long(advisor, question, expected):
    text = Chat.texts(advisor.chat().say(question))
    assert expected in text and "没听明白" not in text


def test_how_much_follows_the_policy_just_discussed(advisor):
    chat = advisor.chat()
    chat.say("尊老金怎么领")
    text = Chat.texts(chat.say("一个月给多少"))
    assert "高龄津贴" in text and "以当地民政" in text


def test_corrections_and_dont_know(advisor):
    chat = advisor.chat()
    first = chat.say("我今年78岁，住吴中区")
    assert asked_fact(first) == "hukou"
    fixed = chat.say("不对，是87岁")
    assert "已改为：年龄87岁" in Chat.texts(fixed)
    persona = {"care_level": "能力完好", "living": "独居", "medical_insured": True}
    rec, _ = converse(chat, "不知道", persona)
    assert rec["profile"]["age"] == 87 and rec["profile"]["subject"] == "self"
    assert "hukou" not in rec["profile"] and rec["profile"]["living"] == "独居"


def test_restart_forgets_everything(advisor):
    chat = advisor.chat()
    chat.say("我妈90岁住昆山")
    reply = chat.say("重新开始")
    assert "重新开始" in Chat.texts(reply)
    rec, _ = converse(chat, "我今年66岁", {"district": "太仓市", "hukou": False}, full=False)
    assert rec["profile"] == {"subject": "self", "age": 66, "district": "太仓市", "hukou": False}


@pytest.mark.parametrize("bad", ["", " ", "🙂🙂🙂", "hello, what can you do?", "'; DROP TABLE events; --",
                                 "长" * 5000, "我今年200岁"])
def test_bad_input_gets_polite_chinese_and_keeps_facts(advisor, bad):
    chat = advisor.chat()
    chat.say("我今年82岁，住在相城区")
    reply = chat.say(bad)
    text = Chat.texts(reply)
    assert text and any("\u4e00" <= ch <= "\u9fff" for ch in text), reply
    assert "Traceback" not in text and "Error" not in text
    no_empty_bubbles(reply)
    rec, _ = converse(chat, "有苏州户口", {}, full=False)
    assert rec["profile"]["age"] == 82 and rec["profile"]["district"] == "相城区"


def test_absurd_age_is_refused_politely_and_asked_again(advisor):
    chat = advisor.chat()
    reply = chat.say("我今年200岁，住在姑苏区")
    assert "年龄好像不太对" in Chat.texts(reply) and asked_fact(reply) == "age"
    assert Chat.recommendations(reply)["profile"] == {"subject": "self", "district": "姑苏区"}


def test_typed_number_picks_the_option(advisor):
    chat = advisor.chat()
    asked = chat.say("我妈85岁住姑苏区")
    reply = chat.say(answer_by_number(asked, "hukou", True))
    assert Chat.recommendations(reply)["profile"]["hukou"] is True and shows_results(reply)
    more = chat.say(number_of(reply, "/more"))
    assert Chat.recommendations(more)["cards"] == 3 and "老年助餐服务" in Chat.texts(more)   # the second page


def test_not_understood_reasks_with_numbered_buttons(advisor):
    chat = advisor.chat()
    chat.say("我妈85岁住姑苏区")
    reply = chat.say("嗯嗯啊啊")
    assert "没听明白" in Chat.texts(reply) and reply[-1]["buttons"][0]["title"].startswith("1. ")


TYPED_ANSWERS = {
    "care_level": "洗澡要人帮忙，别的都能自己来",
    "economic_status": "都不是",
    "care_assessed": "没做过",
    "medical_insured": "有苏州医保",
    "living": "和儿子一起住",
    "family_caregiver": "有，儿子照顾",
    "dementia": "没有",
    "disability_grade": "没有残疾证",
    "family_planning_special": "不是",
    "emergency": "没有",
    "hukou": "有苏州户口",
}
DICTATED_ANSWERS = {   # the same answers as voice-to-text gives them
    "care_level": "嗯那个洗澡要人帮忙 别的都能自己来",
    "economic_status": "嗯都不是",
    "care_assessed": "没做过没做过",
    "medical_insured": "有苏州医保的",
    "living": "就是和儿子一起住",
    "family_caregiver": "有 儿子照顾",
    "dementia": "没有啊",
    "disability_grade": "没有残疾证",
    "family_planning_special": "嗯不是",
    "emergency": "没有",
    "hukou": "有蘇州戶口",
}


def test_dictated_conversation_reaches_the_same_results_as_typed(advisor):
    typed, _ = converse(advisor.chat(), "我妈今年86岁，住在相城区，有苏州户口", {}, typed=TYPED_ANSWERS)
    dictated, _ = converse(advisor.chat(), "嗯我妈今年八十六岁住在湘城区有苏州户口", {},
                           typed=DICTATED_ANSWERS)
    assert typed["profile"]["economic_status"] == "一般" and typed["profile"]["district"] == "相城区"
    assert "care_level" in typed["profile"] and len(typed["profile"]) >= 8
    assert dictated["profile"] == typed["profile"]
    assert [(r["id"], r["status"]) for r in dictated["results"]] == \
           [(r["id"], r["status"]) for r in typed["results"]]


def _valid_id(birth: str) -> str:
    body = "320502" + birth + "123"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]
    return body + check


def test_id_number_gives_age_and_is_never_echoed_or_logged(advisor):
    number = _valid_id("19410305")
    chat = advisor.chat()
    reply = chat.say(f"我妈的身份证号是{number}，住在姑苏区")
    rec, _ = converse(chat, "有苏州户口", {}, full=False)
    assert rec["profile"]["age"] == 85
    said_by_bot = "\n".join(line for line in chat.transcript if line.startswith("顾问："))
    assert number not in json.dumps(reply, ensure_ascii=False) + said_by_bot
    assert number not in advisor.log_text()


def test_what_if_answers_without_changing_the_profile(advisor):
    chat = advisor.chat()
    rec, _ = converse(chat, "我今年79岁，住在姑苏区，有苏州户口，洗澡要人帮", {}, full=False)
    reply = chat.say("如果明年满80岁呢")
    text = Chat.texts(reply)
    assert "高龄津贴" in text and "可以享受" in text and "没有改动" in text
    chat.say("如果评上重度失能呢")
    again = Chat.recommendations(chat.say("直接告诉我"))
    assert again["profile"]["age"] == 79 and again["profile"]["care_level"] == "轻度失能"


def test_every_change_carries_the_current_payload(advisor):
    chat = advisor.chat()
    for text in ("你好", "我妈85岁", "住姑苏区", "长护险怎么申请", "有苏州户口", "好的", "都能自己来"):
        reply = chat.say(text)
        no_empty_bubbles(reply)
        payload = Chat.recommendations(reply)
        if text in ("我妈85岁", "住姑苏区", "有苏州户口", "都能自己来"):
            assert payload, text
    assert payload["profile"] == {"subject": "relative", "age": 85, "district": "姑苏区", "hukou": True,
                                  "care_level": "能力完好"}
    assert len(payload["results"]) == 19


def test_servers_do_not_outlive_a_killed_serve(tmp_path):
    """Even a SIGKILL of `eldercare serve` (no chance to clean up) ends both servers."""
    import signal
    import time

    from e2e_support import Advisor
    running = Advisor(tmp_path)
    children = [int(p) for p in open(f"/proc/{running.proc.pid}/task/{running.proc.pid}/children").read().split()]
    assert len(children) == 2
    running.proc.send_signal(signal.SIGKILL)
    running.proc.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(os.path.exists(f"/proc/{c}") for c in children):
        time.sleep(0.5)
    alive = [c for c in children if os.path.exists(f"/proc/{c}")
             and open(f"/proc/{c}/stat").read().split()[2] != "Z"]
    assert not alive
