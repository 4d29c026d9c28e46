"""The advisor's one action per user turn (rules route every message here, see data/rules.yml),
requests (bookings, status checks) included: they are tasks of the conversation
(actions/requests.py), not Rasa forms.

It reads what the NLU pipeline understood (actions/turn.py), lets the conversation decide
(actions/conversation.py) and turns the decision into messages and slot events. One action
call per turn: the facts, the results and the next question come from the same pass.
"""
from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import kb_access
from .conversation import Conversation
from .render import wording
from .spoken import speak
from .turn import latest_turn

logger = logging.getLogger(__name__)


def conversation_for(tracker: Tracker) -> Conversation:
    return Conversation(tracker.slots, latest_turn(tracker), kb_access.kb(), kb_access.search(),
                        kb_access.today(), sender_id=tracker.sender_id,
                        metadata=(tracker.latest_message or {}).get("metadata"))


def wants_spoken(tracker: Tracker) -> bool:
    """The operator console (and a voice channel) asks for the spoken form in the message metadata."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return bool(metadata.get("operator") or metadata.get("spoken"))


def send(dispatcher: CollectingDispatcher, reply, tracker: Tracker | None = None) -> list:
    if reply.payload:  # first, so a channel can render the state before the words
        dispatcher.utter_message(json_message=reply.payload)
    for message in reply.messages:
        dispatcher.utter_message(text=message["text"], buttons=message.get("buttons") or [])
    if tracker is not None and wants_spoken(tracker) and reply.messages:
        try:   # the same reply as said on the phone; the chat text above stays the truth
            dispatcher.utter_message(json_message=speak(reply.messages, tracker.get_slot("subject"),
                                                    (reply.payload or {}).get("lines")))
        except Exception:
            logger.exception("the spoken form failed")
    if reply.restart:
        return [Restarted()]
    return [SlotSet(name, value) for name, value in reply.slots.items()]


def carry_on(dispatcher: CollectingDispatcher, tracker: Tracker) -> list:
    """A restart, goodbye or deletion the classifier only guessed: the advisor answers the message
    as anything else, and nothing is lost."""
    try:
        conversation = conversation_for(tracker)
        conversation.turn.intent = "nlu_fallback"
        reply = conversation.respond()
    except Exception:
        logger.exception("the advisor failed on one turn")
        dispatcher.utter_message(text=wording()["sorry"])
        return []
    return send(dispatcher, reply, tracker)


class ActionAdvisor(Action):
    def name(self) -> str:
        return "action_advisor"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict):
        try:
            reply = conversation_for(tracker).respond()
        except Exception:   # a bug must never leave an elder without an answer; nothing is stored
            logger.exception("the advisor failed on one turn")   # the traceback, never the user's text
            dispatcher.utter_message(text=wording()["sorry"])
            return []
        return send(dispatcher, reply, tracker)
