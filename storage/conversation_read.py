"""Reading a conversation's slots straight from Rasa's SQL tracker store (read only).

The console needs one thing Rasa holds and nothing else does: the whole phone number of a
booking not yet submitted (the operator reads it back to the caller). It lives only in the
`phone` slot's events; once the request is filed or left, storage/tracker_store.py masks them.
Rasa's table: `events` (sender_id, type_name 'slot', action_name = the slot's name, data = the
event as JSON with its "value").
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import NoSuchTableError, OperationalError, ProgrammingError

from .db import make_engine


@lru_cache(maxsize=4)
def _events(url: str) -> tuple[Engine, Table]:
    """Rasa's events table, reflected once (an error, such as no table yet, is not cached)."""
    engine = make_engine(url)
    return engine, Table("events", MetaData(), autoload_with=engine)


def newest_slot_value(tracker_url: str, sender_id: str, slot: str) -> Any:
    """The value a conversation last set for a slot; None if never set (or no tracker yet).

    `tracker_url` is the tracker store's database: storage.settings.tracker_db_url(db_url)."""
    if tracker_url.startswith("sqlite:///") and not Path(tracker_url[len("sqlite:///"):]).exists():
        return None   # no conversation yet: do not create an empty file where Rasa will write
    try:
        engine, events = _events(tracker_url)
        query = (select(events.c.data)
                 .where(events.c.sender_id == sender_id, events.c.type_name == "slot",
                        events.c.action_name == slot)
                 .order_by(events.c.id.desc()).limit(1))
        with engine.connect() as conn:
            data = conn.execute(query).scalar()
    except (NoSuchTableError, OperationalError, ProgrammingError):
        return None   # Rasa has not created its table yet
    return json.loads(data).get("value") if data else None
