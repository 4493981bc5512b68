"""Every path of the FAQ actions writes the review log; a logging failure never breaks a reply."""

from __future__ import annotations

import logging

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.knowledge as knowledge_module
from actions.faq import ActionAnswerFaq, ActionChooseFaq, ActionNoneOfThese
from actions.human import ActionFeedbackNegative
from bot.review.store import ReviewFilter, ReviewLog

ALL = ReviewFilter(outcomes=(), status=None)
CANDS = [{"faq_id": "gomi-sodai-apply", "question": "粗大ごみの出し方を教えてください。", "score": 0.5},
         {"faq_id": "gomi-calendar", "question": "ごみの収集日を知りたいです。", "score": 0.45}]


@pytest.fixture(autouse=True)
def isolated(fixture_kb_dir, monkeypatch, tmp_path):
    """The fixture knowledge base, and a review database of this test only."""
    monkeypatch.setattr(knowledge_module, "_cache", knowledge_module.KnowledgeCache(fixture_kb_dir))
    monkeypatch.setenv("MADOGUCHI_VAR_DIR", str(tmp_path / "var"))


@pytest.fixture
def log(tmp_path) -> ReviewLog:
    return ReviewLog.open(tmp_path / "var" / "madoguchi.db")


def tracker(text="q", parse=None, slots=None, entities=None, sender="r1", channel="web") -> Tracker:
    latest = {"text": text, "intent": {"name": "faq", "confidence": 0.7}, "entities": entities or []}
    if parse is not None:
        latest["madoguchi"] = parse
    events = [{"event": "user", "text": text, "input_channel": channel, "parse_data": latest}]
    return Tracker(sender, slots or {}, latest, events, False, None, {}, "action_listen")


def run(action, t):
    d = CollectingDispatcher()
    events = action.run(d, t, {})
    return d.messages, events


def test_answer_is_logged_for_the_figures(log):
    run(ActionAnswerFaq(), tracker("スプレー缶の捨て方", {"type": "answer", "faq_id": "gomi-spray", "confidence": 0.8,
                                                  "candidates": CANDS, "reason": "confident"}))
    [q] = log.questions(ALL)
    assert (q.conversation_id, q.channel, q.text, q.outcome, q.faq_id, q.department, q.category, q.confidence) == (
        "r1", "web", "スプレー缶の捨て方", "answer", "gomi-spray", "gomi", "ごみ・リサイクル", 0.8)
    assert [c["faq_id"] for c in q.candidates] == ["gomi-sodai-apply", "gomi-calendar"]
    assert log.questions() == []  # answers are not for review


def test_clarify_then_pick_a_candidate(log):
    run(ActionAnswerFaq(), tracker("ごみ", {"type": "clarify", "confidence": 0.3, "candidates": CANDS, "reason": "ambiguous"}))
    run(ActionChooseFaq(), tracker('/choose_faq{"faq_id": "gomi-calendar"}', entities=[{"entity": "faq_id", "value": "gomi-calendar"}]))
    [q] = log.questions(ALL)
    assert (q.outcome, q.text, q.reason, q.category, q.confidence) == ("clarify", "ごみ", "ambiguous", "ごみ・リサイクル", 0.3)
    assert (q.next_action, q.next_faq_id) == ("picked_candidate", "gomi-calendar")


def test_clarify_then_none_of_these(log):
    run(ActionAnswerFaq(), tracker("ごみ", {"type": "clarify", "confidence": 0.3, "candidates": CANDS, "department": "gomi"}))
    run(ActionNoneOfThese(), tracker("/none_of_these", slots={"last_department": "gomi"}))
    [q] = log.questions()
    assert (q.outcome, q.department, q.next_action) == ("clarify", "gomi", "none_of_these")


def test_cannot_answer_with_reason_and_department(log):
    run(ActionAnswerFaq(), tracker("私の国保の保険料はまだですか",
                                   {"type": "cannot_answer", "reason": "personal_case", "department": "kokuho", "confidence": 0.2,
                                    "candidates": [{"faq_id": "kokuho-join", "question": "国保", "score": 0.3}]}))
    [q] = log.questions()
    assert (q.outcome, q.reason, q.department, q.category) == ("cannot_answer", "personal_case", "kokuho", "国民健康保険")


def test_unclear_and_missing_decision(log):
    run(ActionAnswerFaq(), tracker("😀", {"type": "unclear", "reason": "no_content"}, sender="a"))
    run(ActionAnswerFaq(), tracker("???", None, sender="b"))
    rows = {q.conversation_id: q for q in log.questions()}
    assert rows["a"].outcome == "unclear" and rows["a"].reason == "no_content"
    assert rows["b"].outcome == "cannot_answer" and rows["b"].reason is None


