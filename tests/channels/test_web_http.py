"""The web channel over real HTTP on loopback: a Sanic app registered the way Rasa does it,
with a fake agent in place of Rasa's dialogue (the browser tests use the real one)."""

from __future__ import annotations

import asyncio
import itertools
import json

import aiohttp
import pytest
from rasa.core.channels.channel import register
from sanic import Sanic

from bot.channels.web import WebChannelConfig, WebInput

SENDER = "web-" + "ab" * 16
_app_names = itertools.count()


class FakeAgent:
    """Answers like Rasa: through the message's output channel, in the reply contract."""

    def __init__(self) -> None:
        self.received = []

    async def handle_message(self, message) -> None:
        self.received.append(message)
        if message.text == "boom":
            raise RuntimeError("the dialogue failed")
        await message.output_channel.send_response(
            message.sender_id,
            {"text": f"受け付けました：{message.text}", "buttons": [{"title": "はい", "payload": "/affirm"}],
             "custom": {"type": "answer", "faq_id": "x", "confidence": 0.9, "candidates": []}},
        )


@pytest.fixture()
def pristine_sanic():
    """Sanic rewrites some of its own methods when an app starts (TouchUp), which breaks the
    next start in the same process; put them back afterwards."""
    from sanic.touchup import TouchUp

    saved = {(target, name): getattr(target, name) for target, name in TouchUp._registry}
    yield
    for (target, name), method in saved.items():
        setattr(target, name, method)


@pytest.fixture()
async def server(unused_tcp_port, tmp_path, pristine_sanic):
    web = tmp_path / "web"
    (web / "demo").mkdir(parents=True)
    (web / "widget.js").write_text("window.x = 1;", encoding="utf-8")
    (web / "widget.css").write_text(".mdg{}", encoding="utf-8")
    (web / "demo" / "index.html").write_text("<!doctype html><title>サンプル市</title>", encoding="utf-8")
    (web / "demo" / "gomi.html").write_text("<!doctype html><title>ごみ</title>", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    channel = WebInput(WebChannelConfig(web_dir=web, heartbeat_seconds=0.2, max_stream_seconds=30, max_streams_per_sender=2))
    app = Sanic(f"web_channel_test_{next(_app_names)}", configure_logging=False)
    app.ctx.agent = FakeAgent()
    register([channel], app, route="/webhooks/")
    srv = await app.create_server(host="127.0.0.1", port=unused_tcp_port, return_asyncio_server=True)
    await srv.startup()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield {"url": f"http://127.0.0.1:{unused_tcp_port}/webhooks/web/", "channel": channel,
               "agent": app.ctx.agent, "http": session}
    srv.close()
    await srv.wait_closed()


async def post(server, body, raw: bool = False):
    data = body if raw else json.dumps(body, ensure_ascii=False).encode()
    async with server["http"].post(server["url"] + "webhook", data=data, headers={"Content-Type": "application/json"}) as resp:
        return resp.status, await resp.json()


async def read_event(resp) -> dict:
    """One server-sent event as a dict of its fields (comment lines are returned as "comment")."""
    fields: dict = {}
    while True:
        line = (await asyncio.wait_for(resp.content.readline(), 5)).decode()
        if line == "":
            raise EOFError("the stream ended")
        line = line.rstrip("\n")
        if not line:
            if fields:
                return fields
            continue
        if line.startswith(":"):
            return {"comment": line[1:].strip()}
        key, _, value = line.partition(":")
        fields[key] = value[1:] if value.startswith(" ") else value


async def open_stream(server, sender=SENDER, headers=None, query=""):
    return await server["http"].get(f"{server['url']}events?sender={sender}{query}", headers=headers or {})


# --------------------------------------------------------------------------- webhook
async def test_webhook_follows_the_rest_contract(server):
    status, body = await post(server, {"sender": SENDER, "message": "住民票は\x07どこ？"})
    assert status == 200
    assert body == [{
        "recipient_id": SENDER, "text": "受け付けました：住民票は どこ？",
        "buttons": [{"title": "はい", "payload": "/affirm"}],
        "custom": {"type": "answer", "faq_id": "x", "confidence": 0.9, "candidates": [],
                   # furigana of the Japanese text (bot/i18n/furigana.py)
                   "ruby": [["受", "う"], ["け", ""], ["付", "つ"], ["けました：", ""], ["住民票", "じゅうみんひょう"], ["は どこ？", ""]]},
    }]
    [message] = server["agent"].received
    assert message.input_channel == "web"  # so output_channel=latest finds this channel
    assert message.output_channel.name() == "web"
    assert message.sender_id == SENDER


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"{not json", 400, "invalid_json"),
        (b"\xff\xfe", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_json"),
        (b"", 400, "invalid_json"),
        (json.dumps({"message": "こんにちは"}).encode(), 400, "missing_sender"),
        (json.dumps({"sender": "resident-1", "message": "こんにちは"}).encode(), 400, "invalid_sender"),
        (json.dumps({"sender": SENDER}).encode(), 400, "invalid_message"),
        (json.dumps({"sender": SENDER, "message": " \x00\t\x7f "}).encode(), 400, "empty_message"),
        (json.dumps({"sender": SENDER, "message": "あ" * 2001}).encode(), 413, "message_too_long"),
        (json.dumps({"sender": SENDER, "message": "a" * 40_000}).encode(), 413, "message_too_long"),
    ],
    ids=["broken", "not-utf8", "array", "empty-body", "no-sender", "rest-sender", "no-message", "blank",
         "2001-chars", "huge-body"],
)
async def test_bad_requests_get_a_4xx_with_a_japanese_message(server, body, status, code):
    got_status, got = await post(server, body, raw=True)
    assert (got_status, got["error"]) == (status, code)
    assert got["message"] and not got["message"].isascii()
    assert server["agent"].received == []


