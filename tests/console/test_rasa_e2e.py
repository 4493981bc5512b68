"""The whole stack on loopback: real Rasa, action server and console (started by `bot run`'s Stack).

Proves the delivery seam with Rasa 3.6 itself: a claim pauses the conversation (the
resident's messages are recorded, the assistant stays silent), staff replies land in the
tracker as bot events, and handing back resumes the assistant.
"""

from __future__ import annotations

import json
import re
import urllib.request

import aiohttp
import pytest

from bot.console.accounts import StaffAccounts
from bot.handoff.store import HandoffStore
from tests.console.conftest import PASSWORD

pytestmark = pytest.mark.slow


def resident_says(stack, sender: str, text: str) -> list[dict]:
    req = urllib.request.Request(f"{stack.rasa_url}/webhooks/rest/webhook",
                                 data=json.dumps({"sender": sender, "message": text}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:  # loopback
        return json.loads(resp.read().decode())


def tracker(stack, sender: str) -> dict:
    url = f"{stack.rasa_url}/conversations/{sender}/tracker?token={stack.settings.api_token()}"
    with urllib.request.urlopen(url, timeout=30) as resp:  # loopback
        return json.loads(resp.read().decode())


async def test_claim_pauses_rasa_reply_reaches_tracker_hand_back_resumes(live_stack):
    settings = live_stack.settings
    store = HandoffStore.open(settings.database_path)
    accounts = StaffAccounts(store.db)
    if accounts.get("e2e.staff") is None:
        accounts.add("e2e.staff", "山田", PASSWORD)
    sender = "e2e-handoff-1"
    assert resident_says(live_stack, sender, "粗大ごみの出し方を教えて")  # the assistant answers
    h = store.request(sender, "rest", "gomi", "requested", "粗大ごみの出し方を教えて")  # as the action does

    base = live_stack.console_url
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        page = await (await browser.get(f"{base}/login")).text()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        resp = await browser.post(f"{base}/login", data={"username": "e2e.staff", "password": PASSWORD, "csrf_token": token},
                                  allow_redirects=False)
        assert resp.status == 302
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', await (await browser.get(f"{base}/inbox")).text()).group(1)
        headers = {"X-CSRF-Token": csrf}

        resp = await browser.post(f"{base}/api/handoffs/{h.id}/claim", headers=headers, json={})
        assert resp.status == 200, await resp.text()
        t = tracker(live_stack, sender)
        assert t["paused"] is True
        claimed = [e for e in t["events"] if e["event"] == "bot" and (e.get("data") or {}).get("custom", {}).get("status") == "claimed"]
        assert claimed and "担当の山田です" in claimed[0]["text"]

        # while paused, the resident's message is recorded and the assistant stays silent
        assert resident_says(live_stack, sender, "ソファを捨てたいです") == []
        conv = await (await browser.get(f"{base}/api/handoffs/{h.id}/conversation")).json()
        assert conv["items"][-1]["kind"] == "user" and conv["items"][-1]["text"] == "ソファを捨てたいです"

        resp = await browser.post(f"{base}/api/handoffs/{h.id}/reply", headers=headers, json={"text": "粗大ごみ受付センターに申し込んでください。"})
        assert resp.status == 200
        last = tracker(live_stack, sender)["events"][-1]
        assert last["event"] == "bot" and last["text"] == "粗大ごみ受付センターに申し込んでください。"
        assert last["data"]["custom"]["type"] == "staff" and last["data"]["custom"]["staff_name"] == "山田"

        resp = await browser.post(f"{base}/api/handoffs/{h.id}/hand_back", headers=headers, json={})
        assert resp.status == 200
    assert tracker(live_stack, sender)["paused"] is False
    replies = resident_says(live_stack, sender, "粗大ごみの出し方を教えて")
    assert replies and replies[0]["custom"]["type"] in ("answer", "clarify")  # the assistant answers again
    assert store.get(h.id).status == "returned"


async def staff_session(stack, browser) -> dict:
    """Log ``e2e.staff`` in to the console; the headers state-changing requests need."""
    base = stack.console_url
    page = await (await browser.get(f"{base}/login")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = await browser.post(f"{base}/login", data={"username": "e2e.staff", "password": PASSWORD, "csrf_token": token},
                              allow_redirects=False)
    assert resp.status == 302
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', await (await browser.get(f"{base}/inbox")).text()).group(1)
    return {"X-CSRF-Token": csrf}


async def test_resident_payloads_do_not_resume_a_claimed_conversation(live_stack):
    settings = live_stack.settings
    store = HandoffStore.open(settings.database_path)
    accounts = StaffAccounts(store.db)
    if accounts.get("e2e.staff") is None:
        accounts.add("e2e.staff", "山田", PASSWORD)
    sender = "e2e-handoff-restart"
    assert resident_says(live_stack, sender, "粗大ごみの出し方を教えて")
    h = store.request(sender, "rest", "gomi", "requested", "粗大ごみの出し方を教えて")
    base = live_stack.console_url
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        headers = await staff_session(live_stack, browser)
        resp = await browser.post(f"{base}/api/handoffs/{h.id}/claim", headers=headers, json={})
        assert resp.status == 200, await resp.text()

        # Rasa itself would run /restart on a paused conversation and unpause it.
        for payload in ["/restart", "/session_start", "/greet", "/request_human", "/back", "住民票はどこで取れますか"]:
            assert resident_says(live_stack, sender, payload) == [], payload
            assert tracker(live_stack, sender)["paused"] is True, payload
        assert store.get(h.id).status == "claimed"
        conv = await (await browser.get(f"{base}/api/handoffs/{h.id}/conversation")).json()
        assert conv["items"][-1]["kind"] == "user"  # staff see what the resident sent

        # The resident's explicit cancel (「やめる」) ends it, and the console sees that.
        [cancelled] = resident_says(live_stack, sender, "/handoff_cancel")
        assert cancelled["custom"]["status"] == "cancelled"
        assert tracker(live_stack, sender)["paused"] is False
        assert store.get(h.id).status == "cancelled"
        shown = await (await browser.get(f"{base}/api/handoffs/{h.id}")).json()
        assert shown["handoff"]["status"] == "cancelled" and shown["handoff"]["status_label"] == "取り消し"
    replies = resident_says(live_stack, sender, "粗大ごみの出し方を教えて")
    assert replies and replies[0]["custom"]["type"] in ("answer", "clarify")
