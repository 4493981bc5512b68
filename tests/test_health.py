"""GET /health on the Rasa server (bot/health.py), and tracker-store errors reaching the
channel instead of being hidden by Rasa's FailSafeTrackerStore (bot/tracker_store.py)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot import health
from bot.rasa_server import install_rasa_changes
from bot.rasa_speedups.tracker_store import SQLiteTrackerStore
from tests.conftest import free_port

DOMAIN = Domain.from_yaml("version: '3.1'\nintents: [faq]\n")


class BrokenDatabaseStore(TrackerStore):
    """What Rasa's SQL store does while PostgreSQL restarts."""

    async def retrieve(self, sender_id):
        raise sa.exc.OperationalError("SELECT", {}, Exception("server closed the connection unexpectedly"))

    async def save(self, tracker):
        raise sa.exc.OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))

    async def retrieve_full_tracker(self, sender_id):
        return await self.retrieve(sender_id)


async def test_tracker_store_errors_reach_the_channel_instead_of_a_fresh_or_lost_tracker():
    install_rasa_changes()
    fallback = InMemoryTrackerStore(DOMAIN)
    store = FailSafeTrackerStore(BrokenDatabaseStore(DOMAIN), fallback_tracker_store=fallback)
    with pytest.raises(sa.exc.OperationalError):
        await store.retrieve("resident-1")  # Rasa's own: None, and the conversation starts again
    with pytest.raises(sa.exc.OperationalError):
        await store.retrieve_full_tracker("resident-1")
    with pytest.raises(sa.exc.OperationalError):
        await store.save(DialogueStateTracker("resident-1", DOMAIN.slots))  # Rasa's own: kept in memory, never read
    assert list(await fallback.keys()) == []


def test_tracker_store_state_asks_the_database(tmp_path):
    store = SQLiteTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    assert health.tracker_store_state(FailSafeTrackerStore(store)) == {"backend": "sqlite", "state": "ok"}
    store.engine = sa.create_engine(f"postgresql://u:p@127.0.0.1:{free_port()}/x")  # nothing listens there
    assert health.tracker_store_state(FailSafeTrackerStore(store)) == {
        "backend": "postgresql", "state": "down", "error": "OperationalError"}
    assert health.tracker_store_state(InMemoryTrackerStore(DOMAIN))["backend"] == "in_memory"


def test_overall_status_and_push_state():
    class Fanout:
        state = "degraded"

    class Channel:
        fanout = Fanout()

    ok = {"state": "ok"}
    assert health.live_push_state([object(), Channel()]) == {"backend": "redis", "state": "degraded"}
    assert health.live_push_state([]) == {"backend": "in_memory", "state": "ok"}
    assert health.overall({"a": ok, "b": ok}) == "ok"
    assert health.overall({"a": ok, "b": {"state": "degraded"}}) == "degraded"
    assert health.overall({"a": {"state": "down"}, "b": {"state": "degraded"}}) == "down"


@pytest.mark.slow
def test_health_of_the_embedded_stack(live_stack):
    with urllib.request.urlopen(f"{live_stack.rasa_url}/health", timeout=30) as resp:  # loopback
        assert resp.status == 200
        body = json.loads(resp.read())
    assert body == {"status": "ok", "model": True, "tracker_store": {"backend": "sqlite", "state": "ok"},
                    "lock_store": {"backend": "in_memory", "state": "ok"},
                    "live_push": {"backend": "in_memory", "state": "ok"}}
    with pytest.raises(urllib.error.HTTPError) as err:  # the Rasa API stays token-protected
        urllib.request.urlopen(f"{live_stack.rasa_url}/status", timeout=30)
    assert err.value.code == 401
