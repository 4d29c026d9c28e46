"""Overrides Rasa's default action_restart: nothing is wiped on a guess.

The classifier may take an everyday phrase ("刚才说过了", "电话刚才说了呀") for a restart. Only an
explicit phrase ("重新开始", /restart, the confirmation button) clears the conversation; anything
else is asked first, with what would be lost, and "不是" keeps everything.
"""
import re

from rasa_sdk import Action
from rasa_sdk.events import Restarted, SlotSet

from .profile import known_profile
from .render import describe_value, numbered, wording

EXPLICIT = re.compile(r"^/restart|重新开始|从头开始|从头来|重新来|重来一遍|清空|全部重新|换一位老人|换个老人")


class ActionRestart(Action):
    def name(self) -> str:
        return "action_restart"

    async def run(self, dispatcher, tracker, domain):
        text = (tracker.latest_message or {}).get("text") or ""
        profile = {k: v for k, v in known_profile(tracker.slots).items() if k != "subject"}
        if EXPLICIT.search(text) or not (profile or tracker.get_slot("booking_kind")):
            dispatcher.utter_message(text=wording()["restart"])
            return [Restarted()]
        w = wording()["restart_confirm"]
        kept = "，".join(describe_value(k, v) for k, v in profile.items())
        dispatcher.utter_message(text=w["ask"].format(facts=kept or w["a_request"]),
                                 buttons=numbered([(w["yes_button"], "/restart"), (w["no_button"], "/deny")]))
        return [SlotSet("restart_asked", True)]   # a plain 是/不是 next answers it (actions/conversation.py)
