"""What the resident sees when staff act: bot events for Rasa's tracker (the delivery seam).

Pure functions. Each returns the list of events to append with
``RasaApi.append_events``; Rasa records them and sends the bot messages to the resident's
own channel. Texts are polite, plain Japanese.
"""

from __future__ import annotations

from bot.runtime.rasa_api import bot_event

PAUSE = {"event": "pause"}  # Rasa's ConversationPaused: the assistant stays silent
RESUME = {"event": "resume"}  # Rasa's ConversationResumed: the assistant answers again

LEAVE_MESSAGE_BUTTONS = [
    {"title": "伝言を残す", "payload": "/leave_message"},
    {"title": "やめる", "payload": "/handoff_cancel"},
]


def _custom(kind: str, **extra) -> dict:
    # The reply contract: type, faq_id, confidence and candidates are always present.
    return {"type": kind, "faq_id": None, "confidence": None, "candidates": [], **extra}


def claimed(staff_name: str, handoff_id: int) -> list[dict]:
    """Staff took the conversation: pause the assistant, greet the resident."""
    text = f"お待たせしました。担当の{staff_name}です。ここからは職員がお答えします。"
    return [PAUSE, bot_event(text, _custom("handoff", status="claimed", staff_name=staff_name, handoff_id=handoff_id))]


def staff_reply(text: str, staff_name: str) -> list[dict]:
    return [bot_event(text, _custom("staff", staff_name=staff_name))]


def returned(handoff_id: int) -> list[dict]:
    """Staff handed back: the assistant answers again."""
    text = "担当者との会話を終わります。ここからは自動応答でお答えします。知りたいことを入力してください。"
    return [RESUME, bot_event(text, _custom("handoff", status="returned", handoff_id=handoff_id))]


def closed(handoff_id: int) -> list[dict]:
    """Staff closed the hand-off: thank the resident; the assistant answers new questions."""
    text = "担当者との会話を終わります。ご利用ありがとうございました。ほかに知りたいことがあれば、入力してください。"
    return [RESUME, bot_event(text, _custom("handoff", status="closed", handoff_id=handoff_id))]


def offer_ticket(handoff_id: int, was_paused: bool) -> list[dict]:
    """Nobody claimed the hand-off in time: offer to leave a message instead."""
    text = (
        "申し訳ありません。ただいま担当者が対応できません。\n"
        "ご質問を伝言として残していただければ、後ほど担当者からこのチャットでお返事します。"
    )
    event = bot_event(text, _custom("handoff", status="offer_ticket", handoff_id=handoff_id), buttons=LEAVE_MESSAGE_BUTTONS)
    return [RESUME, event] if was_paused else [event]


def ticket_answer(ticket_id: int, answer: str, staff_name: str) -> list[dict]:
    text = f"お預かりしたご質問（受付番号 {ticket_id}）に、担当者からお返事します。\n{answer}"
    return [bot_event(text, _custom("staff", staff_name=staff_name, ticket_id=ticket_id))]
