"""Log-in everywhere, CSRF on every change, sessions that expire, headers."""

from __future__ import annotations

import re

import pytest

from bot.console.auth import PUBLIC_ROUTES
from tests.console.conftest import PASSWORD


def _concrete(path: str) -> list[str]:
    """Real URLs for a route; a static file route gives a private and the public file."""
    if "{name}" in path:
        return [path.replace("{name}", "console.js"), path.replace("{name}", "console.css")]
    return [re.sub(r"\{[^}]+\}", "1", path)]


def _routes(app):
    seen = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix")
        if path and (route.method, path) not in seen:
            seen.add((route.method, path))
            yield route.method, path


async def test_every_route_needs_log_in_except_the_public_ones(console, aiohttp_client):
    client = await aiohttp_client(console)
    routes = list(_routes(console.app))
    assert len(routes) >= 20
    public = set()
    for method, url in [(m, u) for m, p in routes for u in _concrete(p)]:
        resp = await client.request(method, url, allow_redirects=False, json={} if method == "POST" else None)
        if (("GET" if method == "HEAD" else method), url) in PUBLIC_ROUTES:
            public.add((method, url))
            assert resp.status in (200, 403), (method, url, resp.status)  # 403: log-in form without its cookie
            continue
        if url.startswith("/api/") or method == "POST":
            assert resp.status == 401, (method, url, resp.status)
            if method != "HEAD":
                assert (await resp.json())["error"] == "login_required"
        else:
            assert resp.status == 302, (method, url, resp.status)
            assert resp.headers["Location"].startswith("/login?next=")
    assert {(m, p) for m, p in public if m != "HEAD"} == set(PUBLIC_ROUTES)


async def test_unknown_paths_also_need_log_in(console, aiohttp_client):
    client = await aiohttp_client(console)
    resp = await client.get("/api/nothing-here", allow_redirects=False)
    assert resp.status == 401
    resp = await client.get("/static/../../etc/passwd", allow_redirects=False)
    assert resp.status in (302, 401, 404)
    assert "root:" not in await resp.text()


async def test_log_in_then_pages_and_api_work(staff_client):
    c = await staff_client("suzuki")
    status, me = await c.get_json("/api/me")
    assert (status, me) == (200, {"username": "suzuki", "display_name": "鈴木", "role": "staff"})
    page = await (await c.client.get("/inbox")).text()
    assert "受付一覧" in page and "鈴木（職員）" in page and "監査ログ" not in page


