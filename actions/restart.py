"""Overrides Rasa's default action_restart: the reply comes from wording.yml."""
from rasa_sdk import Action
from rasa_sdk.events import Restarted

from .render import wording


class ActionRestart(Action):
    def name(self) -> str:
        return "action_restart"

    async def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text=wording()["restart"])
        return [Restarted()]
