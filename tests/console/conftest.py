"""The console on a real loopback server, a fake Rasa API, and logged-in staff clients."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import replace

import pytest

from bot.console.accounts import StaffAccounts
from bot.console.app import create_app
from bot.handoff.store import HandoffStore
from bot.settings import Settings
from tests.conftest import FIXTURE_KB, ROOT
from tests.console.fake_rasa import FakeRasa

PASSWORD = "correct horse battery"
STAFF = {"tanaka": ("田中", "admin"), "suzuki": ("鈴木", "staff"), "sato": ("佐藤", "staff")}


class Clock:
    """Real time plus an offset the test can move forward (session expiry)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + self.offset

    def advance(self, **kw) -> None:
        self.offset += dt.timedelta(**kw)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """scrypt with a small cost factor keeps the tests fast (test_accounts checks the real one)."""
    import bot.console.accounts as module

    monkeypatch.setitem(module._SCRYPT, "n", 2**8)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(project_dir=ROOT, knowledge_dir=FIXTURE_KB, var_dir=tmp_path / "var", claim_timeout=3600).resolved()


@pytest.fixture
def store(settings) -> HandoffStore:
    """The same database the console uses (as the action server would write it)."""
    return HandoffStore.open(settings.database_path)


@pytest.fixture
def accounts(store) -> StaffAccounts:
    accounts = StaffAccounts(store.db)
    for username, (name, role) in STAFF.items():
        accounts.add(username, name, PASSWORD, role)
    return accounts


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def fake_rasa(aiohttp_server) -> FakeRasa:
    fake = FakeRasa()
    fake.server = await aiohttp_server(fake.app)
    return fake


@pytest.fixture
def make_console(aiohttp_server, fake_rasa, settings, accounts, clock):
    async def make(notify_backoff: float = 0.05, **setting_overrides):
        app = create_app(replace(settings, **setting_overrides), rasa_url=str(fake_rasa.server.make_url("")),
                         rasa_token=fake_rasa.token, poll_interval=0.05, notify_backoff=notify_backoff, clock=clock,
                         mount_review=False)
        return await aiohttp_server(app)

    return make


@pytest.fixture
async def console(make_console):
    return await make_console()


class StaffClient:
    """A browser-like client of one member of staff (own cookie jar)."""

    def __init__(self, client) -> None:
        self.client = client
        self.csrf = ""

    async def login(self, username: str, password: str = PASSWORD):
        page = await (await self.client.get("/login")).text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        resp = await self.client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                                      allow_redirects=False)
        if resp.status == 302:
            inbox = await (await self.client.get("/inbox")).text()
            self.csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', inbox).group(1)
        return resp

    async def get_json(self, path: str):
        resp = await self.client.get(path, headers={"Accept": "application/json"})
        return resp.status, await resp.json()

    async def post_json(self, path: str, body: dict | None = None, csrf: bool = True):
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        resp = await self.client.post(path, json=body or {}, headers=headers)
        return resp.status, await resp.json()


@pytest.fixture
def staff_client(aiohttp_client, console):
    async def make(username: str | None = None) -> StaffClient:
        c = StaffClient(await aiohttp_client(console))
        if username:
            resp = await c.login(username)
            assert resp.status == 302, await resp.text()
        return c

    return make


async def eventually(check, timeout: float = 5.0, interval: float = 0.05):
    """Wait until ``check()`` is truthy (the console's loops run every 0.05 s in tests)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
