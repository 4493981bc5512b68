"""A small trained model and the real servers on loopback, shared by the integration tests."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.runner import Stack
from bot.settings import Settings
from bot.training import train


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def fixture_settings(tmp_path_factory, project_root, fixture_kb_dir) -> Settings:
    work = tmp_path_factory.mktemp("stack")
    return Settings(
        project_dir=project_root,
        knowledge_dir=fixture_kb_dir,
        var_dir=work / "var",
        models_dir=work / "models",
        rasa_port=free_port(),
        actions_port=free_port(),
        console_port=free_port(),
    ).resolved()


@pytest.fixture(scope="session")
def trained_model(fixture_settings) -> Path:
    result = train(fixture_settings, quiet=True)
    assert result.trained and result.model_path.exists()
    return result.model_path


@pytest.fixture(scope="session")
def live_stack(fixture_settings, trained_model):
    stack = Stack(fixture_settings, trained_model, log_dir=fixture_settings.var_dir / "logs")
    stack.start(timeout=240)
    yield stack
    stack.stop()
