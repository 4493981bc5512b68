"""The cached SQLite tracker store gives exactly what Rasa's SQL store gives."""

from __future__ import annotations

import asyncio

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_speedups.tracker_store import SQLiteTrackerStore

DOMAIN = Domain.from_yaml("version: '3.1'\nintents: [faq]\n")


def run(coro):
    return asyncio.get_event_loop_policy().new_event_loop().run_until_complete(coro)


def conversation(store, sender, turns):
    async def go():
        tracker = await store.retrieve(sender) or DialogueStateTracker(sender, DOMAIN.slots)
        for text in turns:
            if text == "<new session>":
                tracker.update(ActionExecuted("action_session_start"))
                tracker.update(SessionStarted())
                continue
            tracker.update(UserUttered(text, {"name": "faq", "confidence": 1.0}))
            tracker.update(BotUttered(f"re: {text}"))
            await store.save(tracker)
            tracker = await store.retrieve(sender)
        return tracker
    return run(go())


def texts(tracker):
    return [e.text for e in tracker.events if isinstance(e, (UserUttered, BotUttered))]


def test_same_as_rasa_sql_store_including_restart_and_sessions(tmp_path):
    db = str(tmp_path / "t.db")
    ours = SQLiteTrackerStore(domain=DOMAIN, dialect="sqlite", db=db)
    conversation(ours, "a", ["住民票", "ごみ"])
    conversation(ours, "a", ["<new session>", "国保"])
    cached = run(ours.retrieve("a"))
    reference = run(SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=db).retrieve("a"))
    restarted = run(SQLiteTrackerStore(domain=DOMAIN, dialect="sqlite", db=db).retrieve("a"))
    assert texts(cached) == texts(reference) == texts(restarted)
    assert texts(reference)[-2:] == ["国保", "re: 国保"]
    full = run(SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=db).retrieve_full_tracker("a"))
    assert texts(full) == ["住民票", "re: 住民票", "ごみ", "re: ごみ", "国保", "re: 国保"]


def test_cache_can_be_turned_off(tmp_path):
    store = SQLiteTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"), cache_size=0)
    conversation(store, "b", ["こんにちは"])
    assert store._cache == {}
    assert texts(run(store.retrieve("b"))) == ["こんにちは", "re: こんにちは"]


def rows(db):
    """The events table, clock times left out."""
    import json
    import sqlite3

    with sqlite3.connect(db) as con:
        found = con.execute("SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id").fetchall()
    out = []
    for sender, type_name, timestamp, intent, action, data in found:
        data = json.loads(data)
        timestamp = data.pop("timestamp") == timestamp
        out.append((sender, type_name, timestamp, intent, action, data))
    return out


def script(store):
    """New residents (get_or_create_tracker), messages, a new session, a replaced tracker."""
    async def go():
        for sender in ["new-1", "new-2"]:
            tracker = await store.get_or_create_tracker(sender)
            for text in ["住民票", "ごみ"]:
                tracker.update(UserUttered(text, {"name": "faq", "confidence": 0.9}))
                tracker.update(ActionExecuted("action_answer_faq"))
                tracker.update(BotUttered(f"re: {text}", {"custom": {"type": "answer"}}))
                await store.save(tracker)
                tracker = await store.retrieve(sender)
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        await store.save(tracker)
        # As Rasa's PUT .../tracker/events does: a tracker built elsewhere, saved over.
        other = DialogueStateTracker.from_dict("new-1", [UserUttered("国保").as_dict()] * 9, DOMAIN.slots)
        await store.save(other)
        return [await store.retrieve(s) for s in ["new-1", "new-2", "nobody"]]
    return run(go())


def test_writes_the_same_rows_and_gives_the_same_trackers_as_rasa(tmp_path):
    ours_db, rasa_db = str(tmp_path / "ours.db"), str(tmp_path / "rasa.db")
    ours = script(SQLiteTrackerStore(domain=DOMAIN, dialect="sqlite", db=ours_db))
    reference = script(SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=rasa_db))
    assert rows(ours_db) == rows(rasa_db)
    assert len(rows(ours_db)) == 18  # 7 + 9 + the 2 the replaced tracker has beyond the 7 stored
    assert ours[2] is None and reference[2] is None
    for got, expected in zip(ours[:2], reference[:2]):
        assert without_clock(got) == without_clock(expected)
    restarted = run(SQLiteTrackerStore(domain=DOMAIN, dialect="sqlite", db=ours_db).retrieve("new-1"))
    assert restarted.current_state() == ours[0].current_state()


def without_clock(tracker):
    return [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in tracker.events]


def test_retrieved_trackers_do_not_share_state_with_the_cache(tmp_path):
    store = SQLiteTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"))
    conversation(store, "c", ["住民票"])
    first = run(store.retrieve("c"))
    first.update(UserUttered("保存しない"))
    first.events[0].timestamp = 0
    again = run(store.retrieve("c"))
    assert texts(again) == ["住民票", "re: 住民票"]
    assert again.events[0].timestamp != 0
