"""The conversation ids (Rasa sender ids) each channel accepts (pure, no I/O).

A sender id becomes a path segment of Rasa's HTTP API (``/conversations/<id>/…``) and a
column of the tracker store and the review log, so it is checked at the edge:

* **web**: ``web-`` and 32 lowercase hex digits (made by the widget; 128 random bits).
* **REST**: 1–128 ASCII letters, digits, ``-`` and ``_``, starting with a letter or a
  digit. No ``/``, ``.``, ``:``, ``@`` or spaces: nothing that reads as a path
  (``a/../b``), as another channel's id (``line:U…``) or as an e-mail address.
  A REST id must not *look like* personal data either: one that carries a phone number
  or a マイナンバー (``090-1234-5678``, ``tel_09012345678``) is refused, so it is never stored.
* **LINE**: ``line:`` and the user id LINE sends, ``U`` and 32 lowercase hex digits.
"""

from __future__ import annotations

import re

from bot.channels.common import InputRejected, prepare_sender

WEB_SENDER_RE = re.compile(r"^web-[0-9a-f]{32}\Z")
REST_SENDER_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}\Z")
LINE_USER_ID_RE = re.compile(r"^U[0-9a-f]{32}\Z")

# A run of digits, possibly split by - or _, not glued to hex letters (so that a random
# hex id such as uuid4().hex, whose digits touch letters, is not mistaken for a number).
_DIGIT_RUN = re.compile(r"(?<![0-9A-Fa-f])[0-9](?:[-_]?[0-9])*(?![0-9A-Fa-f])")


# "taro.yamada at example dot jp" and the like: an e-mail spelled out in a sender id.
_EMAILISH = re.compile(r"(?i)[a-z0-9]\s*(?:@|\bat\b)\s*[a-z0-9-]+\s*(?:\.|\bdot\b)\s*[a-z]{2,}")


def looks_like_personal_data(sender: str) -> bool:
    """True when a REST sender id carries a phone number or a マイナンバー.

    Phone numbers: 10–11 digits starting with 0, or 81 and 10 digits (+81 without the
    plus); マイナンバー: 12 digits. Separators ``-`` and ``_`` between digits are ignored.
    """
    for m in _DIGIT_RUN.finditer(sender):
        digits = m.group().replace("-", "").replace("_", "")
        n = len(digits)
        if (n in (10, 11) and digits[0] == "0") or n == 12:
            return True
    return False


def rest_sender(value: object) -> str:
    """Validate a REST conversation id; :class:`InputRejected` (``invalid_sender``) otherwise."""
    sender = prepare_sender(value)
    if "@" in sender or "＠" in sender or _EMAILISH.search(sender):
        raise InputRejected(
            "invalid_sender",
            "sender にメールアドレスなどの個人情報を使わないでください。"
            "英数字・-・_ からなる、個人を特定できない会話IDにしてください。",
        )
    if not REST_SENDER_RE.match(sender):
        raise InputRejected(
            "invalid_sender",
            "sender は英数字・-（ハイフン）・_（下線）だけの128文字以内にしてください（例: resident-1）。",
        )
    if looks_like_personal_data(sender):
        raise InputRejected(
            "invalid_sender",
            "sender に電話番号やマイナンバーなどの個人情報を使わないでください。"
            "個人を特定できない会話ID（例: resident-1）にしてください。",
        )
    return sender


def web_sender(value: object) -> str:
    """Validate a widget conversation id (``web-`` + 32 lowercase hex digits)."""
    sender = prepare_sender(value)
    if not WEB_SENDER_RE.match(sender):
        raise InputRejected(
            "invalid_sender",
            "sender はウィジェットが作る会話ID（web- と16進数32文字）にしてください。",
        )
    return sender


def is_line_user_id(value: object) -> bool:
    """True for a LINE user id as LINE sends it (``U`` + 32 lowercase hex digits)."""
    return isinstance(value, str) and bool(LINE_USER_ID_RE.match(value))
