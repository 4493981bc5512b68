"""`bot run` as a user runs it: starts everything, answers, and SIGTERM stops every process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.slow


def test_bot_run_serves_and_stops_cleanly(fixture_settings, trained_model, tmp_path):
    ports = {"MADOGUCHI_RASA_PORT": free_port(), "MADOGUCHI_ACTIONS_PORT": free_port(), "MADOGUCHI_CONSOLE_PORT": free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()},
           "MADOGUCHI_KNOWLEDGE_DIR": str(fixture_settings.knowledge_dir),
           "MADOGUCHI_VAR_DIR": str(fixture_settings.var_dir),  # holds the training stamp: no retraining
           "MADOGUCHI_MODELS_DIR": str(trained_model.parent)}
    log = open(tmp_path / "run.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--log-dir", str(tmp_path / "logs")],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while "Madoguchi is running" not in (tmp_path / "run.log").read_text():
            assert proc.poll() is None, (tmp_path / "run.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "bot run did not get ready"
            time.sleep(1)
        out = (tmp_path / "run.log").read_text()
        assert "model is up to date" in out
        assert f"http://127.0.0.1:{ports['MADOGUCHI_RASA_PORT']}/webhooks/web/demo" in out
        body = json.dumps({"sender": "run-test", "message": "住民票ってどこでもらえるの？"}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{ports['MADOGUCHI_RASA_PORT']}/webhooks/rest/webhook", data=body,
                                     headers={"Content-Type": "application/json"})
        [msg] = json.loads(urllib.request.urlopen(req, timeout=60).read())
        assert msg["custom"]["faq_id"] == "juminhyo-get"
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 3  # action server, Rasa, console
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        time.sleep(0.5)
        for pid in children:
            assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()
        assert "stopped" in (tmp_path / "run.log").read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
