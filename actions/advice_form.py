"""The advice form: ask only the facts that change a result, in the engine's order.

Rasa fills fact slots from the FactExtractor's entities on every turn (global mappings),
so facts said at any time, in any order, and corrections, land without the form. This
validation action adds what only the form knows: the question just asked (so "有", "85"
or "不知道" answer it), the care-level estimate, polite replies to impossible values,
and which fact to ask next.
"""
from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.nlu.facts_extractor import extract

from . import kb_access
from .phrasing import describe_value, fact_buttons, question, wording
from .profile import DONT_KNOW, FACT_NAMES, FACTS, coerce, dont_know_facts, known_profile

logger = logging.getLogger(__name__)

# Intents another rule answers during the form (the form then resumes and asks again).
HANDLED_ELSEWHERE = {"ask_policy", "what_if", "help", "greet", "thank", "goodbye", "out_of_scope",
                     "book_service", "apply_waitlist", "request_assessment",
                     "book_advisor", "check_status", "cancel_booking"}  # bookings leave the form
PROBLEM_RESPONSES = {
    "age_out_of_range": "bad_age",
    "id_number_invalid": "bad_id_number",
    "birth_date_in_future": "bad_birth_date",
    "birth_date_invalid": "bad_birth_date",
    "care_score_out_of_range": "bad_care_score",
    "disability_grade_invalid": "bad_disability_grade",
}


def value_before_this_turn(tracker: Tracker, name: str) -> Any:
    """The slot's value as it was when the user sent the latest message."""
    value = None
    events = tracker.events
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    for event in events[:last_user]:
        if event.get("event") == "slot" and event.get("name") == name:
            value = event.get("value")
        elif event.get("event") in ("restart", "session_started"):
            value = None
    return value


class ValidateAdviceForm(FormValidationAction):
    def name(self) -> str:
        return "validate_advice_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        """The one fact to ask next: who is talking first, then the engine's next_fact."""
        slots = tracker.slots
        if slots.get("subject") is None:
            return ["subject"]
        nxt = kb_access.next_question(known_profile(slots), dont_know_facts(slots))
        return [nxt] if nxt else []

    async def get_extraction_events(self, dispatcher, tracker, domain) -> list[EventType]:
        """Understand a short answer to the question just asked."""
        requested = tracker.get_slot("requested_slot")
        if requested not in FACTS or requested in tracker.slots_to_validate():
            return []
        message = tracker.latest_message
        intent = (message.get("intent") or {}).get("name")
        if intent == "dont_know":
            return [SlotSet(requested, DONT_KNOW)]
        result = extract(message.get("text") or "", today=kb_access.today(), requested=requested)
        return [SlotSet(name, value) for name, value in result.facts.items()
                if name in FACTS and name not in result.hypothetical and tracker.get_slot(name) != value]

    async def get_validation_events(self, dispatcher, tracker, domain) -> list[EventType]:
        changed = {k: v for k, v in tracker.slots_to_validate().items() if k in FACTS}
        message = tracker.latest_message
        problems = [p for p in message.get("fact_problems") or [] if p in PROBLEM_RESPONSES]
        if problems:
            # A message with an impossible value (age 200, a bad 身份证 checksum) changes
            # nothing: everything stays as it was and the question is asked again.
            for problem in problems:
                dispatcher.utter_message(text=wording()[PROBLEM_RESPONSES[problem]])
            return [SlotSet(n, value_before_this_turn(tracker, n)) for n in changed] + self._again(tracker)

        intent = (message.get("intent") or {}).get("name")
        if intent in HANDLED_ELSEWHERE and tracker.get_slot("requested_slot"):
            # the form rejects and a rule answers (a booking leaves the form); facts said in
            # the same message were already stored by Rasa's slot mappings
            return []
        events = self._accept(changed, dispatcher, tracker)
        if any(e["name"] in FACTS for e in events):
            return events + ([SlotSet("not_understood", 0)] if tracker.get_slot("not_understood") else [])
        if not tracker.get_slot("requested_slot"):
            return events
        dispatcher.utter_message(text=wording()["not_understood"])
        return self._again(tracker)

    @staticmethod
    def _again(tracker: Tracker) -> list[EventType]:
        """A bookkeeping slot keeps the form active, so it asks the same question again."""
        return [SlotSet("not_understood", (tracker.get_slot("not_understood") or 0) + 1)]

    def _accept(self, changed: dict, dispatcher, tracker: Tracker) -> list[EventType]:
        """Canonical values in, corrections and estimates said out loud."""
        events, corrections, noted = [], [], []
        requested = tracker.get_slot("requested_slot")
        for name, value in changed.items():
            before = coerce(name, value_before_this_turn(tracker, name))
            if value == DONT_KNOW:
                dispatcher.utter_message(text=wording()["dont_know_noted"])
                events.append(SlotSet(name, DONT_KNOW))
                continue
            clean = coerce(name, value)
            if clean is None or (name == "subject" and before is not None and requested != "subject"):
                # never keep a value the engine cannot use; who is talking does not flip
                # because a relative once says "我"
                events.append(SlotSet(name, value_before_this_turn(tracker, name)))
                continue
            events.append(SlotSet(name, clean))
            if name in ("subject", "care_level"):
                continue
            if before is not None and before != clean:
                corrections.append(describe_value(name, clean))
            elif before is None:
                noted.append(describe_value(name, clean))
        if corrections:
            dispatcher.utter_message(text=wording()["corrected"].format(changes="，".join(corrections)))
        if len(noted) >= 2:  # several facts in one message: confirm what was understood
            dispatcher.utter_message(text=wording()["noted"].format(facts="，".join(noted)))
        level = coerce("care_level", changed.get("care_level"))
        if level:
            # Unless an official assessment is mentioned, a level from daily activities,
            # everyday words or a button is our estimate: say so.
            assessed = changed.get("care_assessed") is True or tracker.get_slot("care_assessed") is True
            events.append(SlotSet("care_estimated", not assessed))
            if not assessed:
                dispatcher.utter_message(text=wording()["care_estimate"].format(care_level=level))
        return events


class ActionAskFact(Action):
    """Asks for one fact, worded for the elder or for a relative, with numbered choices."""
    fact = ""

    def name(self) -> str:
        return f"action_ask_{self.fact}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict):
        text = question(self.fact, tracker.get_slot("subject"))
        buttons = fact_buttons(self.fact) if FACTS[self.fact].options else []
        if (tracker.get_slot("not_understood") or 0) >= 2:
            text += "（不清楚可以回复「不知道」跳过）"
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


# One ask action per fact (action_ask_age, action_ask_district, ...), all the same logic.
# Kept in a dict: the SDK finds actions through __subclasses__, which holds weak references.
ASK_ACTIONS = {fact: type(f"ActionAsk_{fact}", (ActionAskFact,), {"fact": fact}) for fact in FACT_NAMES}
