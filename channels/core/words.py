"""The channels' own wording (wording.yml), loaded once."""
from __future__ import annotations

from pathlib import Path

import yaml

_ALL: dict = yaml.safe_load((Path(__file__).with_name("wording.yml")).read_text(encoding="utf-8"))
WORDS: dict[str, str] = {k: v for k, v in _ALL.items() if isinstance(v, str)}


def words_for(platform: str) -> dict[str, str]:
    """The wording with a platform's own lines (a section named after it) in place."""
    return {**WORDS, **(_ALL.get(platform) or {})}
