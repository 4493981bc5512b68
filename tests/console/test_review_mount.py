"""The review pages (bot/console/review/) mounted under /review, behind log-in and CSRF."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.console.app import create_app


@pytest.fixture
async def review_console(aiohttp_server, fake_rasa, settings, accounts, clock):
    app = create_app(replace(settings, models_dir=settings.var_dir / "models"), rasa_url=str(fake_rasa.server.make_url("")),
                     rasa_token=fake_rasa.token, poll_interval=0.05, clock=clock, mount_review=True)
    return await aiohttp_server(app)


async def test_review_pages_need_log_in_and_csrf(review_console, aiohttp_client):
    from tests.console.conftest import StaffClient

    c = StaffClient(await aiohttp_client(review_console))
    resp = await c.client.get("/review/", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"].startswith("/login?next=/review/")
    resp = await c.client.post("/review/dismiss", data={"ids": "1"}, allow_redirects=False)
    assert resp.status == 401
    assert (await c.client.get("/api/nothing")).status == 401  # not a 500 from sub-app routing
    await c.login("suzuki")
    assert (await c.client.get("/api/nothing")).status == 404
    assert (await c.client.get("/review/no-such-page")).status == 404
    inbox = await (await c.client.get("/inbox")).text()
    assert 'href="/review/"' in inbox  # the console's menu links to it
    page = await c.client.get("/review/")
    assert page.status == 200
    html = await page.text()
    assert f'name="_csrf" value="{c.csrf}"' in html or "_csrf" not in html
    assert "style-src 'self';" in page.headers["Content-Security-Policy"]  # the console's stylesheet, no inline style
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    assert '<span class="who">鈴木（職員）</span>' in html and '<a href="/review/" aria-current="page">振り返り</a>' in html
    resp = await c.client.post("/review/dismiss", data={"ids": "1"}, allow_redirects=False)
    assert resp.status == 403  # no token
    resp = await c.client.post("/review/dismiss", data={"ids": "1", "_csrf": c.csrf}, allow_redirects=False)
    assert resp.status not in (401, 403, 500)


async def test_console_without_review_pages_has_no_menu_link(staff_client):
    c = await staff_client("suzuki")
    assert 'href="/review/"' not in await (await c.client.get("/inbox")).text()


async def test_a_failing_review_start_up_stops_the_console_with_a_clear_message(aiohttp_server, fake_rasa, settings,
                                                                              accounts, clock, monkeypatch):
    from bot.console.review import ReviewStartError
    from bot.review import service as review_service

    def unavailable(*args, **kwargs):
        raise RuntimeError("review database unavailable")

    monkeypatch.setattr(review_service.ReviewService, "__init__", unavailable)
    app = create_app(settings, rasa_url=str(fake_rasa.server.make_url("")), rasa_token=fake_rasa.token,
                     poll_interval=0.05, clock=clock, mount_review=True)
    with pytest.raises(ReviewStartError) as raised:
        await aiohttp_server(app)
    assert str(raised.value).startswith("the review pages could not start: RuntimeError: review database unavailable")
    assert "ヒント / hint: check that the project's database and the knowledge directory" in str(raised.value)


def test_a_review_app_that_cannot_be_built_stops_the_console(fake_rasa, settings, accounts, monkeypatch):
    import bot.console.review as review_pages
    from bot.console.app import ReviewMountError

    def broken(settings_):
        raise ImportError("cannot import name 'charts'")

    monkeypatch.setattr(review_pages, "create_review_app", broken)
    with pytest.raises(ReviewMountError, match="could not be mounted under /review: ImportError: cannot import name"):
        create_app(settings, rasa_url=str(fake_rasa.server.make_url("")), rasa_token=fake_rasa.token, mount_review=True)


def test_python_m_bot_console_says_why_it_did_not_start(monkeypatch, capsys):
    from aiohttp import web

    from bot.console import __main__ as console_main
    from bot.console import keys
    from bot.console.review import ReviewStartError

    def run_app(app, **kwargs):
        raise ReviewStartError("the review pages could not start: OperationalError: disk I/O error", hint="check it")

    monkeypatch.setattr(web, "run_app", run_app)
    monkeypatch.setattr("bot.console.app.create_app", lambda settings: {keys.ACCOUNTS: _NoAccounts()})
    assert console_main.main() == 1
    assert "staff console: the review pages could not start: OperationalError: disk I/O error" in capsys.readouterr().err


class _NoAccounts:
    def list(self):
        return ["tanaka"]
