"""Recording from the action server: one review log per database, failures only warned.

The actions call :func:`record_safely` and :func:`record_next_safely`; a failure to log
(disk full, database locked) must never break the reply to a resident, so it is logged
as a warning (without the resident's text) and swallowed.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

from bot.review.store import ReviewLog
from bot.settings import Settings

logger = logging.getLogger(__name__)


def review_log(settings: Settings | None = None) -> ReviewLog:
    """The review log of ``settings`` (default: from the environment), opened once per process."""
    return ReviewLog.open((settings or Settings.from_env()).database)


def record_safely(
    conversation_id: str,
    channel: str | None,
    text: str | None,
    outcome: str,
    candidates: Sequence[dict] | None = None,
    **details: Any,
) -> int | None:
    """:meth:`ReviewLog.record`, returning None (and warning) instead of raising."""
    try:
        return review_log().record(conversation_id, channel, text, outcome, candidates, **details)
    except Exception as exc:  # noqa: BLE001 - logging must never break a reply
        logger.warning("review log: could not record outcome %s: %s: %s", outcome, type(exc).__name__, str(exc)[:200])
        return None


def record_next_safely(conversation_id: str, next_action: str, faq_id: str | None = None) -> int | None:
    """:meth:`ReviewLog.record_next`, returning None (and warning) instead of raising."""
    try:
        return review_log().record_next(conversation_id, next_action, faq_id)
    except Exception as exc:  # noqa: BLE001 - logging must never break a reply
        logger.warning("review log: could not record next step %s: %s: %s", next_action, type(exc).__name__, str(exc)[:200])
        return None
