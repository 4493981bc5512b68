"""The inbox as JSON: open hand-offs and tickets with Japanese labels (pure functions)."""

from __future__ import annotations

from bot.handoff.notify import REASON_LABELS
from bot.handoff.store import Handoff, HandoffStore, Ticket
from bot.i18n.languages import LANGUAGES, UNKNOWN_STAFF_LABEL, html_lang, is_japanese, staff_label

STATUS_LABELS = {
    "waiting": "対応待ち",
    "claimed": "対応中",
    "returned": "自動応答に戻した",
    "closed": "終了",
    "cancelled": "取り消し",
    "expired": "時間切れ（伝言を案内）",
    "open": "未回答",
    "answered": "回答済み",
}
CONTACT_LABELS = {
    "chat": "チャットで回答",
    "phone_dept": "住民が担当課に電話",
}
CHANNEL_LABELS = {"rest": "REST", "web": "ウェブ", "line": "LINE", "shell": "端末"}
UNASSIGNED = "担当課未定"


def language_fields(code: str | None) -> dict:
    """The resident's language for staff: ``language_label`` (「ベトナム語」, or 「不明」 for rows
    from before it was recorded), ``foreign`` (not Japanese: staff may need an interpreter) and
    ``question_lang`` (the HTML lang of the resident's own text)."""
    return {"language_label": staff_label(code), "foreign": code is not None and not is_japanese(code),
            "question_lang": html_lang(code)}


def language_options() -> list[dict]:
    """Every language, for the inbox's language filter (the not-recorded one last)."""
    return [{"id": code, "name": lang.staff_label} for code, lang in LANGUAGES.items()] + [
        {"id": "-", "name": UNKNOWN_STAFF_LABEL}]


def handoff_view(h: Handoff, departments: dict[str, str], staff_names: dict[str, str] | None = None) -> dict:
    return {
        **h.as_dict(),
        "claimed_by_name": (staff_names or {}).get(h.claimed_by or "", h.claimed_by),
        "department_name": departments.get(h.department or "", h.department or UNASSIGNED),
        "reason_label": REASON_LABELS.get(h.reason, h.reason),
        "status_label": STATUS_LABELS.get(h.status, h.status),
        "channel_label": CHANNEL_LABELS.get(h.channel, h.channel),
        **language_fields(h.language),
        "urgent": h.reason == "urgent",
    }


def ticket_view(t: Ticket, departments: dict[str, str]) -> dict:
    return {
        **t.as_dict(),
        "department_name": departments.get(t.department or "", t.department or UNASSIGNED),
        "status_label": STATUS_LABELS.get(t.status, t.status),
        "contact_label": CONTACT_LABELS.get(t.contact_method, t.contact_method),
        "channel_label": CHANNEL_LABELS.get(t.channel, t.channel),
        **language_fields(t.language),
    }


def inbox_payload(store: HandoffStore, departments: dict[str, str], staff_names: dict[str, str] | None = None) -> dict:
    """Everything the inbox page shows, oldest (longest waiting) first.

    Args:
        staff_names: user name → display name, for who claimed what.
    """
    return {
        "handoffs": [handoff_view(h, departments, staff_names) for h in store.list_open()],
        "tickets": [ticket_view(t, departments) for t in store.open_tickets()],
        "departments": [{"id": k, "name": v} for k, v in departments.items()],
        "languages": language_options(),
    }
