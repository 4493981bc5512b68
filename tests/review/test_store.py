"""The review log: what is recorded, what happened next, filters, resolutions."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.db import applied_migrations, open_database
from bot.review.store import (
    LEFT_AFTER, NextAction, Outcome, ReviewError, ReviewFilter, ReviewLog, Status, local_day_bounds, parse_time,
)

CANDS = [{"faq_id": "gomi-sodai-apply", "question": "粗大ごみの出し方を教えてください。", "score": 0.51234567},
         {"faq_id": "gomi-calendar", "question": "ごみの収集日を知りたいです。", "score": 0.4}]
ALL = ReviewFilter(outcomes=(), status=None)


@pytest.fixture
def log(database_target, clock) -> ReviewLog:
    """The review log on both backends (tests/conftest.py: a SQLite file, a PostgreSQL schema)."""
    return ReviewLog(open_database(database_target), clock=clock)


def test_migration_is_versioned_and_idempotent(database_target):
    db = open_database(database_target)
    ReviewLog(db)
    ReviewLog(db)
    assert "review-0001-questions-resolutions" in applied_migrations(db)
    assert {"review_questions", "review_resolutions"} <= set(db.table_names())


def test_record_stores_every_field(log, clock):
    row_id = log.record("conv-1", "rest", "粗大ごみ", "clarify", CANDS, reason="ambiguous", department="gomi",
                        category="ごみ", confidence=0.3333333)
    [q] = log.questions(ALL)
    assert q.id == row_id
    assert (q.conversation_id, q.channel, q.text, q.outcome, q.reason, q.department, q.category) == (
        "conv-1", "rest", "粗大ごみ", "clarify", "ambiguous", "gomi", "ごみ")
    assert q.confidence == 0.3333
    assert q.candidates[0] == {"faq_id": "gomi-sodai-apply", "question": "粗大ごみの出し方を教えてください。", "score": 0.5123}
    assert q.created_at == "2026-11-20T01:00:00.000+00:00"
    assert q.status == "open" and q.next_action is None


def test_text_is_masked_again_before_storing(log, tmp_path):
    log.record("c", "web", "電話は090-1234-5678です", "cannot_answer", [])
    assert log.questions(ALL)[0].text == "電話は［電話番号］です"
    if log.db.dialect == "sqlite":
        raw = (tmp_path / "var" / "madoguchi.db").read_bytes()
        assert b"090-1234-5678" not in raw
    else:
        assert log.query("SELECT COUNT(*) AS n FROM review_questions WHERE text LIKE '%090%'") == [{"n": 0}]


def test_bad_outcome_and_missing_conversation_are_errors(log):
    with pytest.raises(ReviewError, match="unknown outcome 'answered'"):
        log.record("c", "rest", "x", "answered", [])
    with pytest.raises(ReviewError, match="conversation_id is empty"):
        log.record("", "rest", "x", "clarify", [])
    with pytest.raises(ReviewError, match="unknown next action"):
        log.record_next("c", "went_home")
    with pytest.raises(ReviewError, match="computed when reading"):
        log.record_next("c", "left")


def test_picked_candidate_marks_the_clarify_question(log):
    clarify = log.record("c", "rest", "ごみ", "clarify", CANDS)
    assert log.record_next("c", NextAction.PICKED_CANDIDATE, "gomi-calendar") == clarify
    [q] = log.questions(ALL)
    assert (q.next_action, q.next_faq_id) == ("picked_candidate", "gomi-calendar")


def test_record_next_without_a_question_returns_none(log):
    assert log.record_next("nobody", "none_of_these") is None


def test_feedback_negative_takes_the_last_question_and_marks_it(log):
    answered = log.record("c", "line", "粗大ごみの料金は", "answer", CANDS, faq_id="gomi-sodai-apply")
    feedback = log.record("c", "line", None, Outcome.FEEDBACK_NEGATIVE, [])
    rows = {q.id: q for q in log.questions(ALL)}
    assert rows[feedback].text == "粗大ごみの料金は"
    assert rows[feedback].faq_id == "gomi-sodai-apply"
    assert rows[answered].next_action == "feedback_negative"


def test_handoff_request_marks_the_last_question_even_after_feedback(log):
    q1 = log.record("c", "web", "ごみ", "clarify", CANDS)
    log.record_next("c", "none_of_these")
    log.record("c", "web", "ごみ", "handoff_requested", [], department="gomi")
    assert log.by_ids([q1])[0].next_action == "handed_off"


def test_asking_again_soon_after_an_unanswered_question(log, clock):
    first = log.record("c", "rest", "プレミアム商品券", "cannot_answer", [])
    clock.advance(minutes=2)
    second = log.record("c", "rest", "商品券はどこで買える", "cannot_answer", [])
    clock.advance(minutes=30)
    log.record("c", "rest", "住民票", "answer", [], faq_id="juminhyo-get")
    rows = {q.id: q for q in log.questions(ALL)}
    assert rows[first].next_action == "asked_again"
    assert rows[second].next_action is None  # too long ago to be the same attempt
    assert rows[second].effective_next(clock.now) == "left"


def test_left_is_computed_only_after_a_while(log, clock):
    log.record("c", "rest", "ホタル祭り", "cannot_answer", [])
    [q] = log.questions(ALL)
    assert q.effective_next(clock.now) is None
    assert q.effective_next(clock.now + LEFT_AFTER) == "left"
    answered = log.record("d", "rest", "住民票", "answer", [], faq_id="juminhyo-get")
    assert log.by_ids([answered])[0].effective_next(clock.now + LEFT_AFTER) is None


def test_filters_period_is_in_japan_time(log, clock):
    # 2026-11-20 23:30 JST is 14:30 UTC the same day; 2026-11-21 00:30 JST is 15:30 UTC on the 20th.
    clock.now = dt.datetime(2026, 11, 20, 14, 30, tzinfo=dt.timezone.utc)
    a = log.record("c1", "rest", "a", "cannot_answer", [], category="ごみ")
    clock.now = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.timezone.utc)
    b = log.record("c2", "line", "b", "clarify", [], category="住民票")
    c = log.record("c3", "line", "c", "answer", [], faq_id="x")
    day20 = ReviewFilter(since=dt.date(2026, 11, 20), until=dt.date(2026, 11, 20))
    day21 = ReviewFilter(since=dt.date(2026, 11, 21), until=dt.date(2026, 11, 21))
    assert [q.id for q in log.questions(day20)] == [a]
    assert [q.id for q in log.questions(day21)] == [b]  # the answer is not for review
    assert [q.id for q in log.questions(ReviewFilter(channel="line", outcomes=(), status=None))] == [c, b]
    assert [q.id for q in log.questions(ReviewFilter(category="ごみ"))] == [a]
    assert local_day_bounds(dt.date(2026, 11, 21), None) == ("2026-11-20T15:00:00.000+00:00", None)
    assert log.channels() == ["line", "rest"]
    assert log.categories() == ["ごみ", "住民票"]


def test_resolve_closes_questions_and_keeps_the_decision(log):
    ids = [log.record("c", "rest", t, "cannot_answer", []) for t in ("a", "b", "c")]
    rid = log.resolve(ids[:2], Status.PARAPHRASED, faq_id="gomi-spray", file="knowledge/faq/gomi.yml",
                      staff="田中", texts_added=["a", "b"])
    assert [q.id for q in log.questions()] == [ids[2]]
    [res] = log.resolutions()
    assert res["id"] == rid and res["action"] == "paraphrased" and res["staff"] == "田中"
    assert res["question_ids"] == ids[:2] and res["texts_added"] == ["a", "b"]
    assert {q.resolution_id for q in log.by_ids(ids[:2])} == {rid}
    log.reopen(ids[:1])
    assert sorted(q.id for q in log.questions()) == [ids[0], ids[2]]
    with pytest.raises(ReviewError, match="no questions given"):
        log.resolve([], "dismissed")
    with pytest.raises(ValueError):
        log.resolve(ids, "maybe")


def test_open_is_shared_per_file_and_the_actions_import_path_works(tmp_path):
    from bot.review.log import ReviewLog as FromLog

    path = tmp_path / "x" / "madoguchi.db"
    a = FromLog.open(path)
    assert FromLog.open(str(path)) is a
    a.record(conversation_id="c", channel="rest", text="t", outcome="handoff_requested", candidates=[], department="gomi")
    assert a.questions(ALL)[0].department == "gomi"


def test_parse_time_reads_the_formats_others_write():
    utc = dt.timezone.utc
    assert parse_time("2026-11-20T01:00:00.000+00:00") == dt.datetime(2026, 11, 20, 1, tzinfo=utc)
    assert parse_time("2026-11-20T01:00:00Z") == dt.datetime(2026, 11, 20, 1, tzinfo=utc)
    assert parse_time("2026-11-20 10:00:00+09:00") == dt.datetime(2026, 11, 20, 1, tzinfo=utc)
    assert parse_time(0) == dt.datetime(1970, 1, 1, tzinfo=utc)
    assert parse_time("yesterday") is None and parse_time(None) is None


def test_candidates_are_cleaned(log):
    log.record("c", "rest", "x", "clarify", [{"faq_id": "a", "score": "high"}, "junk", {"question": "no id"}] + CANDS * 3)
    [q] = log.questions(ALL)
    assert [c["faq_id"] for c in q.candidates] == ["a", "gomi-sodai-apply", "gomi-calendar", "gomi-sodai-apply", "gomi-calendar"]
    assert q.candidates[0]["score"] is None
    assert json.loads(log.query("SELECT candidates FROM review_questions")[0]["candidates"])[0]["faq_id"] == "a"


def test_language_is_kept_filtered_and_inherited_by_follow_ups(log):
    log.record("c-vi", "web", "Tôi muốn vứt rác cỡ lớn", "cannot_answer", CANDS, language="vi")
    log.record("c-vi", "web", None, "handoff_requested", [])  # the follow-up is about the Vietnamese question
    log.record("c-ja", "rest", "粗大ごみ", "clarify", CANDS, language="ja")
    log.record("c-x", "rest", "?", "unclear", [], language="klingon")  # not a language we serve: not recorded
    by_text = {(q.text, q.outcome): q.language for q in log.questions(ALL)}
    assert by_text == {("Tôi muốn vứt rác cỡ lớn", "cannot_answer"): "vi", ("Tôi muốn vứt rác cỡ lớn", "handoff_requested"): "vi",
                       ("粗大ごみ", "clarify"): "ja", ("?", "unclear"): None}
    assert [q.outcome for q in log.questions(ReviewFilter(outcomes=(), status=None, language="vi"))] == [
        "handoff_requested", "cannot_answer"]
    assert log.languages() == ["ja", "vi"]


def test_language_migration_keeps_rows_logged_before_it(database_target, clock):
    from bot.db import migrate
    from bot.review.store import MIGRATIONS

    db = open_database(database_target)
    migrate(db, MIGRATIONS[:1])
    db.execute("INSERT INTO review_questions (created_at, conversation_id, text, outcome, candidates) "
               "VALUES ('2026-11-19T01:00:00.000+00:00', 'old', '古い質問', 'cannot_answer', '[]')")
    log = ReviewLog(db, clock=clock)
    assert "review-0002-language" in applied_migrations(db)
    log.record("new", "web", "Where do I pay the health insurance?", "cannot_answer", [], language="en")
    assert [(q.text, q.language) for q in log.questions(ALL)] == [
        ("Where do I pay the health insurance?", "en"), ("古い質問", None)]
    assert log.questions(ReviewFilter(language="ja")) == []
