"""Feedback on an answer, small talk and the language choice (the hand-off is in actions/handoff.py)."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import language_of, send
from actions.knowledge import knowledge
from bot import replies
from bot.contract import Outcome


class ActionFeedbackNegative(Action):
    def name(self) -> Text:
        return "action_feedback_negative"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kb = knowledge()
        send(dispatcher, replies.feedback_negative_message(kb, tracker.get_slot("last_department"), language_of(tracker)))
        # For review: the question whose answer did not help (text=None: the review log
        # takes the conversation's last logged question).
        from bot.review.recording import record_safely

        record_safely(tracker.sender_id, tracker.get_latest_input_channel(), None, Outcome.FEEDBACK_NEGATIVE, [],
                      faq_id=tracker.get_slot("last_faq_id"), department=tracker.get_slot("last_department"),
                      language=language_of(tracker))
        return []


class ActionFeedbackPositive(Action):
    def name(self) -> Text:
        return "action_feedback_positive"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        send(dispatcher, replies.feedback_positive_message(language_of(tracker)))
        return []


class ActionSmalltalk(Action):
    """「こんにちは」「ありがとう」「さようなら」 in the conversation's language."""

    def name(self) -> Text:
        return "action_smalltalk"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        send(dispatcher, replies.smalltalk_message(intent if intent in replies.SMALLTALK_INTENTS else "greet", language_of(tracker)))
        return []


class ActionSetLanguage(Action):
    """The resident chose a language (``/set_language{"language": "vi"}``): it wins over detection."""

    def name(self) -> Text:
        return "action_set_language"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        language = language_of(tracker)  # the choice itself is read from the events (bot/i18n/detect.py)
        send(dispatcher, replies.language_chosen_message(language))
        return [SlotSet("language", language)]
