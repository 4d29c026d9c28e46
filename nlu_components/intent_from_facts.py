"""Rasa 3.6 NLU component: a message that states facts about the elder is an `inform`.

Short answers like "在周庄", "86了" or "不是低保户" share few character n-grams with any
intent, so the classifier may fall back or read them as a greeting or a "no". When the
deterministic FactExtractor found a fact about the elder in such a message, the fact is
the stronger evidence. Pipeline position: after FactExtractor and FallbackClassifier.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class IntentFromFacts(GraphComponent, IntentClassifier):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # intents a message stating a fact is unlikely to really be; not goodbye ("88啦")
            # nor out_of_scope ("去周庄怎么坐车" names a town but is no answer)
            "overridable": ["nlu_fallback", "greet", "thank", "affirm", "deny"],
            # facts that say who is talking, not what the elder's situation is
            "ignore_facts": ["subject"],
            # "没有做过那个评估" states the assessment fact: an answer, not a request for one
            "stated_not_requested": {"request_assessment": ["care_assessed"]},
            # a what-if supposes something ("如果评上重度"): with nothing supposed, a long dictated
            # message is read as the classifier's next guess (a request, a question, facts)
            "needs_hypothetical": ["what_if"],
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        self._config = {**self.get_default_config(), **config}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "IntentFromFacts":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._needs_hypothetical(message)
            self._at_a_loss(message)
            intent = message.get(INTENT) or {}
            facts = [e for e in message.get(ENTITIES, []) if e.get("extractor") == "FactExtractor"
                     and e.get("entity") not in self._config["ignore_facts"]]
            stated = self._config["stated_not_requested"].get(intent.get("name"))
            if stated is not None:
                facts = [e for e in facts if e.get("entity") in stated]
            elif intent.get("name") not in self._config["overridable"]:
                continue
            if not facts:
                continue
            message.set(INTENT, {"name": "inform", "confidence": 1.0}, add_to_output=True)
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != "inform"]
            message.set(INTENT_RANKING_KEY, [{"name": "inform", "confidence": 1.0}] + ranking,
                        add_to_output=True)
        return messages

    def _needs_hypothetical(self, message: Message) -> None:
        intent = message.get(INTENT) or {}
        if intent.get("name") not in self._config["needs_hypothetical"] or message.get("hypothetical_facts"):
            return
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or []
                   if r.get("name") not in self._config["needs_hypothetical"] and r.get("name") != "nlu_fallback"]
        if ranking:
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    # Not to be guessed from "不知道咋办": a goodbye, a restart, a yes or a no.
    NOT_FROM_AT_A_LOSS = ("dont_know", "nlu_fallback", "goodbye", "restart", "forget_me", "forget_me_confirm",
                          "affirm", "deny")

    def _at_a_loss(self, message: Message) -> None:
        """"一个人都不知道咋办", "我也不知道该找谁": the classifier hears 不知道 and says dont_know, but
        the FactExtractor found no "I don't know" of a fact, only someone at a loss (cue `at_a_loss`):
        the classifier's next guess instead, never a skip of the question asked."""
        intent = message.get(INTENT) or {}
        cues = message.get("cues") or []
        if intent.get("name") != "dont_know" or "at_a_loss" not in cues or "dont_know" in cues:
            return
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != "dont_know"]
        chosen = next((r for r in ranking if r.get("name") not in self.NOT_FROM_AT_A_LOSS), None)
        message.set(INTENT, dict(chosen) if chosen else {"name": "nlu_fallback", "confidence": 1.0}, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

