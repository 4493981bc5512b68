"""Hybrid retrieval: what the sentence encoder adds, and what it costs.

Prints figures; asserts nothing.

    .venv/bin/python benchmarks/hybrid.py quality   # ablation: lexical / encoder / hybrid
    .venv/bin/python benchmarks/hybrid.py quality hybrid   # one variant (delete its model to retrain)
    .venv/bin/python benchmarks/hybrid.py speed     # model load, REST: lexical / hybrid encoding every question / hybrid
    .venv/bin/python benchmarks/hybrid.py speed hybrid --retrain   # one variant, retrained first
    .venv/bin/python benchmarks/hybrid.py training  # 1,000 FAQs from scratch; one edited FAQ

**Quality.** Three models per knowledge base, trained with the same pipeline and
differing only in the FaqRetriever's signals: *lexical* (words, readings, word vectors:
`encoder: null`), *encoder* (sentence vectors only), *hybrid* (both, the default). Each is
calibrated on eval/dev.csv and eval/dev-situations.csv exactly as `bot calibrate
--min-precision 0.95 --min-recall 0.9 --max-wrong 0.02` does, then measured on sets it never saw: eval/situations.csv (written
from the FAQ answers only), eval/crosslang.csv (en/zh/ko/vi), and eval/kosodate.csv on the
子育てオープンデータ協議会 FAQ (661 FAQs, one question each, CC BY 4.0: ../shared/data).

**Speed.** The REST load is generated asynchronously (aiohttp, one event loop, 8
residents each sending its next message when the previous reply arrives), on the lexical
model, the hybrid model encoding every question, and the hybrid model with its
words-first gate (the default), one after the other in the same run. Every question is a
different one (eval sets) that the server has not seen, so the encoder's cache of
repeated questions does not flatter the figures. Two loads: questions only, and
conversations (after each question the resident taps the reply's first button when
there is one: a clarify candidate, a hand-off offer, feedback).

Work files go to var/bench/ (git-ignored).
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from proc_cpu import CpuMeter, stack_pids  # noqa: E402 - benchmarks/proc_cpu.py
from ruamel.yaml import YAML  # noqa: E402

from bot.runtime.runner import Stack  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.runtime.training import MODEL_NAME, train_command, training_env  # noqa: E402

BENCH = ROOT / "var" / "bench" / "hybrid"
KOSODATE = ROOT.parent / "shared" / "data" / "kosodate-faq" / "faq.json"
BOT = [sys.executable, "-m", "bot.cli"]
TEXT_WEIGHTS = {"word": 0.0, "reading": 0.0, "answer": 0.0, "dense": 0.0}
VARIANTS = {
    "lexical": {"encoder": None},
    "encoder": {"weights": TEXT_WEIGHTS, "word_vectors": None},
    "hybrid": {},
    # the hybrid model encoding every question (no words-first gate)
    "hybrid-every": {"words_first_threshold": None},
}
QUALITY_VARIANTS = ("lexical", "encoder", "hybrid")  # the gate's own figures: benchmarks/words_first.py
SPEED_VARIANTS = ("lexical", "hybrid-every", "hybrid")


def banner(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


# ----------------------------------------------------------------------------- models
def variant_config(name: str) -> Path:
    """config.yml with the FaqRetriever changed as the variant says."""
    yaml = YAML()
    config = yaml.load((ROOT / "config.yml").read_text(encoding="utf-8"))
    for step in config["pipeline"]:
        if str(step.get("name", "")).endswith("FaqRetriever"):
            for key, value in VARIANTS[name].items():
                step[key] = value
    path = BENCH / "configs" / f"{name}.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        yaml.dump(config, f)
    return path


def settings_for(kb_name: str, variant: str, knowledge: Path, port_base: int = 5200) -> Settings:
    work = BENCH / kb_name / variant
    return Settings(project_dir=ROOT, knowledge_dir=knowledge, var_dir=BENCH / kb_name / "var",
                    models_dir=work / "models", rasa_port=port_base + 5, actions_port=port_base + 55,
                    console_port=port_base + 80).resolved()


def train_variant(s: Settings, variant: str, force: bool = False) -> tuple[Path, float]:
    target = s.models_dir / f"{MODEL_NAME}.tar.gz"
    if target.exists() and not force:
        return target, 0.0
    s.models_dir.mkdir(parents=True, exist_ok=True)
    s.var_dir.mkdir(parents=True, exist_ok=True)
    # The training process `bot train` runs (bot/runtime/training.py), with the variant's config.
    cmd = train_command(s, variant_config(variant))
    t = time.monotonic()
    cpu = children_cpu()
    proc = subprocess.run(cmd, cwd=ROOT, env=training_env(s), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode != 0:
        print(proc.stdout[-3000:])
        raise SystemExit(f"training {variant} failed")
    LAST_TRAINING_CPU[0] = children_cpu() - cpu
    return target, time.monotonic() - t


# CPU seconds (user + system) of the last train_variant's training process: the figure that
# other work on the machine distorts least (wall time waits for the cores it shares).
LAST_TRAINING_CPU = [0.0]


def children_cpu() -> float:
    """User + system CPU seconds of this process's finished (waited-for) children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def kosodate_kb() -> Path | None:
    if not KOSODATE.exists():
        return None
    target = BENCH / "kosodate-kb"
    if not (target / "city.yml").exists():
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run(BOT + ["kb", "import", str(KOSODATE), "--out", str(target), "--prefix", "kosodate"], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)
    return target


