"""A Rasa tokenizer for Japanese, backed by SudachiPy (dictionary: sudachidict-core)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.errors import ConfigError
from bot.nlp.japanese import SPLIT_MODES, JapaneseAnalyzer


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class SudachiTokenizer(Tokenizer):
    """Splits Japanese text into words with SudachiPy.

    Token text and offsets are the original text exactly; the token lemma is Sudachi's
    normalised form (引越し → 引っ越し, ﾏｲﾅﾝﾊﾞｰ → マイナンバー, kana-only words by
    reading), which the CountVectorsFeaturizer uses by default (``use_lemma``).
    """

    @staticmethod
    def supported_languages() -> Optional[List[Text]]:
        return ["ja"]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sudachipy", "sudachidict_core"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Sudachi split mode: "A" short units (住民/票), "B" middle, "C" long (住民票).
            "split_mode": "A",
            # Sudachi system dictionary; "core" is the sudachidict-core package.
            "dictionary": "core",
            # Parts of speech (Sudachi's first POS level) to drop, e.g. ["助詞", "助動詞"].
            # Punctuation carries no meaning for intents; particles are kept by default
            # because small talk (「人と話したい」) relies on them.
            "drop_pos": ["補助記号"],
            # Use Sudachi's normalised form as the token lemma (spelling variants meet).
            "use_normalized_form": True,
            # Standard Rasa tokenizer options.
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        mode = str(config.get("split_mode", "A")).upper()
        if mode not in SPLIT_MODES:
            raise ConfigError(
                f"SudachiTokenizer: split_mode must be one of A, B, C; got {config.get('split_mode')!r}",
                hint="set split_mode: A in config.yml",
            )
        drop = config.get("drop_pos") or []
        if not isinstance(drop, list):
            raise ConfigError(
                f"SudachiTokenizer: drop_pos must be a list of parts of speech; got {drop!r}",
                hint='e.g. drop_pos: ["補助記号", "助詞"]',
            )
        self._drop = frozenset(drop)
        self._use_normalized = bool(config.get("use_normalized_form", True))
        self._analyzer = JapaneseAnalyzer(split_mode=mode, dict_name=str(config.get("dictionary", "core")))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SudachiTokenizer":
        return cls({**cls.get_default_config(), **config})

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text = message.get(attribute) or ""
        morphemes = self._analyzer.morphemes(text)
        kept = [m for m in morphemes if m.pos not in self._drop]
        # A message made only of dropped parts of speech (「😀」「？？」) keeps them:
        # Rasa's featurizers and classifiers fail on a message with no tokens at all.
        tokens = [
            Token(m.surface, m.start, end=m.end, lemma=JapaneseAnalyzer.term(m) if self._use_normalized else m.surface,
                  data={"pos": m.pos})
            for m in (kept or morphemes)
        ]
        return self._apply_token_pattern(tokens)
