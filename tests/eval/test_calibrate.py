"""Threshold calibration recomputes decisions from stored parse data."""

from bot.eval.calibrate import calibrate, cross_validate, outcome_for
from bot.eval.dataset import LabelledQuestion
from bot.knowledge.decision import Thresholds


def parse(top_id, top, second, coverage, out_of_scope=0.0):
    return {
        "intent": {"name": "faq", "confidence": 0.5},
        "madoguchi": {
            "type": "answer",
            "faq_id": top_id,
            "candidates": [{"faq_id": top_id, "score": top}, {"faq_id": "other", "score": second}],
            "signals": {"coverage": coverage, "known_terms": 1.0, "terms": 3, "intent": "faq",
                        "intent_confidence": 0.5, "personal_case": False, "out_of_scope": out_of_scope},
        },
    }


def dataset():
    questions, parses = [], []
    for i in range(30):  # in scope: clear winners
        questions.append(LabelledQuestion(f"q{i}", f"f{i}"))
        parses.append(parse(f"f{i}", 0.6 + (i % 5) * 0.05, 0.2, 0.9))
    for i in range(20):  # out of scope: word overlap, but the classifier doubts them
        questions.append(LabelledQuestion(f"n{i}", "none"))
        parses.append(parse(f"f{i}", 0.5, 0.3, 0.8, out_of_scope=0.85))
    return questions, parses, ["c"] * len(questions)


def test_stored_out_of_scope_probability_is_used_when_recomputing():
    q, p, c = dataset()
    t = Thresholds(answer=0.3, clarify=0.1, min_coverage=0.5)
    assert outcome_for(q[-1], p[-1], "c", t, oos_threshold=1.1).decision == "cannot_answer"  # 0.5·0.8·0.15 = 0.06
    assert outcome_for(q[0], p[0], "c", t, oos_threshold=1.1).decision == "answer"


def test_calibration_separates_answerable_from_unanswerable():
    q, p, c = dataset()
    best_score, best, veto, summary = calibrate(q, p, c, Thresholds(), 0.8)[0]
    assert summary["cannot_answer_precision"] == 1.0 and summary["cannot_answer_recall"] == 1.0
    assert summary["answered_correctly"] == 1.0 and summary["wrong_answers"] == 0.0


def test_cross_validation_reports_held_out_figures():
    q, p, c = dataset()
    r = cross_validate(q, p, c, Thresholds(), 0.8, splits=3)
    assert r["splits"] == 3
    assert r["worst"]["cannot_answer_recall"] == 1.0 and r["worst"]["wrong_answers"] == 0.0


def test_required_operating_point_comes_first_when_reachable():
    q, p, c = dataset()
    # Five in-scope questions that look off-topic: all-refusing settings buy recall with precision.
    for i in range(5):
        q.append(LabelledQuestion(f"hard{i}", f"f{i}"))
        p.append(parse(f"f{i}", 0.5, 0.3, 0.8, out_of_scope=0.85))
    c = ["c"] * len(q)
    from bot.eval.calibrate import meets

    strict = calibrate(q, p, c, Thresholds(), 0.8, min_precision=0.8, min_recall=1.0)
    assert meets(strict[0][3], 0.8, 1.0)
    impossible = calibrate(q, p, c, Thresholds(), 0.8, min_precision=1.01)
    assert impossible[0][0] == max(r[0] for r in impossible)  # falls back to the objective


def varied_dataset():
    """Every path of the decision: vetoes, personal cases, small talk, unclear, one candidate."""
    import random

    rng = random.Random(3)
    questions, parses = [], []
    for i in range(120):
        expected = rng.choice([f"f{i % 7}", f"f{(i + 1) % 7}", "none"])
        p = parse(f"f{i % 7}", round(rng.uniform(0.1, 0.7), 3), round(rng.uniform(0.05, 0.6), 3),
                  round(rng.uniform(0.2, 1.0), 3), out_of_scope=round(rng.uniform(0.0, 0.95), 3))
        md, signals = p["madoguchi"], p["madoguchi"]["signals"]
        kind = i % 6
        if kind == 1:
            signals["intent"], signals["intent_confidence"] = "out_of_scope", round(rng.uniform(0.5, 1.0), 3)
        elif kind == 2:
            signals["personal_case"] = True
        elif kind == 3:
            p["intent"] = {"name": "greet", "confidence": 0.9}
        elif kind == 4:
            md["type"], md["signals"], md["faq_id"] = "unclear", {}, None
        elif kind == 5:
            md["candidates"] = md["candidates"][:1]
        questions.append(LabelledQuestion(f"v{i}", expected))
        parses.append(p)
    return questions, parses, ["c"] * len(questions)


def test_the_vectorised_grid_decides_exactly_as_the_decision_code():
    import random
    from dataclasses import replace

    from bot.eval.calibrate import _Grid
    from bot.eval.metrics import summarise

    q, p, c = varied_dataset()
    rows = list(zip(q, p, c))
    grid = _Grid(rows, Thresholds())
    rng = random.Random(5)
    for _ in range(60):
        t = replace(Thresholds(), answer=rng.uniform(0.05, 0.5), clarify=rng.uniform(0.02, 0.3),
                    margin=rng.choice([0.0, 0.02, 0.04, 0.1]), min_coverage=rng.choice([0.3, 0.5, 0.8]))
        veto = rng.choice([0.6, 0.8, 1.1])
        fast = grid.summary(t, veto)
        exact = summarise([outcome_for(x, y, z, t, oos_threshold=veto) for x, y, z in rows])
        assert {k: v for k, v in fast.items() if k != "top1"} == {k: exact[k] for k in fast if k != "top1"}, (t, veto)
