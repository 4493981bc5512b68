"""Build bot messages that follow the reply contract (README: "Reply contract").

Every message is ``{"text": ..., "buttons": [...], "custom": {...}}`` where ``custom``
always has ``type``, ``faq_id``, ``confidence``, ``candidates`` and ``language`` (the
conversation's language, bot/i18n/languages.py). Every resident-facing text comes from
the catalogue (bot/i18n/messages/<language>.yml). Pure functions: the actions call them,
tests check them without Rasa.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.contract import CHOOSE_FAQ_INTENT, NONE_OF_THESE_INTENT, REQUEST_HUMAN_INTENT
from bot.i18n.catalogue import text as t
from bot.i18n.languages import JA, html_lang
from bot.i18n.render import contact_text, localized_answer, localized_department, localized_question
from bot.knowledge.decision import ReplyType
from bot.knowledge.model import Department, Faq, KnowledgeBase
from bot.knowledge.render import department_of



@dataclass
class BotMessage:
    text: str
    custom: dict
    buttons: list[dict] = field(default_factory=list)

    def as_dispatch(self) -> dict[str, Any]:
        """Keyword arguments for rasa-sdk's ``dispatcher.utter_message``."""
        kwargs: dict[str, Any] = {"text": self.text, "json_message": self.custom}
        if self.buttons:
            kwargs["buttons"] = self.buttons
        return kwargs


def _department_json(department: Department | None) -> dict | None:
    if department is None:
        return None
    return {"id": department.id, "name": department.name, "phone": department.phone, "place": department.place}


def contract(
    reply_type: ReplyType,
    *,
    faq_id: str | None = None,
    confidence: float | None = None,
    candidates: list[dict] | None = None,
    language: str = JA,
    **extra: Any,
) -> dict:
    """The ``custom`` part of a message."""
    return {
        "type": reply_type.value,
        "faq_id": faq_id,
        "confidence": confidence,
        "candidates": candidates or [],
        "language": language,
        "lang": html_lang(language),
        **extra,
    }


def choose_payload(faq_id: str) -> str:
    return f"/{CHOOSE_FAQ_INTENT}{json.dumps({'faq_id': faq_id})}"


def request_human_button(language: str = JA) -> dict:
    return {"title": t(language, "button.request_human"), "payload": f"/{REQUEST_HUMAN_INTENT}"}


def answer_message(faq: Faq, kb: KnowledgeBase, confidence: float | None, candidates: list[dict] | None = None,
                   language: str = JA) -> BotMessage:
    """The FAQ's answer in ``language``. Without a current translation: the Japanese answer,
    a one-line note in ``language`` (``custom.note``) and the button to talk to staff."""
    dept = localized_department(department_of(faq, kb), kb, language)
    shown = localized_answer(faq, kb, language)
    lines = [shown.body]
    note = None if shown.translated else t(language, "answer.untranslated")
    if note:
        lines.append(note)
    if faq.url:
        lines.append(t(language, "answer.more", url=faq.url))
    lines.append(t(language, "answer.contact", contact=contact_text(department_of(faq, kb), kb, language)))
    return BotMessage(
        text="\n".join(lines),
        custom=contract(
            ReplyType.ANSWER,
            faq_id=faq.id,
            confidence=confidence,
            candidates=candidates,
            language=language,
            question=faq.question,
            shown_question=shown.question,  # in the resident's language when translated
            category=faq.category,
            department=_department_json(dept),
            url=faq.url,
            body=shown.body,
            body_lang=html_lang(shown.body_language),
            translated=shown.translated,
            note=note,
        ),
        buttons=[] if shown.translated else [request_human_button(language)],
    )


def clarify_message(candidates: list[dict], confidence: float | None, language: str = JA,
                    kb: KnowledgeBase | None = None) -> BotMessage:
    faqs = kb.by_id() if kb is not None else {}

    def title(c: dict) -> str:
        faq = faqs.get(c["faq_id"])
        return localized_question(faq, kb, language) if faq is not None and kb is not None else c["question"]

    buttons = [{"title": title(c), "payload": choose_payload(c["faq_id"])} for c in candidates]
    buttons.append({"title": t(language, "clarify.none"), "payload": f"/{NONE_OF_THESE_INTENT}"})
    return BotMessage(
        text=t(language, "clarify.text"),
        custom=contract(ReplyType.CLARIFY, confidence=confidence, candidates=candidates, language=language),
        buttons=buttons,
    )


def cannot_answer_message(
    kb: KnowledgeBase,
    *,
    department_id: str | None,
    confidence: float | None,
    candidates: list[dict] | None = None,
    reason: str = "",
    language: str = JA,
) -> BotMessage:
    """An honest "I don't know" with where to ask: the department if recognised."""
    dept = kb.departments.get(department_id) if department_id else None
    if reason == "personal_case" or (reason == "out_of_scope" and dept is not None):
        lead = t(language, "cannot.personal_case")
    elif reason == "out_of_scope":
        lead = t(language, "cannot.out_of_scope")
    else:
        lead = t(language, "cannot.not_found")
    where = contact_text(dept, kb, language)
    return BotMessage(
        text=f"{lead}\n{t(language, 'cannot.where', where=where)}",
        custom=contract(
            ReplyType.CANNOT_ANSWER,
            confidence=confidence,
            candidates=candidates,
            language=language,
            department=_department_json(localized_department(dept, kb, language)),
            contact=where,
            reason=reason or None,
        ),
        buttons=[request_human_button(language)],
    )


def unclear_message(language: str = JA) -> BotMessage:
    return BotMessage(text=t(language, "unclear.text"), custom=contract(ReplyType.UNCLEAR, language=language))


def faq_not_found_message(kb: KnowledgeBase, language: str = JA) -> BotMessage:
    """A chosen FAQ no longer exists (e.g. removed between answer and click)."""
    where = contact_text(None, kb, language)
    return BotMessage(
        text=t(language, "cannot.faq_removed", where=where),
        custom=contract(ReplyType.CANNOT_ANSWER, reason="faq_removed", contact=where, language=language),
    )


def feedback_negative_message(kb: KnowledgeBase, department_id: str | None, language: str = JA) -> BotMessage:
    dept = kb.departments.get(department_id) if department_id else None
    where = contact_text(dept, kb, language)
    return BotMessage(
        text=t(language, "feedback.negative", where=where),
        custom=contract(ReplyType.FEEDBACK, helpful=False, department=_department_json(localized_department(dept, kb, language)),
                        contact=where, language=language),
        buttons=[request_human_button(language)],
    )


def feedback_positive_message(language: str = JA) -> BotMessage:
    return BotMessage(text=t(language, "feedback.positive"), custom=contract(ReplyType.FEEDBACK, helpful=True, language=language))


SMALLTALK_INTENTS = ("greet", "thank", "goodbye")


def smalltalk_message(intent: str, language: str = JA) -> BotMessage:
    """The reply to 「こんにちは」, 「ありがとう」, 「さようなら」."""
    return BotMessage(text=t(language, f"smalltalk.{intent}"),
                      custom=contract(ReplyType.SMALLTALK, intent=intent, language=language))


def language_chosen_message(language: str) -> BotMessage:
    """The resident chose a language in the widget or the LINE menu."""
    return BotMessage(text=t(language, "language.chosen"), custom=contract(ReplyType.LANGUAGE, language=language))
