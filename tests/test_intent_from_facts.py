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


def test_a_what_if_with_nothing_supposed_takes_the_next_guess():
    from rasa.shared.nlu.training_data.message import Message
    from nlu_components.intent_from_facts import IntentFromFacts
    component = IntentFromFacts({})
    long_request = Message(data={"text": "那个帮我妈约一下上门助洁明天上午地址是园区星海街200号"})
    long_request.set("intent", {"name": "what_if", "confidence": 0.6})
    long_request.set("intent_ranking", [{"name": "what_if", "confidence": 0.6},
                                        {"name": "book_service", "confidence": 0.3}])
    supposed = Message(data={"text": "如果评上重度失能呢"})
    supposed.set("intent", {"name": "what_if", "confidence": 0.9})
    supposed.set("hypothetical_facts", {"care_level": "重度失能"})
    component.process([long_request, supposed])
    assert long_request.get("intent")["name"] == "book_service"
    assert supposed.get("intent")["name"] == "what_if"
