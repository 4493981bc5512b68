"""A small client for Rasa's HTTP API: append events to a conversation and deliver them.

This is the delivery seam (docs/architecture.md): a staff reply or a hand-off notice is
appended to the tracker as a ``bot`` event, and Rasa sends it to the resident through the
output channel of the input channel they last used.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp
import yarl

from bot.errors import MadoguchiError


class RasaApiError(MadoguchiError):
    """Rasa's HTTP API did not accept a request."""


def bot_event(text: str, custom: dict[str, Any], buttons: list[dict] | None = None) -> dict:
    """A ``BotUttered`` event in Rasa's JSON form, following the reply contract."""
    data: dict[str, Any] = {"custom": custom}
    if buttons:
        data["buttons"] = buttons
    return {"event": "bot", "text": text, "data": data}


# What may stay as it is inside one path segment (RFC 3986 pchar): ":" and "@" too, so
# that LINE's "line:U…" ids arrive unchanged. Rasa's server (Sanic) matches the raw path
# and does not decode escapes, so an escaped character names a different (literal) id.
_SEGMENT_SAFE = "-._~!$&'()*+,;=:@"


def conversation_path(sender_id: str) -> str:
    """``/conversations/<id>`` with the id percent-encoded as one path segment.

    Sender ids are checked at the edge (bot.channels.senders), but an id is never trusted
    to be a single segment: ``a/../b`` becomes ``a%2F..%2Fb``, never another conversation
    (``/``, ``?``, ``#`` and ``%`` are always escaped). aiohttp must not re-quote the URL
    (``encoded=True``) or normalise ``..`` away.
    """
    return f"/conversations/{quote(sender_id, safe=_SEGMENT_SAFE)}"


class RasaApi:
    """Talks to ``rasa run --enable-api`` with one shared aiohttp session."""

    def __init__(self, base_url: str, token: str, session: aiohttp.ClientSession) -> None:
        self._base = base_url.rstrip("/")
        self._token = token
        self._session = session

    def _url(self, path: str, params: dict[str, str]) -> yarl.URL:
        return yarl.URL(self._base + path, encoded=True).update_query(params)

    async def append_events(self, sender_id: str, events: list[dict], deliver: bool = True) -> dict:
        """Append events; with ``deliver``, bot events are sent to the resident's channel."""
        params = {"token": self._token, "output_channel": "latest"}
        if deliver:
            params["execute_side_effects"] = "true"
        url = self._url(f"{conversation_path(sender_id)}/tracker/events", params)
        async with self._session.post(url, json=events) as resp:
            if resp.status >= 400:
                raise RasaApiError(f"Rasa refused the events for {sender_id}: HTTP {resp.status} {await resp.text()}")
            return await resp.json()

    async def tracker(self, sender_id: str) -> dict:
        """The conversation's tracker (all events)."""
        url = self._url(f"{conversation_path(sender_id)}/tracker", {"token": self._token, "include_events": "ALL"})
        async with self._session.get(url) as resp:
            if resp.status >= 400:
                raise RasaApiError(f"cannot read the conversation {sender_id}: HTTP {resp.status}")
            return await resp.json()

    async def load_model(self, model_file: str, timeout: float = 300.0) -> None:
        """Load a trained model into the running server (``PUT /model``).

        Rasa keeps answering with the old model until the new one is loaded, then
        swaps them: no downtime. ``model_file`` must be a path the server can read.
        """
        url = f"{self._base}/model"
        async with self._session.put(
            url, params={"token": self._token}, json={"model_file": str(model_file)},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as resp:
            if resp.status >= 400:
                raise RasaApiError(f"Rasa could not load the model {model_file}: HTTP {resp.status} {await resp.text()}")
