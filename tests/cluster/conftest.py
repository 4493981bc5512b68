"""A real cluster on loopback: PostgreSQL, Redis, HAProxy and two nodes (bot/cluster)."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from bot.cluster.control import Cluster
from bot.cluster.layout import ClusterLayout
from tests.conftest import ROOT, _handed_out, free_port, port_is_free


def _free_node_base() -> int:
    """A port base whose node ports (base+10 … base+32) are all free."""
    for _ in range(50):
        base = free_port() // 100 * 100
        ports = [base + 10 * i + k for i in (1, 2, 3) for k in (0, 1, 2)]
        if all(p not in _handed_out and port_is_free(p) for p in ports):
            _handed_out.update(ports)
            return base
    raise RuntimeError("no free range of ports for the cluster's nodes")


@pytest.fixture(scope="session")
def cluster(fixture_settings, trained_model):
    # Under var/cluster/ of this checkout: PostgreSQL's user must reach its data directory.
    layout = ClusterLayout(root=ROOT / "var" / "cluster" / f"test-{os.getpid()}", replicas=2,
                           postgres_port=free_port(), redis_port=free_port(), rasa_front_port=free_port(),
                           console_front_port=free_port(), node_base_port=_free_node_base())
    settings = replace(fixture_settings, claim_timeout=3600)
    c = Cluster(layout, settings, ROOT, say=print)
    try:
        c.check_installed()
    except Exception as exc:  # noqa: BLE001 - fail with the fix, never skip
        pytest.fail(f"{exc} (make test installs them: scripts/cluster.sh install)", pytrace=False)
    try:
        c.up(trained_model, timeout=400)
    except BaseException:
        _dump_logs(layout)
        c.down()
        raise
    yield c
    import time

    started = time.monotonic()
    c.down()
    print(f"cluster down in {time.monotonic() - started:.1f} s")
    _dump_logs(layout, "node")
    import shutil

    shutil.rmtree(layout.root, ignore_errors=True)


def _dump_logs(layout: ClusterLayout, prefix: str = "") -> None:
    for path in sorted(layout.root.rglob(f"{prefix}*.log")):
        try:
            tail = path.read_text(errors="replace")[-3000:]
        except OSError:
            continue
        print(f"----- {path}\n{tail}")
