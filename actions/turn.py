"""What the NLU pipeline understood of the latest message, as the actions need it.

Nothing is extracted here: the TextNormalizer and FactExtractor components already put the
facts (entities), the bare-answer readings, cues and problems on the message. A button's
payload ("/inform{"age": 85}") gives entities too; they count as stated facts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker

from .profile import FACTS, coerce

# FactExtractor problems a reply must name; the message then changes nothing.
PROBLEMS = ("age_out_of_range", "id_number_invalid", "birth_date_in_future", "birth_date_invalid",
            "care_score_out_of_range", "disability_grade_invalid")


@dataclass
class Turn:
    intent: str | None = None
    text: str = ""
    facts: dict = field(default_factory=dict)          # stated about the elder (canonical)
    hypothetical: dict = field(default_factory=dict)   # "如果评上中度失能" (never stored)
    estimated: set = field(default_factory=set)        # facts whose value is our estimate
    readings: dict = field(default_factory=dict)       # how a short reply answers each question
    cues: set = field(default_factory=set)             # dont_know, impatient, correction, incomplete, ask_amount …
    problems: list = field(default_factory=list)
    relation: str | None = None                        # 我妈 -> 子女
    age_range: tuple | None = None                     # "八十出头" -> (80, 83): a vague age, never stored as age
    entities: dict = field(default_factory=dict)       # every entity by name (booking buttons …)
    place_choices: dict = field(default_factory=dict)  # "太湖边" -> {"太湖": [four districts]}: ask, never guess
    persons: list = field(default_factory=list)        # [{label: 父亲, facts: {…}, own: bool}]: whose facts
    confidence: float = 1.0                            # the classifier's confidence in `intent`

    @property
    def subject(self) -> str | None:
        return self.facts.get("subject")

    def reading(self, fact: str) -> Any:
        """The reply read as an answer about `fact`, or None (impossible answers too)."""
        value = self.readings.get(fact)
        if isinstance(value, str) and value.startswith("!"):
            return None
        return coerce(fact, value)

    def reading_problem(self, fact: str) -> str | None:
        value = self.readings.get(fact)
        return value[1:] if isinstance(value, str) and value.startswith("!") else None


def turn_from_message(message: dict) -> Turn:
    """A Turn from Rasa's parse data (tracker.latest_message)."""
    intent = (message.get("intent") or {}).get("name")
    entities = {}
    facts = {}
    for entity in message.get("entities") or []:
        name, value = entity.get("entity"), entity.get("value")
        entities[name] = value
        if name in FACTS:
            clean = coerce(name, value)
            if clean is not None:
                facts[name] = clean
    return Turn(
        intent=intent,
        text=(message.get("text") or "").strip(),
        facts=facts,
        hypothetical={k: v for k, v in (message.get("hypothetical_facts") or {}).items() if k in FACTS},
        estimated=set(message.get("estimated_facts") or []),
        readings=dict(message.get("answer_readings") or {}),
        cues=set(message.get("cues") or []),
        problems=[p for p in message.get("fact_problems") or [] if p in PROBLEMS],
        relation=message.get("speaker_relation"),
        age_range=_age_range(message.get("age_range")),
        entities=entities,
        place_choices=dict(message.get("place_choices") or {}),
        persons=[p for p in message.get("persons") or [] if isinstance(p, dict)],
        confidence=float((message.get("intent") or {}).get("confidence") or 0.0) if intent else 0.0,
    )


def _age_range(value) -> tuple | None:
    """[lo, hi] from the message (JSON has no tuples) -> (lo, hi); anything else -> None."""
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return int(value[0]), int(value[1])
    return None


def latest_turn(tracker: Tracker) -> Turn:
    return turn_from_message(tracker.latest_message or {})
