"""「删除我的信息」: the person asks, confirms, and everything personal is removed.

The actions only talk; the removal itself is done by the REST channel right after the turn
(channels/numbered_rest.py → storage/privacy.py), once Rasa has saved the tracker: that way the
conversation's own events are deleted too, with nothing written after them.
"""
from rasa_sdk import Action
from rasa_sdk.events import Restarted, SlotSet

from .advisor import carry_on
from .guards import EXPLICIT_FORGET, sure
from .render import numbered, payload, wording
from .turn import latest_turn

FORGOTTEN = {"type": "forgotten"}   # the channel's cue (README "Contract for channels")


class ActionForgetMe(Action):
    def name(self) -> str:
        return "action_forget_me"

    async def run(self, dispatcher, tracker, domain):
        if not sure(latest_turn(tracker), EXPLICIT_FORGET):
            return carry_on(dispatcher, tracker)   # a guess: nothing is offered for deletion, nothing stops
        w = wording()["forget"]
        dispatcher.utter_message(text=w["ask"], buttons=numbered([(w["confirm"], payload("forget_me_confirm")),
                                                                  (w["keep"], payload("deny"))]))
        # a request in progress waits: "不删了" goes back to it, the confirmation removes everything
        return [SlotSet("question_key", None)]


def _asked_just_now(tracker) -> bool:
    """The advisor's last words before this message were the deletion question."""
    events = list(tracker.events_after_latest_restart())
    seen_user = False
    for e in reversed(events):
        if e.get("event") == "user":
            if seen_user:
                return False
            seen_user = True
        elif e.get("event") == "bot" and seen_user:
            return (e.get("text") or "") == wording()["forget"]["ask"]
    return False


class ActionForgetMeConfirm(Action):
    def name(self) -> str:
        return "action_forget_me_confirm"

    async def run(self, dispatcher, tracker, domain):
        if not _asked_just_now(tracker):
            if tracker.latest_message.get("intent", {}).get("name") != "forget_me_confirm":
                return carry_on(dispatcher, tracker)   # a plain "是" that answered something else
            return await ActionForgetMe().run(dispatcher, tracker, domain)   # a stray "确定删除": ask first
        dispatcher.utter_message(text=wording()["forget"]["done"])
        dispatcher.utter_message(json_message=FORGOTTEN)
        return [Restarted()]
