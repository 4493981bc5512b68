"""The review pages (bot/review/web.py) mounted under /review, behind log-in and CSRF."""

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
    assert "'unsafe-inline'" in page.headers["Content-Security-Policy"]  # its inline stylesheet
    assert "script-src 'self';" in page.headers["Content-Security-Policy"]
    resp = await c.client.post("/review/dismiss", data={"ids": "1"}, allow_redirects=False)
    assert resp.status == 403  # no token
    resp = await c.client.post("/review/dismiss", data={"ids": "1", "_csrf": c.csrf}, allow_redirects=False)
    assert resp.status not in (401, 403, 500)


async def test_console_without_review_pages_has_no_menu_link(staff_client):
    c = await staff_client("suzuki")
    assert 'href="/review/"' not in await (await c.client.get("/inbox")).text()


async def test_a_failing_review_start_up_does_not_stop_the_console(aiohttp_server, aiohttp_client, fake_rasa, settings,
                                                                    accounts, clock, monkeypatch):
    import bot.review.web as review_web

    real = review_web.create_review_app

    def broken(settings_):
        app = real(settings_)

        async def fail(_app):
            raise RuntimeError("review database unavailable")

        app.on_startup.insert(0, fail)
        return app

    monkeypatch.setattr(review_web, "create_review_app", broken)
    app = create_app(settings, rasa_url=str(fake_rasa.server.make_url("")), rasa_token=fake_rasa.token,
                     poll_interval=0.05, clock=clock, mount_review=True)
    from tests.console.conftest import StaffClient

    c = StaffClient(await aiohttp_client(await aiohttp_server(app)))
    assert (await c.login("suzuki")).status == 302
    status, inbox = await c.get_json("/api/inbox")
    assert status == 200 and inbox["handoffs"] == []
