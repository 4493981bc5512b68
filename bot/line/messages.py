"""Turn reply-contract messages (bot/replies.py) into LINE message objects, within LINE's limits.

* clarify candidates and every other button → quick-reply buttons (postback with the payload);
* an answer with a web page → a Flex bubble with a link button (a text message plus a
  buttons template when the answer is too long for a bubble);
* long texts → several text messages of at most 5,000 characters, sent in calls of at
  most 5 messages (:func:`batches`).

Pure functions: no I/O, no Rasa. Lengths are counted in UTF-16 code units, which is never
less than what LINE counts, so an emoji can never push a message over a limit.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterable, Sequence

from bot.i18n.catalogue import text as t
from bot.i18n.languages import JA

LineMessage = dict[str, Any]

MAX_MESSAGES_PER_CALL = 5  # reply and push accept 1–5 messages
MAX_TEXT_CHARS = 5000  # one text message
MAX_QUICK_REPLY_ITEMS = 13
MAX_ACTION_LABEL = 20  # quick-reply and button labels
MAX_POSTBACK_DATA = 300
MAX_DISPLAY_TEXT = 300
MAX_ALT_TEXT = 400  # template and Flex messages
MAX_BUTTONS_TEXT = 160  # buttons template without title or image
MAX_URI = 1000
MAX_SENDER_NAME = 20
MAX_FLEX_ANSWER_CHARS = 2000  # longer answers go as text (a bubble is limited to 30 KB of JSON)
MAX_FLEX_BYTES = 25_000  # margin below LINE's 30 KB bubble limit

# LINE's own words, in the conversation's language (custom.language), from the catalogue.
def feedback_buttons(language: str = JA) -> tuple[dict, dict]:
    return ({"title": t(language, "line.feedback_yes"), "payload": "/feedback_positive"},
            {"title": t(language, "line.feedback_no"), "payload": "/feedback_negative"})



_BREAKS = ("\n\n", "\n", "。", "！", "？", "、", " ", "　")
_URI = re.compile(r"^https?://[^\s\x00-\x1f\x7f]+$")


def line_length(text: str) -> int:
    """Length in UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """How many leading characters of ``text`` fit in ``limit`` UTF-16 units."""
    used = 0
    for i, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return i
    return len(text)


def truncate(text: str, limit: int) -> str:
    """``text`` shortened to ``limit`` units, ending with "…" when something was cut."""
    if line_length(text) <= limit:
        return text
    return text[: _fit(text, limit - 1)] + "…"


