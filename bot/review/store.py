"""The review log in the project's database (``var/madoguchi.db``, or PostgreSQL: bot/db.py).

One row per question the assistant handled (answered ones too, so that the dashboard can
compute shares), one row per follow-up that needs review (negative feedback, a request
for a person), and what happened next. Schema and meaning: docs/review.md.

Texts are masked again on the way in (idempotent), so even a caller that skipped the
channel's masking cannot store personal data. Each row keeps the conversation's language
(``ja``, ``en``, ``vi`` …) when the question was asked; rows logged before that column
existed have none.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from bot.contract import LOCAL_TZ, Outcome
from bot.db import Database, Migration, is_postgres_url, migrate, open_database
from bot.errors import MadoguchiError
from bot.i18n.languages import supported_or_none
from bot.privacy.masking import mask_personal_data

MAX_TEXT_CHARS = 2000  # same limit as the channels
MAX_CANDIDATES = 5  # candidates kept per question
# A question left unanswered counts as "left" when nothing followed within this time.
LEFT_AFTER = dt.timedelta(minutes=30)
# A new question within this time after an unanswered one counts as asking again.
ASKED_AGAIN_WITHIN = dt.timedelta(minutes=10)


class NextAction(str, Enum):
    """What happened after the reply (``review_questions.next_action``)."""

    PICKED_CANDIDATE = "picked_candidate"  # chose one of the clarify candidates
    NONE_OF_THESE = "none_of_these"  # 「どれでもない」
    FEEDBACK_NEGATIVE = "feedback_negative"  # said the answer did not help
    HANDED_OFF = "handed_off"  # asked for a person
    ASKED_AGAIN = "asked_again"  # asked another question soon after an unanswered one
    LEFT = "left"  # nothing followed (computed when reading, never stored)


class Status(str, Enum):
    """Where a question is in the review (``review_questions.status``)."""

    OPEN = "open"
    PARAPHRASED = "paraphrased"  # added as paraphrases to an FAQ
    NEW_FAQ = "new_faq"  # a new FAQ was written from it
    OUT_OF_SCOPE = "out_of_scope"  # not something the assistant should answer
    DISMISSED = "dismissed"  # nothing to do (noise, test messages)


# Outcomes that are a resident's question (one per message handled by the FAQ action).
QUESTION_OUTCOMES = (Outcome.ANSWER.value, Outcome.CLARIFY.value, Outcome.CANNOT_ANSWER.value, Outcome.UNCLEAR.value)
# Outcomes staff review.
REVIEW_OUTCOMES = (
    Outcome.CLARIFY.value, Outcome.CANNOT_ANSWER.value, Outcome.UNCLEAR.value,
    Outcome.FEEDBACK_NEGATIVE.value, Outcome.HANDOFF_REQUESTED.value,
)
_UNANSWERED_QUESTIONS = (Outcome.CLARIFY.value, Outcome.CANNOT_ANSWER.value, Outcome.UNCLEAR.value)


_open_logs: dict[str, "ReviewLog"] = {}
_open_lock = threading.Lock()


class ReviewError(MadoguchiError):
    """A review-log operation got something it cannot use."""


def _create_tables(db: Database) -> None:
    # review_resolutions first: review_questions refers to it (PostgreSQL needs it to exist).
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS review_resolutions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at TEXT NOT NULL,
            action TEXT NOT NULL,
            faq_id TEXT,
            file TEXT,
            staff TEXT,
            note TEXT,
            question_ids TEXT NOT NULL DEFAULT '[]',
            texts_added TEXT NOT NULL DEFAULT '[]'
        )"""
    )
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS review_questions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            created_at TEXT NOT NULL,
            conversation_id TEXT NOT NULL,
            channel TEXT NOT NULL DEFAULT '',
            text TEXT NOT NULL DEFAULT '',
            outcome TEXT NOT NULL,
            reason TEXT,
            category TEXT,
            department TEXT,
            faq_id TEXT,
            confidence REAL,
            candidates TEXT NOT NULL DEFAULT '[]',
            next_action TEXT,
            next_faq_id TEXT,
            next_at TEXT,
            status TEXT NOT NULL DEFAULT 'open',
            resolution_id INTEGER REFERENCES review_resolutions(id)
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS review_questions_created ON review_questions(created_at)")
    db.execute("CREATE INDEX IF NOT EXISTS review_questions_conversation ON review_questions(conversation_id, id)")
    db.execute("CREATE INDEX IF NOT EXISTS review_questions_review ON review_questions(status, outcome, created_at)")


