"""The pinned Rasa patch (app/rasa_patches.py): applies to exactly the Rasa it was written for,
validates responses as Rasa did, and no longer re-checks the schema on every response."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError
from jsonschema.validators import validator_for

from app import rasa_patches
from rasa.core.actions.action import RemoteAction


@pytest.fixture
def patched(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
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
