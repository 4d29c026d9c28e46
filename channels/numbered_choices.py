"""Typing an option's number works like tapping its button: "2" picks the second button of the
advisor's last reply.

The buttons are read from the conversation itself (the tracker's last bot messages), not from
a memory of this process: any Rasa instance behind a load balancer resolves the number the
same way, and a restart forgets nothing.
"""
from __future__ import annotations

from typing import Iterable

from understanding.choices import choice_number


def last_buttons(events: Iterable) -> list[str]:
    """The payloads of the buttons in the bot messages after the user's last message."""
    payloads: list[str] = []
    for event in reversed(list(events)):
        name = getattr(event, "type_name", None)
        if name == "user":
            break
        if name == "bot":
            buttons = (getattr(event, "data", None) or {}).get("buttons") or []
            payloads[:0] = [b.get("payload", "") for b in buttons]
    return payloads


def resolve(text: str, payloads: list[str]) -> str:
    """The payload a numbered reply stands for, else the text unchanged."""
    number = choice_number(text)
    if number is None:
        return text
    return payloads[number - 1] if 1 <= number <= len(payloads) else text
