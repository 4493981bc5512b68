"""The project's own database: one storage layer, two backends, versioned migrations.

The hand-off queue, tickets, staff accounts and sessions, the audit log and the review
log all go through :class:`Database`. Two backends, chosen by one setting
(``MADOGUCHI_DATABASE_URL``, bot/settings.py):

* **embedded** (the default): SQLite through sqlite-utils, ``var/madoguchi.db``, with
  write-ahead logging so the action server and the console share it;
* **PostgreSQL** (``postgresql://user:password@host:port/db``), for several machines
  (docs/scaling.md), through psycopg2.

Stores write SQL once, in the subset both engines understand, with ``?`` placeholders;
:class:`PostgresDatabase` turns ``?`` into psycopg2's ``%s`` and the two SQLite-only
column forms (``INTEGER PRIMARY KEY AUTOINCREMENT``, ``REAL``) into PostgreSQL's, so the
schema and the migrations are the same text for both.

Write transactions take one lock per name (``transaction("handoff")``): SQLite's
``BEGIN IMMEDIATE`` (one writer at a time) and, on PostgreSQL, a transaction-scoped
advisory lock, so a read-then-write (one open hand-off per conversation, the review
log's follow-ups) stays valid whichever process or machine runs it.

Each capability (review log, hand-off, console accounts) declares its migrations as an
ordered list of ``Migration(id, apply)``; :func:`migrate` applies the ones not yet
recorded in the ``_migrations`` table, in order, each in its own transaction. Migration
ids are ``"<capability>-NNNN-<what>"`` and are never renamed or reordered once shipped.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence
from urllib.parse import urlsplit, urlunsplit

from bot.errors import ConfigError, MadoguchiError

logger = logging.getLogger(__name__)

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
POSTGRES_SCHEMES = ("postgresql", "postgres")


class DatabaseUnavailable(MadoguchiError):
    """The database server cannot be reached."""


@dataclass(frozen=True)
class Migration:
    id: str
    apply: Callable[["Database"], None]
    description: str = ""


def redact_url(url: str) -> str:
    """The URL without its password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.split(":", 1)[0].lower() in POSTGRES_SCHEMES


class Database:
    """A connection to the project's database, shared by the threads of one process.

    Statements are serialised by one lock (a store may hold its own lock around it);
    outside :meth:`transaction` every statement commits by itself.
    """

    dialect: str = ""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._depth = 0  # nesting of transaction()

    # --- implemented by the backends
    def _run(self, sql: str, params: Sequence) -> Any:
        raise NotImplementedError

    def _begin(self, lock: str | None) -> None:
        raise NotImplementedError

    def _end(self, commit: bool) -> None:
        raise NotImplementedError

    def table_names(self) -> list[str]:
        raise NotImplementedError

    def column_names(self, table: str) -> list[str]:
        raise NotImplementedError

    def insert(self, sql: str, params: Sequence = ()) -> int:
        """Run an ``INSERT`` into a table with an ``id`` column; returns the new id."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    @property
    def location(self) -> str:
        """Where the data is (file path, or URL without password)."""
        raise NotImplementedError

    # --- shared
    def execute(self, sql: str, params: Sequence = ()) -> Any:
        """Run one statement; returns a DB-API cursor (``fetchone``, ``fetchall``, ``rowcount``)."""
        with self.lock:
            return self._run(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence]) -> None:
        """Run one statement for many rows (bulk copies)."""
        with self.lock:
            self._run_many(sql, rows)

    def _run_many(self, sql: str, rows: Sequence[Sequence]) -> None:
        for row in rows:
            self._run(sql, row)

    def query(self, sql: str, params: Sequence | None = None) -> list[dict]:
        """Rows of a query as dicts."""
        with self.lock:
            cur = self._run(sql, params or ())
            names = [d[0] for d in cur.description or ()]
            return [dict(zip(names, row)) for row in cur.fetchall()]

    def notify(self, channel: str) -> None:
        """Tell the processes listening on ``channel`` that something changed, when the
        transaction commits (PostgreSQL ``NOTIFY``; on SQLite nothing listens: the
        readers poll)."""

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @contextmanager
    def transaction(self, lock: str | None = None) -> Iterator["Database"]:
        """One write transaction, serialised with every other one of the same ``lock``
        name, in any process (nested calls join the outer transaction)."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._begin(lock)
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                self._end(commit=False)
                raise
            self._depth = 0
            self._end(commit=True)


