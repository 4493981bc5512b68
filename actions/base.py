"""Shared plumbing for Madoguchi actions."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.contract import PARSE_KEY
from bot.i18n.detect import conversation_language, turns_from_events
from bot.replies import BotMessage



def send(dispatcher: CollectingDispatcher, message: BotMessage) -> None:
    dispatcher.utter_message(**message.as_dispatch())


def decision_of(tracker: Tracker) -> dict[str, Any]:
    """The FAQ decision the NLU attached to the latest message (empty if none)."""
    return (tracker.latest_message or {}).get(PARSE_KEY) or {}


def entity(tracker: Tracker, name: str) -> str | None:
    for e in (tracker.latest_message or {}).get("entities") or []:
        if e.get("entity") == name and e.get("value"):
            return str(e["value"])
    return None


def language_of(tracker: Tracker) -> str:
    """The conversation's language: chosen, or detected from the resident's messages."""
    return conversation_language(turns_from_events(tracker.events))
