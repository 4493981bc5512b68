"""The resident says an answer did not help (the hand-off itself is in actions/handoff.py)."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import send
from actions.knowledge import knowledge
from bot import replies


class ActionFeedbackNegative(Action):
    def name(self) -> Text:
        return "action_feedback_negative"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kb = knowledge()
        send(dispatcher, replies.feedback_negative_message(kb, tracker.get_slot("last_department")))
        # For review: the question whose answer did not help (text=None: the review log
        # takes the conversation's last logged question).
        from bot.review.recording import record_safely

        record_safely(tracker.sender_id, tracker.get_latest_input_channel(), None, "feedback_negative", [],
                      faq_id=tracker.get_slot("last_faq_id"), department=tracker.get_slot("last_department"))
        return []
