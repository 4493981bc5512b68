"""Resident-facing messages of the hand-off, following the reply contract."""

from __future__ import annotations

from bot.knowledge.decision import ReplyType
from bot.knowledge.model import Department, KnowledgeBase
from bot.knowledge.render import contact_text
from bot.replies import BotMessage, contract

LEAVE_MESSAGE = "/leave_message"
HANDOFF_CANCEL = "/handoff_cancel"
REQUEST_HUMAN = "/request_human"


def _dept_json(d: Department | None) -> dict | None:
    return None if d is None else {"id": d.id, "name": d.name, "phone": d.phone, "place": d.place}


def emergency_message(kb: KnowledgeBase, word: str) -> BotMessage:
    numbers = kb.city.emergency.strip() or "火事・救急は 119番、事件・事故は 110番 におかけください。"
    text = f"大切なことなので、先にお伝えします。\n{numbers}\n市役所の担当者と話したい場合は、下のボタンを押してください。"
    return BotMessage(
        text=text,
        custom=contract(ReplyType.HANDOFF, status="emergency", word=word),
        buttons=[{"title": "担当者と話したい", "payload": REQUEST_HUMAN}],
    )


def queued_message(kb: KnowledgeBase, department: Department | None, ahead: int, handoff_id: int) -> BotMessage:
    where = f"{department.name}の担当者" if department is not None else "市役所の担当者"
    wait = "すぐにおつなぎします。" if ahead == 0 else f"現在、あなたの前に{ahead}人お待ちです。"
    text = f"{where}におつなぎしています。{wait}このままお待ちください。\nやめる場合は「やめる」を押してください。"
    return BotMessage(
        text=text,
        custom=contract(ReplyType.HANDOFF, status="queued", queue_position=ahead, handoff_id=handoff_id,
                        department=_dept_json(department)),
        buttons=[{"title": "やめる", "payload": HANDOFF_CANCEL}],
    )


def closed_offer_message(kb: KnowledgeBase, department: Department | None, opens_at: str, reply_by: str) -> BotMessage:
    text = (
        f"ただいま受付時間外のため、担当者におつなぎできません（次の受付：{opens_at}）。\n"
        f"ご質問を伝言として残していただければ、{reply_by}までにこのチャットでお返事します。"
    )
    return BotMessage(
        text=text,
        custom=contract(ReplyType.HANDOFF, status="offer_ticket", department=_dept_json(department),
                        contact=contact_text(department, kb), next_opening=opens_at),
        buttons=[{"title": "伝言を残す", "payload": LEAVE_MESSAGE}, {"title": "やめる", "payload": HANDOFF_CANCEL}],
    )


def ticket_created_message(ticket_id: int, reply_by: str, department: Department | None, kb: KnowledgeBase) -> BotMessage:
    text = (
        f"伝言を受け付けました（受付番号 {ticket_id}）。{reply_by}までに、このチャットでお返事します。\n"
        f"お急ぎの場合は {contact_text(department, kb)} にお電話ください。"
    )
    return BotMessage(
        text=text,
        custom=contract(ReplyType.HANDOFF, status="ticket_created", ticket_id=ticket_id, expected_reply=reply_by,
                        department=_dept_json(department)),
        buttons=[{"title": "伝言を取り消す", "payload": f'/ticket_cancel{{"ticket_id": "{ticket_id}"}}'}],
    )


def cancelled_message(what: str) -> BotMessage:
    return BotMessage(
        text=f"{what}を取り消しました。引き続き、知りたいことを入力してください。",
        custom=contract(ReplyType.HANDOFF, status="cancelled"),
    )


def nothing_to_cancel_message() -> BotMessage:
    return BotMessage(
        text="取り消すものはありません。知りたいことを入力してください。",
        custom=contract(ReplyType.HANDOFF, status="none"),
    )
