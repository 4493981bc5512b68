"""Residents who write in other languages: retrieval per language, and answers in their language.

Prints figures; asserts nothing.

    .venv/bin/python benchmarks/languages.py                 # both settings, every figure
    .venv/bin/python benchmarks/languages.py ranking          # retrieval and decisions only (in process)
    .venv/bin/python benchmarks/languages.py rest default     # right language only, one setting
    .venv/bin/python benchmarks/languages.py ranking project --set eval/dev-languages.csv
        # the project's own model (models/, as `bot train` left it) on another labelled set
    .venv/bin/python benchmarks/languages.py ranking project --model /tmp/variant.tar.gz
        # any trained model (a variant of config.yml), reported under the name given

**The set.** eval/multilingual.csv: at least 45 in-scope and 8 `none` questions in each of
English, 简体中文, 한국어, Tiếng Việt, Português (Brasil) and Filipino, each language
written on its own from the Japanese FAQ answers, never from the translations
(eval/README.md). A test set: nothing is calibrated or tuned on it.

**Two settings**, each a model trained from the project's knowledge base with the
shipped config.yml: ``default`` (translated questions train the intent classifier only)
and ``indexed`` (``MADOGUCHI_INDEX_TRANSLATIONS=true``: they also go into the FAQ index).
Thresholds are config.yml's, calibrated on the Japanese dev sets; they were not
recalibrated for ``indexed``.

**Retrieval and decisions** come from the live NLU path in process (``bot.eval.parser``,
as ``bot eval`` does): top-1, recall@3 and recall@10 of in-scope questions, what the
assistant decided (answered right, clarified with the right FAQ among the buttons, a
wrong FAQ answered, `none` questions refused).

**Right language** comes from the real servers: each question is the first message of a
new conversation, sent to the REST webhook of a running stack (Rasa, action server);
it counts when every message of the reply says the question's language
(``custom.language``). ``body in language`` is the share of FAQ answers whose answer text
itself is in that language (``custom.body_lang``), which needs a translation in
knowledge/i18n/; the others are the Japanese answer with a one-line note in the
resident's language.

Work files go to var/bench/languages/ (git-ignored).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from bot.runtime.runner import Stack  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.runtime.training import train  # noqa: E402

BENCH = ROOT / "var" / "bench" / "languages"
SET = ROOT / "eval" / "multilingual.csv"
SUFFIX = ""  # work files of a set other than multilingual.csv: -<its name>
MODEL: Path | None = None  # --model: measure this trained model instead
LANGUAGES = ("en", "zh-Hans", "ko", "vi", "pt-BR", "fil")
SETTINGS = {"default": False, "indexed": True}  # name → index_translations
PORTS = {"default": 5600, "indexed": 5700, "project": 5800}
# `project`: not a setting trained here, but the project's model and var/ (bot train).
PROJECT = "project"


def banner(title: str) -> None:
    print(f"\n=== {title} ===", flush=True)


def rows() -> list[dict]:
    with SET.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def settings_for(name: str) -> Settings:
    if name == PROJECT:
        base = PORTS[name]
        return replace(Settings(project_dir=ROOT).resolved(), rasa_port=base + 5, actions_port=base + 55,
                       console_port=base + 80)
    work = BENCH / name
    base = PORTS[name]
    return Settings(project_dir=ROOT, knowledge_dir=ROOT / "knowledge", var_dir=work / "var", models_dir=work / "models",
                    rasa_port=base + 5, actions_port=base + 55, console_port=base + 80,
                    index_translations=SETTINGS[name]).resolved()


def model_for(name: str) -> Path:
    """The setting's model, trained only when its inputs changed (bot.runtime.training.train)."""
    if MODEL is not None:
        return MODEL
    s = settings_for(name)
    if name == PROJECT:
        result = train(s, quiet=True)
        print(f"{name}: " + ("trained" if result.trained else "model up to date"), flush=True)
        return result.model_path
    s.var_dir.mkdir(parents=True, exist_ok=True)
    cache, shared = s.var_dir / "encoder-cache.sqlite3", ROOT / "var" / "encoder-cache.sqlite3"
    if not cache.exists() and shared.exists():
        shutil.copy2(shared, cache)  # FAQ vectors already computed by `bot train` (cached by text hash)
    t = time.monotonic()
    result = train(s, quiet=True)
    print(f"{name}: " + (f"trained in {time.monotonic() - t:.0f} s" if result.trained else "model up to date"), flush=True)
    return result.model_path


