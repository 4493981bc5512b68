"""Recommend thresholds from a labelled dev set, without retraining.

The parse data of each question keeps its candidates and signals, so the decision can
be recomputed for every threshold combination on a grid.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from bot.contract import PARSE_KEY
from bot.eval.dataset import LabelledQuestion
from bot.eval.metrics import CANNOT, Outcome, summarise
from bot.knowledge.decision import Thresholds, apply_classifier, apply_personal_case, confidence_of, decide
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
                oos_intent: str = "out_of_scope", oos_threshold: float | None = None,
                search_result: SearchResult | None = None) -> Outcome:
    """The outcome of one question, recomputed under other thresholds when given
    (``search_result``: the parse's search result, when the caller already rebuilt it)."""
    md = parse.get(PARSE_KEY) or {}
    intent = parse.get("intent") or {}
    kind, answered = md.get("type", "cannot_answer"), md.get("faq_id")
    offered = [c["faq_id"] for c in md.get("candidates") or []] if kind == "clarify" else []
    if thresholds is not None and md.get("signals") and kind != "unclear":
        signals = md["signals"]
        sr = search_result or search_result_from_parse(md)
        d = decide(sr, thresholds, out_of_scope=float(signals.get("out_of_scope") or 0.0))
        d = apply_classifier(d, {"name": signals.get("intent"), "confidence": signals.get("intent_confidence")},
                             oos_intent, oos_threshold if oos_threshold is not None else 1.1)
        d = apply_personal_case(d, bool(signals.get("personal_case")), sr)
        kind, answered = d.type.value, d.faq_id
        offered = [c["faq_id"] for c in d.candidates] if kind == "clarify" else []
    if intent.get("name") not in (None, "faq"):
        kind = "smalltalk"
    ranking = [c["faq_id"] for c in md.get("ranking") or md.get("candidates") or []]
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
# Questions ranked by meaning alone score lower (only the sentence signals can speak).
LOW_ANSWER_GRID = (0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1) + ANSWER_GRID
CLARIFY_GRID = tuple(round(0.03 + 0.01 * i, 3) for i in range(18))  # 0.03 … 0.2
COVERAGE_GRID = (0.3, 0.4, 0.5, 0.6)
MARGIN_GRID = (0.0, 0.02, 0.03, 0.04, 0.06)  # how far the top FAQ must lead the second
OUT_OF_SCOPE_GRID = (0.6, 0.8, 1.1)  # veto by the classifier alone (1.1 = never)


def meets(summary: dict, min_precision: float, min_recall: float, max_wrong: float = 1.0) -> bool:
    """Whether the decision reaches the required operating point: cannot-answer precision
    and recall, and at most ``max_wrong`` wrong answers (share of all questions)."""
    return (summary["cannot_answer_precision"] >= min_precision and summary["cannot_answer_recall"] >= min_recall
            and summary["wrong_answers"] <= max_wrong)


def calibrate(questions, parses, categories, base: Thresholds, oos_threshold: float,
              coverages=COVERAGE_GRID, vetoes=OUT_OF_SCOPE_GRID, min_precision: float = 0.0,
              min_recall: float = 0.0, margins=MARGIN_GRID, max_wrong: float | None = None,
              answers=ANSWER_GRID) -> list[tuple[float, Thresholds, float, dict]]:
    """Score a grid of thresholds; best first.

    With ``min_precision``/``min_recall`` (the cannot-answer operating point a city
    requires), settings that reach it come first, best objective first among them.
    With ``max_wrong`` (the share of wrong answers a city accepts), settings within it
    come first, and among them the most questions answered directly and correctly:
    clarifying is then kept for the questions that are genuinely ambiguous.
    """
    rows = list(zip(questions, parses, categories))
    grid = _Grid(rows, base)
    results = []
    for a, c, cov, oos, m in itertools.product(answers, CLARIFY_GRID, coverages, vetoes, margins):
        if c > a:
            continue
        t = replace(base, answer=a, clarify=c, min_coverage=cov, margin=m)
        s = grid.summary(t, oos)
        results.append((objective(s), t, oos, s))
    wrong_cap = 1.0 if max_wrong is None else max_wrong

    # Ties go to the stricter coverage and margin: the same dev-set result with fewer
    # risky answers elsewhere.
    def key(r):
        m = r[3]
        first = m["answered_correctly"] if max_wrong is not None else r[0]
        # When nothing reaches the whole operating point: stay within the wrong-answer cap,
        # then come as close as possible to the cannot-answer precision and recall.
        closeness = min(m["cannot_answer_precision"] / min_precision if min_precision else 1.0,
                        m["cannot_answer_recall"] / min_recall if min_recall else 1.0, 1.0)
        return (not meets(m, min_precision, min_recall, wrong_cap), m["wrong_answers"] > wrong_cap,
                -round(closeness, 2), -first, -r[0], -r[1].min_coverage, -r[1].margin)

    results.sort(key=key)
    # The leaders again through the decision code itself (the grid is its vectorised twin).
    for i, (_, t, oos, _) in enumerate(results[:10]):
        exact = summarise([outcome_for(q, p, cat, t, oos_threshold=oos) for q, p, cat in rows])
        results[i] = (objective(exact), t, oos, exact)
    return results


class _Grid:
    """The decision of bot/knowledge/decision.py for many thresholds at once.

    Everything that does not depend on the thresholds (confidence, coverage, margin,
    which candidates a clarification would offer, the classifier's veto signal) is
    computed once per question; each threshold set is then a few array comparisons.
    tests/eval/test_calibrate.py checks it against :func:`outcome_for`.
    """

    def __init__(self, rows, base: Thresholds) -> None:
        n = len(rows)
        self.n = n
        self.in_scope = np.array([q.in_scope for q, _, _ in rows], dtype=bool)
        self.fixed = np.zeros(n, dtype=bool)  # kind not recomputed (no signals, or unclear)
        self.fixed_kind = np.array([""] * n, dtype=object)
        self.fixed_answer_ok = np.zeros(n, dtype=bool)
        self.fixed_clarify_ok = np.zeros(n, dtype=bool)
        self.smalltalk = np.zeros(n, dtype=bool)
        self.conf = np.zeros(n)
        self.coverage = np.zeros(n)
        self.margin = np.zeros(n)
        self.has_top = np.zeros(n, dtype=bool)
        self.can_clarify = np.zeros(n, dtype=bool)
        self.top_ok = np.zeros(n, dtype=bool)
        self.offered_ok = np.zeros(n, dtype=bool)
        self.veto_conf = np.full(n, -1.0)  # classifier confidence when it predicted out_of_scope
        self.personal = np.zeros(n, dtype=bool)
        tops = {}
        for i, (q, parse, _) in enumerate(rows):
            md = parse.get(PARSE_KEY) or {}
            intent = parse.get("intent") or {}
            self.smalltalk[i] = intent.get("name") not in (None, "faq")
            kind = md.get("type", "cannot_answer")
            signals = md.get("signals")
            if not signals or kind == "unclear":
                self.fixed[i] = True
                self.fixed_kind[i] = kind
                offered = [c["faq_id"] for c in md.get("candidates") or []] if kind == "clarify" else []
                self.fixed_answer_ok[i] = kind == "answer" and md.get("faq_id") == q.expected
                self.fixed_clarify_ok[i] = kind == "clarify" and q.expected in offered
                tops[i] = md.get("faq_id") if kind == "answer" else None
                continue
            sr = search_result_from_parse(md)
            cands = sr.candidates
            self.conf[i] = confidence_of(sr, float(signals.get("out_of_scope") or 0.0))
            self.coverage[i] = sr.coverage
            if cands:
                self.has_top[i] = True
                self.margin[i] = cands[0].score - (cands[1].score if len(cands) > 1 else 0.0)
                self.top_ok[i] = cands[0].faq_id == q.expected
                floor = cands[0].score * base.candidate_ratio
                offered = [c.faq_id for c in cands if c.score >= floor][: base.max_candidates]
                if len(offered) < 2:
                    offered = [c.faq_id for c in cands[:2]]
                self.can_clarify[i] = len(offered) >= 2
                self.offered_ok[i] = q.expected in offered
            if signals.get("intent") == "out_of_scope":
                self.veto_conf[i] = float(signals.get("intent_confidence") or 0.0)
            self.personal[i] = bool(signals.get("personal_case"))
        self.answer_fixed_wrong = self.fixed & (self.fixed_kind == "answer") & ~self.fixed_answer_ok
        self.cannot_fixed = self.fixed & np.isin(self.fixed_kind, list(CANNOT))

    def summary(self, t: Thresholds, veto: float) -> dict:
        live = ~self.fixed
        answer = live & self.has_top & (self.conf >= t.answer) & (self.coverage >= t.min_coverage) & (
            self.margin >= t.margin)
        clarify = live & ~answer & self.has_top & (self.conf >= t.clarify) & self.can_clarify
        vetoed = (self.veto_conf >= veto) | self.personal
        answer &= ~vetoed
        clarify &= ~vetoed
        cannot = (live & ~answer & ~clarify) | self.cannot_fixed
        st = self.smalltalk
        answer_all = (answer | (self.fixed & (self.fixed_kind == "answer"))) & ~st
        answer_ok = ((answer & self.top_ok) | (self.fixed_answer_ok)) & ~st
        clarify_ok = ((clarify & self.offered_ok) | self.fixed_clarify_ok) & ~st
        cannot &= ~st
        ins, oos = self.in_scope, ~self.in_scope
        n_ins, n_oos = int(ins.sum()), int(oos.sum())
        tp = int((cannot & oos).sum())
        predicted = int(cannot.sum())
        precision = round(tp / predicted, 4) if predicted else 0.0
        recall = round(tp / n_oos, 4) if n_oos else 0.0
        return {
            "top1": 0.0,  # threshold-independent: filled in by the exact pass for the leaders
            "cannot_answer_precision": precision,
            "cannot_answer_recall": recall,
            "cannot_answer_f1": round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0,
            "answered_correctly": round(int((answer_ok & ins).sum()) / n_ins, 4) if n_ins else 0.0,
            "clarified_with_correct": round(int((clarify_ok & ins).sum()) / n_ins, 4) if n_ins else 0.0,
            "wrong_answers": round(int((answer_all & ~answer_ok).sum()) / self.n, 4) if self.n else 0.0,
        }


def cross_validate(questions, parses, categories, base: Thresholds, oos_threshold: float,
                   splits: int = 10, seed: int = 0, min_precision: float = 0.0, min_recall: float = 0.0,
                   max_wrong: float | None = None) -> dict:
    """How well thresholds calibrated on half of the questions do on the other half.

    Calibrating and measuring on the same questions flatters the figures; this repeats
    a random half/half split ``splits`` times (answer and clarify thresholds searched,
    coverage, margin and the veto kept at ``base``/``oos_threshold``) and reports the held-out
    cannot-answer precision and recall: mean and worst.
    """
    import random

    rng = random.Random(seed)  # noqa: S311 - a reproducible split of the dev set, not a secret
    rows = list(zip(questions, parses, categories))
    held_out: list[dict] = []
    for _ in range(splits):
        order = rows[:]
        rng.shuffle(order)
        half = len(order) // 2
        fit, test = order[:half], order[half:]
        best = calibrate(*zip(*fit), base, oos_threshold, coverages=(base.min_coverage,), vetoes=(oos_threshold,),
                         min_precision=min_precision, min_recall=min_recall, margins=(base.margin,),
                         max_wrong=max_wrong)[0]
        outs = [outcome_for(q, p, cat, best[1], oos_threshold=best[2]) for q, p, cat in test]
        held_out.append(summarise(outs))
    keys = ("top1", "cannot_answer_precision", "cannot_answer_recall", "answered_correctly", "wrong_answers")
    return {
        "splits": splits,
        "mean": {k: round(sum(h[k] for h in held_out) / len(held_out), 4) for k in keys},
        "worst": {k: (max if k == "wrong_answers" else min)(h[k] for h in held_out) for k in keys},
    }
