"""Numbered choices: a reply of "2", "２", "二" or "第二个" picks the second button offered.

Every channel shows buttons with their numbers; remembering the last buttons per sender
lets an elder type the number instead of tapping (or say it over the phone).
"""
from __future__ import annotations

import re
from collections import OrderedDict
from threading import Lock

CHINESE_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_CHOICE = re.compile(r"^\s*(?:第|选)?\s*([0-9０-９]{1,2}|[一二两三四五六七八九十])\s*(?:个|项|号|条)?\s*[。.!！]?\s*$")


def choice_number(text: str) -> int | None:
    """The option number a short reply names, or None."""
    match = _CHOICE.match(text or "")
    if not match:
        return None
    token = match.group(1)
    if token in CHINESE_DIGITS:
        return CHINESE_DIGITS[token]
    return int(token.translate(str.maketrans("０１２３４５６７８９", "0123456789")))


class ChoiceMemory:
    """The payloads of the last buttons sent to each sender (bounded, thread-safe)."""

    def __init__(self, max_senders: int = 10_000):
        self._last: OrderedDict[str, list[str]] = OrderedDict()
        self._lock = Lock()
        self._max = max_senders

    def remember(self, sender: str, payloads: list[str]) -> None:
        with self._lock:
            self._last[sender] = payloads
            self._last.move_to_end(sender)
            while len(self._last) > self._max:
                self._last.popitem(last=False)

    def resolve(self, sender: str, text: str) -> str:
        """The payload a numbered reply stands for, else the text unchanged."""
        number = choice_number(text)
        if number is None:
            return text
        with self._lock:
            payloads = self._last.get(sender) or []
        return payloads[number - 1] if 1 <= number <= len(payloads) else text
