"""The one place where this project changes Rasa internals, pinned to the Rasa it was written for.

Two functions of `RemoteAction` (rasa 3.6.21, rasa/core/actions/action.py) — the call to the
action server — and one of `LockStore` (rasa/core/lock_store.py) are replaced:

1. `_validate_action_result` checks every custom-action response with
   `jsonschema.validate(result, schema)`, which first re-checks the *schema* against
   jsonschema's meta-schema (`check_schema`) and builds a new validator, on every response: 40 %
   of the Rasa server's CPU under a 10-user load (docs/baselines/benchmarks-before-one-pass.md).
   The schema is a constant, so here its validator is built and checked once; each response is
   then validated exactly as before (same schema, same best-matching error, same message).
2. `_action_call_format` sends the whole tracker with every call. The bot's past messages carry
   their `data` (buttons and the recommendations payload: two thirds of a 16-turn tracker,
   160 kB of JSON by then, growing with the conversation) and every past user message its full
   parse data; both were encoded by Rasa and decoded by the action server on every turn, and no
   action reads them (they read the slots, `latest_message` and the event sequence). Here they
   are left out of the events sent: every event stays, in order, with its type, name, text and
   timestamp; the newest user message keeps its parse data.
3. `LockStore._acquire_lock` waits for a conversation's lock behind the tickets ahead of its own,
   but its own ticket expires after TICKET_LOCK_LIFETIME like theirs. Behind an instance killed
   mid-turn, the dead ticket and the waiting one expire within a second of each other, and the
   waiter re-checks once a second: it often finds both gone, and then it waits for ever (the lock
   key stays, holding no ticket) until the request is cancelled, 60-90 s later (3 of the 9 such
   turns in each of two runs: docs/fault-waits.md). Here a live waiter renews its own ticket at
   every check, so only a dead process's tickets expire, and checks again as the ticket ahead
   expires rather than up to a second later; a waiter whose ticket is gone anyway (its process
   stalled for a whole lifetime) gets Rasa's LockError, as when the lock is gone, at once.

Applied by `app.rasa_server` (how `eldercare serve` starts Rasa) before Rasa starts. If the
installed Rasa or a patched function differs from what this was written for, nothing is
patched and a warning says so; tests/test_rasa_patches.py fails in that case, so an upgrade
cannot slip past unnoticed.
"""
from __future__ import annotations

import hashlib
import inspect
import logging

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"
# sha256 of inspect.getsource(RemoteAction.<name>, LockStore._acquire_lock) in rasa 3.6.21
ORIGINAL_SHA256 = {
    "_validate_action_result": "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42",
    "_action_call_format": "428795b944f22edba142d278ec47a30098975b01463ba337ec447dade52a0492",
    "_acquire_lock": "ead2fff373291c24619f2a2b53453f64ed2975ed68f53dce0e56041061356f05",
}


def _owner(name: str):
    if name == "_acquire_lock":
        from rasa.core.lock_store import LockStore
        return LockStore
    from rasa.core.actions.action import RemoteAction
    return RemoteAction


def _original(name: str):
    function = getattr(_owner(name), name)
    return getattr(function, "__wrapped__", function)


def original_matches() -> bool:
    import rasa
    return rasa.__version__ == RASA_VERSION and all(
        hashlib.sha256(inspect.getsource(_original(name)).encode()).hexdigest() == digest
        for name, digest in ORIGINAL_SHA256.items())


def apply() -> bool:
    """Patch once; True if patched (or already patched)."""
    if all(hasattr(getattr(_owner(name), name), "__wrapped__") for name in ORIGINAL_SHA256):
        return True
    if not original_matches():
        logger.warning("rasa_patches: Rasa is not %s as pinned (or a function changed): not patched",
                       RASA_VERSION)
        return False
    for name, replacement in (("_validate_action_result", _validate_once()),
                              ("_action_call_format", _lean_call_format),
                              ("_acquire_lock", _acquire_lock_while_alive)):
        replacement.__wrapped__ = _original(name)
        setattr(_owner(name), name, replacement)
    return True


def _validate_once():
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)          # once, instead of on every response
    validator = validator_class(schema)

    def _validate_action_result(self, result):
        error = best_match(validator.iter_errors(result))   # what jsonschema.validate raises
        if error is None:
            return True
        if isinstance(error, ValidationError):
            error.message += (
                f". Failed to validate Action server response from API, "
                f"make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
        raise error
    return _validate_action_result


def lean_events(events: list[dict]) -> list[dict]:
    """Every event, in order, without the bot's message data and without the parse data of all
    but the newest user message."""
    newest_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=None)
    lean = []
    for i, event in enumerate(events):
        if event.get("event") == "bot" and event.get("data"):
            event = {**event, "data": {}}
        elif event.get("event") == "user" and i != newest_user and event.get("parse_data"):
            event = {**event, "parse_data": {}}
        lean.append(event)
    return lean


def _lean_call_format(self, tracker, domain):
    result = _lean_call_format.__wrapped__(self, tracker, domain)
    state = result["tracker"]
    state["events"] = lean_events(state.get("events") or [])
    return result


async def _acquire_lock_while_alive(self, conversation_id, ticket, wait_time_in_seconds):
    """Rasa's wait for the lock, except that a live waiter keeps its own ticket from expiring."""
    import asyncio
    import time

    from rasa.core import lock_store

    while True:
        lock = self.get_lock(conversation_id)
        own = next((t for t in lock.tickets if t.number == ticket), None) if lock else None
        if own is None or own.has_expired():   # its place is gone: others may have gone on without it
            break
        if not lock.is_locked(ticket):
            return lock
        own.expires = time.time() + lock_store.LOCK_LIFETIME
        lock.remove_expired_tickets()          # as Rasa's update_lock, which saved at every check too
        self.save_lock(lock)
        # look again as the ticket ahead expires (a dead instance's), or after Rasa's usual wait
        ahead = lock.tickets[0].expires - time.time()
        await asyncio.sleep(min(wait_time_in_seconds, max(ahead, 0.0) + 0.01))
    raise lock_store.LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
