"""Hard moments are heard: despair, a family in crisis, an elder alone and afraid, a carer at
the end of their strength.

One kind sentence and the help that fits (hardship.yml, policies named from the KB), then the
conversation goes on; the facts in the message are taken as in any other. The carer's relief is
also what the results put first (relevance.yml, topic "caregiver").
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

HARDSHIP_FILE = Path(__file__).with_name("hardship.yml")
SEVERE = ("中度失能", "重度失能", "完全失能")
_BEDRIDDEN = re.compile(r"瘫|卧床|躺在床|下不了床|吃喝拉撒")


@lru_cache(maxsize=1)
def _table() -> dict:
    return yaml.safe_load(HARDSHIP_FILE.read_text(encoding="utf-8"))


def hardship_in(text: str) -> str | None:
    """The gravest hardship the text speaks of (the file's order), or None."""
    text = text or ""
    return next((kind for kind, spec in _table().items() if any(w in text for w in spec["words"])), None)


def hardship_lines(kind: str, profile: dict, text: str, kb) -> list[str]:
    spec = _table()[kind]
    names = {pid: p.name for pid, p in kb.by_id.items()}
    lines = [spec["say"], spec["help"]]
    if kind == "crisis" and (profile.get("district") == "吴江区" or "吴江" in (text or "")):
        lines.insert(1, spec["wujiang"])
    if kind == "exhausted" and (profile.get("care_level") in SEVERE or _BEDRIDDEN.search(text or "")):
        lines.append(spec["care"])
    return [line.format(**names) for line in lines]
