"""Log-in, sessions, CSRF and security headers of the staff console.

Every route needs a live session except the few in :data:`PUBLIC_ROUTES` (the log-in page,
its stylesheet and a health check). Every state-changing request (anything but
GET/HEAD/OPTIONS) must carry the session's CSRF token, in the ``X-CSRF-Token`` header or
a ``csrf_token`` (or ``_csrf``) form field; the log-in form itself is protected by a
double-submit cookie. Handlers find the account in ``request["staff"]`` and the token in
``request["csrf_token"]``; the review pages (``bot/console/review/``) also read
``request["username"]`` and ``request["staff_name"]``.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
import secrets
from urllib.parse import urlsplit

from aiohttp import web
from yarl import URL

from bot.console import keys
from bot.console.accounts import StaffAccount, check_username
from bot.console.proxy import client_address, is_https
from bot.console.throttle import LoginThrottle, ThrottleDecision

logger = logging.getLogger(__name__)

SESSION_COOKIE = "madoguchi_session"
LOGIN_CSRF_COOKIE = "madoguchi_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELDS = ("csrf_token", "_csrf")  # form field names (the review pages use "_csrf")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# (method, path) reachable without a session. HEAD follows GET.
PUBLIC_ROUTES = frozenset({("GET", "/login"), ("POST", "/login"), ("GET", "/healthz"), ("GET", "/static/console.css")})

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

_dumps = functools.partial(json.dumps, ensure_ascii=False)


def json_error(status: int, code: str, message: str) -> web.Response:
    """The console's error body: ``{"error": code, "message": 日本語}``."""
    return web.json_response({"error": code, "message": message}, status=status, dumps=_dumps)


def wants_json(request: web.Request) -> bool:
    path = request.path
    if path.startswith("/api/") or "/api/" in path:
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def is_public(request: web.Request) -> bool:
    method = "GET" if request.method == "HEAD" else request.method
    return (method, request.path) in PUBLIC_ROUTES


def safe_next(target: str | None) -> str:
    """Only same-site paths after log-in (no ``//host`` or ``http://`` redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/inbox"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith("/login"):
        return "/inbox"
    return target


def throttled_message(decision: ThrottleDecision) -> str:
    """What a member of staff reads when a log-in is not tried (Japanese, with how long)."""
    wait = int(decision.retry_after) + 1
    how_long = f"{wait}秒" if wait < 60 else f"{(wait + 59) // 60}分"
    if decision.reason == "account_locked":
        return (f"このアカウントへのログインの失敗が続いたため、この端末からは{how_long}ほどログインできません。"
                "いつもお使いの端末からは、正しいパスワードでログインできます。")
    return f"ログインの失敗が続いたため、しばらくログインできません。{how_long}ほど待ってから、もう一度お試しください。"


def secure_cookies(request: web.Request) -> bool:
    """Cookies get ``Secure`` when the browser uses HTTPS (also through a trusted proxy)."""
    return is_https(request, request.app[keys.CONFIG].trusted_proxies)


def _origin_ok(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


async def _sent_csrf(request: web.Request) -> str:
    token = request.headers.get(CSRF_HEADER, "")
    if token:
        return token
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()  # cached: the handler can read it again
        for name in CSRF_FIELDS:
            value = form.get(name)
            if isinstance(value, str) and value:
                return value
    return ""


@web.middleware
async def error_middleware(request: web.Request, handler):
    """Unexpected errors become a short Japanese message, never a stack trace."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status in (404, 405) and wants_json(request) and exc.content_type != "application/json":
            code, msg = ("not_found", "見つかりません。") if exc.status == 404 else ("method_not_allowed", "この操作はできません。")
            return json_error(exc.status, code, msg)
        if exc.status == 413 and wants_json(request) and exc.content_type != "application/json":
            return json_error(413, "too_large", "送られた内容が大きすぎます。短くしてください。")
        raise
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the last line of defence
        logger.exception("console error on %s %s: %s", request.method, request.path, type(exc).__name__)
        if wants_json(request):
            return json_error(500, "internal_error", "エラーが起きました。画面を再読み込みしてから、もう一度お試しください。")
        return web.Response(status=500, text="エラーが起きました。画面を再読み込みしてから、もう一度お試しください。",
                            content_type="text/plain", charset="utf-8")


@web.middleware
async def security_headers_middleware(request: web.Request, handler):
    def add(resp: web.StreamResponse) -> None:
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith("/static/"):
            resp.headers.setdefault("Cache-Control", "no-store")

    try:
        resp = await handler(request)
    except web.HTTPException as exc:
        add(exc)
        raise
    if not resp.prepared:
        add(resp)
    return resp


