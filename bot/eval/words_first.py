"""Calibrate the words-first gate: when may a question be answered by its words alone,
without the sentence encoder?

The encoder costs most of the CPU of a question (docs/benchmarks.md). Many questions
name their topic plainly (「粗大ごみの出し方」), and their words alone already pick the
FAQ the full search would answer. The gate answers from the words-only search when it
clears stricter thresholds (``words_first_*`` in config.yml); everything else gets the
full search. Calibration keeps the gate where it changes nothing on the dev sets: at
least as many right answers and no more wrong ones than the full search, as many
questions spared the encoder as possible.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from bot.contract import PARSE_KEY
from bot.eval.calibrate import outcome_for
from bot.eval.metrics import Outcome, summarise
from bot.knowledge.decision import ReplyType, Thresholds, apply_classifier, apply_personal_case, decide
from bot.knowledge.index import SearchResult

ANSWER_GRID = (0.1, 0.12, 0.14, 0.16, 0.18, 0.2, 0.22, 0.25, 0.3, 0.35, 0.4)
MARGIN_GRID = (0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.15)
COVERAGE_GRID = (0.3, 0.5, 0.7)


def words_first_outcome(q, parse: dict, words: SearchResult | None, category: str, thresholds: Thresholds,
                        gate: Thresholds | None, oos_threshold: float,
                        full: Outcome | None = None) -> tuple[Outcome, bool]:
    """The outcome of one question with the gate (and whether the gate answered it).

    ``parse`` is the full search's parse (words first off, as `bot calibrate` parses);
    ``thresholds`` and ``oos_threshold`` are the full search's settings. When the gate's
    answer would be vetoed (out_of_scope, personal case), the full outcome stands: the
    veto does not depend on the search. ``full``: the full search's outcome, when known.
    """
    full = full or outcome_for(q, parse, category, thresholds, oos_threshold=oos_threshold)
    md = parse.get(PARSE_KEY) or {}
    signals = md.get("signals")
    if gate is None or words is None or not signals or md.get("type") == "unclear" or signals.get("urgent"):
        return full, False
    d = decide(words, gate, meaningful=True, out_of_scope=float(signals.get("out_of_scope") or 0.0))
    if d.type != ReplyType.ANSWER:
        return full, False
    d = apply_classifier(d, {"name": signals.get("intent"), "confidence": signals.get("intent_confidence")},
                         "out_of_scope", oos_threshold)
    d = apply_personal_case(d, bool(signals.get("personal_case")), words)
    if d.type != ReplyType.ANSWER:
        return full, False
    ranking = [c.faq_id for c in words.candidates]
    return Outcome(q, ranking, "answer", d.faq_id, [], category), True


def measure(rows, thresholds: Thresholds, gate: Thresholds | None, oos_threshold: float,
            fulls: list[Outcome] | None = None) -> dict:
    """Summary figures with the gate, plus ``words_first``: the share of questions it answered."""
    outcomes, spared = [], 0
    fulls = fulls or [outcome_for(q, p, c, thresholds, oos_threshold=oos_threshold) for q, p, _, c in rows]
    for (q, parse, words, category), full in zip(rows, fulls):
        outcome, by_words = words_first_outcome(q, parse, words, category, thresholds, gate, oos_threshold, full)
        outcomes.append(outcome)
        spared += by_words
    return {**summarise(outcomes), "words_first": round(spared / len(rows), 4) if rows else 0.0}


def calibrate_gate(rows, thresholds: Thresholds, oos_threshold: float) -> tuple[Thresholds | None, dict, dict]:
    """The gate sparing the most questions the encoder with no fewer right answers and no
    more wrong ones than the full search on ``rows`` (question, full parse, words-only
    search, category). Returns (gate or None, its figures, the full search's figures)."""
    fulls = [outcome_for(q, p, c, thresholds, oos_threshold=oos_threshold) for q, p, _, c in rows]
    full = measure(rows, thresholds, None, oos_threshold, fulls)
    best: tuple[Thresholds | None, dict] = (None, full)
    for a, m, c in itertools.product(ANSWER_GRID, MARGIN_GRID, COVERAGE_GRID):
        gate = replace(Thresholds(), answer=a, clarify=a, margin=m, min_coverage=c)
        fig = measure(rows, thresholds, gate, oos_threshold, fulls)
        if fig["answered_correctly"] < full["answered_correctly"] or fig["wrong_answers"] > full["wrong_answers"]:
            continue
        # Ties go to the stricter gate (the grid ascends): the same result here, fewer risks elsewhere.
        if fig["words_first"] > 0 and fig["words_first"] >= best[1]["words_first"]:
            best = (gate, fig)
    return best[0], best[1], full
