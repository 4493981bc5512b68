"""Start the action server, the Rasa server and the staff console together; stop them cleanly."""

from __future__ import annotations

import dataclasses
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
from bot.runtime.supervisor import RestartPolicy, Supervisor
from bot.runtime.training import rasa_env


def url_ok(url: str, timeout: float = 1.0) -> bool:
    """Whether ``url`` answers 200 within ``timeout`` seconds (a server is up and ready)."""
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


# Which setting holds each server's port.
PORT_SETTINGS = {"actions": "actions_port", "rasa": "rasa_port", "console": "console_port"}
PORT_HINT = ("stop the other process, or choose ports with MADOGUCHI_RASA_PORT / MADOGUCHI_ACTIONS_PORT / "
             "MADOGUCHI_CONSOLE_PORT")
# Starts tried with new ports when ``Stack.choose_port`` is set and a port is taken.
PORT_ATTEMPTS = 4


class PortTaken(MadoguchiError):
    """A server's port is in use (before the start, or taken before the server bound it)."""

    def __init__(self, message: str, setting: str) -> None:
        super().__init__(message, hint=PORT_HINT)
        self.setting = setting


def _port_taken_in_log(path: Path, offset: int) -> bool:
    """Whether the log, from ``offset`` on (this start's part), says the port was taken."""
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            text = fh.read().decode("utf-8", "replace").lower()
    except OSError:
        return False
    return "address already in use" in text or "errno 98" in text


def console_available() -> bool:
    """The staff console ships with the project; checked so a partial checkout still runs."""
    import importlib.util

    try:
        return importlib.util.find_spec("bot.console.__main__") is not None
    except ModuleNotFoundError:
        return False


