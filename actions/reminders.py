"""政策找人: the advisor offers, once, to tell the family when something new applies, and keeps
only what a clear yes allows (storage/followups.py; the notifier in notify/ does the telling).

The offer comes at the end of the results (nothing more to ask), on channels that can tell the
family later: Telegram (a message in the same chat) and the operator console (a call back, so a
phone number is asked). Kept: the facts the engine needs with the year and month of birth
instead of the age, where to tell them, the consent's time and wording. "不用提醒了" ends it
and deletes the record, as /stop and 删除我的信息 do.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from functools import lru_cache

from understanding.booking_parsing import parse_phone
from storage.db import migrated_engine
from storage.settings import Settings

from .render import payload, wording

logger = logging.getLogger(__name__)
STOP = re.compile(r"(?:不用|不要|别|勿要|覅|不必|不想)再?(?:提醒|通知|告诉我)|取消(?:提醒|通知)|(?:提醒|通知)(?:不用|不要)了|退订")
MONTH = re.compile(r"(1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九]|正|腊|冬)\s*月")
MONTH_WORDS = {"正": 1, "腊": 12, "冬": 11, "十": 10, "十一": 11, "十二": 12,
               **{w: i for i, w in enumerate("一二三四五六七八九", 1)}}
DONT_KNOW = re.compile(r"不知道|不清楚|不记得|记不清|忘了|忘记")
# what is kept: the facts the rules read, never the age (the year and month of birth instead);
# who is talking stays, so that a notice says 您 to an elder who asked for themself
NOT_KEPT = ("age",)


@lru_cache(maxsize=1)
def store():
    from storage.followups import FollowupStore   # the notifier's store
    return FollowupStore(migrated_engine(Settings.from_env().db_url))


def channel_of(sender_id: str, metadata: dict) -> str | None:
    """Where the family can be told later, or None (a web chat or the terminal: nowhere)."""
    if metadata.get("operator"):
        return "console"
    if sender_id.startswith("tg-"):
        return "telegram"
    return None


def birth_month_in(text: str) -> int | None:
    found = MONTH.search(text)
    if not found:
        return None
    word = found.group(1)
    return int(word) if word.isdigit() else MONTH_WORDS.get(word)


def birth_of(age: int | None, month: int, today: dt.date) -> tuple[int | None, int]:
    """(year, month) of birth from the age and the month of the birthday (taken as its 1st)."""
    if age is None:
        return None, month
    return today.year - age - (1 if today.month < month else 0), month


class Reminders:
    """The offer and its answers, inside one turn of the conversation."""

    def __init__(self, conversation):
        self.c = conversation

    @property
    def state(self) -> str | None:
        return self.c.slots.get("reminder")

    @property
    def channel(self) -> str | None:
        return channel_of(self.c.sender_id, self.c.metadata)

    def can_offer(self) -> bool:
        return self.state is None and self.channel is not None and bool(self.c.profile)

    def offer(self) -> tuple[str, list[tuple[str, str]]]:
        """The question and its two buttons, for the footer of the results."""
        w = wording()["reminders"]
        self.c._set("reminder", "offered")
        return w["offer"].format(who=self.c.who()), [(w["yes_button"], payload("affirm")), (w["no_button"], payload("deny"))]

    def intent(self) -> str | None:
        """This turn's meaning for the reminders, if it has one."""
        turn, state = self.c.turn, self.state
        if STOP.search(turn.text):
            return "reminder_stop"
        if state == "offered" and turn.intent in ("affirm", "deny") and not turn.facts:
            return "reminder_yes" if turn.intent == "affirm" else "reminder_no"
        if state == "month":
            return "reminder_month"
        if state == "phone":
            return "reminder_phone"
        if state == "offered":
            self.c._set("reminder", "passed")   # anything else: the offer lapses, never asked again
        return None

    # --- answers ---------------------------------------------------------------------------------------
    def on_yes(self) -> None:
        w = wording()["reminders"]
        if "age" in self.c.profile:
            self.c._set("reminder", "month")
            self.c._say(w["ask_month"].format(who=self.c.who()))
            self.c._posed = True
            return
        self._next_or_keep()

    def on_no(self) -> None:
        self.c._set("reminder", "declined")
        self.c._say(wording()["reminders"]["declined"])

    def on_month(self) -> None:
        month = birth_month_in(self.c.turn.text)
        if month is None and not DONT_KNOW.search(self.c.turn.text):
            self._keep_or_ask_phone(None, said_other=True)
            return
        self.c._set("reminder_month", month)
        self._next_or_keep()

    def _next_or_keep(self) -> None:
        self._keep_or_ask_phone(self.c.slots.get("reminder_month"))

    def _keep_or_ask_phone(self, month: int | None, said_other: bool = False) -> None:
        w = wording()["reminders"]
        if self.channel == "console":   # a call back needs a number to call
            self.c._set("reminder_month", month)
            self.c._set("reminder", "phone")
            self.c._say(w["ask_phone"])
            self.c._posed = True
            return
        self._keep(month, phone=None)
        if said_other:
            self.c._resume(prefix=False)

    def on_phone(self) -> None:
        phone = parse_phone(self.c.turn.text)
        if phone is None:
            self.c._set("reminder", "passed")
            self.c._say(wording()["reminders"]["no_phone"])
            return
        self._keep(self.c.slots.get("reminder_month"), phone=phone)

    def _keep(self, month: int | None, phone: str | None) -> None:
        w = wording()["reminders"]
        c = self.c
        age = c.profile.get("age")
        # with the month, the year of birth follows; without it the store takes the latest birth
        # the age allows (storage.followups.birth_from_age): a notice is never early
        born = dict(zip(("birth_year", "birth_month"), birth_of(age, month, c.today))) if month else {"age": age}
        facts = {k: v for k, v in c.profile.items() if k not in NOT_KEPT}
        # what the family has just heard is the baseline: only what gets better is told later
        now = {r.id: r.status for r in c.results() if r.status in ("eligible", "possible")}
        try:
            store().keep(channel=self.channel, address=phone if self.channel == "console" else c.sender_id,
                         sender_id=c.sender_id, person=c.household.current or "", facts=facts,
                         wording=w["offer"].format(who=c.who()), statuses_now=now, **born)
        except Exception:
            logger.exception("a reminder could not be kept")
            c._set("reminder", "passed")
            c._say(w["failed"])
            return
        c._set("reminder", "kept")
        c._set("reminder_month", None)
        c._say(w["kept_console" if self.channel == "console" else "kept"].format(who=c.who()))

    def on_stop(self) -> None:
        w = wording()["reminders"]
        try:
            removed = store().stop(self.c.sender_id)
        except Exception:
            logger.exception("reminders could not be stopped")
            self.c._say(w["failed_stop"])
            return
        self.c._set("reminder", "declined")
        self.c._say(w["stopped"] if removed else w["nothing_to_stop"])
