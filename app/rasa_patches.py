"""The one place where this project changes a Rasa internal, pinned to the Rasa it was written for.

RemoteAction._validate_action_result (rasa 3.6.21, rasa/core/actions/action.py) checks every
custom-action response with `jsonschema.validate(result, schema)`. That function first
re-checks the *schema* against jsonschema's meta-schema (`check_schema`) and builds a new
validator, on every response: 40 % of the Rasa server's CPU under a 10-user load
(docs/baselines/benchmarks-before-one-pass.md). The schema is a constant, so here its validator
is built and checked once; each response is then validated exactly as before (same schema,
same best-matching error, same message). Nothing else changes.

Applied by `app.rasa_server` (how `eldercare serve` starts Rasa) before Rasa starts. If the
installed Rasa or the patched function differs from what this was written for, nothing is
patched and a warning says so; tests/test_rasa_patches.py fails in that case, so an upgrade
cannot slip past unnoticed.
"""
from __future__ import annotations

import hashlib
import inspect
import logging

logger = logging.getLogger(__name__)

RASA_VERSION = "3.6.21"
# sha256 of inspect.getsource(RemoteAction._validate_action_result) in rasa 3.6.21
ORIGINAL_SHA256 = "f8cdb4be6812396167ced74161b2ccd65c5ea676ad86d7d359d8c322d9d8dc42"


def original_matches() -> bool:
    import rasa
    from rasa.core.actions.action import RemoteAction
    source = inspect.getsource(getattr(RemoteAction._validate_action_result, "__wrapped__",
                                       RemoteAction._validate_action_result))
    return rasa.__version__ == RASA_VERSION and hashlib.sha256(source.encode()).hexdigest() == ORIGINAL_SHA256


def apply() -> bool:
    """Patch once; True if patched (or already patched)."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    original = RemoteAction._validate_action_result
    if hasattr(original, "__wrapped__"):
        return True
    if not original_matches():
        logger.warning("rasa_patches: Rasa is not %s as pinned (or the function changed): not patched",
                       RASA_VERSION)
        return False
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

    _validate_action_result.__wrapped__ = original
    RemoteAction._validate_action_result = _validate_action_result
    return True
