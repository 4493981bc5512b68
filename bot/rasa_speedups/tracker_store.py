"""Rasa's SQL tracker store, tuned for the embedded SQLite default (one Rasa process).

Configured in ``endpoints.yml`` (``type: bot.rasa_speedups.tracker_store.SQLiteTrackerStore``;
the old name ``bot.tracker_store.SQLiteTrackerStore`` still works).
Profiling the REST round trip (py-spy) showed the tracker store taking about half of the
Rasa process's time per message. These changes all keep SQLite the truth:

* write-ahead logging with ``synchronous=NORMAL``: commits no longer wait for an fsync
  (after a power failure the last commits may be lost, the database is not corrupted);
* a write-through cache of the latest session's events, kept as the JSON text written
  to the database: a conversation's next message no longer re-reads and counts its
  events in SQL, nor re-serialises the events already stored. Everything is still
  written to SQLite on every save, and after a restart trackers are read from it;
* a new conversation is told by one indexed lookup, and remembered, so the save that
  follows does not count its events in SQL;
* new events are written with one ``executemany`` of an INSERT compiled once.

The cache is only correct when this process is the only writer, which is the embedded
default (Rasa's in-memory lock store means one Rasa process anyway). For several Rasa
processes use Rasa's own ``type: SQL`` on PostgreSQL with a Redis lock store (README,
"Scaling out"); ``cache_size: 0`` turns the cache off.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import OrderedDict
from typing import Any, Iterable, Iterator, Optional, Text, Tuple

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker


logger = logging.getLogger(__name__)

# One cached event: its type name and its JSON, exactly as written to the database.
CachedEvent = Tuple[str, str]


class SQLiteTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, cache_size: int = 10000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name != "sqlite" and int(cache_size) > 0:
            # Another process may write the same conversations to a server database: a
            # cached tracker could be stale. Without the cache this is Rasa's SQL store.
            logger.warning("tracker store on %s: the write-through cache is off (it assumes one writer)",
                           self.engine.dialect.name)
            cache_size = 0
        self._cache: "OrderedDict[str, list[CachedEvent]]" = OrderedDict()
        # Senders whose last retrieve found no event in the database: their next save
        # writes every event without asking the database how many it has.
        self._absent: "OrderedDict[str, None]" = OrderedDict()
        self._cache_size = int(cache_size)
        self._insert_sql: Optional[str] = None
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
                cur.execute("PRAGMA busy_timeout=10000")
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()

            # Switch the file to write-ahead logging now, at start-up, not at the first
            # message: until then it is in rollback-journal mode, where another writer
            # (a backup, the sqlite3 shell) makes the switch fail at once and the first
            # residents get the error reply (tests/integration/test_sqlite_busy.py).
            with self.engine.connect():
                pass

            # The INSERT of new events, compiled once for the sqlite3 driver (building
            # and compiling it with SQLAlchemy for every save was ~4 % of the process).
            table = self.SQLEvent.__table__
            self._insert_columns = [c.name for c in table.columns if c.name != "id"]
            self._insert_sql = str(table.insert().compile(dialect=self.engine.dialect,
                                                          column_keys=self._insert_columns))
            # A new conversation (cache miss) is told by one indexed lookup instead of
            # Rasa's ORM query of the latest session (~4 % with a new resident every 5 messages).
            self._exists_sql = f"SELECT 1 FROM {table.name} WHERE sender_id = ? LIMIT 1"

    # ------------------------------------------------------------------ cache
    def _remember(self, sender_id: str, events: list[CachedEvent]) -> None:
        if self._cache_size <= 0:
            return
        self._cache[sender_id] = events
        self._cache.move_to_end(sender_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def _mark_absent(self, sender_id: str) -> None:
        if self._cache_size <= 0:
            return
        self._absent[sender_id] = None
        self._absent.move_to_end(sender_id)
        while len(self._absent) > self._cache_size:
            self._absent.popitem(last=False)

    @staticmethod
    def _latest_session(events: list[CachedEvent]) -> list[CachedEvent]:
        """Events from the last SessionStarted on, as the SQL query selects them."""
        for i in range(len(events) - 1, -1, -1):
            if events[i][0] == SessionStarted.type_name:
                return events[i:]
        return events

    @staticmethod
    def _serialised(events: Iterable[Event]) -> list[CachedEvent]:
        return [(e.type_name, json.dumps(e.as_dict())) for e in events]

    # ------------------------------------------------------------------ Rasa API
    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        cached = self._cache.get(sender_id)
        if cached is not None and self.domain:
            self._cache.move_to_end(sender_id)
            # A new list of new dicts each time: the processor changes the tracker it gets.
            events = json.loads("[" + ",".join(data for _, data in cached) + "]")
            return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
        if self._insert_sql is not None and not self._has_events(sender_id):
            tracker = None  # a new conversation: Rasa's query would find nothing either
        else:
            tracker = await super().retrieve(sender_id)
        if tracker is None:
            self._mark_absent(sender_id)
        else:
            self._absent.pop(sender_id, None)
            self._remember(sender_id, self._serialised(tracker.events))
        return tracker

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        cached = self._cache.get(tracker.sender_id)
        if cached is not None:
            return itertools.islice(tracker.events, len(cached), len(tracker.events))
        if tracker.sender_id in self._absent:
            return iter(list(tracker.events))
        return super()._additional_events(session, tracker)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save, with one multi-row INSERT instead of an ORM object per event."""
        await self.stream_events(tracker)
        sender_id = tracker.sender_id
        cached = self._cache.get(sender_id)
        if cached is not None or sender_id in self._absent:
            new_events = list(self._additional_events(None, tracker))
        else:
            with self.session_scope() as session:
                new_events = list(self._additional_events(session, tracker))
        new: list[CachedEvent] = []
        rows = []
        for event in new_events:
            data = event.as_dict()
            text = json.dumps(data)
            new.append((event.type_name, text))
            rows.append({
                "sender_id": sender_id,
                "type_name": event.type_name,
                "timestamp": data.get("timestamp"),
                "intent_name": (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                "action_name": data.get("name"),
                "data": text,
            })
        if rows:
            self._insert(rows)
        if cached is not None:
            # The database now holds the cached events and the new ones.
            self._remember(sender_id, self._latest_session(cached + new))
        else:
            self._absent.pop(sender_id, None)
            self._remember(sender_id, self._latest_session(self._serialised(tracker.events)))

    def _has_events(self, sender_id: str) -> bool:
        """Whether the database holds any event of the sender (one indexed lookup)."""
        connection = self.engine.raw_connection()  # this thread's connection (SingletonThreadPool)
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(self._exists_sql, (sender_id,))
                return cursor.fetchone() is not None
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool, not closed

    def _insert(self, rows: list[dict]) -> None:
        if self._insert_sql is None:
            with self.engine.begin() as conn:
                conn.execute(self.SQLEvent.__table__.insert(), rows)
            return
        params = [tuple(row[c] for c in self._insert_columns) for row in rows]
        connection = self.engine.raw_connection()  # this thread's connection (SingletonThreadPool)
        try:
            cursor = connection.cursor()
            try:
                cursor.executemany(self._insert_sql, params)
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool, not closed


# --------------------------------------------------------------------------- failures
# Rasa wraps every tracker store in FailSafeTrackerStore, which hides a failing database:
# a failed read returns "no tracker" (the conversation starts again from nothing) and a
# failed write goes to a memory store that is never read. While PostgreSQL restarts (or
# SQLite stays locked past its busy timeout) residents would get answers whose messages
# are then lost, and a conversation held by staff would be answered by the bot. Instead,
# the error reaches the channel, which sends the reply contract's polite `error` reply;
# the resident sends again, and nothing accepted is lost.


async def _retrieve_or_raise(self: Any, sender_id: Text) -> Optional[DialogueStateTracker]:
    return await self._tracker_store.retrieve(sender_id)


async def _retrieve_full_or_raise(self: Any, sender_id: Text) -> Optional[DialogueStateTracker]:
    return await self._tracker_store.retrieve_full_tracker(sender_id)


async def _save_or_raise(self: Any, tracker: DialogueStateTracker) -> None:
    await self._tracker_store.save(tracker)


STORE_ERRORS_GROUP = "tracker_store_errors"  # in bot.rasa_speedups' registry of changes to Rasa


def raise_store_errors() -> None:
    """Make Rasa's FailSafeTrackerStore pass database errors on (see above; idempotent).

    Rasa's own methods are kept in ``bot.rasa_speedups``' registry; ``uninstall()`` puts them back.
    """
    from rasa.core.tracker_store import FailSafeTrackerStore

    from bot import rasa_speedups

    if rasa_speedups.applied(STORE_ERRORS_GROUP):
        return
    rasa_speedups.replace(STORE_ERRORS_GROUP, FailSafeTrackerStore, "retrieve", _retrieve_or_raise)
    rasa_speedups.replace(STORE_ERRORS_GROUP, FailSafeTrackerStore, "retrieve_full_tracker", _retrieve_full_or_raise)
    rasa_speedups.replace(STORE_ERRORS_GROUP, FailSafeTrackerStore, "save", _save_or_raise)
