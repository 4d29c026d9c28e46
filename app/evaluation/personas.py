"""Whole conversations with simulated users (data/eval/personas.yml), over the REST channel.

Each persona opens, then answers whatever the advisor asks from its own answers (typing a
button's number for a `pick`), sends its off-script moves when their turn comes, accepts the
offer to answer more questions unless it is impatient, and stops when nothing is asked.
Measured per persona: whether results were reached, how many questions came before the first
results, whether each move got what it expected, and how many profile fields are right at the
end (every fact the persona said, plus any fact the advisor holds that the persona never said).
"""
from __future__ import annotations

import json
import re
import statistics
import urllib.request
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from policy_kb.facts import load_facts

FACTS = load_facts()
MAX_TURNS = 40            # user messages per conversation, a safety stop
MORE_ANSWERS = 14         # answers after the first results, for those who accept the offer
STYLES = ("elder", "relative", "dictated", "operator", "off_script", "impatient",
          # issue 16's blind classes (data/eval/blind16_conversations_*.yml)
          "places", "self_correction", "vague_age", "wu_elder", "indirect", "booking_first",
          "question_not_statement", "run_on")
REFERENCE = re.compile(r"\b(?:JY|LH|PG|GW)-\d{8}-\d{4}\b")
# A request's question -> the key of a persona's `booking.answers` that answers it.
BOOKING_KEYS = {"service_type": "service", "booking_date": "date", "time_slot": "slot", "address": "address",
                "addressed_as": "name", "elder_name": "name", "phone": "phone", "relationship": "relationship",
                "preferred_place": "place"}


@dataclass
class Outcome:
    id: str
    style: str
    reached: bool = False
    questions_before: int | None = None   # advisor questions before the first results
    opening_has_basics: bool = False      # the opening gave age and district
    fields_ok: int = 0
    fields_total: int = 0
    wrong: list = field(default_factory=list)
    expectations: list = field(default_factory=list)   # (move text, expected, met)
    turns: int = 0
    reference: str | None = None                   # a booking filed in the conversation
    wants_reference: bool = False
    transcript: list = field(default_factory=list)
    error: str | None = None
    first_order: list = field(default_factory=list)   # result ids in the order first shown
    bubbles: list = field(default_factory=list)       # characters per advisor bubble


