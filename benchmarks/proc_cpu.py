"""CPU time of processes, read from /proc: a load figure that other work on the machine
does not distort the way wall-clock latency does.

    .venv/bin/python benchmarks/proc_cpu.py              # REST load, CPU ms per message per process
    .venv/bin/python benchmarks/proc_cpu.py --messages 600 --concurrency 8
    .venv/bin/python benchmarks/proc_cpu.py --profile var/bench/rasa-profile.txt   # + py-spy of Rasa

Starts the stack on the model trained by ``run_all.py rest`` (var/bench/merged), posts
messages to the REST webhook and prints, for the Rasa server and the action server, the
CPU milliseconds (user + system) each spent per message.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by one process (threads included)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may contain spaces; the fields after it are fixed.
    fields = stat[stat.rindex(")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _TICKS


@dataclass
class CpuMeter:
    """CPU used by named processes between ``start()`` and ``per_message(n)``."""

    pids: dict[str, int]

    def start(self) -> None:
        self._t0 = {name: cpu_seconds(pid) for name, pid in self.pids.items()}

    def per_message(self, messages: int) -> dict[str, float]:
        """CPU milliseconds per message for each process since ``start()``."""
        return {name: (cpu_seconds(pid) - self._t0[name]) * 1000 / messages for name, pid in self.pids.items()}

    @staticmethod
    def describe(figures: dict[str, float]) -> str:
        return ", ".join(f"{name} {ms:.1f}" for name, ms in figures.items())


def stack_pids(stack) -> dict[str, int]:
    """Rasa server and action server pids of a started bot.runtime.runner.Stack."""
    names = {}
    for proc in stack.processes:
        args = [str(a) for a in (proc.args if isinstance(proc.args, list) else [proc.args])]
        if "rasa_sdk" in args:
            names["actions"] = proc.pid
        elif "run" in args and ("rasa" in args or "bot.rasa_server" in args):  # Rasa's CLI, or our wrapper of it
            names["rasa"] = proc.pid
        elif "bot.console" in " ".join(args) or "console" in args:
            names["console"] = proc.pid
    return names


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import run_all
    from bot.runtime.runner import Stack
    from bot.runtime.training import model_path

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--model", type=Path, help="model to serve (default: var/bench/merged's)")
    ap.add_argument("--profile", type=Path, help="record the Rasa process with py-spy (raw format) to this file")
    ap.add_argument("--profile-actions", type=Path, help="record the action server with py-spy to this file")
    ap.add_argument("--rounds", type=int, default=1, help="repeat the measured load this many times")
    args = ap.parse_args()

    s = run_all.settings_for("merged", run_all.merged_kb())
    model = args.model or model_path(s)
    stack = Stack(s, model, log_dir=s.var_dir / "logs", with_console=False)
    stack.start(timeout=300)
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    run_id = uuid.uuid4().hex[:8]
    spies: list[subprocess.Popen] = []
    try:
        pids = stack_pids(stack)
        for i in range(20):
            run_all.post(url, f"{run_id}-warm{i}", run_all.QUESTIONS[i % len(run_all.QUESTIONS)])
        meter = CpuMeter(pids)
        spy_bin = str(Path(sys.executable).parent / "py-spy")
        for target, out in (("rasa", args.profile), ("actions", args.profile_actions)):
            if out:
                out.parent.mkdir(parents=True, exist_ok=True)
                spies.append(subprocess.Popen([spy_bin, "record", "-p", str(pids[target]), "-r", "200", "-f", "raw",
                                               "-o", str(out), "--nonblocking"], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))
        if spies:
            time.sleep(1.0)
        for r in range(args.rounds):
            lat: list[float] = []
            lock = threading.Lock()

            def one(i: int) -> None:
                ms = run_all.post(url, f"{run_id}-r{r}-{i % (args.messages // 5 or 1)}",
                                  run_all.QUESTIONS[i % len(run_all.QUESTIONS)])
                with lock:
                    lat.append(ms)

            meter.start()
            t = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                list(pool.map(one, range(args.messages)))
            wall = time.perf_counter() - t
            cpu = meter.per_message(args.messages)
            lat.sort()
            print(f"{args.messages} messages, {args.concurrency} concurrent: {args.messages / wall:.1f} msg/s, "
                  f"p50 {lat[len(lat) // 2]:.1f} ms, p95 {lat[int(len(lat) * 0.95)]:.1f} ms; "
                  f"CPU ms/message: {CpuMeter.describe(cpu)}", flush=True)
    finally:
        for spy in spies:
            spy.send_signal(2)
            try:
                spy.wait(30)
            except subprocess.TimeoutExpired:
                spy.kill()
        stack.stop()


if __name__ == "__main__":
    main()
