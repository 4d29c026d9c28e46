"""From conversation slots to the canonical profile the policy engine takes."""
from __future__ import annotations

from typing import Any, Mapping

from policy_kb.facts import load_facts

FACTS = load_facts()
FACT_NAMES = tuple(FACTS)
DONT_KNOW = "不知道"   # slot value once the user said they don't know this fact


def coerce(name: str, value: Any) -> Any:
    """A slot value in the fact's canonical type, or None if it cannot be one."""
    fact = FACTS[name]
    if value is None or value == DONT_KNOW:
        return None
    if fact.type == "int" and isinstance(value, float) and value.is_integer():
        value = int(value)
    if fact.type == "bool" and isinstance(value, str):
        value = {"true": True, "false": False}.get(value.lower(), value)
    if name == "disability_grade" and isinstance(value, (str, float)) and value != "none":
        try:  # "2" or 2.0 from a payload; anything else stays as is and is refused below
            value = int(float(value)) if float(value).is_integer() else value
        except ValueError:
            pass
    if isinstance(value, str) and fact.type == "int" and value.isdigit():
        value = int(value)
    return value if fact.accepts(value) else None


def known_profile(slots: Mapping[str, Any]) -> dict:
    """The facts known so far, canonical names and values only (the REST payload's profile)."""
    profile = {}
    for name in FACT_NAMES:
        value = coerce(name, slots.get(name))
        if value is not None:
            profile[name] = value
    return profile


def dont_know_facts(slots: Mapping[str, Any]) -> set[str]:
    return {name for name in FACT_NAMES if slots.get(name) == DONT_KNOW}
