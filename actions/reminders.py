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

import cn2an

from understanding.booking_parsing import parse_phone
from storage.db import migrated_engine
from storage.settings import Settings

from .render import payload, wording

logger = logging.getLogger(__name__)
# "不用提醒了", "别发了", "不要再给我推送了", "取消提醒", "退订", "TD": the reminders end (typos 题醒, 在)
STOP = re.compile(r"(?:不用|不要|别|勿要|覅|不必|不想|不需要)\s*(?:再|在)?\s*(?:给我|拨我)?\s*"
                  r"(?:提醒|题醒|通知|推送|发(?:消息|信息|提醒|通知)?(?:拨我|给我)?了)"
                  r"|(?:不想|不要)收到(?:提醒|通知|消息)|取消(?:提醒|通知|订阅)|停止(?:提醒|通知|推送)"
                  r"|(?:提醒|通知)(?:不用|不要)了|退订|^\s*(?:td|TD|/stop)\s*$")
# a yes to the offer in other words ("麻烦你提醒我", "嗯那就提醒吧", "要的，谢谢你"), and a wish for it
# later ("以后有新政策能不能提醒我", "帮我订个提醒")
YES = re.compile(r"^\s*(?:要|耀|好|行|可以|嗯|需要|麻烦|提醒)|提醒我|提醒吧|提醒一下|要的|好的")
WANT = re.compile(r"提醒我|订阅提醒|订个提醒|要提醒|设个提醒|能不能提醒|可以提醒|通知我一声|有新政策.{0,6}(?:告诉|通知)我")
NO = re.compile(r"不用|不要|不了|算了|以后再说|勿要|覅|没必要|不需要")
MONTH = re.compile(r"(1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九]|正|腊|冬)\s*月")
BARE_MONTH = re.compile(r"^\s*(1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])\s*$")
DAY = re.compile(r"月\s*(?:份)?\s*(3[01]|[12]?\d|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九]|初[一二三四五六七八九十])\s*[号日]?")
YEAR = re.compile(r"(19[0-9]{2}|20[0-2][0-9])\s*年")
MONTH_WORDS = {"正": 1, "腊": 12, "冬": 11, "十": 10, "十一": 11, "十二": 12,
               **{w: i for i, w in enumerate("一二三四五六七八九", 1)}}
LUNAR = re.compile(r"农历|阴历|老历|旧历|腊月|正月|冬月")
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
    if sender_id.startswith("wx-"):   # a 公众号 follower: told in the same conversation
        return "wechat"
    return None


def _month_number(word: str) -> int | None:
    return int(word) if word.isdigit() else MONTH_WORDS.get(word)


def birth_month_in(text: str) -> int | None:
    """The month of birth said ("三月", "5月份", a bare "3"), as a solar month. A lunar month is
    about a month behind the solar one: it counts as the month after, so no notice comes early."""
    found = MONTH.search(text) or BARE_MONTH.search(text)
    if not found:
        return None
    month = _month_number(found.group(1))
    if month and LUNAR.search(text):
        month = month % 12 + 1
    return month


def birth_day_in(text: str) -> int | None:
    found = DAY.search(text)
    if not found:
        return None
    word = found.group(1).replace("初", "")
    if word.isdigit():
        return int(word)
    try:
        return int(cn2an.cn2an(word, "smart"))
    except (ValueError, KeyError):
        return None


def birth_of(age: int | None, month: int, today: dt.date, day: int | None = None) -> tuple[int | None, int]:
    """(year, month) of birth from the age and the birthday (taken as the 1st of its month, unless
    the day said is still ahead this month: then the birthday is still to come)."""
    if age is None:
        return None, month
    to_come = today.month < month or (today.month == month and day is not None and day > today.day)
    return today.year - age - (1 if to_come else 0), month


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
        turn, state, text = self.c.turn, self.state, self.c.turn.text
        if STOP.search(text):
            return "reminder_stop"
        if state == "offered" and not turn.facts:
            if turn.intent == "deny" or (NO.search(text) and turn.intent != "affirm"):
                return "reminder_no"
            if turn.intent == "affirm" or YES.search(text):
                return "reminder_yes"
        if state == "month":
            if birth_month_in(text) or DONT_KNOW.search(text) or YEAR.search(text) or self.channel == "console":
                return "reminder_month"
            self._keep(None, phone=None, quiet=True)   # a question instead: kept, and the question answered
            return None
        if state == "phone":
            return "reminder_phone"
        if WANT.search(text) and self.channel and state not in ("kept", "month", "phone"):
            return "reminder_yes"   # asked for later in so many words, or after a wrong tap
        if state == "offered":
            self.c._set("reminder", "passed")   # anything else: the offer lapses (it can be asked for)
        return None

    # --- answers ---------------------------------------------------------------------------------------
    def on_yes(self) -> None:
        w = wording()["reminders"]
        if self.channel != "console":
            self._keep(None, phone=None, silent=True)   # kept at the yes: a family that leaves now is told too
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
        text = self.c.turn.text
        month = birth_month_in(text)
        if month is None and not DONT_KNOW.search(text) and not YEAR.search(text):
            self._keep_or_ask_phone(None, said_other=True)
            return
        year = YEAR.search(text)
        # a year of birth said is the truth the age was an approximation of
        self.c._set("reminder_month", {"month": month, "day": birth_day_in(text),
                                       "year": int(year.group(1)) if year else None})
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

    def _keep(self, said, phone: str | None, quiet: bool = False, silent: bool = False) -> None:
        w = wording()["reminders"]
        c = self.c
        age = c.profile.get("age")
        said = said if isinstance(said, dict) else {"month": said}
        month, day, year = said.get("month"), said.get("day"), said.get("year")
        # with the month, the year of birth follows; without it the store takes the latest birth
        # the age allows (storage.followups.birth_from_age): a notice is never early
        if year:
            born = {"birth_year": year, "birth_month": month}
        elif month:
            born = dict(zip(("birth_year", "birth_month"), birth_of(age, month, c.today, day)))
        else:
            born = {"age": age}
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
        if silent:   # the birthday is asked next; what was kept is said then
            return
        c._set("reminder", "kept")
        c._set("reminder_month", None)
        birthday = w["birthday"].format(month=month) if month else (w["birthday_unknown"] if age else "")
        line = w["kept_console" if self.channel == "console" else "kept"].format(who=c.who(), birthday=birthday)
        c._note(line) if quiet else c._say(line)

    def on_stop(self) -> None:
        w = wording()["reminders"]
        try:
            removed = store().stop(self.c.sender_id)
        except Exception:
            logger.exception("reminders could not be stopped")
            self.c._say(w["failed_stop"])
            return
        self.c._set("reminder", "declined")
        self.c._say(w["stopped_many"].format(n=removed) if removed > 1 else w["stopped"] if removed else w["nothing_to_stop"])
        if self.c.asked:
            self.c._resume(prefix=False)   # a question was open: asked again
