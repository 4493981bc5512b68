"""The LINE channel: residents ask on the city's LINE official account.

``POST /webhooks/line/webhook`` receives LINE's webhook. The signature is checked on
the raw body before anything is parsed (401 without it, 403 when forged), the events
are handed to a background task, and LINE gets its 200 at once. Each event is then
answered with its reply token while that is still valid, else with the push API.
Staff replies through the delivery seam (docs/architecture.md) always push.

Conversation id in Rasa: ``"line:" + userId`` (:func:`sender_id_for`). Configure in
credentials.yml (docs/line.md)::

    bot.channels.line.LineInput:
      channel_secret: ${LINE_CHANNEL_SECRET}
      access_token: ${LINE_CHANNEL_ACCESS_TOKEN}
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, Iterable, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.common import InputRejected, prepare_text
from bot.channels.senders import is_line_user_id
from bot.line.client import LineApiError, LineClient
from bot.line.config import LineChannelConfig
from bot.line.events import EventType, RecentEventIds, WebhookEvent, WebhookRejected, parse_webhook_body
from bot.line.menus import (ERROR_TEXT, GROUP_TEXT, LOCATION_TEXT, NOT_TEXT_TEXT, fixed_reply, menu_messages, menu_name,
                            welcome_messages)
from bot.line.messages import LineMessage, batches, from_bot_messages, text_message
from bot.line.signature import verify

logger = logging.getLogger(__name__)

CHANNEL_NAME = "line"
SENDER_PREFIX = "line:"
MAX_BODY_BYTES = 1_000_000  # LINE's webhook bodies are a few KB

_dumps = functools.partial(json.dumps, ensure_ascii=False)
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def sender_id_for(user_id: str) -> str:
    """The Rasa conversation id of a LINE user: stable, and tells the channel apart."""
    return f"{SENDER_PREFIX}{user_id}"


def user_id_from_sender(sender_id: str) -> str | None:
    """The LINE userId of a conversation id made by :func:`sender_id_for`, else None."""
    if isinstance(sender_id, str) and sender_id.startswith(SENDER_PREFIX):
        user_id = sender_id[len(SENDER_PREFIX):]
        return user_id if is_line_user_id(user_id) else None
    return None


class _KeyedLocks:
    """One FIFO lock per key (a user), kept only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


class ChannelBusy(RuntimeError):
    """Too many events waiting; the webhook answers 503 so that LINE redelivers later."""


class LineCollector(CollectingOutputChannel):
    """Collects a turn's bot messages whole (text, buttons and ``custom`` together)."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL_NAME

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.messages.append(dict(message))


class LinePushOutput(OutputChannel):
    """Sends with the push API: the delivery seam's output channel for LINE residents."""

    def __init__(self, client: LineClient) -> None:
        self.client = client

    @classmethod
    def name(cls) -> Text:
        return CHANNEL_NAME

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        user_id = user_id_from_sender(recipient_id)
        if user_id is None:
            logger.warning("line: a message for a conversation that did not start on LINE was not sent")
            return
        for batch in batches(from_bot_messages([message])):
            # A failure propagates: Rasa then answers the API call with an error and does
            # not save the event, so the sender (staff console) knows it was not delivered.
            await self.client.push(user_id, batch)


