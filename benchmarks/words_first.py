"""Words first: what answering from the words alone, without the sentence encoder, saves
and what it costs.

Prints figures; asserts nothing.

    .venv/bin/python benchmarks/words_first.py            # the project's model (bot train first)

Every question of the evaluation sets is parsed with the full search (words and meaning)
and searched by its words alone. The gate is calibrated on the calibration sets
(eval/dev.csv + eval/dev-situations.csv) exactly as `bot calibrate` does, with the
full-search thresholds of config.yml, then measured on sets it never saw
(eval/situations.csv, eval/crosslang.csv), and, when `benchmarks/hybrid.py quality` has
trained it, on the hybrid model of the 子育てオープンデータ協議会 FAQ (eval/kosodate.csv; one
question per FAQ, so the words-only search is weaker there): the share of questions
answered without the encoder, and the answers with and without the gate.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

CALIBRATION = ("dev", "dev-situations")
MEASURED = ("situations", "crosslang")


def main() -> None:
    from bot.cli import _retriever_config
    from bot.eval.calibrate import outcome_for
    from bot.eval.dataset import read_labelled
    from bot.eval.parser import ModelParser
    from bot.eval.words_first import calibrate_gate, measure, words_first_outcome
    from bot.knowledge.decision import OUT_OF_SCOPE_VETO, Thresholds
    from bot.knowledge.loader import load_knowledge
    from bot.runtime.training import model_path
    from bot.settings import Settings

    s = Settings.from_env()
    configured = _retriever_config(ROOT / "config.yml")
    thresholds, veto = Thresholds.from_config(configured), float(configured.get("out_of_scope_threshold", OUT_OF_SCOPE_VETO))
    cats = {f.id: f.category for f in load_knowledge(ROOT / "knowledge").kb.faqs}
    parser = ModelParser(model_path(s))
    parser.set_words_first(False)
    rows = {}
    for name in CALIBRATION + MEASURED:
        qs = read_labelled(ROOT / "eval" / f"{name}.csv")
        rows[name] = [(q, parser.parse(q.question), parser.words_only(q.question),
                       cats.get(q.expected, "(out of scope)") if q.in_scope else "(out of scope)") for q in qs]
    calibration = [r for name in CALIBRATION for r in rows[name]]
    gate, _, _ = calibrate_gate(calibration, thresholds, veto)
    print(f"full-search thresholds (config.yml): answer {thresholds.answer} clarify {thresholds.clarify} "
          f"margin {thresholds.margin} coverage {thresholds.min_coverage} veto {veto}")
    if gate is None:
        print("no gate changes nothing on the calibration sets")
        return
    print(f"gate calibrated on {' + '.join(CALIBRATION)}: words_first_threshold {gate.answer}, "
          f"words_first_margin {gate.margin}, words_first_min_coverage {gate.min_coverage}\n")
    print("set              words first   answered-right      wrong            top-1            cannot-P / R")
    for name in CALIBRATION + MEASURED:
        r = rows[name]
        full = measure(r, thresholds, None, veto)
        with_gate = measure(r, thresholds, gate, veto)
        pr = lambda f: (f"{f['cannot_answer_precision']:.3f}/{f['cannot_answer_recall']:.3f}"  # noqa: E731
                        if f["out_of_scope"] else "-")
        print(f"{name:16s} {with_gate['words_first']:6.1%}        {full['answered_correctly']:.3f} -> "
              f"{with_gate['answered_correctly']:.3f}   {full['wrong_answers']:.3f} -> {with_gate['wrong_answers']:.3f}   "
              f"{full['top1']:.3f} -> {with_gate['top1']:.3f}   {pr(full)} -> {pr(with_gate)}")
        if name in MEASURED:
            for q, p, w, c in r:
                full_o = outcome_for(q, p, c, thresholds, oos_threshold=veto)
                gated, by_words = words_first_outcome(q, p, w, c, thresholds, gate, veto, full_o)
                if by_words and (gated.decision, gated.answered) != (full_o.decision, full_o.answered):
                    print(f"    changed: {q.question[:40]!r} expected {q.expected}: {full_o.decision} "
                          f"{full_o.answered or ''} -> answer {gated.answered}")
    parser.close()
    kosodate_model = ROOT / "var" / "bench" / "hybrid" / "kosodate" / "hybrid" / "models" / "madoguchi.tar.gz"
    questions = ROOT / "var" / "bench" / "hybrid" / "kosodate-questions.csv"
    if kosodate_model.exists() and questions.exists():
        kparser = ModelParser(kosodate_model)
        kparser.set_words_first(False)
        r = [(q, kparser.parse(q.question), kparser.words_only(q.question), "") for q in read_labelled(questions)]
        full, with_gate = measure(r, thresholds, None, veto), measure(r, thresholds, gate, veto)
        print(f"{'kosodate':16s} {with_gate['words_first']:6.1%}        {full['answered_correctly']:.3f} -> "
              f"{with_gate['answered_correctly']:.3f}   {full['wrong_answers']:.3f} -> {with_gate['wrong_answers']:.3f}   "
              f"{full['top1']:.3f} -> {with_gate['top1']:.3f}")
        kparser.close()


if __name__ == "__main__":
    main()
