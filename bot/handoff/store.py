"""Hand-offs to staff and tickets (left messages), in the project's database (bot/db.py).

The action server (``actions/handoff.py``) writes requests and tickets; the staff console
claims, hands back, closes and answers them. All of them open the same database (the
SQLite file ``var/madoguchi.db`` in WAL mode, or PostgreSQL shared by several machines),
so every state change is one short transaction and every
change of state is checked in SQL (``… WHERE status = 'waiting'``): two members of staff
can never claim the same hand-off, whichever process or thread they come from.

Texts reaching the store are already masked by the channels (docs/architecture.md); no
personal contact data is stored. Every state change writes an audit row in the same
transaction. Timestamps are ISO-8601 UTC strings with milliseconds, so they sort as text.

Schema (documented in docs/console.md):

* ``handoffs``: one row per request for a person; at most one open (waiting or claimed)
  per conversation, enforced by a partial unique index.
* ``tickets``: questions left for staff (a "伝言"), answered later.
* ``audit_log``: who did what, when.

Hand-offs and tickets keep the conversation's language (``ja``, ``en``, ``vi`` …,
bot/i18n/languages.py) when they were made, so that staff see whom they will talk to;
rows from before that column existed have none.
"""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Callable, Iterator

from bot.db import Database, Migration, migrate, open_database
from bot.errors import MadoguchiError
from bot.i18n.languages import supported_or_none

MAX_TEXT_CHARS = 4000  # longest question / answer / note kept (longer text is cut)
MAX_NOTIFY_ATTEMPTS = 8  # a notification that failed this often is given up (about 4 minutes of retries)
# PostgreSQL NOTIFY channel of every committed hand-off or ticket change (no payload: the
# consoles read the database again); bot/console/changes.py listens to it.
CHANGES_CHANNEL = "madoguchi_handoff_changes"


class HandoffStatus(str, Enum):
    WAITING = "waiting"  # in the queue, nobody has claimed it yet
    CLAIMED = "claimed"  # a member of staff is talking with the resident
    RETURNED = "returned"  # staff handed the conversation back to the assistant
    CLOSED = "closed"  # staff closed it with a resolution note
    CANCELLED = "cancelled"  # the resident (or a ticket replacing it) cancelled it
    EXPIRED = "expired"  # nobody claimed it in time; the resident was offered a ticket


OPEN_STATUSES = (HandoffStatus.WAITING.value, HandoffStatus.CLAIMED.value)


class HandoffReason(str, Enum):
    REQUESTED = "requested"  # 「人と話したい」
    CANNOT_ANSWER = "cannot_answer"  # the assistant had no answer
    UNHELPFUL = "unhelpful"  # two unhelpful answers in a row
    URGENT = "urgent"  # urgent words (虐待, 自殺, DV, 火事 …)


class TicketStatus(str, Enum):
    OPEN = "open"
    ANSWERED = "answered"
    CANCELLED = "cancelled"


class ContactMethod(str, Enum):
    CHAT = "chat"  # the answer goes back in the same channel
    PHONE_DEPT = "phone_dept"  # the resident will call the department


class HandoffError(MadoguchiError):
    """A hand-off or ticket operation that cannot be done in the current state."""


class NotFound(HandoffError):
    """No hand-off or ticket with that id."""


@dataclass(frozen=True)
class Handoff:
    id: int
    conversation_id: str
    channel: str
    department: str | None
    status: str
    reason: str
    question: str
    created_at: str
    claimed_at: str | None
    claimed_by: str | None
    closed_at: str | None
    resolution: str | None
    language: str | None = None  # the resident's language when they asked; None before it was recorded

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


@dataclass(frozen=True)
class Ticket:
    id: int
    conversation_id: str
    channel: str
    department: str | None
    status: str
    question: str
    contact_method: str
    created_at: str
    expected_by: str | None
    answer: str | None
    answered_at: str | None
    answered_by: str | None
    language: str | None = None  # the resident's language when they left it; None before it was recorded

    @property
    def is_open(self) -> bool:
        return self.status == TicketStatus.OPEN.value

    def as_dict(self) -> dict:
        return {f: getattr(self, f) for f in self.__dataclass_fields__}