async def test_emoji_only_is_passed_on(server):
    status, body = await post(server, {"sender": SENDER, "message": "😀"})
    assert status == 200 and body[0]["text"] == "受け付けました：😀"


async def test_a_failing_dialogue_gives_an_error_message_not_a_500(server):
    status, body = await post(server, {"sender": SENDER, "message": "boom"})
    assert status == 200
    assert body == [{"recipient_id": SENDER, "custom": {"type": "error"},
                     "text": "申し訳ありません。ただいま応答できません。しばらくしてからもう一度お試しください。"}]


# --------------------------------------------------------------------------- event stream
async def test_stream_delivers_pushed_messages(server):
    channel = server["channel"]
    async with await open_stream(server) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        assert resp.headers["Cache-Control"] == "no-cache, no-transform"
        assert await read_event(resp) == {"retry": "3000"}
        ready = await read_event(resp)
        assert ready == {"id": str(channel.hub.last_id), "event": "ready", "data": "{}"}
        # What Rasa does for POST /conversations/{id}/tracker/events?output_channel=latest
        await channel.get_output_channel().send_response(
            SENDER, {"text": "職員の田中です。", "custom": {"type": "staff", "staff_name": "田中"}})
        event = await read_event(resp)
        assert int(event["id"]) == int(ready["id"]) + 1
        assert json.loads(event["data"]) == {
            "recipient_id": SENDER, "text": "職員の田中です。", "custom": {
                "type": "staff", "staff_name": "田中",
                "ruby": [["職員", "しょくいん"], ["の", ""], ["田中", "たなか"], ["です。", ""]]}}
        assert await read_event(resp) == {"comment": "keep-alive"}  # heartbeat every 0.2 s here


async def test_a_push_for_another_conversation_is_not_delivered(server):
    channel = server["channel"]
    async with await open_stream(server) as resp:
        await read_event(resp), await read_event(resp)
        await channel.get_output_channel().send_response("web-" + "cd" * 16, {"text": "ほかの人へ"})
        assert await read_event(resp) == {"comment": "keep-alive"}


@pytest.mark.parametrize("how", ["header", "query"])
async def test_reconnecting_browser_gets_what_it_missed(server, how):
    channel = server["channel"]
    out = channel.get_output_channel()
    async with await open_stream(server) as resp:
        await read_event(resp)
        last_seen = (await read_event(resp))["id"]
    # While the browser is away (network drop, page change):
    await out.send_response(SENDER, {"text": "1通目"})
    await out.send_response(SENDER, {"text": "2通目"})
    if how == "header":  # EventSource's own reconnect
        stream = await open_stream(server, headers={"Last-Event-ID": last_seen})
    else:  # the widget on a new page
        stream = await open_stream(server, query=f"&last_event_id={last_seen}")
    async with stream as resp:
        assert (await read_event(resp)) == {"retry": "3000"}
        texts = [json.loads((await read_event(resp))["data"])["text"] for _ in range(2)]
        assert texts == ["1通目", "2通目"]
        assert (await read_event(resp))["event"] == "ready"


