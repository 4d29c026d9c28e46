"""What the rules read: the facts each policy depends on, and the ages at which a condition
starts to hold (60, 65, 80 …) — read from the policy files, never listed in code. The notifier
(政策找人) uses them to re-evaluate only the elders a change can affect."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import yaml

from .kb import KnowledgeBase
from .schema import Policy

DERIVED_FILE = Path(__file__).with_name("derived.yml")


def _leaves(node: Any) -> Iterator[dict]:
    """Every {fact, op, value} condition anywhere in a policy file (eligibility, priority tiers,
    benefit variants)."""
    if isinstance(node, dict):
        if "fact" in node and "op" in node:
            yield node
        for value in node.values():
            yield from _leaves(value)
    elif isinstance(node, list):
        for item in node:
            yield from _leaves(item)


@lru_cache(maxsize=1)
def _derived_from() -> dict[str, frozenset[str]]:
    """A derived fact → the facts its derivations read (dementia moves care_level)."""
    out: dict[str, set[str]] = {}
    for d in yaml.safe_load(DERIVED_FILE.read_text(encoding="utf-8")) or []:
        out.setdefault(d["set"]["fact"], set()).update(
            leaf["fact"] for leaf in _leaves([d.get("when"), d.get("unless")]))
    return {fact: frozenset(inputs) for fact, inputs in out.items()}


def facts_read(policy: Policy) -> frozenset[str]:
    """The facts a policy's result can depend on, those behind its derived facts included."""
    read = {leaf["fact"] for leaf in _leaves(policy.raw)}
    if policy.districts:
        read.add("district")
    for fact in list(read):
        read |= _derived_from().get(fact, frozenset())
    return frozenset(read)


def age_thresholds(kb: KnowledgeBase) -> dict[int, list[str]]:
    """Age → the policies with a condition that starts to hold at that age (>= 80, > 79, == 100)."""
    out: dict[int, set[str]] = {}
    for policy in kb.policies:
        for leaf in _leaves(policy.raw):
            if leaf["fact"] != "age" or not isinstance(leaf.get("value"), int):
                continue
            start = {">=": leaf["value"], ">": leaf["value"] + 1, "==": leaf["value"]}.get(leaf["op"])
            if start is not None:
                out.setdefault(start, set()).add(policy.id)
    return {age: sorted(ids) for age, ids in sorted(out.items())}


def age_on(birth_year: int, birth_month: int, day: dt.date) -> int:
    """Age on a day, from the year and month of birth alone: the birthday counts as the first of
    its month (a notice is a few days early rather than late)."""
    return day.year - birth_year - (1 if day.month < birth_month else 0)


def month_shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1
