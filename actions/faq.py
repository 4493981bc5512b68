"""Answer, clarify or cannot-answer, following the decision made in the NLU."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import decision_of, entity, send
from actions.knowledge import knowledge
from bot.knowledge.decision import ReplyType
from bot import replies


def _answered(faq_id: str, department: str | None) -> List[Dict[Text, Any]]:
    return [SlotSet("last_faq_id", faq_id), SlotSet("last_department", department)]


class ActionAnswerFaq(Action):
    def name(self) -> Text:
        return "action_answer_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kb = knowledge()
        decision = decision_of(tracker)
        kind = decision.get("type")
        candidates = decision.get("candidates") or []
        confidence = decision.get("confidence")
        faqs = kb.by_id()
        if kind == ReplyType.ANSWER.value and decision.get("faq_id") in faqs:
            faq = faqs[decision["faq_id"]]
            send(dispatcher, replies.answer_message(faq, kb, confidence, candidates))
            return _answered(faq.id, faq.department)
        if kind == ReplyType.CLARIFY.value:
            offered = [c for c in candidates if c.get("faq_id") in faqs]
            if len(offered) >= 2:
                send(dispatcher, replies.clarify_message(offered, confidence))
                return [SlotSet("last_department", decision.get("department"))]
        if kind == ReplyType.UNCLEAR.value:
            send(dispatcher, replies.unclear_message())
            return []
        send(
            dispatcher,
            replies.cannot_answer_message(
                kb,
                department_id=decision.get("department"),
                confidence=confidence,
                candidates=candidates,
                reason=decision.get("reason") or "",
            ),
        )
        return [SlotSet("last_department", decision.get("department"))]


class ActionChooseFaq(Action):
    """The resident picked one of the clarify candidates."""

    def name(self) -> Text:
        return "action_choose_faq"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Dict[Text, Any]]:
        kb = knowledge()
        faq_id = entity(tracker, "faq_id")
        faq = kb.by_id().get(faq_id or "")
        if faq is None:
            send(dispatcher, replies.faq_not_found_message(kb))
            return []
        send(dispatcher, replies.answer_message(faq, kb, 1.0))
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
                kb, department_id=tracker.get_slot("last_department"), confidence=None, reason="none_of_these"
            ),
        )
        return []
