"""Build the staff console's aiohttp application."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
from typing import AsyncIterator, Callable

import aiohttp
from aiohttp import web
from aiohttp.web_urldispatcher import PrefixedSubAppResource
from yarl import URL

from bot.console import api, auth, keys, pages
from bot.console.accounts import StaffAccounts
from bot.console.changes import ChangeListener
from bot.console.live import ConsoleWorker, LiveHub
from bot.console.proxy import parse_trusted_proxies
from bot.console.throttle import LoginThrottle
from bot.handoff.notify import WebhookNotifier
from bot.db import POSTGRESQL
from bot.errors import MadoguchiError
from bot.handoff.store import CHANGES_CHANNEL, HandoffStore
from bot.runtime.rasa_api import RasaApi
from bot.settings import Settings

logger = logging.getLogger(__name__)

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10, connect=3)  # Rasa and the webhook are local or near
MAX_BODY_BYTES = 64 * 1024  # a reply is at most 2,000 characters


def department_names(settings: Settings) -> dict[str, str]:
    """Department id → name from the knowledge base (empty when it cannot be read)."""
    try:
        from bot.knowledge.loader import load_knowledge

        kb = load_knowledge(settings.knowledge_dir).kb
        return {d.id: d.name for d in kb.departments.values()}
    except Exception as exc:  # noqa: BLE001 - names are a convenience; ids still work
        logger.warning("department names unavailable (%s); the console shows department ids", type(exc).__name__)
        return {}


class _RelUrlSubAppResource(PrefixedSubAppResource):
    """A sub-application mounted under a prefix, matched on the request's relative URL.

    aiohttp 3.9 matches sub-applications on ``request.url``, which it builds with
    ``URL.build(host="127.0.0.1:5080")``; the yarl pinned with Rasa 3.6 rejects a host with
    a port, so every request on a non-default port would fail with a 500. aiohttp 3.10
    does what this class does.
    """

    async def resolve(self, request: web.Request):
        path = request.rel_url.raw_path
        if not path.startswith(self._prefix2) and path != self._prefix:
            return None, set()
        match_info = await self._app.router.resolve(request)
        match_info.add_app(self._app)
        if isinstance(match_info.http_exception, web.HTTPMethodNotAllowed):
            return match_info, match_info.http_exception.allowed_methods
        return match_info, set()


def _yarl_rejects_host_with_port() -> bool:
    try:
        URL.build(scheme="http", host="127.0.0.1:5080")
    except ValueError:
        return True
    return False


def add_subapp(app: web.Application, prefix: str, subapp: web.Application) -> None:
    """``app.add_subapp``, working around aiohttp 3.9 + recent yarl (see above)."""
    if _yarl_rejects_host_with_port() and hasattr(app, "_add_subapp"):
        app._add_subapp(functools.partial(_RelUrlSubAppResource, prefix.rstrip("/"), subapp), subapp)
    else:
        app.add_subapp(prefix, subapp)


class ReviewMountError(MadoguchiError):
    """The review pages could not be mounted: the console does not start without them."""


def _mount_review(app: web.Application, settings: Settings) -> None:
    """Mount the review pages under /review.

    Not optional: a failure stops the console's start with what went wrong (a failure
    while the review pages open their database at start-up raises
    :class:`bot.console.review.ReviewStartError` from the application's start).
    """
    from bot.console.review import create_review_app

    try:
        review = create_review_app(settings)
    except MadoguchiError:
        raise
    except Exception as exc:
        raise ReviewMountError(f"the review pages could not be mounted under /review: {type(exc).__name__}: {exc}",
                               hint="this is a bug or a broken installation: run ./scripts/bootstrap.sh, then "
                                    "start the console again") from exc
    add_subapp(app, "/review", review)


def create_app(
    settings: Settings,
    *,
    rasa_url: str | None = None,
    rasa_token: str | None = None,
    poll_interval: float = 1.0,
    notify_backoff: float = 2.0,
    clock: Callable[[], dt.datetime] | None = None,
    mount_review: bool = True,
    throttle: LoginThrottle | None = None,
) -> web.Application:
    """The console application.

    Args:
        settings: database path, Rasa port, claim timeout, webhook URL, session length.
        rasa_url: Rasa's HTTP API (default: ``settings.rasa_url``).
        rasa_token: Rasa's API token (default: ``settings.api_token()``).
        poll_interval: seconds between looks at the database and the trackers.
        notify_backoff: seconds before the first retry of a failed notification.
        clock: current UTC time for sessions (tests).
        mount_review: mount the review pages (``bot.console.review``) under ``/review``; only the
            tests of the hand-off pages leave them out (their start-up opens Sudachi).
        throttle: the log-in throttle (tests pass one with their own clock).
    """
    store = HandoffStore.open(settings.database)
    accounts = StaffAccounts(store.db, clock=clock)
    app = web.Application(
        middlewares=[auth.error_middleware, auth.security_headers_middleware, auth.auth_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    config = keys.ConsoleConfig(
        rasa_url=rasa_url or settings.rasa_url,
        rasa_token=rasa_token or settings.api_token(),
        session_minutes=max(1, settings.console_session_minutes),
        claim_timeout=settings.claim_timeout,
        notify_webhook_url=settings.notify_webhook_url.strip(),
        public_url=f"http://{settings.host}:{settings.console_port}",
        poll_interval=poll_interval,
        notify_backoff=notify_backoff,
        trusted_proxies=parse_trusted_proxies(settings.console_trusted_proxies),
    )
    app[keys.SETTINGS] = settings
    app[keys.CONFIG] = config
    app[keys.STORE] = store
    app[keys.ACCOUNTS] = accounts
    app[keys.DEPARTMENTS] = department_names(settings)
    app[keys.THROTTLE] = throttle or LoginThrottle()
    app[keys.HUB] = LiveHub()
    app[keys.LISTENER] = None

    app.router.add_get("/login", auth.login_page)
    app.router.add_post("/login", auth.login_submit)
    app.router.add_post("/logout", auth.logout)
    app.add_routes(pages.routes)
    app.add_routes(api.routes)
    if mount_review:
        _mount_review(app, settings)
        config.review_mounted = True

    app.cleanup_ctx.append(_background)
    app.on_shutdown.append(_close_streams)
    return app


async def _background(app: web.Application) -> AsyncIterator[None]:
    """One HTTP session for the process, and the background loops."""
    config = app[keys.CONFIG]
    session = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
    app[keys.HTTP] = session
    app[keys.RASA] = RasaApi(config.rasa_url, config.rasa_token, session)
    notifier = WebhookNotifier(config.notify_webhook_url, session) if config.notify_webhook_url else None
    app[keys.NOTIFIER] = notifier
    store = app[keys.STORE]
    hub = app[keys.HUB]
    # On PostgreSQL, changes made by any process reach this console at once (LISTEN/NOTIFY).
    listener = ChangeListener(store.db.url, CHANGES_CHANNEL, hub.poke) if store.db.dialect == POSTGRESQL else None
    app[keys.LISTENER] = listener
    worker = ConsoleWorker(store, app[keys.ACCOUNTS], hub, app[keys.RASA], config, app[keys.DEPARTMENTS], notifier,
                           listener)
    tasks = [asyncio.create_task(worker.run_inbox()), asyncio.create_task(worker.run_conversations())]
    if listener is not None:
        tasks.append(asyncio.create_task(listener.run()))
    app[keys.ACCOUNTS].purge_expired_sessions()
    yield
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await session.close()


async def _close_streams(app: web.Application) -> None:
    app[keys.HUB].close_all()
