"""The embedded database (``var/madoguchi.db``): opening it and versioned migrations.

Each capability (review log, hand-off, console accounts) declares its migrations as an
ordered list of ``Migration(id, apply)``; :func:`migrate` applies the ones not yet
recorded in the ``_migrations`` table, in order, each in its own transaction. Migration
ids are ``"<capability>-NNNN-<what>"`` and are never renamed or reordered once shipped.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import sqlite_utils


@dataclass(frozen=True)
class Migration:
    id: str
    apply: Callable[[sqlite_utils.Database], None]
    description: str = ""


def open_database(path: Path | str) -> sqlite_utils.Database:
    """Open (creating) the SQLite file with WAL, so that several processes can share it."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(p), timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA foreign_keys=ON")
    return sqlite_utils.Database(conn)


def applied_migrations(db: sqlite_utils.Database) -> set[str]:
    if "_migrations" not in db.table_names():
        return set()
    return {row["id"] for row in db["_migrations"].rows}


def migrate(db: sqlite_utils.Database, migrations: Iterable[Migration]) -> list[str]:
    """Apply the migrations not yet applied; returns the ids applied now."""
    if "_migrations" not in db.table_names():
        db["_migrations"].create({"id": str, "applied_at": str, "description": str}, pk="id", if_not_exists=True)
    done = applied_migrations(db)
    applied = []
    for m in migrations:
        if m.id in done:
            continue
        with db.conn:
            m.apply(db)
            db["_migrations"].insert(
                {"id": m.id, "applied_at": dt.datetime.now(dt.timezone.utc).isoformat(), "description": m.description},
                replace=True,
            )
        applied.append(m.id)
    return applied
