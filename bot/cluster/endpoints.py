"""What ``endpoints.yml`` becomes for one process of a cluster (pure: data in, data out).

With ``MADOGUCHI_DATABASE_URL`` on PostgreSQL, Rasa keeps its trackers with Rasa's own
``SQLTrackerStore`` on the same server (database ``MADOGUCHI_TRACKER_DB``), never our
cached SQLite store: its cache assumes this process is the only writer. With
``MADOGUCHI_REDIS_URL``, Rasa's ``RedisLockStore`` makes the processes take turns on one
conversation (through bot/cluster/lock_store.py, which keeps answering with this
process's own locks while Redis is down). Anything else in endpoints.yml (action
endpoint, event broker …) is kept.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from bot.settings import Settings

LOCK_STORE_TYPE = "bot.cluster.lock_store.FallbackRedisLockStore"


def tracker_store_config(database_url: str, tracker_db: str) -> dict:
    """Rasa's ``type: SQL`` tracker store on the PostgreSQL server of ``database_url``."""
    parts = urlsplit(database_url)
    config = {
        "type": "SQL",
        "dialect": "postgresql",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "db": tracker_db,
    }
    if parts.username:
        config["username"] = unquote(parts.username)
    if parts.password:
        config["password"] = unquote(parts.password)
    return config


def lock_store_config(redis_url: str) -> dict:
    """Rasa's Redis lock store at ``redis_url`` (``redis://[:password@]host:port/db``), with
    this process's own locks while Redis is down (bot/cluster/lock_store.py)."""
    parts = urlsplit(redis_url)
    db = parts.path.strip("/")
    config = {
        "type": LOCK_STORE_TYPE,
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "db": int(db) if db.isdigit() else 0,
        "key_prefix": "madoguchi",
    }
    if parts.password:
        config["password"] = unquote(parts.password)
    if parts.scheme == "rediss":
        config["use_ssl"] = True
    return config


def clustered_endpoints(data: dict, settings: Settings) -> dict:
    """``endpoints.yml`` (already loaded) adapted to the storage settings."""
    out = dict(data)
    if settings.clustered:
        out["tracker_store"] = tracker_store_config(settings.database_url.strip(), settings.tracker_db)
    if settings.redis_url.strip():
        out["lock_store"] = lock_store_config(settings.redis_url.strip())
    return out
