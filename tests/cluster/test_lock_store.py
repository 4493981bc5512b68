"""The Redis lock store with in-process fallback (bot/cluster/lock_store.py), against a fake
Redis store that can be switched off; the real Redis is in test_faults.py."""

from __future__ import annotations

import asyncio
import logging

import pytest
import redis
from rasa.core.lock_store import InMemoryLockStore

from bot.cluster import lock_store as module
from bot.cluster.lock_store import FallbackRedisLockStore


class FakeRedisStore(InMemoryLockStore):
    """Rasa's in-memory store standing in for Redis; ``up = False`` makes every call fail as
    redis-py does when the server is gone."""

    def __init__(self) -> None:
        super().__init__()
        self.up = True
        self.calls = 0
        self.red = self  # ping() like redis.StrictRedis

    def _call(self) -> None:
        self.calls += 1
        if not self.up:
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    def ping(self) -> bool:
        self._call()
        return True

    def get_lock(self, conversation_id):
        self._call()
        return super().get_lock(conversation_id)

    def save_lock(self, lock):
        self._call()
        super().save_lock(lock)

    def delete_lock(self, conversation_id):
        self._call()
        super().delete_lock(conversation_id)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup():
    fake, clock = FakeRedisStore(), Clock()
    return FallbackRedisLockStore(redis_store=fake, clock=clock), fake, clock


async def take(store, conversation_id="c1"):
    async with store.lock(conversation_id, wait_time_in_seconds=0.01) as lock:
        return lock.conversation_id


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == module.__name__ and r.levelno == logging.WARNING]


async def test_redis_up_is_used_and_the_lock_is_removed_after(setup):
    store, fake, _ = setup
    assert await take(store) == "c1"
    assert fake.calls > 0 and fake.conversation_locks == {}
    assert store.health() == {"backend": "redis", "state": "ok"}


async def test_redis_down_keeps_answering_degraded_logged_once_then_recovers(setup, caplog):
    store, fake, clock = setup
    fake.up = False
    with caplog.at_level(logging.WARNING):
        assert [await take(store, f"c{i}") for i in range(3)] == ["c0", "c1", "c2"]
        assert store.state == "degraded" and store.memory.conversation_locks == {}
        calls = fake.calls
        await take(store)  # within RETRY_SECONDS of the failure: Redis is not asked again
        assert fake.calls == calls
        assert store.health() == {"backend": "redis", "state": "degraded", "error": "ConnectionError",
                                  "fallback": "in-process locks"}
        fake.up = True
        assert store.check() == "degraded"  # not yet time to ask again
        clock.now += module.RETRY_SECONDS
        assert await take(store) == "c1"
    assert store.state == "ok" and fake.calls > calls
    logged = warnings(caplog)
    assert len(logged) == 2 and logged[0].startswith("lock store degraded") and logged[1].startswith("lock store recovered")


async def test_health_check_finds_redis_back_without_a_message(setup):
    store, fake, clock = setup
    fake.up = False
    await take(store)
    fake.up = True
    clock.now += module.RETRY_SECONDS
    assert store.health() == {"backend": "redis", "state": "ok"}


async def test_redis_lost_while_holding_a_lock_does_not_fail_the_message(setup):
    store, fake, _ = setup
    async with store.lock("c1", wait_time_in_seconds=0.01) as lock:
        fake.up = False  # gone before the lock is given back: it expires in Redis by itself
        assert lock.conversation_id == "c1"
    assert store.state == "degraded"


async def test_degraded_locks_still_take_turns_within_the_process(setup):
    store, fake, _ = setup
    fake.up = False
    order: list[str] = []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def first():
        async with store.lock("same", wait_time_in_seconds=0.01):
            order.append("first in")
            first_in.set()
            await release.wait()
            order.append("first out")

    async def second():
        await first_in.wait()
        async with store.lock("same", wait_time_in_seconds=0.01):
            order.append("second in")

    tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
    await first_in.wait()
    for _ in range(5):
        await asyncio.sleep(0.02)  # the second polls its turn several times meanwhile
    assert order == ["first in"]
    release.set()
    await asyncio.gather(*tasks)
    assert order == ["first in", "first out", "second in"]


async def test_other_lock_errors_are_not_hidden(setup):
    store, fake, _ = setup

    def broken(*_args, **_kwargs):
        raise ValueError("a bug, not Redis being down")

    fake.get_lock = broken
    with pytest.raises(Exception, match="a bug"):
        await take(store)
    assert store.state == "ok"
