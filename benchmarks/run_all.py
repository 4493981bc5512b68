"""Benchmarks: answer quality, training time, start-up, REST latency/throughput, memory.

Prints figures; asserts nothing (targets are checked by reading the figures).

    .venv/bin/python benchmarks/run_all.py            # everything (~10 minutes on 2 cores)
    .venv/bin/python benchmarks/run_all.py quality    # bot eval on eval/dev.csv only
    .venv/bin/python benchmarks/run_all.py kosodate   # unseen real FAQ set: import, train, rank
    .venv/bin/python benchmarks/run_all.py rest       # REST load test with ~990 FAQs loaded

Work files go to var/bench/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from proc_cpu import CpuMeter, stack_pids  # noqa: E402 - benchmarks/proc_cpu.py
from bot.runtime.runner import Stack  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.runtime.training import train  # noqa: E402

BENCH = ROOT / "var" / "bench"
KOSODATE = ROOT.parent / "shared" / "data" / "kosodate-faq" / "faq.json"
BOT = [sys.executable, "-m", "bot.cli"]


def banner(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


def settings_for(name: str, knowledge: Path, rasa_port: int = 5105, actions_port: int = 5155, console_port: int = 5180) -> Settings:
    return Settings(project_dir=ROOT, knowledge_dir=knowledge, var_dir=BENCH / name / "var",
                    models_dir=BENCH / name / "models", rasa_port=rasa_port, actions_port=actions_port,
                    console_port=console_port).resolved()


def bench_quality() -> None:
    banner("quality: bot eval eval/dev.csv (project knowledge base)")
    s = settings_for("project", ROOT / "knowledge")
    r = train(s, quiet=True)
    print(f"training: {r.seconds:.1f} s" if r.trained else "training: model up to date")
    out = subprocess.run(BOT + ["eval", "eval/dev.csv", "--model", str(r.model_path)], cwd=ROOT,
                         capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    print(out.stdout or out.stderr[-2000:])


def kosodate_dir() -> Path:
    target = BENCH / "kosodate-kb"
    if not (target / "city.yml").exists():
        subprocess.run(BOT + ["kb", "import", str(KOSODATE), "--out", str(target), "--prefix", "kosodate"], cwd=ROOT, check=True)
    return target


def bench_kosodate() -> None:
    banner("unseen FAQ set: 子育てオープンデータ協議会 FAQ (661 FAQs, one question each, CC BY 4.0)")
    if not KOSODATE.exists():
        print(f"skipped: {KOSODATE} not found")
        return
    started = time.monotonic()
    kb = kosodate_dir()
    print(f"import: {time.monotonic() - started:.1f} s")
    s = settings_for("kosodate", kb)
    r = train(s, force=True, quiet=True)
    print(f"training: {r.seconds:.1f} s")
    from bot.eval.parser import ModelParser

    t0 = time.monotonic()
    parser = ModelParser(r.model_path)
    print(f"model load (in-process): {time.monotonic() - t0:.1f} s")
    data = json.loads(KOSODATE.read_text(encoding="utf-8"))
    # Self-retrieval of the published questions (sanity) and latency.
    hits, lat, kinds = 0, [], Counter()
    for row in data:
        t = time.perf_counter()
        parse = parser.parse(row["question"])
        lat.append((time.perf_counter() - t) * 1000)
        md = parse.get("madoguchi") or {}
        cands = md.get("candidates") or []
        hits += bool(cands) and cands[0]["faq_id"] == f"kosodate-{row['faq_id']}"
        kinds[md.get("type")] += 1
    lat.sort()
    print(f"self-retrieval top-1 on the 661 published questions: {hits / len(data):.3f}")
    print("decisions on them: " + ", ".join(f"{k} {v / len(data):.3f}" for k, v in kinds.most_common()))
    print(f"NLU latency per question: p50 {lat[len(lat) // 2]:.1f} ms, p95 {lat[int(len(lat) * 0.95)]:.1f} ms")
    for q in ["母子手帳はどこでもらえる？", "保育園の申し込みはいつから", "児童手当の振込日", "予防接種の予約", "今日の天気は？"]:
        md = parser.parse(q).get("madoguchi") or {}
        top = (md.get("candidates") or [{}])[0]
        print(f"  {q} -> {md.get('type')} {top.get('faq_id')} {top.get('score')}")


def merged_kb() -> Path:
    target = BENCH / "merged-kb"
    if not (target / "city.yml").exists():
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(ROOT / "knowledge", target)
        if KOSODATE.exists():
            subprocess.run(BOT + ["kb", "import", str(KOSODATE), "--out", str(target), "--prefix", "kosodate"], cwd=ROOT, check=True)
    return target


def rss_mb(pids: list[int]) -> float:
    """Resident memory of the given processes and all their children, in MiB."""
    seen, total, stack = set(), 0, list(pids)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            stack.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / 1024


def post(url: str, sender: str, text: str) -> float:
    body = json.dumps({"sender": sender, "message": text}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()
    return (time.perf_counter() - t) * 1000


QUESTIONS = ["住民票はどこで取れますか", "粗大ごみの出し方", "今日の天気は？", "児童手当の振込日はいつ",
             "マイナンバーカードをなくした", "国民健康保険に入りたい", "こんにちは", "保育園の申し込み"]


def bench_rest() -> None:
    kb = merged_kb()
    from bot.knowledge.loader import load_knowledge

    n = len(load_knowledge(kb).kb.faqs)
    banner(f"REST round trips with {n} FAQs loaded")
    s = settings_for("merged", kb)
    r = train(s, quiet=True)
    print(f"training ({n} FAQs): {r.seconds:.1f} s" if r.trained else "training: model up to date")
    stack = Stack(s, r.model_path, log_dir=s.var_dir / "logs")
    t0 = time.monotonic()
    stack.start(timeout=300)
    print(f"ready to serve after start: {time.monotonic() - t0:.1f} s")
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    run_id = uuid.uuid4().hex[:8]  # new residents each run: conversations do not pile up across runs
    # CPU time per message of each server: unlike latency, hardly changed by other work on the machine.
    meter = CpuMeter(stack_pids(stack))
    try:
        for i in range(20):  # warm-up
            post(url, f"{run_id}-warm{i}", QUESTIONS[i % len(QUESTIONS)])
        meter.start()
        lat = sorted(post(url, f"{run_id}-one{i % 40}", QUESTIONS[i % len(QUESTIONS)]) for i in range(200))
        print(f"1 concurrent: p50 {lat[100]:.1f} ms, p95 {lat[190]:.1f} ms; "
              f"CPU ms/message: {CpuMeter.describe(meter.per_message(200))}")
        for conc in (8,):
            total = 400
            lat8: list[float] = []
            lock = threading.Lock()

            def one(i: int) -> None:
                ms = post(url, f"{run_id}-res{i % 80}", QUESTIONS[i % len(QUESTIONS)])  # 5 messages each
                with lock:
                    lat8.append(ms)

            meter.start()
            t = time.perf_counter()
            with ThreadPoolExecutor(conc) as pool:
                list(pool.map(one, range(total)))
            wall = time.perf_counter() - t
            lat8.sort()
            print(f"{conc} concurrent: {total / wall:.1f} messages/s, p50 {lat8[len(lat8) // 2]:.1f} ms, "
                  f"p95 {lat8[int(len(lat8) * 0.95)]:.1f} ms, mean {statistics.mean(lat8):.1f} ms; "
                  f"CPU ms/message: {CpuMeter.describe(meter.per_message(total))}")
        print(f"memory (RSS, Rasa + action server): {rss_mb([p.pid for p in stack.processes]):.0f} MiB")
    finally:
        stack.stop()


def main() -> None:
    which = sys.argv[1:] or ["quality", "kosodate", "rest"]
    for w in which:
        {"quality": bench_quality, "kosodate": bench_kosodate, "rest": bench_rest}[w]()


if __name__ == "__main__":
    main()
