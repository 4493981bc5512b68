"""The REST and web webhooks over real HTTP on loopback with a fake agent: sender forms and
malformed bodies get 4xx with the error contract, never a 500 (the probe's corpus)."""

from __future__ import annotations

import itertools
import json

import aiohttp
import pytest
from rasa.core.channels.channel import register
from sanic import Sanic

from bot.channels.rest import MadoguchiRestInput
from bot.channels.web import WebChannelConfig, WebInput
from tests.channels.test_web_http import FakeAgent, pristine_sanic  # noqa: F401 - fixture

WEB_SENDER = "web-" + "cd" * 16
_app_names = itertools.count()


@pytest.fixture()
async def server(unused_tcp_port, pristine_sanic):  # noqa: F811
    app = Sanic(f"rest_channel_test_{next(_app_names)}", configure_logging=False)
    app.ctx.agent = FakeAgent()
    register([MadoguchiRestInput(), WebInput(WebChannelConfig())], app, route="/webhooks/")
    srv = await app.create_server(host="127.0.0.1", port=unused_tcp_port, return_asyncio_server=True)
    await srv.startup()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield {"url": f"http://127.0.0.1:{unused_tcp_port}/webhooks/", "agent": app.ctx.agent, "http": session}
    srv.close()
    await srv.wait_closed()


async def post(server, channel: str, data: bytes):
    async with server["http"].post(f"{server['url']}{channel}/webhook", data=data,
                                   headers={"Content-Type": "application/json"}) as resp:
        return resp.status, await resp.json()


def body(sender, message="住民票") -> bytes:
    return json.dumps({"sender": sender, "message": message}).encode()


@pytest.mark.parametrize("sender", ["p2-att/../p2-victim-X", "line:U" + "1" * 32, "taro.yamada@example.jp",
                                    "090-1234-5678", "a b"])
async def test_rest_refuses_unsafe_sender_ids_before_rasa_sees_them(server, sender):
    status, got = await post(server, "rest", body(sender))
    assert (status, got["error"]) == (400, "invalid_sender")
    assert "sender" in got["message"]
    assert server["agent"].received == []


async def test_rest_accepts_a_plain_sender(server):
    status, [reply] = await post(server, "rest", body("resident-1"))
    assert status == 200 and reply["recipient_id"] == "resident-1"
    assert [m.sender_id for m in server["agent"].received] == ["resident-1"]


def nested(depth: int) -> bytes:
    return b'{"sender": "resident-1", "message": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("channel", ["rest", "web"])
@pytest.mark.parametrize("depth", [1000, 10_000])
async def test_deeply_nested_json_is_a_400(server, channel, depth):
    status, got = await post(server, channel, nested(depth))
    assert (status, got["error"]) == (400, "invalid_json")
    assert "入れ子が深すぎます" in got["message"]


@pytest.mark.parametrize("channel, sender", [("rest", "resident-1"), ("web", WEB_SENDER)])
@pytest.mark.parametrize("escape", ["\\ud800", "\\udfff", "a\\udc00b", "\\ud83d"])
async def test_lone_surrogates_are_a_400_with_a_clear_message(server, channel, sender, escape):
    raw = ('{"sender": "%s", "message": "住民票%s"}' % (sender, escape)).encode()
    status, got = await post(server, channel, raw)
    assert (status, got["error"]) == (400, "invalid_message")
    assert "サロゲート" in got["message"] and "UTF-8" in got["message"]
    raw = ('{"sender": "%s%s", "message": "住民票"}' % (sender, escape)).encode()
    status, got = await post(server, channel, raw)
    assert (status, got["error"]) == (400, "invalid_sender")
    assert server["agent"].received == []


@pytest.mark.parametrize("channel", ["rest", "web"])
async def test_a_huge_body_is_refused_before_it_is_parsed(server, channel):
    sender = "resident-1" if channel == "rest" else WEB_SENDER
    # A short question padded with megabytes the webhook would otherwise parse and ignore.
    raw = b'{"sender": "%s", "message": "\xe4\xbd\x8f", "pad": "' % sender.encode() + b"a" * (5 * 1024 * 1024) + b'"}'
    status, got = await post(server, channel, raw)
    assert (status, got["error"]) == (413, "message_too_long") and "2000文字以内" in got["message"]
    assert server["agent"].received == []


async def test_a_proper_surrogate_pair_is_a_character(server):
    raw = b'{"sender": "resident-1", "message": "\\ud83d\\ude00 \\u4f4f\\u6c11\\u7968"}'
    status, [reply] = await post(server, "rest", raw)
    assert status == 200 and reply["text"] == "受け付けました：😀 住民票"


# The probe's malformed-input corpus, bounded: every body gets a 4xx and the contract's keys.
CORPUS = [b"", b"{", b"null", b"1", b'"x"', b"[]", b"{}", b"\xff\xfe\x00", b'{"sender": null}',
          b'{"sender": {}, "message": "x"}', b'{"sender": ["a"], "message": "x"}',
          b'{"sender": "resident-1", "message": null}', b'{"sender": "resident-1", "message": {"a": 1}}',
          b'{"sender": "resident-1", "message": "' + b"a" * 3000 + b'"}', b'{"sender": "' + b"a" * 500 + b'", "message": "x"}',
          b'{"sender": "resident-1", "message": "\\u0000\\u200b"}', b'{"sender": "resident-1", "message": 1e999}',
          b'{"sender": "resident-1", "message": "x", "message": 5}', nested(5000), b"[" * 50_000]


@pytest.mark.parametrize("channel", ["rest", "web"])
async def test_malformed_corpus_never_gets_a_5xx(server, channel):
    for raw in CORPUS:
        status, got = await post(server, channel, raw)
        assert 400 <= status < 500, (raw[:60], status, got)
        assert set(got) == {"error", "message"} and got["message"], raw[:60]
    assert server["agent"].received == []
