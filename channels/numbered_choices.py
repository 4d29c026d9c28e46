"""Typing an option's number works like tapping its button: "2" picks the second button of the
advisor's last reply; typing its words ("好，继续回答", "确认提交") does too.

The buttons are read from the conversation itself (the tracker's last bot messages), not from
a memory of this process: any Rasa instance behind a load balancer resolves the number the
same way, and a restart forgets nothing.
"""
from __future__ import annotations

import re
from typing import Iterable

from understanding.choices import choice_number

MAX_TITLE = 16    # longer messages are never a button's words
_NUMBER = re.compile(r"^\s*\d+\.\s*")
_NOISE = re.compile(r"[\s，,。.!！、~～]+")


def _buttons(events: Iterable) -> list[dict]:
    buttons: list[dict] = []
    for event in reversed(list(events)):
        name = getattr(event, "type_name", None)
        if name == "user":
            break
        if name == "bot":
            buttons[:0] = (getattr(event, "data", None) or {}).get("buttons") or []
    return buttons


def last_buttons(events: Iterable) -> list[str]:
    """The payloads of the buttons in the bot messages after the user's last message."""
    return [b.get("payload", "") for b in _buttons(events)]


def may_name_a_button(text: str) -> bool:
    return choice_number(text) is not None or len(_NOISE.sub("", text or "")) <= MAX_TITLE


def resolve_typed(text: str, events: Iterable) -> str:
    """A typed number or a button's own words stand for its payload; anything else is unchanged.
    The number is the one printed on the button ("3. 申请公办养老院轮候"): a menu keeps its numbers
    while it stays on screen, so after "更多" is gone "3" still means the same item."""
    buttons = _buttons(events)
    number = choice_number(text)
    printed = {int(m.group(1)): b.get("payload", "") for b in buttons
               for m in [re.match(r"^\s*(\d+)\.", b.get("title", ""))] if m}
    if number is not None and printed:
        return printed.get(number, text)
    resolved = resolve(text, [b.get("payload", "") for b in buttons])
    if resolved != text:
        return resolved
    said = _NOISE.sub("", text)
    for b in buttons:
        if said and _NOISE.sub("", _NUMBER.sub("", b.get("title", ""))) == said:
            return b.get("payload", "") or text
    return text


def resolve(text: str, payloads: list[str]) -> str:
    """The payload a numbered reply stands for, else the text unchanged."""
    number = choice_number(text)
    if number is None:
        return text
    return payloads[number - 1] if 1 <= number <= len(payloads) else text
