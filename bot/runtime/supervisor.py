"""Keep the servers of ``bot run`` up: restart one that crashed, with backoff; give up
only when it keeps crashing, saying which one and where its log is.

:class:`RestartPolicy` is the pure decision (how long to wait, or give up);
:class:`Supervisor` watches the processes and restarts them through two callables, so
it is tested with tiny scripts instead of the real servers.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Deque, Dict, Optional

from bot.errors import MadoguchiError

logger = logging.getLogger(__name__)

LABELS = {"actions": "action server", "rasa": "Rasa server", "console": "staff console"}


class ServerKeepsCrashing(MadoguchiError):
    """A server crashed too often in a short time; everything was stopped."""


@dataclass
class RestartPolicy:
    """Restart after 1 s, 2 s, 4 s … (at most ``max_delay``); give up on the
    ``max_crashes``-th crash of one server within ``window`` seconds."""

    max_crashes: int = 5
    window: float = 600.0
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, crashes_in_window: int) -> Optional[float]:
        """Seconds to wait before restarting after the n-th recent crash; None = give up."""
        if crashes_in_window >= self.max_crashes:
            return None
        return min(self.max_delay, self.base_delay * 2 ** max(0, crashes_in_window - 1))


@dataclass
class _Watched:
    name: str
    crashes: Deque[float] = field(default_factory=deque)
    restart_at: Optional[float] = None  # set while waiting to restart


class Supervisor:
    """Watches named processes; restarts the ones that exit (they should never exit).

    Args:
        current: the running process of a name.
        respawn: starts the name's process again and returns it.
        names: what to watch (``actions``, ``rasa``, ``console``).
        report: one line for the operator per event (crash, restart).
        log_hint: where the logs are, for the give-up message.
    """

    def __init__(
        self,
        current: Callable[[str], subprocess.Popen],
        respawn: Callable[[str], subprocess.Popen],
        names: list[str],
        *,
        policy: RestartPolicy | None = None,
        report: Callable[[str], None] = lambda line: None,
        log_hint: str = "",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        interval: float = 0.5,
    ) -> None:
        self._current = current
        self._respawn = respawn
        self._watched: Dict[str, _Watched] = {n: _Watched(n) for n in names}
        self.policy = policy or RestartPolicy()
        self._report = report
        self._log_hint = log_hint
        self._clock = clock
        self._sleep = sleep
        self._interval = interval
        self.restarts = 0

    def _say(self, line: str) -> None:
        logger.warning(line)
        self._report(line)

    def check_once(self) -> None:
        """Look at every process once: note crashes, restart the ones whose wait is over."""
        now = self._clock()
        for w in self._watched.values():
            label = LABELS.get(w.name, w.name)
            if w.restart_at is not None:
                if now >= w.restart_at:
                    w.restart_at = None
                    proc = self._respawn(w.name)
                    self.restarts += 1
                    self._say(f"{label} restarted (pid {proc.pid})")
                continue
            code = self._current(w.name).poll()
            if code is None:
                continue
            while w.crashes and w.crashes[0] < now - self.policy.window:
                w.crashes.popleft()
            w.crashes.append(now)
            delay = self.policy.delay(len(w.crashes))
            if delay is None:
                where = f" (see {self._log_hint})" if self._log_hint else ""
                raise ServerKeepsCrashing(
                    f"the {label} crashed {len(w.crashes)} times in {self.policy.window:.0f} s "
                    f"(last exit code {code}); stopping everything{where}",
                    hint=f"read the end of the {label}'s log, fix the cause, and start again with `bot run`",
                )
            self._say(f"{label} exited with code {code}; restarting it in {delay:.0f} s "
                      f"(crash {len(w.crashes)} of at most {self.policy.max_crashes - 1} in {self.policy.window:.0f} s)")
            w.restart_at = now + delay

    def run(self) -> None:
        """Watch until interrupted (KeyboardInterrupt) or a server keeps crashing."""
        while True:
            self.check_once()
            self._sleep(self._interval)
