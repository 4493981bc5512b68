"""The embedded stack while another writer holds both SQLite databases (a console, a CLI,
a backup): residents who write meanwhile wait, then get their answers; no 5xx, no error
reply, and every message is in the tracker and the review log exactly once."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = pytest.mark.slow

QUESTIONS = ["粗大ごみの出し方を教えて", "住民票はどこで取れますか", "転入届の手続き", "ごみの収集日"]
RESIDENTS = 12
HOLD_SECONDS = 2.0  # well under the stores' busy timeouts (tracker 10 s, ours 30 s)


def say(stack, sender: str, text: str) -> tuple[int, list]:
    req = urllib.request.Request(f"{stack.rasa_url}/webhooks/rest/webhook",
                                 data=json.dumps({"sender": sender, "message": text}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:  # loopback
            return resp.status, json.loads(resp.read().decode())
    except urllib.error.HTTPError as err:
        return err.code, []


def test_busy_databases_delay_residents_but_lose_nothing(live_stack):
    s = live_stack.settings
    run = uuid.uuid4().hex[:8]
    senders = [f"busy-{run}-{i}" for i in range(RESIDENTS)]
    paths = [s.database_path, s.var_dir / "tracker.db"]
    holders = [sqlite3.connect(p, isolation_level=None, timeout=30) for p in paths]
    for h in holders:
        h.execute("BEGIN IMMEDIATE")  # every other writer now gets SQLITE_BUSY and waits
    try:
        with ThreadPoolExecutor(RESIDENTS) as pool:
            futures = [pool.submit(say, live_stack, sender, QUESTIONS[i % len(QUESTIONS)])
                       for i, sender in enumerate(senders)]
            time.sleep(HOLD_SECONDS)
            answered_while_held = sum(f.done() for f in futures)
            for h in holders:
                h.execute("COMMIT")
            results = [f.result() for f in futures]
    finally:
        for h in holders:
            if h.in_transaction:
                h.execute("ROLLBACK")
            h.close()
    # An FAQ reply is only sent after its review row is written: none could finish meanwhile.
    assert answered_while_held == 0, [f.exception() or f.result() for f in futures][:3]
    assert [status for status, _ in results] == [200] * RESIDENTS
    kinds = [[(m.get("custom") or {}).get("type") for m in replies] for _, replies in results]
    assert all(k and "error" not in k for k in kinds), kinds
    db = sqlite3.connect(f"file:{s.database_path}?mode=ro", uri=True)
    tracker = sqlite3.connect(f"file:{s.var_dir / 'tracker.db'}?mode=ro", uri=True)
    try:
        for i, sender in enumerate(senders):
            logged = db.execute("SELECT text FROM review_questions WHERE conversation_id = ?", (sender,)).fetchall()
            assert logged == [(QUESTIONS[i % len(QUESTIONS)],)], (sender, logged)
            users = tracker.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'",
                                    (sender,)).fetchall()
            assert [json.loads(d)["text"] for (d,) in users] == [QUESTIONS[i % len(QUESTIONS)]], (sender, users)
    finally:
        db.close()
        tracker.close()
