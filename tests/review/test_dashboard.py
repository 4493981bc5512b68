"""Dashboard figures and CSV export against a known fixture."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from bot.knowledge.loader import load_knowledge
from bot.review.dashboard import build_dashboard, handoff_waits
from bot.review.export import write_channels, write_daily, write_groups, write_questions
from bot.review.grouping import QuestionGrouper
from bot.review.store import ReviewFilter

JST = dt.timezone(dt.timedelta(hours=9))
D18, D19, D20 = dt.date(2026, 11, 18), dt.date(2026, 11, 19), dt.date(2026, 11, 20)


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=JST)


def seed(log, clock) -> None:
    """Eight questions over three days in two channels (see the expected figures below)."""
    def ask(conv, channel, when, text, outcome, **kw):
        clock.now = when
        return log.record(conv, channel, text, outcome, kw.pop("candidates", []), **kw)

    ask("w1", "web", at(D18, 9), "スプレー缶の捨て方", "answer", faq_id="gomi-spray")                 # q1 answered, resolved
    ask("w2", "web", at(D18, 10), "スプレー缶", "answer", faq_id="gomi-spray")                        # q2 answered ...
    ask("w2", "web", at(D18, 10, 1), None, "feedback_negative")                                      # ... but did not help
    ask("w3", "web", at(D18, 11), "ごみ", "clarify")                                                  # q3 clarified ...
    log.record_next("w3", "picked_candidate", "gomi-calendar")                                         # ... and picked
    ask("l1", "line", at(D19, 9), "粗大ごみの予約の変更", "cannot_answer", category="ごみ・リサイクル")  # q4 ...
    ask("l1", "line", at(D19, 9, 2), None, "handoff_requested")                                      # ... handed off
    ask("l2", "line", at(D19, 10), "😀", "unclear")                                                   # q5 cannot_answer bucket
    ask("l3", "line", at(D19, 11), "ほたる祭り", "clarify")                                            # q6 clarified ...
    log.record_next("l3", "none_of_these")                                                           # ... none fitted
    ask("w4", "web", at(D20, 9), "住民票はどこで", "answer", faq_id="juminhyo-get")                    # q7 answered, resolved
    ask("w5", "web", at(D20, 23, 30), "ホタル祭りの日程", "cannot_answer")                              # q8 (23:30 JST is still the 20th)
    ask("w6", "web", at(D20 + dt.timedelta(days=1), 0, 30), "翌日の質問", "cannot_answer")             # outside the period


def seed_handoffs(log) -> None:
    log.db.execute("CREATE TABLE handoffs (id INTEGER PRIMARY KEY, channel TEXT, created_at TEXT NOT NULL, claimed_at TEXT)")
    rows = [
        ("line", at(D19, 10), at(D19, 10, 3)),          # 3 min
        ("web", at(D19, 11), at(D19, 11, 30)),          # 30 min
        ("web", at(D20, 9), at(D20, 9, 0, 30)),         # 0.5 min
        ("web", at(D20, 12), None),                     # never claimed
        ("web", at(dt.date(2026, 11, 10), 9), at(dt.date(2026, 11, 10), 10, 40)),  # outside the period
    ]
    for channel, created, claimed in rows:
        log.db.execute("INSERT INTO handoffs (channel, created_at, claimed_at) VALUES (?, ?, ?)",
                       (channel, created.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                        claimed.astimezone(dt.timezone.utc).isoformat() if claimed else None))


@pytest.fixture
def seeded(log, clock, fixture_kb_dir):
    seed(log, clock)
    seed_handoffs(log)
    return log, load_knowledge(fixture_kb_dir).kb


def test_figures_match_the_fixture(seeded):
    log, kb = seeded
    d = build_dashboard(log, kb, D18, D20)
    assert d.questions == 8
    assert dict(d.buckets) == {"answered": 3, "clarified": 2, "cannot_answer": 2, "handed_off": 1}
    assert d.self_resolved == 3 and d.self_resolution_rate == 0.375
    assert d.share("answered") == 0.375 and d.share("handed_off") == 0.125
    assert [(day, dict(c)) for day, c in d.days] == [
        (D18, {"answered": 2, "clarified": 1}),
        (D19, {"handed_off": 1, "cannot_answer": 1, "clarified": 1}),
        (D20, {"answered": 1, "cannot_answer": 1}),
    ]
    assert d.top_faqs == [("gomi-spray", "スプレー缶はどうやって捨てればいいですか。", 2),
                          ("gomi-calendar", "ごみの収集日を知りたいです。", 1),
                          ("juminhyo-get", "住民票の写しはどこで取れますか。", 1)]
    web, line = d.channels
    assert (web.channel, web.questions, dict(web.buckets), web.self_resolved, web.self_resolution_rate) == (
        "web", 5, {"answered": 3, "clarified": 1, "cannot_answer": 1}, 3, 0.6)
    assert (line.channel, line.questions, line.self_resolution_rate) == ("line", 3, 0.0)
    w = d.waits
    assert (w.handoffs, w.claimed, w.median, w.mean, w.p90, w.longest) == (4, 3, 3.0, 11.17, 24.6, 30.0)
    assert w.bins == [("1分未満", 1), ("1〜5分", 1), ("5〜15分", 0), ("15〜60分", 1), ("60分以上", 0), ("未対応", 1)]
    assert w.by_channel == {"line": 3.0, "web": 15.25}


def test_one_channel_and_one_day(seeded):
    log, kb = seeded
    d = build_dashboard(log, kb, D19, D19, channel="line")
    assert d.questions == 3 and d.self_resolved == 0
    assert d.waits.handoffs == 1 and d.waits.median == 3.0
    empty = build_dashboard(log, kb, dt.date(2026, 1, 1), dt.date(2026, 1, 2))
    assert empty.questions == 0 and empty.self_resolution_rate is None and empty.share("answered") is None
    assert [dict(c) for _, c in empty.days] == [{}, {}]


def test_top_groups_are_the_largest(seeded):
    log, kb = seeded
    groups = QuestionGrouper().group(log.questions(ReviewFilter(since=D18, until=D20)))
    d = build_dashboard(log, kb, D18, D20, groups=groups)
    counts = [g.count for g in d.top_groups]
    assert counts == sorted(counts, reverse=True) and len(counts) == min(5, len(groups))
    assert sum(g.count for g in groups) == 7  # 5 unanswered questions + 2 follow-ups
    hotaru = next(g for g in d.top_groups if any(q.text == "ほたる祭り" for q in g.questions))
    assert sorted(q.text for q in hotaru.questions) == ["ほたる祭り", "ホタル祭りの日程"]


def test_without_a_handoffs_table_waits_are_skipped(log, clock, fixture_kb_dir):
    seed(log, clock)
    assert handoff_waits(log, D18, D20) is None
    d = build_dashboard(log, load_knowledge(fixture_kb_dir).kb, D18, D20)
    assert d.waits is None and d.as_dict()["handoff_waits"] is None


def test_handoff_table_of_the_handoff_feature_is_read(log, clock):
    from bot.handoff.store import MIGRATIONS
    from bot.db import migrate

    migrate(log.db, MIGRATIONS)
    assert handoff_waits(log, D18, D20).handoffs == 0


def test_csv_exports(seeded, clock):
    log, kb = seeded
    d = build_dashboard(log, kb, D18, D20)
    out = io.StringIO()
    assert write_daily(out, d) == 3
    assert out.getvalue().splitlines() == [
        "day,questions,answered,clarified,cannot_answer,handed_off",
        "2026-11-18,3,2,1,0,0", "2026-11-19,3,0,1,1,1", "2026-11-20,2,1,0,1,0"]
    out = io.StringIO()
    write_channels(out, d)
    assert out.getvalue().splitlines()[1:] == ["web,5,3,1,1,0,3,0.6", "line,3,0,1,1,1,0,0.0"]
    out = io.StringIO()
    questions = log.questions(ReviewFilter(outcomes=(), status=None))
    assert write_questions(out, questions, now=at(D20 + dt.timedelta(days=2), 0)) == 11
    rows = {r["text"]: r for r in csv.DictReader(io.StringIO(out.getvalue())) if r["outcome"] != "feedback_negative"}
    assert rows["ごみ"]["next_action"] == "picked_candidate" and rows["ごみ"]["self_resolved"] == "1"
    assert rows["ホタル祭りの日程"]["next_action"] == "left" and rows["ホタル祭りの日程"]["created_at_jst"] == "2026-11-20 23:30:00"
    assert rows["粗大ごみの予約の変更"]["bucket"] == "handed_off"
    out = io.StringIO()
    groups = QuestionGrouper().group(log.questions(ReviewFilter(since=D18, until=D20)))
    write_groups(out, groups)
    exported = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [int(r["count"]) for r in exported] == [g.count for g in groups]
    assert any("ほたる祭り（1）" in r["texts"] and "ホタル祭りの日程（1）" in r["texts"] for r in exported)


def test_dashboard_as_dict_is_json_ready(seeded):
    import json

    log, kb = seeded
    data = json.loads(json.dumps(build_dashboard(log, kb, D18, D20).as_dict()))
    assert data["questions"] == 8 and data["self_resolution_rate"] == 0.375
    assert data["handoff_waits"]["bins"]["未対応"] == 1


def test_figures_per_language(log, clock, fixture_kb_dir):
    """How well residents of each language are served; rows logged before the language
    was recorded are counted apart, never as Japanese."""
    seed(log, clock)  # eight questions without a recorded language
    clock.now = at(D20, 10)
    log.record("v1", "web", "Tôi muốn vứt cái ghế sofa cũ", "answer", [], faq_id="gomi-sodai-apply", language="vi")
    log.record("v2", "web", "Lịch thu gom rác", "cannot_answer", [], language="vi")
    log.record("j1", "web", "粗大ごみの出し方", "answer", [], faq_id="gomi-sodai-apply", language="ja")
    d = build_dashboard(log, load_knowledge(fixture_kb_dir).kb, D18, D20)
    assert [(c.channel, c.questions, c.self_resolved) for c in d.languages] == [("", 8, 3), ("vi", 2, 1), ("ja", 1, 1)]
    assert d.as_dict()["languages"][1] == {"language": "vi", "questions": 2, "self_resolution_rate": 0.5,
                                           "answered": 1, "clarified": 0, "cannot_answer": 1, "handed_off": 0}
