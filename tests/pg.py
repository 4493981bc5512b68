"""A throwaway PostgreSQL on loopback for the tests, started by the project's own script
(scripts/postgres.sh), with one fresh schema per test.

Nothing is skipped: when PostgreSQL cannot be installed or started, the tests that need
it fail with the script's message (``make test`` runs as root in CI and installs it).
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "postgres.sh"


class PostgresServer:
    """One server started with scripts/postgres.sh under ``directory``."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.url = ""

    def start(self) -> "PostgresServer":
        done = subprocess.run([str(SCRIPT), "start", str(self.directory), str(self.port)],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            pytest.fail(
                "PostgreSQL could not be started for the tests that run the stores on PostgreSQL:\n"
                f"{done.stderr.strip() or done.stdout.strip()}\n"
                "Run the tests as root (scripts/postgres.sh installs Debian's postgresql), or install it: "
                "apt-get install postgresql", pytrace=False)
        self.url = done.stdout.strip().splitlines()[-1]
        return self

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop", str(self.directory)], capture_output=True, timeout=120)
        shutil.rmtree(self.directory, ignore_errors=True)

    def restart(self) -> None:
        """Stop the server (fast shutdown: clients are disconnected) and start it again, data kept."""
        subprocess.run([str(SCRIPT), "stop", str(self.directory)], capture_output=True, timeout=120, check=True)
        self.start()

    def database_url(self, db: str = "madoguchi") -> str:
        return self.url.rsplit("/", 1)[0] + "/" + db

    def fresh_schema_url(self) -> str:
        """The URL of a new, empty schema (a clean database for one test)."""
        import psycopg2

        schema = "t_" + uuid.uuid4().hex[:12]
        with psycopg2.connect(self.url) as conn, conn.cursor() as cur:
            cur.execute(f"CREATE SCHEMA {schema}")
        return f"{self.url}?options={quote(f'-csearch_path={schema}')}"


def start_test_server() -> PostgresServer:
    from tests.conftest import free_port

    port = free_port()
    # Under var/cluster/ of this checkout: the server's user (postgres, when the tests run
    # as root) must be able to reach it, which a 0700 pytest temporary directory is not.
    return PostgresServer(ROOT / "var" / "cluster" / f"test-pg-{port}", port).start()