class LineEventProcessor:
    """Handles webhook events in background tasks, in order per user, a few at a time."""

    def __init__(self, config: LineChannelConfig, client: LineClient, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.client = client
        self._clock = clock
        self._seen = RecentEventIds(config.dedupe_capacity)
        self._locks = _KeyedLocks()
        self._slots: asyncio.Semaphore | None = None
        self.tasks: set[asyncio.Task] = set()

    def submit(self, events: Iterable[WebhookEvent], on_new_message: OnNewMessage) -> tuple[int, int]:
        """Start a task per new event; returns (started, redelivered duplicates dropped)."""
        events = list(events)
        if len(self.tasks) + len(events) > self.config.max_pending_events:
            raise ChannelBusy(f"{len(self.tasks)} events are waiting")
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.config.max_concurrent_events)
        received = time.monotonic()
        started = duplicates = 0
        for event in events:
            if event.webhook_event_id and not self._seen.add(event.webhook_event_id):
                duplicates += 1
                continue
            task = asyncio.create_task(self._run(event, received, on_new_message))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            started += 1
        return started, duplicates

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the running events (on shutdown)."""
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)

    async def _run(self, event: WebhookEvent, received: float, on_new_message: OnNewMessage) -> None:
        s = event.source
        key = s.user_id or s.group_id or s.room_id or ""
        async with self._locks.hold(key):
            try:
                await self.handle(event, received, on_new_message)
            except LineApiError as exc:
                logger.error("line: could not answer event %s: %s", event.webhook_event_id, exc.message)
            except Exception as exc:  # one event must not stop the others
                logger.error("line: event %s failed: %s", event.webhook_event_id, type(exc).__name__)
                logger.debug("line: event failure", exc_info=True)

    async def handle(self, event: WebhookEvent, received: float, on_new_message: OnNewMessage) -> None:
        """Act on one event (see docs/line.md, "What the channel does with each event")."""
        if event.is_standby:
            return
        if not event.source.is_one_to_one:
            # Groups and rooms: nothing is answered or stored; on being invited, say so once.
            if event.type == EventType.JOIN.value:
                await self.deliver(event, received, [text_message(GROUP_TEXT)])
            return
        if event.source.user_id is None:
            return
        if event.type == EventType.FOLLOW.value:
            await self.deliver(event, received, welcome_messages())
        elif event.type == EventType.UNFOLLOW.value:
            logger.info("line: a user blocked the account (nothing to send)")
        elif event.type == EventType.MESSAGE.value:
            if event.message_type == "text":
                await self.ask(event, received, event.text, on_new_message)
            elif event.message_type == "location":
                await self.deliver(event, received, fixed_reply(LOCATION_TEXT))
            else:  # sticker, image, video, audio, file, and types LINE may add
                await self.deliver(event, received, fixed_reply(NOT_TEXT_TEXT))
        elif event.type == EventType.POSTBACK.value:
            name = menu_name(event.postback_data)
            if name is not None:
                await self.deliver(event, received, menu_messages(name))
            elif event.postback_data:
                await self.ask(event, received, event.postback_data, on_new_message)
        else:
            logger.debug("line: ignored a %r event", event.type)

    async def ask(self, event: WebhookEvent, received: float, raw_text: Any, on_new_message: OnNewMessage) -> None:
        """Put the resident's text through prepare_text() and the assistant; send the answer."""
        try:
            text = prepare_text(raw_text)
        except InputRejected as rejected:
            await self.deliver(event, received, [text_message(rejected.message)])
            return
        collector = LineCollector()
        assert event.source.user_id is not None
        message = UserMessage(text, collector, sender_id_for(event.source.user_id), input_channel=CHANNEL_NAME,
                              message_id=event.webhook_event_id)
        assert self._slots is not None
        try:
            async with self._slots:
                await on_new_message(message)
            messages = from_bot_messages(collector.messages)
        except Exception as exc:  # the resident gets a polite error, not silence
            logger.error("line: the assistant could not process event %s: %s", event.webhook_event_id, type(exc).__name__)
            logger.debug("line: processing failure", exc_info=True)
            messages = [text_message(ERROR_TEXT)]
        if messages:  # none while a conversation is paused for staff
            await self.deliver(event, received, messages)

    def reply_token_usable(self, event: WebhookEvent, received: float) -> bool:
        """Whether the event's reply token is still within its validity (by both clocks)."""
        if not event.reply_token:
            return False
        ttl = self.config.reply_token_ttl_seconds
        age_by_line = self._clock() - event.timestamp_ms / 1000 if event.timestamp_ms else 0.0
        return age_by_line < ttl and time.monotonic() - received < ttl

    async def deliver(self, event: WebhookEvent, received: float, messages: list[LineMessage]) -> None:
        """Reply with the token while it is valid (falling back to push), push the rest."""
        s = event.source
        to = s.user_id if s.is_one_to_one else (s.group_id or s.room_id)
        parts = batches(messages)
        if not parts or not to:
            return
        first, rest = parts[0], parts[1:]
        if self.reply_token_usable(event, received):
            try:
                await self.client.reply(event.reply_token or "", first)
            except LineApiError as exc:
                logger.warning("line: reply for event %s failed (%s); pushing instead", event.webhook_event_id, exc.message)
                await self.client.push(to, first)
        else:
            await self.client.push(to, first)
        for batch in rest:
            await self.client.push(to, batch)


def _json(body: Any, status: int = 200) -> HTTPResponse:
    return response.json(body, status=status, dumps=_dumps)


class LineInput(InputChannel):
    """The Rasa input channel for LINE (credentials.yml key ``bot.channels.line.LineInput``)."""

    @classmethod
    def name(cls) -> Text:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: dict | None) -> "LineInput":
        return cls(LineChannelConfig.from_credentials(credentials))

    def __init__(self, config: LineChannelConfig, client: LineClient | None = None) -> None:
        self.config = config
        self.client = client or LineClient(config.api)
        self.processor = LineEventProcessor(config, self.client)

    def get_output_channel(self) -> OutputChannel:
        return LinePushOutput(self.client)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint("madoguchi_line_webhook", __name__)

        @bp.listener("before_server_start")
        async def open_client(*_: Any) -> None:
            await self.client.open()

        @bp.listener("after_server_stop")
        async def close_client(*_: Any) -> None:
            await self.processor.drain(timeout=5.0)
            await self.client.close()

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return _json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES:
                return _json({"error": "payload_too_large", "message": "本文が大きすぎます。"}, status=413)
            signature = request.headers.get("x-line-signature")
            if not signature:
                return _json({"error": "missing_signature", "message": "X-Line-Signature ヘッダーがありません。"}, status=401)
            if not verify(self.config.channel_secret, body, signature):
                logger.warning("line: a webhook request with a wrong signature was refused")
                return _json({"error": "invalid_signature", "message": "署名が正しくありません。"}, status=403)
            try:
                events, skipped = parse_webhook_body(body)
                started, duplicates = self.processor.submit(events, on_new_message)
            except WebhookRejected as rejected:
                return _json(rejected.as_json(), status=rejected.status)
            except ChannelBusy:
                logger.warning("line: too many events waiting; answered 503 so that LINE redelivers")
                return _json({"error": "busy", "message": "混み合っています。"}, status=503)
            return _json({"status": "ok", "started": started, "duplicates": duplicates, "skipped": skipped})

        return bp
