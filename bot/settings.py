"""Typed settings, declared once and loaded at the entry points (CLI, actions, channels).

Every setting can be overridden by an environment variable ``MADOGUCHI_<NAME>``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

from bot.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    """Madoguchi's settings. The comment beside or above each field documents it."""

    project_dir: Path = Path(".")
    knowledge_dir: Path = Path("knowledge")  # the FAQ source of truth
    var_dir: Path = Path("var")  # embedded data: SQLite files, logs, stamps (git-ignored)
    models_dir: Path = Path("models")  # trained Rasa models
    host: str = "127.0.0.1"  # where the servers listen; loopback by default
    rasa_port: int = 5005  # Rasa server (REST webhook, channels)
    actions_port: int = 5055  # rasa-sdk action server
    console_port: int = 5080  # staff console (aiohttp)
    # Hand-off (bot/console): seconds a hand-off may wait unclaimed before the resident
    # is offered to leave a message instead.
    claim_timeout: int = 300
    # Staff console: URL POSTed a JSON notice for every new hand-off (e.g. the city's chat
    # tool's incoming webhook); empty = no notifications.
    notify_webhook_url: str = ""
    # Staff console: a log-in expires after this many minutes without activity.
    console_session_minutes: int = 60
    # Staff console: IP addresses of the city's reverse proxies, comma-separated. Only
    # requests from these may set the client address (X-Forwarded-For, for the log-in
    # throttle) and HTTPS (X-Forwarded-Proto, for Secure cookies). Empty: none.
    console_trusted_proxies: str = ""
    # Web widget: origins of the city's pages that embed the widget, comma-separated
    # (https://www.city.example.lg.jp). Rasa answers cross-origin requests (CORS) from
    # these only; empty: only pages Rasa serves itself (the demo).
    web_origins: str = ""
    # Rasa server: seconds to keep retrying an action while the action server cannot be
    # reached (bot run restarts it), before answering with the error reply.
    action_retry_seconds: int = 15
    # The project's own database (hand-offs, tickets, staff accounts and sessions, audit
    # log, review log): empty = the embedded SQLite file var/madoguchi.db (one machine);
    # postgresql://user:password@host:5432/dbname = PostgreSQL, shared by several machines.
    # With PostgreSQL, `bot run` also keeps Rasa's trackers there (Rasa's SQLTrackerStore,
    # database `tracker_db`, same server and login) instead of var/tracker.db.
    # docs/scaling.md; `bot db migrate-to postgres URL` copies an embedded installation.
    database_url: str = ""
    # With database_url on PostgreSQL: the database of Rasa's tracker store on that server.
    tracker_db: str = "rasa_tracker"
    # Redis (redis://host:6379/0) for several Rasa processes: Rasa's RedisLockStore (one
    # message of a conversation at a time, whichever process gets it) and the live events
    # (staff replies, hand-off notices) fanned out to every Rasa process, so a resident's
    # open stream gets them wherever it is connected. Empty: one process, in memory.
    redis_url: str = ""
    # Training: also put the translated questions of knowledge/i18n/ into the FAQ index
    # (they always train the intent classifier). Off by default: they dilute the Japanese
    # word scores of the FAQs that have them, so recalibrate (`bot calibrate`) when turning
    # it on (docs/knowledge-format.md, "Translations").
    index_translations: bool = False

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> "Settings":
        """Defaults, overridden by ``MADOGUCHI_*`` variables, overridden by ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict = {}
        for f in fields(cls):
            raw = env.get(f"MADOGUCHI_{f.name.upper()}")
            if raw is None:
                continue
            default = f.default
            try:
                if isinstance(default, Path):
                    values[f.name] = Path(raw)
                elif isinstance(default, bool):
                    if raw.strip().lower() not in ("1", "true", "yes", "on", "0", "false", "no", "off", ""):
                        raise ValueError(raw)
                    values[f.name] = raw.strip().lower() in ("1", "true", "yes", "on")
                elif isinstance(default, int):
                    values[f.name] = int(raw)
                else:
                    values[f.name] = raw
            except ValueError:
                raise ConfigError(
                    f"MADOGUCHI_{f.name.upper()} must be {'true or false' if isinstance(default, bool) else 'a number'}; got {raw!r}",
                    hint=f"unset it to use the default {default}",
                ) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.check_storage()
        return settings.resolved()

    def resolved(self) -> "Settings":
        """Relative paths resolved against the project directory."""
        base = self.project_dir.resolve()

        def fix(p: Path) -> Path:
            return p if p.is_absolute() else base / p

        # replace() keeps every other field, including ones added later.
        return replace(
            self,
            project_dir=base,
            knowledge_dir=fix(self.knowledge_dir),
            var_dir=fix(self.var_dir),
            models_dir=fix(self.models_dir),
        )

    def cors_origins(self) -> list[str]:
        """``web_origins`` as a list, each checked to be ``scheme://host[:port]``."""
        from urllib.parse import urlsplit

        origins = []
        for raw in (o.strip() for o in self.web_origins.split(",")):
            if not raw:
                continue
            parts = urlsplit(raw)
            if raw == "*" or parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") \
                    or parts.query or parts.fragment:
                raise ConfigError(
                    f"MADOGUCHI_WEB_ORIGINS: {raw!r} is not an origin",
                    hint="list the city's sites as scheme://host[:port], e.g. https://www.city.example.lg.jp "
                         "(no path, no *: only these may call the widget's webhook from their pages)",
                )
            origins.append(f"{parts.scheme}://{parts.netloc}")
        return origins

    @property
    def database_path(self) -> Path:
        """Our embedded database (hand-offs, tickets, review log, staff accounts)."""
        return self.var_dir / "madoguchi.db"

    @property
    def database(self) -> str:
        """Where the project's database is: ``database_url``, or the embedded file."""
        return self.database_url.strip() or str(self.database_path)

    @property
    def clustered(self) -> bool:
        """Whether this is one of several processes sharing PostgreSQL (not the embedded file)."""
        from bot.db import is_postgres_url

        return is_postgres_url(self.database_url.strip())

    def check_storage(self) -> None:
        """Refuse a database or Redis URL we cannot use, naming the setting and the fix."""
        from urllib.parse import urlsplit

        from bot.db import is_postgres_url, redact_url

        url = self.database_url.strip()
        if url and not is_postgres_url(url):
            raise ConfigError(
                f"MADOGUCHI_DATABASE_URL must be a postgresql:// URL; got {redact_url(url)!r}",
                hint="postgresql://user:password@host:5432/dbname, or leave it empty for the embedded var/madoguchi.db",
            )
        if url and not urlsplit(url).path.strip("/"):
            raise ConfigError("MADOGUCHI_DATABASE_URL names no database",
                              hint="add it at the end: postgresql://user:password@host:5432/madoguchi")
        redis = self.redis_url.strip()
        if redis and urlsplit(redis).scheme not in ("redis", "rediss"):
            raise ConfigError(f"MADOGUCHI_REDIS_URL must be a redis:// URL; got {redis!r}",
                              hint="redis://127.0.0.1:6379/0, or leave it empty for one Rasa process")

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def api_token_path(self) -> Path:
        """Token protecting Rasa's HTTP API; generated on first start (mode 0600)."""
        return self.var_dir / "rasa-api-token"

    def api_token(self) -> str:
        """The Rasa API token, created when missing."""
        import secrets

        path = self.api_token_path
        if path.exists():
            path.chmod(0o600)  # only this user: the token opens every conversation
            token = path.read_text().strip()
            if token:
                return token
        path.parent.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(32)
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(token)
        return token
