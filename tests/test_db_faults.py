"""The embedded database under faults, with real SQLite and real processes: busy under
concurrent writers (nothing lost, nobody fails), and a full disk (SQLite's own
SQLITE_FULL, "database or disk is full")."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
import traceback

import pytest

from bot.db import open_database
from bot.handoff.store import HandoffStore
from bot.review.store import ReviewFilter, ReviewLog

WRITERS = 4
ROWS_EACH = 25


def _writer(path: str, number: int, started, errors) -> None:
    """One process writing as the action server and a console do: review rows and hand-offs."""
    try:
        log = ReviewLog(open_database(path))
        store = HandoffStore(log.db)
        started.release()  # its first write comes next, while the test holds the write lock
        for i in range(ROWS_EACH):
            log.record(f"w{number}-{i}", "rest", f"質問 {number}-{i}", "cannot_answer", [])
            h = store.request(f"w{number}-{i}", "rest", None, "requested", "q")
            store.claim(h.id, f"staff{number}")
    except BaseException:  # noqa: BLE001 - reported to the test
        errors.put(traceback.format_exc())


def test_busy_database_under_concurrent_writer_processes_loses_no_row(tmp_path):
    path = str(tmp_path / "madoguchi.db")
    ReviewLog(open_database(path))  # the schema, as the first process to start makes it
    HandoffStore.open(path)
    ctx = multiprocessing.get_context("spawn")
    started, errors = ctx.Semaphore(0), ctx.Queue()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the database: everyone else is busy
    procs = [ctx.Process(target=_writer, args=(path, n, started, errors)) for n in range(WRITERS)]
    for p in procs:
        p.start()
    for _ in procs:
        assert started.acquire(timeout=120), "a writer did not start"
    assert holder.execute("SELECT COUNT(*) FROM review_questions").fetchone()[0] == 0
    time.sleep(0.5)  # let them reach their first write (not asserted: they also contend with each other)
    holder.execute("COMMIT")
    for p in procs:
        p.join(timeout=300)
    failures = [errors.get() for _ in range(errors.qsize())] if not errors.empty() else []
    assert failures == [] and [p.exitcode for p in procs] == [0] * WRITERS
    log = ReviewLog(open_database(path))
    rows = log.questions(ReviewFilter(outcomes=(), status=None))
    assert len(rows) == WRITERS * ROWS_EACH
    assert {q.conversation_id for q in rows} == {f"w{n}-{i}" for n in range(WRITERS) for i in range(ROWS_EACH)}
    claimed = HandoffStore(log.db).db.query("SELECT status, COUNT(*) AS n FROM handoffs GROUP BY status")
    assert claimed == [{"status": "claimed", "n": WRITERS * ROWS_EACH}]


def fill_to_the_brim(log: ReviewLog) -> int:
    """Make the database file unable to grow, then fill what is left in its pages, so that
    the next write needs space it cannot get (SQLITE_FULL, what a full disk gives)."""
    conn = log.db.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # this connection only: the "disk"
    stored = 0
    for size in (1500, 300, 60, 10, 1):
        while True:
            try:
                log.record(f"filler-{stored}", "rest", "x" * size, "cannot_answer", [])
            except sqlite3.OperationalError as exc:
                assert "database or disk is full" in str(exc)
                break
            stored += 1
    return stored


def test_full_disk_is_sqlites_own_error_and_the_database_recovers(tmp_path):
    log = ReviewLog(open_database(tmp_path / "madoguchi.db"))
    assert fill_to_the_brim(log) > 0
    with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
        log.record("r1", "rest", "住民票", "cannot_answer", [])
    log.db.conn.execute("PRAGMA max_page_count = 1073741823")  # space freed
    assert log.record("r1", "rest", "住民票", "cannot_answer", []) > 0
    assert sqlite3.connect(tmp_path / "madoguchi.db").execute("PRAGMA integrity_check").fetchone() == ("ok",)