class SQLiteDatabase(Database):
    """The embedded backend: one SQLite file through sqlite-utils, in WAL mode."""

    dialect = SQLITE

    def __init__(self, path: Path | str) -> None:
        import sqlite_utils

        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA foreign_keys=ON")
        self.sqlite = sqlite_utils.Database(conn)
        self.conn = conn

    @property
    def location(self) -> str:
        return str(self.path)

    def _run(self, sql: str, params: Sequence) -> Any:
        return self.conn.execute(sql, tuple(params))

    def _begin(self, lock: str | None) -> None:
        # SQLite has one writer at a time: every lock name is the same lock.
        self.conn.execute("BEGIN IMMEDIATE")

    def _end(self, commit: bool) -> None:
        # SQLite rolls a transaction back by itself after some errors (SQLITE_FULL: the disk
        # is full; SQLITE_IOERR …): a ROLLBACK then would fail with "no transaction is
        # active" and hide the real error. A failed COMMIT must not leave the connection in
        # the transaction either: every later BEGIN would fail.
        if commit:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def insert(self, sql: str, params: Sequence = ()) -> int:
        with self.lock:
            return int(self._run(sql, params).lastrowid)

    def table_names(self) -> list[str]:
        with self.lock:
            return self.sqlite.table_names()

    def column_names(self, table: str) -> list[str]:
        with self.lock:
            return [r[1] for r in self.conn.execute(f"PRAGMA table_info({_identifier(table)})").fetchall()]

    def close(self) -> None:
        self.conn.close()


@functools.lru_cache(maxsize=1024)
def postgres_sql(sql: str) -> str:
    """One statement of our SQL in psycopg2's form (placeholders, SQLite-only column types)."""
    out = sql.replace("%", "%%").replace("?", "%s")
    out = out.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY")
    out = out.replace(" REAL", " DOUBLE PRECISION")
    return out