def test_stale_clarify_is_logged_as_cannot_answer(log):
    stale = [{"faq_id": "gone-1", "question": "x", "score": 0.5}, {"faq_id": "gone-2", "question": "y", "score": 0.4}]
    run(ActionAnswerFaq(), tracker("x", {"type": "clarify", "confidence": 0.4, "candidates": stale, "reason": "ambiguous"}))
    [q] = log.questions()
    assert q.outcome == "cannot_answer" and q.category is None


def test_negative_feedback_is_logged_with_the_question_it_was_about(log):
    run(ActionAnswerFaq(), tracker("粗大ごみの料金", {"type": "answer", "faq_id": "gomi-sodai-apply", "confidence": 0.7, "candidates": CANDS}))
    msgs, _ = run(ActionFeedbackNegative(), tracker("/feedback_negative", slots={"last_faq_id": "gomi-sodai-apply", "last_department": "gomi"}))
    assert msgs[0]["custom"]["type"] == "feedback"
    [fb] = log.questions()
    assert (fb.outcome, fb.text, fb.faq_id, fb.department, fb.channel) == (
        "feedback_negative", "粗大ごみの料金", "gomi-sodai-apply", "gomi", "web")
    answered = [q for q in log.questions(ALL) if q.outcome == "answer"][0]
    assert answered.next_action == "feedback_negative"


def test_a_broken_database_never_breaks_a_reply(monkeypatch, tmp_path, caplog):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("MADOGUCHI_VAR_DIR", str(blocker))  # the database cannot be created here
    secret = "私の電話は［電話番号］、粗大ごみを出したい"
    with caplog.at_level(logging.WARNING):
        msgs, _ = run(ActionAnswerFaq(), tracker(secret, {"type": "answer", "faq_id": "gomi-spray", "confidence": 0.8}))
        msgs2, _ = run(ActionChooseFaq(), tracker(entities=[{"entity": "faq_id", "value": "gomi-spray"}]))
        msgs3, _ = run(ActionFeedbackNegative(), tracker(slots={}))
    assert msgs[0]["custom"]["type"] == "answer" and msgs2[0]["custom"]["type"] == "answer"
    assert msgs3[0]["custom"]["type"] == "feedback"
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.review.recording"]
    assert len(warnings) == 3 and all("review log: could not record" in w for w in warnings)
    assert not any("粗大ごみ" in w for w in warnings)  # no resident text in the logs


def test_the_conversations_language_is_logged_with_each_outcome(log):
    run(ActionAnswerFaq(), tracker("Tôi muốn biết lịch thu gom rác ở khu tôi", {"type": "clarify", "confidence": 0.3,
                                                                           "candidates": CANDS}, sender="vi"))
    run(ActionAnswerFaq(), tracker("ごみの収集日はいつですか", {"type": "cannot_answer", "confidence": 0.1}, sender="ja"))
    run(ActionAnswerFaq(), tracker("How much does it cost to throw away a sofa?",
                                   {"type": "answer", "faq_id": "gomi-sodai-apply", "confidence": 0.7}, sender="en"))
    feedback = tracker("/feedback_negative", sender="en", slots={"last_faq_id": "gomi-sodai-apply"})
    feedback.events.insert(0, {"event": "user", "text": "How much does it cost to throw away a sofa?", "parse_data": {}})
    run(ActionFeedbackNegative(), feedback)
    assert {(q.conversation_id, q.outcome): q.language for q in log.questions(ALL)} == {
        ("vi", "clarify"): "vi", ("ja", "cannot_answer"): "ja", ("en", "answer"): "en", ("en", "feedback_negative"): "en"}


def test_disk_full_while_logging_the_resident_still_gets_the_answer(log, caplog):
    from tests.test_db_faults import fill_to_the_brim

    fill_to_the_brim(log)  # SQLite itself says "database or disk is full" from now on
    secret = "スプレー缶の捨て方を教えて"
    parse = {"type": "answer", "faq_id": "gomi-spray", "confidence": 0.8, "candidates": CANDS}
    with caplog.at_level(logging.WARNING):
        replies = [run(ActionAnswerFaq(), tracker(secret, parse, sender=f"full-{i}"))[0] for i in range(3)]
    assert [m[0]["custom"]["type"] for m in replies] == ["answer"] * 3
    assert all("スプレー缶" in m[0]["text"] or m[0]["custom"]["faq_id"] == "gomi-spray" for m in replies)
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.review.recording"]
    assert len(warnings) == 3 and all("database or disk is full" in w for w in warnings), warnings
    assert not any("スプレー" in w for w in warnings)  # the report names the failure, not the resident's text
    assert not [q for q in log.questions(ALL) if q.conversation_id.startswith("full-")]
    log.db.conn.execute("PRAGMA max_page_count = 1073741823")  # space freed: logging works again
    run(ActionAnswerFaq(), tracker(secret, parse, sender="full-after"))
    assert [q.conversation_id for q in log.questions(ALL) if q.conversation_id.startswith("full-")] == ["full-after"]
