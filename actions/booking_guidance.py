"""Booking requests answered with the KB's own application steps (where, documents)."""
from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from . import kb_access
from .phrasing import wording

# Which policy's application steps answer which request.
INTENT_POLICY = {
    "book_service": "home_care_service_subsidy",
    "apply_waitlist": "public_care_home_waitlist",
    "request_assessment": "ltc_insurance",
    "book_advisor": "elder_care_advisor",
}


class ActionBookingGuidance(Action):
    def name(self) -> str:
        return "action_booking_guidance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict):
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        policy_id = INTENT_POLICY.get(intent)
        if policy_id is None:  # status or cancel: nothing was filed in this conversation
            dispatcher.utter_message(text="没有找到您的预约记录。请到所在社区居委会或街道查询。")
            return []
        policy = kb_access.kb().get(policy_id)
        steps = policy.apply.get("steps") or []
        lines = [f"{policy.name}：{policy.apply['where']}"] + [f"{i}. {s}" for i, s in enumerate(steps, 1)]
        if policy.apply.get("documents"):
            lines.append(wording()["policy_documents"].format(documents="、".join(policy.apply["documents"])))
        dispatcher.utter_message(text="\n".join(lines))
        return []
