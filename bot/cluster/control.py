"""Start, stop and look at the local demo cluster (``bot cluster up|down|status``).

PostgreSQL through scripts/postgres.sh, Redis and HAProxy from Debian (their configs
from bot/cluster/layout.py), and N nodes (bot/cluster/node.py), each in its own session
with its pid in ``var/cluster/nodeN/node.pid`` so that ``down`` (or another shell) can
stop it. The Debian packages are installed by scripts/cluster.sh when missing.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from bot.cluster.layout import ClusterLayout, NodePorts, haproxy_config, redis_config, unavailable_response
from bot.errors import MadoguchiError
from bot.runtime.runner import url_ok
from bot.settings import Settings

NEEDED = {"redis-server": "redis-server", "haproxy": "haproxy"}
# Seconds a conversation's Redis lock outlives a Rasa process that died holding it.
LOCK_LIFETIME_SECONDS = 15


class ClusterError(MadoguchiError):
    """The cluster could not be started or stopped as asked."""


def _pid_alive(pid_file: Path) -> int | None:
    """The pid in ``pid_file`` when that process runs (an exited child is reaped, not counted)."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return None  # our own child, just exited
    except ChildProcessError:
        pass  # started by another process (bot cluster up in another shell)
    try:
        os.kill(pid, 0)
    except OSError:
        return None
    return pid


