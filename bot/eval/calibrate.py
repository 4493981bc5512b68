"""Recommend thresholds from a labelled dev set, without retraining.

The parse data of each question keeps its candidates and signals, so the decision can
be recomputed for every threshold combination on a grid.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from bot.eval.dataset import LabelledQuestion
from bot.eval.metrics import Outcome, summarise
from bot.knowledge.decision import Thresholds, apply_classifier, apply_personal_case, decide
from bot.knowledge.index import Candidate, SearchResult


def search_result_from_parse(md: dict) -> SearchResult:
    signals = md.get("signals") or {}
    cands = [
        Candidate(c["faq_id"], c.get("question", ""), "", "", float(c["score"]), 0.0, 0.0, 0.0)
        for c in md.get("candidates") or []
    ]
    terms = ["x"] * int(signals.get("terms", 1))
    return SearchResult(cands, terms, float(signals.get("coverage", 0.0)), float(signals.get("known_terms", 0.0)),
                        signals.get("category"), signals.get("department"))


def outcome_for(q: LabelledQuestion, parse: dict, category: str, thresholds: Thresholds | None = None,
                oos_intent: str = "out_of_scope", oos_threshold: float | None = None) -> Outcome:
    """The outcome of one question, recomputed under other thresholds when given."""
    md = parse.get("madoguchi") or {}
    intent = parse.get("intent") or {}
    kind, answered = md.get("type", "cannot_answer"), md.get("faq_id")
    offered = [c["faq_id"] for c in md.get("candidates") or []] if kind == "clarify" else []
    if thresholds is not None and md.get("signals") and kind != "unclear":
        signals = md["signals"]
        sr = search_result_from_parse(md)
        d = decide(sr, thresholds, out_of_scope=float(signals.get("out_of_scope") or 0.0))
        d = apply_classifier(d, {"name": signals.get("intent"), "confidence": signals.get("intent_confidence")},
                             oos_intent, oos_threshold if oos_threshold is not None else 1.1)
        d = apply_personal_case(d, bool(signals.get("personal_case")), sr)
        kind, answered = d.type.value, d.faq_id
        offered = [c["faq_id"] for c in d.candidates] if kind == "clarify" else []
    if intent.get("name") not in (None, "faq"):
        kind = "smalltalk"
    ranking = [c["faq_id"] for c in md.get("candidates") or []]
    return Outcome(q, ranking, kind, answered if kind == "answer" else None, offered, category)


def objective(summary: dict) -> float:
    """What calibration maximises: right answers and honest refusals, wrong answers cost most."""
    return (
        summary["answered_correctly"]
        + 0.6 * summary["clarified_with_correct"]
        + summary["cannot_answer_f1"]
        - 3.0 * summary["wrong_answers"]
    )


ANSWER_GRID = (0.12, 0.14, 0.16, 0.18, 0.2, 0.22, 0.24, 0.27, 0.3, 0.33, 0.36, 0.4, 0.45, 0.5)
CLARIFY_GRID = tuple(round(0.03 + 0.005 * i, 3) for i in range(35))  # 0.03 … 0.2
COVERAGE_GRID = (0.3, 0.4, 0.5, 0.6)
OUT_OF_SCOPE_GRID = (0.6, 0.8, 1.1)  # veto by the classifier alone (1.1 = never)


def meets(summary: dict, min_precision: float, min_recall: float) -> bool:
    """Whether the cannot-answer decision reaches the required operating point."""
    return summary["cannot_answer_precision"] >= min_precision and summary["cannot_answer_recall"] >= min_recall


def calibrate(questions, parses, categories, base: Thresholds, oos_threshold: float,
              coverages=COVERAGE_GRID, vetoes=OUT_OF_SCOPE_GRID, min_precision: float = 0.0,
              min_recall: float = 0.0) -> list[tuple[float, Thresholds, float, dict]]:
    """Score a grid of thresholds; best first.

    With ``min_precision``/``min_recall`` (the cannot-answer operating point a city
    requires), settings that reach it come first, best objective first among them.
    """
    results = []
    grid = itertools.product(ANSWER_GRID, CLARIFY_GRID, coverages, vetoes)
    for a, c, cov, oos in grid:
        if c > a:
            continue
        t = replace(base, answer=a, clarify=c, min_coverage=cov)
        outs = [outcome_for(q, p, cat, t, oos_threshold=oos) for q, p, cat in zip(questions, parses, categories)]
        s = summarise(outs)
        results.append((objective(s), t, oos, s))
    # Ties go to the stricter coverage: the same dev-set result with fewer risky answers elsewhere.
    results.sort(key=lambda r: (not meets(r[3], min_precision, min_recall), -r[0], -r[1].min_coverage))
    return results


def cross_validate(questions, parses, categories, base: Thresholds, oos_threshold: float,
                   splits: int = 10, seed: int = 0, min_precision: float = 0.0, min_recall: float = 0.0) -> dict:
    """How well thresholds calibrated on half of the questions do on the other half.

    Calibrating and measuring on the same questions flatters the figures; this repeats
    a random half/half split ``splits`` times (answer and clarify thresholds searched,
    coverage and the veto kept at ``base``/``oos_threshold``) and reports the held-out
    cannot-answer precision and recall: mean and worst.
    """
    import random

    rng = random.Random(seed)
    rows = list(zip(questions, parses, categories))
    held_out: list[dict] = []
    for _ in range(splits):
        order = rows[:]
        rng.shuffle(order)
        half = len(order) // 2
        fit, test = order[:half], order[half:]
        best = calibrate(*zip(*fit), base, oos_threshold, coverages=(base.min_coverage,), vetoes=(oos_threshold,),
                         min_precision=min_precision, min_recall=min_recall)[0]
        outs = [outcome_for(q, p, cat, best[1], oos_threshold=best[2]) for q, p, cat in test]
        held_out.append(summarise(outs))
    keys = ("top1", "cannot_answer_precision", "cannot_answer_recall", "answered_correctly", "wrong_answers")
    return {
        "splits": splits,
        "mean": {k: round(sum(h[k] for h in held_out) / len(held_out), 4) for k in keys},
        "worst": {k: (max if k == "wrong_answers" else min)(h[k] for h in held_out) for k in keys},
    }
