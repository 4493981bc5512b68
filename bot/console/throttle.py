"""Slowing down password guessing without letting strangers lock staff out (pure).

Two records, both in bounded memory:

* **Per client address** (every attempt): the first ``free_failures`` failed log-ins in
  ``window`` seconds cost nothing; after that each attempt must wait a delay that doubles
  with every further failure (``base_delay``, 2×, 4× … up to ``max_delay``). One address
  guessing passwords, against one name or many, slows down quickly.
* **Per account** (existing accounts only): after ``account_limit`` failed log-ins in
  ``window`` seconds, from any addresses, the account is *locked*: a log-in is then only
  tried from an address with no failure of its own in the window. The member of staff at
  their usual PC (no failures) still gets in with the right password; an address that has
  failed even once does not, so against a locked account each address gets at most one
  guess per window.

Failures for names that are not accounts are counted for the address only: nobody can be
locked out by a made-up name, and a flood of made-up names cannot push a real account's
record out of memory. Each table keeps at most ``max_entries`` keys and, when full,
forgets the one whose last failure is oldest (never everything); each key keeps at most
its last ``max_per_key`` failure times.

A success clears the account's failures and the address's own.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Callable, Deque


@dataclass(frozen=True)
class ThrottleDecision:
    """Whether a log-in may be tried now; if not, why and for how long."""

    allowed: bool
    reason: str = ""  # "client_delay" or "account_locked" when not allowed
    retry_after: float = 0.0  # seconds


ALLOWED = ThrottleDecision(True)


class _FailureTable:
    """Failure times per key, at most ``max_entries`` keys (least recently failed go first)."""

    def __init__(self, max_entries: int, max_per_key: int) -> None:
        self.max_entries = max_entries
        self.max_per_key = max_per_key
        self._times: "OrderedDict[str, Deque[float]]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._times)

    def __contains__(self, key: str) -> bool:
        return key in self._times

    def recent(self, key: str, cutoff: float) -> Deque[float]:
        times = self._times.get(key)
        if times is None:
            return deque()
        while times and times[0] < cutoff:
            times.popleft()
        if not times:
            del self._times[key]
        return times

    def add(self, key: str, at: float) -> None:
        times = self._times.get(key)
        if times is None:
            times = self._times[key] = deque(maxlen=self.max_per_key)
        times.append(at)
        self._times.move_to_end(key)
        while len(self._times) > self.max_entries:
            self._times.popitem(last=False)  # the key whose last failure is oldest

    def clear(self, key: str) -> None:
        self._times.pop(key, None)


class LoginThrottle:
    """Per-address progressive delay and per-account lock for the console's log-in."""

    def __init__(
        self,
        *,
        window: float = 900.0,
        free_failures: int = 3,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        account_limit: int = 5,
        max_entries: int = 10_000,
        max_per_key: int = 64,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if min(window, base_delay, max_delay) <= 0 or free_failures < 0 or account_limit < 1 or max_entries < 1:
            raise ValueError("LoginThrottle: window, delays, account_limit and max_entries must be positive")
        self.window = window
        self.free_failures = free_failures
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.account_limit = account_limit
        self._clock = clock
        self._clients = _FailureTable(max_entries, max_per_key)
        self._accounts = _FailureTable(max_entries, max(max_per_key, account_limit))

    # ------------------------------------------------------------------ questions
    def client_failures(self, client: str) -> int:
        return len(self._clients.recent(client, self._clock() - self.window))

    def account_locked(self, username: str) -> bool:
        return len(self._accounts.recent(username, self._clock() - self.window)) >= self.account_limit

    def client_delay(self, client: str) -> float:
        """Seconds the address must still wait before its next attempt (0 = none)."""
        now = self._clock()
        times = self._clients.recent(client, now - self.window)
        extra = len(times) - self.free_failures
        if extra < 0 or not times:
            return 0.0
        delay = min(self.max_delay, self.base_delay * (2 ** min(extra, 30)))
        return max(0.0, times[-1] + delay - now)

    def check(self, client: str, username: str) -> ThrottleDecision:
        """May ``client`` try to log in as ``username`` now?"""
        wait = self.client_delay(client)
        if wait > 0:
            return ThrottleDecision(False, "client_delay", wait)
        if self.account_locked(username) and self.client_failures(client) > 0:
            times = self._accounts.recent(username, self._clock() - self.window)
            return ThrottleDecision(False, "account_locked", max(0.0, times[-self.account_limit] + self.window - self._clock()))
        return ALLOWED

    # ------------------------------------------------------------------ outcomes
    def failed(self, client: str, username: str, account_exists: bool) -> None:
        now = self._clock()
        self._clients.add(client, now)
        if account_exists:
            self._accounts.add(username, now)

    def succeeded(self, client: str, username: str) -> None:
        self._clients.clear(client)
        self._accounts.clear(username)

    def sizes(self) -> tuple[int, int]:
        """How many addresses and accounts are remembered (for tests and monitoring)."""
        return len(self._clients), len(self._accounts)
