"""One conversation turn, whatever the platform: what a message, a tap, a voice note or a photo
becomes, in order per conversation and at once across conversations.

A platform adapter gives each turn an Outbox (how to show a text with choices, the typing sign)
and the conversation's key ("tg-501", "wx-<openid>"); everything else is here. Choices the
channel answers itself (a 身份证 photo's 对/不对, 我听到的是's 不对) are stored as local buttons
(storage/telegram_buttons.py, keyed by the conversation), so a typed number or a tap finds them.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from typing import Awaitable, Callable, Protocol

from policy_kb import clock
from storage.bookings import KIND_LABELS, STATUS_LABELS, BookingStore
from storage.masking import mask_phone
from storage.telegram_buttons import Button, ButtonStore
from understanding.choices import choice_number

from . import id_photo, speech
from .advisor import AdvisorClient
from .render import bubbles
from .words import WORDS

logger = logging.getLogger(__name__)

LOCAL = "local:"                      # payloads the channel answers itself
VOICE_WRONG = LOCAL + "voice_wrong"   # 不对 under 我听到的是：…
ID_WRONG = LOCAL + "id_wrong"
COMMANDS = {"start": "/ask_recommendation", "help": "/help", "restart": "/restart",
            "stop": "不用提醒了"}   # stop: said in words, which ends the reminders (actions/reminders.py)
Choices = list[tuple[str, str]]


class Outbox(Protocol):
    async def say(self, text: str, choices: Choices = (), local: bool = False) -> None:
        """Show one message; `choices` as buttons or numbered lines. Local choices are answered
        by the channel, not the advisor."""

    async def typing(self) -> None:
        """The "working on it" sign, where the platform has one."""


class ChatCore:
    def __init__(self, advisor: AdvisorClient, buttons: ButtonStore, bookings: BookingStore, stt,
                 words: dict[str, str] = WORDS):
        self.advisor, self.buttons, self.bookings, self.stt, self.words = advisor, buttons, bookings, stt, words
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    # --- the advisor's replies ---------------------------------------------------------------
    async def converse(self, key: str, text: str, out: Outbox) -> None:
        await out.typing()
        await self.show(out, await self.advisor.relay(key, text))

    async def show(self, out: Outbox, messages: list[dict] | None) -> None:
        if messages is None:
            await out.say(self.words["advisor_down"])
            return
        for text, choices in bubbles(messages):
            await out.say(text, choices)

    # --- what comes in -------------------------------------------------------------------------
    async def command(self, key: str, name: str, out: Outbox) -> None:
        """/start /help /restart /stop; /status is answered from the database."""
        async with self.locks[key]:
            if name == "status":
                await out.say(await self.status_text(key))
                return
            if name == "start":
                await out.say(self.words["start"])
            await self.converse(key, COMMANDS[name], out)

    async def text(self, key: str, text: str, out: Outbox) -> None:
        async with self.locks[key]:
            number = choice_number(text)
            latest = await asyncio.to_thread(self.buttons.latest, key) if number else []
            chosen = next((b for b in latest if b.position == number and b.payload != VOICE_WRONG), None)
            if chosen:   # a typed number picks from the last choices shown (never 我听到的是's 不对)
                await self.press(key, chosen, out)
                return
            await self.converse(key, text, out)

    async def tap(self, key: str, button_id: int, out: Outbox,
                  chosen: Callable[[Button], Awaitable[None]] | None = None) -> None:
        """A tapped button by its stored id; `chosen` marks it on the platform (✅)."""
        async with self.locks[key]:
            button = await asyncio.to_thread(self.buttons.get, key, button_id)
            if button is None:
                await out.say(self.words["old_button"])
                return
            if chosen is not None:
                await chosen(button)
            await self.press(key, button, out)

    async def press(self, key: str, button: Button, out: Outbox) -> None:
        if button.payload == ID_WRONG:
            await out.say(self.words["id_wrong"])
        elif button.payload == VOICE_WRONG:
            await out.say(self.words["voice_wrong"])
        elif not button.payload.startswith(LOCAL):
            await self.converse(key, button.payload, out)

    async def voice(self, key: str, out: Outbox, fetch: Callable[[], Awaitable[bytes]],
                    seconds: float | None = None, size: int | None = None, heard: str | None = None) -> None:
        """A voice message: `heard` when the platform transcribed it already (WeChat's
        Recognition), else fetched and transcribed in speech.Transcriber's worker processes
        (this coroutine only waits: every other conversation goes on meanwhile)."""
        if heard is None:
            if self.stt is None or not self.stt.available:
                await out.say(self.words["voice_off"])
                return
            if self.stt.too_long(seconds, size):   # before any download or work
                await out.say(self.words["voice_too_long"].format(seconds=self.stt.limits.max_seconds))
                return
        async with self.locks[key]:
            if heard is None:
                await out.say(self.words["listening"])
                await out.typing()
                heard = await self._transcribe(fetch, out)
                if heard is None:
                    return
            if not heard.strip():
                await out.say(self.words["voice_unclear"])
                return
            # what was heard is shown (a mistake is visible), with one tap to say it was wrong
            await out.say(self.words["heard"].format(text=heard), [(self.words["heard_wrong"], VOICE_WRONG)], local=True)
            await self.show(out, await self.advisor.relay(key, heard))

    async def _transcribe(self, fetch, out: Outbox) -> str | None:
        try:
            data = await fetch()
            return await self.stt.transcribe(data)
        except speech.TooLong:
            await out.say(self.words["voice_too_long"].format(seconds=self.stt.limits.max_seconds))
        except speech.Busy:
            await out.say(self.words["voice_busy"])
        except Exception as exc:   # the elder is asked again; the log has the kind, never the audio
            logger.warning("a voice note could not be transcribed (%s)", type(exc).__name__)
            return ""
        return None

    async def photo(self, key: str, out: Outbox, fetch: Callable[[], Awaitable[bytes]]) -> None:
        """A 身份证 photo: read in memory, shown masked, confirmed before the age is used."""
        async with self.locks[key]:
            await out.typing()
            try:
                data = await fetch()   # in memory only, never stored
                found = await asyncio.to_thread(id_photo.read_id, data, clock.today())
            except Exception:
                logger.warning("a photo could not be read")
                found = None
            if found is None:
                await out.say(self.words["id_not_found"])
                return
            await out.say(self.words["id_found"].format(masked=found.masked, age=found.age),
                          [(f"1. {self.words['id_yes']}", "/inform" + json.dumps({"age": found.age})),
                           (f"2. {self.words['id_no']}", ID_WRONG)], local=True)

    async def other(self, out: Outbox) -> None:
        await out.say(self.words["other"])

    async def status_text(self, key: str) -> str:
        found = await asyncio.to_thread(self.bookings.list, sender_id=key)
        lines = [self.words["booking_line"].format(kind=KIND_LABELS[b.kind], reference=b.reference,
                                              status=STATUS_LABELS[b.status], phone=mask_phone(b.phone))
                 for b in found]
        return "\n".join(lines) or self.words["no_bookings"]
