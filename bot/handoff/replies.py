"""Resident-facing messages of the hand-off, following the reply contract.

Texts come from the catalogue (bot/i18n/messages/<language>.yml).
"""

from __future__ import annotations

import datetime as dt

from bot.i18n.catalogue import text as t
from bot.i18n.languages import JA
from bot.i18n.render import contact_text, emergency_numbers, localized_department
from bot.knowledge.decision import ReplyType
from bot.knowledge.model import Department, KnowledgeBase
from bot.replies import BotMessage, contract

LEAVE_MESSAGE = "/leave_message"
HANDOFF_CANCEL = "/handoff_cancel"
REQUEST_HUMAN = "/request_human"


def _dept_json(d: Department | None) -> dict | None:
    return None if d is None else {"id": d.id, "name": d.name, "phone": d.phone, "place": d.place}


def describe_date(day: dt.date, language: str = JA) -> str:
    """「12月1日（火）」, "Tue 12/1" … in ``language``."""
    weekday = t(language, "date.weekdays").split(",")[day.weekday()]
    return t(language, "date.format", month=day.month, day=day.day, weekday=weekday)


def emergency_message(kb: KnowledgeBase, word: str, language: str = JA) -> BotMessage:
    return BotMessage(
        text=t(language, "handoff.emergency", numbers=emergency_numbers(kb, language)),
        custom=contract(ReplyType.HANDOFF, status="emergency", word=word, language=language),
        buttons=[{"title": t(language, "button.request_human"), "payload": REQUEST_HUMAN}],
    )


def queued_message(kb: KnowledgeBase, department: Department | None, ahead: int, handoff_id: int,
                   language: str = JA) -> BotMessage:
    shown = localized_department(department, kb, language)
    where = (t(language, "handoff.staff_of_department", department=shown.name) if shown is not None
             else t(language, "handoff.staff_of_city"))
    wait = t(language, "handoff.wait_none") if ahead == 0 else t(language, "handoff.wait_ahead", ahead=ahead)
    cancel = t(language, "button.cancel")
    return BotMessage(
        text=t(language, "handoff.queued", where=where, wait=wait, cancel=cancel),
        custom=contract(ReplyType.HANDOFF, status="queued", queue_position=ahead, handoff_id=handoff_id,
                        department=_dept_json(shown), language=language),
        buttons=[{"title": cancel, "payload": HANDOFF_CANCEL}],
    )


def closed_offer_message(kb: KnowledgeBase, department: Department | None, opens_at: str, reply_by: str,
                         language: str = JA) -> BotMessage:
    return BotMessage(
        text=t(language, "handoff.closed", opens_at=opens_at, reply_by=reply_by),
        custom=contract(ReplyType.HANDOFF, status="offer_ticket", department=_dept_json(localized_department(department, kb, language)),
                        contact=contact_text(department, kb, language), next_opening=opens_at, language=language),
        buttons=[{"title": t(language, "button.leave_message"), "payload": LEAVE_MESSAGE},
                 {"title": t(language, "button.cancel"), "payload": HANDOFF_CANCEL}],
    )


def ticket_created_message(ticket_id: int, reply_by: str, department: Department | None, kb: KnowledgeBase,
                           language: str = JA) -> BotMessage:
    return BotMessage(
        text=t(language, "handoff.ticket_created", ticket_id=ticket_id, reply_by=reply_by,
               where=contact_text(department, kb, language)),
        custom=contract(ReplyType.HANDOFF, status="ticket_created", ticket_id=ticket_id, expected_reply=reply_by,
                        department=_dept_json(localized_department(department, kb, language)), language=language),
        buttons=[{"title": t(language, "button.ticket_cancel"), "payload": f'/ticket_cancel{{"ticket_id": "{ticket_id}"}}'}],
    )


def ask_ticket_question_message(language: str = JA) -> BotMessage:
    """The ticket form asks for the question (was the domain's utter_ask_ticket_question)."""
    return BotMessage(
        text=t(language, "handoff.ask_ticket_question"),
        custom=contract(ReplyType.HANDOFF, status="ask_ticket_question", language=language),
        buttons=[{"title": t(language, "button.cancel"), "payload": HANDOFF_CANCEL}],
    )


HANDOFF = "handoff"
TICKET = "ticket"


def cancelled_message(what: str, language: str = JA) -> BotMessage:
    """``what``: :data:`HANDOFF` or :data:`TICKET`."""
    return BotMessage(
        text=t(language, "handoff.cancelled", what=t(language, f"handoff.what_{what}")),
        custom=contract(ReplyType.HANDOFF, status="cancelled", language=language),
    )


def nothing_to_cancel_message(language: str = JA) -> BotMessage:
    return BotMessage(
        text=t(language, "handoff.nothing_to_cancel"),
        custom=contract(ReplyType.HANDOFF, status="none", language=language),
    )