def kosodate_questions(name: str = "kosodate") -> Path:
    """eval/<name>.csv with the ids `bot kb import --prefix kosodate` gives."""
    out = BENCH / f"{name}-questions.csv"
    with (ROOT / "eval" / f"{name}.csv").open(encoding="utf-8") as f, out.open("w", encoding="utf-8", newline="") as g:
        w = csv.writer(g)
        w.writerow(["question", "faq_id"])
        for row in csv.DictReader(f):
            fid = row["faq_id"]
            w.writerow([row["question"], fid if fid == "none" else f"kosodate-{fid}"])
    return out


# ----------------------------------------------------------------------------- quality
def parse_all(model: Path, sets: dict[str, Path], top: int = 10):
    from bot.eval.dataset import read_labelled
    from bot.eval.parser import ModelParser

    t = time.monotonic()
    parser = ModelParser(model)
    load = time.monotonic() - t
    parser.rank_at_least(top)
    parser.set_words_first(False)  # full scores for every question: the thresholds are calibrated here
    out, lat = {}, []
    for name, path in sets.items():
        qs = read_labelled(path)
        parses = []
        for q in qs:
            t = time.perf_counter()
            parses.append(parser.parse(q.question))
            lat.append((time.perf_counter() - t) * 1000)
        out[name] = (qs, parses)
    parser.close()
    return out, load, sorted(lat)


def ranking_figures(qs, parses) -> dict:
    from bot.eval.parser import ranking_of

    ins = [(q, p) for q, p in zip(qs, parses) if q.in_scope]
    ranks = []
    for q, p in ins:
        ids = [c["faq_id"] for c in ranking_of(p)]
        ranks.append(ids.index(q.expected) if q.expected in ids else 99)
    n = max(1, len(ranks))
    return {"top1": sum(r == 0 for r in ranks) / n, "r3": sum(r < 3 for r in ranks) / n,
            "r10": sum(r < 10 for r in ranks) / n}


def decision_figures(qs, parses, categories, thresholds, veto) -> dict:
    from bot.eval.calibrate import outcome_for
    from bot.eval.metrics import summarise

    return summarise([outcome_for(q, p, c, thresholds, oos_threshold=veto) for q, p, c in zip(qs, parses, categories)])


