"""Hand-off action tests: every path, a fresh tracker and a fresh database per test."""

from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.handoff as handoff_actions
import actions.knowledge as knowledge_module
from actions.handoff import (ActionCreateTicket, ActionHandoffCancel, ActionRequestHuman, ActionTicketCancel,
                             ActionUrgent)
from bot.handoff.calendar import OfficeCalendar
from bot.handoff.store import HandoffStore

JST = dt.timezone(dt.timedelta(hours=9))
OPEN = dt.datetime(2026, 12, 1, 10, 0, tzinfo=JST)  # Tuesday
CLOSED = dt.datetime(2026, 12, 5, 10, 0, tzinfo=JST)  # Saturday


@pytest.fixture(autouse=True)
def setup(tmp_path, fixture_kb_dir, monkeypatch):
    monkeypatch.setattr(knowledge_module, "_cache", knowledge_module.KnowledgeCache(fixture_kb_dir))
    # A real city's calendar (the fixture city is always open), with one closed day.
    monkeypatch.setattr(handoff_actions, "calendar",
                        lambda: OfficeCalendar.from_config({"open": "08:30", "close": "17:15", "closed_dates": ["2026-12-04"]}))
    store = HandoffStore.open(tmp_path / "madoguchi.db")
    monkeypatch.setattr(handoff_actions, "_store", store)
    monkeypatch.setenv("MADOGUCHI_VAR_DIR", str(tmp_path))
    return store


def tracker(sender="r1", slots=None, events=None, latest=None, entities=None, loop=None):
    latest = latest or {"text": "人と話したい", "intent": {"name": "request_human", "confidence": 0.9}, "entities": entities or []}
    return Tracker(sender, slots or {}, latest, events or [], False, None, {"name": loop} if loop else {}, "action_listen")


def run(action, t):
    d = CollectingDispatcher()
    return d.messages, action.run(d, t, {})


USER_Q = [{"event": "user", "text": "国保の保険料が払えません", "parse_data": {"intent": {"name": "faq"}}, "input_channel": "web"},
          {"event": "user", "text": "人と話したい", "parse_data": {"intent": {"name": "request_human"}}, "input_channel": "web"}]


def test_queued_during_office_hours(setup, monkeypatch):
    monkeypatch.setattr(handoff_actions, "now", lambda: OPEN)
    msgs, events = run(ActionRequestHuman(), tracker(slots={"last_department": "kokuho"}, events=USER_Q))
    [m] = msgs
    assert m["custom"]["type"] == "handoff" and m["custom"]["status"] == "queued"
    assert m["custom"]["queue_position"] == 0
    assert m["text"].startswith("保険年金課の担当者におつなぎしています。すぐにおつなぎします。")
    h = setup.open_for("r1")
    assert (h.department, h.question, h.status) == ("kokuho", "国保の保険料が払えません", "waiting")
    assert events[0]["name"] == "handoff_id" and events[0]["value"] == str(h.id)


def test_queue_position_counts_those_ahead(setup, monkeypatch):
    monkeypatch.setattr(handoff_actions, "now", lambda: OPEN)
    run(ActionRequestHuman(), tracker("a", slots={"last_department": "kokuho"}))
    run(ActionRequestHuman(), tracker("b", slots={"last_department": "kokuho"}))
    msgs, _ = run(ActionRequestHuman(), tracker("c", slots={"last_department": "kokuho"}))
    assert msgs[0]["custom"]["queue_position"] == 2 and "あなたの前に2人お待ちです" in msgs[0]["text"]


def test_asking_twice_does_not_queue_twice(setup, monkeypatch):
    monkeypatch.setattr(handoff_actions, "now", lambda: OPEN)
    run(ActionRequestHuman(), tracker())
    run(ActionRequestHuman(), tracker())
    assert len(setup.list_open()) == 1


def test_outside_office_hours_offers_a_message(setup, monkeypatch):
    monkeypatch.setattr(handoff_actions, "now", lambda: CLOSED)
    msgs, _ = run(ActionRequestHuman(), tracker(slots={"last_department": "shimin"}))
    [m] = msgs
    assert m["custom"]["status"] == "offer_ticket"
    assert "受付時間外" in m["text"] and "12月7日（月） 08:30" in m["text"]
    assert [b["payload"] for b in m["buttons"]] == ["/leave_message", "/handoff_cancel"]
    assert setup.list_open() == []


def test_ticket_created_with_reply_date_and_can_be_cancelled(setup, monkeypatch):
    monkeypatch.setattr(handoff_actions, "now", lambda: CLOSED)
    msgs, _ = run(ActionCreateTicket(), tracker(slots={"ticket_question": "住民税の分割について相談したい", "last_department": "shimin"}))
    [m] = msgs
    tid = m["custom"]["ticket_id"]
    assert m["custom"]["status"] == "ticket_created"
    assert f"受付番号 {tid}" in m["text"] and "12月9日（水）までに" in m["text"]
    [ticket] = setup.open_tickets()
    assert (ticket.question, ticket.contact_method) == ("住民税の分割について相談したい", "chat")
    msgs, _ = run(ActionTicketCancel(), tracker(entities=[{"entity": "ticket_id", "value": str(tid)}]))
    assert msgs[0]["custom"]["status"] == "cancelled"
    assert setup.open_tickets() == []


