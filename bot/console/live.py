"""Live updates: the browsers' event streams and the console's background work.

Other processes change the database (the action server queues residents and creates
tickets) and Rasa's trackers (residents keep writing while staff talk with them), so the
console looks, about once a second (on PostgreSQL at once when a hand-off or ticket
changes, and every ``SAFETY_POLL_SECONDS`` otherwise: bot/console/changes.py):

* at the open hand-offs and tickets: when they change, every open page gets the new inbox;
* at the trackers of the conversations someone has open: new events go to those pages;
* at hand-offs nobody claimed within ``claim_timeout``: the resident is offered to leave
  a message (Rasa delivers it) and the hand-off is marked expired;
* at new hand-offs and tickets: the notification webhook is told, once each.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import aiohttp

from bot.console import notices
from bot.console.accounts import StaffAccounts
from bot.db import DatabaseUnavailable
from bot.console.changes import SAFETY_POLL_SECONDS, ChangeListener
from bot.console.inbox import inbox_payload
from bot.console.keys import ConsoleConfig
from bot.console.transcript import tracker_events, transcript_items
from bot.handoff.notify import WebhookNotifier, handoff_notice, ticket_notice
from bot.handoff.store import HandoffStore
from bot.runtime.rasa_api import RasaApi, RasaApiError

logger = logging.getLogger(__name__)

RASA_ERRORS = (RasaApiError, aiohttp.ClientError, asyncio.TimeoutError)
QUEUE_SIZE = 256  # a page that does not read its stream for this long is dropped


@dataclass(eq=False)
class Subscriber:
    """One open page: gets every inbox change, and the new events of its conversation."""

    conversation_id: str | None = None
    cursor: int = 0  # tracker events this page already has
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    dropped: bool = False

    def put(self, event: str | None, data: dict | None = None) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(None if event is None else (event, data))
        except asyncio.QueueFull:
            self.dropped = True
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.get_nowait()
                self.queue.put_nowait(None)


class LiveHub:
    """Who is listening, and the latest inbox."""

    def __init__(self) -> None:
        self.subscribers: set[Subscriber] = set()
        self.inbox: dict | None = None
        self.wake = asyncio.Event()

    def subscribe(self, conversation_id: str | None = None, cursor: int = 0) -> Subscriber:
        sub = Subscriber(conversation_id, max(0, cursor))
        self.subscribers.add(sub)
        if self.inbox is not None:
            sub.put("inbox", self.inbox)
        self.wake.set()
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def publish(self, event: str, data: dict) -> None:
        for sub in list(self.subscribers):
            sub.put(event, data)

    def watched(self) -> dict[str, list[Subscriber]]:
        out: dict[str, list[Subscriber]] = {}
        for sub in self.subscribers:
            if sub.conversation_id and not sub.dropped:
                out.setdefault(sub.conversation_id, []).append(sub)
        return out

    def poke(self) -> None:
        """Look at the database now instead of at the next tick (after a staff action)."""
        self.wake.set()

    def close_all(self) -> None:
        for sub in list(self.subscribers):
            sub.put(None)
        self.subscribers.clear()


class ConsoleWorker:
    """The background loops of one console process."""

    def __init__(self, store: HandoffStore, accounts: StaffAccounts, hub: LiveHub, rasa: RasaApi, config: ConsoleConfig,
                 departments: dict[str, str], notifier: WebhookNotifier | None,
                 listener: ChangeListener | None = None) -> None:
        self.store = store
        self.listener = listener
        self.accounts = accounts
        self.hub = hub
        self.rasa = rasa
        self.config = config
        self.departments = departments
        self.notifier = notifier
        self._notify_failures: dict[tuple[str, int], tuple[int, float]] = {}  # → (failures, retry at)

    # ------------------------------------------------------------------ loops
    async def run_inbox(self) -> None:
        failing = False
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except DatabaseUnavailable as exc:  # a restart or an outage: said once, not every second
                if not failing:
                    logger.warning("console: the database cannot be reached (%s); trying again every %g s",
                                   exc.message, self.config.poll_interval)
                failing = True
            except Exception as exc:  # keep looking; the next tick may work
                logger.exception("console background loop failed: %s", type(exc).__name__)
            else:
                if failing:
                    logger.warning("console: the database answers again")
                failing = False
            self.hub.wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.hub.wake.wait(), timeout=self.inbox_interval())

    def inbox_interval(self) -> float:
        """Seconds until the next look when nothing wakes the loop earlier."""
        if self.listener is not None and self.listener.listening:
            return max(self.config.poll_interval, SAFETY_POLL_SECONDS)
        return self.config.poll_interval

    async def run_conversations(self) -> None:
        while True:
            try:
                await self.tick_conversations()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.exception("console conversation loop failed: %s", type(exc).__name__)
            await asyncio.sleep(self.config.poll_interval)

    # ------------------------------------------------------------------ steps
    async def tick(self) -> None:
        await self.expire_unclaimed()
        await self.notify_new()
        self.refresh_inbox()

    def refresh_inbox(self) -> None:
        payload = inbox_payload(self.store, self.departments, self.accounts.display_names())
        if payload != self.hub.inbox:
            self.hub.inbox = payload
            self.hub.publish("inbox", payload)

    async def expire_unclaimed(self) -> None:
        """Offer a ticket to residents whose hand-off nobody claimed in time."""
        if self.config.claim_timeout > 0:
            for h in self.store.expired_unclaimed(self.config.claim_timeout):
                self.store.mark_expired(h.id)
        for h in self.store.expired_without_offer():
            try:
                tracker = await self.rasa.tracker(h.conversation_id)
                paused = bool(tracker.get("paused")) if isinstance(tracker, dict) else False
                await self.rasa.append_events(h.conversation_id, notices.offer_ticket(h.id, paused))
            except RASA_ERRORS as exc:
                logger.warning("could not offer a ticket for hand-off %s (%s); will retry", h.id, type(exc).__name__)
                return
            self.store.mark_offer_sent(h.id)
            logger.info("hand-off %s expired unclaimed; the resident was offered to leave a message", h.id)

    async def notify_new(self) -> None:
        """Announce new hand-offs and tickets; a failed notice is retried with growing pauses."""
        if self.notifier is None:
            return
        url = self.config.public_url
        pending = [("handoff", h.id, handoff_notice(h, self.departments.get(h.department or ""), url))
                   for h in self.store.unnotified_handoffs()]
        pending += [("ticket", t.id, ticket_notice(t, self.departments.get(t.department or ""), url))
                    for t in self.store.unnotified_tickets()]
        now = asyncio.get_running_loop().time()
        for kind, item_id, notice in pending:
            key = (kind, item_id)
            failures, retry_at = self._notify_failures.get(key, (0, 0.0))
            if now < retry_at:
                continue
            ok = await self.notifier.send(notice)
            self.store.record_notification(kind, item_id, ok)
            if ok:
                self._notify_failures.pop(key, None)
            else:
                delay = min(self.config.notify_backoff * 2**failures, 300.0)
                self._notify_failures[key] = (failures + 1, now + delay)

    async def tick_conversations(self) -> None:
        """Send each open conversation page the tracker events it does not have yet."""
        for conversation_id, subs in self.hub.watched().items():
            try:
                tracker = await self.rasa.tracker(conversation_id)
            except RASA_ERRORS:
                for sub in subs:
                    sub.put("rasa", {"ok": False})
                continue
            events = tracker_events(tracker)
            paused = bool(tracker.get("paused")) if isinstance(tracker, dict) else False
            for sub in subs:
                if len(events) > sub.cursor:
                    sub.put("conversation", {"items": transcript_items(events, sub.cursor), "cursor": len(events),
                                             "paused": paused})
                    sub.cursor = len(events)
