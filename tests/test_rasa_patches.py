import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from bot import rasa_patches


def test_patched_validation_accepts_and_rejects_like_rasa():
    rasa_patches.apply()
    action = RemoteAction("action_x", None)
    assert action._validate_action_result({"events": [], "responses": [{"text": "はい"}]})
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": "not a list"})
