"""Status and cancellation by reference number, from any conversation.

The conversation that filed a booking sees it directly. Any other sender must first give
the phone number stored on the booking (the same family); three wrong tries end the lookup.
"""
from __future__ import annotations

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet

from storage.masking import mask_phone
from understanding.booking_parsing import parse_phone, parse_reference

from storage.bookings import STATUS_LABELS

from .booking_support import describe_date, messages, spec, store
from .render import numbered


def lookup_wording() -> dict:
    return spec()["lookup"]

LOOKUP_SLOTS = ("lookup_reference", "lookup_phone", "lookup_confirmed", "lookup_purpose", "lookup_tries", "lookup_done")
MAX_TRIES = 3
HANDLED_ELSEWHERE = {"book_service", "apply_waitlist", "request_assessment", "book_advisor", "ask_policy", "forget_me"}


def _mine(tracker: Tracker, reference: str) -> bool:
    booking = store().get(reference)
    return booking is not None and booking.sender_id == tracker.sender_id


class ValidateLookupForm(FormValidationAction):
    """One action-server call per turn: starts the lookup on activation, asks the next slot
    itself and gives the status (or cancels) once everything needed is known."""

    def name(self) -> str:
        return "validate_lookup_form"

    async def run(self, dispatcher, tracker, domain):
        events = []
        if tracker.get_slot("requested_slot") is None:  # activation: a running form always has one
            events = start_events(tracker)
            reference = [e["value"] for e in events if e.get("name") == "lookup_reference"][-1]
            if reference and store().get(reference) is None:
                dispatcher.utter_message(text=lookup_wording()["not_found"].format(reference=reference))
                events += [SlotSet("lookup_reference", None), SlotSet("lookup_tries", 1)]
            tracker.add_slots(events)
            requested = await self.next_requested_slot(dispatcher, tracker, domain)
            events.append(requested)
        else:
            events = await super().run(dispatcher, tracker, domain)
            if getattr(dispatcher, "rejected", False):
                return events
        tracker.add_slots(events)
        asked = next((e["value"] for e in reversed(events) if e.get("name") == "requested_slot"), "-")
        if asked and asked != "-":
            ask(dispatcher, tracker, asked)
        elif asked is None and not tracker.get_slot("lookup_done") and tracker.get_slot("lookup_reference"):
            finish(dispatcher, tracker)
            events.append(SlotSet("lookup_done", True))
        return events

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        if tracker.get_slot("lookup_done"):
            return []
        reference = tracker.get_slot("lookup_reference")
        needed = ["lookup_reference"]
        if reference and not _mine(tracker, reference):
            needed.append("lookup_phone")
        if tracker.get_slot("lookup_purpose") == "cancel":
            needed.append("lookup_confirmed")
        return needed

    async def get_extraction_events(self, dispatcher, tracker, domain) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if requested == "lookup_reference":
            reference = parse_reference(text)
            return [SlotSet("lookup_reference", reference)] if reference else []
        if requested == "lookup_phone":
            phone = parse_phone(text)
            return [SlotSet("lookup_phone", phone)] if phone else []
        if requested == "lookup_confirmed":
            if intent == "affirm":
                return [SlotSet("lookup_confirmed", True)]
            if intent == "deny":
                return [SlotSet("lookup_confirmed", False)]
        return []

    async def get_validation_events(self, dispatcher, tracker, domain) -> list[EventType]:
        changed = tracker.slots_to_validate()
        reference = tracker.get_slot("lookup_reference")
        tries = int(tracker.get_slot("lookup_tries") or 0)
        if "lookup_reference" in changed and reference and store().get(reference) is None:
            dispatcher.utter_message(text=lookup_wording()["not_found"].format(reference=reference))
            return self._retry(dispatcher, "lookup_reference", tries)
        if "lookup_phone" in changed and not store().verify_phone(reference, changed["lookup_phone"]):
            dispatcher.utter_message(text=lookup_wording()["wrong_phone"])
            return self._retry(dispatcher, "lookup_phone", tries)
        events = [SlotSet(k, v) for k, v in changed.items() if k in LOOKUP_SLOTS]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if not events and intent in HANDLED_ELSEWHERE:
            if tracker.latest_action_name == "action_listen":
                dispatcher.rejected = True  # the form rejects; a rule switches to the request or answers
            return []
        # only a question of this form: switching here from a booking leaves its requested slot
        if not events and tracker.get_slot("requested_slot") in LOOKUP_SLOTS:
            dispatcher.utter_message(text=messages()["not_understood"])
            return self._retry(dispatcher, tracker.get_slot("requested_slot"), tries)
        return events

    @staticmethod
    def _retry(dispatcher, slot: str, tries: int) -> list[EventType]:
        if tries + 1 >= MAX_TRIES:
            dispatcher.utter_message(text=lookup_wording()["too_many"])
            return [SlotSet(s, None) for s in LOOKUP_SLOTS] + [SlotSet("lookup_done", True)]  # ends the form
        return [SlotSet(slot, None), SlotSet("lookup_tries", tries + 1)]


def ask(dispatcher, tracker, slot: str) -> None:
    key = {"lookup_reference": "ask_reference", "lookup_phone": "ask_phone", "lookup_confirmed": "ask_cancel"}[slot]
    if key == "ask_reference" and not tracker.get_slot("last_reference") and not tracker.get_slot("lookup_tries"):
        key = "ask_reference_none"  # nothing filed here yet: say so, and how to apply
    buttons = numbered([tuple(b) for b in lookup_wording()["cancel_buttons"]]) if slot == "lookup_confirmed" else []
    dispatcher.utter_message(text=lookup_wording()[key].format(reference=tracker.get_slot("lookup_reference")), buttons=buttons)


def start_events(tracker) -> list[EventType]:
    """Status or cancel: the reference from the message, else this conversation's latest."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    reference = parse_reference(tracker.latest_message.get("text") or "") or tracker.get_slot("last_reference")
    return [SlotSet(s, None) for s in LOOKUP_SLOTS] + [
        SlotSet("lookup_purpose", "cancel" if intent == "cancel_booking" else "status"),
        SlotSet("lookup_reference", reference)]


def finish(dispatcher, tracker) -> None:
    """The status, or the cancellation, once everything needed is known."""
    reference = tracker.get_slot("lookup_reference")
    booking = store().get(reference) if reference else None
    if booking is None:
        return
    if tracker.get_slot("lookup_purpose") == "cancel":
        if tracker.get_slot("lookup_confirmed") is not True:
            dispatcher.utter_message(text=lookup_wording()["kept"])
        elif booking.status not in ("submitted", "confirmed"):
            dispatcher.utter_message(text=lookup_wording()["cannot_cancel"].format(
                reference=booking.reference, status=STATUS_LABELS[booking.status]))
        else:
            store().cancel(booking.reference, actor="user")
            dispatcher.utter_message(text=lookup_wording()["cancelled"].format(reference=booking.reference))
        return
    lines = [f"{spec()['kinds'][booking.kind]['name']} {booking.reference}",
             f"状态：{STATUS_LABELS[booking.status]}"]
    if booking.booking_date:
        lines.append(f"时间：{describe_date(booking.booking_date.isoformat())}{booking.time_slot or ''}")
    if booking.service_type:
        lines.append(f"服务：{booking.service_type}")
    lines.append(f"联系电话：{mask_phone(booking.phone)}")
    if booking.kind == "waitlist" and booking.status in ("submitted", "confirmed"):
        lines.append(f"目前排在第 {store().queue_position(booking.reference)} 位（第 {booking.priority_tier} 优先档）")
    dispatcher.utter_message(text="\n".join(lines))