# ----------------------------------------------------------------------------- retrieval
def bench_ranking(name: str) -> dict:
    from bot.eval.calibrate import outcome_for
    from bot.eval.dataset import read_labelled
    from bot.eval.metrics import summarise
    from bot.eval.parser import ModelParser

    model = model_for(name)
    questions = read_labelled(SET)
    langs = [r["lang"] for r in rows()]
    parser = ModelParser(model)
    parser.rank_at_least(10)
    outcomes = [outcome_for(q, parser.parse(q.question), "") for q in questions]
    parser.close()
    banner(f"retrieval and decisions: {name} (thresholds of config.yml)")
    print("lang     in/none  top-1  r@3    r@10   answered-right  clarified-right  wrong  none-refused")
    figures = {}
    for lang in (*LANGUAGES, "all"):
        mine = [o for o, lg in zip(outcomes, langs) if lang in ("all", lg)]
        s = summarise(mine)
        r10 = sum(o.question.expected in o.ranking[:10] for o in mine if o.question.in_scope) / max(1, s["in_scope"])
        refused = s["cannot_answer_recall"]
        figures[lang] = {**s, "recall_at_10": round(r10, 4)}
        print(f"{lang:8s} {s['in_scope']:3d}/{s['out_of_scope']:<3d} {s['top1']:.3f}  {s['recall_at_3']:.3f}  {r10:.3f}  "
              f"{s['answered_correctly']:.3f}           {s['clarified_with_correct']:.3f}            "
              f"{s['wrong_answers']:.3f}  {refused:.3f}")
    # The review groups an unanswered question under the FAQ its live ranking put on top
    # (bot/review/grouping.py): with that FAQ's Japanese questions when it is the right one.
    print("unanswered in-scope questions the review would group under their right FAQ (top-1): " + "; ".join(
        f"{lang} {sum(o.ranking[:1] == [o.question.expected] for o in un)}/{len(un)}"
        for lang in LANGUAGES
        for un in [[o for o, lg in zip(outcomes, langs) if lg == lang and o.question.in_scope and o.decision != "answer"]]))
    decisions = Counter((lg, o.decision) for o, lg in zip(outcomes, langs))
    print("decisions: " + "; ".join(
        f"{lang} " + ", ".join(f"{d} {decisions[(lang, d)]}" for d in ("answer", "clarify", "cannot_answer", "unclear", "smalltalk")
                               if decisions[(lang, d)]) for lang in LANGUAGES))
    misses = [(lg, o.question.question, o.question.expected, o.ranking[:3]) for o, lg in zip(outcomes, langs)
              if o.question.in_scope and o.question.expected not in o.ranking[:3]]
    (BENCH / f"misses-{name}{SUFFIX}.json").write_text(json.dumps(misses, ensure_ascii=False, indent=1))
    print(f"{len(misses)} in-scope questions without the right FAQ in the top 3: var/bench/languages/misses-{name}{SUFFIX}.json")
    return figures


# ----------------------------------------------------------------------------- right language
def ask(url: str, text: str) -> list[dict]:
    body = json.dumps({"sender": "lang-" + uuid.uuid4().hex, "message": text}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.loads(resp.read().decode())


def bench_rest(name: str) -> dict:
    s = settings_for(name)
    model = model_for(name)
    stack = Stack(s, model, log_dir=s.var_dir / "logs")
    stack.start(timeout=300)
    url = f"{stack.rasa_url}/webhooks/rest/webhook"
    results = []
    try:
        t = time.monotonic()
        for row in rows():
            replies = ask(url, row["question"])
            results.append((row, replies))
        seconds = time.monotonic() - t
    finally:
        stack.stop()
    banner(f"answered in the right language (REST, real servers): {name}")
    print(f"{len(results)} questions, each the first message of a new conversation, in {seconds:.0f} s")
    print("lang     questions  right-language  replies(type)                                body-in-language (answers)")
    figures: dict = {}
    wrong: dict[str, Counter] = defaultdict(Counter)
    for lang in (*LANGUAGES, "all"):
        mine = [(row, rep) for row, rep in results if lang in ("all", row["lang"])]
        right = sum(bool(rep) and all((m.get("custom") or {}).get("language") == row["lang"] for m in rep) for row, rep in mine)
        types = Counter((rep[0].get("custom") or {}).get("type") if rep else "none" for _, rep in mine)
        answers = [m for row, rep in mine for m in rep if (m.get("custom") or {}).get("type") == "answer"]
        in_lang = sum(m["custom"].get("body_lang") == row["lang"] for row, rep in mine for m in rep
                      if (m.get("custom") or {}).get("type") == "answer")
        for row, rep in mine:
            for m in rep:
                got = (m.get("custom") or {}).get("language")
                if got != row["lang"] and lang != "all":
                    wrong[lang][got] += 1
        figures[lang] = {"questions": len(mine), "right_language": round(right / max(1, len(mine)), 4),
                         "types": dict(types), "answers": len(answers),
                         "body_in_language": round(in_lang / len(answers), 4) if answers else None}
        kinds = ", ".join(f"{k} {v}" for k, v in types.most_common())
        body = f"{in_lang}/{len(answers)}" if answers else "—"
        print(f"{lang:8s} {len(mine):5d}      {right / max(1, len(mine)):.3f}           {kinds:44s} {body}")
    for lang, got in wrong.items():
        print(f"  {lang}: replies in " + ", ".join(f"{k} ×{v}" for k, v in got.most_common()))
    details = [{"lang": row["lang"], "question": row["question"], "faq_id": row["faq_id"],
                "replies": [{k: (m.get("custom") or {}).get(k) for k in ("type", "status", "language", "body_lang", "faq_id",
                                                                          "intent", "reason")} for m in rep]}
               for row, rep in results]
    (BENCH / f"replies-{name}.json").write_text(json.dumps(details, ensure_ascii=False, indent=1))
    print(f"every reply: var/bench/languages/replies-{name}.json")
    return figures


def main() -> None:
    global SET, SUFFIX, MODEL
    args = sys.argv[1:]
    if "--model" in args:
        i = args.index("--model")
        MODEL = Path(args[i + 1]).resolve()
        del args[i : i + 2]
    if "--set" in args:
        i = args.index("--set")
        SET = (ROOT / args[i + 1]).resolve()
        SUFFIX = "-" + SET.stem
        del args[i : i + 2]
    which = args[:1] or ["all"]
    names = args[1:] or list(SETTINGS)
    BENCH.mkdir(parents=True, exist_ok=True)
    report = {}
    for name in names:
        if which[0] in ("all", "ranking"):
            report[f"ranking-{name}"] = bench_ranking(name)
        if which[0] in ("all", "rest"):
            report[f"rest-{name}"] = bench_rest(name)
    out = BENCH / f"report-{'-'.join([which[0], *names])}{SUFFIX}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    print(f"\nfigures: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
