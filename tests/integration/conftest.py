"""Integration tests use the shared trained model and live servers from tests/conftest.py."""

import dataclasses
import json
import urllib.request

import pytest

from bot.runtime.runner import Stack
from bot.runtime.training import train
from tests.conftest import free_port


def translated_stack(fixture_settings, work, timeout: float, **changes):
    """A stack whose model also indexes translated questions (Settings.index_translations),
    for conversations in other languages; ``changes``: other settings (knowledge_dir …)."""
    settings = dataclasses.replace(fixture_settings, var_dir=work / "var", models_dir=work / "models",
                                   rasa_port=free_port(), actions_port=free_port(), console_port=free_port(),
                                   index_translations=True, **changes)
    result = train(settings, quiet=True)
    assert result.trained and result.model_path.exists()
    stack = Stack(settings, result.model_path, log_dir=settings.var_dir / "logs")
    stack.start(timeout=timeout)
    return stack


def say(stack, text, sender):
    """The REST replies to one message (the HTTP status must be 200)."""
    req = urllib.request.Request(f"{stack.rasa_url}/webhooks/rest/webhook",
                                 data=json.dumps({"sender": sender, "message": text}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        assert resp.status == 200
        return json.loads(resp.read().decode())


@pytest.fixture(scope="session")
def multilingual_stack(fixture_settings, tmp_path_factory):
    """The fixture knowledge base, its translated questions indexed."""
    stack = translated_stack(fixture_settings, tmp_path_factory.mktemp("multilingual"), timeout=240)
    yield stack
    stack.stop()
