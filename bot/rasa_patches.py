"""Performance fixes for Rasa 3.6, applied once when the Rasa server builds its channels.

Rasa validates every action-server response with ``jsonschema.validate(result, schema)``,
which re-checks the *schema* itself on every call. Profiling the REST round trip with
py-spy showed this took ~60 % of the Rasa process's CPU under load. We keep the
validation (same schema, same errors) but build the validator once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Text

_applied = False


@lru_cache(maxsize=1)
def _action_response_validator():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self, result: Dict[Text, Any]) -> bool:
    from jsonschema import ValidationError, exceptions
    from rasa.shared.constants import DOCS_BASE_URL

    error = exceptions.best_match(_action_response_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def apply() -> None:
    """Install the fixes (idempotent)."""
    global _applied
    if _applied:
        return
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result
    _applied = True
