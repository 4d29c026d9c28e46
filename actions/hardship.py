"""Hard moments are heard: a carer at the end of their strength, a family in crisis, despair.

One kind sentence and the help that fits (hardship.yml), then the conversation goes on; the
facts in the message are taken as in any other. The carer's relief is also what the results
put first (relevance.yml, topic "caregiver").
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

HARDSHIP_FILE = Path(__file__).with_name("hardship.yml")
ORDER = ("despair", "crisis", "exhausted")   # the gravest first


@lru_cache(maxsize=1)
def _table() -> dict:
    return yaml.safe_load(HARDSHIP_FILE.read_text(encoding="utf-8"))


def hardship_in(text: str) -> str | None:
    text = text or ""
    table = _table()
    return next((kind for kind in ORDER if any(w in text for w in table[kind]["words"])), None)


def hardship_lines(kind: str, profile: dict) -> list[str]:
    spec = _table()[kind]
    lines = [spec["say"], spec["help"]]
    if kind == "crisis" and profile.get("district") == "吴江区":
        lines.insert(1, spec["wujiang"])
    return lines
