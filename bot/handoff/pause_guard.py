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

_installed = False
_rasa_originals: dict[str, Any] = {}  # Rasa's own methods, kept for tests


def may_handle_while_paused(intent_name: Optional[str]) -> bool:
    """Whether a paused conversation's latest message may run the assistant's actions."""
    return intent_name == RESIDENT_CANCEL_INTENT


def _should_handle_message(tracker: Any) -> bool:
    if not tracker.is_paused():
        return True
    latest = tracker.latest_message
    return latest is not None and may_handle_while_paused(latest.intent.get("name"))


def install() -> None:
    """Replace Rasa's rules for paused conversations (idempotent; in the Rasa process)."""
    global _installed
    if _installed:
        return
    from rasa.core.processor import MessageProcessor

    _rasa_originals.update({name: MessageProcessor.__dict__[name]
                            for name in ("_should_handle_message", "_has_session_expired")})
    original_has_session_expired = MessageProcessor._has_session_expired

    def _has_session_expired(self: Any, tracker: Any) -> bool:
        # A new session would reset the tracker, unpausing it behind the staff's back.
        return False if tracker.is_paused() else original_has_session_expired(self, tracker)

    MessageProcessor._should_handle_message = staticmethod(_should_handle_message)
    MessageProcessor._has_session_expired = _has_session_expired
    _installed = True