def _lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a lock name."""
    return int.from_bytes(hashlib.sha256(f"madoguchi:{name}".encode()).digest()[:8], "big", signed=True)


class PostgresDatabase(Database):
    """The PostgreSQL backend (psycopg2), reconnecting by itself after a server restart."""

    dialect = POSTGRESQL

    def __init__(self, url: str, connect_timeout: int = 10) -> None:
        super().__init__()
        self.url = url
        self._connect_timeout = connect_timeout
        self.conn = None
        self._connect()

    @property
    def location(self) -> str:
        return redact_url(self.url)

    def _connect(self) -> None:
        import psycopg2

        try:
            self.conn = psycopg2.connect(self.url, connect_timeout=self._connect_timeout,
                                         application_name="madoguchi")
        except psycopg2.OperationalError as exc:
            raise DatabaseUnavailable(
                f"cannot connect to PostgreSQL at {self.location}: {str(exc).strip().splitlines()[0]}",
                hint="check that the server runs and MADOGUCHI_DATABASE_URL is right "
                     "(postgresql://user:password@host:5432/dbname), or unset it for the embedded SQLite file",
            ) from None
        self.conn.autocommit = True

    def _run(self, sql: str, params: Sequence) -> Any:
        import psycopg2

        if self.conn is None or self.conn.closed:
            self._connect()
        try:
            cur = self.conn.cursor()
            cur.execute(postgres_sql(sql), tuple(params))
            return cur
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            if self._depth or not self.conn.closed:
                raise  # inside a transaction the caller must see it; a live connection means a real error
            logger.warning("database connection to %s lost; reconnecting", self.location)
            self._connect()
            cur = self.conn.cursor()
            cur.execute(postgres_sql(sql), tuple(params))
            return cur

    def _run_many(self, sql: str, rows: Sequence[Sequence]) -> None:
        from psycopg2.extras import execute_batch

        if self.conn is None or self.conn.closed:
            self._connect()
        execute_batch(self.conn.cursor(), postgres_sql(sql), [tuple(r) for r in rows], page_size=500)

    def _begin(self, lock: str | None) -> None:
        self._run("BEGIN", ())
        if lock:
            self._run("SELECT pg_advisory_xact_lock(?)", (_lock_key(lock),))

    def _end(self, commit: bool) -> None:
        if self.conn is None or self.conn.closed:
            return
        try:
            self.conn.cursor().execute("COMMIT" if commit else "ROLLBACK")
        except Exception:
            if commit:
                raise

    def insert(self, sql: str, params: Sequence = ()) -> int:
        with self.lock:
            return int(self._run(sql + " RETURNING id", params).fetchone()[0])

    def notify(self, channel: str) -> None:
        # Inside a transaction PostgreSQL sends it at COMMIT (and never after a ROLLBACK);
        # several of the same name in one transaction arrive once.
        self.execute("SELECT pg_notify(?, '')", (channel,))

    def table_names(self) -> list[str]:
        rows = self.query("SELECT table_name FROM information_schema.tables "
                          "WHERE table_schema = current_schema() ORDER BY table_name")
        return [r["table_name"] for r in rows]

    def column_names(self, table: str) -> list[str]:
        rows = self.query("SELECT column_name FROM information_schema.columns "
                          "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position", [table])
        return [r["column_name"] for r in rows]

    def close(self) -> None:
        if self.conn is not None and not self.conn.closed:
            self.conn.close()


def _identifier(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a table name: {name!r}")
    return name


def open_database(target: Path | str) -> Database:
    """Open the project's database: a ``postgresql://`` URL, or the path of the SQLite file
    (also written ``sqlite:///path``), creating the file when missing."""
    if is_postgres_url(target):
        return PostgresDatabase(str(target))
    text = str(target)
    if text.startswith("sqlite:///"):
        return SQLiteDatabase(text[len("sqlite:///") - 1:] if text.startswith("sqlite:////") else text[len("sqlite:///"):])
    if "://" in text:
        raise ConfigError(
            f"MADOGUCHI_DATABASE_URL: {redact_url(text)!r} is not a database this project can use",
            hint="use postgresql://user:password@host:5432/dbname, or leave it empty for the embedded "
                 "SQLite file var/madoguchi.db",
        )
    return SQLiteDatabase(text)


def _ensure_migrations_table(db: Database) -> None:
    if "_migrations" in db.table_names():
        return
    with db.transaction("migrations"):
        db.execute("CREATE TABLE IF NOT EXISTS _migrations (id TEXT PRIMARY KEY, applied_at TEXT, description TEXT)")


def applied_migrations(db: Database) -> set[str]:
    if "_migrations" not in db.table_names():
        return set()
    return {row["id"] for row in db.query("SELECT id FROM _migrations")}


def migrate(db: Database, migrations: Iterable[Migration]) -> list[str]:
    """Apply the migrations not yet applied; returns the ids applied now.

    Safe when several processes start at once: each migration runs in a transaction
    holding the ``migrations`` lock and checks again that it is not applied yet.
    """
    _ensure_migrations_table(db)
    done = applied_migrations(db)
    applied = []
    for m in migrations:
        if m.id in done:
            continue
        with db.transaction("migrations"):
            if db.execute("SELECT 1 FROM _migrations WHERE id = ?", (m.id,)).fetchone():
                continue
            m.apply(db)
            db.execute("INSERT INTO _migrations (id, applied_at, description) VALUES (?, ?, ?)",
                       (m.id, dt.datetime.now(dt.timezone.utc).isoformat(), m.description))
        applied.append(m.id)
    return applied
