"""Inbox changes across consoles through PostgreSQL LISTEN/NOTIFY (bot/console/changes.py),
on a real PostgreSQL on loopback. The consoles here poll once an hour, so only a notice
can bring a change: the tests fail if NOTIFY does not work."""

from __future__ import annotations

import asyncio
import select
from dataclasses import replace

import psycopg2
import pytest

from bot.console import keys
from bot.console.accounts import StaffAccounts
from bot.console.app import create_app
from bot.db import open_database
from bot.handoff.store import CHANGES_CHANNEL, HandoffStore
from tests.console.conftest import PASSWORD, StaffClient, eventually
from tests.console.test_live import Sse

NEVER = 3600.0  # the consoles' poll interval: no change can arrive by polling during a test


def notices(conn, wait: float = 0.0) -> int:
    """How many notices ``conn`` has received (waiting up to ``wait`` s for the first one)."""
    if not conn.notifies and wait:
        select.select([conn], [], [], wait)
    conn.poll()
    n = len(conn.notifies)
    conn.notifies.clear()
    return n


def test_a_notice_is_sent_at_commit_and_never_after_a_rollback(postgres_server):
    url = postgres_server.fresh_schema_url()
    db = open_database(url)
    listener = psycopg2.connect(url)
    listener.autocommit = True
    listener.cursor().execute(f'LISTEN "{CHANGES_CHANNEL}"')
    with pytest.raises(RuntimeError):
        with db.transaction("handoff"):
            db.notify(CHANGES_CHANNEL)
            raise RuntimeError("rolled back")
    assert notices(listener, wait=0.5) == 0
    with db.transaction("handoff"):
        db.notify(CHANGES_CHANNEL)
        assert notices(listener) == 0  # not before the commit
        db.notify(CHANGES_CHANNEL)
    assert notices(listener, wait=5) == 1  # the same notice twice in one transaction arrives once
    store = HandoffStore(db)
    store.request("conv-n", "web", None, "requested", "q")
    assert notices(listener, wait=5) == 1
    listener.close()


@pytest.fixture
def pg_settings(settings, postgres_server):
    url = postgres_server.fresh_schema_url()
    accounts = StaffAccounts(HandoffStore.open(url).db)
    for name in ("tanaka", "suzuki"):
        accounts.add(name, name, PASSWORD, "staff")
    return replace(settings, database_url=url)


@pytest.fixture
def make_pg_console(aiohttp_server, aiohttp_client, fake_rasa):
    async def make(settings) -> StaffClient:
        app = create_app(settings, rasa_url=str(fake_rasa.server.make_url("")), rasa_token=fake_rasa.token,
                         poll_interval=NEVER, mount_review=False)
        return StaffClient(await aiohttp_client(await aiohttp_server(app)))

    return make


async def test_a_claim_on_console_b_reaches_console_a_inbox_at_once(pg_settings, make_pg_console):
    a, b = await make_pg_console(pg_settings), await make_pg_console(pg_settings)
    assert (await a.login("tanaka")).status == 302 and (await b.login("suzuki")).status == 302
    await eventually(lambda: a.client.server.app[keys.LISTENER].listening, timeout=20)
    status, health = await a.get_json("/healthz")
    assert (status, health) == (200, {"ok": True, "inbox_updates": "notify"})
    resp = await a.client.get("/api/stream")
    sse = Sse(resp)
    assert (await sse.next("inbox", timeout=20))["handoffs"] == []
    # Written by another process (the action server): a resident asks for a person.
    h = HandoffStore.open(pg_settings.database_url).request("conv-pg", "web", "gomi", "requested", "粗大ごみ")
    update = await sse.next("inbox", timeout=20, where=lambda d: d["handoffs"])
    assert [(i["id"], i["status"]) for i in update["handoffs"]] == [(h.id, "waiting")]
    # Staff on console B claim it: console A's inbox shows who.
    status, _ = await b.post_json(f"/api/handoffs/{h.id}/claim")
    assert status == 200
    update = await sse.next("inbox", timeout=20, where=lambda d: d["handoffs"] and d["handoffs"][0]["status"] == "claimed")
    assert update["handoffs"][0]["claimed_by"] == "suzuki"
    resp.close()


async def test_on_sqlite_the_console_polls(make_console, staff_client):
    c = await staff_client("tanaka")
    assert await c.get_json("/healthz") == (200, {"ok": True, "inbox_updates": "polling"})
    assert c.client.server.app[keys.LISTENER] is None


@pytest.mark.slow
async def test_the_listener_comes_back_after_a_postgresql_restart(settings, make_pg_console):
    from tests.pg import start_test_server

    server = await asyncio.get_running_loop().run_in_executor(None, start_test_server)
    try:
        url = server.fresh_schema_url()
        StaffAccounts(HandoffStore.open(url).db).add("tanaka", "tanaka", PASSWORD, "staff")
        a = await make_pg_console(replace(settings, database_url=url))
        assert (await a.login("tanaka")).status == 302
        listener = a.client.server.app[keys.LISTENER]
        await eventually(lambda: listener.listening, timeout=20)
        sse = Sse(await a.client.get("/api/stream"))
        await sse.next("inbox", timeout=20)
        connections = listener.connections
        await asyncio.get_running_loop().run_in_executor(None, server.restart)
        # The listener saw its connection go, and connected again by itself.
        await eventually(lambda: listener.connections == connections + 1 and listener.listening, timeout=60)
        h = HandoffStore.open(url).request("conv-after", "rest", None, "requested", "q")
        update = await sse.next("inbox", timeout=30, where=lambda d: d["handoffs"])
        assert [i["id"] for i in update["handoffs"]] == [h.id]
    finally:
        server.stop()
