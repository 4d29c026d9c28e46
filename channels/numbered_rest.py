"""Rasa's REST channel plus numbered choices and guarded input.

Registered in credentials.yml; served at /webhooks/rest/webhook with the same request
and response format as Rasa's own REST channel.
"""
from __future__ import annotations

import logging
from typing import Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

from storage.masking import install as install_log_masking

from .numbered_choices import ChoiceMemory

logger = logging.getLogger(__name__)
MAX_CHARS = 2000          # longer messages are cut: nobody dictates more in one turn
SORRY = "不好意思，系统出了点问题，请再说一次，或者稍后再试。"


class NumberedRestInput(RestInput):
    def __init__(self) -> None:
        self.choices = ChoiceMemory()
        install_log_masking()  # the Rasa server has configured logging by now

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        hook = Blueprint("numbered_rest_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request):
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            body = request.json if isinstance(request.json, dict) else {}
            sender = str(body.get("sender") or "default")
            text = body.get("message")
            text = text[:MAX_CHARS] if isinstance(text, str) else ""
            text = self.choices.resolve(sender, text)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(),
                                                 metadata=body.get("metadata")))
            except Exception:  # never a stack trace to an elder; no message text in the log
                logger.exception("message handling failed for one sender")
                return response.json([{"recipient_id": sender, "text": SORRY}])
            payloads = [b.get("payload", "") for m in collector.messages for b in m.get("buttons") or []]
            self.choices.remember(sender, payloads)
            return response.json(collector.messages)

        return hook