class RestChat:
    def __init__(self, url: str):
        self.url, self.sender = url.rstrip("/"), f"persona-{uuid.uuid4().hex[:12]}"

    def say(self, text: str) -> list[dict]:
        body = json.dumps({"sender": self.sender, "message": text}).encode()
        request = urllib.request.Request(f"{self.url}/webhooks/rest/webhook", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as reply:
            return json.loads(reply.read())


def _payload(messages) -> dict | None:
    return next((m["custom"] for m in messages if isinstance(m.get("custom"), dict)
                 and m["custom"].get("type") == "recommendations"), None)


def _buttons(messages) -> list[dict]:
    return [b for m in messages for b in m.get("buttons") or []]


def _text(messages) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def asked_fact(messages) -> str | None:
    """The fact the advisor asked about in this reply: its buttons, or its question's words."""
    payload = _payload(messages)
    if payload and payload.get("asking"):
        return payload["asking"]
    for b in _buttons(messages):
        if b["payload"].startswith("/inform{"):
            fact = next(iter(json.loads(b["payload"][len("/inform"):])), None)
            if fact in FACTS:
                return fact
    last = (messages[-1].get("text") or "") if messages else ""
    return next((f for f, spec in FACTS.items() if any(q and q in last for q in spec.question.values())), None)


def _booking_questions() -> dict:
    from actions.booking_support import spec
    questions = {}
    for name, definition in spec()["fields"].items():
        for key in ("question", "question_self"):
            if definition.get(key):
                questions[definition[key].split("？")[0]] = name
    return questions


def _field_labels() -> dict:
    from actions.booking_support import spec
    return {name: d["label"] for name, d in spec()["fields"].items()}


def booking_field_asked(messages) -> str | None:
    """The request's field the advisor asked in this reply, from its question's words; the summary
    to confirm is "confirm"."""
    last = (messages[-1].get("text") or "") if messages else ""
    if "请核对" in last:
        return "confirm"
    if "重新输入电话" in json.dumps(_buttons(messages), ensure_ascii=False):
        return "phone"
    if "请直接回复下面的数字" in last:
        return next((f for f, label in _field_labels().items() if last.startswith(label)), None)
    return next((field for q, field in _booking_questions().items() if q in last), None)


def _number_for(messages, fact: str, value) -> str | None:
    wanted = "/inform" + json.dumps({fact: value}, ensure_ascii=False)
    for b in _buttons(messages):
        if b["payload"] == wanted:
            return b["title"].split(".")[0]
    return None


def _offer_number(messages) -> str | None:
    return next((b["title"].split(".")[0] for b in _buttons(messages) if b["payload"] == "/affirm"), None)


class Persona:
    def __init__(self, data: dict):
        self.data = data
        self.truth = data.get("truth") or {}
        self.times_asked: dict[str, int] = defaultdict(int)
        self.said: dict[str, object] = {}     # fact -> the value the persona communicated

    def opening(self) -> str:
        self._told(self.data["opening"].get("facts") or {})
        return self.data["opening"]["text"]

    def _told(self, facts: dict) -> None:
        self.said.update(facts)

    def answer(self, fact: str, messages) -> str:
        answers = self.data.get("answers") or {}
        entry = answers.get(fact)
        if isinstance(entry, list):
            entry = entry[min(self.times_asked[fact], len(entry) - 1)]
        self.times_asked[fact] += 1
        if entry is None:
            return self.data.get("unknown_answer") or "不知道"
        if isinstance(entry, dict) and "pick" in entry:
            self._told({fact: entry["pick"]})
            return _number_for(messages, fact, entry["pick"]) or str(entry["pick"])
        if isinstance(entry, dict):
            self._told(entry.get("facts") or {})
            return entry["text"]
        if fact in self.truth:
            self._told({fact: self.truth[fact]})
        return str(entry)

    def booking_answer(self, field: str, messages) -> str:
        booking = self.data.get("booking") or {}
        if field == "confirm":
            return next((b["title"].split(".")[0] for b in _buttons(messages) if "确认" in b["title"]), "确认")
        answer = (booking.get("answers") or {}).get(BOOKING_KEYS.get(field, field))
        if isinstance(answer, dict):   # a transcript the TTS could not speak: {text, tts_failed}
            answer = answer.get("text")
        return str(answer or "不知道")

    def move_after(self, n: int) -> dict | None:
        return next((m for m in self.data.get("moves") or [] if m.get("after") == n), None)


def converse(data: dict, url: str) -> Outcome:
    persona = Persona(data)
    out = Outcome(data["id"], data["style"])
    out.wants_reference = bool((data.get("expect_end") or {}).get("reference"))
    booking_turns = 0
    opening_facts = data["opening"].get("facts") or {}
    out.opening_has_basics = "age" in opening_facts and "district" in opening_facts
    chat = RestChat(url)
    questions, answers_after, profile = 0, 0, {}
    try:
        text = persona.opening()
        for n in range(1, MAX_TURNS + 1):
            messages = chat.say(text)
            out.turns = n
            out.transcript.append(f"用户：{text}")
            out.transcript += [f"顾问：{m['text']}" for m in messages if m.get("text")]
            out.bubbles += [len(m["text"]) for m in messages if m.get("text")]
            payload = _payload(messages)
            if payload:
                profile = payload["profile"]
            found = REFERENCE.search(_text(messages))
            if found:
                out.reference = found.group()
            shows_results = bool(payload and payload.get("cards"))
            if shows_results and not out.reached:
                out.reached, out.questions_before = True, questions
                out.first_order = list(payload.get("order") or [])
                if data.get("stop_after_results"):
                    break
            if out.expectations and out.expectations[-1][2] is None:
                move, expected = out.expectations[-1][:2]
                out.expectations[-1] = (move, expected, _met(expected, messages, payload, profile))
            move = persona.move_after(n)
            field = booking_field_asked(messages) if data.get("booking") and not out.reference else None
            if field and not move and booking_turns < 16:
                booking_turns += 1
                text = persona.booking_answer(field, messages)
                continue
            fact = asked_fact(messages)
            if move:
                persona._told(move.get("facts") or {})
                text = move["text"]
                if move.get("expect"):
                    out.expectations.append((text, move["expect"], None))  # judged on the next reply
                if fact and not out.reached:
                    questions += 1
                continue
            if fact:
                if not out.reached:
                    questions += 1
                elif answers_after >= MORE_ANSWERS:
                    break
                else:
                    answers_after += 1
                text = persona.answer(fact, messages)
                continue
            offer = _offer_number(messages)
            if out.reached and offer and "要继续吗" in _text(messages) and answers_after < MORE_ANSWERS \
                    and not data.get("stop_after_results"):
                text = "好的"
                continue
            break
    except Exception as exc:  # a failed request is a finding, not a crash of the evaluation
        out.error = f"{type(exc).__name__}: {exc}"
    _score_profile(out, persona, profile)
    return out


def _met(expected: dict, messages, payload, profile) -> bool:
    if "policy" in expected:
        name = _policy_names().get(expected["policy"], expected["policy"])
        return name in _text(messages)
    if "results" in expected:
        return bool(payload and payload.get("cards"))
    if "fact" in expected:
        return expected["fact"] in profile
    return True


_NAMES: dict = {}


def _policy_names() -> dict:
    if not _NAMES:
        from policy_kb.kb import KnowledgeBase
        _NAMES.update({p.id: p.name for p in KnowledgeBase.from_directory().policies})
    return _NAMES


def _score_profile(out: Outcome, persona: Persona, profile: dict) -> None:
    truth = persona.truth
    said = dict(persona.said)
    for fact in said:
        expected = truth.get(fact, said[fact])
        out.fields_total += 1
        if profile.get(fact) == expected:
            out.fields_ok += 1
        else:
            out.wrong.append(f"{fact}: 应为 {expected}，得到 {profile.get(fact)}")
    for fact, value in profile.items():
        if fact not in said:  # the advisor holds a fact the persona never said
            out.fields_total += 1
            if truth.get(fact) == value:
                out.fields_ok += 1
            else:
                out.wrong.append(f"{fact}: 没说过，得到 {value}")


def load(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["personas"]


def run(personas: list[dict], url: str, workers: int = 4) -> list[Outcome]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda p: converse(p, url), personas))


