"""The spoken form of the advisor's replies (actions/spoken.py): what an operator reads aloud.

Whole conversations run through the advisor without servers (tests/test_conversation.py's
Session); each reply's spoken form is checked for what a listener on the phone would trip
over: typing instructions, bullets, counts of cards nobody can see, digits before a unit."""
from __future__ import annotations

import re

import pytest

from actions.spoken import forms, read_numbers, speak
from channels.console.script import script
from test_conversation import Session

CALL = [("/ask_recommendation", "ask_recommendation"), ("83 昆山 本地 独居 半失能", "inform"), ("/affirm", "affirm"),
        ("不知道", "inform"), ("低保", "inform"), ("/more", "more"),
        ("/book_service", "book_service"), ("助浴", "inform"), ("明天上午", "inform"),
        ("昆山市玉山镇人民路88号3幢201", "inform"), ("王阿姨", "inform"), ("13812345678", "inform"),
        ("子女", "inform"), ("/affirm", "affirm")]
SCREEN_WORDS = re.compile(r"回复|点击|按钮|输入|写到|「更多」|^\s*[·•]")
DIGITS_BEFORE_UNIT = re.compile(r"\d+[岁项位个月日年号元]")


def spoken_call(steps, sender="spoken"):
    s = Session(sender)
    out = []
    for text, intent in steps:
        reply = s.say(text, intent)
        out.append((reply, speak(reply.messages, s.slots.get("subject"), (reply.payload or {}).get("lines"))))
    return out


def test_every_spoken_key_has_a_chat_wording_of_the_same_key():
    keys = {f.key for f in forms()}
    assert {"more_left", "offer", "fields.address.question", "messages.submitted", "question.dementia"} <= keys


def test_a_whole_call_is_said_without_screen_words_bullets_or_digits():
    for reply, said in spoken_call(CALL):
        chat = "\n".join(m["text"] for m in reply.messages)
        assert said["lines"], chat
        for line in said["lines"]:
            if line["key"] in ("card", "screen.page"):
                continue
            assert not SCREEN_WORDS.search(line["text"]), (chat, line)
            assert not DIGITS_BEFORE_UNIT.search(line["text"]), (chat, line)


def test_results_say_the_counts_of_what_is_listed_and_never_the_cards_left_to_page_through():
    results = spoken_call(CALL[:2])[-1]
    chat = "\n".join(m["text"] for m in results[0].messages)
    assert "回复「更多」" in chat                            # the chat pages through its cards…
    said = [l["text"] for l in results[1]["lines"]]
    assert any("七项可以享受" in t or "项可以享受" in t for t in said)
    assert not any(re.search(r"还有.项，", t) for t in said)   # …the phone does not count them
    assert sum(1 for l in results[1]["lines"] if l["key"] == "card") == results[0].payload["cards"]


def test_booking_questions_are_said_not_written():
    said = {l["key"]: l["text"] for _, s in spoken_call(CALL) for l in s["lines"] if l["key"]}
    assert said["fields.address.question"] == "上门的地址是哪里？请说到小区和门牌号。"
    # the hotline by its number (ELDERCARE_HOTLINE), never "问我"
    assert "打12345报这个编号" in said["messages.submitted"] and "问我" not in said["messages.submitted"]
    summary = [l["text"] for _, s in spoken_call(CALL) for l in s["lines"] if l["text"].startswith("联系电话")]
    assert summary == ["联系电话：尾号5678。"]


def test_a_sensitive_question_comes_with_a_tactful_wording_and_a_note_for_the_operator():
    s = Session("sensitive")
    s.say("我爸82岁 姑苏区 本地户口", "inform")
    messages = [{"text": "医生有没有说过老人家有老年痴呆（认知症）？"}]
    said = speak(messages, "relative")
    assert said["lines"][0]["key"] == "question.dementia"
    assert "不方便说也没关系" in said["lines"][0]["text"] and "老人家" in said["lines"][0]["text"]
    assert "为什么问" in said["note"] and "不知道" in said["note"]
    ordinary = speak([{"text": "老人家有苏州户口吗？"}], "relative")
    assert ordinary["note"] == "" and ordinary["lines"][0]["text"] == "老人家有苏州户口吗？"
    # the elder on the line: asked as 您, and greeted first when it is not known who is calling
    assert speak([{"text": "老人家有苏州户口吗？"}], None)["lines"][0]["text"] == "老人家，您有苏州户口吗？"
    assert speak([{"text": "您有苏州户口吗？"}], "self")["lines"][0]["text"] == "您有苏州户口吗？"
    # the elder named by the family's word: the same tact, the same note
    named = speak([{"text": "医生有没有说过母亲有老年痴呆（认知症）？"}], None)
    assert "母亲" in named["lines"][0]["text"] and "不方便说也没关系" in named["lines"][0]["text"]
    assert "为什么问" in named["note"]
    assert "为什么问" in speak([{"text": "父亲家里是低保户、低保边缘户或特困户吗？"}], "relative")["note"]


def test_spoken_forms_read_well_aloud():
    said = speak([{"text": "按老人家的情况，7项可以享受。（身体情况是按您说的估计的，以官方评估为准。）"},
                  {"text": "联系电话：0512****1234"}, {"text": "目前排在第 3 位（第 2 优先档）。"},
                  {"text": "也可以在这里直接预约上门服务。"}, {"text": "结果没有变化。"}], "relative")
    lines = [l["text"] for l in said["lines"]]
    assert lines == ["按老人家的情况，七项可以享受。身体情况是按您说的估计的，以官方评估为准。", "联系电话：尾号1234。",
                     "目前排在第三位（第二优先档）。", "也可以现在就帮您预约上门服务。"]


@pytest.mark.parametrize("written, said", [
    ("满80岁", "满八十岁"), ("2项可以享受", "两项可以享受"), ("排在第2位", "排在第二位"),
    ("2026年12月8日", "二〇二六年十二月八日"), ("人民路88号201室", "人民路八十八号201室"), ("报销50%", "报销百分之五十"),
    ("补贴1.5倍", "补贴一点五倍"), ("编号JY-20261207-0001", "编号JY-20261207-0001"), ("0512-65231234", "0512-65231234"),
])
def test_numbers_are_said_as_they_are_read(written, said):
    assert read_numbers(written) == said


def test_the_console_reads_the_spoken_form_without_the_cards_and_shows_the_note():
    reply, said = spoken_call(CALL[:2], "console-script")[-1]
    messages = ([{"custom": reply.payload}] + [{"text": m["text"], "buttons": m.get("buttons", [])} for m in reply.messages]
                + [{"custom": said}])
    page = script(messages, "relative")
    assert "可能可以" not in page["read_out"].split("\n")[-1]
    assert not any(l["text"] in page["read_out"] for l in said["lines"] if l["key"] == "card")
    assert "要接着问吗" in page["read_out"] and page["answers"]
    sensitive = script([{"text": "医生有没有说过老人家有老年痴呆（认知症）？"},
                        {"custom": speak([{"text": "医生有没有说过老人家有老年痴呆（认知症）？"}], "relative")}])
    assert sensitive["fact"] == "dementia" and "为什么问" in sensitive["note"]
