"""A fake notification webhook (e.g. a city's chat tool): records every JSON POST.

Usage with pytest-aiohttp::

    hook = FakeWebhook()
    server = await aiohttp_server(hook.app)
    url = str(server.make_url("/hook"))
    ...
    notices = await hook.wait_for(1)
"""

from __future__ import annotations

import asyncio

from aiohttp import web


class FakeWebhook:
    """Answers ``status`` (200 by default) to ``POST /hook`` and keeps the JSON bodies."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[dict] = []
        self.attempts = 0
        self.times: list[float] = []  # loop time of each call
        self._changed = asyncio.Event()
        self.app = web.Application()
        self.app.router.add_post("/hook", self._hook)

    async def _hook(self, request: web.Request) -> web.Response:
        self.attempts += 1
        self.times.append(asyncio.get_running_loop().time())
        body = await request.json()
        if self.status >= 400:
            self._changed.set()
            return web.json_response({"ok": False}, status=self.status)
        self.received.append(body)
        self._changed.set()
        return web.json_response({"ok": True}, status=self.status)

    async def wait_for(self, count: int, timeout: float = 5.0, attempts: bool = False) -> list[dict]:
        """Wait until ``count`` notices arrived (or ``count`` attempts with ``attempts``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while (self.attempts if attempts else len(self.received)) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"expected {count} webhook calls, got {len(self.received)} ({self.attempts} attempts)")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass
        return self.received
