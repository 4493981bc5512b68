"""1 vs 2 Rasa replicas behind HAProxy, at 8, 32 and 64 concurrent residents (prints, does not assert).

Starts the local cluster (bot/cluster, the fixture knowledge base's model or the project's)
under var/cluster/bench-*, sends N residents' questions through the balancer, and prints
throughput, p50/p95/p99 latency, errors and the RSS of each server process. On a 2-core
machine two replicas share the same cores: the figure that matters is that the second
replica costs little, not that it doubles throughput (that needs a second machine).

    .venv/bin/python benchmarks/replicas.py [--seconds 20] [--levels 8,32,64] [--warmup 5]

Each cluster first gets ``--warmup`` seconds of 8 residents that are not counted (the
first messages of a fresh process load lazily built parts). A resident whose message
failed waits 1 s before the next one, and the failures are counted by kind (HTTP status,
error reply, exception). The load generator runs on
the same machine and takes CPU from the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUESTIONS = ["粗大ごみの出し方を教えて", "住民票はどこで取れますか", "転入届の手続き", "ごみの収集日", "こんにちは",
             "マイナンバーカードの受け取り", "今日の天気は？"]


def _rss_of(pid: int) -> float:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def service_rss_mb(layout) -> dict[str, float]:
    """RSS of the shared services: PostgreSQL (postmaster and its children, summed), Redis, HAProxy."""
    out = {}
    try:
        postmaster = int((layout.postgres_dir / "data" / "postmaster.pid").read_text().split()[0])
        children = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == postmaster]
        out["PostgreSQL"] = _rss_of(postmaster) + sum(_rss_of(c) for c in children)
    except (OSError, ValueError):
        pass
    for name, pid_file in (("Redis", layout.redis_dir / "redis.pid"), ("HAProxy", layout.haproxy_dir / "haproxy.pid")):
        try:
            out[name] = _rss_of(int(pid_file.read_text().strip()))
        except (OSError, ValueError):
            pass
    return out


def _ppid(pid: int) -> int:
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("PPid:"):
                return int(line.split()[1])
    except OSError:
        pass
    return -1


def rss_mb(pattern: bytes) -> list[float]:
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read()
            if pattern in cmd and b"var/cluster/bench" in open(f"/proc/{pid}/environ", "rb").read():
                for line in open(f"/proc/{pid}/status"):
                    if line.startswith("VmRSS:"):
                        out.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return out


async def load(url: str, residents: int, seconds: float, tag: str = "") -> dict:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    kinds: collections.Counter = collections.Counter()
    stop = time.monotonic() + seconds

    async def resident(session, i: int) -> None:
        nonlocal errors
        n = 0
        while time.monotonic() < stop:
            started = time.monotonic()
            kind = ""
            try:
                async with session.post(url, json={"sender": f"bench{tag}-{residents}-{i}", "message": QUESTIONS[n % len(QUESTIONS)]}) as r:
                    body = await r.json(content_type=None)
                    if r.status != 200:
                        kind = f"HTTP {r.status}"
                    elif not body or any((m.get("custom") or {}).get("type") == "error" for m in body):
                        kind = "error reply"
            except Exception as exc:  # noqa: BLE001 - counted
                kind = type(exc).__name__
            if not kind:
                latencies.append(time.monotonic() - started)
            else:
                errors += 1
                kinds[kind] += 1
                await asyncio.sleep(1)  # as a resident (or the widget) would before sending again
            n += 1

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60),
                                     connector=aiohttp.TCPConnector(limit=0)) as s:
        began = time.monotonic()
        await asyncio.gather(*(resident(s, i) for i in range(residents)))
        wall = time.monotonic() - began
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 2 else [float("nan")] * 99
    return {"rps": len(latencies) / wall, "p50": q[49] * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000,
            "errors": errors, "kinds": dict(kinds)}


def main() -> None:
    from dataclasses import replace

    from bot.cluster.control import Cluster
    from bot.cluster.layout import ClusterLayout
    from bot.settings import Settings
    from bot.runtime.training import model_path, needs_training, train

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--levels", default="8,32,64")
    ap.add_argument("--warmup", type=float, default=5, help="seconds of 8 residents before measuring (not counted)")
    args = ap.parse_args()
    settings = Settings.from_env(project_dir=ROOT)
    if needs_training(settings):
        train(settings)
    for replicas in (1, 2):
        layout = ClusterLayout(ROOT / "var" / "cluster" / f"bench-{replicas}", replicas=replicas, postgres_port=55532,
                               redis_port=56479, rasa_front_port=8105, console_front_port=8180, node_base_port=5300)
        cluster = Cluster(layout, replace(settings, action_retry_seconds=5), ROOT)
        cluster.up(model_path(settings))
        try:
            if args.warmup > 0:
                asyncio.run(load(f"{layout.rasa_url}/webhooks/rest/webhook", 8, args.warmup, tag="-warmup"))
            print(f"\n{replicas} replica(s)")
            print(f"{'residents':>9} {'msg/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6}")
            for level in (int(x) for x in args.levels.split(",")):
                r = asyncio.run(load(f"{layout.rasa_url}/webhooks/rest/webhook", level, args.seconds))
                kinds = ", ".join(f"{k}: {v}" for k, v in sorted(r["kinds"].items()))
                print(f"{level:>9} {r['rps']:>7.1f} {r['p50']:>7.0f} {r['p95']:>7.0f} {r['p99']:>7.0f} {r['errors']:>6}"
                      + (f"  ({kinds})" if kinds else ""))
            for name, pattern in (("Rasa", b"bot.rasa_server"), ("actions", b"rasa_sdk"), ("console", b"bot.console")):
                print(f"  RSS {name}: " + ", ".join(f"{m:.0f} MB" for m in rss_mb(pattern)))
            print("  RSS services: " + ", ".join(f"{k} {v:.0f} MB" for k, v in service_rss_mb(layout).items()))
        finally:
            cluster.down()
            shutil.rmtree(layout.root, ignore_errors=True)


if __name__ == "__main__":
    main()
