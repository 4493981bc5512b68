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
        d = decide(sr, thresholds)
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


def calibrate(questions, parses, categories, base: Thresholds, oos_threshold: float) -> list[tuple[float, Thresholds, float, dict]]:
    """Score a grid of thresholds; best first."""
    results = []
    grid = itertools.product(
        [0.15, 0.18, 0.21, 0.24, 0.27, 0.3, 0.35, 0.4, 0.5, 0.6],  # answer
        [0.04, 0.06, 0.08, 0.1, 0.12, 0.14, 0.16, 0.2, 0.25],  # clarify
        [0.3, 0.4, 0.5, 0.6, 0.7],  # min coverage
        [0.5, 0.6, 0.7, 0.8, 1.1],  # out_of_scope veto (1.1 = never)
    )
    for a, c, cov, oos in grid:
        if c > a:
            continue
        t = replace(base, answer=a, clarify=c, min_coverage=cov)
        outs = [outcome_for(q, p, cat, t, oos_threshold=oos) for q, p, cat in zip(questions, parses, categories)]
        s = summarise(outs)
        results.append((objective(s), t, oos, s))
    results.sort(key=lambda r: -r[0])
    return results
