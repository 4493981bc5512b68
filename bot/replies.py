"""Build bot messages that follow the reply contract (README: "Reply contract").

Every message is ``{"text": ..., "buttons": [...], "custom": {...}}`` where ``custom``
always has ``type``, ``faq_id``, ``confidence`` and ``candidates``. Pure functions: the
actions call them, tests check them without Rasa.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.knowledge.decision import ReplyType
from bot.knowledge.model import Department, Faq, KnowledgeBase
from bot.knowledge.render import contact_text, department_of, render_answer

CHOOSE_FAQ_INTENT = "choose_faq"
NONE_OF_THESE_INTENT = "none_of_these"
REQUEST_HUMAN_INTENT = "request_human"


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
    **extra: Any,
) -> dict:
    """The ``custom`` part of a message."""
    return {
        "type": reply_type.value,
        "faq_id": faq_id,
        "confidence": confidence,
        "candidates": candidates or [],
        **extra,
    }


def choose_payload(faq_id: str) -> str:
    return f"/{CHOOSE_FAQ_INTENT}{json.dumps({'faq_id': faq_id})}"


def answer_message(faq: Faq, kb: KnowledgeBase, confidence: float | None, candidates: list[dict] | None = None) -> BotMessage:
    dept = department_of(faq, kb)
    return BotMessage(
        text=render_answer(faq, kb),
        custom=contract(
            ReplyType.ANSWER,
            faq_id=faq.id,
            confidence=confidence,
            candidates=candidates,
            question=faq.question,
            category=faq.category,
            department=_department_json(dept),
            url=faq.url,
        ),
    )


def clarify_message(candidates: list[dict], confidence: float | None) -> BotMessage:
    buttons = [{"title": c["question"], "payload": choose_payload(c["faq_id"])} for c in candidates]
    buttons.append({"title": "どれでもない", "payload": f"/{NONE_OF_THESE_INTENT}"})
    return BotMessage(
        text="もしかして、次のどれかですか？ 当てはまるものを選んでください。",
        custom=contract(ReplyType.CLARIFY, confidence=confidence, candidates=candidates),
        buttons=buttons,
    )


def cannot_answer_message(
    kb: KnowledgeBase,
    *,
    department_id: str | None,
    confidence: float | None,
    candidates: list[dict] | None = None,
    reason: str = "",
) -> BotMessage:
    """An honest "I don't know" with where to ask: the department if recognised."""
    dept = kb.departments.get(department_id) if department_id else None
    if reason == "personal_case" or (reason == "out_of_scope" and dept is not None):
        lead = "申し訳ありません。個別のご事情やご自身の手続きの状況については、このチャットではお調べできません。"
    elif reason == "out_of_scope":
        lead = "申し訳ありません。そのご質問には、このチャットではお答えできません。市役所の手続きや制度についてのご質問にお答えしています。"
    else:
        lead = "申し訳ありません。そのご質問にはお答えできる情報が見つかりませんでした。"
    where = contact_text(dept, kb)
    text = f"{lead}\nお手数ですが、{where}にお問い合わせください。"
    return BotMessage(
        text=text,
        custom=contract(
            ReplyType.CANNOT_ANSWER,
            confidence=confidence,
            candidates=candidates,
            department=_department_json(dept),
            contact=where,
            reason=reason or None,
        ),
        buttons=[{"title": "担当者と話したい", "payload": f"/{REQUEST_HUMAN_INTENT}"}],
    )


def unclear_message() -> BotMessage:
    return BotMessage(
        text="すみません、うまく読み取れませんでした。知りたいことを短い文で入力してください。（例：住民票の取り方、粗大ごみの出し方）",
        custom=contract(ReplyType.UNCLEAR),
    )


def faq_not_found_message(kb: KnowledgeBase) -> BotMessage:
    """A chosen FAQ no longer exists (e.g. removed between answer and click)."""
    return BotMessage(
        text=f"申し訳ありません。そのご案内は現在ありません。{contact_text(None, kb)}にお問い合わせください。",
        custom=contract(ReplyType.CANNOT_ANSWER, reason="faq_removed", contact=contact_text(None, kb)),
    )


def feedback_negative_message(kb: KnowledgeBase, department_id: str | None) -> BotMessage:
    dept = kb.departments.get(department_id) if department_id else None
    where = contact_text(dept, kb)
    return BotMessage(
        text=f"お役に立てず申し訳ありません。言葉を変えてもう一度質問していただくか、{where}にお問い合わせください。",
        custom=contract(ReplyType.FEEDBACK, helpful=False, department=_department_json(dept), contact=where),
        buttons=[{"title": "担当者と話したい", "payload": f"/{REQUEST_HUMAN_INTENT}"}],
    )