def _add_language(db: Database) -> None:
    # Nullable, no default: older rows stay "not recorded" rather than a guessed Japanese.
    if "language" not in db.column_names("review_questions"):
        db.execute("ALTER TABLE review_questions ADD COLUMN language TEXT")


MIGRATIONS = [
    Migration("review-0001-questions-resolutions", _create_tables,
              "review log: questions with outcome and next step; review resolutions"),
    Migration("review-0002-language", _add_language, "review log: the resident's language per question"),
]


def iso(moment: dt.datetime) -> str:
    """A timestamp as stored: ISO-8601 UTC with milliseconds (sorts as text)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


def parse_time(value: Any) -> dt.datetime | None:
    """A stored timestamp (ISO text, with or without zone, or epoch seconds) as aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(float(value), dt.timezone.utc)
    text = str(value).strip().replace("Z", "+00:00")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            return dt.datetime.fromtimestamp(float(text), dt.timezone.utc)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc)


def local_day_bounds(since: dt.date | None, until: dt.date | None) -> tuple[str | None, str | None]:
    """UTC bounds [start, end) for local (Japan) days ``since``..``until`` inclusive."""
    start = iso(dt.datetime.combine(since, dt.time(), LOCAL_TZ)) if since else None
    end = iso(dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), LOCAL_TZ)) if until else None
    return start, end


@dataclass(frozen=True)
class ReviewFilter:
    """Which questions to show. Days are local (Japan) dates, both ends included."""

    since: dt.date | None = None
    until: dt.date | None = None
    channel: str | None = None
    category: str | None = None
    outcomes: tuple[str, ...] = REVIEW_OUTCOMES
    status: str | None = Status.OPEN.value  # None: every status
    language: str | None = None  # one language code (``en``); None: every language


@dataclass
class Question:
    """One row of ``review_questions``."""

    id: int
    created_at: str
    conversation_id: str
    channel: str
    text: str
    outcome: str
    reason: str | None = None
    category: str | None = None
    department: str | None = None
    faq_id: str | None = None
    confidence: float | None = None
    candidates: list[dict] = field(default_factory=list)
    next_action: str | None = None
    next_faq_id: str | None = None
    next_at: str | None = None
    status: str = Status.OPEN.value
    resolution_id: int | None = None
    language: str | None = None  # the conversation's language; None when not recorded

    @classmethod
    def from_row(cls, row: dict) -> "Question":
        data = dict(row)
        try:
            data["candidates"] = json.loads(data.get("candidates") or "[]")
        except ValueError:
            data["candidates"] = []
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__ if k in data})

    @property
    def created(self) -> dt.datetime:
        return parse_time(self.created_at) or dt.datetime.fromtimestamp(0, dt.timezone.utc)

    def effective_next(self, now: dt.datetime) -> str | None:
        """``next_action``, or "left" for an unanswered question nothing followed."""
        if self.next_action:
            return self.next_action
        if self.outcome in _UNANSWERED_QUESTIONS and now - self.created >= LEFT_AFTER:
            return NextAction.LEFT.value
        return None


