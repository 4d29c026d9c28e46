"""Rasa's SQL tracker store, with the conversations in progress kept in memory.

Rasa's SQLTrackerStore rebuilds a conversation from all its events on every message (a query,
a JSON decode and a replay per event) and counts them again to save: under load that was the
largest cost of a turn after the schema check (docs/benchmarks.md). Here a conversation
retrieved or saved by this process stays in an LRU cache; the database stays the truth:

* retrieve: one indexed query for the conversation's newest event id; if it is the id this
  process last wrote and nobody appended to the cached tracker since, the cached tracker is
  used; otherwise (another instance answered, or a turn failed half way) it is read again;
* save: only the events after those this process saved are inserted, in one transaction.

Several Rasa instances stay correct: a conversation another instance moved on is re-read.

Personal numbers are not kept in the conversation: a user message is stored with its phone and
身份证 numbers masked (its text, its parse data, its entities) — the turn that needed them has
read them already (a 身份证 number is an age by then). The `phone` slot stays whole while a
request may still need it; once the request is filed or left, the stored slot events are masked
too. The booking's own columns keep what staff need (storage/bookings.py).

It is configured as a custom tracker store (`type: storage.tracker_store.CachedSQLTrackerStore`
with the SQL store's own settings), Rasa's documented extension point.
"""
from __future__ import annotations

import itertools
import json
import logging
from collections import OrderedDict
from typing import Any, Optional, Text

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from storage.masking import mask_text

logger = logging.getLogger(__name__)


def _sqlite_wal(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class CachedSQLTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, cache_size: int = 5000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            # The embedded default: write-ahead log, and no fsync on every commit. A crash of the
            # process loses nothing; a power cut may lose the last turns of a conversation, never
            # a booking (bookings live in their own database with full durability).
            # SQLAlchemy 1.4 gives a SQLite file no pool: every session opened a connection and
            # set the pragmas again, a tenth of the server's busy time under load (py-spy). A
            # small pool keeps them open; the server's turns run on one event-loop thread.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, poolclass=QueuePool, pool_size=2, max_overflow=8,
                                           connect_args={"check_same_thread": False})
            sa.event.listen(self.engine, "connect", _sqlite_wal)
            self.sessionmaker = sessionmaker(bind=self.engine)
        # sender -> (id of the newest stored event, number of events when stored, the tracker)
        self._cache: "OrderedDict[str, tuple[Optional[int], int, DialogueStateTracker]]" = OrderedDict()
        self._cache_size = int(cache_size)

    def _newest_id(self, session, sender_id: Text) -> Optional[int]:
        return session.query(sa.func.max(self.SQLEvent.id)).filter(self.SQLEvent.sender_id == sender_id).scalar()

    def _remember(self, sender_id: Text, newest: Optional[int], tracker: DialogueStateTracker) -> None:
        self._cache[sender_id] = (newest, len(tracker.events), tracker)
        self._cache.move_to_end(sender_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        entry = self._cache.get(sender_id)
        with self.session_scope() as session:
            newest = self._newest_id(session, sender_id)
        if entry is not None:
            stored_id, stored_count, tracker = entry
            if newest == stored_id and len(tracker.events) == stored_count:
                self._cache.move_to_end(sender_id)
                return tracker
            del self._cache[sender_id]  # changed elsewhere, or a turn failed before saving
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            self._remember(sender_id, newest, tracker)
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        entry = self._cache.get(tracker.sender_id)
        await self.stream_events(tracker)
        if entry is None or entry[2] is not tracker or len(tracker.events) < entry[1]:
            with self.session_scope() as session:   # counts what is stored, as Rasa does
                new_events = list(self._additional_events(session, tracker))
                for row in (self._row(tracker.sender_id, event) for event in new_events):
                    session.add(self.SQLEvent(**row))
                session.commit()
                if _request_over(new_events):
                    self._mask_phone_slots(session, tracker.sender_id)
                self._remember(tracker.sender_id, self._newest_id(session, tracker.sender_id), tracker)
            return
        newest = entry[0]
        new_events = list(itertools.islice(tracker.events, entry[1], None))
        rows = [self._row(tracker.sender_id, event) for event in new_events]
        with self.session_scope() as session:
            if rows:
                # Core inserts, not ORM objects (the unit of work was a twentieth of a turn); the
                # last row alone, so that its id (the newest) comes back on SQLite and PostgreSQL
                table = self.SQLEvent.__table__
                if len(rows) > 1:
                    session.execute(table.insert(), rows[:-1])
                newest = session.execute(table.insert(), rows[-1]).inserted_primary_key[0]
            session.commit()
            if _request_over(new_events):
                self._mask_phone_slots(session, tracker.sender_id)
        self._remember(tracker.sender_id, newest, tracker)

    def _mask_phone_slots(self, session, sender_id: Text) -> None:
        """A request filed or left: the phone number it needed is masked in the stored slot events."""
        table = self.SQLEvent.__table__
        rows = session.execute(sa.select(table.c.id, table.c.data).where(
            table.c.sender_id == sender_id, table.c.type_name == "slot",
            sa.or_(*(table.c.data.like(f'%"name": "{name}"%') for name in PHONE_SLOTS)))).all()
        for row_id, data in rows:
            event = json.loads(data)
            if isinstance(event.get("value"), str) and mask_text(event["value"]) != event["value"]:
                event["value"] = mask_text(event["value"])
                session.execute(table.update().where(table.c.id == row_id).values(data=json.dumps(event)))
        session.commit()

    @staticmethod
    def _row(sender_id: Text, event) -> dict:
        # the same columns SQLTrackerStore.save writes; a user message with its numbers masked
        data = _without_numbers(event.as_dict()) if event.type_name == "user" else event.as_dict()
        return {"sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                "action_name": data.get("name"), "data": json.dumps(data)}


def _masked(value):
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return value


def _without_numbers(data: dict) -> dict:
    """A user message as stored: every string in it (text, parse data, entities, metadata) with
    phone and 身份证 numbers masked."""
    return _masked(data)


PHONE_SLOTS = ("phone", "lookup_phone")   # a booking's number; the number a status check was asked with


def _request_over(events) -> bool:
    """A request was filed or left in these events: its phone number is needed no more."""
    for event in events:
        if event.type_name == "slot" and ((event.key == "booking_reference" and event.value)
                                          or (event.key in ("booking_kind", "lookup_purpose") and event.value is None)):
            return True
        if event.type_name == "restart":
            return True
    return False
