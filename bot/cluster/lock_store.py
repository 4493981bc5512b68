"""Rasa's Redis lock store, falling back to this process's own locks while Redis is down.

With several Rasa processes, Rasa's ``RedisLockStore`` makes them take turns on one
conversation. Rasa's own store fails every message while Redis cannot be reached (the
resident gets the error reply); this one keeps answering instead:

* Redis down: each message takes its conversation's lock in this process's memory
  (Rasa's ``InMemoryLockStore``), so the conversations of one replica still take turns;
  only two messages of the *same* conversation arriving at the *same moment* on two
  replicas could overlap, which a resident typing one message at a time does not do.
  Logged once as ``degraded`` (a warning), shown in ``GET /health``.
* A message keeps the store it took its ticket from until it is done, so one message's
  lock is never split between Redis and memory (at the moment Redis comes back, a message
  still holding a lock in memory and the next one of the same conversation, in Redis,
  could overlap: the same rare case as above).
* Redis is tried again at the first message (or health check) ``RETRY_SECONDS`` after the
  last failure; when it answers, the store says so in the log and uses it again.

Configured by ``bot run`` when ``MADOGUCHI_REDIS_URL`` is set (bot/cluster/endpoints.py)::

    lock_store:
      type: bot.cluster.lock_store.FallbackRedisLockStore
      url: redis.internal
      port: 6379
      db: 0
      key_prefix: madoguchi
"""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Callable, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockError, LockStore, RedisLockStore

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0  # after a failure, Redis is tried again at most this often
SOCKET_TIMEOUT_SECONDS = 2.0  # Rasa's default is 10 s: every message would wait that long


class LockState:
    """Values of ``state`` in ``GET /health``."""

    OK = "ok"
    DEGRADED = "degraded"


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class FallbackRedisLockStore(LockStore):
    """Rasa's ``RedisLockStore``, with this process's own locks while Redis is down.

    Args:
        endpoint_config: Rasa's endpoint (``url`` = Redis host; ``port``, ``db``,
            ``password``, ``use_ssl``, ``key_prefix`` as for Rasa's ``type: redis``).
        redis_store: an already built Redis store (tests).
        clock: monotonic seconds (tests).
    """

    def __init__(self, endpoint_config: Any = None, redis_store: Optional[LockStore] = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if redis_store is None:
            kwargs = dict(getattr(endpoint_config, "kwargs", {}) or {})
            kwargs.setdefault("socket_timeout", SOCKET_TIMEOUT_SECONDS)
            redis_store = RedisLockStore(host=getattr(endpoint_config, "url", None) or "localhost", **kwargs)
        self.redis = redis_store
        self.memory = InMemoryLockStore()
        self._clock = clock
        self.state = LockState.OK
        self._failed_at: Optional[float] = None
        self.last_error = ""
        super().__init__()

    # ------------------------------------------------------------------ state
    def _degraded(self, exc: BaseException) -> None:
        self._failed_at = self._clock()
        self.last_error = type(exc).__name__
        if self.state != LockState.DEGRADED:
            logger.warning("lock store degraded: Redis cannot be reached (%s); conversations take turns within "
                           "this Rasa process only until it is back", self.last_error)
        self.state = LockState.DEGRADED

    def _recovered(self) -> None:
        if self.state != LockState.OK:
            logger.warning("lock store recovered: Redis answers again; conversations take turns across processes")
        self.state = LockState.OK
        self._failed_at = None
        self.last_error = ""

    def _use_redis(self) -> bool:
        return self.state == LockState.OK or self._clock() - (self._failed_at or 0.0) >= RETRY_SECONDS

    def check(self) -> str:
        """The state, asking Redis again when it failed more than ``RETRY_SECONDS`` ago."""
        if self.state == LockState.DEGRADED and self._use_redis():
            try:
                self.redis.red.ping()  # type: ignore[attr-defined]
            except _redis_errors() as exc:
                self._degraded(exc)
            else:
                self._recovered()
        return self.state

    def health(self) -> dict:
        """For ``GET /health``."""
        state = self.check()
        out = {"backend": "redis", "state": state}
        if state != LockState.OK:
            out["error"] = self.last_error
            out["fallback"] = "in-process locks"
        return out

    # ------------------------------------------------------------------ LockStore
    # Rasa calls these only through lock() below; they use Redis when it is up.
    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        return (self.redis if self.state == LockState.OK else self.memory).get_lock(conversation_id)

    def delete_lock(self, conversation_id: Text) -> None:
        (self.redis if self.state == LockState.OK else self.memory).delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        (self.redis if self.state == LockState.OK else self.memory).save_lock(lock)

    def _ticket(self, conversation_id: Text, lock_lifetime: float) -> tuple[LockStore, int]:
        """A ticket from Redis when it is (or may be again) up, else from memory."""
        if self._use_redis():
            try:
                ticket = self.redis.issue_ticket(conversation_id, lock_lifetime)
            except LockError as exc:
                cause = exc.__context__ or exc
                if not isinstance(cause, _redis_errors()):
                    raise
                self._degraded(cause)
            else:
                self._recovered()
                return self.redis, ticket
        return self.memory, self.memory.issue_ticket(conversation_id, lock_lifetime)

    @asynccontextmanager
    async def lock(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = 1) -> AsyncGenerator[TicketLock, None]:
        store, ticket = self._ticket(conversation_id, lock_lifetime)
        try:
            try:
                acquired = await store._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
            except _redis_errors() as exc:  # Redis went away while this message waited its turn
                self._degraded(exc)
                store, ticket = self.memory, self.memory.issue_ticket(conversation_id, lock_lifetime)
                acquired = await store._acquire_lock(conversation_id, ticket, wait_time_in_seconds)
            yield acquired
        finally:
            try:
                store.cleanup(conversation_id, ticket)
            except _redis_errors() as exc:  # the lock expires by itself after its lifetime
                self._degraded(exc)