def test_cannot_cancel_someone_elses_ticket(setup, monkeypatch):
    monkeypatch.setattr(handoff_actions, "now", lambda: CLOSED)
    msgs, _ = run(ActionCreateTicket(), tracker("owner", slots={"ticket_question": "質問です"}))
    tid = msgs[0]["custom"]["ticket_id"]
    msgs, _ = run(ActionTicketCancel(), tracker("intruder", entities=[{"entity": "ticket_id", "value": str(tid)}]))
    assert msgs[0]["custom"]["status"] == "none"
    assert len(setup.open_tickets()) == 1


def test_cancel_waiting_handoff(setup, monkeypatch):
    monkeypatch.setattr(handoff_actions, "now", lambda: OPEN)
    run(ActionRequestHuman(), tracker())
    msgs, events = run(ActionHandoffCancel(), tracker())
    assert msgs[0]["custom"]["status"] == "cancelled" and "担当者へのおつなぎを取り消しました" in msgs[0]["text"]
    assert setup.list_open() == []
    assert {"event": "active_loop", "name": None, "timestamp": None} in events


def test_cancel_of_a_claimed_handoff_resumes_the_paused_conversation(setup, monkeypatch):
    monkeypatch.setattr(handoff_actions, "now", lambda: OPEN)
    run(ActionRequestHuman(), tracker())
    h = setup.open_for("r1")
    assert setup.claim(h.id, "suzuki")
    paused = tracker()
    paused._paused = True  # the console paused it on claiming
    msgs, events = run(ActionHandoffCancel(), paused)
    assert msgs[0]["custom"]["status"] == "cancelled"
    assert setup.get(h.id).status == "cancelled"  # the console sees the resident's cancel
    assert events[0]["event"] == "resume"
    _, events = run(ActionHandoffCancel(), tracker())  # not paused: nothing to resume
    assert all(e["event"] != "resume" for e in events)


def test_nothing_to_cancel():
    msgs, _ = run(ActionHandoffCancel(), tracker())
    assert msgs[0]["custom"]["status"] == "none"


def test_urgent_gives_numbers_first():
    latest = {"text": "子どもが虐待されている", "intent": {"name": "urgent"}, "madoguchi": {"signals": {"urgent": "虐待"}}}
    msgs, _ = run(ActionUrgent(), tracker(latest=latest))
    [m] = msgs
    assert m["custom"]["status"] == "emergency" and m["custom"]["word"] == "虐待"
    assert m["buttons"][0]["payload"] == "/request_human"


def test_urgent_with_a_clear_faq_answer_gives_numbers_then_the_answer():
    latest = {"text": "火事で家が焼けてしまい、国保に入りたい", "intent": {"name": "urgent"},
              "madoguchi": {"signals": {"urgent": "火事", "faq_id": "kokuho-join", "faq_confidence": 0.4}}}
    msgs, events = run(ActionUrgent(), tracker(latest=latest))
    assert [m["custom"]["type"] for m in msgs] == ["handoff", "answer"]
    assert msgs[0]["custom"]["status"] == "emergency" and msgs[1]["custom"]["faq_id"] == "kokuho-join"
    assert {"event": "slot", "name": "last_faq_id", "value": "kokuho-join", "timestamp": None} in events


def test_urgent_ignores_an_faq_that_no_longer_exists():
    latest = {"text": "火事です", "madoguchi": {"signals": {"urgent": "火事", "faq_id": "gone"}}}
    msgs, events = run(ActionUrgent(), tracker(latest=latest))
    assert len(msgs) == 1 and events == []


def test_urgent_uses_city_numbers(project_root, monkeypatch):
    monkeypatch.setattr(knowledge_module, "_cache", knowledge_module.KnowledgeCache(project_root / "knowledge"))
    msgs, _ = run(ActionUrgent(), tracker(latest={"text": "火事です", "madoguchi": {"signals": {"urgent": "火事"}}}))
    assert "119番" in msgs[0]["text"] and "189" in msgs[0]["text"]


VI_EVENTS = [{"event": "user", "text": "Tôi không trả được phí bảo hiểm y tế quốc dân", "parse_data": {"intent": {"name": "faq"}},
              "input_channel": "web"},
             {"event": "user", "text": "/request_human", "parse_data": {"intent": {"name": "request_human"}}, "input_channel": "web"}]


def test_a_vietnamese_residents_handoff_and_review_row_say_vietnamese(setup, monkeypatch, tmp_path):
    from bot.review.store import ReviewFilter, ReviewLog

    monkeypatch.setattr(handoff_actions, "now", lambda: OPEN)
    msgs, _ = run(ActionRequestHuman(), tracker("r-vi", slots={"last_department": "kokuho"}, events=VI_EVENTS))
    assert msgs[0]["custom"]["language"] == "vi"
    h = setup.open_for("r-vi")
    assert (h.question, h.language) == ("Tôi không trả được phí bảo hiểm y tế quốc dân", "vi")
    [row] = ReviewLog.open(tmp_path / "madoguchi.db").questions(ReviewFilter(outcomes=(), status=None))
    assert (row.outcome, row.language) == ("handoff_requested", "vi")


def test_a_ticket_left_in_english_says_english(setup, monkeypatch):
    monkeypatch.setattr(handoff_actions, "now", lambda: CLOSED)
    question = "Can I pay my resident tax in installments?"
    events = [{"event": "user", "text": question, "parse_data": {"intent": {"name": "faq"}}}]
    run(ActionCreateTicket(), tracker("r-en", slots={"ticket_question": question}, events=events))
    [ticket] = setup.open_tickets()
    assert (ticket.question, ticket.language) == (question, "en")
