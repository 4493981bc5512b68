"""bot.handoff.pause_guard against Rasa's own MessageProcessor and trackers."""

from __future__ import annotations

import pytest
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import ConversationPaused, ConversationResumed, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.handoff import pause_guard


def paused_tracker(intent: str) -> DialogueStateTracker:
    t = DialogueStateTracker("r1", slots=[])
    t.update(ConversationPaused())
    t.update(UserUttered(f"/{intent}", {"name": intent, "confidence": 1.0}))
    return t


def test_only_the_residents_cancel_may_run_while_paused():
    assert pause_guard.may_handle_while_paused("handoff_cancel")
    for intent in ("restart", "session_start", "back", "greet", "request_human", "faq", None):
        assert not pause_guard.may_handle_while_paused(intent)


@pytest.fixture()
def rasa_as_shipped():
    """Rasa's MessageProcessor without the guard, put back as found after the test."""
    from bot import rasa_speedups

    with rasa_speedups.rasa_as_shipped():
        yield


@pytest.mark.parametrize("intent, handled", [("restart", False), ("session_start", False), ("greet", False),
                                             ("handoff_cancel", True)])
def test_installed_into_rasas_processor(rasa_as_shipped, intent, handled):
    t = paused_tracker(intent)
    assert MessageProcessor._should_handle_message(t) is (intent == "restart")  # Rasa's own rule
    pause_guard.install()
    assert MessageProcessor._should_handle_message(t) is handled
    t.update(ConversationResumed())
    assert MessageProcessor._should_handle_message(t) is True


class _SessionProcessor:
    """Just what _has_session_expired reads: a domain with 60-minute sessions."""

    def __init__(self):
        from rasa.shared.core.domain import Domain

        self.domain = Domain.from_dict({"session_config": {"session_expiration_time": 60}})


def test_a_paused_conversations_session_does_not_expire(rasa_as_shipped):
    t = paused_tracker("greet")
    t.events[-1].timestamp -= 2 * 3600  # the resident wrote two hours ago
    assert MessageProcessor._has_session_expired(_SessionProcessor(), t) is True  # Rasa: new session, unpaused
    pause_guard.install()
    assert MessageProcessor._has_session_expired(_SessionProcessor(), t) is False
    t.update(ConversationResumed())
    assert MessageProcessor._has_session_expired(_SessionProcessor(), t) is True
