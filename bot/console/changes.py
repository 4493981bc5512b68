"""Hearing of hand-off and ticket changes at once, on PostgreSQL (``LISTEN``).

Every write of the hand-off store ends with ``NOTIFY madoguchi_handoff_changes``, sent by
PostgreSQL when the transaction commits (bot/handoff/store.py), whichever process or
machine wrote it: an action server queueing a resident, a console claiming, the Rasa
process creating a ticket. Each console listens and looks at the database at once, so a
claim on console B shows on console A's inbox without waiting for the next poll.

Polling stays: on SQLite it is the only way (every second), and on PostgreSQL it is the
safety net (``SAFETY_POLL_SECONDS``) and the fallback while the listening connection is
down (every second again, until it is back: a PostgreSQL restart, a network cut).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Callable

logger = logging.getLogger(__name__)

SAFETY_POLL_SECONDS = 15.0  # how often a listening console still looks, in case a notice was missed
MAX_BACKOFF_SECONDS = 10.0


class ListenState:
    STARTING = "starting"
    LISTENING = "listening"
    DOWN = "down"  # polling every second until the connection is back


class ChangeListener:
    """``LISTEN channel`` on its own connection; ``on_change()`` after each notice.

    Args:
        url: the PostgreSQL URL of the project's database.
        channel: the NOTIFY channel.
        on_change: called on the event loop for each batch of notices, and once after
            every (re)connection (changes may have been missed meanwhile).
    """

    def __init__(self, url: str, channel: str, on_change: Callable[[], None]) -> None:
        self.url = url
        self.channel = channel
        self.on_change = on_change
        self.state = ListenState.STARTING
        self.notices = 0  # notices heard
        self.connections = 0  # successful (re)connections

    @property
    def listening(self) -> bool:
        return self.state == ListenState.LISTENING

    def _connect(self):
        import psycopg2

        conn = psycopg2.connect(self.url, connect_timeout=5, application_name="madoguchi-console-listen",
                                keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'LISTEN "{self.channel}"')
        return conn

    async def run(self) -> None:
        """Listen until cancelled, reconnecting with backoff."""
        loop = asyncio.get_running_loop()
        delay = 0.5
        while True:
            conn = None
            try:
                conn = await loop.run_in_executor(None, self._connect)
                self.connections += 1
                fd = conn.fileno()
                lost: asyncio.Future = loop.create_future()

                def readable() -> None:
                    try:
                        conn.poll()
                    except Exception as exc:  # noqa: BLE001 - the connection is gone
                        if not lost.done():
                            lost.set_exception(exc)
                        return
                    heard = bool(conn.notifies)
                    self.notices += len(conn.notifies)
                    conn.notifies.clear()
                    if heard:
                        self.on_change()

                loop.add_reader(fd, readable)
                try:
                    if self.state != ListenState.LISTENING:
                        logger.info("console: listening for hand-off changes on PostgreSQL (%s)", self.channel)
                    self.state = ListenState.LISTENING
                    delay = 0.5
                    self.on_change()  # whatever changed while nobody listened
                    await lost
                finally:
                    loop.remove_reader(fd)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect with backoff
                if self.state != ListenState.DOWN:
                    logger.warning("console: not hearing hand-off changes from PostgreSQL (%s); polling every "
                                   "second until the connection is back", type(exc).__name__)
                self.state = ListenState.DOWN
                await asyncio.sleep(delay)
                delay = min(MAX_BACKOFF_SECONDS, delay * 2)
            finally:
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:  # noqa: BLE001
                        pass
