"""The REST channel (``POST /webhooks/rest/webhook``) with the Madoguchi reply contract.

Replaces Rasa's stock ``rest`` channel (same name and URL) so that:

* each bot message comes back as one object with ``text``, ``buttons`` and the
  machine-readable ``custom`` metadata together (the stock channel splits them);
* bad input gets a 4xx with a clear JSON error instead of a 500.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from typing import Any, Awaitable, Callable, Dict, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.common import (MAX_BODY_BYTES, InputRejected, body_too_large, parse_json_object, prepare_text,
                                 processing_failed_reply)
from bot.channels.senders import rest_sender

logger = logging.getLogger(__name__)

# Japanese stays readable in the JSON we send back.
_dumps = functools.partial(json.dumps, ensure_ascii=False)


def _json_response(body, status: int = 200) -> HTTPResponse:
    return response.json(body, status=status, dumps=_dumps)


class ContractOutputChannel(CollectingOutputChannel):
    """Collects bot messages, keeping text, buttons and ``custom`` in one message."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        out: Dict[Text, Any] = {"recipient_id": recipient_id}
        for key in ("text", "buttons", "quick_replies", "image", "attachment", "custom"):
            if message.get(key):
                out[key] = message[key]
        if "quick_replies" in out and "buttons" not in out:
            out["buttons"] = out.pop("quick_replies")
        self.messages.append(out)


class MadoguchiRestInput(InputChannel):
    """REST input channel: ``{"sender": "...", "message": "..."}`` in, bot messages out."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Any) -> "MadoguchiRestInput":
        # Rasa's speed-ups and fixes are installed by the entry point (bot/rasa_server.py).
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("madoguchi_rest_webhook", __name__)

        @bp.listener("before_server_stop")
        async def close_kept_sessions(*_: Any) -> None:
            # The HTTP sessions bot.rasa_speedups keeps open to the action server.
            from bot import rasa_speedups

            await rasa_speedups.close_sessions()

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return _json_response({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                if len(request.body or b"") > MAX_BODY_BYTES:
                    raise body_too_large()
                body = parse_json_object(request.body)
                sender = rest_sender(body.get("sender"))
                text = prepare_text(body.get("message"))
            except InputRejected as rejected:
                return _json_response(rejected.as_json(), status=rejected.status)
            # Client metadata is not passed on: it would reach the tracker store unmasked.
            metadata = None
            collector = ContractOutputChannel()
            try:
                await on_new_message(
                    UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata)
                )
            except asyncio.CancelledError:
                logger.error("rest: message processing was cancelled (timeout)")
            except Exception:  # a resident must never see a 500
                logger.exception("rest: could not process a message")
                return _json_response(processing_failed_reply(sender), status=200)
            return _json_response(collector.messages)

        return bp
