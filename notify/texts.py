"""What a notice says (wording.yml): one or two plain sentences and one next-step button."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import yaml

from policy_kb.clock import date_words
from policy_kb.schema import Policy
from storage.followups import REASON_LABELS

WORDING_FILE = Path(__file__).with_name("wording.yml")
REASONS = tuple(REASON_LABELS)


@lru_cache(maxsize=1)
def wording() -> dict:
    return yaml.safe_load(WORDING_FILE.read_text(encoding="utf-8"))


def reason_label(reason: str) -> str:
    return REASON_LABELS.get(reason, reason)


def who(person: str, facts: dict) -> str:
    """How the family is spoken to about the elder, as the advisor does (actions: _whom)."""
    w = wording()["who"]
    if facts.get("subject") == "self" or person == "本人":
        return w["self"]
    return w["named"].format(person=person) if person and person != "老伴" else w["other"]


def payload(intent: str, entities: dict | None = None) -> str:
    """The advisor's button payload, as actions/render.py writes it: /intent{json}."""
    return f"/{intent}" + (json.dumps(entities, ensure_ascii=False) if entities else "")


def _button(key: str, **fields) -> tuple[str, str]:
    spec = wording()["buttons"][key]
    entities = None
    if spec["intent"] == "ask_policy":
        entities = {"policy": fields["policy"], "aspect": "ask_how"}
    elif spec["intent"] == "check_status":
        # the reference in the payload's text: the advisor's status check reads it from there
        # (actions/requests.py Lookup), so a tap works even after the conversation was purged
        entities = {"reference": fields["reference"]}
    return spec["title"].format(**fields), payload(spec["intent"], entities)


def policy_button(policy: Policy, status: str) -> tuple[str, str]:
    """The next step for a policy: start its request, an assessment when that decides it, or ask
    the advisor how to apply."""
    request = wording()["requests"].get(policy.id)
    if request:
        return request["title"], payload(request["intent"])
    if status == "possible" and "评估" in (policy.next_step or ""):
        return _button("assessment")
    return _button("how", name=policy.name, policy=policy.id)


def _with_caveat(text: str, policy: Policy) -> str:
    # 待核实 stays marked: the second sentence says who has the final word
    return text if policy.verified else text + wording()["caveat"]


def policy_notice(reason: str, policy: Policy, status: str, *, person: str, facts: dict, age: int | None = None,
                  year: int | None = None, month: int | None = None, month_known: bool = True,
                  date=None) -> tuple[str, str, str]:
    """(text, button title, button payload) for a notice about one policy."""
    w = wording()
    key = reason
    if reason in ("age", "age_ahead") and not month_known:
        key = reason + "_latest"
    template = w[key] if reason == "ends" else w[key][status]
    text = template.format(who=who(person, facts), name=policy.name, age=age, year=year, month=month,
                           date=date_words(date) if date else "")
    title, button = policy_button(policy, status)
    return _with_caveat(text, policy), title, button


def booking_notice(reason: str, *, kind_label: str, reference: str, tier: int | None = None,
                   position: int | None = None, moved: int = 0, why: str | None = None) -> tuple[str, str, str]:
    w = wording()
    if reason == "waitlist_tier":
        text = w["waitlist_tier"].format(reference=reference, tier=tier, position=position)
    elif reason == "waitlist_place":
        text = w["waitlist_up" if moved > 0 else "waitlist_down"].format(reference=reference, position=position,
                                                                         moved=abs(moved))
    elif reason == "booking_declined":
        reason_words = w["declined_why"].format(reason=why.rstrip("。.")) if why else w["declined_no_why"]
        text = w["booking_declined"].format(kind=kind_label, reference=reference, why=reason_words)
    else:
        text = w[reason].format(kind=kind_label, reference=reference)
    title, button = _button("advisor" if reason == "booking_declined" else "status", reference=reference)
    return text, title, button
