"""Behind the city's HTTPS reverse proxy: Secure cookies, and the proxy headers trusted
only from the configured proxies."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.console.app import create_app
from bot.console.proxy import parse_trusted_proxies
from bot.errors import ConfigError
from tests.console.conftest import PASSWORD


async def client_for(aiohttp_client, fake_rasa, settings, trusted: str):
    app = create_app(replace(settings, console_trusted_proxies=trusted), rasa_url=str(fake_rasa.server.make_url("")),
                     rasa_token=fake_rasa.token, poll_interval=0.05, mount_review=False)
    return await aiohttp_client(app)


async def login_cookies(client, proto: str | None) -> dict[str, str]:
    headers = {"X-Forwarded-Proto": proto} if proto else {}
    resp = await client.get("/login", headers=headers)
    login_cookie = resp.headers.getall("Set-Cookie")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', await resp.text()).group(1)
    # A Secure cookie is not sent back over plain HTTP by the client: send it as the browser
    # (talking HTTPS to the proxy) would.
    headers["Cookie"] = login_cookie.split(";")[0]
    resp = await client.post("/login", data={"username": "suzuki", "password": PASSWORD, "csrf_token": token},
                             headers=headers, allow_redirects=False)
    assert resp.status == 302
    session_cookie = next(c for c in resp.headers.getall("Set-Cookie") if c.startswith("madoguchi_session="))
    return {"login": login_cookie, "session": session_cookie}


@pytest.mark.parametrize("trusted, proto, secure", [
    ("127.0.0.1", "https", True),     # the proxy says the browser used HTTPS
    ("127.0.0.1", "http", False),
    ("127.0.0.1", None, False),
    ("", "https", False),             # anyone can send the header: not believed without a configured proxy
    ("10.0.0.5", "https", False),     # a proxy, but not this peer
])
async def test_secure_flag_follows_the_trusted_proxy(aiohttp_client, fake_rasa, settings, accounts, trusted, proto, secure):
    client = await client_for(aiohttp_client, fake_rasa, settings, trusted)
    cookies = await login_cookies(client, proto)
    for cookie in cookies.values():
        assert ("; Secure" in cookie) is secure, cookie
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_trusted_proxies_setting_is_checked():
    assert parse_trusted_proxies(" 127.0.0.1, ::1 ,") == frozenset({"127.0.0.1", "::1"})
    with pytest.raises(ConfigError, match="proxy.example is not an IP address|'proxy.example' is not an IP address"):
        parse_trusted_proxies("127.0.0.1,proxy.example")