def split_text(text: str, limit: int = MAX_TEXT_CHARS) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` units; ``"".join(pieces) == text``.

    Cuts after a paragraph, a line, a sentence (。！？), a comma or a space when one
    falls in the second half of the window; otherwise exactly at the limit.
    """
    if limit < 2:
        raise ValueError(f"limit must be at least 2; got {limit}")
    pieces: list[str] = []
    rest = text
    while line_length(rest) > limit:
        window = _fit(rest, limit)
        cut = 0
        for mark in _BREAKS:
            at = rest.rfind(mark, 0, window - len(mark) + 1)
            if at >= 0 and at + len(mark) > window // 2:
                cut = at + len(mark)
                break
        cut = cut or window
        pieces.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        pieces.append(rest)
    return pieces


def safe_uri(url: Any) -> str | None:
    """``url`` when LINE accepts it in a URI action (http/https, ≤ 1,000 chars), else None."""
    if isinstance(url, str) and _URI.match(url) and len(url) <= MAX_URI:
        return url
    return None


def postback_action(label: str, data: str, display_text: str | None = None) -> dict:
    action = {"type": "postback", "label": truncate(label, MAX_ACTION_LABEL), "data": data}
    if display_text:
        action["displayText"] = truncate(display_text, MAX_DISPLAY_TEXT)
    return action


def message_action(label: str, text: str) -> dict:
    return {"type": "message", "label": truncate(label, MAX_ACTION_LABEL), "text": truncate(text, MAX_DISPLAY_TEXT)}


def quick_reply(actions: Sequence[dict]) -> dict:
    """The ``quickReply`` property for up to 13 actions (the rest are dropped)."""
    return {"items": [{"type": "action", "action": a} for a in list(actions)[:MAX_QUICK_REPLY_ITEMS]]}


def button_actions(buttons: Iterable[dict], numbered: bool = False) -> list[dict]:
    """Postback actions for reply-contract buttons ``{"title", "payload"}``.

    Buttons whose payload is empty or longer than LINE allows are left out. With
    ``numbered``, labels start with "1. ", "2. "… except the last "どれでもない"-style button
    when it is not a candidate (see :func:`_clarify_text`).
    """
    actions = []
    for i, b in enumerate(buttons, start=1):
        title, payload = str(b.get("title") or "").strip(), b.get("payload")
        if not title or not isinstance(payload, str) or not payload or len(payload) > MAX_POSTBACK_DATA:
            continue
        label = f"{i}. {title}" if numbered else title
        actions.append(postback_action(label, payload, title))
    return actions


def text_message(text: str) -> LineMessage:
    return {"type": "text", "text": text}


def text_messages(text: str) -> list[LineMessage]:
    return [text_message(t) for t in split_text(text)]


def link_template(url: str, text: str | None = None, language: str = JA) -> LineMessage:
    """A buttons template with one link button."""
    text = text or t(language, "line.link_text")
    return {
        "type": "template",
        "altText": truncate(f"{text} {url}", MAX_ALT_TEXT),
        "template": {
            "type": "buttons",
            "text": truncate(text, MAX_BUTTONS_TEXT),
            "actions": [{"type": "uri", "label": truncate(t(language, "line.link_button"), MAX_ACTION_LABEL), "uri": url}],
        },
    }


def _without_link_line(text: str, url: str) -> str:
    """The answer text without its trailing "詳しくは: <url>" line (the button replaces it)."""
    return "\n".join(line for line in text.splitlines() if url not in line).strip() or text


def flex_answer(question: str | None, text: str, url: str, language: str = JA) -> LineMessage | None:
    """A Flex bubble: the question, the answer, and a link button. None when too big."""
    body_text = _without_link_line(text, url)
    if line_length(body_text) > MAX_FLEX_ANSWER_CHARS:
        return None
    contents: list[dict] = []
    if question:
        contents.append({"type": "text", "text": question, "weight": "bold", "wrap": True})
    contents.append({"type": "text", "text": body_text, "wrap": True, "size": "sm"})
    message = {
        "type": "flex",
        "altText": truncate(body_text, MAX_ALT_TEXT),
        "contents": {
            "type": "bubble",
            "body": {"type": "box", "layout": "vertical", "spacing": "md", "contents": contents},
            "footer": {
                "type": "box",
                "layout": "vertical",
                "contents": [{"type": "button", "style": "link", "action": {"type": "uri", "label": truncate(t(language, "line.link_button"), MAX_ACTION_LABEL), "uri": url}}],
            },
        },
    }
    if len(json.dumps(message["contents"], ensure_ascii=False).encode("utf-8")) > MAX_FLEX_BYTES:
        return None
    return message


def _clarify_text(text: str, buttons: Sequence[dict], candidates: Sequence[dict]) -> str:
    """The clarify question with the candidates listed in full (labels are cut at 20)."""
    lines = [text]
    for i, b in enumerate(buttons[: len(candidates)], start=1):
        lines.append(f"{i}. {b.get('title', '')}")
    return "\n".join(lines)


def _answer_messages(text: str, custom: dict, language: str = JA) -> list[LineMessage]:
    url = safe_uri(custom.get("url"))
    if url is None:
        return text_messages(text)
    flex = flex_answer(custom.get("shown_question") or custom.get("question"), text, url, language)
    if flex is not None:
        return [flex]
    return [*text_messages(text), link_template(url, language=language)]


def from_bot_message(message: dict) -> tuple[list[LineMessage], list[dict]]:
    """One reply-contract message → LINE messages, and the quick-reply actions it offers.

    Args:
        message: ``{"text", "buttons"?, "custom"?}`` as Rasa hands it to an output channel.

    Returns:
        The messages (possibly none) and the postback actions for its buttons.
    """
    text = str(message.get("text") or "").strip()
    buttons = [b for b in (message.get("buttons") or message.get("quick_replies") or []) if isinstance(b, dict)]
    custom = message.get("custom") if isinstance(message.get("custom"), dict) else {}
    kind = custom.get("type")
    language = custom.get("language") if isinstance(custom.get("language"), str) else JA
    if not text and not buttons:
        return [], []
    if kind == "clarify":
        candidates = custom.get("candidates") if isinstance(custom.get("candidates"), list) else []
        numbered = button_actions(buttons[: len(candidates)], numbered=True)
        return text_messages(_clarify_text(text, buttons, candidates)), numbered + button_actions(buttons[len(candidates):])
    if kind == "answer":
        # an untranslated answer offers a person (its button), and every answer asks for feedback
        actions = button_actions([*buttons, *feedback_buttons(language)])
        return _answer_messages(text or t(language, "line.choose_prompt"), custom, language), actions
    messages = text_messages(text or t(language, "line.choose_prompt"))
    if kind == "staff" and isinstance(custom.get("staff_name"), str) and custom["staff_name"].strip():
        sender = {"name": truncate(f"{custom['staff_name'].strip()}（職員）", MAX_SENDER_NAME)}
        messages = [{**m, "sender": sender} for m in messages]
    return messages, button_actions(buttons)


def from_bot_messages(bot_messages: Iterable[dict]) -> list[LineMessage]:
    """All bot messages of one turn → LINE messages.

    Quick replies are shown only on the last message LINE receives, so the buttons of
    every message of the turn go on the last one (at most 13).
    """
    messages: list[LineMessage] = []
    actions: list[dict] = []
    for bot_message in bot_messages:
        converted, offered = from_bot_message(bot_message)
        messages.extend(converted)
        actions.extend(offered)
    if messages and actions:
        messages[-1] = {**messages[-1], "quickReply": quick_reply(actions)}
    return messages


def with_quick_reply(messages: list[LineMessage], actions: Sequence[dict]) -> list[LineMessage]:
    """``messages`` with ``actions`` as the quick reply of the last one."""
    if not messages or not actions:
        return messages
    return [*messages[:-1], {**messages[-1], "quickReply": quick_reply(actions)}]


def batches(messages: Sequence[LineMessage], size: int = MAX_MESSAGES_PER_CALL) -> list[list[LineMessage]]:
    """``messages`` in groups of at most ``size`` (one API call each), order kept."""
    return [list(messages[i : i + size]) for i in range(0, len(messages), size)]
