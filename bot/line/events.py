"""Webhook request bodies from LINE, parsed into small typed events (pure, no I/O).

Only what the assistant needs is kept: a location message keeps its type and nothing
else (no address, no coordinates), an image keeps no content id. Unknown event and
message types are kept with their type so the channel can ignore them explicitly;
LINE adds new types over time and must never get an error for them.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.channels.common import InputRejected
from bot.channels.senders import is_line_user_id

# User ids are "U" followed by 32 hex digits (bot.channels.senders); groups "C…", rooms
# "R…": for those accept a little more (other lengths) but never control characters or
# separators.
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# LINE sends these reply tokens when the console's "Verify" button tests the webhook.
_DUMMY_REPLY_TOKENS = {"00000000000000000000000000000000", "ffffffffffffffffffffffffffffffff"}


class EventType(str, Enum):
    """Webhook event types the channel acts on (others are ignored)."""

    MESSAGE = "message"
    POSTBACK = "postback"
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    JOIN = "join"
    LEAVE = "leave"


class SourceType(str, Enum):
    USER = "user"
    GROUP = "group"
    ROOM = "room"


class WebhookRejected(InputRejected):
    """A webhook body that is not shaped like LINE's; ``status`` and ``as_json`` go back."""


@dataclass(frozen=True)
class Source:
    """Who the event came from. ``user_id`` can be missing in groups and rooms."""

    type: str
    user_id: str | None = None
    group_id: str | None = None
    room_id: str | None = None

    @property
    def is_one_to_one(self) -> bool:
        return self.type == SourceType.USER.value


@dataclass(frozen=True)
class WebhookEvent:
    """One event of a webhook request, reduced to what the assistant uses."""

    type: str
    source: Source
    timestamp_ms: int
    webhook_event_id: str | None = None
    reply_token: str | None = None
    mode: str = "active"
    is_redelivery: bool = False
    message_type: str | None = None  # text, image, sticker, location, … (message events)
    text: str | None = None  # text messages only, unprocessed
    postback_data: str | None = None  # postback events only

    @property
    def is_standby(self) -> bool:
        """In standby another module channel answers; the assistant must stay silent."""
        return self.mode == "standby"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _id(value: Any) -> str | None:
    value = _str(value)
    return value if value is not None and _ID.match(value) else None


def parse_event(raw: Any) -> WebhookEvent | None:
    """One event object, or None when it lacks what every LINE event has (type, source).

    Args:
        raw: One element of the body's ``events`` list.

    Returns:
        The parsed event, or None for an element that is not an event at all.
    """
    if not isinstance(raw, dict) or not _str(raw.get("type")):
        return None
    src = raw.get("source")
    if not isinstance(src, dict) or not _str(src.get("type")):
        return None
    # A user id becomes the conversation id line:<userId>: only LINE's own form is taken.
    user_id = src.get("userId") if is_line_user_id(src.get("userId")) else None
    source = Source(type=src["type"], user_id=user_id, group_id=_id(src.get("groupId")), room_id=_id(src.get("roomId")))
    timestamp = raw.get("timestamp")
    reply_token = _str(raw.get("replyToken"))
    if reply_token in _DUMMY_REPLY_TOKENS:
        reply_token = None
    context = raw.get("deliveryContext") if isinstance(raw.get("deliveryContext"), dict) else {}
    message = raw.get("message") if isinstance(raw.get("message"), dict) else {}
    postback = raw.get("postback") if isinstance(raw.get("postback"), dict) else {}
    message_type = _str(message.get("type")) if raw["type"] == EventType.MESSAGE.value else None
    text = message.get("text") if message_type == "text" and isinstance(message.get("text"), str) else None
    return WebhookEvent(
        type=raw["type"],
        source=source,
        timestamp_ms=int(timestamp) if isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool) else 0,
        webhook_event_id=_str(raw.get("webhookEventId")),
        reply_token=reply_token,
        mode=_str(raw.get("mode")) or "active",
        is_redelivery=context.get("isRedelivery") is True,
        message_type=message_type,
        text=text,
        postback_data=postback.get("data") if isinstance(postback.get("data"), str) else None,
    )


def parse_webhook_body(body: bytes) -> tuple[list[WebhookEvent], int]:
    """Parse a (signature-checked) webhook body.

    Args:
        body: The raw request body.

    Returns:
        The events, and how many elements of ``events`` were not events and were skipped.

    Raises:
        WebhookRejected: The body is not JSON, or not ``{"events": [...]}``.
    """
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected("invalid_json", "本文が JSON として読めません。LINE の Webhook の形式で送ってください。") from None
    except RecursionError:  # nested a thousand levels deep
        raise WebhookRejected("invalid_json", "本文の JSON の入れ子が深すぎます。LINE の Webhook の形式で送ってください。") from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise WebhookRejected("invalid_body", '本文は {"destination": "...", "events": [...]} の形にしてください。')
    events, skipped = [], 0
    for raw in data["events"]:
        event = parse_event(raw)
        if event is None:
            skipped += 1
        else:
            events.append(event)
    return events, skipped


class RecentEventIds:
    """Remembers the last ``capacity`` webhook event ids, to drop redelivered events.

    Bounded memory: the oldest ids are forgotten first. Per process (see docs/line.md
    for running several Rasa processes).
    """

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1; got {capacity}")
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, event_id: str) -> bool:
        return event_id in self._ids

    def add(self, event_id: str) -> bool:
        """Record ``event_id``; returns False when it was already known (a redelivery)."""
        if event_id in self._ids:
            self._ids.move_to_end(event_id)
            return False
        self._ids[event_id] = None
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)
        return True
