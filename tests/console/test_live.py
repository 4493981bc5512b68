"""Live updates (SSE), claim timeout → ticket offer, and the notification webhook."""

from __future__ import annotations

import asyncio
import json

from bot.handoff.store import MAX_NOTIFY_ATTEMPTS
from tests.console.conftest import eventually
from tests.fakes.webhook_server import FakeWebhook


class Sse:
    """Reads Server-Sent Events from a streaming response."""

    def __init__(self, resp) -> None:
        self.resp = resp

    async def next(self, name: str, timeout: float = 5.0, where=lambda data: True) -> dict:
        async def read():
            event, data = None, []
            while True:
                line = (await self.resp.content.readline()).decode("utf-8")
                if line == "":
                    raise AssertionError("stream ended")
                line = line.rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line == "":
                    if event == name:
                        parsed = json.loads("\n".join(data))
                        if where(parsed):
                            return parsed
                    event, data = None, []

        return await asyncio.wait_for(read(), timeout)


async def test_inbox_updates_live_when_the_action_server_queues_someone(staff_client, store):
    c = await staff_client("suzuki")
    resp = await c.client.get("/api/stream")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
    sse = Sse(resp)
    first = await sse.next("inbox")
    assert first["handoffs"] == []
    h = store.request("conv-live", "web", "gomi", "urgent", "火事です")  # written by "another process"
    update = await sse.next("inbox", where=lambda d: d["handoffs"])
    [item] = update["handoffs"]
    assert (item["id"], item["urgent"], item["department_name"]) == (h.id, True, "ごみ対策課")
    t = store.create_ticket("conv-t", "rest", None, "伝言です", "chat")
    update = await sse.next("inbox", where=lambda d: d["tickets"])
    assert update["tickets"][0]["id"] == t.id
    store.cancel("conv-live")
    update = await sse.next("inbox", where=lambda d: not d["handoffs"])
    assert update["tickets"][0]["id"] == t.id
    resp.close()


async def test_claim_by_someone_else_shows_up_live(staff_client, store):
    h = store.request("conv-1", "rest", None, "requested", "")
    watcher, actor = await staff_client("suzuki"), await staff_client("sato")
    sse = Sse(await watcher.client.get("/api/stream"))
    await sse.next("inbox", where=lambda d: d["handoffs"])
    await actor.post_json(f"/api/handoffs/{h.id}/claim")
    update = await sse.next("inbox", where=lambda d: d["handoffs"] and d["handoffs"][0]["status"] == "claimed")
    assert update["handoffs"][0]["claimed_by_name"] == "佐藤"


async def test_new_resident_messages_in_a_claimed_conversation_are_pushed(staff_client, store, fake_rasa):
    h = store.request("conv-1", "rest", None, "requested", "")
    fake_rasa.add_user_message("conv-1", "担当者と話したい", None, intent="request_human")
    c = await staff_client("suzuki")
    await c.post_json(f"/api/handoffs/{h.id}/claim")
    _, conv = await c.get_json(f"/api/handoffs/{h.id}/conversation")
    assert conv["paused"] is True and conv["cursor"] == 3
    sse = Sse(await c.client.get(f"/api/stream?handoff={h.id}&cursor={conv['cursor']}"))
    fake_rasa.add_user_message("conv-1", "引っ越しの手続きについてです")  # the resident writes while paused
    pushed = await sse.next("conversation")
    assert [i["text"] for i in pushed["items"]] == ["引っ越しの手続きについてです"]
    assert pushed["items"][0]["index"] == 3 and pushed["cursor"] == 4 and pushed["paused"] is True
    await c.post_json(f"/api/handoffs/{h.id}/reply", {"text": "転出届ですね。"})
    pushed = await sse.next("conversation")
    assert pushed["items"][0]["kind"] == "staff" and pushed["items"][0]["staff_name"] == "鈴木"


async def test_stream_parameters_are_checked(staff_client):
    c = await staff_client("suzuki")
    resp = await c.client.get("/api/stream?handoff=abc")
    assert resp.status == 400 and (await resp.json())["error"] == "invalid_id"
    resp = await c.client.get("/api/stream?handoff=404")
    assert resp.status == 404


async def test_stream_ends_with_logout_when_the_session_expires(staff_client, clock):
    from bot.console import keys

    c = await staff_client("suzuki")
    sse = Sse(await c.client.get("/api/stream"))
    await sse.next("inbox")
    clock.advance(minutes=61)
    # the stream checks the session before each event it sends
    c.client.server.app[keys.HUB].publish("inbox", {"handoffs": [], "tickets": [], "departments": []})
    await sse.next("logout")


async def test_unclaimed_handoff_becomes_a_ticket_offer(make_console, aiohttp_client, store, fake_rasa):
    h = store.request("conv-slow", "rest", None, "requested", "")
    kept = store.request("conv-kept", "rest", None, "requested", "")
    store.claim(kept.id, "suzuki")
    await make_console(claim_timeout=1)
    offered = await eventually(lambda: fake_rasa.events_appended("conv-slow"), timeout=6)
    [event] = offered
    assert event["event"] == "bot"
    assert event["data"]["custom"]["type"] == "handoff" and event["data"]["custom"]["status"] == "offer_ticket"
    assert event["data"]["buttons"] == [{"title": "伝言を残す", "payload": "/leave_message"},
                                        {"title": "やめる", "payload": "/handoff_cancel"}]
    assert "伝言" in event["text"]
    assert store.get(h.id).status == "expired"
    assert store.get(kept.id).status == "claimed"
    assert fake_rasa.events_appended("conv-kept") == []
    await asyncio.sleep(0.3)
    assert len(fake_rasa.events_appended("conv-slow")) == 1  # offered once


