"""Where to ask what this advisor does not cover (policy_kb/referrals.yml): pensions, medical
insurance, the 残疾人证, concession cards, other cities, emergencies. Never the nearest card."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

REFERRALS_FILE = Path(__file__).with_name("referrals.yml")


@dataclass(frozen=True)
class Referral:
    topic: str
    where: str
    words: tuple[str, ...]
    urgent: bool = False
    always: bool = False


@lru_cache(maxsize=1)
def load_referrals(path: Path = REFERRALS_FILE) -> tuple[Referral, ...]:
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))["referrals"]
    return tuple(Referral(r["topic"], r["where"], tuple(r["words"]), bool(r.get("urgent")), bool(r.get("always")))
                 for r in rows)


def find_referral(text: str) -> Referral | None:
    """The first row (urgent first) whose words the text says; None when none applies."""
    rows = sorted(load_referrals(), key=lambda r: not r.urgent)
    return next((r for r in rows if any(w in (text or "") for w in r.words)), None)