_HANDOFF_COLUMNS = ", ".join(Handoff.__dataclass_fields__)
_TICKET_COLUMNS = ", ".join(Ticket.__dataclass_fields__)


def _create_tables(db: Database) -> None:
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS handoffs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            department TEXT,
            status TEXT NOT NULL,
            reason TEXT NOT NULL,
            question TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            claimed_at TEXT,
            claimed_by TEXT,
            closed_at TEXT,
            resolution TEXT,
            updated_at TEXT NOT NULL,
            notified_at TEXT,
            notify_attempts INTEGER NOT NULL DEFAULT 0,
            offer_sent_at TEXT
        )"""
    )
    # At most one open hand-off per conversation, whatever process writes.
    db.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS handoffs_one_open ON handoffs(conversation_id) "
        "WHERE status IN ('waiting', 'claimed')"
    )
    db.execute("CREATE INDEX IF NOT EXISTS handoffs_status ON handoffs(status, created_at)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS tickets (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            conversation_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            department TEXT,
            status TEXT NOT NULL,
            question TEXT NOT NULL,
            contact_method TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expected_by TEXT,
            answer TEXT,
            answered_at TEXT,
            answered_by TEXT,
            updated_at TEXT NOT NULL,
            notified_at TEXT,
            notify_attempts INTEGER NOT NULL DEFAULT 0
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS tickets_status ON tickets(status, created_at)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS audit_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )"""
    )


def _add_language(db: Database) -> None:
    # Nullable, no default: rows from before stay "not recorded", never a guessed Japanese.
    for table in ("handoffs", "tickets"):
        if "language" not in db.column_names(table):
            db.execute(f"ALTER TABLE {table} ADD COLUMN language TEXT")


MIGRATIONS = [
    Migration("handoff-0001-handoffs-tickets-audit", _create_tables,
              "hand-offs, tickets and the audit log"),
    Migration("handoff-0002-language", _add_language,
              "the resident's language on hand-offs and tickets"),
]


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _clip(text: str | None) -> str:
    return (text or "").strip()[:MAX_TEXT_CHARS]


