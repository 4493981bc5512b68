from bot.eval.dataset import LabelledQuestion
from bot.eval.metrics import Outcome, summarise


def o(expected, ranking, decision, answered=None, offered=()):
    return Outcome(LabelledQuestion("q", expected), list(ranking), decision, answered, list(offered))


def test_known_fixture_figures():
    outcomes = [
        o("a", ["a", "b", "c"], "answer", "a"),
        o("b", ["a", "b", "c"], "clarify", offered=["a", "b"]),
        o("c", ["x", "y", "z"], "cannot_answer"),
        o("none", ["a"], "cannot_answer"),
        o("none", ["b"], "answer", "b"),
    ]
    s = summarise(outcomes)
    assert s["top1"] == round(1 / 3, 4)
    assert s["recall_at_3"] == round(2 / 3, 4)
    assert s["mrr"] == round((1 + 0.5) / 3, 4)
    assert s["cannot_answer_precision"] == 0.5  # 2 predicted, 1 truly out of scope
    assert s["cannot_answer_recall"] == 0.5
    assert s["answered_correctly"] == round(1 / 3, 4)
    assert s["clarified_with_correct"] == round(1 / 3, 4)
    assert s["wrong_answers"] == 0.2
