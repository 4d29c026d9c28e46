"""Rasa 3.6 NLU component: normalise the message text before everything else.

Pipeline entry (config.yml), FIRST, before the tokenizer:
    - name: nlu_components.text_normalizer.TextNormalizer

It replaces the message's TEXT with `understanding.normalizer.normalize(text)` (Traditional ->
Simplified, full-width -> half-width, fillers, stutters, numerals, homophones of place
and policy names) and keeps the user's words under "original_text". It runs both on the
training data and on every message, so the tokenizer, featurizers, DIET and the
FactExtractor all see the same, normalised form.

Why MESSAGE_TOKENIZER: in the default recipe only MESSAGE_TOKENIZER and MESSAGE_FEATURIZER
components get a `process_training_data` node in the training graph (an ENTITY_EXTRACTOR
or INTENT_CLASSIFIER that is not trainable only runs at inference, so the model would be
trained on raw text and asked about normalised text). Both types run in pipeline order,
so placing this component first makes it run first. It does not subclass Tokenizer, so
Rasa's "only one tokenizer" check ignores it. Nothing is trained or persisted.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from understanding.normalizer import normalize_verbose, warm_up

logger = logging.getLogger(__name__)

ORIGINAL_TEXT = "original_text"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False
)
class TextNormalizer(GraphComponent):
    """Rewrites TEXT to its normalised form; the original stays under `original_text`."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Also return the user's original words in the parse result.
            "original_text_in_output": True,
        }

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TextNormalizer:
        return cls(config)

    def __init__(self, config: Optional[Dict[Text, Any]] = None) -> None:
        self._config = {**self.get_default_config(), **(config or {})}
        warm_up()  # dictionaries and the pinyin index load now, not on the first user message

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalize(message, output=False)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._normalize(message, output=self._config["original_text_in_output"])
        return messages

    @staticmethod
    def _normalize(message: Message, output: bool) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or not text.strip() or text.startswith(INTENT_MESSAGE_PREFIX):
            return  # no text, or a "/intent{...}" payload that the RegexMessageHandler reads
        if message.get(ORIGINAL_TEXT) is not None:
            return  # already normalised (the same message object seen twice)
        norm = normalize_verbose(text)
        message.set(ORIGINAL_TEXT, text, add_to_output=output)
        if norm.text == text:
            return
        entities = message.get(ENTITIES)
        if entities:  # annotated training examples: keep the entity offsets aligned
            moved = []
            for entity in entities:
                start, end = norm.to_normalized(entity[ENTITY_ATTRIBUTE_START], entity[ENTITY_ATTRIBUTE_END])
                if end <= start:
                    logger.debug("normalizer: an entity vanished; example kept as written")
                    return
                moved.append({**entity, ENTITY_ATTRIBUTE_START: start, ENTITY_ATTRIBUTE_END: end})
            message.set(ENTITIES, moved)
        message.set(TEXT, norm.text)
