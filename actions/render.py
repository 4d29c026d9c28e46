"""The advisor's words: questions, result cards, changes, policy answers (wording.yml)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import yaml

from policy_kb.engine import deciding_reason  # noqa: F401  (one line per result, shared with the console)

from .profile import FACTS

WORDING_FILE = Path(__file__).with_name("wording.yml")
PAGE = 3            # result cards per message page
MAX_CHANGES = 3     # change lines said after an answer; the rest are counted


@lru_cache(maxsize=1)
def wording() -> dict:
    return yaml.safe_load(WORDING_FILE.read_text(encoding="utf-8"))


def who(subject) -> str:
    return wording()["who"].get(subject if subject in ("self", "relative") else "unknown")


def status_word(status: str) -> str:
    return wording()["status"][status]


def payload(intent: str, entities: dict | None = None) -> str:
    return f"/{intent}" + (json.dumps(entities, ensure_ascii=False) if entities else "")


def numbered(titles_payloads, keep: dict | None = None) -> list[dict]:
    """Buttons whose titles carry their number, so typing "2" works on any channel. With `keep`
    (payload -> number of the menu shown before), an item keeps its number and a new one takes
    the next free number: nothing shifts under a user who types what they saw."""
    if not keep:
        return [{"title": f"{i}. {title}", "payload": p} for i, (title, p) in enumerate(titles_payloads, 1)]
    taken = {keep[p] for _, p in titles_payloads if p in keep}
    numbers, free = [], 1
    for _, p in titles_payloads:
        if p in keep:
            numbers.append(keep[p])
            continue
        while free in taken:
            free += 1
        numbers.append(free)
        taken.add(free)
    buttons = [{"title": f"{n}. {title}", "payload": p} for n, (title, p) in zip(numbers, titles_payloads)]
    return sorted(buttons, key=lambda b: int(b["title"].split(".")[0]))


def menu_numbers(buttons: list[dict]) -> dict:
    return {b["payload"]: int(b["title"].split(".")[0]) for b in buttons}


def question(fact: str, subject) -> str:
    """Worded for the elder (您) when they are talking, otherwise neutrally (老人家)."""
    return FACTS[fact].question.get("self" if subject == "self" else "relative", "")


def fact_options(fact: str) -> list[tuple[str, str]]:
    return [(label, payload("inform", {fact: value})) for value, label in FACTS[fact].options]


def describe_value(fact: str, value) -> str:
    spec = FACTS[fact]
    if spec.type == "bool":
        return spec.text_true if value else spec.text_false
    if spec.type == "int":
        return f"{spec.label}{value}{spec.unit}"
    if fact == "disability_grade":
        return "没有残疾人证" if value == "none" else f"残疾人证{value}级"
    return f"{spec.label}：{value}"


def recommended(results) -> list[dict]:
    return [r.to_dict() for r in results if r.status in ("eligible", "possible")]


def card(index: int, result: dict) -> str:
    """One line per result: name, status, the one reason; how to apply is asked for by name."""
    w = wording()
    if result["status"] == "unknown":   # what is still missing, in plain words
        missing = "、".join(FACTS[f].label for f in result.get("missing") or [] if f in FACTS)
        return w["card_unknown"].format(name=result["name"], missing=missing)
    reason = deciding_reason(result)
    if not result["verified"]:
        reason = reason.replace(w["card_unverified"], "")   # said once, after the status
    return w["card"].format(name=result["name"], status=status_word(result["status"]),
                            unverified="" if result["verified"] else w["card_unverified"],
                            reason=w["card_reason"].format(reason=reason) if reason else "")


def next_step_buttons(items: list[dict]) -> list[tuple[str, str]]:
    """The requests that fit these results: an assessment when one would settle a "possible",
    the waiting list when it is open to them, and always home services and an advisor."""
    b = wording()["buttons"]
    steps = []
    if any(i["status"] == "possible" and "评估" in (i.get("next_step") or "") for i in items):
        steps.append((b["assessment"], payload("request_assessment")))
    if any(i["id"] == "public_care_home_waitlist" for i in items):
        steps.append((b["waitlist"], payload("apply_waitlist")))
    return steps + [(b["home_service"], payload("book_service")), (b["advisor"], payload("book_advisor"))]


def offer_text(open_results: int, open_facts) -> str:
    """The questions that would decide the rest, named in plain words (身体情况、家庭经济状况)."""
    w = wording()
    facts = sorted(open_facts, key=lambda f: FACTS[f].ask_order)
    what = "、".join(FACTS[f].label for f in facts[:3]) + (w["offer_what_more"] if len(facts) > 3 else "")
    return w["offer"].format(n=open_results, what=what)


def change_lines(before: dict, results) -> list[str]:
    """What a new answer changed among the results a user can act on (eligible, possible)."""
    w = wording()
    good = ("eligible", "possible")
    lines = []
    for r in results:
        old = before.get(r.id)
        if old == r.status or (old not in good and r.status not in good):
            continue
        if old not in good:
            lines.append(w["change_added"].format(name=r.name, status=status_word(r.status)))
        elif r.status not in good:
            reason = r.reasons[-1] if r.reasons else ""
            lines.append(w["change_removed"].format(name=r.name, status=status_word(r.status), reason=reason))
        else:
            lines.append(w["change_status"].format(name=r.name, status=status_word(r.status)))
    if len(lines) > MAX_CHANGES:
        lines = lines[:MAX_CHANGES] + [w["changes_more"].format(n=len(lines) - MAX_CHANGES)]
    return lines
