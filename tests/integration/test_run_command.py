"""`bot run` as a user runs it: starts everything, answers, restarts a server killed with -9 while the
others keep serving, and SIGTERM stops every process."""

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


def server_pid(parent: int, marker: str) -> int:
    """The pid of bot run's child whose command line names ``marker``."""
    for pid in subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split():
        try:
            if marker in open(f"/proc/{pid}/cmdline").read().split("\0"):
                return int(pid)
        except FileNotFoundError:
            continue
    raise AssertionError(f"no child process runs {marker}")


def wait_ok(url: str, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # loopback
                if resp.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


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

        # kill -9 of each server: bot run restarts it and the others keep serving.
        rasa_port, console_port = ports["MADOGUCHI_RASA_PORT"], ports["MADOGUCHI_CONSOLE_PORT"]
        ask = lambda: json.loads(urllib.request.urlopen(req, timeout=90).read())  # noqa: E731
        for name, marker in [("action server", "rasa_sdk"), ("staff console", "bot.console"), ("Rasa server", "bot.rasa_server")]:
            victim = server_pid(proc.pid, marker)
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 180
            while f"{name} restarted" not in (tmp_path / "run.log").read_text():
                assert proc.poll() is None, (tmp_path / "run.log").read_text()[-2000:]
                assert time.monotonic() < deadline, f"the {name} was not restarted"
                time.sleep(0.5)
            assert server_pid(proc.pid, marker) != victim
            if name == "action server":
                # asked while it restarts: the answer waits for it instead of failing
                [msg] = ask()
                assert msg["custom"]["faq_id"] == "juminhyo-get"
            if name == "staff console":
                assert wait_ok(f"http://127.0.0.1:{console_port}/healthz")
            if name == "Rasa server":
                assert wait_ok(f"http://127.0.0.1:{rasa_port}/webhooks/rest/")
                [msg] = ask()
                assert msg["custom"]["faq_id"] == "juminhyo-get"
        out = (tmp_path / "run.log").read_text()
        assert "action server exited with code -9; restarting it in 1 s" in out
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 3
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        time.sleep(0.5)
        for pid in children:
            assert not os.path.exists(f"/proc/{pid}") or "zombie" in open(f"/proc/{pid}/status").read().lower()
        assert "stopped" in (tmp_path / "run.log").read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
