"""The retriever's threshold defaults are the ones declared in bot/knowledge/decision.py."""

from bot.components.faq_retriever import FaqRetriever, _words_first_thresholds
from bot.knowledge.decision import OUT_OF_SCOPE_VETO, SMALLTALK_CONFIDENCE, WORDS_FIRST, Thresholds


def test_threshold_defaults_come_from_the_decision_core():
    defaults = FaqRetriever.get_default_config()
    assert Thresholds.from_config(defaults) == Thresholds()
    assert _words_first_thresholds(defaults) == WORDS_FIRST
    assert defaults["out_of_scope_threshold"] == OUT_OF_SCOPE_VETO
    assert defaults["smalltalk_threshold"] == SMALLTALK_CONFIDENCE


def test_the_declared_defaults_are_the_calibrated_values():
    # config.yml repeats these (calibrated 2026-12-07); a change here is a behaviour change.
    assert Thresholds() == Thresholds(answer=0.16, clarify=0.14, margin=0.04, min_coverage=0.3,
                                      candidate_ratio=0.75, max_candidates=3)
    assert (WORDS_FIRST.answer, WORDS_FIRST.margin, WORDS_FIRST.min_coverage) == (0.18, 0.04, 0.5)
    assert (OUT_OF_SCOPE_VETO, SMALLTALK_CONFIDENCE) == (0.8, 0.5)


def test_the_few_paraphrases_defaults_come_from_the_decision_core():
    from bot.components.faq_retriever import _few_paraphrases_thresholds
    from bot.knowledge.decision import FEW_PARAPHRASES, FEW_PARAPHRASES_SHARE

    defaults = FaqRetriever.get_default_config()
    assert _few_paraphrases_thresholds(defaults, Thresholds()) == FEW_PARAPHRASES
    assert defaults["few_paraphrases_share"] == FEW_PARAPHRASES_SHARE == 0.5
    assert (FEW_PARAPHRASES.answer, FEW_PARAPHRASES.clarify, FEW_PARAPHRASES.margin,
            FEW_PARAPHRASES.min_coverage) == (0.12, 0.07, 0.02, 0.6)
