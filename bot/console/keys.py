"""Typed keys of the console's aiohttp application state."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from aiohttp import web

from bot.console.accounts import StaffAccounts
from bot.handoff.notify import WebhookNotifier
from bot.handoff.store import HandoffStore
from bot.runtime.rasa_api import RasaApi
from bot.settings import Settings


@dataclass
class ConsoleConfig:
    """What the console needs beyond Settings (tests shorten the intervals)."""

    rasa_url: str
    rasa_token: str
    session_minutes: int
    claim_timeout: int  # seconds; 0 = never offer a ticket automatically
    notify_webhook_url: str
    public_url: str  # where staff reach the console (links in notifications)
    poll_interval: float = 1.0  # seconds between looks at the database and the trackers
    notify_backoff: float = 2.0  # seconds before retrying a failed notification (doubles each time)
    review_mounted: bool = False
    trusted_proxies: frozenset = frozenset()  # reverse proxies' addresses (bot.console.proxy)


SETTINGS = web.AppKey("settings", Settings)
CONFIG = web.AppKey("config", ConsoleConfig)
STORE = web.AppKey("store", HandoffStore)
ACCOUNTS = web.AppKey("accounts", StaffAccounts)
DEPARTMENTS = web.AppKey("departments", dict)
HTTP = web.AppKey("http", aiohttp.ClientSession)
RASA = web.AppKey("rasa", RasaApi)
NOTIFIER = web.AppKey("notifier", object)  # WebhookNotifier | None
HUB = web.AppKey("hub", object)  # bot.console.live.LiveHub
THROTTLE = web.AppKey("throttle", object)  # bot.console.throttle.LoginThrottle
LISTENER = web.AppKey("listener", object)  # bot.console.changes.ChangeListener | None (PostgreSQL only)

__all__ = ["ConsoleConfig", "WebhookNotifier", "SETTINGS", "CONFIG", "STORE", "ACCOUNTS", "DEPARTMENTS", "HTTP", "RASA",
           "NOTIFIER", "HUB", "THROTTLE", "LISTENER"]
