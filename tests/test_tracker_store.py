"""The cached SQLite tracker store gives exactly what Rasa's SQL store gives."""

from __future__ import annotations

import asyncio

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import SQLiteTrackerStore

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
