"""Answer, clarify or cannot-answer, following the decision made in the NLU.

Every outcome is written to the review log (bot/review), and so is what the resident
did next with a clarification (picked a candidate, or none of them fitted).
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import decision_of, entity, language_of, send
from actions.knowledge import knowledge
from bot.knowledge.decision import ReplyType
from bot.knowledge.model import KnowledgeBase
from bot import replies
from bot.review.recording import record_next_safely, record_safely
from bot.review.store import NextAction, Outcome


def _answered(faq_id: str, department: str | None) -> List[Dict[Text, Any]]:
    return [SlotSet("last_faq_id", faq_id), SlotSet("last_department", department)]


def _log(tracker: Tracker, outcome: Outcome, candidates: list, **details: Any) -> None:
    """Record the outcome of the resident's latest message (text already masked by the channel),
    with the conversation's language for staff."""
    record_safely(
        tracker.sender_id,
        tracker.get_latest_input_channel(),
        (tracker.latest_message or {}).get("text") or "",
        outcome.value,
        candidates,
        language=language_of(tracker),
        **details,
    )


def _ranking(decision: dict, faqs: dict, fallback: list) -> list:
    """What the live retriever ranked for the message, best first, as the review log keeps
    it: the review's suggested FAQs are then exactly the assistant's own ranking."""
    ranked = decision.get("ranking") or fallback
    return [{"faq_id": c.get("faq_id"), "score": c.get("score"),
             "question": c.get("question") or (faqs[c["faq_id"]].question if c.get("faq_id") in faqs else "")}
            for c in ranked if isinstance(c, dict)]


def _category(kb: KnowledgeBase, decision: dict, candidates: list) -> str | None:
    """The category the question seems to be about: the decision's, else the top candidate's."""
    if decision.get("category"):
        return decision["category"]
    faqs = kb.by_id()
    top = candidates[0].get("faq_id") if candidates else None
    return faqs[top].category if top in faqs else None


class ActionAnswerFaq(Action):
    def name(self) -> Text:
        return "action_answer_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kb = knowledge()
        language = language_of(tracker)
        decision = decision_of(tracker)
        kind = decision.get("type")
        candidates = decision.get("candidates") or []
        confidence = decision.get("confidence")
        faqs = kb.by_id()
        if kind == ReplyType.ANSWER.value and decision.get("faq_id") in faqs:
            faq = faqs[decision["faq_id"]]
            send(dispatcher, replies.answer_message(faq, kb, confidence, candidates, language=language))
            _log(tracker, Outcome.ANSWER, _ranking(decision, faqs, candidates), faq_id=faq.id, department=faq.department,
                 category=faq.category, confidence=confidence, reason=decision.get("reason"))
            return _answered(faq.id, faq.department)
        if kind == ReplyType.CLARIFY.value:
            offered = [c for c in candidates if c.get("faq_id") in faqs]
            if len(offered) >= 2:
                send(dispatcher, replies.clarify_message(offered, confidence, language=language, kb=kb))
                _log(tracker, Outcome.CLARIFY, _ranking(decision, faqs, offered), department=decision.get("department"),
                     category=_category(kb, decision, offered), confidence=confidence, reason=decision.get("reason"))
                return [SlotSet("last_department", decision.get("department"))]
        if kind == ReplyType.UNCLEAR.value:
            send(dispatcher, replies.unclear_message(language))
            _log(tracker, Outcome.UNCLEAR, _ranking(decision, faqs, candidates), reason=decision.get("reason"), confidence=confidence)
            return []
        _log(tracker, Outcome.CANNOT_ANSWER, _ranking(decision, faqs, candidates), department=decision.get("department"),
             category=_category(kb, decision, candidates), confidence=confidence,
             reason=decision.get("reason") or ("faq_removed" if kind in (ReplyType.ANSWER.value, ReplyType.CLARIFY.value) else None))
        send(
            dispatcher,
            replies.cannot_answer_message(
                kb,
                department_id=decision.get("department"),
                confidence=confidence,
                candidates=candidates,
                reason=decision.get("reason") or "",
                language=language,
            ),
        )
        return [SlotSet("last_department", decision.get("department"))]


class ActionChooseFaq(Action):
    """The resident picked one of the clarify candidates."""

    def name(self) -> Text:
        return "action_choose_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kb = knowledge()
        language = language_of(tracker)
        faq_id = entity(tracker, "faq_id")
        faq = kb.by_id().get(faq_id or "")
        if faq is None:
            send(dispatcher, replies.faq_not_found_message(kb, language))
            return []
        send(dispatcher, replies.answer_message(faq, kb, 1.0, language=language))
        record_next_safely(tracker.sender_id, NextAction.PICKED_CANDIDATE.value, faq.id)
        return _answered(faq.id, faq.department)


class ActionNoneOfThese(Action):
    """None of the candidates fitted: say so and show where to ask."""

    def name(self) -> Text:
        return "action_none_of_these"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kb = knowledge()
        send(
            dispatcher,
            replies.cannot_answer_message(
                kb, department_id=tracker.get_slot("last_department"), confidence=None, reason="none_of_these",
                language=language_of(tracker),
            ),
        )
        record_next_safely(tracker.sender_id, NextAction.NONE_OF_THESE.value)
        return []
