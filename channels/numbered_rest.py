"""Rasa's REST channel plus numbered choices and guarded input.

Registered in credentials.yml; served at /webhooks/rest/webhook with the same request
and response format as Rasa's own REST channel.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sqlalchemy import text as sql_text

from storage.db import migrated_engine
from storage.masking import install as install_log_masking
from storage.privacy import forget
from storage.settings import Settings

from .numbered_choices import may_name_a_button, resolve_typed
from .outage import LOCKS_DOWN, outage_message

logger = logging.getLogger(__name__)
MAX_CHARS = 2000          # longer messages are cut: nobody dictates more in one turn
SORRY = "不好意思，系统出了点问题，请再说一次，或者稍后再试。"
EMPTY = "您还没有输入内容。可以说说老人的年龄、住在哪个区，或者直接问我政策。"
FORGET_FAILED = "不好意思，刚才没能删除您的信息，请稍后再说一次「删除我的信息」。"


def sql_tracker_store(request: Request):
    """The SQL tracker store inside Rasa's wrappers (FailSafeTrackerStore, AwaitableTrackerStore)."""
    store = request.app.ctx.agent.tracker_store
    while hasattr(store, "_tracker_store"):
        store = store._tracker_store
    return store


def _ping(engine) -> None:
    with engine.connect() as conn:
        conn.execute(sql_text("SELECT 1"))


class NumberedRestInput(RestInput):
    def __init__(self) -> None:
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
            if not text.strip():   # nothing to understand: answered here, nothing stored
                return response.json([{"recipient_id": sender, "text": EMPTY}])
            collector = CollectingOutputChannel()
            try:
                # Rasa's FailSafeTrackerStore would answer a database outage with an empty
                # conversation (and keep the turn in memory only): check first, apologise instead
                engine = getattr(sql_tracker_store(request), "engine", None)
                if engine is not None:
                    await asyncio.to_thread(_ping, engine)
                metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
                if may_name_a_button(text):   # "2" or "确认提交": the button of the last reply
                    tracker = await request.app.ctx.agent.tracker_store.retrieve(sender)
                    typed, text = text, resolve_typed(text, tracker.events if tracker else [])
                    if text != typed:   # typed, not tapped: a request it starts is confirmed first
                        metadata = {**(metadata or {}), "typed_choice": typed}
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(),
                                                 metadata=metadata))
            except Exception as exc:  # never a stack trace to an elder; no message text in the log
                apology = outage_message(exc)
                if apology:
                    logger.error("message refused: %s unreachable (%s)",
                                 "lock store" if apology == LOCKS_DOWN else "database", type(exc).__name__)
                    return response.json([{"recipient_id": sender, "text": apology}], status=503)
                logger.exception("message handling failed for one sender")
                return response.json([{"recipient_id": sender, "text": SORRY}])
            if any((m.get("custom") or {}).get("type") == "forgotten" for m in collector.messages):
                try:
                    await self._forget(request, sender)
                except Exception as exc:   # said "删除了" only if it was: otherwise an apology
                    logger.error("removing personal data failed for one conversation (%s)", type(exc).__name__)
                    return response.json([{"recipient_id": sender, "text": FORGET_FAILED}], status=503)
            return response.json(collector.messages)

        return hook

    @staticmethod
    async def _forget(request: Request, sender: str) -> None:
        """「删除我的信息」 confirmed: the turn is saved by now, so every event of it goes too."""
        engine = sql_tracker_store(request).engine
        removed = await asyncio.to_thread(forget, sender, migrated_engine(Settings.from_env().db_url), engine)
        logger.info("personal data removed for one conversation: %d events, %d bookings", removed.events,
                    removed.bookings)
