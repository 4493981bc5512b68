"""``GET /health`` on the Rasa server: can it answer, and in what state is what it uses.

``GET /webhooks/rest/`` only says that the process is up (the load balancer checks it
every second). ``/health`` asks the tracker store's database and tells the state of the
lock store and of the live pushes, for monitoring and for people::

    {"status": "degraded",
     "model": true,
     "tracker_store": {"backend": "postgresql", "state": "ok"},
     "lock_store": {"backend": "redis", "state": "degraded", "error": "ConnectionError",
                    "fallback": "in-process locks"},
     "live_push": {"backend": "redis", "state": "degraded"}}

``status`` is ``ok``; ``degraded`` when Redis is down (residents are still answered:
bot/cluster/lock_store.py, bot/channels/fanout.py); ``down`` when the tracker store's
database cannot be reached (residents get the polite error reply); ``starting`` before
the model is loaded. HTTP 200 while residents are answered (ok, degraded), else 503.
Embedded (``make run``), the lock store and pushes are in memory and always ``ok``.
"""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Any, Dict, Iterable

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

PROBE_TIMEOUT_SECONDS = 5.0
GROUP = "health"  # in bot.rasa_speedups' registry of changes to Rasa


class State(str, Enum):
    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"
    STARTING = "starting"


def _inner_store(store: Any) -> Any:
    """The real tracker store inside Rasa's wrappers (FailSafe, Awaitable)."""
    for _ in range(5):
        inner = getattr(store, "_tracker_store", None)
        if inner is None:
            break
        store = inner
    return store


def _dialect(store: Any) -> str:
    engine = getattr(_inner_store(store), "engine", None)
    return engine.dialect.name if engine is not None else ""


def tracker_store_state(store: Any) -> Dict[str, Any]:
    """Read one row of the tracker store's ``events`` table (blocking).

    A connection the server dropped (after a restart) fails once and is discarded by
    SQLAlchemy, so a failure is tried once more before it counts.
    """
    inner = _inner_store(store)
    engine = getattr(inner, "engine", None)
    if engine is None:
        return {"backend": "in_memory", "state": State.OK.value}
    import sqlalchemy as sa

    error = ""
    for _ in range(2):
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1 FROM events LIMIT 1"))
            return {"backend": engine.dialect.name, "state": State.OK.value}
        except Exception as exc:  # noqa: BLE001 - any failure means the database cannot be used
            error = type(exc).__name__
    return {"backend": engine.dialect.name, "state": State.DOWN.value, "error": error}


def lock_store_state(store: Any) -> Dict[str, Any]:
    if hasattr(store, "health"):
        return store.health()
    return {"backend": "in_memory", "state": State.OK.value}


def live_push_state(input_channels: Iterable[Any]) -> Dict[str, Any]:
    for channel in input_channels or ():
        fanout = getattr(channel, "fanout", None)
        if fanout is not None:
            state = State.DEGRADED.value if fanout.state == "degraded" else State.OK.value
            return {"backend": "redis", "state": state}
    return {"backend": "in_memory", "state": State.OK.value}


def overall(parts: Dict[str, Dict[str, Any]]) -> str:
    states = {p.get("state") for p in parts.values()}
    if State.DOWN.value in states:
        return State.DOWN.value
    if State.DEGRADED.value in states:
        return State.DEGRADED.value
    return State.OK.value


async def health(request: Request) -> HTTPResponse:
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or not agent.is_ready():
        return response.json({"status": State.STARTING.value, "model": False}, status=503)
    if _dialect(agent.tracker_store) in ("sqlite", ""):
        # On this thread: SQLite keeps one connection per thread (bot/tracker_store.py),
        # and a read never waits in write-ahead-log mode.
        tracker = tracker_store_state(agent.tracker_store)
    else:
        loop = asyncio.get_running_loop()
        try:
            tracker = await asyncio.wait_for(loop.run_in_executor(None, tracker_store_state, agent.tracker_store),
                                             timeout=PROBE_TIMEOUT_SECONDS)
        except asyncio.TimeoutError:
            tracker = {"backend": _dialect(agent.tracker_store), "state": State.DOWN.value, "error": "timeout"}
    parts = {
        "tracker_store": tracker,
        "lock_store": lock_store_state(agent.lock_store),
        "live_push": live_push_state(getattr(request.app.ctx, "input_channels", ())),
    }
    status = overall(parts)
    return response.json({"status": status, "model": True, **parts},
                         status=503 if status == State.DOWN.value else 200)


def install() -> None:
    """Add ``GET /health`` to the Rasa server when Rasa registers its input channels (idempotent).

    Rasa's own ``register`` is kept in ``bot.rasa_speedups``' registry; ``uninstall()`` puts it back.
    """
    from rasa.core.channels import channel

    from bot import rasa_speedups

    if rasa_speedups.applied(GROUP):
        return
    register = channel.register

    def register_with_health(input_channels, app, route) -> None:  # Rasa's signature
        register(input_channels, app, route)
        app.add_route(health, "/health", methods=["GET"], name="madoguchi_health")

    rasa_speedups.replace(GROUP, channel, "register", register_with_health)
