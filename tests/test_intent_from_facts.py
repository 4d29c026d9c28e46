"""A message stating a fact about the elder is an answer, whatever the classifier guessed."""
import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu_components.intent_from_facts import IntentFromFacts
from nlu_components.fact_extractor import FactExtractor


def parse(text: str, intent: str) -> Message:
    message = Message(data={"text": text, "intent": {"name": intent, "confidence": 0.4},
                            "intent_ranking": [{"name": intent, "confidence": 0.4}]})
    FactExtractor().process([message])
    IntentFromFacts({}).process([message])
    return message


@pytest.mark.parametrize("text,guess", [("在周庄", "greet"), ("86了", "nlu_fallback"),
                                        ("不对，是87岁", "deny"), ("有苏州户口的", "affirm")])
def test_fact_statements_become_inform(text, guess):
    message = parse(text, guess)
    assert message.get("intent")["name"] == "inform"
    assert message.get("intent_ranking")[0]["name"] == "inform"


@pytest.mark.parametrize("text,intent", [
    ("你好", "greet"),                          # no fact: left alone
    ("我妈想问问", "greet"),                     # only who is talking: not a fact about the elder
    ("长护险怎么申请，我妈85岁", "ask_policy"),    # a real question keeps its intent
])
def test_other_messages_keep_their_intent(text, intent):
    assert parse(text, intent).get("intent")["name"] == intent
