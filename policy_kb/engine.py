"""The eligibility engine: evaluate a (partial) profile against every policy of the KB."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .clock import date_words
from .facts import validate_profile
from .kb import KnowledgeBase
from .rules import FALSE, POSSIBLE, TRUE, UNKNOWN
from .schema import Policy

STATUS = {TRUE: "eligible", POSSIBLE: "possible", UNKNOWN: "unknown", FALSE: "not_eligible"}
STATUS_ORDER = {"eligible": 0, "possible": 1, "unknown": 2, "not_eligible": 3}


@dataclass(slots=True)
class Result:
    id: str
    name: str
    status: str
    reasons: list[str]
    missing: list[str]
    benefit: str
    apply: dict
    summary: str
    verified: bool
    priority_tier: int | None = None
    next_step: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {"id": self.id, "name": self.name, "status": self.status,
               "reasons": self.reasons, "missing": self.missing}
        if self.priority_tier is not None:
            out["priority_tier"] = self.priority_tier
        out.update(benefit=self.benefit, apply=self.apply, summary=self.summary,
                   verified=self.verified)
        if self.next_step and self.status == "possible":
            out["next_step"] = self.next_step
        return out


def _window(policy: Policy, as_of: dt.date):
    if policy.valid_from and as_of < policy.valid_from:
        return f"这项政策{date_words(policy.valid_from)}才开始，现在还没开始"
    if policy.valid_to and as_of > policy.valid_to:
        return f"这项政策已于{date_words(policy.valid_to)}结束"
    return None


def evaluate_policy(policy: Policy, profile: Mapping, as_of: dt.date) -> Result:
    closed = _window(policy, as_of) if policy.dated else None
    if closed:
        truth, reasons, missing = FALSE, [closed], []
    else:  # the district scope is compiled into the rule (schema.compile_policy)
        truth, reasons, missing = policy.eligibility(profile)
        reasons = list(reasons)
        missing = sorted(missing) if missing else []
    tier = None
    if policy.priority_tiers and truth != FALSE:
        tier, tier_missing = _priority_tier(policy, profile)
        if tier_missing:
            missing = sorted(set(missing).union(tier_missing))
    benefit = policy.benefit_text
    for condition, text in policy.benefit_variants:
        if condition(profile)[0] == TRUE:
            benefit = text
            break
    return Result(policy.id, policy.name, STATUS[truth], reasons, missing, benefit, policy.apply,
                  policy.summary, policy.verified, tier, policy.next_step)


def _priority_tier(policy: Policy, profile: Mapping):
    """First tier whose condition holds; facts of undecided higher tiers could still raise it."""
    undecided: list[str] = []
    for tier, condition in policy.priority_tiers:
        truth, _, missing = condition(profile)
        if truth == TRUE:
            return tier, undecided
        if truth != FALSE:
            undecided.extend(missing)
    return None, undecided


def evaluate(kb: KnowledgeBase, profile: Mapping, as_of: dt.date | None = None,
             validate: bool = True) -> list[Result]:
    """Results for every policy, best status first (then the KB's rank)."""
    if validate:
        profile = validate_profile(profile, kb.facts)
    profile, _ = kb.derive(profile)  # derived facts (derived.yml) first: one truth for every caller
    as_of = as_of or dt.date.today()
    results = [evaluate_policy(p, profile, as_of) for p in kb.policies]
    results.sort(key=lambda r: STATUS_ORDER[r.status])  # stable: keeps rank order within a status
    return results


def next_fact(kb: KnowledgeBase, results: Iterable[Result], exclude: Iterable[str] = ()) -> str | None:
    """The single missing fact that would decide the most results.

    Unknown results count first; only when none is left do facts that would turn a
    'possible' into 'eligible' (or settle a priority tier) count. Ties go to facts.yml's ask_order.
    """
    exclude = set(exclude)
    results = list(results)
    for statuses in (("unknown",), ("possible", "eligible")):
        votes = Counter(f for r in results if r.status in statuses
                        for f in r.missing if f not in exclude)
        if votes:
            return min(votes, key=lambda f: (-votes[f], kb.facts[f].ask_order))
    return None


def what_if(kb: KnowledgeBase, profile: Mapping, changes: Mapping, as_of: dt.date | None = None
            ) -> list[dict[str, Any]]:
    """Only the results that the changed facts would change (status, tier or benefit)."""
    before = {r.id: r for r in evaluate(kb, profile, as_of)}
    after = evaluate(kb, {**profile, **changes}, as_of)
    changed = []
    for new in after:
        old = before[new.id]
        if (old.status, old.priority_tier, old.benefit) != (new.status, new.priority_tier, new.benefit):
            changed.append({
                "id": new.id, "name": new.name,
                "before": {"status": old.status, "priority_tier": old.priority_tier, "benefit": old.benefit},
                "after": {"status": new.status, "priority_tier": new.priority_tier, "benefit": new.benefit},
                "reasons": new.reasons, "missing": new.missing,
            })
    return changed


REASON_CHARS = 40   # a result is one line: the one reason that decided it, cut at a clause


def deciding_reason(result: dict) -> str:
    """What decided the result: for "可能可以" the open condition (said last), else the first."""
    reasons = result.get("reasons") or []
    if result["status"] == "possible":
        reason = reasons[-1] if reasons else (result.get("next_step") or "")
    else:
        reason = reasons[0] if reasons else ""
    if len(reason) > REASON_CHARS:
        cut = max(reason.rfind(p, 0, REASON_CHARS) for p in "，；：")
        reason = reason[:cut] if cut > 10 else reason[:REASON_CHARS] + "…"
    return reason
