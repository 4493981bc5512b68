"""A fake of Rasa's HTTP API (the delivery seam): trackers in memory, every append recorded.

Implements the two calls the console makes, with Rasa's semantics that matter here:
``GET /conversations/{id}/tracker`` and ``POST /conversations/{id}/tracker/events``
(``pause`` / ``resume`` set the tracker's ``paused`` flag; bot events are "delivered",
i.e. recorded in ``delivered``). The token must match, as with ``rasa run --auth-token``.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web


class FakeRasa:
    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self.trackers: dict[str, dict] = {}
        self.appended: list[tuple[str, list[dict], dict]] = []  # (sender, events, query)
        self.delivered: list[tuple[str, dict]] = []  # bot events sent to the resident's channel
        self.down = False  # answer every call with HTTP 500
        self.append_delay = 0.0  # seconds each append takes (widens race windows)
        self.app = web.Application()
        self.app.router.add_get("/conversations/{sender}/tracker", self._tracker)
        self.app.router.add_post("/conversations/{sender}/tracker/events", self._append)

    def tracker(self, sender: str) -> dict:
        return self.trackers.setdefault(sender, {"sender_id": sender, "events": [], "paused": False})

    def _add(self, sender: str, event: dict) -> None:
        event = {**event, "timestamp": event.get("timestamp", time.time())}
        t = self.tracker(sender)
        t["events"].append(event)
        if event["event"] == "pause":
            t["paused"] = True
        elif event["event"] == "resume":
            t["paused"] = False

    def add_user_message(self, sender: str, text: str, decision: dict | None = None, intent: str = "faq") -> None:
        """What a channel + Rasa NLU record for a resident's message."""
        parse = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
        if decision is not None:
            parse["madoguchi"] = decision
        self._add(sender, {"event": "user", "text": text, "parse_data": parse, "input_channel": "rest"})

    def add_bot_message(self, sender: str, text: str, custom: dict, buttons: list | None = None) -> None:
        self._add(sender, {"event": "bot", "text": text, "data": {"custom": custom, "buttons": buttons}})

    def events_appended(self, sender: str) -> list[dict]:
        return [e for s, events, _ in self.appended if s == sender for e in events]

    def _check(self, request: web.Request) -> None:
        if self.down:
            raise web.HTTPInternalServerError(text="down on purpose")
        if request.query.get("token") != self.token:
            raise web.HTTPUnauthorized(text="bad token")

    async def _tracker(self, request: web.Request) -> web.Response:
        self._check(request)
        return web.json_response(self.tracker(request.match_info["sender"]))

    async def _append(self, request: web.Request) -> web.Response:
        self._check(request)
        sender = request.match_info["sender"]
        events = await request.json()
        if self.append_delay:
            await asyncio.sleep(self.append_delay)
        self.appended.append((sender, events, dict(request.query)))
        for e in events:
            self._add(sender, e)
            if e.get("event") == "bot" and request.query.get("execute_side_effects") == "true":
                self.delivered.append((sender, e))
        return web.json_response(self.tracker(sender))
