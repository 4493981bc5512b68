"""Typed settings, declared once and loaded at the entry points (CLI, actions, channels).

Every setting can be overridden by an environment variable ``MADOGUCHI_<NAME>``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from bot.errors import ConfigError

ENV_PREFIX = "MADOGUCHI_"


def setting(default: Any, help_text: str, *, secret: bool = False) -> Any:
    """A settings field: its default, the help text `bot settings` and the README show,
    and whether its value is a secret (printed redacted). After datasette's
    ``Setting(name, default, help)``."""
    return field(default=default, metadata={"help": help_text, "secret": secret})


@dataclass(frozen=True)
class SettingInfo:
    """One setting as `bot settings` shows it."""

    name: str
    env: str
    default: Any
    value: Any
    source: str  # "default", "environment" or "command line"
    help: str
    secret: bool

    def shown(self, value: Any) -> str:
        """``value`` as printed: secrets redacted, empty shown as such."""
        text = str(value)
        if value == "" or value is None:
            return "(empty)"
        if self.secret:
            return redact(text)
        return text


def redact(text: str) -> str:
    """A secret value reduced to what identifies it without opening it: the URL's scheme
    and host (no user, password, path or query)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(set, hidden)"
    return f"{parts.scheme}://{host}{port}/… (hidden)" if parts.scheme and host else "(set, hidden)"


def markdown_table() -> str:
    """The README's settings table, from the declarations (tests/test_readme_tables.py
    checks that the README carries exactly this; `bot settings --markdown` prints it)."""
    rows = ["| environment variable | default | what it sets |", "|---|---|---|"]
    for f in fields(Settings):
        default = f"`{f.default}`" if f.default not in ("", None) else "(empty)"
        if isinstance(f.default, bool):
            default = f"`{str(f.default).lower()}`"
        rows.append(f"| `{env_name(f.name)}` | {default} | {f.metadata.get('help', '')} |")
    return "\n".join(rows)


def describe(environ: dict | None = None, **overrides) -> list[SettingInfo]:
    """Every setting with its current value and where that value came from (the same
    precedence as :meth:`Settings.from_env`: command line, then environment, then default)."""
    env = os.environ if environ is None else environ
    current = Settings.from_env(env, **overrides)
    infos = []
    for f in fields(Settings):
        source = ("command line" if overrides.get(f.name) is not None
                  else "environment" if env.get(env_name(f.name)) is not None else "default")
        infos.append(SettingInfo(f.name, env_name(f.name), f.default, getattr(current, f.name), source,
                                 f.metadata.get("help", ""), bool(f.metadata.get("secret"))))
    return infos


def env_name(name: str) -> str:
    """The environment variable that overrides setting ``name``."""
    return f"{ENV_PREFIX}{name.upper()}"


@dataclass(frozen=True)
class Settings:
    """Madoguchi's settings: each declared once, with its default and help text
    (``setting``); `bot settings` prints them with their values and where each came from."""

    project_dir: Path = setting(Path("."), "the project: knowledge/, var/, models/ are relative to it")
    knowledge_dir: Path = setting(Path("knowledge"), "the FAQ source of truth (YAML files)")
    var_dir: Path = setting(Path("var"), "embedded data: SQLite files, logs, caches (git-ignored)")
    models_dir: Path = setting(Path("models"), "trained Rasa models")
    host: str = setting("127.0.0.1", "where the servers listen; loopback unless a reverse proxy in front needs otherwise")
    rasa_port: int = setting(5005, "Rasa server (REST webhook, web widget, LINE)")
    actions_port: int = setting(5055, "rasa-sdk action server")
    console_port: int = setting(5080, "staff console")
    claim_timeout: int = setting(
        300, "hand-off: seconds a hand-off may wait unclaimed before the resident is offered to leave a message")
    notify_webhook_url: str = setting(
        "", "staff console: URL POSTed a JSON notice for every new hand-off (a chat tool's incoming webhook); "
            "empty: no notices", secret=True)
    console_session_minutes: int = setting(60, "staff console: a log-in expires after this many minutes without activity")
    console_trusted_proxies: str = setting(
        "", "staff console: IP addresses of the city's reverse proxies, comma-separated; only these may set the "
            "client address (X-Forwarded-For) and HTTPS (X-Forwarded-Proto). Empty: none")
    web_origins: str = setting(
        "", "web widget: origins of the city's pages that embed it, comma-separated (https://www.city.example.lg.jp); "
            "Rasa answers cross-origin requests from these only. Empty: only pages Rasa serves itself")
    action_retry_seconds: int = setting(
        15, "Rasa: seconds to keep retrying an action while the action server cannot be reached (bot run restarts it)")
    database_url: str = setting(
        "", "the project's database (hand-offs, tickets, staff, audit and review logs): empty = var/madoguchi.db; "
            "postgresql://user:password@host:5432/dbname = PostgreSQL, shared by several machines, which then also "
            "keeps Rasa's trackers (docs/scaling.md)", secret=True)
    tracker_db: str = setting("rasa_tracker", "with database_url on PostgreSQL: the database of Rasa's tracker store")
    redis_url: str = setting(
        "", "Redis (redis://host:6379/0) for several Rasa processes: Rasa's lock store and the live events fanned "
            "out to every process. Empty: one process, in memory", secret=True)
    index_translations: bool = setting(
        False, "training: also put the translated questions of knowledge/i18n/ into the FAQ word index "
               "(recalibrate with `bot calibrate` when turning it on)")

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> "Settings":
        """Defaults, overridden by ``MADOGUCHI_*`` variables, overridden by ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict = {}
        for f in fields(cls):
            raw = env.get(env_name(f.name))
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
                    f"{env_name(f.name)} must be {'true or false' if isinstance(default, bool) else 'a number'}; got {raw!r}",
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