def bench_quality() -> None:
    from bot.eval.calibrate import calibrate
    from bot.knowledge.decision import Thresholds
    from bot.knowledge.loader import load_knowledge

    own = {"dev": ROOT / "eval" / "dev.csv", "dev-situations": ROOT / "eval" / "dev-situations.csv",
           "situations": ROOT / "eval" / "situations.csv", "crosslang": ROOT / "eval" / "crosslang.csv"}
    kb = load_knowledge(ROOT / "knowledge").kb
    cats = {f.id: f.category for f in kb.faqs}
    kosodate = kosodate_kb()
    rows = []
    for variant in [v for v in QUALITY_VARIANTS if v in (sys.argv[2:] or QUALITY_VARIANTS)]:
        banner(f"quality: {variant}")
        s = settings_for("project", variant, ROOT / "knowledge")
        model, secs = train_variant(s, variant)
        print(f"training: {secs:.0f} s" if secs else "training: model present")
        parsed, load, lat = parse_all(model, own)
        qs = parsed["dev"][0] + parsed["dev-situations"][0]
        parses = parsed["dev"][1] + parsed["dev-situations"][1]
        dev_cats = [cats.get(q.expected, "(out of scope)") if q.in_scope else "(out of scope)" for q in qs]
        best = calibrate(qs, parses, dev_cats, Thresholds(), 0.6, min_precision=0.95, min_recall=0.9, max_wrong=0.02)[0]
        t, veto = best[1], best[2]
        print(f"calibrated on dev + dev-situations: answer {t.answer} clarify {t.clarify} margin {t.margin} coverage {t.min_coverage} "
              f"veto {veto}; model load {load:.1f} s; NLU p50 {lat[len(lat) // 2]:.1f} ms, "
              f"p95 {lat[int(len(lat) * 0.95)]:.1f} ms")
        for name, (qs, parses) in parsed.items():
            c = [cats.get(q.expected, "(out of scope)") if q.in_scope else "(out of scope)" for q in qs]
            rows.append((variant, name, ranking_figures(qs, parses), decision_figures(qs, parses, c, t, veto)))
        if kosodate is not None:
            ks = settings_for("kosodate", variant, kosodate, port_base=5300)
            kmodel, ksecs = train_variant(ks, variant)
            print(f"kosodate training: {ksecs:.0f} s" if ksecs else "kosodate training: model present")
            kparsed, kload, klat = parse_all(kmodel, {"dev-kosodate": kosodate_questions("dev-kosodate"),
                                                      "kosodate": kosodate_questions()})
            # Published data has no paraphrases: the model uses the few_paraphrases_*
            # thresholds, calibrated on dev-kosodate (its blind calibration set) the same way.
            dq, dp = kparsed["dev-kosodate"]
            kbest = calibrate(dq, dp, [""] * len(dq), Thresholds(), 0.6, min_precision=0.95, min_recall=0.9,
                              max_wrong=0.02)[0]
            kt, kveto = kbest[1], kbest[2]
            print(f"kosodate: calibrated on dev-kosodate: answer {kt.answer} clarify {kt.clarify} margin {kt.margin} "
                  f"coverage {kt.min_coverage} veto {kveto}")
            for kname, (qs, parses) in kparsed.items():
                rows.append((variant, kname, ranking_figures(qs, parses),
                             decision_figures(qs, parses, [""] * len(qs), kt, kveto)))
            qs, parses = kparsed["kosodate"]
            rows.append((variant, "kosodate (main thresholds)", ranking_figures(qs, parses),
                         decision_figures(qs, parses, [""] * len(qs), t, veto)))
            print(f"kosodate: model load {kload:.1f} s; NLU p50 {klat[len(klat) // 2]:.1f} ms, "
                  f"p95 {klat[int(len(klat) * 0.95)]:.1f} ms")
    banner("ablation (thresholds calibrated on dev + dev-situations per variant; other sets never used for tuning)")
    print("set         variant   top-1  r@3    r@10   answered-right  clarified-right  wrong   cannot-P  cannot-R")
    for name in ("dev", "dev-situations", "situations", "dev-kosodate", "kosodate", "kosodate (main thresholds)",
                 "crosslang"):
        for variant, set_name, r, d in rows:
            if set_name != name:
                continue
            oos = d["out_of_scope"] > 0
            print(f"{name:11s} {variant:8s}  {r['top1']:.3f}  {r['r3']:.3f}  {r['r10']:.3f}  "
                  f"{d['answered_correctly']:.3f}           {d['clarified_with_correct']:.3f}            "
                  f"{d['wrong_answers']:.3f}   " + (f"{d['cannot_answer_precision']:.3f}     "
                                                    f"{d['cannot_answer_recall']:.3f}" if oos else "-         -"))
    (BENCH / "ablation.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1, default=str))


# ----------------------------------------------------------------------------- speed
def questions_pool() -> list[str]:
    from bot.eval.dataset import read_labelled

    seen, pool = set(), []
    for name in ("situations", "dev", "kosodate"):
        for q in read_labelled(ROOT / "eval" / f"{name}.csv"):
            if q.question not in seen:
                seen.add(q.question)
                pool.append(q.question)
    return pool


async def load_run(url: str, questions: list[str], concurrency: int, run_id: str,
                   conversations: bool = False) -> tuple[float, list[float], int]:
    """``concurrency`` residents, each sending its next message when its reply arrived.

    ``conversations``: after each question the resident also taps the first button of the
    reply when there is one (a clarify candidate, 「はい」 to a hand-off offer, feedback),
    as residents do; otherwise every message is a question.
    """
    import aiohttp

    latencies: list[float] = []
    errors = 0
    queue = list(enumerate(questions))
    queue.reverse()

    async def send(session: aiohttp.ClientSession, sender: str, text: str) -> list:
        nonlocal errors
        t = time.perf_counter()
        async with session.post(url, json={"sender": sender, "message": text}) as resp:
            body = await resp.read()
            errors += resp.status != 200
        latencies.append((time.perf_counter() - t) * 1000)
        try:
            return json.loads(body) if resp.status == 200 else []
        except ValueError:
            return []

    async def resident(session: aiohttp.ClientSession, who: int) -> None:
        while queue:
            i, text = queue.pop()
            sender = f"{run_id}-{who}-{i // 40}"
            replies = await send(session, sender, text)
            if conversations:
                buttons = [b for r in replies for b in (r.get("buttons") or []) if b.get("payload")]
                if buttons:
                    await send(session, sender, buttons[0]["payload"])

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        t = time.perf_counter()
        await asyncio.gather(*(resident(session, w) for w in range(concurrency)))
        wall = time.perf_counter() - t
    return wall, sorted(latencies), errors


def bench_speed() -> None:
    from run_all import rss_mb

    pool = questions_pool()
    print(f"{len(pool)} distinct questions available for the load")
    named = [a for a in sys.argv[2:] if not a.startswith("--")]
    variants = [v for v in SPEED_VARIANTS if v in (named or SPEED_VARIANTS)]
    for variant in variants:
        banner(f"speed: {variant}")
        s = settings_for("project", variant, ROOT / "knowledge", port_base=5400)
        model, _ = train_variant(s, variant, force="--retrain" in sys.argv)
        stack = Stack(s, model, log_dir=s.var_dir / f"logs-{variant}")
        t0 = time.monotonic()
        stack.start(timeout=300)
        print(f"ready to serve after start: {time.monotonic() - t0:.1f} s")
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        run_id = uuid.uuid4().hex[:8]
        try:
            asyncio.run(load_run(url, pool[:40], 4, run_id + "w"))  # warm-up
            meter = CpuMeter(stack_pids(stack))
            offset = 40
            for label, conc, n, conversations in (("questions", 1, 150, False), ("questions", 8, 800, False),
                                                   ("conversations", 8, 500, True)):
                questions = pool[offset:offset + n]  # never a question the server has seen
                offset += n
                meter.start()
                wall, lat, errors = asyncio.run(load_run(url, questions, conc, f"{run_id}-{offset}", conversations))
                print(f"{label}, {conc} concurrent: {len(lat)} messages, {len(lat) / wall:.1f} messages/s, "
                      f"p50 {lat[len(lat) // 2]:.1f} ms, p95 {lat[int(len(lat) * 0.95)]:.1f} ms, errors {errors}; "
                      f"CPU ms/message: {CpuMeter.describe(meter.per_message(len(lat)))}")
            print(f"memory (RSS: Rasa + action server + console): {rss_mb([p.pid for p in stack.processes]):.0f} MiB")
        finally:
            stack.stop()


# ----------------------------------------------------------------------------- training
def bench_training() -> None:
    from run_all import merged_kb  # the project's 329 FAQs plus the 661 imported kosodate ones

    from bot.knowledge.loader import load_knowledge

    kb_dir = merged_kb()
    n = len(load_knowledge(kb_dir).kb.faqs)
    banner(f"training with {n} FAQs")
    s = settings_for("merged", "hybrid", kb_dir)
    # From scratch: no sentence vectors, no word-vector table, no validation stamp kept in var/.
    (s.var_dir / "encoder-cache.sqlite3").unlink(missing_ok=True)
    (s.var_dir / "rasa-validation-stamp.json").unlink(missing_ok=True)
    shutil.rmtree(s.var_dir / "word-vectors", ignore_errors=True)
    print(f"load average before: {load_average()} (2 cores; other work on the machine stretches wall time, not CPU)")
    _, cold = train_variant(s, "hybrid", force=True)
    print(f"from scratch (empty vector cache): {cold:.1f} s wall, {LAST_TRAINING_CPU[0]:.1f} s CPU "
          f"(load average after: {load_average()})")
    # One FAQ edited, as the review loop does: a new paraphrase and a reworded answer.
    path = kb_dir / "faq" / "gomi.yml"
    original = path.read_text(encoding="utf-8")
    edited = original.replace("paraphrases:\n", "paraphrases:\n      - 冷蔵庫を処分したいのですがどうすれば\n", 1)
    path.write_text(edited, encoding="utf-8")
    try:
        _, warm = train_variant(s, "hybrid", force=True)
        warm_cpu = LAST_TRAINING_CPU[0]
    finally:
        path.write_text(original, encoding="utf-8")
    from bot.eval.parser import ModelParser

    t, cpu = time.monotonic(), time.process_time()
    ModelParser(s.models_dir / f"{MODEL_NAME}.tar.gz").close()
    load, load_cpu = time.monotonic() - t, time.process_time() - cpu
    print(f"one FAQ edited (vector cache warm): training {warm:.1f} s + model load {load:.1f} s "
          f"= {warm + load:.1f} s to a loaded model; CPU {warm_cpu:.1f} + {load_cpu:.1f} = {warm_cpu + load_cpu:.1f} s "
          f"(load average after: {load_average()})")


def main() -> None:
    if any(a in ("-h", "--help") for a in sys.argv[1:]):
        print(__doc__)
        return
    which = sys.argv[1:2] or ["quality", "training", "speed"]  # quality [variant …]: only those
    benches = {"quality": bench_quality, "speed": bench_speed, "training": bench_training}
    if any(w not in benches for w in which):
        raise SystemExit(f"benchmarks/hybrid.py: expected one of {', '.join(benches)} (or --help); got {which[0]!r}")
    for w in which:
        benches[w]()


if __name__ == "__main__":
    main()
