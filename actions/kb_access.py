"""The KB for the action server: loaded once from the SQL store (refreshed from YAML)."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

from policy_kb import clock
from policy_kb.engine import evaluate
from policy_kb.kb import KnowledgeBase
from policy_kb.search import PolicySearch
from storage.kb_store import knowledge_base



@lru_cache(maxsize=1)
def kb() -> KnowledgeBase:
    return knowledge_base()


@lru_cache(maxsize=1)
def search() -> PolicySearch:
    return PolicySearch(kb())


def today() -> dt.date:
    return clock.today()  # Suzhou's date: "明天" at 06:00 Suzhou time is not the server's tomorrow


def results_for(profile: dict):
    return evaluate(kb(), profile, today())
