"""Integration tests use the shared trained model and live servers from tests/conftest.py."""

import dataclasses

import pytest

from bot.runtime.runner import Stack
from bot.runtime.training import train
from tests.conftest import free_port


@pytest.fixture(scope="session")
def multilingual_stack(fixture_settings, tmp_path_factory):
    """A stack whose model also indexes the fixture's translated questions
    (Settings.index_translations), for conversations in other languages."""
    work = tmp_path_factory.mktemp("multilingual")
    settings = dataclasses.replace(fixture_settings, var_dir=work / "var", models_dir=work / "models",
                                   rasa_port=free_port(), actions_port=free_port(), console_port=free_port(),
                                   index_translations=True)
    result = train(settings, quiet=True)
    assert result.trained and result.model_path.exists()
    stack = Stack(settings, result.model_path, log_dir=settings.var_dir / "logs", choose_port=free_port)
    stack.start(timeout=240)
    yield stack
    stack.stop()
