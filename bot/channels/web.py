"""The web chat widget channel (``/webhooks/web/``): the widget on a city's website.

Routes of the Sanic blueprint (Rasa mounts it at ``/webhooks/web/``):

* ``POST webhook``: ``{"sender": "web-<32 hex>", "message": "..."}`` in, the bot's
  messages out, with exactly the REST channel's reply contract and 4xx errors.
* ``GET events?sender=…``: Server-Sent Events. Messages that reach the resident later
  (staff replies, hand-off notices) are pushed here. They come through Rasa's HTTP API
  with ``output_channel=latest`` (docs/architecture.md, "Delivery seam"), which calls
  :meth:`WebInput.get_output_channel`. Every event has an id; a browser that reconnects
  (``Last-Event-ID``, or ``last_event_id=`` after a page change) gets what it missed.
* ``GET widget.js``, ``widget.css``, ``demo``, ``demo/gomi``: the widget and the demo
  pages of the fictional サンプル市, served from ``web/``.
* ``GET texts?lang=vi``: the widget's own texts in a language, from the catalogue
  (bot/i18n/messages/), and the languages for its menu.

Japanese text in the replies (``custom.body`` of an answer, else ``text``) gets its
furigana as ``custom.ruby``: ``[[text, reading], …]`` (bot/i18n/furigana.py), which the
widget shows as ``<ruby>`` when the resident turns furigana on.

Pushes are held in the memory of the Rasa process. With several Rasa processes
(``MADOGUCHI_REDIS_URL``), every push is also published through Redis and delivered by
every other process to its own streams (bot/channels/fanout.py), so no sticky sessions
are needed.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Awaitable, Callable, Deque, Dict, List, Optional, Set, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.fanout import RedisFanout
from bot.channels.common import (MAX_BODY_BYTES, InputRejected, body_too_large, parse_json_object, prepare_text,
                                 processing_failed_reply)
from bot.channels.rest import ContractOutputChannel
from bot.i18n.languages import JA, LANGUAGES, html_lang, is_supported
from bot.channels.senders import WEB_SENDER_RE, web_sender  # noqa: F401 - WEB_SENDER_RE re-exported
from bot.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_WEB_DIR = Path(__file__).resolve().parents[2] / "web"

# What the blueprint serves from web/: URL path -> (file under web/, content type).
STATIC_FILES: Dict[str, tuple] = {
    "widget.js": ("widget.js", "application/javascript; charset=utf-8"),
    "widget.css": ("widget.css", "text/css; charset=utf-8"),
    "demo": ("demo/index.html", "text/html; charset=utf-8"),
    "demo/gomi": ("demo/gomi.html", "text/html; charset=utf-8"),
}

_dumps = functools.partial(json.dumps, ensure_ascii=False)


def _json_response(body: Any, status: int = 200) -> HTTPResponse:
    return response.json(body, status=status, dumps=_dumps)


def _event_id(value: object) -> Optional[int]:
    """A Last-Event-ID as a number, or None when absent or not a number."""
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) < 20:
        return int(value.strip())
    return None


# --------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class WebChannelConfig:
    """Settings of the web channel; each can be set under the channel in credentials.yml."""

    web_dir: Path = DEFAULT_WEB_DIR  # where widget.js, widget.css and demo/ are
    heartbeat_seconds: float = 15.0  # a comment line this often keeps proxies from closing the stream
    retry_ms: int = 3000  # how long a browser waits before reconnecting a dropped stream
    max_stream_seconds: float = 600.0  # a stream is closed (and reopened by the browser) after this
    replay_seconds: float = 3600.0  # how long pushed messages are kept for browsers that reconnect
    replay_per_sender: int = 50  # at most this many pushed messages kept per conversation
    max_streams: int = 1000  # open streams in this process
    max_streams_per_sender: int = 5  # open streams (browser tabs) per conversation

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WebChannelConfig":
        """Read the settings, naming any unknown key or wrong value."""
        credentials = dict(credentials or {})
        known = {f.name: f for f in fields(cls)}
        values: Dict[str, Any] = {}
        for key, raw in credentials.items():
            if key not in known:
                raise ConfigError(
                    f"credentials.yml: the web channel has no setting {key!r}",
                    hint=f"use one of: {', '.join(sorted(known))}",
                )
            if raw is None:
                continue
            default = known[key].default
            try:
                if isinstance(default, Path):
                    values[key] = Path(str(raw)).expanduser()
                else:
                    values[key] = type(default)(raw)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"credentials.yml: web channel setting {key} must be a number; got {raw!r}",
                    hint=f"remove it to use the default {default}",
                ) from None
            if not isinstance(default, Path) and values[key] <= 0:
                raise ConfigError(
                    f"credentials.yml: web channel setting {key} must be greater than 0; got {raw!r}",
                    hint=f"remove it to use the default {default}",
                )
        return cls(**values)


# --------------------------------------------------------------------------- push hub
@dataclass(frozen=True)
class PushEvent:
    """One message pushed to a conversation, with the id browsers resume from."""

    id: int
    message: Dict[Text, Any]
    at: float

    def sse(self) -> str:
        return f"id: {self.id}\ndata: {_dumps(self.message)}\n\n"


class StreamLimitReached(Exception):
    """Too many streams are open (in total, or for one conversation)."""


@dataclass(eq=False)
class Subscription:
    """One open stream: the queue its handler reads pushed events from."""

    sender: str
    queue: "asyncio.Queue[PushEvent]"
    overflowed: bool = False


@dataclass
class PushHub:
    """Delivers pushed messages to the open streams of a conversation and keeps them briefly.

    Pure asyncio (no Sanic): publishing never waits. Event ids grow across restarts
    because they start from the clock in milliseconds.
    """

    replay_seconds: float = 3600.0
    replay_per_sender: int = 50
    max_streams: int = 1000
    max_streams_per_sender: int = 5
    max_buffered_senders: int = 10_000
    queue_size: int = 100
    clock: Callable[[], float] = time.time
    _last_id: int = field(init=False, default=0)
    _subscribers: Dict[str, Set[Subscription]] = field(init=False, default_factory=dict)
    _buffers: "OrderedDict[str, Deque[PushEvent]]" = field(init=False, default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self._last_id = int(self.clock() * 1000)

    @property
    def last_id(self) -> int:
        """The id of the newest event (or the start marker): where a new stream begins."""
        return self._last_id

    def stream_count(self, sender: Optional[str] = None) -> int:
        if sender is not None:
            return len(self._subscribers.get(sender, ()))
        return sum(len(subs) for subs in self._subscribers.values())

    def subscribe(self, sender: str) -> Subscription:
        if self.stream_count() >= self.max_streams:
            raise StreamLimitReached("total")
        if self.stream_count(sender) >= self.max_streams_per_sender:
            raise StreamLimitReached("sender")
        sub = Subscription(sender, asyncio.Queue(self.queue_size))
        self._subscribers.setdefault(sender, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        subs = self._subscribers.get(sub.sender)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscribers[sub.sender]

    def publish(self, sender: str, message: Dict[Text, Any]) -> PushEvent:
        """Keep the message for reconnecting browsers and hand it to every open stream."""
        self._last_id += 1
        return self._keep_and_hand_out(sender, PushEvent(self._last_id, message, self.clock()))

    def deliver(self, sender: str, event_id: int, message: Dict[Text, Any], at: float) -> PushEvent:
        """A push another Rasa process made (bot/channels/fanout.py), with its id: kept
        and handed out here too, so the resident gets it wherever the stream is open."""
        self._last_id = max(self._last_id, int(event_id))  # ids made here stay newer
        return self._keep_and_hand_out(sender, PushEvent(int(event_id), message, at or self.clock()))

    def _keep_and_hand_out(self, sender: str, event: PushEvent) -> PushEvent:
        self._expire()
        buffer = self._buffers.pop(sender, None) or deque(maxlen=self.replay_per_sender)
        buffer.append(event)
        self._buffers[sender] = buffer  # most recently used last
        while len(self._buffers) > self.max_buffered_senders:
            self._buffers.popitem(last=False)
        for sub in list(self._subscribers.get(sender, ())):
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:
                # A stalled browser: its stream ends, and it resumes from the buffer.
                sub.overflowed = True
        return event

    def replay(self, sender: str, after_id: Optional[int]) -> List[PushEvent]:
        """Kept events newer than ``after_id`` (none when the browser has no id yet)."""
        if after_id is None:
            return []
        oldest = self.clock() - self.replay_seconds
        return [e for e in self._buffers.get(sender, ()) if e.id > after_id and e.at >= oldest]

    def _expire(self) -> None:
        oldest = self.clock() - self.replay_seconds
        for sender in list(self._buffers):
            buffer = self._buffers[sender]
            while buffer and buffer[0].at < oldest:
                buffer.popleft()
            if not buffer:
                del self._buffers[sender]


# --------------------------------------------------------------------------- furigana and texts
def add_furigana(message: Dict[Text, Any]) -> Dict[Text, Any]:
    """Put the furigana of a reply's Japanese text in ``custom.ruby`` (nothing for other languages)."""
    from bot.i18n.furigana import furigana, needs_furigana

    custom = message.get("custom")
    if not isinstance(custom, dict):
        return message
    language = custom.get("body_lang") or custom.get("lang") or JA
    source = custom.get("body") if isinstance(custom.get("body"), str) else message.get("text")
    if language == JA and isinstance(source, str) and needs_furigana(source):
        try:
            # a copy: Rasa keeps the reply's own dict in the conversation's events
            message["custom"] = {**custom, "ruby": [list(segment) for segment in furigana(source)]}
        except Exception:  # furigana is an aid: the reply goes out without it
            logger.exception("web: could not add furigana")
    return message