@dataclass
class Stack:
    """The running processes of one Madoguchi instance."""

    settings: Settings
    model: Path
    log_dir: Path | None = None
    with_console: bool = True
    credentials: Path | None = None  # credentials.yml to start from (default: the project's)
    processes: list[subprocess.Popen] = field(default_factory=list)
    commands: dict[str, list[str]] = field(default_factory=dict)  # name -> command line, to restart
    by_name: dict[str, subprocess.Popen] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # e.g. channels left off, for the user
    # Tests: a port taken between choosing it and a server binding it is replaced by
    # choose_port() and the start retried. None (bot run): the error is reported.
    choose_port: Callable[[], int] | None = None
    _log_offsets: dict[str, int] = field(default_factory=dict)  # name -> log size at spawn

    @property
    def rasa_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.rasa_port}"

    @property
    def console_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.console_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.actions_port}"

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen:
        out = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            out = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
            self._log_offsets[name] = out.tell()
        proc = subprocess.Popen(
            cmd, cwd=self.settings.project_dir, env=rasa_env(self.settings), stdout=out, stderr=subprocess.STDOUT if out else None,
        )
        if out is not None:
            out.close()  # the child has its own copy
        old = self.by_name.get(name)
        if old is not None and old in self.processes:
            self.processes[self.processes.index(old)] = proc
        else:
            self.processes.append(proc)
        self.commands[name] = cmd
        self.by_name[name] = proc
        return proc

    def respawn(self, name: str) -> subprocess.Popen:
        """Start the named server again with the command it was started with."""
        old = self.by_name[name]
        if old.poll() is None:
            old.kill()
        old.wait()
        return self._spawn(name, self.commands[name])

    def supervise(self, report: Callable[[str], None] = lambda line: None, policy: RestartPolicy | None = None,
                  interval: float = 0.5) -> None:
        """Keep every server up until Ctrl-C: a crashed one is restarted with backoff, the
        others keep running; raises :class:`ServerKeepsCrashing` (after stopping all) when
        one keeps crashing. Always stops every server before returning."""
        hint = str(self.log_dir) if self.log_dir else ""
        supervisor = Supervisor(lambda name: self.by_name[name], self.respawn, list(self.by_name), policy=policy,
                                report=report, log_hint=hint, interval=interval)
        try:
            supervisor.run()
        finally:
            self.stop()

    def runtime_endpoints(self) -> Path:
        """endpoints.yml with this instance's action server URL and SQLite paths under var/
        (or, clustered, the PostgreSQL tracker store and the Redis lock store)."""
        from ruamel.yaml import YAML

        y = YAML()
        source = self.settings.project_dir / "endpoints.yml"
        data = y.load(source.read_text(encoding="utf-8")) or {}
        data.setdefault("action_endpoint", {})["url"] = f"{self.actions_url}/webhook"
        # Several machines (MADOGUCHI_DATABASE_URL, MADOGUCHI_REDIS_URL): Rasa's own SQL
        # tracker store on PostgreSQL and Redis lock store (bot/cluster/endpoints.py).
        from bot.cluster.endpoints import clustered_endpoints

        data = clustered_endpoints(data, self.settings)
        store = data.get("tracker_store") or {}
        if str(store.get("dialect", "")).lower() == "sqlite":
            db = Path(str(store.get("db") or "tracker.db"))
            store["db"] = str(db if db.is_absolute() else self.settings.var_dir / db.name)
        target = self.settings.var_dir / "endpoints.runtime.yml"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", encoding="utf-8") as fh:
            fh.write("# Generated by `bot run` from endpoints.yml; edit endpoints.yml instead.\n")
            y.dump(data, fh)
        return target

    def runtime_credentials(self) -> Path:
        """credentials.yml without the channels whose environment variables are unset.

        Rasa refuses to start when a ``${VAR}`` in credentials.yml is unset; a city
        without a LINE account must still be able to run the assistant.
        """
        from bot.runtime.credentials import write_effective_credentials

        target = self.settings.var_dir / "credentials.runtime.yml"
        source = self.credentials or self.settings.project_dir / "credentials.yml"
        result = write_effective_credentials(source, target, rasa_env(self.settings))
        for channel, missing in result.skipped.items():
            self.notes.append(f"channel {channel} is off: set {', '.join(missing)} to turn it on")
        return target

    def _token_file(self) -> Path:
        self.settings.api_token()  # created (mode 0600) when missing
        return self.settings.api_token_path

    def start(self, timeout: float = 180.0, on_wait: Callable[[str], None] | None = None) -> None:
        """Start every server and wait until each answers.

        Raises:
            PortTaken: a port is in use (after ``PORT_ATTEMPTS`` starts with new ports when
                ``choose_port`` is set).
            MadoguchiError: a server exited during start-up, or was not ready in time.
        """
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                return self._start_once(timeout, on_wait)
            except PortTaken as taken:
                if self.choose_port is None or attempt == PORT_ATTEMPTS:
                    raise
                self.settings = dataclasses.replace(self.settings, **{taken.setting: self.choose_port()})

    def _start_once(self, timeout: float, on_wait: Callable[[str], None] | None) -> None:
        from bot.runtime.training import check_model

        s = self.settings
        console = self.with_console and console_available()
        ports = [(s.rasa_port, "Rasa server", "rasa_port"), (s.actions_port, "action server", "actions_port")]
        if console:
            ports.append((s.console_port, "staff console", "console_port"))
        for port, what, setting in ports:
            if port_in_use(s.host, port):
                raise PortTaken(f"port {port} on {s.host} is already in use, so the {what} cannot start", setting)
        # A damaged model: one clear error now, not Rasa's traceback after the others started.
        check_model(self.model)
        s.var_dir.mkdir(parents=True, exist_ok=True)
        self._spawn("actions", [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(s.actions_port)])
        self._spawn(
            "rasa",
            [
                # bot.rasa_server: `rasa run` reading the API token from its 0600 file, so
                # that the token is not on the command line, where every local user sees it.
                sys.executable, "-m", "bot.rasa_server", "run",
                "--model", str(self.model),
                "--interface", s.host,
                "--port", str(s.rasa_port),
                "--credentials", str(self.runtime_credentials()),
                "--endpoints", str(self.runtime_endpoints()),
                # CORS only for the configured sites that embed the widget (none: same origin only).
                *(["--cors", *s.cors_origins()] if s.cors_origins() else []),
                # Rasa's HTTP API: the delivery seam for staff replies and hand-off
                # events (docs/architecture.md); loopback only and token-protected.
                "--enable-api",
                "--auth-token-file", str(self._token_file()),
            ],
        )
        if console:
            self._spawn("console", [sys.executable, "-m", "bot.console"])
        deadline = time.monotonic() + timeout
        waiting = {"actions": f"{self.actions_url}/health", "rasa": f"{self.rasa_url}/webhooks/rest/"}
        if console:
            waiting["console"] = f"tcp:{s.console_port}"
        try:
            self._wait_ready(waiting, deadline, timeout, on_wait)
        except BaseException:  # Ctrl-C or a failure while starting: leave nothing behind
            self.stop()
            raise

    def _wait_ready(self, waiting: dict, deadline: float, timeout: float, on_wait) -> None:
        s = self.settings
        while waiting:
            for name, url in list(waiting.items()):
                ready = port_in_use(s.host, int(url[4:])) if url.startswith("tcp:") else url_ok(url)
                if ready:
                    waiting.pop(name)
            for name, proc in list(self.by_name.items()):
                if proc.poll() is not None:
                    self.stop()
                    where = f" (see {self.log_dir})" if self.log_dir else ""
                    log = self.log_dir / f"{name}.log" if self.log_dir else None
                    if log is not None and _port_taken_in_log(log, self._log_offsets.get(name, 0)):
                        setting = PORT_SETTINGS[name]
                        raise PortTaken(f"the {name} server could not bind port {getattr(s, setting)} on {s.host}: "
                                        f"it was taken after the start was checked{where}", setting)
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
        self.by_name.clear()
