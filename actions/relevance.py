"""The order that helps: the results that matter most for what the family said come first.

A daughter whose father had a stroke needs 长护险 and 上门服务 before the free health check; a
carer who is worn out needs 喘息服务 first; a family asking about money, the allowances. The
topics, their words and their policies are data (relevance.yml); the rest keep the KB's order,
what can be had now before what may be had.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

RELEVANCE_FILE = Path(__file__).with_name("relevance.yml")
STATUS_ORDER = {"eligible": 0, "possible": 1}


@dataclass(frozen=True)
class Topic:
    name: str
    why: str
    words: tuple
    facts: dict
    policies: tuple
    undecided_first: bool = False
    why_some: str = ""      # when only the first {n} cards of the page are the topic's


@lru_cache(maxsize=1)
def topics() -> tuple[Topic, ...]:
    data = yaml.safe_load(RELEVANCE_FILE.read_text(encoding="utf-8"))["topics"]
    return tuple(Topic(name, spec["why"], tuple(spec.get("words") or ()), dict(spec.get("facts") or {}),
                       tuple(spec["policies"]), bool(spec.get("undecided_first")), spec.get("why_some") or "")
                 for name, spec in data.items())


def topic_in_words(text: str) -> str | None:
    """The first topic whose words the text uses ("吃不消了" -> caregiver), else None."""
    text = text or ""
    return next((t.name for t in topics() if any(w in text for w in t.words)), None)


def topic_of(text: str, focus: str | None, profile: dict) -> Topic | None:
    """This message's words first, then what the family said before (focus), then the facts."""
    by_name = {t.name: t for t in topics()}
    said = topic_in_words(text) or focus
    if said in by_name:
        return by_name[said]
    for t in topics():
        if any(profile.get(fact) in values for fact, values in t.facts.items()):
            return t
    return None


def ordered(items: list[dict], topic: Topic | None) -> list[dict]:
    """The topic's policies first in its order, then what can be had now, then the KB order."""
    first = {pid: i for i, pid in enumerate(topic.policies)} if topic else {}
    indexed = list(enumerate(items))
    indexed.sort(key=lambda x: (first.get(x[1]["id"], len(first)), STATUS_ORDER.get(x[1]["status"], 2), x[0]))
    return [item for _, item in indexed]


def leads(items: list[dict], topic: Topic | None) -> bool:
    """Whether the topic changes what comes first (its why is said only then)."""
    return bool(topic and items and items[0]["id"] in topic.policies)


def topic_line(items: list[dict], topic: Topic | None, page: int) -> str | None:
    """The line above the first page when the topic leads: its `why` when every card of the page is
    the topic's, else `why_some` with how many are ("能领钱或补贴的有2项，排在最前面："), so a
    care-home waiting list is never introduced as money."""
    if not leads(items, topic):
        return None
    n = next((i for i, item in enumerate(items) if item["id"] not in topic.policies), len(items))
    if n >= min(page, len(items)) or not topic.why_some:
        return topic.why
    return topic.why_some.format(n=n)


def money_policies() -> tuple[str, ...]:
    """The results a "how much money" question lists: the `money` topic's policies, each one paying
    cash or a subsidy (relevance.yml)."""
    return next((t.policies for t in topics() if t.name == "money"), ())
