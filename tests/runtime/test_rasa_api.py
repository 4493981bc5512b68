"""RasaApi builds URLs that name exactly one conversation, whatever the sender id holds."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from bot.runtime.rasa_api import RasaApi, conversation_path


def test_conversation_path_is_one_segment():
    assert conversation_path("resident-1") == "/conversations/resident-1"
    assert conversation_path("p2-att/../p2-victim-X") == "/conversations/p2-att%2F..%2Fp2-victim-X"
    assert conversation_path("line:U1") == "/conversations/line:U1"  # as Rasa (Sanic, raw path) must see it
    assert conversation_path("a?b#c %") == "/conversations/a%3Fb%23c%20%25"
    assert conversation_path("..") == "/conversations/.."  # one segment; the client must not normalise it


@pytest.fixture()
async def recording_rasa(aiohttp_server):
    seen: list[tuple[str, str, dict]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append((request.method, request.raw_path, dict(request.query)))
        return web.json_response({"events": []})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as session:
        yield RasaApi(str(server.make_url("")), "tok&en", session), seen


async def test_requests_reach_only_the_named_conversation(recording_rasa):
    api, seen = recording_rasa
    await api.append_events("p2-att/../p2-victim-X", [{"event": "pause"}])
    await api.tracker("p2-att/../p2-victim-X")
    await api.tracker("..")
    (m1, path1, q1), (m2, path2, q2), (_, path3, _) = seen
    assert (m1, path1.split("?")[0]) == ("POST", "/conversations/p2-att%2F..%2Fp2-victim-X/tracker/events")
    assert q1 == {"token": "tok&en", "output_channel": "latest", "execute_side_effects": "true"}
    assert (m2, path2.split("?")[0]) == ("GET", "/conversations/p2-att%2F..%2Fp2-victim-X/tracker")
    assert q2 == {"token": "tok&en", "include_events": "ALL"}
    assert path3.split("?")[0] == "/conversations/../tracker"  # not normalised to /tracker
