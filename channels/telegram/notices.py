"""政策找人 on Telegram: a notice sent into the family's chat, its next step as a button.

The button is stored like the bridge's own (storage/telegram_buttons.py, callback data
"b:<id>" under the conversation's key), so a tap reaches the advisor through the running bridge
exactly as any other button does. The conversation key is where the family consented:
"tg-<chat>" (a private chat) or "tg-<chat>-<user>" (one person in a group; group ids are
negative, "tg--100123-42").

Deliverer contract (notify/deliver.py): `send(notice)` returns once Telegram accepted the
message and raises otherwise; a chat that blocked the bot or no longer exists raises
Undeliverable (permanent: not retried), flood control raises Later (retry_after seconds).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.request import HTTPXRequest

from storage.telegram_buttons import ButtonStore

DEFAULT_BASE_URL = "https://api.telegram.org/bot"


class Undeliverable(Exception):
    """This chat cannot be reached (blocked, deleted): trying again would not help."""
    permanent = True


class Later(Exception):
    """Telegram's flood control: try again after retry_after seconds."""

    def __init__(self, retry_after: float):
        super().__init__(f"retry after {retry_after:g} s")
        self.retry_after = retry_after


def quiet_http_logs() -> None:
    # httpx logs every request URL at INFO, and a Bot API URL carries the token
    for name in ("httpx", "httpcore", "telegram"):
        logging.getLogger(name).setLevel(logging.WARNING)


def chat_of(address: str) -> int:
    """The Telegram chat id in a conversation key: tg-501 → 501, tg--100123-42 → -100123."""
    if not address.startswith("tg-"):
        raise Undeliverable("not a Telegram conversation")
    rest = address[3:]
    negative = rest.startswith("-")
    head = rest.lstrip("-").split("-", 1)[0]
    if not head.isdigit():
        raise Undeliverable("not a Telegram conversation")
    return -int(head) if negative else int(head)


class TelegramDeliverer:
    channel = "telegram"

    def __init__(self, token: str, buttons: ButtonStore, base_url: str | None = None, timeout: float = 20.0):
        quiet_http_logs()
        self.buttons = buttons
        request = HTTPXRequest(connection_pool_size=8, connect_timeout=timeout, read_timeout=timeout,
                               write_timeout=timeout, pool_timeout=timeout)
        self.bot = Bot(token, base_url=base_url or DEFAULT_BASE_URL, request=request)

    async def __aenter__(self) -> "TelegramDeliverer":
        # no Bot.initialize(): its getMe would make Telegram being down fail the whole run,
        # where each send should fail (and be retried) on its own
        return self

    async def __aexit__(self, *exc) -> None:
        await self.bot.shutdown()

    async def send(self, notice) -> None:
        chat = chat_of(notice.address)
        stored = []
        if notice.button_payload:
            stored = await asyncio.to_thread(self.buttons.add, notice.address,
                                             [(notice.button_title or "下一步", notice.button_payload)])
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(b.title, callback_data=f"b:{b.id}")] for b in stored]) \
            if stored else None
        try:
            sent = await self.bot.send_message(chat, notice.text, reply_markup=markup)
        except Forbidden:
            raise Undeliverable("the chat blocked the bot") from None
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                raise Undeliverable("chat not found") from None
            raise
        except RetryAfter as exc:
            wait = getattr(exc, "_retry_after", None)
            raise Later(wait.total_seconds() if isinstance(wait, dt.timedelta) else 30.0) from None
        if stored:
            await asyncio.to_thread(self.buttons.attach, stored, sent.message_id)
