"""Live pushes across Rasa processes, through Redis pub/sub.

A staff reply reaches the resident's browser through the Rasa process that Rasa's API
call landed on (``output_channel=latest``); with several Rasa processes the browser's
event stream may be open on another one. Each process publishes every push on one Redis
channel and delivers the pushes of the others to its own streams (bot/channels/web.py,
``PushHub.deliver``), so a resident streaming from replica A gets a reply sent through
replica B.

Redis down: pushes still reach the streams of the process that made them (logged once as
degraded, ``state`` says so); the subscriber reconnects by itself with backoff.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, Callable, Dict, Optional

logger = logging.getLogger(__name__)

CHANNEL = "madoguchi:web:push"
MAX_BACKOFF_SECONDS = 10.0


def encode(origin: str, sender: str, event_id: int, message: Dict[str, Any], at: float) -> str:
    return json.dumps({"origin": origin, "sender": sender, "id": event_id, "message": message, "at": at},
                      ensure_ascii=False)


def decode(raw: Any) -> Optional[dict]:
    """A published push, or None when it is not one of ours (never raises)."""
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("sender"), str) or not isinstance(data.get("id"), int) \
            or not isinstance(data.get("message"), dict):
        return None
    return data


class RedisFanout:
    """Publishes this process's pushes and delivers the other processes' ones.

    Args:
        url: ``redis://host:port/db``.
        deliver: called with (sender, event id, message, at) for each push of another process.
    """

    def __init__(self, url: str, deliver: Callable[[str, int, Dict[str, Any], float], None],
                 channel: str = CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self.origin = uuid.uuid4().hex
        self._deliver = deliver
        self._client = None
        self._task: Optional[asyncio.Task] = None
        self.state = "starting"  # "ok" while subscribed, "degraded" while Redis cannot be reached
        self.ready = asyncio.Event()

    def _redis(self):
        if self._client is None:
            import redis.asyncio as aioredis

            self._client = aioredis.from_url(self.url, socket_connect_timeout=2, socket_timeout=None)
        return self._client

    def start(self) -> None:
        """Start listening (on the running loop); safe to call once per process."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping anyway
                pass
            self._task = None

    def _degraded(self, exc: BaseException) -> None:
        if self.state != "degraded":
            logger.warning("live pushes: Redis at %s cannot be reached (%s); streams on other Rasa processes "
                           "miss this process's pushes until it is back", self.url.split("@")[-1], type(exc).__name__)
        self.state = "degraded"

    async def publish(self, sender: str, event_id: int, message: Dict[str, Any], at: float) -> None:
        try:
            await asyncio.wait_for(self._redis().publish(self.channel, encode(self.origin, sender, event_id, message, at)),
                                   timeout=2)
        except Exception as exc:  # noqa: BLE001 - a push must not fail the reply
            self._degraded(exc)

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            pubsub = None
            try:
                pubsub = self._redis().pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(self.channel)
                if self.state != "ok":
                    logger.info("live pushes: subscribed to Redis %s", self.channel)
                self.state = "ok"
                self.ready.set()
                delay = 0.5
                while True:
                    item = await pubsub.get_message(timeout=5.0)
                    if item is None or item.get("type") != "message":
                        continue
                    data = decode(item.get("data"))
                    if data is None or data.get("origin") == self.origin:
                        continue
                    try:
                        self._deliver(data["sender"], data["id"], data["message"], float(data.get("at") or 0))
                    except Exception:  # one bad push must not stop the others
                        logger.exception("live pushes: could not deliver a push")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect with backoff
                self._degraded(exc)
                await asyncio.sleep(delay)
                delay = min(MAX_BACKOFF_SECONDS, delay * 2)
            finally:
                if pubsub is not None:
                    try:
                        await pubsub.close()
                    except Exception:  # noqa: BLE001
                        pass