async def test_a_new_stream_without_an_id_gets_no_old_messages(server):
    await server["channel"].get_output_channel().send_response(SENDER, {"text": "古い"})
    async with await open_stream(server, headers={"Last-Event-ID": "not-a-number"}) as resp:
        await read_event(resp)
        assert (await read_event(resp))["event"] == "ready"


@pytest.mark.parametrize("sender", ["", "resident-1", "web-" + "z" * 32])
async def test_stream_needs_a_widget_sender_id(server, sender):
    async with await open_stream(server, sender=sender) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"] in ("missing_sender", "invalid_sender")


async def test_stream_limit_per_conversation(server):
    a = await open_stream(server)
    b = await open_stream(server)
    try:
        await read_event(a), await read_event(b)
        async with await open_stream(server) as c:
            assert c.status == 429
            body = await c.json()
            assert body["error"] == "too_many_streams" and "タブ" in body["message"]
    finally:
        a.close()
        b.close()


async def test_closed_streams_are_forgotten(server):
    hub = server["channel"].hub
    resp = await open_stream(server)
    await read_event(resp)
    assert hub.stream_count(SENDER) == 1
    resp.close()
    for _ in range(50):
        if hub.stream_count(SENDER) == 0:
            break
        await asyncio.sleep(0.05)
    assert hub.stream_count() == 0


async def test_stream_ends_after_its_maximum_time(server):
    server["channel"].config = WebChannelConfig(web_dir=server["channel"].config.web_dir, heartbeat_seconds=0.1, max_stream_seconds=0.3)
    async with await open_stream(server) as resp:
        events = []
        with pytest.raises(EOFError):
            for _ in range(20):
                events.append(await read_event(resp))
        assert events[0] == {"retry": "3000"} and events[1]["event"] == "ready"
        assert 1 <= len([e for e in events if e.get("comment") == "keep-alive"]) <= 4


# --------------------------------------------------------------------------- files
@pytest.mark.parametrize(
    "path, content_type, text",
    [
        ("widget.js", "application/javascript; charset=utf-8", "window.x = 1;"),
        ("widget.css", "text/css; charset=utf-8", ".mdg{}"),
        ("demo", "text/html; charset=utf-8", "サンプル市"),
        ("demo/", "text/html; charset=utf-8", "サンプル市"),
        ("demo/gomi", "text/html; charset=utf-8", "ごみ"),
    ],
)
async def test_widget_files_and_demo_pages(server, path, content_type, text):
    async with server["http"].get(server["url"] + path) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == content_type
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert text in await resp.text()


async def test_unchanged_files_are_not_sent_again(server):
    async with server["http"].get(server["url"] + "widget.js") as resp:
        etag = resp.headers["ETag"]
    async with server["http"].get(server["url"] + "widget.js", headers={"If-None-Match": etag}) as resp:
        assert resp.status == 304 and await resp.read() == b""
    async with server["http"].get(server["url"] + "widget.js", headers={"If-None-Match": '"old"'}) as resp:
        assert resp.status == 200 and await resp.text() == "window.x = 1;"


@pytest.mark.parametrize("path", ["secret.txt", "..%2Fsecret.txt", "demo/..%2F..%2Fsecret.txt", "demo/index.html", "widget.js.map"])
async def test_nothing_else_is_served(server, path):
    async with server["http"].get(server["url"] + path) as resp:
        assert resp.status == 404
        assert (await resp.json())["error"] == "not_found"


async def test_health(server):
    async with server["http"].get(server["url"]) as resp:
        assert resp.status == 200 and await resp.json() == {"status": "ok"}


async def test_real_widget_files_are_there():
    channel = WebInput()
    for name in ("widget.js", "widget.css", "demo/index.html", "demo/gomi.html"):
        assert (channel.config.web_dir / name).stat().st_size > 100, name
    demo = (channel.config.web_dir / "demo" / "index.html").read_text(encoding="utf-8")
    assert '<script src="/webhooks/web/widget.js" defer' in demo and "サンプル市" in demo
