"""Never stuck, over the real servers: every question of the advice and of every kind of request
gets the same hard answer (a full name, 都行, 不知道, a fact meant for another question, a policy
question, an emoji, an out-of-range number, the same wrong answer) again and again. No question is
asked more than twice in a row, and every flow ends in a reference, the results or a way out."""
from __future__ import annotations

import re

import pytest

from app.evaluation.personas import asked_fact, booking_field_asked
from e2e_support import Chat

pytestmark = pytest.mark.e2e
HARD_ANSWERS = ["王秀英", "都行", "不知道", "她有低保", "长护险怎么申请", "🙂🙂", "250", "啊啊啊"]
REFERENCE = re.compile(r"\b(?:JY|LH|PG|GW)-\d{8}-\d{4}\b")
WAY_OUT = ("不提交了", "不提交", "不约了")
STARTS = {
    "advice": ["我妈85岁住在姑苏区，苏州户口", "好，继续回答"],
    "home_service": ["帮我妈约个上门服务"],
    "assessment": ["帮我妈申请能力评估"],
    "advisor": ["想约个养老顾问"],
    "waitlist": ["我妈85岁住在姑苏区，苏州户口", "帮我妈申请公办养老院排队"],
}
MAX_TURNS = 60


def question(messages) -> str | None:
    """Which question this reply asks: a request's field, or a fact of the advice."""
    field = booking_field_asked(messages)
    if field:
        return f"request:{field}" + (":choices" if "重新输入电话" in str(messages) or "请直接回复" in str(messages) else "")
    fact = asked_fact(messages)
    return f"fact:{fact}" if fact else None


def shows_results(messages) -> bool:
    return any(isinstance(m.get("custom"), dict) and m["custom"].get("cards") for m in messages)


@pytest.mark.parametrize("flow", sorted(STARTS))
@pytest.mark.parametrize("answer", HARD_ANSWERS)
def test_no_question_thrice_and_every_flow_ends(advisor, flow, answer):
    chat = advisor.chat()
    reply = []
    for text in STARTS[flow]:
        reply = chat.say(text)
    history, ended = [], False
    for _ in range(MAX_TURNS):
        asked = question(reply)
        history.append(asked)
        texts = Chat.texts(reply)
        if REFERENCE.search(texts) or any(w in texts for w in WAY_OUT):
            ended = True
        if asked is None:
            break
        reply = chat.say(answer)
        assert reply, "\n".join(chat.transcript)
        if shows_results(reply) and flow == "advice":
            ended = True
        if flow == "advice" and "等您想好了再说" in Chat.texts(reply):
            ended = True   # asked twice between asides, then left on offer beside the results so far
    for i in range(len(history) - 2):
        assert not (history[i] and history[i] == history[i + 1] == history[i + 2]), \
            f"{history[i]} asked three times in a row:\n" + "\n".join(chat.transcript)
    assert history[-1] is None, "still asking after %d turns:\n%s" % (MAX_TURNS, "\n".join(chat.transcript))
    if flow == "advice":
        assert ended or "最新的结果" in "\n".join(chat.transcript) or shows_results(reply), "\n".join(chat.transcript)
    else:
        assert ended, "no reference and no way out:\n" + "\n".join(chat.transcript)
    assert "Traceback" not in "\n".join(chat.transcript)
