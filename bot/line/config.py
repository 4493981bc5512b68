"""The LINE channel's settings: its block in credentials.yml, checked once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from bot.errors import ConfigError
from bot.line.client import LineApiConfig


@dataclass(frozen=True)
class LineChannelConfig:
    """The channel's settings, from its block in credentials.yml."""

    channel_secret: str
    api: LineApiConfig
    reply_token_ttl_seconds: float = 50.0  # LINE asks to use a reply token within a minute
    # Messages in the assistant at the same time. Rasa's NLU runs on the event loop that
    # also answers the webhook, so more than 1–2 only delays LINE's 200 (LINE gives up
    # after 2 s) without answering faster; sending to LINE is not limited by this.
    max_concurrent_events: int = 1
    max_pending_events: int = 1000  # beyond this the webhook answers 503 and LINE redelivers
    dedupe_capacity: int = 10_000  # webhook event ids remembered against redelivery

    _API_KEYS = ("api_base_url", "data_api_base_url", "timeout_seconds", "max_attempts", "backoff_seconds",
                 "max_backoff_seconds", "max_connections")
    _WHOLE_NUMBERS = ("max_concurrent_events", "max_pending_events", "dedupe_capacity", "max_attempts", "max_connections")

    @classmethod
    def from_credentials(cls, credentials: dict | None) -> "LineChannelConfig":
        """Read and check the credentials.yml block; errors name the key and the fix."""
        creds = dict(credentials or {})
        own = {f.name for f in fields(cls)} - {"channel_secret", "api"}
        known = {"channel_secret", "access_token", *own, *cls._API_KEYS}
        unknown = sorted(set(creds) - known)
        if unknown:
            raise ConfigError(f"credentials.yml, LINE channel: unknown key(s) {', '.join(unknown)}",
                              hint=f"the keys are {', '.join(sorted(known))} (docs/line.md)")
        for key, env in (("channel_secret", "LINE_CHANNEL_SECRET"), ("access_token", "LINE_CHANNEL_ACCESS_TOKEN")):
            value = creds.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"credentials.yml, LINE channel: {key} is missing or empty",
                                  hint=f"write `{key}: ${{{env}}}` and set {env} in the environment")
            if value.strip().startswith("${"):
                raise ConfigError(f"credentials.yml, LINE channel: {key} is the literal text {value.strip()!r}",
                                  hint="Rasa expands ${NAME} only without quotes: write it unquoted")
        numbers: dict[str, Any] = {}
        for key in (*own, "timeout_seconds", "max_attempts", "backoff_seconds", "max_backoff_seconds", "max_connections"):
            if key in creds:
                value = creds[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                    raise ConfigError(f"credentials.yml, LINE channel: {key} must be a positive number; got {value!r}")
                if key in cls._WHOLE_NUMBERS and not isinstance(value, int):
                    raise ConfigError(f"credentials.yml, LINE channel: {key} must be a whole number; got {value!r}")
                numbers[key] = value
        api_kwargs = {k: numbers.pop(k) for k in list(numbers) if k in cls._API_KEYS}
        for key in ("api_base_url", "data_api_base_url"):
            if key in creds:
                if not isinstance(creds[key], str) or not creds[key].startswith(("http://", "https://")):
                    raise ConfigError(f"credentials.yml, LINE channel: {key} must be an http(s) URL; got {creds[key]!r}")
                api_kwargs[key] = creds[key].rstrip("/")
        api = LineApiConfig(access_token=creds["access_token"].strip(), **api_kwargs)
        return cls(channel_secret=creds["channel_secret"].strip(), api=api, **numbers)
