"""What the operator reads out, from what the advisor replied (no dialogue logic here: the
advisor decides and words it; this only lays its reply out for speaking on the phone).

- The advisor sends the spoken form of its reply beside the chat text (actions/spoken.py): no
  "回复…", no bullets, numbers as they are read. Result cards and their paging are left out of
  it here: the page lists every result beside the script. A sensitive question comes with a
  note for the operator (why it is asked, that the caller may decline).
- Without a spoken form (a service's outage apology, a restart), the chat text is read, with the
  profile question said to the caller: to the elder themself "老人家，请问您今年多大岁数？", to a
  relative "请问老人家今年多大岁数？".
- Answers are numbered by their place on the page: a number sent from the box, or keys 1–9
  outside it, choose them.
"""
from __future__ import annotations

import json
import re

from policy_kb.facts import load_facts

FACTS = load_facts()
INSTRUCTION = "请记录：来电人的回答（可以用简写，如「83 昆山 本地 独居 半失能」），或点选下面的选项、输入选项的数字。"
RESULTS_INSTRUCTION = ("请把「可以办的」逐项读给来电人听：名字和状态；来电人想细问，点开这一项读「为什么、怎么办、要带什么」。"
                       "标「待核实」的金额和条件，请说明以当地民政部门的答复为准。")
RESULT_STATUSES = ("eligible", "possible")
CONFIRM_INSTRUCTION = ("请逐项读给来电人核对。电话号码点「显示完整号码」读出来核对；姓名只显示一部分，"
                       "请来电人再说一遍全名核对。都对了选「确认提交」，有错选「修改一项」。")
CHAT_ONLY_PAYLOADS = ("/more",)          # paging through cards: the page shows them all
NUMBER = re.compile(r"^\s*\d+\.\s*")


SCREEN_ONLY_LINES = ("card", "screen.page", "screen.more")   # the page shows every result


def custom(messages: list[dict], kind: str) -> dict | None:
    return next((m["custom"] for m in messages if isinstance(m.get("custom"), dict)
                 and m["custom"].get("type") == kind), None)


def recommendations(messages: list[dict]) -> dict | None:
    return custom(messages, "recommendations")


def question_in(text: str) -> tuple[str, str] | None:
    """(fact, the advisor's wording) of the profile question this text asks, if any."""
    for name, fact in FACTS.items():
        for wording in fact.question.values():
            if wording and wording in text:
                return name, wording
    return None


def spoken(fact: str, subject: str | None) -> str:
    """The question as said on the phone, to the elder unless the caller is a relative."""
    question = FACTS[fact].question
    if subject == "relative" and question.get("relative"):
        return question["relative"]
    return "老人家，" + question.get("self", "")


def asked_fact(messages: list[dict], payload: dict | None) -> str | None:
    if payload and payload.get("asking") in FACTS:
        return payload["asking"]
    for m in messages:
        found = question_in(m.get("text") or "")
        if found:
            return found[0]
        for b in m.get("buttons") or []:
            if b.get("payload", "").startswith("/inform{"):
                fact = next(iter(json.loads(b["payload"][len("/inform"):])), None)
                if fact in FACTS:
                    return fact
    return None


def _without(text: str, parts: list[str]) -> str:
    for part in parts:
        text = text.replace(part, "")
    return "\n".join(line for line in text.split("\n") if line.strip())


def answers_of(message: dict) -> list[dict]:
    return [{"title": NUMBER.sub("", b.get("title", "")), "payload": b.get("payload", "")}
            for b in message.get("buttons") or [] if b.get("payload") not in CHAT_ONLY_PAYLOADS]


def script(messages: list[dict], subject: str | None = None) -> dict:
    """What to read out, its answers, the instruction and (for a sensitive question) a note."""
    said = custom(messages, "spoken")
    if said is None:
        return chat_script(messages, subject)
    payload = recommendations(messages)
    lines = [line for line in said.get("lines") or [] if line.get("key") not in SCREEN_ONLY_LINES]
    chat = [m for m in messages if m.get("text") or m.get("buttons")]
    question = next((line["key"].split(".", 1)[1] for line in reversed(lines)
                     if (line.get("key") or "").startswith("question.")), None)
    return {"read_out": "\n".join(line["text"] for line in lines),
            "fact": question or asked_fact(chat[-1:], payload),
            "answers": answers_of(chat[-1]) if chat else [],
            "also_said": [],
            "instruction": RESULTS_INSTRUCTION if payload and payload.get("cards") else
                           CONFIRM_INSTRUCTION if any((line.get("key") or "").startswith("messages.summary") for line in lines)
                           else INSTRUCTION,
            "note": said.get("note") or ""}


def chat_script(messages: list[dict], subject: str | None = None) -> dict:
    """The same from the chat text alone (a reply that carries no spoken form)."""
    payload = recommendations(messages)
    chat = [m for m in messages if m.get("text") or m.get("buttons")]
    instruction = INSTRUCTION
    if payload and payload.get("cards"):
        # header, cards, footer: the cards are on the page already
        cards = payload["cards"]
        footer = chat[-1] if chat else {}
        chat = chat[:-1 - cards] + [footer] if len(chat) > cards else chat
        instruction = RESULTS_INSTRUCTION
    leave_out = list((payload or {}).get("lines", {}).values())
    chat = [dict(m, text=_without(m.get("text") or "", leave_out)) for m in chat]
    last = chat[-1] if chat else {"text": ""}
    text = last.get("text", "")
    found = question_in(text)
    before = []
    if found:
        fact, wording = found
        head = text[:text.index(wording)].strip()
        before = [head] if head else []
        read_out = spoken(fact, subject)
    else:
        fact, read_out = asked_fact([last], payload), text
    if payload and payload.get("cards") and not found and len(chat) > 1:
        read_out = chat[-2]["text"] + ("\n" + text if text else "")   # 结果 header + the offer
        chat = chat[:-1]
    also = [m["text"] for m in chat[:-1] if m.get("text")] + before
    return {"read_out": read_out, "fact": fact, "answers": answers_of(last), "also_said": also,
            "instruction": instruction, "note": ""}


def results_to_read(payload: dict | None) -> list[dict]:
    if not payload:
        return []
    return [r for r in payload.get("results", []) if r.get("status") in RESULT_STATUSES]