@dataclass
class Cluster:
    """The cluster of one layout, for a project (knowledge base, model)."""

    layout: ClusterLayout
    settings: Settings  # the project's settings; each node gets a copy with its ports and var dir
    project_dir: Path
    say: Callable[[str], None] = lambda line: None
    database_url: str = ""

    # ------------------------------------------------------------------ services
    def check_installed(self) -> None:
        missing = [pkg for binary, pkg in NEEDED.items() if shutil.which(binary) is None]
        if missing:
            raise ClusterError(f"{', '.join(missing)} not installed",
                               hint="run scripts/cluster.sh up (it installs Debian's postgresql, redis-server and "
                                    "haproxy as root), or: apt-get install postgresql redis-server haproxy")

    def start_postgres(self) -> str:
        script = self.project_dir / "scripts" / "postgres.sh"
        done = subprocess.run([str(script), "start", str(self.layout.postgres_dir), str(self.layout.postgres_port)],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            raise ClusterError(f"PostgreSQL did not start: {done.stderr.strip()}")
        self.database_url = done.stdout.strip().splitlines()[-1]
        return self.database_url

    def start_redis(self) -> None:
        d = self.layout.redis_dir
        d.mkdir(parents=True, exist_ok=True)
        if _pid_alive(d / "redis.pid"):
            return
        (d / "redis.conf").write_text(redis_config(self.layout))
        subprocess.run(["redis-server", str(d / "redis.conf")], check=True, capture_output=True, timeout=30)
        self._wait(lambda: self._redis_ping(), 30, "Redis")

    def stop_redis(self, grace: float = 30.0) -> None:
        self._stop_daemon(self.layout.redis_dir / "redis.pid", grace)

    def stop_postgres(self) -> None:
        script = self.project_dir / "scripts" / "postgres.sh"
        subprocess.run([str(script), "stop", str(self.layout.postgres_dir)], capture_output=True, timeout=120)

    def restart_postgres(self) -> None:
        """Stop PostgreSQL (fast shutdown: every client is disconnected) and start it again."""
        self.stop_postgres()
        self.start_postgres()

    @staticmethod
    def _stop_daemon(pid_file: Path, grace: float = 30.0) -> None:
        """SIGTERM to the daemon of ``pid_file``, then wait until it is gone."""
        pid = _pid_alive(pid_file)
        if not pid:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except OSError:
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)

    def _redis_ping(self) -> bool:
        done = subprocess.run(["redis-cli", "-p", str(self.layout.redis_port), "ping"], capture_output=True, text=True)
        return done.stdout.strip() == "PONG"

    def start_haproxy(self) -> None:
        d = self.layout.haproxy_dir
        d.mkdir(parents=True, exist_ok=True)
        if _pid_alive(d / "haproxy.pid"):
            return
        (d / "unavailable.http").write_text(unavailable_response(), encoding="utf-8")
        (d / "haproxy.cfg").write_text(haproxy_config(self.layout))
        subprocess.run(["haproxy", "-c", "-q", "-f", str(d / "haproxy.cfg")], check=True, timeout=30)
        subprocess.run(["haproxy", "-f", str(d / "haproxy.cfg")], check=True, timeout=30)

    def create_tracker_table(self) -> None:
        """Rasa's ``events`` table, once: two Rasa processes creating it at the same moment
        collide (one logs a UniqueViolation and retries)."""
        import contextlib
        import io

        from bot.cluster.endpoints import tracker_store_config

        config = tracker_store_config(self.database_url, self.settings.tracker_db)
        # Rasa's import installs its own warning filters: SQLAlchemy 2.0 notices about
        # Rasa's code would fill the terminal. Errors still raise.
        with contextlib.redirect_stderr(io.StringIO()):
            from rasa.core.tracker_store import SQLTrackerStore

            store = SQLTrackerStore(dialect="postgresql", host=config["url"], port=config["port"], db=config["db"],
                                    username=config.get("username"), password=config.get("password"))
        store.engine.dispose()

    # ------------------------------------------------------------------ nodes
    def node_settings(self, node: NodePorts) -> Settings:
        return replace(self.settings, var_dir=self.layout.node_dir(node), rasa_port=node.rasa,
                       actions_port=node.actions, console_port=node.console, database_url=self.database_url,
                       redis_url=self.layout.redis_url, host="127.0.0.1")

    def node_env(self, node: NodePorts) -> dict[str, str]:
        from bot.runtime.training import rasa_env

        env = rasa_env(self.node_settings(node))
        env["TICKET_LOCK_LIFETIME"] = str(LOCK_LIFETIME_SECONDS)
        return env

    def start_node(self, node: NodePorts, model: Path) -> int:
        d = self.layout.node_dir(node)
        d.mkdir(parents=True, exist_ok=True)
        pid = _pid_alive(d / "node.pid")
        if pid:
            return pid
        with open(d / "node.log", "ab") as out:
            proc = subprocess.Popen([sys.executable, "-m", "bot.cluster.node", str(model)], cwd=self.project_dir,
                                    env=self.node_env(node), stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        (d / "node.pid").write_text(str(proc.pid))
        return proc.pid

    def node_ready(self, node: NodePorts) -> bool:
        return url_ok(f"http://127.0.0.1:{node.rasa}/webhooks/rest/") and url_ok(f"http://127.0.0.1:{node.console}/healthz")

    def stop_node(self, node: NodePorts, grace: float = 30.0) -> None:
        pid_file = self.layout.node_dir(node) / "node.pid"
        pid = _pid_alive(pid_file)
        if pid:
            os.kill(pid, signal.SIGTERM)  # the node stops its servers, then exits
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and _pid_alive(pid_file):
                time.sleep(0.2)
            if _pid_alive(pid_file):
                os.killpg(pid, signal.SIGKILL)
        pid_file.unlink(missing_ok=True)

    # ------------------------------------------------------------------ all
    def up(self, model: Path, timeout: float = 300.0) -> None:
        from bot.runtime.training import check_model

        self.check_installed()
        check_model(model)  # every node would fail on it
        self.say(f"PostgreSQL on 127.0.0.1:{self.layout.postgres_port} (data {self.layout.postgres_dir})")
        self.start_postgres()
        self.say(f"Redis on 127.0.0.1:{self.layout.redis_port}")
        self.start_redis()
        # The schema once, before the nodes start (each would also migrate, safely).
        from bot.console.accounts import StaffAccounts
        from bot.db import open_database
        from bot.handoff.store import HandoffStore
        from bot.review.store import ReviewLog

        db = open_database(self.database_url)
        StaffAccounts(HandoffStore(db).db)
        ReviewLog(db)
        db.close()
        self.create_tracker_table()
        for node in self.layout.nodes:
            self.say(f"{node.name}: Rasa :{node.rasa}, actions :{node.actions}, console :{node.console}")
            self.start_node(node, model)
        self.say("HAProxy: residents on " + self.layout.rasa_url + ", staff on " + self.layout.console_url)
        self.start_haproxy()
        self._wait(lambda: all(self.node_ready(n) for n in self.layout.nodes), timeout, "the nodes",
                   check=self._nodes_alive)
        self._wait(lambda: url_ok(self.layout.rasa_url + "/webhooks/rest/") and url_ok(self.layout.console_url + "/healthz"),
                   30, "HAProxy")

    def _nodes_alive(self) -> None:
        for node in self.layout.nodes:
            if not _pid_alive(self.layout.node_dir(node) / "node.pid"):
                raise ClusterError(f"{node.name} exited while starting",
                                   hint=f"see {self.layout.node_dir(node) / 'node.log'} and its logs/")

    def down(self) -> None:
        for node in self.layout.nodes:  # all at once: each node stops its servers in parallel
            pid = _pid_alive(self.layout.node_dir(node) / "node.pid")
            if pid:
                os.kill(pid, signal.SIGTERM)
        for node in self.layout.nodes:
            started = time.monotonic()
            self.stop_node(node)
            self.say(f"{node.name} stopped in {time.monotonic() - started:.1f} s")
        self._stop_daemon(self.layout.haproxy_dir / "haproxy.pid")
        self.stop_redis()
        self.stop_postgres()

    def status(self) -> dict[str, bool]:
        script = self.project_dir / "scripts" / "postgres.sh"
        state = {
            "postgresql": subprocess.run([str(script), "status", str(self.layout.postgres_dir)],
                                         capture_output=True).returncode == 0,
            "redis": bool(_pid_alive(self.layout.redis_dir / "redis.pid")),
            "haproxy": bool(_pid_alive(self.layout.haproxy_dir / "haproxy.pid")),
        }
        for node in self.layout.nodes:
            state[node.name] = bool(_pid_alive(self.layout.node_dir(node) / "node.pid")) and self.node_ready(node)
        return state

    @staticmethod
    def _wait(ready: Callable[[], bool], timeout: float, what: str, check: Callable[[], None] | None = None) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if check is not None:
                check()
            if time.monotonic() > deadline:
                raise ClusterError(f"{what} not ready after {timeout:.0f} s", hint="see the logs under var/cluster/")
            time.sleep(0.5)
