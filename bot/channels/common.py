"""What every input channel does to a resident's text before Rasa sees it."""

from __future__ import annotations

import json
import re
import unicodedata

from bot.nlp.japanese import clean_text
from bot.privacy.masking import mask_personal_data

MAX_MESSAGE_CHARS = 2000
# A message is at most 2,000 characters; a webhook body much larger is not a chat message
# (and parsing megabytes of JSON would hold up the Rasa process for everyone).
MAX_BODY_BYTES = 32 * 1024
MAX_SENDER_CHARS = 128

# Unicode's format characters (category Cf, Unicode 13 as in Python 3.10): zero-width
# space, non-joiner and joiner (U+200B–U+200D), word joiner (U+2060), BOM (U+FEFF), soft
# hyphen, bidi marks and the like. tests/channels/test_prepare_text.py checks this list
# against unicodedata.
_FORMAT_CHARS = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


# What a resident reads when the assistant failed to process their message (never a 500).
PROCESSING_FAILED_TEXT = "申し訳ありません。ただいま応答できません。しばらくしてからもう一度お試しください。"


# JSON escapes such as "\ud800" decode to half of a UTF-16 pair, which is no character:
# it cannot be stored or sent on, so such a request is refused with this message.
_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_MESSAGE = (
    "{field} に文字として読めない値（対になっていないサロゲート \\ud800〜\\udfff）が含まれています。"
    "正しい UTF-8 の文字で送ってください。"
)
NESTING_MESSAGE = 'JSON の入れ子が深すぎます。{"sender": "...", "message": "..."} の形で送ってください。'


def processing_failed_reply(sender: str) -> list[dict]:
    """The REST-style reply list for a message the assistant could not process."""
    return [{"recipient_id": sender, "text": PROCESSING_FAILED_TEXT, "custom": {"type": "error"}}]


class InputRejected(ValueError):
    """A message that cannot be processed; ``code`` and ``message`` go back to the sender."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def as_json(self) -> dict:
        return {"error": self.code, "message": self.message}


def remove_format_chars(text: str) -> str:
    """Remove invisible format characters (Unicode category Cf).

    These are zero-width spaces and joiners (U+200B–U+200D), the word joiner (U+2060),
    the BOM (U+FEFF), the soft hyphen and bidi marks. They mean nothing in a chat
    message, but between digits they would hide a phone number from masking (090, a
    zero-width space, 1234, …), and a message of only these must count as empty.
    """
    return _FORMAT_CHARS.sub("", text)


def prepare_text(text: object, max_chars: int = MAX_MESSAGE_CHARS) -> str:
    """Validate, clean and mask a resident's message.

    Control characters become spaces; invisible format characters are removed
    (:func:`remove_format_chars`); Unicode is NFC-normalised (the NLU normalises
    further); personal data (phone numbers, マイナンバー, e-mail, addresses, dates of
    birth, card numbers) is replaced by placeholders such as ［電話番号］, so nothing
    after this point (Rasa, the tracker store, the review log, logs) sees it.
    Raises :class:`InputRejected` for non-text, empty or over-long input.
    """
    if not isinstance(text, str):
        raise InputRejected("invalid_message", "message は文字列で送ってください。")
    if _SURROGATE.search(text):
        raise InputRejected("invalid_message", SURROGATE_MESSAGE.format(field="message"))
    cleaned = unicodedata.normalize("NFC", remove_format_chars(clean_text(text))).strip()
    if not cleaned:
        raise InputRejected("empty_message", "メッセージが空です。質問を入力してください。")
    if len(cleaned) > max_chars:
        raise InputRejected(
            "message_too_long",
            f"メッセージが長すぎます（{len(cleaned)}文字）。{max_chars}文字以内で、短く質問してください。",
            status=413,
        )
    return mask_personal_data(cleaned)


def prepare_sender(sender: object) -> str:
    """Validate the conversation id sent by a client."""
    if not isinstance(sender, str) or not sender.strip():
        raise InputRejected("missing_sender", "sender（会話ID）を文字列で指定してください。")
    sender = sender.strip()
    if _SURROGATE.search(sender):
        raise InputRejected("invalid_sender", SURROGATE_MESSAGE.format(field="sender"))
    if len(sender) > MAX_SENDER_CHARS or any(unicodedata.category(c).startswith("C") for c in sender):
        raise InputRejected("invalid_sender", f"sender は制御文字を含まない{MAX_SENDER_CHARS}文字以内の文字列にしてください。")
    return sender


def body_too_large() -> InputRejected:
    """The 413 for a webhook body over :data:`MAX_BODY_BYTES`."""
    return InputRejected("message_too_long", f"メッセージが長すぎます。{MAX_MESSAGE_CHARS}文字以内で、短く質問してください。",
                         status=413)


def parse_json_object(raw: bytes | None) -> dict:
    """A webhook body as a JSON object; :class:`InputRejected` ("invalid_json") otherwise."""
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        raise InputRejected(
            "invalid_json", 'JSON として読めません。{"sender": "...", "message": "..."} の形で送ってください。'
        ) from None
    except RecursionError:  # [[[[…]]]] a thousand levels deep: the parser gives up
        raise InputRejected("invalid_json", NESTING_MESSAGE) from None
    if not isinstance(body, dict):
        raise InputRejected("invalid_json", "JSON オブジェクトを送ってください。")
    return body
