"""Rasa 3.6 NLU component: profile facts as entities, via facts_extractor.

Pipeline entry (config.yml):
    - name: nlu_components.fact_extractor.FactExtractor

Each fact becomes one entity {"entity": <fact>, "value": <canonical value>,
start, end, confidence 1.0, extractor "FactExtractor"}; beside them the message carries
what the dialogue needs to read a reply in context without extracting again: "answer_readings"
(how a short reply answers each question), "cues" (dont_know, impatient, correction, incomplete,
ask_* …), "speaker_relation" (我妈 -> 子女) and "age_range" ([80, 83] for "八十出头": a vague
age, never an `age` entity; null when none or when an exact age was said) and "place_choices"
(a home named that lies in several districts, name -> districts: no `district` entity then, the
dialogue asks; {} when none) and "persons" (the elders the message names, each with the facts said
of them: understanding/household.py). No entity role marks an
estimate: Rasa's from_entity slot mappings only match entities without a role, so the
facts whose value is a guess are listed under "estimated_facts" instead. Problems (e.g. "id_number_invalid") go to the
message under "fact_problems". Nothing is trained or persisted: the extractor
is rule-based, so a lexicon change only needs a restart, not retraining.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from policy_kb import clock
from understanding.facts_extractor import extract
from understanding.household import read_household

logger = logging.getLogger(__name__)

FACT_PROBLEMS = "fact_problems"
ESTIMATED_FACTS = "estimated_facts"
HYPOTHETICAL_FACTS = "hypothetical_facts"   # "如果评上重度失能": for what-if, never a slot
ANSWER_READINGS = "answer_readings"         # "82" -> {"age": 82}: a short reply read per question
CUES = "cues"                               # ["dont_know", "impatient"]
SPEAKER_RELATION = "speaker_relation"       # 我妈 -> 子女: the booking's 申请人
AGE_RANGE = "age_range"                     # "快九十了" -> [87, 89]: a vague age, inclusive, or None
PLACE_CHOICES = "place_choices"             # "住在太湖边" -> {"太湖": ["虎丘区", "吴中区", …]}: ask, never guess
PERSONS = "persons"                         # "我爸妈一个82一个79" -> [{label: 父亲, facts: {age: 82}, own: true}, …]


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False
)
class FactExtractor(GraphComponent, EntityExtractorMixin):
    """Adds canonical profile facts (policy_kb/facts.yml) as entities."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Message metadata key naming the fact the advisor just asked about;
            # lets bare answers ("85", "有") count. Channels may set it.
            "requested_fact_key": "requested_fact",
        }

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FactExtractor:
        return cls(config)

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        self._config = {**self.get_default_config(), **(config or {})}

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue  # e.g. a button payload with no text
            result = extract(text, today=clock.today(), requested=self._requested(message), readings=True)
            entities = self.add_extractor_name(self._entities(result))
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
            message.set(FACT_PROBLEMS, list(result.problems), add_to_output=True)
            message.set(ESTIMATED_FACTS, sorted(result.estimated), add_to_output=True)
            message.set(HYPOTHETICAL_FACTS, {f: result.facts[f] for f in sorted(result.hypothetical)
                                             if f in result.facts}, add_to_output=True)
            message.set(ANSWER_READINGS, result.readings, add_to_output=True)
            message.set(CUES, sorted(result.cues), add_to_output=True)
            message.set(SPEAKER_RELATION, result.relation, add_to_output=True)
            message.set(AGE_RANGE, list(result.age_range) if result.age_range else None, add_to_output=True)
            message.set(PLACE_CHOICES, dict(result.place_choices), add_to_output=True)
            message.set(PERSONS, [{"label": p.label, "facts": p.facts, "own": p.own}
                                  for p in read_household(text, clock.today())], add_to_output=True)
        return messages

    def _requested(self, message: Message) -> Optional[Text]:
        metadata = message.get("metadata") or {}
        value = metadata.get(self._config["requested_fact_key"]) if isinstance(metadata, dict) else None
        return value if isinstance(value, str) else None

    @staticmethod
    def _entities(result) -> List[Dict[Text, Any]]:
        # One entity per fact: the winning (last) mention, as ExtractionResult decided.
        last = {}
        for span in result.spans:
            if span.fact in result.hypothetical:
                continue  # "如果评上重度失能" states nothing about the elder; what-if reads it itself
            if span.fact in result.facts and span.value == result.facts[span.fact]:
                last[span.fact] = span
        entities = []
        for fact, span in last.items():
            entity = {
                ENTITY_ATTRIBUTE_TYPE: fact,
                ENTITY_ATTRIBUTE_VALUE: span.value,
                ENTITY_ATTRIBUTE_START: span.start,
                ENTITY_ATTRIBUTE_END: span.end,
                ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
            }
            entities.append(entity)
        return entities
