from bot.knowledge.decision import ReplyType, Thresholds, apply_classifier, decide
from bot.knowledge.index import Candidate, SearchResult


def result(scores, coverage=1.0):
    cands = [Candidate(f"f{i}", f"q{i}", "c", "d", s, 0, 0, 0) for i, s in enumerate(scores)]
    return SearchResult(cands, ["t"], coverage, 1.0, "c", "d")


T = Thresholds(answer=0.5, clarify=0.3, margin=0.05, min_coverage=0.5)


def test_confident_and_clear_lead_answers():
    d = decide(result([0.8, 0.3]), T)
    assert (d.type, d.faq_id) == (ReplyType.ANSWER, "f0")


def test_close_second_clarifies_with_candidates():
    d = decide(result([0.8, 0.78, 0.7, 0.1]), T)
    assert d.type is ReplyType.CLARIFY
    assert [c["faq_id"] for c in d.candidates] == ["f0", "f1", "f2"]


def test_low_coverage_does_not_answer():
    d = decide(result([0.9, 0.1], coverage=0.2), T)
    assert d.type is not ReplyType.ANSWER


def test_low_score_cannot_answer():
    d = decide(result([0.2, 0.1]), T)
    assert d.type is ReplyType.CANNOT_ANSWER
    assert d.department == "d"


def test_out_of_scope_classifier_vetoes_answer():
    d = apply_classifier(decide(result([0.8, 0.3]), T), {"name": "out_of_scope", "confidence": 0.9}, "out_of_scope", 0.6)
    assert (d.type, d.faq_id, d.reason) == (ReplyType.CANNOT_ANSWER, None, "out_of_scope")


def test_weak_out_of_scope_prediction_does_not_veto():
    d = apply_classifier(decide(result([0.8, 0.3]), T), {"name": "out_of_scope", "confidence": 0.4}, "out_of_scope", 0.6)
    assert d.type is ReplyType.ANSWER


def test_nothing_meaningful_is_unclear():
    d = decide(SearchResult([], [], 0, 0), T, meaningful=False)
    assert d.type is ReplyType.UNCLEAR


def test_out_of_scope_probability_lowers_confidence():
    sure = decide(result([0.8, 0.3]), T, out_of_scope=0.0)
    doubtful = decide(result([0.8, 0.3]), T, out_of_scope=0.5)
    off_topic = decide(result([0.8, 0.3]), T, out_of_scope=0.75)
    assert sure.confidence == 0.8 and doubtful.confidence == 0.4 and off_topic.confidence == 0.2
    assert (sure.type, doubtful.type, off_topic.type) == (ReplyType.ANSWER, ReplyType.CLARIFY, ReplyType.CANNOT_ANSWER)
    assert off_topic.signals["out_of_scope"] == 0.75


def test_out_of_scope_probability_is_clamped():
    assert decide(result([0.8, 0.3]), T, out_of_scope=1.7).type is ReplyType.CANNOT_ANSWER
    assert decide(result([0.8, 0.3]), T, out_of_scope=-1).confidence == 0.8
