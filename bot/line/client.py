"""A small typed client for the LINE Messaging API, on one aiohttp session.

Retries 429 and 5xx answers and network errors with exponential backoff (honouring
``Retry-After``), but not a 429 for an exhausted monthly quota. Push requests carry an
``X-Line-Retry-Key`` so that a retried push is never delivered twice: LINE answers 409
with ``X-Line-Accepted-Request-Id`` when it already accepted that key.

The base URLs are configuration, so tests and staging point them at a fake platform.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Sequence

import aiohttp

from bot.errors import MadoguchiError
from bot.line.messages import MAX_MESSAGES_PER_CALL, LineMessage

logger = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.line.me"
DEFAULT_DATA_API_BASE_URL = "https://api-data.line.me"


class LineApiError(MadoguchiError):
    """The Messaging API refused a request, or could not be reached after retries."""

    def __init__(self, message: str, status: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


@dataclass(frozen=True)
class LineApiConfig:
    """How to reach the Messaging API."""

    access_token: str
    api_base_url: str = DEFAULT_API_BASE_URL  # messages, rich menus
    data_api_base_url: str = DEFAULT_DATA_API_BASE_URL  # rich menu images
    timeout_seconds: float = 10.0  # whole request, connection included
    max_attempts: int = 4  # 1 + 3 retries
    backoff_seconds: float = 0.5  # first retry delay; doubles each time, with jitter
    max_backoff_seconds: float = 30.0  # cap, also for Retry-After
    max_connections: int = 20  # concurrent requests to LINE

    def __post_init__(self) -> None:
        if not self.access_token:
            raise LineApiError("the LINE channel access token is empty", hint="set LINE_CHANNEL_ACCESS_TOKEN")
        if self.max_attempts < 1:
            raise LineApiError(f"max_attempts must be at least 1; got {self.max_attempts}")


@dataclass(frozen=True)
class SentMessages:
    """What LINE answered to a reply or push: the ids of the sent messages."""

    message_ids: tuple[str, ...]
    request_id: str | None = None
    already_accepted: bool = False  # a retried push whose first attempt had got through


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _is_quota_exhausted(status: int, body: Any) -> bool:
    message = body.get("message", "") if isinstance(body, dict) else ""
    return status == 429 and "monthly limit" in str(message).lower()


class LineClient:
    """Messaging API calls. One instance (and one ``ClientSession``) per process.

    Args:
        config: Where and how to call the API.
        session: An existing session to use (not closed by :meth:`close`); by default
            the client creates its own on first use, with the configured timeout.
        sleep: Replaced in tests to record the backoff delays.
    """

    def __init__(
        self,
        config: LineApiConfig,
        session: aiohttp.ClientSession | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self._session = session
        self._owns_session = session is None
        self._sleep = sleep

    async def __aenter__(self) -> "LineClient":
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.close()

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.timeout_seconds),
                connector=aiohttp.TCPConnector(limit=self.config.max_connections),
            )
            self._owns_session = True
        return self._session

    async def open(self) -> None:
        """Create the session now (from a server start-up hook); otherwise on first use."""
        self._get_session()

    async def close(self) -> None:
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    # ------------------------------------------------------------------ messages
    async def reply(self, reply_token: str, messages: Sequence[LineMessage]) -> SentMessages:
        """Answer a webhook event with its (single-use, short-lived) reply token."""
        _check_count(messages)
        body = await self._call("POST", f"{self.config.api_base_url}/v2/bot/message/reply",
                                json_body={"replyToken": reply_token, "messages": list(messages)})
        return _sent(body)

    async def push(self, to: str, messages: Sequence[LineMessage], retry_key: str | None = None) -> SentMessages:
        """Send to a user (or group/room) at any time; retried safely with a retry key."""
        _check_count(messages)
        key = retry_key or str(uuid.uuid4())
        body = await self._call("POST", f"{self.config.api_base_url}/v2/bot/message/push",
                                json_body={"to": to, "messages": list(messages)}, retry_key=key)
        return _sent(body)

    # ------------------------------------------------------------------ rich menus
    async def create_rich_menu(self, definition: dict) -> str:
        body = await self._call("POST", f"{self.config.api_base_url}/v2/bot/richmenu", json_body=definition)
        rich_menu_id = body.get("richMenuId") if isinstance(body, dict) else None
        if not isinstance(rich_menu_id, str) or not rich_menu_id:
            raise LineApiError("LINE did not return a richMenuId for the new rich menu")
        return rich_menu_id

    async def upload_rich_menu_image(self, rich_menu_id: str, image: bytes, content_type: str) -> None:
        await self._call("POST", f"{self.config.data_api_base_url}/v2/bot/richmenu/{rich_menu_id}/content",
                         data=image, content_type=content_type)

    async def set_default_rich_menu(self, rich_menu_id: str) -> None:
        await self._call("POST", f"{self.config.api_base_url}/v2/bot/user/all/richmenu/{rich_menu_id}")

    async def list_rich_menus(self) -> list[dict]:
        body = await self._call("GET", f"{self.config.api_base_url}/v2/bot/richmenu/list")
        menus = body.get("richmenus") if isinstance(body, dict) else None
        return menus if isinstance(menus, list) else []

    async def delete_rich_menu(self, rich_menu_id: str) -> None:
        await self._call("DELETE", f"{self.config.api_base_url}/v2/bot/richmenu/{rich_menu_id}")

    # ------------------------------------------------------------------ plumbing
    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.config.max_backoff_seconds)
        base = min(self.config.backoff_seconds * (2 ** (attempt - 1)), self.config.max_backoff_seconds)
        return base * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not security

    async def _call(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        retry_key: str | None = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.config.access_token}"}
        if content_type:
            headers["Content-Type"] = content_type
        if retry_key:
            headers["X-Line-Retry-Key"] = retry_key
        path = url.split("/v2/", 1)[-1]
        for attempt in range(1, self.config.max_attempts + 1):
            last = attempt == self.config.max_attempts
            try:
                async with self._get_session().request(method, url, json=json_body, data=data, headers=headers) as resp:
                    status = resp.status
                    request_id = resp.headers.get("X-Line-Request-Id")
                    try:
                        body = await resp.json(content_type=None)
                    except (ValueError, aiohttp.ContentTypeError):
                        body = None
                    retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
                    accepted = resp.headers.get("X-Line-Accepted-Request-Id")
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                if last:
                    raise LineApiError(f"LINE API v2/{path}: no answer after {attempt} attempts ({type(exc).__name__})",
                                       hint="check the network and the API base URL") from None
                logger.warning("LINE API v2/%s: %s, retrying (attempt %d)", path, type(exc).__name__, attempt)
                await self._sleep(self._delay(attempt, None))
                continue
            if status < 300:
                if isinstance(body, dict) and request_id:
                    body = {**body, "_request_id": request_id}
                return body if body is not None else {}
            if status == 409 and retry_key and accepted:
                logger.info("LINE API v2/%s: retry key already accepted (request %s)", path, accepted)
                return {"_already_accepted": True, "_request_id": accepted}
            retryable = (status == 429 or status >= 500) and not _is_quota_exhausted(status, body)
            if retryable and not last:
                logger.warning("LINE API v2/%s: HTTP %d, retrying (attempt %d)", path, status, attempt)
                await self._sleep(self._delay(attempt, retry_after))
                continue
            detail = body.get("message") if isinstance(body, dict) else None
            raise LineApiError(f"LINE API v2/{path}: HTTP {status}" + (f" ({detail})" if detail else ""), status=status,
                               hint=_hint(status))
        raise AssertionError("unreachable")  # pragma: no cover


def _hint(status: int) -> str | None:
    if status == 401:
        return "the channel access token is wrong or expired: issue a new one and set LINE_CHANNEL_ACCESS_TOKEN"
    if status == 429:
        return "LINE's rate limit or the monthly message quota was reached"
    return None


def _check_count(messages: Sequence[LineMessage]) -> None:
    if not 1 <= len(messages) <= MAX_MESSAGES_PER_CALL:
        raise LineApiError(f"a reply or push carries 1 to {MAX_MESSAGES_PER_CALL} messages; got {len(messages)}",
                           hint="split them with bot.line.messages.batches()")


def _sent(body: Any) -> SentMessages:
    sent = body.get("sentMessages") if isinstance(body, dict) else None
    ids = tuple(str(m.get("id")) for m in sent if isinstance(m, dict) and m.get("id")) if isinstance(sent, list) else ()
    return SentMessages(ids, request_id=body.get("_request_id") if isinstance(body, dict) else None,
                        already_accepted=bool(isinstance(body, dict) and body.get("_already_accepted")))
