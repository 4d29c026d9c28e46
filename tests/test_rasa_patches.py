"""The pinned Rasa patches (app/rasa_patches.py): they apply to exactly the Rasa they were written
for; responses are validated as Rasa did, without re-checking the schema every time; the tracker
sent to the action server leaves out what no action reads, and nothing an action reads; a turn
waiting for a conversation's lock behind a dead instance's ticket gets it once that expires."""
from __future__ import annotations

import asyncio
import json
import time

import pytest
from jsonschema import ValidationError
from jsonschema.validators import validator_for

from app import rasa_patches
from rasa.core import lock_store
from rasa.core.actions.action import RemoteAction
from rasa.core.lock_store import InMemoryLockStore, LockError, LockStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker

DOMAIN_YAML = """
version: "3.1"
slots:
  age: {type: any, mappings: [{type: custom}]}
  district: {type: any, mappings: [{type: custom}]}
  hukou: {type: any, mappings: [{type: custom}]}
"""


@pytest.fixture
def patched(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    monkeypatch.setattr(RemoteAction, "_action_call_format", RemoteAction._action_call_format)
    monkeypatch.setattr(LockStore, "_acquire_lock", LockStore._acquire_lock)
    assert rasa_patches.apply()
    return RemoteAction("validate_booking_form", None)


def test_the_patched_function_is_still_the_one_pinned():
    # Fails when Rasa is upgraded or the function changes: re-check the patch, then re-pin.
    assert rasa_patches.original_matches()


def test_a_valid_response_passes_and_an_invalid_one_fails_as_before(patched):
    ok = {"events": [{"event": "slot", "name": "age", "value": 85}], "responses": [{"text": "好"}]}
    assert patched._validate_action_result(ok) is True
    with pytest.raises(ValidationError) as info:
        patched._validate_action_result({"events": [{"name": "age"}], "responses": []})
    assert "Failed to validate Action server response" in info.value.message


def test_the_schema_is_not_checked_again_per_response(patched, monkeypatch):
    schema = RemoteAction.action_response_format_spec()
    calls = []
    monkeypatch.setattr(validator_for(schema), "check_schema", classmethod(lambda cls, s: calls.append(s)))
    for _ in range(3):
        patched._validate_action_result({"events": [], "responses": []})
    assert calls == []


def test_applying_twice_patches_once(patched):
    assert rasa_patches.apply()
    assert not hasattr(RemoteAction._validate_action_result.__wrapped__, "__wrapped__")
    assert not hasattr(RemoteAction._action_call_format.__wrapped__, "__wrapped__")
    assert not hasattr(LockStore._acquire_lock.__wrapped__, "__wrapped__")


def _tracker():
    domain = Domain.from_yaml(DOMAIN_YAML)
    recommendations = {"type": "recommendations", "results": [{"id": "senior_allowance", "reason": "年龄85岁"}] * 50}
    tracker = DialogueStateTracker.from_events("s1", [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("我妈85岁", {"name": "inform", "confidence": 0.9}, [{"entity": "age", "value": 85}]),
        SlotSet("age", 85),
        ActionExecuted("action_advisor"),
        BotUttered("好的，记下了", {"custom": recommendations, "buttons": [{"title": "1. 有", "payload": "/affirm"}]}),
        ActionExecuted("action_forget_me"),
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("姑苏区", {"name": "inform", "confidence": 0.8}, [{"entity": "district", "value": "姑苏区"}]),
        SlotSet("district", "姑苏区"),
        SlotSet("hukou", True),
    ], domain.slots)
    return tracker, domain


def test_the_tracker_sent_leaves_out_what_no_action_reads(patched):
    tracker, domain = _tracker()
    full = RemoteAction._action_call_format.__wrapped__(patched, tracker, domain)
    lean = patched._action_call_format(tracker, domain)
    full_events, lean_events = full["tracker"]["events"], lean["tracker"]["events"]
    assert [(e["event"], e.get("name"), e.get("text")) for e in lean_events] == \
        [(e["event"], e.get("name"), e.get("text")) for e in full_events]        # every event, in order
    assert all(not e.get("data") for e in lean_events if e["event"] == "bot")
    users = [e for e in lean_events if e["event"] == "user"]
    assert users[0]["parse_data"] == {} and users[-1]["parse_data"]["intent"]["name"] == "inform"
    assert lean["tracker"]["latest_message"] == full["tracker"]["latest_message"]
    assert lean["tracker"]["slots"] == full["tracker"]["slots"]
    assert len(json.dumps(lean)) < len(json.dumps(full)) / 2


def test_what_actions_read_is_the_same_in_the_lean_tracker(patched):
    tracker, domain = _tracker()
    full = Tracker.from_dict(RemoteAction._action_call_format.__wrapped__(patched, tracker, domain)["tracker"])
    lean = Tracker.from_dict(patched._action_call_format(tracker, domain)["tracker"])
    assert lean.slots_to_validate() == full.slots_to_validate() == {"district": "姑苏区", "hukou": True}
    assert [e.get("name") for e in lean.events_after_latest_restart() if e["event"] == "action"] == \
        [e.get("name") for e in full.events_after_latest_restart() if e["event"] == "action"]
    assert lean.latest_message == full.latest_message and lean.latest_action_name == full.latest_action_name
    assert lean.get_slot("age") == 85 and lean.active_loop == full.active_loop


def _wait_behind_a_dead_ticket(lifetime: float, check_every: float):
    """A ticket nobody will give back (its instance was killed), then a turn queued behind it
    10 ms later: Rasa re-checks every `check_every` s, so it misses the 10 ms between the two
    tickets' expiry."""
    store = InMemoryLockStore()
    store.issue_ticket("c1", lifetime)                # the dead instance's
    time.sleep(0.01)

    async def turn():
        async with store.lock("c1", lock_lifetime=lifetime, wait_time_in_seconds=check_every):
            return time.monotonic()
    return store, asyncio.run(asyncio.wait_for(turn(), timeout=3 * lifetime))


def test_a_turn_behind_a_dead_ticket_gets_the_lock_once_it_expires(patched, monkeypatch):
    monkeypatch.setattr(lock_store, "LOCK_LIFETIME", 1.0)
    started = time.monotonic()
    store, acquired = _wait_behind_a_dead_ticket(1.0, check_every=0.6)
    assert 1.0 <= acquired - started < 1.0 + 0.6            # as it expires, not a re-check later
    assert store.get_lock("c1") is None                      # given back: the next turn waits for nothing


def test_without_the_patch_the_turn_behind_a_dead_ticket_waits_for_ever(monkeypatch):
    # what the patch is for; Rasa's own function (the fixture `patched` is not used here)
    monkeypatch.setattr(LockStore, "_acquire_lock", rasa_patches._original("_acquire_lock"))
    with pytest.raises(asyncio.TimeoutError):
        _wait_behind_a_dead_ticket(1.0, check_every=0.6)


def test_a_waiter_whose_ticket_is_gone_gets_the_lock_error(patched):
    store = InMemoryLockStore()
    store.issue_ticket("c1", 10)
    ticket = store.issue_ticket("c1", 10)
    store.finish_serving("c1", ticket)                       # its place taken away
    with pytest.raises(LockError):
        asyncio.run(asyncio.wait_for(store._acquire_lock("c1", ticket, 0.05), timeout=2))
