"""The real stack with its action server killed (-9): the resident always gets a reply,
and a message left for staff is stored all the same (bot/action_fallback.py)."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
import urllib.error
import urllib.request
import uuid

import pytest

pytestmark = pytest.mark.slow


def say(stack, sender: str, text: str) -> list[dict]:
    req = urllib.request.Request(f"{stack.rasa_url}/webhooks/rest/webhook",
                                 data=json.dumps({"sender": sender, "message": text}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=90) as resp:  # loopback
        assert resp.status == 200
        return json.loads(resp.read().decode())


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # loopback
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture
def actions_down(live_stack):
    proc = live_stack.by_name["actions"]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not healthy(f"{live_stack.actions_url}/health")
    try:
        yield live_stack
    finally:
        live_stack.respawn("actions")
        deadline = time.monotonic() + 120
        while not healthy(f"{live_stack.actions_url}/health"):
            assert time.monotonic() < deadline, "the action server did not come back"
            time.sleep(0.5)


def test_resident_gets_the_error_reply_and_a_left_message_is_kept(actions_down):
    stack = actions_down
    sender = f"down-{uuid.uuid4().hex[:12]}"
    # An FAQ question needs the action server: after the retries, the contract's error reply, never [].
    [reply] = say(stack, sender, "住民票ってどこでもらえるの？")
    assert reply["custom"] == {"type": "error"} and "ただいま応答できません" in reply["text"]
    [reply] = say(stack, sender, "人と話したい")
    assert reply["custom"]["type"] == "error"
    # Leaving a message: the form is Rasa's own; creating the ticket falls back to the Rasa process.
    [ask] = say(stack, sender, "/leave_message")
    assert ask["custom"]["status"] == "ask_ticket_question"
    [done] = say(stack, sender, "住民税を分けて払う相談をしたいです")
    assert done["custom"]["status"] == "ticket_created" and done["custom"]["ticket_id"]
    db = sqlite3.connect(f"file:{stack.settings.database_path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT id, question, status FROM tickets WHERE conversation_id = ?", (sender,)).fetchall()
    finally:
        db.close()
    assert rows == [(done["custom"]["ticket_id"], "住民税を分けて払う相談をしたいです", "open")]
