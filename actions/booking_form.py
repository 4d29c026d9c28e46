"""The booking form: home-care service, care-home waiting list, assessment, advisor visit.

One action-server call per turn: this validation action also starts the request when the form
activates, asks the next field itself (the domain has no ask actions for it, which Rasa's
FormAction allows) and says the reference number once filed; the rules only route.

Submitting happens inside the form's validation, when the user confirms the summary: the
booking is committed to the database before any reply is sent, and the idempotency key
makes a retried or double-clicked confirmation return the same booking. If the action
server dies after the commit, Rasa never receives the events, the form is still waiting
for the confirmation, and confirming again returns the stored booking: nothing is lost,
and nothing is acknowledged that was not stored.
"""
from __future__ import annotations

import datetime as dt
import logging
import re

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from storage.bookings import BookingError, idempotency_key
from storage.operators import verified_operator
from understanding.booking_parsing import (parse_addressed_as, parse_date, parse_phone, parse_service_type, parse_slot,
                                     phone_problem)

from . import kb_access
from .booking_support import (BOOKING_SLOTS, INTENT_KIND, crash_point, describe_date, describe_field,
                              messages, relationship_from_text, spec, store)
from .profile import DONT_KNOW, FACTS, coerce, known_profile
from .render import fact_options, numbered, payload, question, wording
from .turn import latest_turn

logger = logging.getLogger(__name__)
HANDLED_ELSEWHERE = {"ask_policy", "help", "out_of_scope", "greet", "thank", "goodbye", "what_if", "check_status",
                     "forget_me"}
ADDRESS_WORD = re.compile(r"[路街巷弄号村组幢栋楼室苑园里镇乡道区]|小区|大厦|公寓|新村|\d")
AFFIRM_WORDS = ("确认", "提交", "是的", "对", "好的", "没问题", "可以")


def _intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


def _kind(tracker: Tracker) -> str:
    return tracker.get_slot("booking_kind") or "home_service"


def _summary_lines(tracker: Tracker) -> list[str]:
    fields = spec()["fields"]
    lines = [spec()["kinds"][_kind(tracker)]["name"]]
    for field in spec()["kinds"][_kind(tracker)]["fields"]:
        value = tracker.get_slot(field)
        if value:
            lines.append(f"{fields[field]['label']}：{describe_field(field, value)}")
    return lines


class ValidateBookingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_booking_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        if tracker.get_slot("booking_reference") or not tracker.get_slot("booking_kind"):
            return []  # filed (or refused): the form ends; the next request starts afresh
        kind = spec()["kinds"][_kind(tracker)]
        facts = [f for f in kind.get("facts", []) if tracker.get_slot(f) is None]
        fields = [f for f in kind["fields"] if not tracker.get_slot(f)]
        if tracker.get_slot("booking_changing"):
            return ["booking_change"]
        return facts + fields + ["booking_confirmed"]

    async def get_extraction_events(self, dispatcher, tracker, domain) -> list[EventType]:
        if _intent(tracker) == "cancel_booking":
            return []  # "不约了": nothing to read (get_validation_events stops the request)
        requested = tracker.get_slot("requested_slot")
        message = tracker.latest_message
        text = (message.get("text") or "").strip()
        intent = _intent(tracker)
        # buttons send /inform{"service_type": ...}: their entities name the field
        events = [SlotSet(e["entity"], e["value"]) for e in message.get("entities", [])
                  if e.get("entity") in BOOKING_SLOTS and e.get("extractor") != "FactExtractor"]
        if events or not requested:
            return events
        if requested in FACTS:  # a waitlist fact the tier depends on: read from the pipeline's output
            turn = latest_turn(tracker)
            if intent == "dont_know" or ("dont_know" in turn.cues and not turn.facts):
                return [SlotSet(requested, DONT_KNOW)]
            facts = {k: v for k, v in turn.facts.items() if k != "subject"}
            if requested not in facts and turn.reading(requested) is not None:
                facts[requested] = turn.reading(requested)
            return [SlotSet(k, v) for k, v in facts.items() if tracker.get_slot(k) != v]
        return self._parse_field(requested, text, intent, dispatcher, tracker)

    def _parse_field(self, field: str, text: str, intent, dispatcher, tracker: Tracker) -> list[EventType]:
        msg = messages()
        today = kb_access.today()
        if field == "booking_confirmed":
            if intent == "affirm" or text in AFFIRM_WORDS:
                return [SlotSet("booking_confirmed", True)]
            if intent == "deny" or "改" in text:
                return [SlotSet("booking_changing", True)]
            return []
        if field == "booking_change":  # a typed field name ("电话", "改地址") instead of its number
            labels = {f: d["label"] for f, d in spec()["fields"].items()}
            chosen = next((f for f, label in labels.items() if label in text or label[:2] in text), None)
            return [SlotSet("booking_change", chosen)] if chosen else []
        if field == "service_type":
            value = parse_service_type(text)
            return [SlotSet(field, value)] if value else []
        if field in ("booking_date", "time_slot"):
            answer = parse_date(text, today)
            slot = parse_slot(text)
            events = []
            if answer and answer.problem:
                key = {"past": "past_date", "too_far": "too_far"}.get(answer.problem, "invalid_date")
                dispatcher.utter_message(text=msg[key].format(
                    date=describe_date(answer.date.isoformat()) if answer.date else ""))
                return [SlotSet("booking_date", None)]
            if answer and answer.date:
                events.append(SlotSet("booking_date", answer.date.isoformat()))
            if slot or (answer and answer.slot):
                events.append(SlotSet("time_slot", slot or answer.slot))
            return events
        if field == "phone":
            value = parse_phone(text)
            if value:
                return [SlotSet("phone", value)]
            why = phone_problem(text)
            if why:
                dispatcher.utter_message(text=msg["bad_phone"].format(why=msg["phone_why"].get(why, why)))
                return [SlotSet("phone", None)]
            return []
        if field == "relationship":
            value = relationship_from_text(text)
            return [SlotSet(field, value)] if value else []
        if field == "addressed_as":
            value, full_name = parse_addressed_as(text)
            if value:
                return [SlotSet(field, value)]
            if full_name:
                dispatcher.utter_message(text=msg["name_not_address"])
                return [SlotSet(field, None)]
            return []
        if field == "preferred_place":
            district = latest_turn(tracker).facts.get("district")
            if district or len(text) >= 2:
                return [SlotSet(field, district or text[:60])]
            return []
        if field == "address":
            # an address is free text; it must at least look like one: Chinese, some length, a
            # street, number or building word, and not "不知道地址"
            turn = latest_turn(tracker)
            if len(text) >= 4 and sum("\u4e00" <= ch <= "\u9fff" for ch in text) >= 3 and intent not in HANDLED_ELSEWHERE \
                    and ADDRESS_WORD.search(text) and "dont_know" not in turn.cues and intent != "dont_know":
                return [SlotSet(field, text[:200])]
            return []
        return []

    async def get_validation_events(self, dispatcher, tracker, domain) -> list[EventType]:
        # "不约了" or "取消" typed at any question (the form runs as the latest action here, so the
        # intent alone decides: the request has not been filed, nothing else can be cancelled)
        if _intent(tracker) == "cancel_booking":
            dispatcher.utter_message(text=messages()["stopped"])
            return [SlotSet("booking_kind", None)]  # no kind, no required slots: the form ends
        changed = {k: v for k, v in tracker.slots_to_validate().items()
                   if k in BOOKING_SLOTS or k in FACTS}
        events: list[EventType] = [SlotSet(k, v) for k, v in changed.items()]
        if changed.get("booking_change"):
            field = changed["booking_change"]  # clear the one field: the form asks it again
            events += [SlotSet(field, None), SlotSet("booking_change", None), SlotSet("booking_changing", None)]
            if field == "booking_date":
                events.append(SlotSet("time_slot", None))
            return events
        level = coerce("care_level", changed.get("care_level"))
        said_now = tracker.get_slot("requested_slot") == "care_level" or "care_level" in latest_turn(tracker).facts
        if level and said_now and tracker.get_slot("care_assessed") is not True:  # not a level said earlier  # as in the advice form: say it is a guess
            dispatcher.utter_message(text=wording()["care_estimate"].format(care_level=level))
            events.append(SlotSet("care_estimated", True))
        if _kind(tracker) == "waitlist" and not changed.get("booking_confirmed"):
            stop = self._waitlist_refusal(tracker, dispatcher)
            if stop:
                return events + stop
        if changed.get("booking_confirmed") is True:
            return events + self._submit(tracker, dispatcher)
        if not changed and tracker.get_slot("requested_slot"):
            if _intent(tracker) in HANDLED_ELSEWHERE:
                if tracker.latest_action_name == "action_listen":
                    dispatcher.rejected = True  # the form rejects; a rule answers, then the form asks again
                return []
            dispatcher.utter_message(text=messages()["not_understood"] + messages()["stop_hint"])
            return [SlotSet("not_understood", (tracker.get_slot("not_understood") or 0) + 1)]
        return events

    @staticmethod
    def _waitlist_refusal(tracker: Tracker, dispatcher) -> list[EventType]:
        profile = known_profile(tracker.slots)
        if "age" not in profile or "hukou" not in profile:
            return []
        result = next(r for r in kb_access.results_for(profile) if r.id == "public_care_home_waitlist")
        if result.status != "not_eligible":
            return []
        dispatcher.utter_message(text=messages()["not_eligible_waitlist"].format(reasons="；".join(result.reasons)))
        return [SlotSet("booking_kind", None)]  # no kind: no required slots, the form ends

    def _submit(self, tracker: Tracker, dispatcher) -> list[EventType]:
        kind = _kind(tracker)
        slots = tracker.slots
        subject = slots.get("subject")
        profile = known_profile(slots)
        tier = None
        if kind == "waitlist":
            waitlist = next(r for r in kb_access.results_for(profile) if r.id == "public_care_home_waitlist")
            tier = waitlist.priority_tier or 5
            # one application per family and place, whoever files it and from whichever channel
            key = idempotency_key(kind, (slots.get("phone") or "")[-11:], slots.get("preferred_place"))
        else:
            key = idempotency_key(kind, tracker.sender_id, slots.get("service_type"), slots.get("booking_date"),
                                  slots.get("time_slot"), slots.get("address"), slots.get("phone"))
        relationship = slots.get("relationship") or ("本人" if subject == "self" else "其他亲属")
        filed_by = "self" if relationship == "本人" else (
            "operator" if relationship == "社区/热线工作人员" else "relative")
        # filed from the operator console: "filed by operator X for the caller"
        # (signed by the console: a bare claim in a REST message is ignored)
        operator = verified_operator(tracker.sender_id, tracker.latest_message.get("metadata"))
        operator_id, note = (operator[0], messages()["filed_by_operator"].format(name=operator[1])) if operator \
            else (None, None)
        if operator_id:
            filed_by = "operator"
        try:
            crash_point("before_commit")
            booking, created = store().submit(
                kind=kind, sender_id=tracker.sender_id, filed_by=filed_by, relationship=relationship,
                phone=slots.get("phone"), idempotency_key=key, service_type=slots.get("service_type"),
                booking_date=dt.date.fromisoformat(slots["booking_date"]) if slots.get("booking_date") else None,
                time_slot=slots.get("time_slot"), address=slots.get("address"),
                addressed_as=slots.get("addressed_as"),
                district=profile.get("district"), institution=slots.get("preferred_place"),
                priority_tier=tier, profile=profile if kind == "waitlist" else None,
                note=note, filed_by_operator=operator_id, today=kb_access.today())
            crash_point("after_commit")
        except BookingError as exc:
            dispatcher.utter_message(text=str(exc))
            return [SlotSet("booking_confirmed", None), SlotSet("booking_date", None)]
        logger.info("booking %s %s", booking.reference, "created" if created else "already stored")
        msg = messages()
        dispatcher.utter_message(text=msg["submitted"].format(name=spec()["kinds"][kind]["name"],
                                                              reference=booking.reference))
        if kind == "waitlist":
            dispatcher.utter_message(text=msg["queue"].format(position=store().queue_position(booking.reference),
                                                              tier=booking.priority_tier))
        return [SlotSet("booking_reference", booking.reference), SlotSet("last_reference", booking.reference)]

    async def run(self, dispatcher, tracker, domain):
        if tracker.get_slot("requested_slot") is None:
            # activation (a running form always has a requested slot): start the request in this call
            return self._start(dispatcher, tracker)
        events = await super().run(dispatcher, tracker, domain)
        if not getattr(dispatcher, "rejected", False):
            asked = next((e["value"] for e in reversed(events) if e.get("name") == "requested_slot"), None)
            if asked:
                tracker.add_slots(events)
                ask(dispatcher, tracker, asked)
        return events

    def _start(self, dispatcher, tracker: Tracker) -> list[EventType]:
        """A request of the kind asked for, keeping what is already known about the elder."""
        text = tracker.latest_message.get("text") or ""
        kind = INTENT_KIND.get(_intent(tracker), "home_service")
        events = [SlotSet(s, None) for s in BOOKING_SLOTS] + [SlotSet("booking_kind", kind)]
        service = parse_service_type(text)
        if kind == "home_service" and service:
            events.append(SlotSet("service_type", service))
        answer = parse_date(text, kb_access.today())
        if answer and answer.date and not answer.problem:
            events.append(SlotSet("booking_date", answer.date.isoformat()))
        slot = parse_slot(text) or (answer.slot if answer else None)
        if slot:
            events.append(SlotSet("time_slot", slot))
        turn = latest_turn(tracker)
        # facts said with the request ("帮我妈约助浴，她住姑苏区") are kept like any others
        events += [SlotSet(k, v) for k, v in turn.facts.items() if k != "subject" and tracker.get_slot(k) != v]
        subject = tracker.get_slot("subject") or turn.subject
        if turn.subject and tracker.get_slot("subject") is None:
            events.append(SlotSet("subject", turn.subject))
        # who is filing it, from what was said earlier ("我妈…" -> 子女): never asked again
        relation = turn.relation or tracker.get_slot("speaker_relation") or ("本人" if subject == "self" else None)
        if relation:
            events.append(SlotSet("relationship", relation))
        dispatcher.utter_message(text=messages()["starting"].format(name=spec()["kinds"][kind]["name"]))
        tracker.add_slots(events)
        if kind == "waitlist":
            events += self._waitlist_refusal(tracker, dispatcher)
            tracker.add_slots(events)
        missing = self._missing(tracker)
        if missing:
            ask(dispatcher, tracker, missing)
        return events + [SlotSet("requested_slot", missing)]

    @staticmethod
    def _missing(tracker: Tracker) -> str | None:
        if not tracker.get_slot("booking_kind"):
            return None
        kind = spec()["kinds"][_kind(tracker)]
        wanted = [f for f in kind.get("facts", []) if tracker.get_slot(f) is None] + \
            [f for f in kind["fields"] if not tracker.get_slot(f)] + ["booking_confirmed"]
        return next(iter(wanted), None)



def ask(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str) -> None:
    """The question for one slot, with numbered options; worded for the elder when they talk."""
    msg = messages()
    if slot in FACTS:  # a waiting-list fact the priority tier depends on
        dispatcher.utter_message(text=question(slot, tracker.get_slot("subject")), buttons=numbered(fact_options(slot)))
        return
    if slot == "booking_confirmed":
        dispatcher.utter_message(text=msg["summary"].format(lines="\n".join(_summary_lines(tracker))),
                                 buttons=numbered([tuple(b) for b in msg["summary_buttons"]]))
        return
    if slot == "booking_change":
        fields = spec()["fields"]
        options = [(fields[f]["label"], payload("inform", {"booking_change": f}))
                   for f in spec()["kinds"][_kind(tracker)]["fields"]]
        dispatcher.utter_message(text=msg["which_change"], buttons=numbered(options))
        return
    definition = spec()["fields"][slot]
    text = definition["question"]
    if tracker.get_slot("subject") == "self":
        text = definition.get("question_self", text)
    dispatcher.utter_message(text=text, buttons=numbered([(label, payload("inform", {slot: value}))
                                                          for value, label in definition.get("options", [])]))