def _clean_candidates(candidates: Iterable[dict] | None) -> list[dict]:
    out: list[dict] = []
    for c in candidates or []:
        if len(out) >= MAX_CANDIDATES:
            break
        if not isinstance(c, dict) or not c.get("faq_id"):
            continue
        score = c.get("score")
        out.append({
            "faq_id": str(c["faq_id"]),
            "question": str(c.get("question") or "")[:300],
            "score": round(float(score), 4) if isinstance(score, (int, float)) else None,
        })
    return out


class ReviewLog:
    """Writes and reads the review log.

    Args:
        db: The embedded database (:func:`bot.db.open_database`); the review migrations
            are applied on construction.
        clock: Returns "now" (tests pass a fixed clock).
    """

    def __init__(self, db: Database, clock=None) -> None:
        self.db = db
        self._clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        # One connection may be shared by the console's worker threads.
        self._lock = threading.RLock()
        with self._lock:
            migrate(db, MIGRATIONS)

    def query(self, sql: str, params: Sequence | None = None) -> list[dict]:
        """Run a read-only query on the database (rows as dicts)."""
        return self._query(sql, params)

    def _query(self, sql: str, params: Sequence | None = None) -> list[dict]:
        with self._lock:
            return list(self.db.query(sql, params or []))

    @classmethod
    def open(cls, path: str | os.PathLike) -> "ReviewLog":
        """The review log of the database at ``path`` (a SQLite file or a ``postgresql://``
        URL: ``Settings.database``), opened once per process."""
        key = str(path) if is_postgres_url(str(path)) else str(Path(path).resolve())
        with _open_lock:
            log = _open_logs.get(key)
            if log is None:
                log = cls(open_database(key))
                _open_logs[key] = log
            return log

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction (the connection is in autocommit mode otherwise)."""
        with self._lock, self.db.transaction("review"):
            yield

    def now(self) -> dt.datetime:
        return self._clock()

    # ------------------------------------------------------------------ writing
    def record(
        self,
        conversation_id: str,
        channel: str | None,
        text: str | None,
        outcome: str | Outcome,
        candidates: Sequence[dict] | None,
        reason: str | None = None,
        department: str | None = None,
        faq_id: str | None = None,
        *,
        category: str | None = None,
        confidence: float | None = None,
        language: str | None = None,
        at: dt.datetime | None = None,
    ) -> int:
        """Log one outcome; returns the new row id.

        Args:
            conversation_id: Rasa's sender id.
            channel: Input channel name (``rest``, ``web``, ``line``…).
            text: What the resident asked (masked by the channel; masked again here).
                For ``feedback_negative`` and ``handoff_requested`` pass the question
                the resident was asking; ``None`` takes the conversation's last question.
            outcome: One of :class:`Outcome`.
            candidates: The FAQs considered, ``[{"faq_id", "question", "score"}]``.
            reason: Why it was not answered (``low_confidence``, ``out_of_scope``…).
            department: Department id the assistant pointed to, if any.
            faq_id: The FAQ answered (``answer``) or the one that did not help.
            category: FAQ category the question seemed to be about, if known.
            confidence: The decision's confidence.
            language: The conversation's language (``bot.i18n.languages``; anything else
                is kept as None). A follow-up without one takes its question's.
            at: Time of the event (default: now).
        """
        try:
            outcome_value = Outcome(outcome).value
        except ValueError:
            raise ReviewError(
                f"unknown outcome {outcome!r}; expected one of {', '.join(o.value for o in Outcome)}"
            ) from None
        if not conversation_id:
            raise ReviewError("conversation_id is empty; pass the tracker's sender_id")
        moment = at or self.now()
        if not text and outcome_value not in QUESTION_OUTCOMES:
            last = self._last_question(conversation_id)
            text = last.text if last else ""
            faq_id = faq_id or (last.faq_id or last.next_faq_id if last else None)
            language = language or (last.language if last else None)
        row = {
            "created_at": iso(moment),
            "conversation_id": str(conversation_id)[:128],
            "channel": (channel or "")[:32],
            "text": mask_personal_data((text or "")[:MAX_TEXT_CHARS]),
            "outcome": outcome_value,
            "reason": reason or None,
            "category": category or None,
            "department": department or None,
            "faq_id": faq_id or None,
            "confidence": round(float(confidence), 4) if isinstance(confidence, (int, float)) else None,
            "candidates": json.dumps(_clean_candidates(candidates), ensure_ascii=False),
            "status": Status.OPEN.value,
            "language": supported_or_none(language),
        }
        with self._transaction():
            self._follow_up(conversation_id, outcome_value, moment)
            row_id = self.db.insert(
                f"INSERT INTO review_questions ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                list(row.values()),
            )
        return row_id

    def _follow_up(self, conversation_id: str, outcome: str, moment: dt.datetime) -> None:
        """What a new outcome says about the previous question of the conversation."""
        if outcome == Outcome.FEEDBACK_NEGATIVE.value:
            self._set_next(conversation_id, NextAction.FEEDBACK_NEGATIVE.value, None, moment, only_if_empty=True)
        elif outcome == Outcome.HANDOFF_REQUESTED.value:
            self._set_next(conversation_id, NextAction.HANDED_OFF.value, None, moment, only_if_empty=False)
        elif outcome in QUESTION_OUTCOMES:
            last = self._last_question(conversation_id)
            if (
                last is not None
                and last.next_action is None
                and last.outcome in _UNANSWERED_QUESTIONS
                and moment - last.created <= ASKED_AGAIN_WITHIN
            ):
                self._update_next(last.id, NextAction.ASKED_AGAIN.value, None, moment)

    def record_next(self, conversation_id: str, next_action: str | NextAction, faq_id: str | None = None) -> int | None:
        """Note what happened after the conversation's last question; returns its row id.

        ``picked_candidate`` and ``none_of_these`` apply to the last clarify question.
        Returns ``None`` when the conversation has no logged question.
        """
        try:
            value = NextAction(next_action).value
        except ValueError:
            raise ReviewError(
                f"unknown next action {next_action!r}; expected one of {', '.join(n.value for n in NextAction)}"
            ) from None
        if value == NextAction.LEFT.value:
            raise ReviewError("'left' is computed when reading; it is never recorded")
        with self._transaction():
            return self._set_next(conversation_id, value, faq_id, self.now(), only_if_empty=False)

    def _set_next(self, conversation_id: str, value: str, faq_id: str | None, moment: dt.datetime,
                  only_if_empty: bool) -> int | None:
        if value in (NextAction.PICKED_CANDIDATE.value, NextAction.NONE_OF_THESE.value):
            target = self._last_question(conversation_id, outcomes=(Outcome.CLARIFY.value,))
        else:
            target = self._last_question(conversation_id)
        if target is None:
            return None
        if only_if_empty and target.next_action not in (None, NextAction.PICKED_CANDIDATE.value):
            return target.id
        self._update_next(target.id, value, faq_id, moment)
        return target.id

    def _update_next(self, row_id: int, value: str, faq_id: str | None, moment: dt.datetime) -> None:
        self.db.execute(
            "UPDATE review_questions SET next_action = ?, next_faq_id = COALESCE(?, next_faq_id), next_at = ? WHERE id = ?",
            (value, faq_id, iso(moment), row_id),
        )

    def _last_question(self, conversation_id: str, outcomes: Sequence[str] = QUESTION_OUTCOMES) -> Question | None:
        marks = ", ".join("?" for _ in outcomes)
        rows = list(self._query(
            f"SELECT * FROM review_questions WHERE conversation_id = ? AND outcome IN ({marks}) ORDER BY id DESC LIMIT 1",
            [conversation_id, *outcomes],
        ))
        return Question.from_row(rows[0]) if rows else None

    # ------------------------------------------------------------------ reading
    def questions(self, filters: ReviewFilter = ReviewFilter(), limit: int | None = None) -> list[Question]:
        """Questions matching ``filters``, newest first."""
        where, params = self._where(filters)
        sql = f"SELECT * FROM review_questions {where} ORDER BY created_at DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [Question.from_row(r) for r in self._query(sql, params)]

    @staticmethod
    def _where(filters: ReviewFilter) -> tuple[str, list]:
        clauses, params = [], []
        start, end = local_day_bounds(filters.since, filters.until)
        if start:
            clauses.append("created_at >= ?")
            params.append(start)
        if end:
            clauses.append("created_at < ?")
            params.append(end)
        if filters.channel:
            clauses.append("channel = ?")
            params.append(filters.channel)
        if filters.category:
            clauses.append("category = ?")
            params.append(filters.category)
        if filters.outcomes:
            clauses.append(f"outcome IN ({', '.join('?' for _ in filters.outcomes)})")
            params.extend(filters.outcomes)
        if filters.status:
            clauses.append("status = ?")
            params.append(filters.status)
        if filters.language:
            clauses.append("language = ?")
            params.append(filters.language)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def by_ids(self, ids: Iterable[int]) -> list[Question]:
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return []
        marks = ", ".join("?" for _ in wanted)
        return [Question.from_row(r) for r in self._query(f"SELECT * FROM review_questions WHERE id IN ({marks}) ORDER BY id", wanted)]

    def channels(self) -> list[str]:
        return [r["channel"] for r in self._query(
            "SELECT DISTINCT channel FROM review_questions WHERE channel != '' ORDER BY channel")]

    def languages(self) -> list[str]:
        """The languages questions were logged in (codes, recorded rows only)."""
        return [r["language"] for r in self._query(
            "SELECT DISTINCT language FROM review_questions WHERE language IS NOT NULL ORDER BY language")]

    def categories(self) -> list[str]:
        return [r["category"] for r in self._query(
            "SELECT DISTINCT category FROM review_questions WHERE category IS NOT NULL ORDER BY category")]

    # ------------------------------------------------------------------ resolving
    def resolve(
        self,
        question_ids: Iterable[int],
        status: str | Status,
        *,
        faq_id: str | None = None,
        file: str | None = None,
        staff: str | None = None,
        note: str | None = None,
        texts_added: Sequence[str] = (),
    ) -> int:
        """Close questions with a review decision; returns the resolution id."""
        value = Status(status).value
        if value == Status.OPEN.value:
            raise ReviewError("a resolution cannot set questions back to 'open'; use reopen()")
        ids = sorted({int(i) for i in question_ids})
        if not ids:
            raise ReviewError("no questions given; pick at least one question of the group")
        with self._transaction():
            resolution_id = self.db.insert(
                "INSERT INTO review_resolutions (created_at, action, faq_id, file, staff, note, question_ids, texts_added) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (iso(self.now()), value, faq_id, file, staff, note, json.dumps(ids),
                 json.dumps(list(texts_added), ensure_ascii=False)),
            )
            marks = ", ".join("?" for _ in ids)
            self.db.execute(
                f"UPDATE review_questions SET status = ?, resolution_id = ? WHERE id IN ({marks})",
                [value, resolution_id, *ids],
            )
        return resolution_id

    def reopen(self, question_ids: Iterable[int]) -> None:
        ids = sorted({int(i) for i in question_ids})
        if ids:
            marks = ", ".join("?" for _ in ids)
            with self._transaction():
                self.db.execute(
                    f"UPDATE review_questions SET status = 'open', resolution_id = NULL WHERE id IN ({marks})", ids)

    def resolutions(self, limit: int = 50) -> list[dict]:
        rows = list(self._query("SELECT * FROM review_resolutions ORDER BY id DESC LIMIT ?", [limit]))
        for r in rows:
            r["question_ids"] = json.loads(r["question_ids"] or "[]")
            r["texts_added"] = json.loads(r["texts_added"] or "[]")
        return rows
