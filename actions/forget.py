"""「删除我的信息」: the person asks, confirms, and everything personal is removed.

The actions only talk; the removal itself is done by the REST channel right after the turn
(channels/numbered_rest.py → storage/privacy.py), once Rasa has saved the tracker: that way the
conversation's own events are deleted too, with nothing written after them.
"""
from rasa_sdk import Action
from rasa_sdk.events import Restarted, SlotSet

from .render import numbered, payload, wording

FORGOTTEN = {"type": "forgotten"}   # the channel's cue (README "Contract for channels")


class ActionForgetMe(Action):
    def name(self) -> str:
        return "action_forget_me"

    async def run(self, dispatcher, tracker, domain):
        w = wording()["forget"]
        dispatcher.utter_message(text=w["ask"], buttons=numbered([(w["confirm"], payload("forget_me_confirm")),
                                                                  (w["keep"], payload("deny"))]))
        # a request in progress stops: nothing half-filed is kept
        return [SlotSet(name, None) for name in ("booking_kind", "task_field", "lookup_purpose", "question_key")]


class ActionForgetMeConfirm(Action):
    def name(self) -> str:
        return "action_forget_me_confirm"

    async def run(self, dispatcher, tracker, domain):
        asked = any(e.get("event") == "action" and e.get("name") == "action_forget_me"
                    for e in tracker.events_after_latest_restart())
        if not asked:   # a stray "确定删除" without the question: ask first
            return await ActionForgetMe().run(dispatcher, tracker, domain)
        dispatcher.utter_message(text=wording()["forget"]["done"])
        dispatcher.utter_message(json_message=FORGOTTEN)
        return [Restarted()]
