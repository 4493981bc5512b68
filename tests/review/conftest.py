"""Fixtures of the review tests: a fresh database, a copy of the knowledge base, a clock."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from bot.db import open_database
from bot.review.store import ReviewLog
from bot.settings import Settings

JST = dt.timezone(dt.timedelta(hours=9))


class Clock:
    """A settable "now" (aware UTC)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime(2026, 11, 20, 10, 0, tzinfo=JST).astimezone(dt.timezone.utc))


@pytest.fixture
def log(tmp_path, clock) -> ReviewLog:
    return ReviewLog(open_database(tmp_path / "var" / "madoguchi.db"), clock=clock)


@pytest.fixture
def project_copy(tmp_path, project_root, fixture_kb_dir):
    """A project directory with the fixture knowledge base and the out-of-scope NLU file."""
    root = tmp_path / "project"
    shutil.copytree(fixture_kb_dir, root / "knowledge")
    (root / "data" / "nlu").mkdir(parents=True)
    shutil.copy(project_root / "data" / "nlu" / "out_of_scope.yml", root / "data" / "nlu" / "out_of_scope.yml")
    return root


@pytest.fixture
def review_settings(project_copy, tmp_path) -> Settings:
    return Settings(project_dir=project_copy, knowledge_dir=project_copy / "knowledge", var_dir=tmp_path / "var",
                    models_dir=tmp_path / "models").resolved()