class HandoffStore:
    """Queue of hand-offs, tickets and the audit log over one database connection.

    Safe to share between threads (multi-statement transactions hold a lock) and between
    processes and machines (write transactions take the ``handoff`` lock of
    :meth:`bot.db.Database.transaction`, and state changes are conditional updates).

    Args:
        db: the project's database (``bot.db.open_database``); migrations run here.
        clock: returns the current UTC time (tests pass a fake clock).
    """

    def __init__(self, db: Database, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.db = db
        self._clock = clock or _utcnow
        self._lock = threading.RLock()
        with self._lock:
            migrate(db, MIGRATIONS)

    @classmethod
    def open(cls, path: Path | str, clock: Callable[[], dt.datetime] | None = None) -> "HandoffStore":
        """Open the database at ``path`` (a SQLite file, created when missing, or a
        ``postgresql://`` URL: ``Settings.database``)."""
        return cls(open_database(path), clock=clock)

    # ------------------------------------------------------------------ plumbing
    def now(self) -> str:
        return _iso(self._clock())

    @contextmanager
    def _tx(self) -> Iterator[Database]:
        """One write transaction; taken before reading so the read stays valid. On
        PostgreSQL the consoles listening on ``CHANGES_CHANNEL`` hear of it at commit."""
        with self._lock, self.db.transaction("handoff") as conn:
            yield conn
            conn.notify(CHANGES_CHANNEL)

    def _audit(self, conn: Database, actor: str, action: str, target: str, detail: str = "") -> None:
        conn.execute(
            "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
            (self.now(), actor, action, target, _clip(detail)),
        )

    def _handoff_row(self, conn: Database, where: str, params: tuple) -> Handoff | None:
        row = conn.execute(f"SELECT {_HANDOFF_COLUMNS} FROM handoffs WHERE {where}", params).fetchone()
        return Handoff(*row) if row else None

    def _handoffs(self, where: str, params: tuple = (), order: str = "created_at, id") -> list[Handoff]:
        with self._lock:
            rows = self.db.execute(
                f"SELECT {_HANDOFF_COLUMNS} FROM handoffs WHERE {where} ORDER BY {order}", params
            ).fetchall()
        return [Handoff(*r) for r in rows]

    def _ticket_row(self, conn: Database, ticket_id: int) -> Ticket | None:
        row = conn.execute(f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return Ticket(*row) if row else None

    def _require(self, conn: Database, handoff_id: int) -> Handoff:
        found = self._handoff_row(conn, "id = ?", (handoff_id,))
        if found is None:
            raise NotFound(f"hand-off {handoff_id} does not exist", hint="reload the inbox")
        return found

    # ------------------------------------------------------------------ hand-offs
    def request(self, conversation_id: str, channel: str, department: str | None, reason: str, question: str,
                language: str | None = None) -> Handoff:
        """Queue the conversation for staff; returns its open hand-off if it already has one.

        Args:
            conversation_id: Rasa's sender id.
            channel: the input channel the resident uses (``rest``, ``web``, ``line`` …).
            department: department id from the knowledge base, or None when unknown.
            reason: one of :class:`HandoffReason` (``requested``, ``cannot_answer``,
                ``unhelpful``, ``urgent``).
            question: the resident's question (already masked).
            language: the conversation's language (``bot.i18n.languages``); anything
                else is kept as None (not recorded).
        """
        if not conversation_id:
            raise HandoffError("a hand-off needs the conversation id (sender id); got an empty one")
        reasons = {r.value for r in HandoffReason}
        if reason not in reasons:
            raise HandoffError(f"unknown hand-off reason {reason!r}", hint=f"use one of {sorted(reasons)}")
        with self._tx() as conn:
            existing = self._handoff_row(conn, "conversation_id = ? AND status IN (?, ?)", (conversation_id, *OPEN_STATUSES))
            if existing is not None:
                return existing
            now = self.now()
            handoff_id = conn.insert(
                "INSERT INTO handoffs (conversation_id, channel, department, status, reason, question, created_at, updated_at, "
                "language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, channel or "", department or None, HandoffStatus.WAITING.value, reason, _clip(question), now, now,
                 supported_or_none(language)),
            )
            self._audit(conn, "resident", "handoff.request", f"handoff:{handoff_id}",
                        f"reason={reason} department={department or '-'} channel={channel} "
                        f"language={supported_or_none(language) or '-'}")
            return self._require(conn, handoff_id)

    def get(self, handoff_id: int) -> Handoff | None:
        with self._lock:
            return self._handoff_row(self.db, "id = ?", (handoff_id,))

    def open_for(self, conversation_id: str) -> Handoff | None:
        """The waiting or claimed hand-off of a conversation, if any."""
        with self._lock:
            return self._handoff_row(self.db, "conversation_id = ? AND status IN (?, ?)", (conversation_id, *OPEN_STATUSES))

    def queue_position(self, handoff_id: int) -> int:
        """How many waiting hand-offs of the same department are ahead (0 = next)."""
        handoff = self.get(handoff_id)
        if handoff is None or handoff.status != HandoffStatus.WAITING.value:
            return 0
        with self._lock:
            (ahead,) = self.db.execute(
                "SELECT COUNT(*) FROM handoffs WHERE status = ? AND COALESCE(department, '') = ? AND "
                "(created_at < ? OR (created_at = ? AND id < ?))",
                (HandoffStatus.WAITING.value, handoff.department or "", handoff.created_at, handoff.created_at, handoff.id),
            ).fetchone()
        return int(ahead)

    def cancel(self, conversation_id: str, actor: str = "resident") -> Handoff | None:
        """Cancel the conversation's open hand-off; returns it (now cancelled) or None."""
        with self._tx() as conn:
            found = self._handoff_row(conn, "conversation_id = ? AND status IN (?, ?)", (conversation_id, *OPEN_STATUSES))
            if found is None:
                return None
            now = self.now()
            conn.execute("UPDATE handoffs SET status = ?, closed_at = ?, updated_at = ? WHERE id = ?",
                         (HandoffStatus.CANCELLED.value, now, now, found.id))
            self._audit(conn, actor, "handoff.cancel", f"handoff:{found.id}", f"was {found.status}")
            return self._require(conn, found.id)

    def claim(self, handoff_id: int, staff: str) -> bool:
        """Claim a waiting hand-off for ``staff``; atomic.

        Returns:
            True when ``staff`` now holds it (also when they already did); False when
            someone else claimed it first or it is no longer waiting.
        Raises:
            NotFound: no hand-off with that id.
        """
        with self._tx() as conn:
            found = self._require(conn, handoff_id)
            if found.status == HandoffStatus.CLAIMED.value and found.claimed_by == staff:
                return True
            now = self.now()
            cur = conn.execute(
                "UPDATE handoffs SET status = ?, claimed_by = ?, claimed_at = ?, updated_at = ? WHERE id = ? AND status = ?",
                (HandoffStatus.CLAIMED.value, staff, now, now, handoff_id, HandoffStatus.WAITING.value),
            )
            if cur.rowcount != 1:
                return False
            self._audit(conn, staff, "handoff.claim", f"handoff:{handoff_id}")
            return True

    def release(self, handoff_id: int, staff: str, detail: str = "") -> None:
        """Put a claimed hand-off back in the queue (e.g. the claim could not reach Rasa)."""
        with self._tx() as conn:
            found = self._require(conn, handoff_id)
            if found.status != HandoffStatus.CLAIMED.value:
                return
            conn.execute(
                "UPDATE handoffs SET status = ?, claimed_by = NULL, claimed_at = NULL, updated_at = ? WHERE id = ?",
                (HandoffStatus.WAITING.value, self.now(), handoff_id),
            )
            self._audit(conn, staff, "handoff.release", f"handoff:{handoff_id}", detail)

    def _finish(self, handoff_id: int, staff: str, status: HandoffStatus, allowed: tuple[str, ...], note: str, action: str) -> None:
        with self._tx() as conn:
            found = self._require(conn, handoff_id)
            if found.status not in allowed:
                raise HandoffError(
                    f"hand-off {handoff_id} is {found.status}; it cannot be {status.value} now",
                    hint="reload the inbox",
                )
            now = self.now()
            conn.execute(
                "UPDATE handoffs SET status = ?, closed_at = ?, resolution = ?, updated_at = ? WHERE id = ?",
                (status.value, now, _clip(note), now, handoff_id),
            )
            # The note stays in handoffs.resolution; the audit log says who did what, not what
            # was written (docs/console.md): only its length.
            self._audit(conn, staff, action, f"handoff:{handoff_id}", f"{len(_clip(note))} characters" if note.strip() else "")

    def hand_back(self, handoff_id: int, staff: str, note: str = "") -> None:
        """The assistant answers the conversation again (the hand-off ends as ``returned``)."""
        self._finish(handoff_id, staff, HandoffStatus.RETURNED, (HandoffStatus.CLAIMED.value,), note, "handoff.hand_back")

    def close(self, handoff_id: int, staff: str, resolution: str) -> None:
        """Close a claimed (or still waiting) hand-off with a resolution note."""
        if not _clip(resolution):
            raise HandoffError("closing a hand-off needs a resolution note; got an empty one",
                               hint="write in one line how it was resolved")
        self._finish(handoff_id, staff, HandoffStatus.CLOSED, OPEN_STATUSES, resolution, "handoff.close")

    def list_open(self, department: str | None = None) -> list[Handoff]:
        """Waiting and claimed hand-offs, longest waiting first."""
        if department is None:
            return self._handoffs("status IN (?, ?)", OPEN_STATUSES)
        return self._handoffs("status IN (?, ?) AND department = ?", (*OPEN_STATUSES, department))

    def expired_unclaimed(self, older_than_seconds: int) -> list[Handoff]:
        """Hand-offs still waiting after ``older_than_seconds``."""
        cutoff = _iso(self._clock() - dt.timedelta(seconds=older_than_seconds))
        return self._handoffs("status = ? AND created_at <= ?", (HandoffStatus.WAITING.value, cutoff))

    def mark_expired(self, handoff_id: int) -> bool:
        """Waiting → expired. Returns False when it was claimed or cancelled meanwhile."""
        with self._tx() as conn:
            now = self.now()
            cur = conn.execute(
                "UPDATE handoffs SET status = ?, closed_at = ?, updated_at = ? WHERE id = ? AND status = ?",
                (HandoffStatus.EXPIRED.value, now, now, handoff_id, HandoffStatus.WAITING.value),
            )
            if cur.rowcount != 1:
                return False
            self._audit(conn, "system", "handoff.expire", f"handoff:{handoff_id}", "nobody claimed it in time")
            return True

    def expired_without_offer(self) -> list[Handoff]:
        """Expired hand-offs whose resident has not yet been offered to leave a message."""
        return self._handoffs("status = ? AND offer_sent_at IS NULL", (HandoffStatus.EXPIRED.value,))

    def mark_offer_sent(self, handoff_id: int) -> None:
        with self._lock:
            self.db.execute("UPDATE handoffs SET offer_sent_at = ? WHERE id = ?", (self.now(), handoff_id))

    # ------------------------------------------------------------------ notifications
    def unnotified_handoffs(self) -> list[Handoff]:
        """Waiting hand-offs the notification hook has not announced yet."""
        return self._handoffs("status = ? AND notified_at IS NULL AND notify_attempts < ?",
                              (HandoffStatus.WAITING.value, MAX_NOTIFY_ATTEMPTS))

    def unnotified_tickets(self) -> list[Ticket]:
        with self._lock:
            rows = self.db.execute(
                f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE status = ? AND notified_at IS NULL AND notify_attempts < ? "
                "ORDER BY created_at, id", (TicketStatus.OPEN.value, MAX_NOTIFY_ATTEMPTS),
            ).fetchall()
        return [Ticket(*r) for r in rows]

    def record_notification(self, kind: str, item_id: int, delivered: bool) -> None:
        """Remember that the notice for a hand-off (``kind="handoff"``) or ticket was sent, or failed."""
        table = {"handoff": "handoffs", "ticket": "tickets"}[kind]
        with self._lock:
            if delivered:
                self.db.execute(f"UPDATE {table} SET notified_at = ? WHERE id = ?", (self.now(), item_id))
            else:
                self.db.execute(f"UPDATE {table} SET notify_attempts = notify_attempts + 1 WHERE id = ?", (item_id,))

    # ------------------------------------------------------------------ tickets
    def create_ticket(self, conversation_id: str, channel: str, department: str | None, question: str,
                      contact_method: str, expected_by: str | None = None, language: str | None = None) -> Ticket:
        """Record a question left for staff.

        Args:
            contact_method: ``chat`` (answer in the same channel) or ``phone_dept`` (the
                resident will call the department). No personal contact data is stored.
            expected_by: when the resident was told to expect the answer (ISO date or text).
            language: the conversation's language, so staff know which language to answer in.
        """
        methods = {m.value for m in ContactMethod}
        if contact_method not in methods:
            raise HandoffError(f"unknown contact method {contact_method!r}", hint=f"use one of {sorted(methods)}")
        if not _clip(question):
            raise HandoffError("a ticket needs the resident's question; got an empty one")
        with self._tx() as conn:
            now = self.now()
            ticket_id = conn.insert(
                "INSERT INTO tickets (conversation_id, channel, department, status, question, contact_method, created_at, "
                "expected_by, updated_at, language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, channel or "", department or None, TicketStatus.OPEN.value, _clip(question), contact_method,
                 now, expected_by, now, supported_or_none(language)),
            )
            self._audit(conn, "resident", "ticket.create", f"ticket:{ticket_id}",
                        f"department={department or '-'} contact={contact_method}")
            return self._ticket_row(conn, ticket_id)  # type: ignore[return-value]

    def get_ticket(self, ticket_id: int) -> Ticket | None:
        with self._lock:
            return self._ticket_row(self.db, ticket_id)

    def cancel_ticket(self, ticket_id: int, conversation_id: str) -> bool:
        """The resident cancels their own open ticket; False if it is not theirs or not open."""
        with self._tx() as conn:
            now = self.now()
            cur = conn.execute(
                "UPDATE tickets SET status = ?, updated_at = ? WHERE id = ? AND conversation_id = ? AND status = ?",
                (TicketStatus.CANCELLED.value, now, ticket_id, conversation_id, TicketStatus.OPEN.value),
            )
            if cur.rowcount != 1:
                return False
            self._audit(conn, "resident", "ticket.cancel", f"ticket:{ticket_id}")
            return True

    def open_tickets(self, department: str | None = None) -> list[Ticket]:
        """Unanswered tickets, oldest first."""
        sql = f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE status = ?"
        params: tuple = (TicketStatus.OPEN.value,)
        if department is not None:
            sql += " AND department = ?"
            params += (department,)
        with self._lock:
            rows = self.db.execute(sql + " ORDER BY created_at, id", params).fetchall()
        return [Ticket(*r) for r in rows]

    def answer_ticket(self, ticket_id: int, staff: str, answer: str) -> Ticket:
        """Record the staff's answer to an open ticket."""
        if not _clip(answer):
            raise HandoffError("an answer cannot be empty", hint="write the answer for the resident")
        with self._tx() as conn:
            now = self.now()
            cur = conn.execute(
                "UPDATE tickets SET status = ?, answer = ?, answered_at = ?, answered_by = ?, updated_at = ? "
                "WHERE id = ? AND status = ?",
                (TicketStatus.ANSWERED.value, _clip(answer), now, staff, now, ticket_id, TicketStatus.OPEN.value),
            )
            if cur.rowcount != 1:
                found = self._ticket_row(conn, ticket_id)
                if found is None:
                    raise NotFound(f"ticket {ticket_id} does not exist", hint="reload the inbox")
                raise HandoffError(f"ticket {ticket_id} is {found.status}; only open tickets can be answered",
                                   hint="reload the inbox")
            self._audit(conn, staff, "ticket.answer", f"ticket:{ticket_id}")
            return self._ticket_row(conn, ticket_id)  # type: ignore[return-value]

    def undo_answer(self, ticket_id: int, staff: str) -> bool:
        """Answered → open again, when the answer ``staff`` recorded could not be delivered
        (the console records first, then delivers: bot/console/api.py). False when the
        ticket is no longer that staff's answered ticket."""
        with self._tx() as conn:
            now = self.now()
            cur = conn.execute(
                "UPDATE tickets SET status = ?, answer = NULL, answered_at = NULL, answered_by = NULL, updated_at = ? "
                "WHERE id = ? AND status = ? AND answered_by = ?",
                (TicketStatus.OPEN.value, now, ticket_id, TicketStatus.ANSWERED.value, staff),
            )
            if cur.rowcount != 1:
                return False
            self._audit(conn, staff, "ticket.answer_undelivered", f"ticket:{ticket_id}")
            return True

    # ------------------------------------------------------------------ audit
    def audit(self, actor: str, action: str, target: str, detail: str = "") -> None:
        """Record an action that changed nothing else in this store (log-in, account changes…)."""
        with self._tx() as conn:
            self._audit(conn, actor, action, target, detail)

    def audit_log(self, limit: int = 200) -> list[dict]:
        """The newest ``limit`` audit rows, newest first."""
        limit = max(1, min(int(limit), 10_000))
        with self._lock:
            rows = self.db.execute(
                "SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
        return [dict(zip(("id", "at", "actor", "action", "target", "detail"), r)) for r in rows]
