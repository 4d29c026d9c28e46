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


def converse(chat: Chat, opening: str, persona: dict, typed: dict | None = None, max_turns: int = 20):
    """Answer every question from `persona` (by number, or with `typed` text) until results come."""
    messages = chat.say(opening)
    for _ in range(max_turns):
        rec = Chat.recommendations(messages)
        if rec:
            return rec, messages
        fact = asked_fact(messages)
        assert fact, f"advisor neither asked nor answered:\n" + "\n".join(chat.transcript)
        if typed and fact in typed:
            reply = typed[fact]
        elif fact not in persona:
            reply = "不知道"
        elif FACTS[fact].options:
            reply = answer_by_number(messages, fact, persona[fact])
        else:
            reply = str(persona[fact])
        messages = chat.say(reply)
    raise AssertionError("no recommendations after %d turns:\n%s" % (max_turns, "\n".join(chat.transcript)))


def result(rec: dict, policy_id: str) -> dict:
    return next(r for r in rec["results"] if r["id"] == policy_id)


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
    text = Chat.texts(messages)
    assert "老人家" in text and "民政" in text    # relative wording; 待核实 closing line
    # the recommendation page: top 3, then "更多"
    more = chat.say("更多")
    assert "4." in Chat.texts(more)


def test_corrections_and_dont_know(advisor):
    chat = advisor.chat()
    first = chat.say("我今年78岁，住吴中区")
    assert asked_fact(first)
    fixed = chat.say("不对，是87岁")
    assert "87" in Chat.texts(fixed)
    persona = {"hukou": True, "care_level": "能力完好", "living": "独居", "medical_insured": True}
    rec, _ = converse(chat, "不知道", persona)
    assert rec["profile"]["age"] == 87 and rec["profile"]["subject"] == "self"
    assert "economic_status" not in rec["profile"]


def test_policy_question_mid_form_then_form_resumes(advisor):
    chat = advisor.chat()
    asked = chat.say("帮我查查我爸能享受什么政策")
    fact = asked_fact(asked)
    answer = chat.say("长护险怎么申请")
    text = Chat.texts(answer)
    assert "长期护理保险" in text and "定点" in text
    assert asked_fact(answer) == fact   # and the question is asked again


def test_restart_forgets_everything(advisor):
    chat = advisor.chat()
    chat.say("我妈90岁住昆山")
    reply = chat.say("重新开始")
    assert "重新开始" in Chat.texts(reply)
    rec, _ = converse(chat, "我今年66岁", {"district": "太仓市", "hukou": False})
    assert "district" in rec["profile"] and rec["profile"]["district"] == "太仓市"
    assert rec["profile"]["age"] == 66


@pytest.mark.parametrize("bad", ["", " ", "🙂🙂🙂", "hello, what can you do?", "'; DROP TABLE events; --",
                                 "长" * 5000, "我今年200岁"])
def test_bad_input_gets_polite_chinese_and_keeps_facts(advisor, bad):
    chat = advisor.chat()
    chat.say("我今年82岁，住在相城区")
    reply = chat.say(bad)
    text = Chat.texts(reply)
    assert text and any("\u4e00" <= ch <= "\u9fff" for ch in text), reply
    assert "Traceback" not in text and "Error" not in text
    rec, _ = converse(chat, "我想知道能享受什么政策", {"hukou": True})
    assert rec["profile"]["age"] == 82 and rec["profile"]["district"] == "相城区"


def test_absurd_age_is_refused_politely(advisor):
    chat = advisor.chat()
    reply = chat.say("我今年200岁")
    assert "年龄好像不太对" in Chat.texts(reply)


def test_typed_number_picks_the_option(advisor):
    chat = advisor.chat()
    first = chat.say("你好")
    assert first and first[0].get("buttons")
    second = chat.say("1")   # 1 = 帮老人查政策
    assert asked_fact(second) == "subject"
    third = chat.say("2")    # 2 = 家人帮老人问
    assert "老人家" in Chat.texts(third)


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
    rec, _ = converse(chat, "她能享受什么政策", {"hukou": True})
    assert rec["profile"]["age"] == 85
    said_by_bot = "\n".join(line for line in chat.transcript if line.startswith("顾问："))
    assert number not in json.dumps(reply, ensure_ascii=False) + said_by_bot
    assert number not in advisor.log_text()


def test_what_if_answers_without_changing_the_profile(advisor):
    chat = advisor.chat()
    persona = {"hukou": True, "care_level": "轻度失能", "medical_insured": True, "care_assessed": False}
    rec, _ = converse(chat, "我今年79岁，住在姑苏区", persona)
    reply = chat.say("如果明年满80岁呢")
    text = Chat.texts(reply)
    assert "高龄津贴" in text and "可以享受" in text and "没有改动" in text
    chat.say("如果评上重度失能呢")
    again, _ = converse(chat, "我能享受什么政策", persona)
    assert again["profile"]["age"] == 79 and again["profile"]["care_level"] == "轻度失能"


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
