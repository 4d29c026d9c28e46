"""The cached SQL tracker store: the database stays the truth, the cache only saves re-reading."""
from __future__ import annotations

import asyncio
import uuid

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from sqlalchemy.engine import make_url

from storage.tracker_store import CachedSQLTrackerStore

DOMAIN = Domain.from_dict({"slots": {"age": {"type": "any", "mappings": [{"type": "custom"}]}}})


def params(url: str) -> dict:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return {"dialect": "sqlite", "db": u.database}
    out = {"dialect": u.drivername, "host": u.host, "port": u.port, "db": u.database, "username": u.username}
    if "options" in u.query:
        out["query"] = {"options": u.query["options"]}
    return out


def run(coro):
    return asyncio.run(coro)


def events_of(tracker):
    return [e.as_dict() for e in tracker.events]


@pytest.fixture
def stores(db_url):
    def make(cls):
        return cls(domain=DOMAIN, **params(db_url))
    return make


def turn(tracker, text, age):
    tracker.update(UserUttered(text, {"name": "inform"}))
    tracker.update(SlotSet("age", age))
    tracker.update(ActionExecuted("action_listen"))


def test_what_is_saved_is_what_rasa_would_read(stores):
    async def scenario():
        store, plain = stores(CachedSQLTrackerStore), stores(SQLTrackerStore)
        sender = f"t-{uuid.uuid4().hex[:8]}"
        tracker = await store.get_or_create_tracker(sender)
        for i in range(3):
            tracker = await store.retrieve(sender)
            turn(tracker, f"第{i}句", 80 + i)
            await store.save(tracker)
        truth = await plain.retrieve(sender)
        assert events_of(truth) == events_of(await store.retrieve(sender))
        assert truth.get_slot("age") == 82
    run(scenario())


def test_a_conversation_moved_on_elsewhere_is_read_again(stores):
    async def scenario():
        mine, other = stores(CachedSQLTrackerStore), stores(CachedSQLTrackerStore)
        sender = f"t-{uuid.uuid4().hex[:8]}"
        tracker = await mine.get_or_create_tracker(sender)
        turn(tracker, "八十五", 85)
        await mine.save(tracker)
        theirs = await other.retrieve(sender)       # another Rasa instance answers the next message
        turn(theirs, "八十六", 86)
        await other.save(theirs)
        again = await mine.retrieve(sender)
        assert again.get_slot("age") == 86 and events_of(again) == events_of(theirs)
    run(scenario())


def test_a_turn_that_failed_before_saving_is_forgotten(stores):
    async def scenario():
        store = stores(CachedSQLTrackerStore)
        sender = f"t-{uuid.uuid4().hex[:8]}"
        tracker = await store.get_or_create_tracker(sender)
        turn(tracker, "八十五", 85)
        await store.save(tracker)
        half = await store.retrieve(sender)
        turn(half, "二百", 200)                     # processing died before save
        fresh = await store.retrieve(sender)
        assert fresh.get_slot("age") == 85
    run(scenario())


def test_a_cached_conversation_is_not_rebuilt(stores, monkeypatch):
    async def scenario():
        store = stores(CachedSQLTrackerStore)
        sender = f"t-{uuid.uuid4().hex[:8]}"
        tracker = await store.get_or_create_tracker(sender)
        turn(tracker, "八十五", 85)
        await store.save(tracker)
        rebuilt = []
        original = SQLTrackerStore._retrieve
        monkeypatch.setattr(SQLTrackerStore, "_retrieve",
                            lambda self, *a, **k: rebuilt.append(1) or original(self, *a, **k))
        assert (await store.retrieve(sender)) is tracker and not rebuilt
    run(scenario())
