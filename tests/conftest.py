"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_KB = ROOT / "tests" / "fixtures" / "knowledge"


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def fixture_kb_dir() -> Path:
    return FIXTURE_KB


@pytest.fixture(scope="session")
def analyzer():
    from bot.nlp.japanese import JapaneseAnalyzer

    return JapaneseAnalyzer("A")
