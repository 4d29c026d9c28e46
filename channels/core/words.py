"""The channels' own wording (wording.yml), loaded once."""
from __future__ import annotations

from pathlib import Path

import yaml

WORDS: dict[str, str] = yaml.safe_load((Path(__file__).with_name("wording.yml")).read_text(encoding="utf-8"))
