"""CORS on the Rasa server: only the configured sites that embed the widget, never "*"."""

from __future__ import annotations

import json
import urllib.request

import pytest

from bot.errors import ConfigError
from bot.settings import Settings
from tests.conftest import ALLOWED_ORIGIN


def test_origins_setting_is_checked():
    assert Settings(web_origins=" https://a.example.jp , http://127.0.0.1:8080/ ").cors_origins() == \
        ["https://a.example.jp", "http://127.0.0.1:8080"]
    assert Settings().cors_origins() == []
    for bad in ["*", "a.example.jp", "https://a.example.jp/path", "ftp://a.example.jp"]:
        with pytest.raises(ConfigError, match="is not an origin"):
            Settings(web_origins=bad).cors_origins()


def preflight(stack, origin: str, path: str = "/webhooks/web/webhook"):
    req = urllib.request.Request(f"{stack.rasa_url}{path}", method="OPTIONS", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    with urllib.request.urlopen(req, timeout=30) as resp:  # loopback
        return resp.headers


def post(stack, origin: str):
    body = json.dumps({"sender": "web-" + "ab" * 16, "message": "こんにちは"}).encode()
    req = urllib.request.Request(f"{stack.rasa_url}/webhooks/web/webhook", data=body,
                                 headers={"Origin": origin, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:  # loopback
        return resp.headers


@pytest.mark.slow
def test_only_the_configured_site_may_call_the_webhook_from_its_pages(live_stack):
    assert live_stack.settings.web_origins == ALLOWED_ORIGIN
    allowed = preflight(live_stack, ALLOWED_ORIGIN)
    assert allowed["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert post(live_stack, ALLOWED_ORIGIN)["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    for stranger in ["https://evil.example", "http://www.city.example.lg.jp", "null"]:
        assert preflight(live_stack, stranger).get("Access-Control-Allow-Origin") is None
        assert post(live_stack, stranger).get("Access-Control-Allow-Origin") is None
    # Rasa's HTTP API (token-protected) is not opened to other sites either.
    assert preflight(live_stack, "https://evil.example", "/conversations/x/tracker").get("Access-Control-Allow-Origin") is None
