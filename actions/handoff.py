"""Hand-off to staff: urgent words, queueing during office hours, tickets outside them.

The state lives in the embedded database (bot/handoff/store.py); the staff console
claims, replies and hands back through Rasa's API (docs/architecture.md).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, ConversationResumed, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import decision_of, entity, language_of, send
from actions.knowledge import knowledge
from bot import replies
from bot.contract import Outcome
from bot.handoff import replies as handoff_replies
from bot.handoff.calendar import OfficeCalendar
from bot.handoff.replies import describe_date
from bot.i18n.languages import JA
from bot.settings import Settings

logger = logging.getLogger(__name__)


def now() -> dt.datetime:
    """The current time (tests replace this)."""
    return dt.datetime.now(dt.timezone.utc)


_store = None


def store():
    """The hand-off store, opened on first use."""
    global _store
    if _store is None:
        from bot.handoff.store import HandoffStore

        _store = HandoffStore.open(Settings.from_env().database)
    return _store


def _record_review(tracker: Tracker, text: str, department: str | None, language: str) -> None:
    """Log the hand-off request for the review of unanswered questions (never fails a reply)."""
    try:
        from bot.review.log import ReviewLog

        ReviewLog.open(Settings.from_env().database).record(
            conversation_id=tracker.sender_id, channel=tracker.get_latest_input_channel() or "",
            text=text, outcome=Outcome.HANDOFF_REQUESTED, candidates=[], department=department, language=language,
        )
    except Exception as exc:  # noqa: BLE001 - logging must not break the conversation
        logger.warning("could not record the hand-off request in the review log: %s", exc)


def last_question(tracker: Tracker) -> str:
    """The resident's last real question (button payloads and small talk skipped)."""
    for event in reversed(tracker.events or []):
        if event.get("event") != "user":
            continue
        text = (event.get("text") or "").strip()
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if text and not text.startswith("/") and intent not in ("request_human", "greet", "thank", "goodbye"):
            return text
    return ""


def calendar() -> OfficeCalendar:
    return OfficeCalendar.from_config(knowledge().city.office)


def reply_date(cal: OfficeCalendar, when: dt.datetime) -> dt.date:
    days = int(knowledge().city.office.get("ticket_reply_working_days", 3))
    return cal.add_working_days(when, days)


def reply_by(cal: OfficeCalendar, when: dt.datetime, language: str = JA) -> str:
    return describe_date(reply_date(cal, when), language)


class ActionUrgent(Action):
    """Emergency and consultation numbers first, then the offer of a person.

    When one FAQ clearly answers the same message (「火事で家が焼けて、国保料が払えません」),
    its answer follows the numbers: the resident is not left with numbers alone.
    """

    def name(self) -> Text:
        return "action_urgent"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kb = knowledge()
        language = language_of(tracker)
        signals = decision_of(tracker).get("signals") or {}
        send(dispatcher, handoff_replies.emergency_message(kb, signals.get("urgent") or "", language))
        faq = kb.by_id().get(signals.get("faq_id") or "")
        if faq is None:
            return []
        send(dispatcher, replies.answer_message(faq, kb, signals.get("faq_confidence"), [], language=language))
        return [SlotSet("last_faq_id", faq.id), SlotSet("last_department", faq.department)]


class ActionRequestHuman(Action):
    """Queue the resident for staff during office hours; otherwise offer to leave a message."""

    def name(self) -> Text:
        return "action_request_human"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kb = knowledge()
        language = language_of(tracker)
        dept_id = tracker.get_slot("last_department")
        department = kb.departments.get(dept_id or "")
        question = last_question(tracker)
        current = now()
        cal = calendar()
        channel = tracker.get_latest_input_channel() or "rest"
        _record_review(tracker, question or "（担当者との会話を希望）", dept_id, language)
        if not cal.is_open(current):
            opens = cal.next_opening(current)
            opens_at = f"{describe_date(opens.date(), language)} {opens.strftime('%H:%M')}"
            send(dispatcher, handoff_replies.closed_offer_message(kb, department, opens_at, reply_by(cal, current, language),
                                                                  language))
            return []
        handoff = store().request(tracker.sender_id, channel, dept_id, "requested", question, language=language)
        ahead = store().queue_position(handoff.id)
        send(dispatcher, handoff_replies.queued_message(kb, department, ahead, handoff.id, language))
        return [SlotSet("handoff_id", str(handoff.id))]


class ActionHandoffCancel(Action):
    def name(self) -> Text:
        return "action_handoff_cancel"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)
        cancelled = store().cancel(tracker.sender_id)
        if cancelled is None and tracker.active_loop.get("name") is None:
            send(dispatcher, handoff_replies.nothing_to_cancel_message(language))
        else:
            send(dispatcher, handoff_replies.cancelled_message(handoff_replies.HANDOFF if cancelled else handoff_replies.TICKET,
                                                               language))
        events = [SlotSet("handoff_id", None), SlotSet("ticket_question", None), ActiveLoop(None), SlotSet("requested_slot", None)]
        if tracker.is_paused():
            # Staff held the conversation; the resident's own cancel is the one message that
            # may end it (bot.handoff.pause_guard). The store now says "cancelled" for the console.
            events.insert(0, ConversationResumed())
        return events


class ActionCreateTicket(Action):
    """The resident left a question for staff: create a ticket and say when to expect a reply."""

    def name(self) -> Text:
        return "action_create_ticket"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kb = knowledge()
        language = language_of(tracker)
        question = (tracker.get_slot("ticket_question") or "").strip()
        dept_id = tracker.get_slot("last_department")
        if not question:
            send(dispatcher, handoff_replies.nothing_to_cancel_message(language))
            return []
        channel = tracker.get_latest_input_channel() or "rest"
        cal, current = calendar(), now()
        due = reply_date(cal, current)
        ticket = store().create_ticket(tracker.sender_id, channel, dept_id, question, "chat", expected_by=due.isoformat(),
                                       language=language)
        store().cancel(tracker.sender_id)  # a waiting hand-off, if any, is replaced by the ticket
        send(dispatcher, handoff_replies.ticket_created_message(ticket.id, describe_date(due, language),
                                                               kb.departments.get(dept_id or ""), kb, language))
        return [SlotSet("ticket_question", None)]


class ActionTicketCancel(Action):
    def name(self) -> Text:
        return "action_ticket_cancel"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        raw = entity(tracker, "ticket_id")
        ok = raw is not None and raw.isdigit() and store().cancel_ticket(int(raw), tracker.sender_id)
        language = language_of(tracker)
        send(dispatcher, handoff_replies.cancelled_message(handoff_replies.TICKET, language) if ok
             else handoff_replies.nothing_to_cancel_message(language))
        return []


class ActionAskTicketQuestion(Action):
    """The ticket form asks for the question, in the conversation's language."""

    def name(self) -> Text:
        return "action_ask_ticket_question"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        send(dispatcher, handoff_replies.ask_ticket_question_message(language_of(tracker)))
        return []
