"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import random
import socket

import pytest

from bot.runtime.runner import Stack
from bot.settings import Settings
from bot.runtime.training import train

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_KB = ROOT / "tests" / "fixtures" / "knowledge"
ALLOWED_ORIGIN = "https://www.city.example.lg.jp"


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def fixture_kb_dir() -> Path:
    return FIXTURE_KB


# Ports for the test servers come from below Linux's ephemeral range (32768–60999): a
# port chosen there could be taken as the source port of some outgoing connection (to
# PostgreSQL, Redis, a server under test) between choosing it and binding it.
_TEST_PORTS = (20000, 32000)
_handed_out: set[int] = set()


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port nothing listens on, never handed out before in this test run."""
    for _ in range(500):
        port = random.randrange(*_TEST_PORTS)
        if port not in _handed_out and port_is_free(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free port in {_TEST_PORTS}")


@pytest.fixture(scope="session")
def fixture_settings(tmp_path_factory) -> Settings:
    work = tmp_path_factory.mktemp("stack")
    return Settings(
        project_dir=ROOT,
        knowledge_dir=FIXTURE_KB,
        var_dir=work / "var",
        models_dir=work / "models",
        rasa_port=free_port(),
        actions_port=free_port(),
        console_port=free_port(),
        action_retry_seconds=3,  # tests that stop the action server wait this long for the error reply
        web_origins=ALLOWED_ORIGIN,  # tests/test_cors.py: only this site may call the webhooks
    ).resolved()


@pytest.fixture(scope="session")
def trained_model(fixture_settings) -> Path:
    result = train(fixture_settings, quiet=True)
    assert result.trained and result.model_path.exists()
    return result.model_path


@pytest.fixture(scope="session")
def live_stack(fixture_settings, trained_model):
    stack = Stack(fixture_settings, trained_model, log_dir=fixture_settings.var_dir / "logs", choose_port=free_port)
    stack.start(timeout=240)
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def analyzer():
    from bot.nlp.japanese import JapaneseAnalyzer

    return JapaneseAnalyzer("A")


@pytest.fixture(scope="session")
def word_vectors():
    """GiNZA's word vector table (ja_ginza, installed from requirements.lock; no download)."""
    from bot.nlp.word_vectors import WordVectors

    return WordVectors.from_package("ja_ginza")


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL on loopback (scripts/postgres.sh); fails, never skips, when it cannot start."""
    from tests.pg import start_test_server

    server = start_test_server()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_target(request, tmp_path) -> str:
    """Where a store test keeps its data, once per backend: a new SQLite file, or a new
    schema of the test PostgreSQL (the same string Settings.database gives)."""
    if request.param == "sqlite":
        return str(tmp_path / "var" / "madoguchi.db")
    return request.getfixturevalue("postgres_server").fresh_schema_url()

