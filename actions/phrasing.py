"""Chinese wording for questions and results: short lines, numbered choices."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import yaml

from .profile import FACTS

WORDING_FILE = Path(__file__).with_name("wording.yml")


@lru_cache(maxsize=1)
def wording() -> dict:
    return yaml.safe_load(WORDING_FILE.read_text(encoding="utf-8"))


def who(subject) -> str:
    return wording()["who"].get(subject if subject in ("self", "relative") else "unknown")


def question(fact: str, subject) -> str:
    phrasing = FACTS[fact].question
    return phrasing.get("self" if subject == "self" else "relative", "")


def payload(intent: str, entities: dict | None = None) -> str:
    return f"/{intent}" + (json.dumps(entities, ensure_ascii=False) if entities else "")


def numbered(titles_payloads: list[tuple[str, str]]) -> list[dict]:
    """Buttons whose titles carry their number, so typing "2" works on any channel."""
    return [{"title": f"{i}. {title}", "payload": p} for i, (title, p) in enumerate(titles_payloads, 1)]


def fact_buttons(fact: str) -> list[dict]:
    return numbered([(label, payload("inform", {fact: value})) for value, label in FACTS[fact].options])


def describe_value(fact: str, value) -> str:
    spec = FACTS[fact]
    if spec.type == "bool":
        return spec.text_true if value else spec.text_false
    if spec.type == "int":
        return f"{spec.label}{value}{spec.unit}"
    if fact == "disability_grade":
        return "没有残疾人证" if value == "none" else f"残疾人证{value}级"
    return f"{spec.label}：{value}"


def card(index: int, result: dict) -> str:
    w = wording()
    reason = "；".join(result["reasons"][-3:]) or result["summary"]  # the deciding reasons come last
    text = w["card"].format(index=index, name=result["name"], status=w["status"][result["status"]],
                            reason=reason, where=result["apply"]["where"],
                            unverified="" if result["verified"] else w["card_unverified"])
    if result["status"] == "possible" and result.get("next_step"):
        text += w["card_next_step"].format(next_step=result["next_step"])
    return text
