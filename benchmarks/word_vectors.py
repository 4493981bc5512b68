"""Do GiNZA's word vectors earn their place? Retrieval with and without them.

Published municipal FAQ data has one question per FAQ, no paraphrases. This simulates
it with the project's own knowledge base stripped to the canonical questions, and also
measures the full knowledge base; the questions are the in-scope ones of eval/dev.csv
(written independently of the FAQ texts). Pure index, no Rasa: top-1, recall@3, and the
ROC AUC with which the top score × coverage tells in-scope from out-of-scope questions.

    .venv/bin/python benchmarks/word_vectors.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.eval.dataset import read_labelled  # noqa: E402
from bot.knowledge.decision import confidence_of  # noqa: E402
from bot.knowledge.index import FaqIndex, IndexDocument  # noqa: E402
from bot.knowledge.loader import load_valid_knowledge  # noqa: E402
from bot.nlp.japanese import JapaneseAnalyzer  # noqa: E402
from bot.nlp.word_vectors import WordVectors  # noqa: E402


def auc(positives: list[float], negatives: list[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives)) if positives and negatives else 0.0


def measure(index: FaqIndex, questions) -> dict:
    top1 = r3 = 0
    ins, outs = [], []
    n = 0
    for q in questions:
        r = index.search(q.question)
        ranking = [c.faq_id for c in r.candidates]
        (ins if q.in_scope else outs).append(confidence_of(r))
        if q.in_scope:
            n += 1
            top1 += ranking[:1] == [q.expected]
            r3 += q.expected in ranking[:3]
    return {"top1": top1 / n, "recall@3": r3 / n, "auc": auc(ins, outs)}


def main() -> None:
    kb = load_valid_knowledge(ROOT / "knowledge")
    questions = read_labelled(ROOT / "eval" / "dev.csv")
    analyzer = JapaneseAnalyzer("A")
    t = time.monotonic()
    vectors = WordVectors.from_package("ja_ginza")
    print(f"ja_ginza vector table: {len(vectors)} words, read in {time.monotonic() - t:.1f} s (training time only)")
    for label, single in (("one question per FAQ (like published municipal data)", True),
                          ("full knowledge base (question + paraphrases)", False)):
        docs = [IndexDocument(f.id, f.category, f.department, f.question,
                              (f.question,) if single else tuple(f.utterances), f.answer) for f in kb.faqs]
        print(f"\n{label}: {len(docs)} FAQs, {len(questions)} dev questions")
        for name, vec in (("words + readings", None), ("+ word vectors", vectors)):
            m = measure(FaqIndex.build(docs, analyzer, vectors=vec), questions)
            print(f"  {name:18s} top-1 {m['top1']:.3f}   recall@3 {m['recall@3']:.3f}   AUC in/out of scope {m['auc']:.3f}")


if __name__ == "__main__":
    main()
