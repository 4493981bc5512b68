"""CSV export of the review log and the dashboard figures (UTF-8; Excel needs the BOM).

Every cell goes through :mod:`bot.csv_cells`: resident texts never run as formulas.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Iterable, TextIO

from bot.contract import DECISIONS
from bot.csv_cells import SafeCsvWriter
from bot.review.dashboard import BUCKETS, Dashboard, bucket_of, is_self_resolved, local_day
from bot.review.grouping import QuestionGroup
from bot.review.store import LOCAL_TZ, Question

EXPORT_KINDS = ("questions", "groups", "daily", "channels")


def conversation_key(conversation_id: str) -> str:
    """A stable short key instead of the conversation id (a LINE id identifies a person)."""
    return hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:12]


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")


def write_questions(out: TextIO, questions: Iterable[Question], groups: Iterable[QuestionGroup] = (),
                    now: dt.datetime | None = None) -> int:
    """One row per logged question; ``group`` is the key of its group when grouped; ``language``
    (last, so that sheets built on the older layout still line up) is empty when not recorded.

    The conversation id is replaced by :func:`conversation_key`: rows of one conversation
    still share a value, but a LINE user id never leaves the database.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    group_of = {q.id: g.key for g in groups for q in g.questions}
    w = SafeCsvWriter(out)
    w.writerow(["id", "created_at_jst", "day", "conversation", "channel", "outcome", "reason", "bucket",
                "self_resolved", "category", "department", "faq_id", "confidence", "next_action", "next_faq_id",
                "status", "group", "text", "candidates", "language"])
    n = 0
    for q in questions:
        w.writerow([
            q.id, _local(q.created), local_day(q).isoformat(), conversation_key(q.conversation_id), q.channel, q.outcome,
            q.reason or "",
            bucket_of(q) if q.outcome in DECISIONS else "",
            int(is_self_resolved(q)), q.category or "", q.department or "", q.faq_id or "",
            "" if q.confidence is None else q.confidence, q.effective_next(now) or "", q.next_faq_id or "",
            q.status, group_of.get(q.id, ""), q.text,
            " ".join(f"{c['faq_id']}:{c['score']}" for c in q.candidates), q.language or "",
        ])
        n += 1
    return n


def write_groups(out: TextIO, groups: Iterable[QuestionGroup]) -> int:
    w = SafeCsvWriter(out)
    w.writerow(["group", "count", "distinct_texts", "newest_jst", "oldest_jst", "label", "category", "department",
                "outcomes", "channels", "suggested_faqs", "texts", "languages"])
    n = 0
    for g in groups:
        texts = g.texts()
        w.writerow([
            g.key, g.count, len(texts), _local(g.newest), _local(g.oldest), g.label, g.category() or "",
            g.department() or "", " ".join(f"{k}:{v}" for k, v in g.outcomes().most_common()),
            " ".join(f"{k}:{v}" for k, v in g.channels().most_common()),
            " ".join(s.faq_id for s in g.suggestions), " / ".join(f"{t}（{c}）" for t, c in texts),
            " ".join(f"{k or '-'}:{v}" for k, v in g.languages().most_common()),
        ])
        n += 1
    return n


def write_daily(out: TextIO, dashboard: Dashboard) -> int:
    w = SafeCsvWriter(out)
    w.writerow(["day", "questions", *BUCKETS])
    for day, counts in dashboard.days:
        w.writerow([day.isoformat(), sum(counts[b] for b in BUCKETS), *(counts[b] for b in BUCKETS)])
    return len(dashboard.days)


def write_channels(out: TextIO, dashboard: Dashboard) -> int:
    w = SafeCsvWriter(out)
    w.writerow(["channel", "questions", *BUCKETS, "self_resolved", "self_resolution_rate"])
    for c in dashboard.channels:
        w.writerow([c.channel, c.questions, *(c.buckets[b] for b in BUCKETS), c.self_resolved,
                    "" if c.self_resolution_rate is None else c.self_resolution_rate])
    return len(dashboard.channels)