def widget_texts(language: str) -> Dict[Text, Any]:
    """The widget's texts in ``language`` (Japanese when unknown), and the language menu."""
    from bot.i18n.catalogue import catalogue

    language = language if is_supported(language) else JA
    return {
        "language": language,
        "lang": html_lang(language),
        "texts": catalogue().section(language, "widget."),
        "languages": [{"code": lang.code, "name": lang.name, "lang": lang.html_lang} for lang in LANGUAGES.values()],
    }


# --------------------------------------------------------------------------- output channels
class WebCollectingOutputChannel(ContractOutputChannel):
    """Collects the replies to one ``POST webhook`` (the REST contract, named "web")."""

    @classmethod
    def name(cls) -> Text:
        return "web"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        await super().send_response(recipient_id, message)
        add_furigana(self.messages[-1])


class WebPushOutputChannel(ContractOutputChannel):
    """Pushes messages to the resident's open browser streams (``output_channel=latest``)."""

    def __init__(self, hub: PushHub, fanout: Optional["RedisFanout"] = None) -> None:
        super().__init__()
        self._hub = hub
        self._fanout = fanout

    @classmethod
    def name(cls) -> Text:
        return "web"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        await super().send_response(recipient_id, message)
        event = self._hub.publish(recipient_id, add_furigana(self.messages.pop()))
        logger.debug("web: pushed event %s to %d stream(s)", event.id, self._hub.stream_count(recipient_id))
        if self._fanout is not None:  # the streams open on the other Rasa processes
            await self._fanout.publish(recipient_id, event.id, event.message, event.at)


