"""Rasa's SQL tracker store, tuned for the embedded SQLite default (one Rasa process).

Configured in ``endpoints.yml`` (``type: bot.tracker_store.SQLiteTrackerStore``).
Profiling the REST round trip (py-spy) showed the tracker store taking about half of the
Rasa process's time per message. Two changes, both keeping SQLite the truth:

* write-ahead logging with ``synchronous=NORMAL``: commits no longer wait for an fsync
  (after a power failure the last commits may be lost, the database is not corrupted);
* a write-through cache of the latest session's events: a conversation's next message
  no longer re-reads and counts its events in SQL. Everything is still written to SQLite
  on every save, and after a restart trackers are read from it.

The cache is only correct when this process is the only writer, which is the embedded
default (Rasa's in-memory lock store means one Rasa process anyway). For several Rasa
processes use Rasa's own ``type: SQL`` on PostgreSQL with a Redis lock store (README,
"Scaling out"); ``cache_size: 0`` turns the cache off.
"""

from __future__ import annotations

import itertools
import json
from collections import OrderedDict
from typing import Any, Iterator, Optional, Text

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker


class SQLiteTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, cache_size: int = 10000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cache: "OrderedDict[str, list[dict]]" = OrderedDict()
        self._cache_size = int(cache_size)
        if self.engine.dialect.name == "sqlite":
            import sqlalchemy as sa
            from sqlalchemy import event
            from sqlalchemy.pool import SingletonThreadPool

            # SQLAlchemy gives SQLite files a NullPool: a new connection (and our
            # pragmas) for every read and write. Keep one connection per thread instead.
            url = self.engine.url
            self.engine.dispose()
            self.engine = sa.create_engine(url, poolclass=SingletonThreadPool,
                                           connect_args={"check_same_thread": False})
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
                cur = dbapi_connection.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.close()

    # ------------------------------------------------------------------ cache
    def _remember(self, sender_id: str, events: list[dict]) -> None:
        if self._cache_size <= 0:
            return
        self._cache[sender_id] = events
        self._cache.move_to_end(sender_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    @staticmethod
    def _latest_session(events: list[dict]) -> list[dict]:
        """Events from the last SessionStarted on, as the SQL query selects them."""
        for i in range(len(events) - 1, -1, -1):
            if events[i].get("event") == SessionStarted.type_name:
                return events[i:]
        return events

    # ------------------------------------------------------------------ Rasa API
    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        cached = self._cache.get(sender_id)
        if cached is not None and self.domain:
            self._cache.move_to_end(sender_id)
            return DialogueStateTracker.from_dict(sender_id, json.loads(json.dumps(cached)), self.domain.slots)
        tracker = await super().retrieve(sender_id)
        if tracker is not None:
            self._remember(sender_id, [e.as_dict() for e in tracker.events])
        return tracker

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        cached = self._cache.get(tracker.sender_id)
        if cached is None:
            return super()._additional_events(session, tracker)
        return itertools.islice(tracker.events, len(cached), len(tracker.events))

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save, with one multi-row INSERT instead of an ORM object per event."""
        await self.stream_events(tracker)
        if tracker.sender_id in self._cache:
            new_events = list(self._additional_events(None, tracker))
        else:
            with self.session_scope() as session:
                new_events = list(self._additional_events(session, tracker))
        rows = []
        for event in new_events:
            data = event.as_dict()
            rows.append({
                "sender_id": tracker.sender_id,
                "type_name": event.type_name,
                "timestamp": data.get("timestamp"),
                "intent_name": (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                "action_name": data.get("name"),
                "data": json.dumps(data),
            })
        if rows:
            with self.engine.begin() as conn:
                conn.execute(self.SQLEvent.__table__.insert(), rows)
        self._remember(tracker.sender_id, self._latest_session([e.as_dict() for e in tracker.events]))
