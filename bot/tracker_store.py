"""Rasa's SQL tracker store, tuned for the embedded SQLite default.

Configured in ``endpoints.yml`` (``type: bot.tracker_store.SQLiteTrackerStore``). With
SQLite, every saved message was a synchronous commit (an fsync): profiling showed the
tracker store taking about half of the Rasa process's time per message. Write-ahead
logging with ``synchronous=NORMAL`` keeps the database consistent after a crash (the
last commits may be lost on power failure, not corrupted) and makes commits cheap.
For PostgreSQL use Rasa's own ``type: SQL`` (see README, "Scaling out").
"""

from __future__ import annotations

from typing import Any

from rasa.core.tracker_store import SQLTrackerStore


class SQLiteTrackerStore(SQLTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            from sqlalchemy import event

            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
                cur = dbapi_connection.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.close()

            self.engine.dispose()  # connections opened so far get the pragmas on reconnect