async def test_session_cookie_is_httponly_and_strict(staff_client):
    c = await staff_client()
    page = await (await c.client.get("/login")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = await c.client.post("/login", data={"username": "suzuki", "password": PASSWORD, "csrf_token": token},
                               allow_redirects=False)
    cookie = resp.cookies["madoguchi_session"]
    assert cookie["httponly"] is True and cookie["samesite"] == "Strict" and cookie["path"] == "/"
    assert len(cookie.value) >= 40


async def test_wrong_password_and_unknown_user_are_refused_alike(staff_client, store):
    c = await staff_client()
    wrong = await c.login("suzuki", "not the password")
    unknown = await c.login("nobody", "not the password")
    assert wrong.status == unknown.status == 401
    assert "ユーザー名またはパスワードが違います" in await wrong.text()
    assert (await c.client.get("/api/me")).status == 401
    actions = [(r["actor"], r["action"]) for r in store.audit_log()]
    assert ("suzuki", "staff.login_failed") in actions


async def test_disabled_account_cannot_log_in_and_loses_its_session(staff_client, accounts):
    c = await staff_client("sato")
    accounts.set_disabled("sato")
    assert (await c.client.get("/api/me")).status == 401
    assert (await c.login("sato")).status == 401


async def test_login_without_its_csrf_cookie_is_refused(staff_client):
    c = await staff_client()
    resp = await c.client.post("/login", data={"username": "suzuki", "password": PASSWORD, "csrf_token": "forged"},
                               allow_redirects=False)
    assert resp.status == 403
    assert "画面の有効期限が切れました" in await resp.text()


async def test_login_is_throttled_after_repeated_failures(staff_client):
    c = await staff_client()
    for _ in range(3):
        assert (await c.login("suzuki", "wrong password!")).status == 401
    resp = await c.login("suzuki")  # even the right password waits now (test_throttle.py: how long, who)
    assert resp.status == 429 and resp.headers["Retry-After"] in ("1", "2")
    assert "しばらくログインできません" in await resp.text()


@pytest.mark.parametrize("target, expected", [
    ("/handoffs/3", "/handoffs/3"), ("//evil.example/x", "/inbox"), ("http://evil.example/", "/inbox"), ("", "/inbox"),
])
async def test_redirect_after_login_stays_on_site(staff_client, target, expected):
    c = await staff_client()
    page = await (await c.client.get("/login", params={"next": target})).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    nxt = re.search(r'name="next" value="([^"]*)"', page).group(1)
    resp = await c.client.post("/login", data={"username": "suzuki", "password": PASSWORD, "csrf_token": token, "next": nxt},
                               allow_redirects=False)
    assert resp.headers["Location"] == expected


async def test_state_changes_need_the_csrf_token(staff_client, store):
    h = store.request("conv-1", "rest", None, "requested", "q")
    c = await staff_client("suzuki")
    status, body = await c.post_json(f"/api/handoffs/{h.id}/claim", csrf=False)
    assert (status, body["error"]) == (403, "csrf_failed")
    resp = await c.client.post(f"/api/handoffs/{h.id}/claim", headers={"X-CSRF-Token": "wrong"})
    assert resp.status == 403
    resp = await c.client.post(f"/api/handoffs/{h.id}/claim",
                               headers={"X-CSRF-Token": c.csrf, "Origin": "http://evil.example"})
    assert resp.status == 403
    assert store.get(h.id).status == "waiting"
    resp = await c.client.post("/logout", data={"csrf_token": "wrong"}, allow_redirects=False)
    assert resp.status == 403
    resp = await c.client.post("/logout", data={"csrf_token": c.csrf}, allow_redirects=False)  # form field works
    assert resp.status == 302 and resp.headers["Location"] == "/login"
    assert (await c.client.get("/api/me")).status == 401


async def test_session_expires_after_idle_minutes_and_activity_extends_it(staff_client, clock):
    c = await staff_client("suzuki")
    clock.advance(minutes=50)
    assert (await c.client.get("/api/me")).status == 200  # activity: 60 more minutes
    clock.advance(minutes=50)
    assert (await c.client.get("/api/me")).status == 200
    clock.advance(minutes=61)
    resp = await c.client.get("/api/me")
    assert resp.status == 401
    resp = await c.client.get("/inbox", allow_redirects=False)
    assert resp.status == 302


async def test_session_ends_after_twelve_hours_even_when_active(staff_client, clock):
    c = await staff_client("suzuki")
    for _ in range(24):
        clock.advance(minutes=30)
        if (await c.client.get("/api/me")).status != 200:
            break
    assert (await c.client.get("/api/me")).status == 401
    assert clock.offset.total_seconds() <= 12 * 3600


async def test_session_survives_password_change_of_someone_else_but_not_own(staff_client, accounts):
    a = await staff_client("suzuki")
    b = await staff_client("sato")
    accounts.set_password("sato", "another long password")
    assert (await a.client.get("/api/me")).status == 200
    assert (await b.client.get("/api/me")).status == 401


async def test_audit_page_and_api_for_admins_only(staff_client):
    staff = await staff_client("suzuki")
    assert (await staff.client.get("/audit")).status == 403
    status, body = await staff.get_json("/api/audit")
    assert (status, body["error"]) == (403, "admin_only")
    admin = await staff_client("tanaka")
    page = await (await admin.client.get("/audit")).text()
    assert "監査ログ" in page and "ログイン" in page and "tanaka" in page
    status, body = await admin.get_json("/api/audit?limit=5")
    assert status == 200 and body["entries"][0]["action"] == "staff.login"


async def test_security_headers(staff_client):
    c = await staff_client("suzuki")
    resp = await c.client.get("/inbox")
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Cache-Control"] == "no-store"


async def test_static_files_are_served_by_the_app(staff_client):
    c = await staff_client()
    css = await c.client.get("/static/console.css")  # public: the log-in page uses it
    assert css.status == 200 and css.headers["Content-Type"].startswith("text/css")
    assert (await c.client.get("/static/console.js", allow_redirects=False)).status == 302
    await c.login("suzuki")
    js = await c.client.get("/static/console.js")
    assert js.status == 200 and "X-CSRF-Token" in await js.text()
    assert (await c.client.get("/static/.hidden")).status == 404
    assert (await c.client.get("/static/nothing.js")).status == 404


@pytest.mark.parametrize("form", [
    {},
    {"username": "", "password": ""},
    {"username": "🙂🙂", "password": "x"},
    {"username": "suzuki\x00\x07", "password": "\x00"},
    {"username": "a" * 5000, "password": "b" * 50_000},
])
async def test_bad_log_in_input_gets_a_clear_answer(staff_client, form):
    c = await staff_client()
    page = await (await c.client.get("/login")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = await c.client.post("/login", data={**form, "csrf_token": token}, allow_redirects=False)
    assert resp.status in (401, 413)
    body = await resp.text()
    assert "Traceback" not in body
    if resp.status == 401:
        assert "ユーザー名またはパスワードが違います" in body
