"""Start the action server and the Rasa server together; stop both cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bot.errors import MadoguchiError
from bot.settings import Settings
from bot.training import rasa_env


def _url_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
            return resp.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def port_in_use(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


@dataclass
class Stack:
    """The running processes of one Madoguchi instance."""

    settings: Settings
    model: Path
    log_dir: Path | None = None
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def rasa_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.actions_port}"

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen:
        out = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            cmd, cwd=self.settings.project_dir, env=rasa_env(self.settings), stdout=out, stderr=subprocess.STDOUT if out else None,
        )
        self.processes.append(proc)
        return proc

    def start(self, timeout: float = 180.0, on_wait: Callable[[str], None] | None = None) -> None:
        s = self.settings
        for port, what in ((s.rasa_port, "Rasa server"), (s.actions_port, "action server")):
            if port_in_use(s.host, port):
                raise MadoguchiError(
                    f"port {port} on {s.host} is already in use, so the {what} cannot start",
                    hint="stop the other process, or choose ports with MADOGUCHI_RASA_PORT / MADOGUCHI_ACTIONS_PORT",
                )
        s.var_dir.mkdir(parents=True, exist_ok=True)
        self._spawn("actions", [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(s.actions_port)])
        self._spawn(
            "rasa",
            [
                sys.executable, "-m", "rasa", "run",
                "--model", str(self.model),
                "--interface", s.host,
                "--port", str(s.rasa_port),
                "--credentials", str(s.project_dir / "credentials.yml"),
                "--endpoints", str(s.project_dir / "endpoints.yml"),
                "--cors", "*",
            ],
        )
        deadline = time.monotonic() + timeout
        waiting = {"actions": f"{self.actions_url}/health", "rasa": f"{self.rasa_url}/webhooks/rest/"}
        while waiting:
            for name, url in list(waiting.items()):
                if _url_ok(url):
                    waiting.pop(name)
            for proc in self.processes:
                if proc.poll() is not None:
                    self.stop()
                    where = f" (see {self.log_dir})" if self.log_dir else ""
                    raise MadoguchiError(f"a server exited during start-up with code {proc.returncode}{where}")
            if time.monotonic() > deadline:
                self.stop()
                raise MadoguchiError(f"servers not ready after {timeout:.0f} s: {', '.join(waiting)}")
            if waiting:
                if on_wait:
                    on_wait(", ".join(waiting))
                time.sleep(0.5)

    def stop(self, grace: float = 10.0) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.processes:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.processes.clear()

    def wait(self) -> int:
        """Block until one process exits (or Ctrl-C); then stop the others."""
        try:
            while True:
                for proc in self.processes:
                    code = proc.poll()
                    if code is not None:
                        return code
                time.sleep(0.5)
        finally:
            self.stop()
