"""The words-first gate's calibration: spare the encoder only where the answers stay."""

from bot.eval.dataset import LabelledQuestion
from bot.eval.words_first import calibrate_gate, measure, words_first_outcome
from bot.knowledge.decision import Thresholds
from bot.knowledge.index import Candidate, SearchResult


def full_parse(kind, faq_id, top_id, top=0.5, second=0.2, coverage=0.9):
    return {
        "intent": {"name": "faq", "confidence": 0.5},
        "madoguchi": {
            "type": kind, "faq_id": faq_id,
            "candidates": [{"faq_id": top_id, "score": top}, {"faq_id": "other", "score": second}],
            "ranking": [{"faq_id": top_id, "score": top}, {"faq_id": "other", "score": second}],
            "signals": {"coverage": coverage, "known_terms": 1.0, "terms": 3, "intent": "faq",
                        "intent_confidence": 0.5, "personal_case": False, "out_of_scope": 0.0},
        },
    }


def words(top_id, top, second, coverage=0.9):
    return SearchResult([Candidate(top_id, "", "", "", top, 0, 0, 0), Candidate("other", "", "", "", second, 0, 0, 0)],
                        ["a", "b", "c"], coverage, 1.0)


FULL = Thresholds(answer=0.3, clarify=0.1, margin=0.05, min_coverage=0.3)


def rows():
    out = []
    for i in range(20):  # plainly worded: the words alone pick the right FAQ
        out.append((LabelledQuestion(f"plain{i}", f"f{i}"), full_parse("answer", f"f{i}", f"f{i}"),
                    words(f"f{i}", 0.45, 0.1), "c"))
    for i in range(10):  # the words lean to a wrong FAQ, weakly; meaning finds the right one
        out.append((LabelledQuestion(f"vague{i}", f"g{i}"), full_parse("answer", f"g{i}", f"g{i}"),
                    words(f"wrong{i}", 0.2, 0.12), "c"))
    return out


def test_the_gate_answers_plain_questions_and_leaves_vague_ones_to_the_full_search():
    r = rows()
    gate, fig, full = calibrate_gate(r, FULL, 0.8)
    assert gate is not None
    assert fig["words_first"] == round(20 / 30, 4)
    assert fig["answered_correctly"] == full["answered_correctly"] == 1.0
    assert fig["wrong_answers"] == full["wrong_answers"] == 0.0
    outcome, by_words = words_first_outcome(*r[25], FULL, gate, 0.8)
    assert not by_words and outcome.answered == "g5"


def test_a_gate_too_loose_to_keep_the_answers_is_not_chosen():
    r = rows()
    loose = Thresholds(answer=0.05, clarify=0.05, margin=0.0, min_coverage=0.3)
    assert measure(r, FULL, loose, 0.8)["wrong_answers"] > 0
    gate, _, _ = calibrate_gate(r, FULL, 0.8)
    assert not any(words_first_outcome(*row, FULL, gate, 0.8)[1] for row in r[20:])  # vague ones: full search


def test_a_vetoed_question_keeps_the_full_outcome():
    q = LabelledQuestion("私の申請はどうなりましたか", "none")
    p = full_parse("cannot_answer", None, "f1")
    p["madoguchi"]["signals"]["personal_case"] = True
    outcome, by_words = words_first_outcome(q, p, words("f1", 0.6, 0.1), "c", FULL, Thresholds(answer=0.2), 0.8)
    assert not by_words and outcome.decision == "cannot_answer"


def test_no_gate_when_every_setting_changes_answers():
    r = [(LabelledQuestion(f"v{i}", f"g{i}"), full_parse("answer", f"g{i}", f"g{i}"), words(f"wrong{i}", 0.9, 0.0), "c")
         for i in range(5)]
    gate, fig, full = calibrate_gate(r, FULL, 0.8)
    assert gate is None and fig == full
