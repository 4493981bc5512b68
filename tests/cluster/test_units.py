"""The pure parts of scaling out: endpoints, HAProxy/Redis configs, push fan-out, settings,
the tracker cache guard, and `bot db migrate-to` on a real PostgreSQL."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.channels.fanout import decode, encode
from bot.channels.web import PushHub
from bot.cluster.endpoints import clustered_endpoints
from bot.cluster.layout import ClusterLayout, haproxy_config, unavailable_response
from bot.cluster.migrate import MigrationFailed, copy_database
from bot.db import open_database, postgres_sql
from bot.errors import ConfigError
from bot.handoff.store import HandoffStore
from bot.review.store import ReviewLog
from bot.settings import Settings


def test_endpoints_switch_to_rasa_sql_store_and_redis_lock_store():
    s = Settings(database_url="postgresql://mado:p%40ss@db.example:6543/madoguchi", redis_url="redis://:pw@r.example:6380/2")
    out = clustered_endpoints({"action_endpoint": {"url": "x"}, "tracker_store": {"type": "bot.rasa_speedups.tracker_store.SQLiteTrackerStore"}}, s)
    assert out["tracker_store"] == {"type": "SQL", "dialect": "postgresql", "url": "db.example", "port": 6543,
                                    "db": "rasa_tracker", "username": "mado", "password": "p@ss"}
    assert out["lock_store"] == {"type": "bot.cluster.lock_store.FallbackRedisLockStore", "url": "r.example", "port": 6380, "db": 2, "key_prefix": "madoguchi",
                                 "password": "pw"}
    assert out["action_endpoint"] == {"url": "x"}
    embedded = {"tracker_store": {"type": "bot.rasa_speedups.tracker_store.SQLiteTrackerStore"}}
    assert clustered_endpoints(embedded, Settings()) == embedded  # the default is unchanged


def test_one_switch_is_checked_with_a_clear_message():
    with pytest.raises(ConfigError, match="must be a postgresql:// URL"):
        Settings.from_env({"MADOGUCHI_DATABASE_URL": "mysql://x/y"})
    with pytest.raises(ConfigError, match="names no database"):
        Settings.from_env({"MADOGUCHI_DATABASE_URL": "postgresql://u:p@h:5432"})
    with pytest.raises(ConfigError, match="redis://"):
        Settings.from_env({"MADOGUCHI_REDIS_URL": "http://x"})
    s = Settings.from_env({"MADOGUCHI_DATABASE_URL": "postgresql://u:p@h/m"})
    assert s.clustered and s.database == "postgresql://u:p@h/m"
    d = Settings.from_env({})
    assert not d.clustered and d.database.endswith("var/madoguchi.db")


def test_sql_is_translated_once_for_postgresql():
    assert postgres_sql("SELECT * FROM t WHERE a = ? AND b LIKE '%x'") == "SELECT * FROM t WHERE a = %s AND b LIKE '%%x'"
    assert postgres_sql("id INTEGER PRIMARY KEY AUTOINCREMENT, c REAL") == "id BIGSERIAL PRIMARY KEY, c DOUBLE PRECISION"


def test_haproxy_checks_health_and_never_resends_a_sent_request(tmp_path):
    cfg = haproxy_config(ClusterLayout(tmp_path, replicas=2))
    assert "option httpchk GET /webhooks/rest/" in cfg and "option httpchk GET /healthz" in cfg
    assert "retry-on conn-failure" in cfg and "empty-response" not in cfg
    assert cfg.count("server node") == 4 and "127.0.0.1:5110 check" in cfg and "127.0.0.1:5122 check" in cfg
    head, body = unavailable_response().split("\r\n\r\n", 1)
    assert head.startswith("HTTP/1.1 503") and f"Content-Length: {len(body.encode())}" in head
    assert json.loads(body)[0]["custom"] == {"type": "error"}


def test_a_push_from_another_process_keeps_its_id_and_later_ids_are_newer():
    hub = PushHub(clock=lambda: 1000.0)
    sub = hub.subscribe("web-a")
    remote = hub.deliver("web-a", 5_000_000, {"text": "職員"}, 999.0)
    local = hub.publish("web-a", {"text": "次"})
    assert remote.id == 5_000_000 and local.id == 5_000_001
    assert [sub.queue.get_nowait().message["text"] for _ in range(2)] == ["職員", "次"]
    assert [e.id for e in hub.replay("web-a", 0)] == [5_000_000, 5_000_001]
    data = decode(encode("o", "web-a", 7, {"text": "x"}, 1.0))
    assert (data["sender"], data["id"], data["message"]) == ("web-a", 7, {"text": "x"})
    assert decode("not json") is None and decode(json.dumps({"sender": 1})) is None


def test_tracker_cache_is_off_on_a_server_database(monkeypatch):
    from bot.rasa_speedups import tracker_store

    calls = {}

    def fake_init(self, *args, **kwargs):
        class Dialect:
            name = "postgresql"

        class Engine:
            dialect = Dialect()

        self.engine = Engine()
        calls["ok"] = True

    monkeypatch.setattr(tracker_store.SQLTrackerStore, "__init__", fake_init)
    store = tracker_store.SQLiteTrackerStore(dialect="postgresql", cache_size=10000)
    assert calls and store._cache_size == 0 and store._insert_sql is None


def test_migrate_to_postgres_copies_every_table_with_counts(tmp_path, postgres_server):
    source = tmp_path / "madoguchi.db"
    store = HandoffStore.open(source)
    h = store.request("c1", "rest", "gomi", "requested", "粗大ごみ")
    store.claim(h.id, "tanaka")
    store.create_ticket("c2", "web", None, "質問", "chat")
    log = ReviewLog(store.db)
    log.record("c1", "rest", "粗大ごみ", "cannot_answer", [])
    from bot.console.accounts import StaffAccounts

    StaffAccounts(store.db).add("tanaka", "田中", "correct horse battery")
    target = postgres_server.fresh_schema_url()
    result = CliRunner().invoke(__import__("bot.cli", fromlist=["cli"]).cli,
                                ["db", "migrate-to", "postgres", target, "--from", str(source)])
    assert result.exit_code == 0, result.output
    assert "counts match" in result.output
    moved = HandoffStore.open(target)
    assert moved.get(h.id).claimed_by == "tanaka"
    assert moved.request("c3", "rest", None, "requested", "q").id == h.id + 1  # the id sequence moved on
    assert [r["action"] for r in reversed(moved.audit_log())][:3] == ["handoff.request", "handoff.claim", "ticket.create"]
    assert ReviewLog(open_database(target)).questions()[0].text == "粗大ごみ"
    with pytest.raises(MigrationFailed, match="already has rows"):
        copy_database(str(source), target)
    with pytest.raises(MigrationFailed, match="postgresql://"):
        copy_database(str(source), str(tmp_path / "x.db"))
