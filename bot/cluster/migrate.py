"""Copy an embedded installation's database to PostgreSQL (``bot db migrate-to postgres``).

The target gets its schema from the same migrations as the source, then every table is
copied row by row in one transaction (ids kept, so references between tables hold), the
id sequences are moved past the copied ids, and the row counts of every table are
compared: any difference undoes the copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.db import Database, Migration, migrate, open_database, redact_url
from bot.errors import MadoguchiError

# Tables in an order where every referenced row is copied before the rows referring to it.
TABLE_ORDER = ("staff", "staff_sessions", "handoffs", "tickets", "audit_log", "review_resolutions", "review_questions")
SKIPPED = ("_migrations", "sqlite_sequence", "sqlite_stat1")


class MigrationFailed(MadoguchiError):
    """The copy could not be made, or its row counts do not match (nothing was kept)."""


def all_migrations() -> list[Migration]:
    """Every capability's migrations: the whole schema of the project's database."""
    from bot.console.accounts import MIGRATIONS as accounts
    from bot.handoff.store import MIGRATIONS as handoff
    from bot.review.store import MIGRATIONS as review

    return [*handoff, *accounts, *review]


@dataclass
class CopyReport:
    target: str  # the target URL without password
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # table → (source rows, target rows)


def _count(db: Database, table: str) -> int:
    return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def copy_tables(source: Database, target: Database) -> CopyReport:
    """Copy every project table of ``source`` into the empty ``target`` (both migrated here)."""
    for db in (source, target):
        migrate(db, all_migrations())
    tables = [t for t in source.table_names() if t not in SKIPPED]
    unknown = sorted(set(tables) - set(TABLE_ORDER))
    if unknown:
        raise MigrationFailed(f"the source has tables this version does not know: {', '.join(unknown)}",
                              hint="upgrade Madoguchi, or remove the tables that are not the project's")
    ordered = [t for t in TABLE_ORDER if t in tables]
    filled = [t for t in ordered if _count(target, t)]
    if filled:
        raise MigrationFailed(f"the target already has rows in {', '.join(filled)}",
                              hint="copy into a new, empty database (CREATE DATABASE madoguchi OWNER madoguchi)")
    report = CopyReport(target.location)
    with target.transaction("migrations"):
        for table in ordered:
            columns = [c for c in source.column_names(table) if c in set(target.column_names(table))]
            names = ", ".join(columns)
            rows = source.execute(f"SELECT {names} FROM {table}").fetchall()
            if rows:
                target.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})", rows)
            if "id" in columns and target.dialect == "postgresql":
                target.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table}")
            report.counts[table] = (len(rows), _count(target, table))
        wrong = {t: c for t, c in report.counts.items() if c[0] != c[1] or c[0] != _count(source, t)}
        if wrong:
            raise MigrationFailed("row counts differ after the copy: " + ", ".join(
                f"{t} {a} → {b}" for t, (a, b) in wrong.items()), hint="nothing was kept; stop every writer and try again")
    return report


def copy_database(source: str, target_url: str) -> CopyReport:
    """Open both databases and copy (``source``: the SQLite file; ``target_url``: postgresql://…)."""
    from bot.db import is_postgres_url

    if not is_postgres_url(target_url):
        raise MigrationFailed(f"the target must be a postgresql:// URL; got {redact_url(target_url)!r}",
                              hint="postgresql://user:password@host:5432/dbname")
    from pathlib import Path

    if not is_postgres_url(source) and not Path(source).is_file():
        raise MigrationFailed(f"there is no database to copy at {source}",
                              hint="run it from the installation's directory, or name the file with --from")
    src = open_database(source)
    dst = open_database(target_url)
    try:
        return copy_tables(src, dst)
    finally:
        src.close()
        dst.close()
