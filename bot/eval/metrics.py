"""Quality metrics for ranking and for the cannot-answer decision. Pure functions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from bot.contract import REFUSALS
from bot.eval.dataset import LabelledQuestion

CANNOT = REFUSALS


@dataclass(frozen=True)
class Outcome:
    """What the assistant did with one labelled question."""

    question: LabelledQuestion
    ranking: list[str]  # FAQ ids, best first
    decision: str  # answer | clarify | cannot_answer | unclear | smalltalk
    answered: str | None  # the FAQ id answered, when decision == answer
    offered: list[str]  # clarify candidates
    category: str = ""


def _safe(n: float, d: float) -> float:
    return round(n / d, 4) if d else 0.0


def summarise(outcomes: list[Outcome]) -> dict:
    """top-1, recall@3, MRR (in-scope questions), and cannot-answer precision/recall."""
    ins = [o for o in outcomes if o.question.in_scope]
    oos = [o for o in outcomes if not o.question.in_scope]
    top1 = sum(1 for o in ins if o.ranking[:1] == [o.question.expected])
    r3 = sum(1 for o in ins if o.question.expected in o.ranking[:3])
    mrr = sum(1.0 / (o.ranking.index(o.question.expected) + 1) for o in ins if o.question.expected in o.ranking)
    predicted_cannot = [o for o in outcomes if o.decision in CANNOT]
    tp = sum(1 for o in predicted_cannot if not o.question.in_scope)
    answered_right = sum(1 for o in ins if o.decision == "answer" and o.answered == o.question.expected)
    clarified_right = sum(1 for o in ins if o.decision == "clarify" and o.question.expected in o.offered)
    wrong_answers = sum(1 for o in outcomes if o.decision == "answer" and o.answered != o.question.expected)
    precision = _safe(tp, len(predicted_cannot))
    recall = _safe(tp, len(oos))
    return {
        "questions": len(outcomes),
        "in_scope": len(ins),
        "out_of_scope": len(oos),
        "top1": _safe(top1, len(ins)),
        "recall_at_3": _safe(r3, len(ins)),
        "mrr": _safe(mrr, len(ins)),
        "cannot_answer_precision": precision,
        "cannot_answer_recall": recall,
        "cannot_answer_f1": _safe(2 * precision * recall, precision + recall),
        "answered_correctly": _safe(answered_right, len(ins)),
        "clarified_with_correct": _safe(clarified_right, len(ins)),
        "wrong_answers": _safe(wrong_answers, len(outcomes)),
    }


def by_category(outcomes: list[Outcome]) -> dict[str, dict]:
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        groups[o.category or o.question.category or "(none)"].append(o)
    return {k: summarise(v) for k, v in sorted(groups.items())}