# --------------------------------------------------------------------------- input channel
class WebInput(InputChannel):
    """The web chat widget's channel: webhook, event stream, widget files and demo pages."""

    def __init__(self, config: Optional[WebChannelConfig] = None, redis_url: str = "") -> None:
        self.config = config or WebChannelConfig()
        self.hub = PushHub(
            replay_seconds=self.config.replay_seconds,
            replay_per_sender=self.config.replay_per_sender,
            max_streams=self.config.max_streams,
            max_streams_per_sender=self.config.max_streams_per_sender,
        )
        # Several Rasa processes (MADOGUCHI_REDIS_URL): pushes are shared through Redis.
        self.fanout: Optional[RedisFanout] = RedisFanout(redis_url, self.hub.deliver) if redis_url else None

    @classmethod
    def name(cls) -> Text:
        return "web"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WebInput":
        from bot.settings import Settings  # the entry point of the channel: settings loaded once here

        return cls(WebChannelConfig.from_credentials(credentials), redis_url=Settings.from_env().redis_url.strip())

    def get_output_channel(self) -> OutputChannel:
        return WebPushOutputChannel(self.hub, self.fanout)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("madoguchi_web", __name__)

        if self.fanout is not None:
            fanout = self.fanout

            @bp.listener("after_server_start")
            async def start_fanout(app, loop) -> None:  # Sanic's signature
                fanout.start()

            @bp.listener("before_server_stop")
            async def stop_fanout(app, loop) -> None:
                await fanout.stop()

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        @bp.route("/texts", methods=["GET"])
        async def texts(request: Request) -> HTTPResponse:
            return _json_response(widget_texts(str(request.args.get("lang") or JA)))

        @bp.route("/events", methods=["GET"])
        async def events(request: Request) -> Optional[HTTPResponse]:
            return await self._stream(request)

        @bp.route("/<path:path>", methods=["GET"])
        async def static(request: Request, path: str) -> HTTPResponse:
            if not path.strip("/"):  # GET /webhooks/web/: a health check
                return _json_response({"status": "ok"})
            return self._static(request, path)

        return bp

    async def _receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        if len(request.body or b"") > MAX_BODY_BYTES:
            rejected = body_too_large()
            return _json_response(rejected.as_json(), status=rejected.status)
        try:
            body = parse_json_object(request.body)
            sender = web_sender(body.get("sender"))
            text = prepare_text(body.get("message"))
        except InputRejected as rejected:
            return _json_response(rejected.as_json(), status=rejected.status)
        collector = WebCollectingOutputChannel()
        try:
            await on_new_message(UserMessage(text, collector, sender, input_channel=self.name()))
        except asyncio.CancelledError:
            logger.error("web: message processing was cancelled (timeout)")
        except Exception:  # a resident must never see a 500
            logger.exception("web: could not process a message")
            return _json_response(processing_failed_reply(sender))
        return _json_response(collector.messages)

    async def _stream(self, request: Request) -> Optional[HTTPResponse]:
        try:
            sender = web_sender(request.args.get("sender"))
        except InputRejected as rejected:
            return _json_response(rejected.as_json(), status=rejected.status)
        after_id = _event_id(request.headers.get("last-event-id")) or _event_id(request.args.get("last_event_id"))
        try:
            sub = self.hub.subscribe(sender)
        except StreamLimitReached:
            return _json_response(
                {"error": "too_many_streams", "message": "接続が多すぎます。ほかのタブを閉じてから、ページを再読み込みしてください。"},
                status=429,
            )
        # Synchronously after subscribing: older events come from the buffer, newer ones
        # from the queue, so none is sent twice.
        missed = self.hub.replay(sender, after_id)
        ready = f"id: {self.hub.last_id}\nevent: ready\ndata: {{}}\n\n"
        try:
            stream = await request.respond(
                content_type="text/event-stream; charset=utf-8",
                headers={"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"},
            )
            await stream.send(f"retry: {self.config.retry_ms}\n\n" + "".join(e.sse() for e in missed) + ready)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.config.max_stream_seconds
            while not sub.overflowed:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    event = await asyncio.wait_for(sub.queue.get(), timeout=min(self.config.heartbeat_seconds, remaining))
                except asyncio.TimeoutError:
                    await stream.send(": keep-alive\n\n")
                    continue
                await stream.send(event.sse())
            await stream.eof()
        finally:
            self.hub.unsubscribe(sub)
        return None

    def _static(self, request: Request, path: str) -> HTTPResponse:
        entry = STATIC_FILES.get(path.strip("/"))
        if entry is None:
            return _json_response({"error": "not_found", "message": "ページが見つかりません。"}, status=404)
        name, content_type = entry
        try:
            body = (self.config.web_dir / name).read_bytes()
        except OSError:
            logger.error("web: %s is missing in %s", name, self.config.web_dir)
            return _json_response({"error": "not_found", "message": "ファイルが見つかりません。"}, status=404)
        # Browsers check for a new version on every page (no-cache) and get a 304 when unchanged.
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        headers = {"Cache-Control": "no-cache", "ETag": etag, "X-Content-Type-Options": "nosniff"}
        if request.headers.get("if-none-match") == etag:
            return HTTPResponse(status=304, headers=headers)
        return response.raw(body, content_type=content_type, headers=headers)
