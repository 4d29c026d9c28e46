"""Numbered choices: a reply of "2", "２", "二" or "第二个" names the second button offered.

Every channel shows buttons with their numbers, so an elder can type the number instead of
tapping (or say it over the phone); each channel remembers its own last buttons.
"""
from __future__ import annotations

import re

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