@web.middleware
async def auth_middleware(request: web.Request, handler):
    """Log-in required (except public routes) and CSRF checked on every state change."""
    if is_public(request):
        return await handler(request)
    accounts = request.app[keys.ACCOUNTS]
    config = request.app[keys.CONFIG]
    token = request.cookies.get(SESSION_COOKIE)
    streaming = request.path == "/api/stream"
    found = accounts.session(token, config.session_minutes, touch=not streaming)
    if found is None:
        if wants_json(request) or request.method not in SAFE_METHODS:
            return json_error(401, "login_required", "ログインしてください。ログインの有効期限が切れた場合は、もう一度ログインしてください。")
        target = request.rel_url.path_qs if request.method == "GET" else "/inbox"
        raise web.HTTPFound(URL("/login").with_query(next=target))
    session, account = found
    request["staff"] = account
    request["session"] = session
    request["csrf_token"] = session.csrf_token
    request["username"] = account.username  # read by the review pages
    request["staff_name"] = account.display_name
    if request.method not in SAFE_METHODS:
        sent = await _sent_csrf(request)
        if not _origin_ok(request) or not sent or not hmac.compare_digest(sent, session.csrf_token):
            return json_error(403, "csrf_failed", "画面の有効期限が切れました。画面を再読み込みしてから、もう一度お試しください。")
    return await handler(request)


def staff_of(request: web.Request) -> StaffAccount:
    return request["staff"]


def require_admin(request: web.Request) -> StaffAccount:
    account = staff_of(request)
    if not account.is_admin:
        if wants_json(request):
            raise web.HTTPForbidden(text=_dumps({"error": "admin_only", "message": "管理者だけが見られます。"}),
                                    content_type="application/json")
        raise web.HTTPForbidden(text="このページは管理者だけが見られます。", content_type="text/plain")
    return account


# ---------------------------------------------------------------------------- log-in pages
async def login_page(request: web.Request) -> web.Response:
    from bot.console.render import login_html

    config = request.app[keys.CONFIG]
    if request.app[keys.ACCOUNTS].session(request.cookies.get(SESSION_COOKIE), config.session_minutes, touch=False):
        raise web.HTTPFound(safe_next(request.query.get("next")))
    return _login_response(request, login_html, "", 200)


def _login_response(request: web.Request, login_html, error: str, status: int, username: str = "") -> web.Response:
    # Reuse the token the browser already holds, so that two loads of the page (a reload,
    # a prefetch) cannot leave a form whose token no longer matches the cookie.
    token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not (20 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()):
        token = secrets.token_urlsafe(24)
    resp = web.Response(text=login_html(token, safe_next(request.query.get("next")), error, username), status=status,
                        content_type="text/html", charset="utf-8")
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=secure_cookies(request), path="/login")
    return resp


async def login_submit(request: web.Request) -> web.StreamResponse:
    from bot.console.render import login_html

    form = await request.post()
    username = str(form.get("username") or "").strip().lower()[:64]
    password = str(form.get("password") or "")[:512]
    sent = str(form.get("csrf_token") or "")
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not sent or not cookie or not hmac.compare_digest(sent, cookie) or not _origin_ok(request):
        return _login_response(request, login_html, "画面の有効期限が切れました。もう一度ログインしてください。", 403, username)
    throttle: LoginThrottle = request.app[keys.THROTTLE]
    store = request.app[keys.STORE]
    try:
        check_username(username)
        target = f"staff:{username}"
    except Exception:  # noqa: BLE001 - a malformed name is just a failed log-in
        target = "staff:?"
    client = client_address(request, request.app[keys.CONFIG].trusted_proxies)
    decision = throttle.check(client, username)
    if not decision.allowed:
        # Not audited: refusals cost an attacker nothing, so they must not grow the database.
        resp = _login_response(request, login_html, throttled_message(decision), 429)
        resp.headers["Retry-After"] = str(int(decision.retry_after) + 1)
        return resp
    accounts = request.app[keys.ACCOUNTS]
    loop = asyncio.get_running_loop()
    account = await loop.run_in_executor(None, accounts.authenticate, username, password)
    if account is None:
        exists = target != "staff:?" and await loop.run_in_executor(None, accounts.get, username) is not None
        throttle.failed(client, username, account_exists=exists)
        # A name that is no account is not recorded: it may be a password typed into the wrong field.
        store.audit(username if exists else "?", "staff.login_failed", target if exists else "staff:?",
                    "" if exists else "unknown user name")
        return _login_response(request, login_html, "ユーザー名またはパスワードが違います。", 401, username)
    throttle.succeeded(client, username)
    config = request.app[keys.CONFIG]
    token, _ = accounts.create_session(account.username, config.session_minutes)
    store.audit(account.username, "staff.login", target)
    resp = web.HTTPFound(safe_next(str(form.get("next") or "")))
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", secure=secure_cookies(request), path="/")
    resp.del_cookie(LOGIN_CSRF_COOKIE, path="/login")
    raise resp


async def logout(request: web.Request) -> web.StreamResponse:
    account = staff_of(request)
    request.app[keys.ACCOUNTS].end_session(request.cookies.get(SESSION_COOKIE))
    request.app[keys.STORE].audit(account.username, "staff.logout", f"staff:{account.username}")
    resp = web.HTTPFound("/login")
    resp.del_cookie(SESSION_COOKIE, path="/")
    raise resp
