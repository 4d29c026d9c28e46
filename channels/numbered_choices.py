"""The REST channel's memory of the last buttons sent to each sender, so "2" picks the second."""
from __future__ import annotations

from collections import OrderedDict
from threading import Lock

from understanding.choices import choice_number


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
