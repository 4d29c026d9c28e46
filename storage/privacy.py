"""Personal data kept only as long as needed (PIPL: health and ID data are sensitive).

* forget(sender): a person's conversations (trackers, which hold health facts), console call
  transcripts and Telegram buttons are deleted; their bookings keep kind, status, district and
  dates (anonymous statistics, and staff still see a request existed) but lose phone, address,
  form of address, profile and note.
* purge(retention): the same for every conversation untouched for longer than the retention,
  and for bookings closed (declined, cancelled, admitted) that long ago. Open bookings keep
  their contact details: staff need them to deliver the service.
* 政策找人 (storage/followups.py): forget deletes the followups kept for the conversation, with
  their results and notices; purge deletes those past ELDERCARE_FOLLOWUP_DAYS after the consent
  (3 years by default) and empties delivered notices' words after the retention.
* WeChat: a conversation's numbered choices are its buttons above ("wx-<openid>"); the keys of
  messages already handled (storage/wechat_state.py, some hold an openid) are only needed for
  WeChat's retries, seconds later: purge deletes those older than a day, whatever the retention
  (in Redis they expire by themselves). forget leaves them to that: deleting the key of the very
  message that asked would let a retry of it run twice.

The tracker store is Rasa's SQL store (table `events`), in its own database on the embedded
default (var/tracker.db) and in the main database in production.
"""
from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, delete, func, select, update
from sqlalchemy.engine import Engine

from .followups import delete_followups, purge_followups
from .tables import bookings, call_turns, calls, followups, telegram_buttons
from .wechat_state import KEEP_SECONDS as WECHAT_SEEN_SECONDS
from .wechat_state import SeenMessages

CLOSED = ("declined", "cancelled", "admitted")
# Rasa's SQLTrackerStore table, the columns used here (rasa/core/tracker_store.py SQLEvent)
events = Table("events", MetaData(), Column("id", Integer, primary_key=True), Column("sender_id", String(255)),
               Column("timestamp", Float))


@dataclass
class Removed:
    conversations: int = 0
    events: int = 0
    bookings: int = 0
    calls: int = 0
    followups: int = 0      # 政策找人: elders kept for notices, with their results and notices

    def __add__(self, other: "Removed") -> "Removed":
        return Removed(*(a + b for a, b in zip(vars(self).values(), vars(other).values())))


def _strip_bookings(conn, where) -> int:
    now = dt.datetime.now(dt.timezone.utc)
    return conn.execute(update(bookings).where(where, bookings.c.personal_removed_at.is_(None)).values(
        phone="", address=None, addressed_as=None, elder_name=None, profile=None, note=None, personal_removed_at=now)).rowcount


def _forget_calls(conn, where) -> int:
    """Console calls matching `where` that still hold anything personal (their turns or note)."""
    has_turns = select(call_turns.c.id).where(call_turns.c.call_id == calls.c.id).exists()
    ids = [r[0] for r in conn.execute(select(calls.c.id).where(where, has_turns | calls.c.note.is_not(None)))]
    for chunk in _chunks(ids):
        conn.execute(delete(call_turns).where(call_turns.c.call_id.in_(chunk)))
        conn.execute(update(calls).where(calls.c.id.in_(chunk)).values(state=None, note=None))
    return len(ids)


def _chunks(items: list, size: int = 500):
    """IN lists of bounded length (SQLite allows 999 parameters in a statement)."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _tracker_table_exists(engine: Engine) -> bool:
    from sqlalchemy import inspect
    return inspect(engine).has_table("events")


def forget(sender_id: str, db: Engine, trackers: Engine) -> Removed:
    """Everything personal about one conversation (a chat, a Telegram chat, a console call)."""
    removed = Removed()
    if _tracker_table_exists(trackers):
        with trackers.begin() as conn:
            removed.events = conn.execute(delete(events).where(events.c.sender_id == sender_id)).rowcount
            removed.conversations = int(removed.events > 0)
    with db.begin() as conn:
        removed.bookings = _strip_bookings(conn, bookings.c.sender_id == sender_id)
        removed.calls = _forget_calls(conn, calls.c.sender_id == sender_id)
        conn.execute(delete(telegram_buttons).where(telegram_buttons.c.chat_key == sender_id))
        # 删除我的信息 ends the consent too: nothing is kept to tell them later
        removed.followups = delete_followups(conn, followups.c.sender_id == sender_id)
    return removed


def purge(retention_days: float, db: Engine, trackers: Engine, now: float | None = None) -> Removed:
    """Conversations idle longer than the retention, and bookings closed that long ago."""
    now = time.time() if now is None else now
    cutoff = now - retention_days * 86400
    removed = Removed()
    stale: list[str] = []
    if _tracker_table_exists(trackers):
        with trackers.begin() as conn:
            stale = [r[0] for r in conn.execute(select(events.c.sender_id).group_by(events.c.sender_id)
                                                .having(func.max(events.c.timestamp) < cutoff))]
            for chunk in _chunks(stale):
                removed.events += conn.execute(delete(events).where(events.c.sender_id.in_(chunk))).rowcount
        removed.conversations = len(stale)
    closed_before = dt.datetime.fromtimestamp(cutoff, dt.timezone.utc)
    with db.begin() as conn:
        removed.bookings = _strip_bookings(conn, bookings.c.status.in_(CLOSED) & (bookings.c.updated_at < closed_before))
        removed.calls = _forget_calls(conn, calls.c.started_at < closed_before)
        for chunk in _chunks(stale):
            conn.execute(delete(telegram_buttons).where(telegram_buttons.c.chat_key.in_(chunk)))
        # a followup outlives its conversation (that is its point) but not its keep period
        # (ELDERCARE_FOLLOWUP_DAYS after the consent); a delivered notice's words go with the retention
        removed.followups = purge_followups(conn, _followup_days(), retention_days,
                                            dt.datetime.fromtimestamp(now, dt.timezone.utc))
    # WeChat's handled-message keys: a day covers every retry (they come within seconds)
    SeenMessages(db).forget_older_than(dt.datetime.fromtimestamp(now - WECHAT_SEEN_SECONDS, dt.timezone.utc))
    return removed


def _followup_days() -> float:
    try:
        return float(os.environ.get("ELDERCARE_FOLLOWUP_DAYS") or 1095)
    except ValueError:
        return 1095.0
