"""Overrides Rasa's default action_restart: nothing is wiped on a guess.

The classifier may take an everyday phrase ("刚才说过了", "电话刚才说了呀") for a restart. Only an
explicit phrase ("重新开始", /restart, the confirmation button) clears the conversation; a guess
below the sure confidence, or a complaint about being asked again, is answered by the advisor as
any other message; a sure guess is asked first, with what would be lost, and "不是" keeps everything.
"""
from rasa_sdk import Action
from rasa_sdk.events import Restarted, SlotSet

from .profile import known_profile
from .render import describe_value, numbered, wording

from .advisor import carry_on
from .guards import ALREADY_SAID, EXPLICIT_RESTART as EXPLICIT, sure_confidence
from .turn import latest_turn


class ActionRestart(Action):
    def name(self) -> str:
        return "action_restart"

    async def run(self, dispatcher, tracker, domain):
        text = (tracker.latest_message or {}).get("text") or ""
        profile = {k: v for k, v in known_profile(tracker.slots).items() if k != "subject"}
        if not EXPLICIT.search(text) and (ALREADY_SAID.search(text) or latest_turn(tracker).confidence < sure_confidence()):
            return carry_on(dispatcher, tracker)   # "刚才说过了": what was recorded, never a wipe
        if EXPLICIT.search(text) or not (profile or tracker.get_slot("booking_kind")):
            dispatcher.utter_message(text=wording()["restart"])
            return [Restarted()]
        w = wording()["restart_confirm"]
        kept = "，".join(describe_value(k, v) for k, v in profile.items())
        dispatcher.utter_message(text=w["ask"].format(facts=kept or w["a_request"]),
                                 buttons=numbered([(w["yes_button"], "/restart"), (w["no_button"], "/deny")]))
        return [SlotSet("restart_asked", True)]   # a plain 是/不是 next answers it (actions/conversation.py)
