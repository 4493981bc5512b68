"""Decide what to do with a question: answer, clarify, or say honestly we cannot answer.

The thresholds are configuration (``config.yml``, component ``FaqRetriever``); `bot
calibrate` recommends values from a labelled dev set. Their defaults are declared here
once (``Thresholds``, ``WORDS_FIRST``, ``OUT_OF_SCOPE_VETO``, ``SMALLTALK_CONFIDENCE``);
the component's ``get_default_config`` and the CLI read them. See docs/answering.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from bot.contract import ReplyType
from bot.knowledge.index import SearchResult

__all__ = ["ReplyType", "Thresholds", "Decision", "decide"]


@dataclass(frozen=True)
class Thresholds:
    """When to answer, clarify or give up. See docs/answering.md."""

    answer: float = 0.16  # confidence at or above which one FAQ is answered
    clarify: float = 0.14  # confidence at or above which candidates are offered
    margin: float = 0.04  # top-1 must lead top-2 by this much to answer directly
    min_coverage: float = 0.3  # share (by IDF) of the question's words the FAQ must know
    candidate_ratio: float = 0.75  # clarify candidates must score ≥ this × top score
    max_candidates: int = 3

    @classmethod
    def from_config(cls, config: dict) -> "Thresholds":
        return cls(
            answer=float(config.get("answer_threshold", cls.answer)),
            clarify=float(config.get("clarify_threshold", cls.clarify)),
            margin=float(config.get("margin_threshold", cls.margin)),
            min_coverage=float(config.get("min_coverage", cls.min_coverage)),
            candidate_ratio=float(config.get("candidate_ratio", cls.candidate_ratio)),
            max_candidates=int(config.get("max_candidates", cls.max_candidates)),
        )


# The defaults of the thresholds that are not in ``Thresholds``:
# The words-first gate (``words_first_*`` in config.yml): the stricter answer threshold,
# margin and coverage at which a question's words alone answer it, so it is not encoded.
WORDS_FIRST = Thresholds(answer=0.18, clarify=0.18, margin=0.04, min_coverage=0.5)
# A knowledge base where fewer than FEW_PARAPHRASES_SHARE of the FAQs have a paraphrase
# (a city's published FAQ imported as it is: one question per FAQ) scores on another
# scale: related FAQs are close, and one wording meets one question. It gets its own
# thresholds (``few_paraphrases_*`` in config.yml), calibrated on eval/dev-kosodate.csv
# against the imported 子育て FAQ (661 FAQs, no paraphrases) with
#   bot calibrate --min-precision 0.95 --min-recall 0.9 --max-wrong 0.02
# (docs/answering.md). Adding paraphrases through the review moves a knowledge base to
# the main thresholds once half of its FAQs have one.
FEW_PARAPHRASES_SHARE = 0.5
FEW_PARAPHRASES = Thresholds(answer=0.12, clarify=0.07, margin=0.02, min_coverage=0.6)
# Classifier confidence at which ``out_of_scope`` vetoes an FAQ answer or clarification.
OUT_OF_SCOPE_VETO = 0.8
# Classifier confidence needed to treat a message as small talk.
SMALLTALK_CONFIDENCE = 0.5


def strictest(a: Thresholds, b: Thresholds) -> Thresholds:
    """Each threshold the stricter of ``a``'s and ``b``'s (the words-first gate must not
    answer what the thresholds in use would not)."""
    return Thresholds(answer=max(a.answer, b.answer), clarify=max(a.clarify, b.clarify), margin=max(a.margin, b.margin),
                      min_coverage=max(a.min_coverage, b.min_coverage), candidate_ratio=b.candidate_ratio,
                      max_candidates=b.max_candidates)


@dataclass
class Decision:
    """The outcome for one message, as carried in the NLU parse data."""

    type: ReplyType
    faq_id: str | None
    confidence: float
    candidates: list[dict] = field(default_factory=list)
    category: str | None = None
    department: str | None = None
    reason: str = ""
    signals: dict = field(default_factory=dict)
    ranking: list[dict] = field(default_factory=list)  # every FAQ searched for, best first (`bot rank --top`)

    def as_dict(self) -> dict:
        return {
            "signals": self.signals,
            "ranking": self.ranking,
            "type": self.type.value,
            "faq_id": self.faq_id,
            "confidence": self.confidence,
            "candidates": self.candidates,
            "category": self.category,
            "department": self.department,
            "reason": self.reason,
        }


def confidence_of(result: SearchResult, out_of_scope: float = 0.0) -> float:
    """How sure we are that the top FAQ answers the question, in [0, 1].

    The top score times the share of the question's meaning (IDF-weighted content
    words, or its reading for kana-only input) that the FAQ covers, so that a question
    sharing one common word with an FAQ (「市長の好きな食べ物」 vs 市長への手紙) stays low;
    times the probability that the question is in scope at all, 1 − P(out_of_scope) from
    the intent classifier trained on off-topic and personal-case questions. Retrieval
    sees which FAQ fits best, the classifier sees what off-topic questions look like:
    together they separate answerable from unanswerable questions better than either
    (ROC AUC on the dev set: 0.970 for retrieval alone, 0.982 combined).
    """
    if not result.candidates:
        return 0.0
    top = result.candidates[0].score
    in_scope = 1.0 - max(0.0, min(1.0, out_of_scope))
    return round(max(0.0, min(1.0, top * result.coverage * in_scope)), 4)


def decide(result: SearchResult, thresholds: Thresholds, meaningful: bool = True, out_of_scope: float = 0.0) -> Decision:
    """Answer, clarify or cannot-answer for one search result.

    ``out_of_scope`` is the intent classifier's probability that the question is
    off-topic or about the resident's own case (0 when unknown).
    """
    decision = _decide(result, thresholds, meaningful, out_of_scope)
    decision.ranking = [{"faq_id": c.faq_id, "score": c.score} for c in result.candidates]
    decision.signals = {
        "out_of_scope": round(float(out_of_scope), 4),
        "coverage": result.coverage,
        "known_terms": result.known_terms,
        "category": result.category,
        "department": result.department,
        "terms": len(result.query_terms),
    }
    if not result.words:
        decision.signals["meaning_only"] = True
    return decision


def apply_classifier(decision: Decision, intent: dict | None, out_of_scope_intent: str, threshold: float) -> Decision:
    """Let a confident ``out_of_scope`` prediction veto an FAQ answer or clarification.

    Off-topic and personal-case questions (「私の給付金はいつ振り込まれますか」) share words
    with FAQs; the classifier trained on such questions catches what retrieval cannot.
    """
    name = (intent or {}).get("name")
    conf = float((intent or {}).get("confidence") or 0.0)
    decision.signals["intent"] = name
    decision.signals["intent_confidence"] = round(conf, 4)
    if name == out_of_scope_intent and conf >= threshold and decision.type in (ReplyType.ANSWER, ReplyType.CLARIFY):
        decision.type = ReplyType.CANNOT_ANSWER
        decision.faq_id = None
        decision.reason = "out_of_scope"
    return decision


def apply_personal_case(decision: Decision, personal: bool, result: SearchResult) -> Decision:
    """A question about the resident's own case gets no FAQ answer, but the department.

    The department is the top candidate's: 「私の児童手当がまだ…」 is best asked at the
    department that handles 児童手当.
    """
    decision.signals["personal_case"] = personal
    if personal and decision.type in (ReplyType.ANSWER, ReplyType.CLARIFY, ReplyType.CANNOT_ANSWER):
        decision.type = ReplyType.CANNOT_ANSWER
        decision.faq_id = None
        decision.reason = "personal_case"
        if result.candidates and result.candidates[0].score >= 0.25:
            decision.department = result.candidates[0].department
            decision.category = result.candidates[0].category
    return decision


def _decide(result: SearchResult, thresholds: Thresholds, meaningful: bool, out_of_scope: float) -> Decision:
    candidates = [
        {"faq_id": c.faq_id, "question": c.question, "score": c.score} for c in result.candidates
    ]
    if not meaningful or not result.query_terms and not result.candidates:
        return Decision(ReplyType.UNCLEAR if not meaningful else ReplyType.CANNOT_ANSWER, None, 0.0,
                        candidates[: thresholds.max_candidates], reason="no_content" if not meaningful else "no_match")
    conf = confidence_of(result, out_of_scope)
    top = result.candidates[0] if result.candidates else None
    second = result.candidates[1].score if len(result.candidates) > 1 else 0.0
    common = dict(category=result.category, department=result.department)
    if top is not None and conf >= thresholds.answer and result.coverage >= thresholds.min_coverage:
        if top.score - second >= thresholds.margin:
            return Decision(ReplyType.ANSWER, top.faq_id, conf, candidates[: thresholds.max_candidates],
                            category=top.category, department=top.department, reason="confident")
    if top is not None and conf >= thresholds.clarify:
        floor = top.score * thresholds.candidate_ratio
        offered = [c for c in candidates if c["score"] >= floor][: thresholds.max_candidates]
        if len(offered) < 2:
            offered = candidates[:2]
        if len(offered) >= 2:
            return Decision(ReplyType.CLARIFY, None, conf, offered, reason="ambiguous", **common)
    return Decision(ReplyType.CANNOT_ANSWER, None, conf, candidates[: thresholds.max_candidates],
                    reason="low_confidence", **common)