async def test_ticket_offer_resumes_a_paused_conversation_first(make_console, store, fake_rasa):
    h = store.request("conv-p", "rest", None, "requested", "")
    fake_rasa.tracker("conv-p")["paused"] = True
    await make_console(claim_timeout=1)
    events = await eventually(lambda: fake_rasa.events_appended("conv-p"), timeout=6)
    assert [e["event"] for e in events] == ["resume", "bot"]
    assert store.get(h.id).status == "expired"


async def test_ticket_offer_is_retried_when_rasa_was_down(make_console, store, fake_rasa):
    fake_rasa.down = True
    h = store.request("conv-r", "rest", None, "requested", "")
    await make_console(claim_timeout=1)
    await eventually(lambda: store.get(h.id).status == "expired", timeout=6)
    await asyncio.sleep(0.2)
    assert fake_rasa.appended == []
    fake_rasa.down = False
    await eventually(lambda: fake_rasa.events_appended("conv-r"), timeout=5)


async def test_webhook_is_told_about_every_new_handoff_once(make_console, aiohttp_server, store):
    hook = FakeWebhook()
    server = await aiohttp_server(hook.app)
    await make_console(notify_webhook_url=str(server.make_url("/hook")))
    h1 = store.request("conv-a", "line", "shimin", "urgent", "個人的な質問の本文", language="vi")
    h2 = store.request("conv-b", "rest", None, "cannot_answer", "別の質問", language="ja")
    t = store.create_ticket("conv-c", "rest", "kokuho", "伝言の本文", "chat", language="en")
    received = await hook.wait_for(3)
    by_event = {(n["event"], (n.get("handoff") or n.get("ticket"))["id"]): n for n in received}
    first = by_event[("handoff.created", h1.id)]
    assert first["handoff"] == {"id": h1.id, "department": "shimin", "department_name": "市民課", "reason": "urgent",
                                "channel": "line", "language": "vi", "created_at": h1.created_at}
    assert first["text"].startswith("【緊急】") and first["url"].endswith(f"/handoffs/{h1.id}")
    assert "（市民課・緊急の可能性・ベトナム語）" in first["text"]  # staff may need an interpreter
    assert "（担当課未定・自動応答で回答できず）" in by_event[("handoff.created", h2.id)]["text"]  # Japanese: nothing to add
    assert "（保険年金課・英語）" in by_event[("ticket.created", t.id)]["text"]
    assert ("handoff.created", h2.id) in by_event and ("ticket.created", t.id) in by_event
    assert "担当課未定" in by_event[("handoff.created", h2.id)]["text"]
    # the residents' questions never leave the console
    assert not any(q in json.dumps(received, ensure_ascii=False) for q in ("個人的な質問の本文", "別の質問", "伝言の本文"))
    await asyncio.sleep(0.3)
    assert len(hook.received) == 3


async def test_webhook_failures_are_retried_with_growing_pauses_then_given_up(make_console, aiohttp_server, store):
    hook = FakeWebhook(status=500)
    server = await aiohttp_server(hook.app)
    await make_console(notify_webhook_url=str(server.make_url("/hook")), notify_backoff=0.02)
    store.request("conv-a", "rest", None, "requested", "")
    await hook.wait_for(MAX_NOTIFY_ATTEMPTS, attempts=True, timeout=15)
    await asyncio.sleep(0.5)
    assert hook.attempts == MAX_NOTIFY_ATTEMPTS and hook.received == []
    gaps = [b - a for a, b in zip(hook.times, hook.times[1:])]
    assert gaps[-1] > 4 * gaps[0]  # 0.02 s doubling: the last pause is much longer than the first


async def test_webhook_down_at_first_then_up(make_console, aiohttp_server, store):
    hook = FakeWebhook(status=503)
    server = await aiohttp_server(hook.app)
    await make_console(notify_webhook_url=str(server.make_url("/hook")))
    h = store.request("conv-a", "rest", None, "requested", "")
    await hook.wait_for(1, attempts=True)
    hook.status = 200
    [notice] = await hook.wait_for(1)
    assert notice["handoff"]["id"] == h.id


async def test_no_webhook_configured_means_no_calls(console, store):
    store.request("conv-a", "rest", None, "requested", "")
    await asyncio.sleep(0.3)
    assert store.unnotified_handoffs()  # still unannounced, nothing was sent anywhere


async def test_a_database_outage_is_logged_once_and_its_end_too(make_console, store, caplog, monkeypatch):
    import logging

    from bot.console import keys
    from bot.db import DatabaseUnavailable

    real = store.expired_unclaimed
    calls = {"n": 0}

    def down_three_times(*args):
        calls["n"] += 1
        if calls["n"] <= 3:
            raise DatabaseUnavailable("cannot connect to PostgreSQL at db:5432: Connection refused")
        return real(*args)

    server = await make_console()
    console_store = server.app[keys.STORE]
    monkeypatch.setattr(console_store, "expired_unclaimed", down_three_times)
    with caplog.at_level(logging.WARNING, logger="bot.console.live"):
        await eventually(lambda: calls["n"] > 4)
    said = [r.getMessage() for r in caplog.records if r.name == "bot.console.live"]
    assert said == ["console: the database cannot be reached (cannot connect to PostgreSQL at db:5432: Connection "
                    "refused); trying again every 0.05 s", "console: the database answers again"]
