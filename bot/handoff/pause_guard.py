"""While staff hold a conversation, only staff or the resident's explicit cancel resume it.

The console pauses a claimed conversation with Rasa's ``ConversationPaused``. Rasa 3.6
still handles a paused conversation's ``/restart`` (``MessageProcessor.
_should_handle_message``): its ``Restarted`` event unpauses the tracker, and so does the
``SessionStarted`` of a session that expired while staff were writing. Either way the
assistant answered again while the console still showed the conversation as taken.

Here, a paused conversation is handled for one intent only: ``handoff_cancel`` (「やめる」),
whose action cancels the hand-off in the store (the console sees it at once) and resumes
the conversation. Any other message, ``/restart`` and ``/session_start`` included, is
recorded for staff to read and gets no reply; a paused conversation's session never
expires. Staff resume it by handing back or closing (``ConversationResumed``).
"""

from __future__ import annotations

from typing import Any, Optional

# The one intent a resident may use to leave a claimed conversation (domain.yml).
RESIDENT_CANCEL_INTENT = "handoff_cancel"

GROUP = "pause_guard"  # in bot.rasa_speedups' registry of changes to Rasa


def may_handle_while_paused(intent_name: Optional[str]) -> bool:
    """Whether a paused conversation's latest message may run the assistant's actions."""
    return intent_name == RESIDENT_CANCEL_INTENT


def _should_handle_message(tracker: Any) -> bool:
    if not tracker.is_paused():
        return True
    latest = tracker.latest_message
    return latest is not None and may_handle_while_paused(latest.intent.get("name"))


def install() -> None:
    """Replace Rasa's rules for paused conversations (idempotent; in the Rasa process).

    Rasa's own methods are kept in ``bot.rasa_speedups``' registry; ``uninstall()`` puts them back.
    """
    from rasa.core.processor import MessageProcessor

    from bot import rasa_speedups

    if rasa_speedups.applied(GROUP):
        return
    original_has_session_expired = MessageProcessor._has_session_expired

    def _has_session_expired(self: Any, tracker: Any) -> bool:
        # A new session would reset the tracker, unpausing it behind the staff's back.
        return False if tracker.is_paused() else original_has_session_expired(self, tracker)

    rasa_speedups.replace(GROUP, MessageProcessor, "_should_handle_message", staticmethod(_should_handle_message))
    rasa_speedups.replace(GROUP, MessageProcessor, "_has_session_expired", _has_session_expired)
