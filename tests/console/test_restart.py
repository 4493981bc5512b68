"""The real `python -m bot.console` process: killed mid-conversation and started again.

Hand-offs, claims and log-in sessions live in SQLite, so after a crash and restart the
member of staff is still logged in, still holds the conversation, and carries on.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys

import aiohttp
import pytest

from tests.conftest import FIXTURE_KB, ROOT
from tests.console.conftest import PASSWORD

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ConsoleProcess:
    def __init__(self, env: dict, log_path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None
        self.url = f"http://127.0.0.1:{env['MADOGUCHI_CONSOLE_PORT']}"

    async def start(self, timeout: float = 30) -> None:
        log = open(self.log_path, "ab")  # closed when the test ends
        self.proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot.console", cwd=str(ROOT), env=self.env,
                                                         stdout=log, stderr=log)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession() as s:
            while True:
                if self.proc.returncode is not None:
                    raise AssertionError(f"console exited: {self.log_path.read_text()}")
                try:
                    async with s.get(f"{self.url}/healthz") as r:
                        if r.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if loop.time() > deadline:
                    raise AssertionError(f"console not ready: {self.log_path.read_text()}")
                await asyncio.sleep(0.1)

    async def kill(self) -> None:
        self.proc.kill()  # a crash: no clean shutdown
        await self.proc.wait()

    async def stop(self) -> int:
        if self.proc and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            return await asyncio.wait_for(self.proc.wait(), 15)
        return self.proc.returncode if self.proc else 0


@pytest.fixture
async def console_process(tmp_path, fake_rasa, accounts, settings):
    settings.api_token_path.parent.mkdir(parents=True, exist_ok=True)
    settings.api_token_path.write_text(fake_rasa.token)
    env = {
        **os.environ,
        "MADOGUCHI_VAR_DIR": str(settings.var_dir),
        "MADOGUCHI_KNOWLEDGE_DIR": str(FIXTURE_KB),
        "MADOGUCHI_HOST": "127.0.0.1",
        "MADOGUCHI_CONSOLE_PORT": str(free_port()),
        "MADOGUCHI_RASA_PORT": str(fake_rasa.server.port),
        "MADOGUCHI_CLAIM_TIMEOUT": "3600",
    }
    proc = ConsoleProcess(env, tmp_path / "console.log")
    yield proc
    await proc.stop()


async def _login(session: aiohttp.ClientSession, url: str, username: str) -> str:
    page = await (await session.get(f"{url}/login")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = await session.post(f"{url}/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                              allow_redirects=False)
    assert resp.status == 302
    inbox = await (await session.get(f"{url}/inbox")).text()
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', inbox).group(1)


async def test_claim_and_reply_continue_after_the_console_is_killed_and_restarted(console_process, store, fake_rasa):
    h = store.request("conv-restart", "rest", "shimin", "requested", "転入の手続き")
    fake_rasa.add_user_message("conv-restart", "担当者と話したい", None, intent="request_human")
    url = console_process.url
    await console_process.start()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        csrf = await _login(browser, url, "suzuki")
        headers = {"X-CSRF-Token": csrf}
        r = await browser.post(f"{url}/api/handoffs/{h.id}/claim", headers=headers, json={})
        assert r.status == 200
        r = await browser.post(f"{url}/api/handoffs/{h.id}/reply", headers=headers, json={"text": "担当の鈴木です。ご用件をどうぞ。"})
        assert r.status == 200

        await console_process.kill()
        fake_rasa.add_user_message("conv-restart", "転入届に必要なものは？")  # the resident writes meanwhile
        await console_process.start()

        # same cookie, same session: still logged in, still holding the conversation
        r = await browser.get(f"{url}/api/handoffs/{h.id}")
        assert r.status == 200
        handoff = (await r.json())["handoff"]
        assert (handoff["status"], handoff["claimed_by"], handoff["mine"]) == ("claimed", "suzuki", True)
        r = await browser.get(f"{url}/api/handoffs/{h.id}/conversation")
        conv = await r.json()
        texts = [i["text"] for i in conv["items"]]
        assert texts[-2:] == ["担当の鈴木です。ご用件をどうぞ。", "転入届に必要なものは？"]
        assert conv["paused"] is True

        r = await browser.post(f"{url}/api/handoffs/{h.id}/reply", headers=headers, json={"text": "本人確認書類と転出証明書です。"})
        assert r.status == 200
        r = await browser.post(f"{url}/api/handoffs/{h.id}/hand_back", headers=headers, json={"note": "案内済み"})
        assert r.status == 200

    staff_texts = [e["text"] for e in fake_rasa.events_appended("conv-restart") if e["event"] == "bot"]
    assert staff_texts[1:3] == ["担当の鈴木です。ご用件をどうぞ。", "本人確認書類と転出証明書です。"]
    assert [e["event"] for e in fake_rasa.events_appended("conv-restart")] == ["pause", "bot", "bot", "bot", "resume", "bot"]
    assert store.get(h.id).status == "returned"
    assert [r["action"] for r in store.audit_log() if r["target"] == f"handoff:{h.id}"] == [
        "handoff.hand_back", "handoff.reply", "handoff.reply", "handoff.claim", "handoff.request"]


async def test_console_stops_promptly_on_sigterm_with_an_open_stream(console_process):
    await console_process.start()
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        await _login(browser, console_process.url, "suzuki")
        stream = await browser.get(f"{console_process.url}/api/stream")
        assert stream.status == 200
        await stream.content.readline()
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await console_process.stop() == 0
        assert loop.time() - started < 8