def summary(outcomes: list[Outcome]) -> dict:
    def stats(group):
        if not group:
            return None
        reached = [o for o in group if o.reached]
        qs = [o.questions_before for o in reached]
        basics = [o.questions_before for o in reached if o.opening_has_basics]
        ok, total = sum(o.fields_ok for o in group), sum(o.fields_total for o in group)
        moves = [e for o in group for e in o.expectations]
        wanted = [o for o in group if o.wants_reference]
        return {"n": len(group), "reached": len(reached), "median_q": statistics.median(qs) if qs else None,
                "references": sum(1 for o in wanted if o.reference), "wanted_references": len(wanted),
                "max_q": max(qs) if qs else None,
                "median_q_basics": statistics.median(basics) if basics else None,
                "max_q_basics": max(basics) if basics else None, "n_basics": len(basics),
                "fields": ok / total if total else None, "fields_ok": ok, "fields_total": total,
                "moves_met": sum(1 for e in moves if e[2]), "moves": len(moves),
                "errors": sum(1 for o in group if o.error)}
    by_style = {s: stats([o for o in outcomes if o.style == s]) for s in STYLES}
    return {"styles": {k: v for k, v in by_style.items() if v}, "all": stats(outcomes)}


def problems(o: Outcome) -> list[str]:
    """What went wrong in one conversation, in the report's words."""
    missed = [f"move 「{m}」 not answered as expected" for m, _, ok in o.expectations if not ok]
    return o.wrong + missed + ([f"no results after {o.turns} turns"] if not o.reached else []) \
        + (["no booking reference"] if o.wants_reference and not o.reference else []) + ([o.error] if o.error else [])
