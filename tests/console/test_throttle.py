"""The log-in throttle: per-address progressive delay, per-account lock, bounded memory.

Pure tests with a fake clock, then the console over HTTP on loopback with several client
addresses (X-Forwarded-For from a trusted proxy).
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from bot.console.app import create_app
from bot.console.throttle import LoginThrottle
from tests.console.conftest import PASSWORD


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


def throttle(clock, **kw) -> LoginThrottle:
    return LoginThrottle(clock=clock, **kw)


def fail(t: LoginThrottle, client: str, user: str, exists: bool = True):
    decision = t.check(client, user)
    if decision.allowed:
        t.failed(client, user, account_exists=exists)
    return decision


def test_one_address_gets_a_delay_that_doubles(clock):
    t = throttle(clock)
    for _ in range(3):  # free failures
        assert fail(t, "10.0.0.9", "suzuki").allowed
    assert t.client_delay("10.0.0.9") == 1.0
    waits = []
    for _ in range(6):
        d = t.check("10.0.0.9", "other")  # the delay follows the address, whatever the name
        assert not d.allowed and d.reason == "client_delay"
        waits.append(d.retry_after)
        clock.now += d.retry_after
        assert fail(t, "10.0.0.9", f"name{len(waits)}", exists=False).allowed
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    assert t.check("10.0.0.8", "suzuki").allowed  # another address is not slowed


def test_one_password_against_many_names_is_slowed(clock):
    t = throttle(clock)
    allowed = [fail(t, "10.0.0.9", f"user{i}", exists=False).allowed for i in range(50)]
    assert allowed.count(True) == 3  # then every attempt must wait


def test_the_delay_is_capped_and_forgotten_after_the_window(clock):
    t = throttle(clock, max_delay=60.0)
    for _ in range(20):
        clock.now += t.client_delay("c")
        fail(t, "c", "x", exists=False)
    assert t.client_delay("c") == 60.0
    clock.now += 901
    assert t.client_delay("c") == 0 and t.check("c", "x").allowed


def test_strangers_cannot_lock_staff_out(clock):
    t = throttle(clock)
    for i in range(10):  # many addresses, wrong passwords for suzuki
        fail(t, f"203.0.113.{i}", "suzuki")
    assert t.account_locked("suzuki")
    # suzuki at the usual PC (no failures of its own) may still try, and get in
    assert t.check("10.1.1.1", "suzuki").allowed
    # an address that failed even once may not try the locked account again
    d = t.check("203.0.113.3", "suzuki")
    assert not d.allowed and d.reason == "account_locked" and 0 < d.retry_after <= 900
    # nor may a fresh address that fails once: one guess per address per window
    assert fail(t, "198.51.100.7", "suzuki").allowed
    assert t.check("198.51.100.7", "suzuki").reason == "account_locked"
    t.succeeded("10.1.1.1", "suzuki")
    assert not t.account_locked("suzuki")


def test_made_up_names_do_not_lock_or_evict_accounts(clock):
    t = throttle(clock, max_entries=100)
    for i in range(5):
        fail(t, f"203.0.113.{i}", "suzuki")
    assert t.account_locked("suzuki")
    for i in range(20_000):  # a flood of made-up names from many addresses
        clock.now += 0.001
        t.failed(f"2001:db8::{i:x}", f"nobody{i}", account_exists=False)
    assert t.account_locked("suzuki")  # still locked: flooding does not unlock it
    clients, accounts = t.sizes()
    assert clients == 100 and accounts == 1  # bounded memory


def test_full_tables_forget_the_oldest_never_everything(clock):
    t = throttle(clock, max_entries=3, account_limit=1)
    for user in ["a", "b", "c", "d"]:
        clock.now += 1
        t.failed(f"ip-{user}", user, account_exists=True)
    assert t.sizes() == (3, 3)
    assert not t.account_locked("a")  # the oldest went
    assert all(t.account_locked(u) for u in ["b", "c", "d"])


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        LoginThrottle(account_limit=0)


# ----------------------------------------------------------------------------- over HTTP
@pytest.fixture
async def console_behind_proxy(aiohttp_client, fake_rasa, settings, accounts, clock):
    t = LoginThrottle(clock=clock)
    app = create_app(replace(settings, console_trusted_proxies="127.0.0.1"), rasa_url=str(fake_rasa.server.make_url("")),
                     rasa_token=fake_rasa.token, poll_interval=0.05, mount_review=False, throttle=t)
    return await aiohttp_client(app), t


async def login(client, username, password, address):
    client.session.cookie_jar.clear()  # each attempt as a new browser
    page = await (await client.get("/login")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = await client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                             headers={"X-Forwarded-For": f"198.51.100.200, {address}"}, allow_redirects=False)
    return resp.status, resp.headers.get("Retry-After"), await resp.text()


async def test_http_strangers_lock_nobody_out_and_get_slowed(console_behind_proxy, store):
    client, t = console_behind_proxy
    for i in range(6):
        status, _, _ = await login(client, "suzuki", "wrong password!", f"203.0.113.{i}")
        assert status == 401
    status, retry, text = await login(client, "suzuki", PASSWORD, "203.0.113.2")
    assert status == 429 and int(retry) > 60 and "この端末からは" in text and "いつもお使いの端末" in text
    status, _, _ = await login(client, "suzuki", PASSWORD, "10.20.30.40")  # suzuki's own PC
    assert status == 302
    for _ in range(3):
        assert (await login(client, "sato", "wrong password!", "203.0.113.99"))[0] == 401
    status, retry, text = await login(client, "tanaka", "wrong password!", "203.0.113.99")
    assert status == 429 and retry == "2" and "秒ほど待ってから" in text
    actions = [row["action"] for row in store.audit_log(100)]
    assert actions.count("staff.login_failed") == 9 and "staff.login" in actions
    # A name that is no account (perhaps a password typed into the name field) is not recorded.
    assert (await login(client, "mypassword2026", "x", "10.9.9.9"))[0] == 401
    newest = store.audit_log(1)[0]
    assert (newest["actor"], newest["action"], newest["target"]) == ("?", "staff.login_failed", "staff:?")
    assert not any("mypassword2026" in str(row.values()) for row in store.audit_log(500))


async def test_http_without_a_trusted_proxy_the_header_is_ignored(aiohttp_client, fake_rasa, settings, accounts, clock):
    t = LoginThrottle(clock=clock)
    app = create_app(settings, rasa_url=str(fake_rasa.server.make_url("")), rasa_token=fake_rasa.token,
                     poll_interval=0.05, mount_review=False, throttle=t)
    client = await aiohttp_client(app)
    for i in range(3):
        assert (await login(client, "sato", "wrong password!", f"203.0.113.{i}"))[0] == 401
    # a forged X-Forwarded-For does not make a new client: the peer address is counted
    assert (await login(client, "sato", PASSWORD, "203.0.113.50"))[0] == 429
