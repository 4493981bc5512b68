"""Turn Rasa tracker events into the items the console shows (pure functions).

Staff see the resident's messages with what the assistant understood (the FAQ decision
and its candidates from ``parse_data.madoguchi``), the assistant's answers with the
candidates it considered (``custom.candidates``), staff replies, and when the assistant
was paused or resumed. Each item keeps the index of its event in the tracker, so that a
browser can add new items without duplicates.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from bot.contract import PARSE_KEY

MAX_CANDIDATES = 5

SYSTEM_TEXTS = {
    "pause": "自動応答を止めました（職員が対応中）",
    "resume": "自動応答を再開しました",
    "session_started": "会話が始まりました",
    "restart": "会話がリセットされました",
}


def _time(event: dict) -> str | None:
    ts = event.get("timestamp")
    if not isinstance(ts, (int, float)):
        return None
    try:
        return dt.datetime.fromtimestamp(ts, dt.timezone.utc).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return None


def _candidates(raw: Any) -> list[dict]:
    out = []
    for c in raw if isinstance(raw, list) else []:
        if not isinstance(c, dict):
            continue
        score = c.get("score")
        out.append({
            "faq_id": str(c.get("faq_id") or ""),
            "question": str(c.get("question") or ""),
            "score": round(float(score), 3) if isinstance(score, (int, float)) else None,
        })
        if len(out) >= MAX_CANDIDATES:
            break
    return out


def _number(value: Any) -> float | None:
    return round(float(value), 3) if isinstance(value, (int, float)) else None


def _user_item(index: int, event: dict, button_titles: dict[str, str]) -> dict:
    text = str(event.get("text") or "")
    parse = event.get("parse_data") if isinstance(event.get("parse_data"), dict) else {}
    intent = parse.get("intent") if isinstance(parse.get("intent"), dict) else {}
    decision = parse.get(PARSE_KEY) if isinstance(parse.get(PARSE_KEY), dict) else {}
    item = {
        "index": index,
        "kind": "user",
        "time": _time(event),
        "text": text,
        "button": button_titles.get(text) if text.startswith("/") else None,
        "intent": intent.get("name"),
        "decision": None,
    }
    if decision:
        item["decision"] = {
            "type": decision.get("type"),
            "faq_id": decision.get("faq_id"),
            "confidence": _number(decision.get("confidence")),
            "category": decision.get("category"),
            "reason": decision.get("reason") or "",
            "candidates": _candidates(decision.get("candidates")),
        }
    return item


def _bot_item(index: int, event: dict) -> dict:
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    custom = data.get("custom") if isinstance(data.get("custom"), dict) else {}
    buttons = [b for b in (data.get("buttons") or []) if isinstance(b, dict)]
    kind = "staff" if custom.get("type") == "staff" else "bot"
    return {
        "index": index,
        "kind": kind,
        "time": _time(event),
        "text": str(event.get("text") or ""),
        "type": custom.get("type"),
        "status": custom.get("status"),
        "staff_name": custom.get("staff_name"),
        "faq_id": custom.get("faq_id"),
        "confidence": _number(custom.get("confidence")),
        "candidates": _candidates(custom.get("candidates")),
        "buttons": [str(b.get("title") or "") for b in buttons],
    }


def transcript_items(events: Iterable[dict], start: int = 0) -> list[dict]:
    """Display items for the events from index ``start`` on.

    Args:
        events: the tracker's events (``GET /conversations/{id}/tracker``), in order.
        start: index of the first event to return items for (earlier events are still
            read, to name the buttons a resident pressed).
    """
    items: list[dict] = []
    button_titles: dict[str, str] = {}
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            continue
        kind = event.get("event")
        item = None
        if kind == "user":
            item = _user_item(index, event, button_titles)
        elif kind == "bot":
            item = _bot_item(index, event)
            data = event.get("data") if isinstance(event.get("data"), dict) else {}
            for b in data.get("buttons") or []:
                if isinstance(b, dict) and b.get("payload"):
                    button_titles[str(b["payload"])] = str(b.get("title") or "")
        elif kind in SYSTEM_TEXTS:
            item = {"index": index, "kind": "system", "time": _time(event), "text": SYSTEM_TEXTS[kind], "event": kind}
        if item is not None and index >= start:
            items.append(item)
    return items


def tracker_events(tracker: Any) -> list[dict]:
    """The event list of a tracker answer (empty when it has none)."""
    events = tracker.get("events") if isinstance(tracker, dict) else None
    return events if isinstance(events, list) else []
