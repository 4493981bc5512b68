"""Figures for the people who fund the assistant, computed from the stored data.

Definitions (docs/review.md, "Dashboard"):

* a **question** is a message the FAQ action handled (outcome answer, clarify,
  cannot_answer or unclear); follow-ups (negative feedback, hand-off requests) are not
  questions of their own;
* each question falls in exactly one **bucket**: ``handed_off`` (the resident then
  asked for a person), else ``answered``, ``clarified`` or ``cannot_answer``
  (cannot-answer and unclear);
* **self-resolved** (自己解決率): answered, or clarified and a candidate picked, and
  neither negative feedback nor a hand-off afterwards;
* hand-off waiting time: ``claimed_at − created_at`` of the ``handoffs`` table (when
  the hand-off feature is installed), in minutes.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from bot.knowledge.model import KnowledgeBase
from bot.review.grouping import QuestionGroup
from bot.review.store import (
    LOCAL_TZ, QUESTION_OUTCOMES, NextAction, Outcome, Question, ReviewFilter, ReviewLog, local_day_bounds, parse_time,
)

BUCKETS = ("answered", "clarified", "cannot_answer", "handed_off")
BUCKET_LABELS = {"answered": "回答", "clarified": "候補提示", "cannot_answer": "回答できず", "handed_off": "職員へ引き継ぎ"}
WAIT_BINS = ((1, "1分未満"), (5, "1〜5分"), (15, "5〜15分"), (60, "15〜60分"), (None, "60分以上"))


def bucket_of(q: Question) -> str:
    if q.next_action == NextAction.HANDED_OFF.value:
        return "handed_off"
    if q.outcome == Outcome.ANSWER.value:
        return "answered"
    if q.outcome == Outcome.CLARIFY.value:
        return "clarified"
    return "cannot_answer"


def is_self_resolved(q: Question) -> bool:
    if q.next_action in (NextAction.HANDED_OFF.value, NextAction.FEEDBACK_NEGATIVE.value):
        return False
    return q.outcome == Outcome.ANSWER.value or (
        q.outcome == Outcome.CLARIFY.value and q.next_action == NextAction.PICKED_CANDIDATE.value
    )


def local_day(q: Question) -> dt.date:
    return q.created.astimezone(LOCAL_TZ).date()


@dataclass
class ChannelFigures:
    channel: str
    questions: int = 0
    buckets: Counter = field(default_factory=Counter)
    self_resolved: int = 0

    @property
    def self_resolution_rate(self) -> float | None:
        return round(self.self_resolved / self.questions, 4) if self.questions else None


@dataclass
class WaitFigures:
    """Hand-off waiting times (minutes)."""

    handoffs: int = 0
    claimed: int = 0
    median: float | None = None
    p90: float | None = None
    mean: float | None = None
    longest: float | None = None
    bins: list[tuple[str, int]] = field(default_factory=list)
    by_channel: dict[str, float] = field(default_factory=dict)  # median per channel


@dataclass
class Dashboard:
    since: dt.date
    until: dt.date
    channel: str | None
    questions: int
    buckets: Counter
    self_resolved: int
    days: list[tuple[dt.date, Counter]]  # questions per local day, by bucket
    top_faqs: list[tuple[str, str, int]]  # (faq_id, question, times answered)
    top_groups: list[QuestionGroup]
    channels: list[ChannelFigures]
    waits: WaitFigures | None  # None: no hand-off table
    # The same figures per language of the conversation (``channel`` holds the language code,
    # "" for questions logged before the language was recorded).
    languages: list[ChannelFigures] = field(default_factory=list)

    @property
    def self_resolution_rate(self) -> float | None:
        return round(self.self_resolved / self.questions, 4) if self.questions else None

    def share(self, bucket: str) -> float | None:
        return round(self.buckets[bucket] / self.questions, 4) if self.questions else None

    def as_dict(self) -> dict:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "channel": self.channel,
            "questions": self.questions,
            "buckets": {b: self.buckets[b] for b in BUCKETS},
            "shares": {b: self.share(b) for b in BUCKETS},
            "self_resolved": self.self_resolved,
            "self_resolution_rate": self.self_resolution_rate,
            "days": [{"day": d.isoformat(), **{b: c[b] for b in BUCKETS}} for d, c in self.days],
            "top_faqs": [{"faq_id": f, "question": q, "count": n} for f, q, n in self.top_faqs],
            "top_groups": [{"key": g.key, "label": g.label, "count": g.count} for g in self.top_groups],
            "channels": [
                {"channel": c.channel, "questions": c.questions, "self_resolution_rate": c.self_resolution_rate,
                 **{b: c.buckets[b] for b in BUCKETS}}
                for c in self.channels
            ],
            "languages": [
                {"language": c.channel or None, "questions": c.questions, "self_resolution_rate": c.self_resolution_rate,
                 **{b: c.buckets[b] for b in BUCKETS}}
                for c in self.languages
            ],
            "handoff_waits": None if self.waits is None else {
                "handoffs": self.waits.handoffs, "claimed": self.waits.claimed, "median_minutes": self.waits.median,
                "p90_minutes": self.waits.p90, "mean_minutes": self.waits.mean, "longest_minutes": self.waits.longest,
                "bins": dict(self.waits.bins), "median_by_channel": self.waits.by_channel,
            },
        }


def _quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation quantile (the same as numpy's default)."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def handoff_waits(log: ReviewLog, since: dt.date, until: dt.date, channel: str | None = None) -> WaitFigures | None:
    """Waiting times from the ``handoffs`` table; None when it (or its columns) is missing."""
    columns = set(log.db.column_names("handoffs"))
    if not {"created_at", "claimed_at"} <= columns:
        return None  # the hand-off feature is not installed (or has another schema)
    has_channel = "channel" in columns
    start, end = local_day_bounds(since, until)
    rows = log.query(f"SELECT created_at, claimed_at{', channel' if has_channel else ''} FROM handoffs")
    lo, hi = parse_time(start), parse_time(end)
    waits: list[float] = []
    per_channel: dict[str, list[float]] = defaultdict(list)
    total = 0
    for r in rows:
        created = parse_time(r["created_at"])
        if created is None or not (lo <= created < hi):
            continue
        if channel and has_channel and r.get("channel") != channel:
            continue
        total += 1
        claimed = parse_time(r["claimed_at"])
        if claimed is None:
            continue
        minutes = max(0.0, (claimed - created).total_seconds() / 60)
        waits.append(minutes)
        if has_channel:
            per_channel[r.get("channel") or ""].append(minutes)
    bins = []
    lower = 0.0
    for upper, label in WAIT_BINS:
        bins.append((label, sum(1 for w in waits if w >= lower and (upper is None or w < upper))))
        lower = upper or lower
    bins.append(("未対応", total - len(waits)))
    return WaitFigures(
        handoffs=total,
        claimed=len(waits),
        median=round(statistics.median(waits), 2) if waits else None,
        p90=round(_quantile(waits, 0.9), 2) if waits else None,
        mean=round(statistics.fmean(waits), 2) if waits else None,
        longest=round(max(waits), 2) if waits else None,
        bins=bins,
        by_channel={c: round(statistics.median(v), 2) for c, v in sorted(per_channel.items())},
    )


def build_dashboard(
    log: ReviewLog,
    kb: KnowledgeBase | None,
    since: dt.date,
    until: dt.date,
    channel: str | None = None,
    groups: Iterable[QuestionGroup] = (),
) -> Dashboard:
    """Every figure of the dashboard for local days ``since``..``until`` (inclusive).

    ``groups`` are the unanswered-question groups of the same period (computed by the
    caller, who has the grouper); the five largest are shown.
    """
    questions = log.questions(ReviewFilter(since=since, until=until, channel=channel, outcomes=QUESTION_OUTCOMES, status=None))
    buckets: Counter = Counter()
    per_day: dict[dt.date, Counter] = defaultdict(Counter)
    per_channel: dict[str, ChannelFigures] = {}
    per_language: dict[str, ChannelFigures] = {}
    faq_counts: Counter = Counter()
    resolved = 0
    for q in questions:
        b = bucket_of(q)
        buckets[b] += 1
        per_day[local_day(q)][b] += 1
        cf = per_channel.setdefault(q.channel or "(不明)", ChannelFigures(q.channel or "(不明)"))
        lf = per_language.setdefault(q.language or "", ChannelFigures(q.language or ""))
        for f in (cf, lf):
            f.questions += 1
            f.buckets[b] += 1
        if is_self_resolved(q):
            resolved += 1
            cf.self_resolved += 1
            lf.self_resolved += 1
        if q.outcome == Outcome.ANSWER.value and q.faq_id:
            faq_counts[q.faq_id] += 1
        elif q.next_action == NextAction.PICKED_CANDIDATE.value and q.next_faq_id:
            faq_counts[q.next_faq_id] += 1
    days = []
    day = since
    while day <= until:
        days.append((day, per_day.get(day, Counter())))
        day += dt.timedelta(days=1)
    titles = {f.id: f.question for f in kb.faqs} if kb else {}
    top_faqs = [(fid, titles.get(fid, ""), n) for fid, n in sorted(faq_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]]
    return Dashboard(
        since=since,
        until=until,
        channel=channel,
        questions=len(questions),
        buckets=buckets,
        self_resolved=resolved,
        days=days,
        top_faqs=top_faqs,
        top_groups=sorted(groups, key=lambda g: (-g.count, -g.newest.timestamp()))[:5],
        channels=sorted(per_channel.values(), key=lambda c: (-c.questions, c.channel)),
        waits=handoff_waits(log, since, until, channel),
        languages=sorted(per_language.values(), key=lambda c: (-c.questions, c.channel == "", c.channel)),
    )
