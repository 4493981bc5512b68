"""Notification hook: tell a city's chat tool (or any webhook) about new hand-offs.

The console's background loop finds hand-offs and tickets not announced yet and POSTs one
JSON notice each to ``notify_webhook_url``. The notice has a readable ``text`` (the key
Slack, Mattermost, Rocket.Chat and most "incoming webhooks" display) and structured
fields. It never contains the resident's question: the chat tool is another system, and
the question is read in the console after log-in.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from bot.handoff.store import Handoff, Ticket
from bot.i18n.languages import is_japanese, staff_label

logger = logging.getLogger(__name__)

REASON_LABELS = {
    "requested": "担当者との会話を希望",
    "cannot_answer": "自動応答で回答できず",
    "unhelpful": "回答が役に立たなかった",
    "urgent": "緊急の可能性",
}


def _in_language(code: str | None) -> str:
    """「・ベトナム語」 when the resident does not write Japanese (staff may need an interpreter)."""
    return f"・{staff_label(code)}" if code and not is_japanese(code) else ""


def handoff_notice(handoff: Handoff, department_name: str | None, console_url: str) -> dict:
    """The JSON notice for a new hand-off."""
    dept = department_name or "担当課未定"
    reason = REASON_LABELS.get(handoff.reason, handoff.reason)
    link = f"{console_url.rstrip('/')}/handoffs/{handoff.id}"
    urgent = "【緊急】" if handoff.reason == "urgent" else ""
    return {
        "text": f"{urgent}住民からの問い合わせが職員への引き継ぎを待っています（{dept}・{reason}{_in_language(handoff.language)}）。"
                f"受付番号 {handoff.id}: {link}",
        "event": "handoff.created",
        "handoff": {
            "id": handoff.id,
            "department": handoff.department,
            "department_name": department_name,
            "reason": handoff.reason,
            "channel": handoff.channel,
            "language": handoff.language,
            "created_at": handoff.created_at,
        },
        "url": link,
    }


def ticket_notice(ticket: Ticket, department_name: str | None, console_url: str) -> dict:
    """The JSON notice for a new ticket (a question left for staff)."""
    dept = department_name or "担当課未定"
    link = f"{console_url.rstrip('/')}/tickets/{ticket.id}"
    return {
        "text": f"住民から伝言が届きました（{dept}{_in_language(ticket.language)}）。受付番号 {ticket.id}: {link}",
        "event": "ticket.created",
        "ticket": {
            "id": ticket.id,
            "department": ticket.department,
            "department_name": department_name,
            "contact_method": ticket.contact_method,
            "channel": ticket.channel,
            "language": ticket.language,
            "created_at": ticket.created_at,
        },
        "url": link,
    }


class WebhookNotifier:
    """POSTs notices to one webhook URL with the process's shared session."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self._session = session

    async def send(self, notice: dict) -> bool:
        """True when the webhook answered 2xx; failures are logged (without content) and retried later."""
        try:
            async with self._session.post(self.url, json=notice) as resp:
                if 200 <= resp.status < 300:
                    return True
                logger.warning("notification webhook answered HTTP %s for %s", resp.status, notice.get("event"))
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            logger.warning("notification webhook unreachable (%s) for %s", type(exc).__name__, notice.get("event"))
        return False
