"""Parse questions with a trained Rasa model: exactly the NLU path of the live assistant."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from bot.channels.common import InputRejected, prepare_text
from bot.contract import PARSE_KEY
from bot.errors import MadoguchiError


class ModelParser:
    """Loads a trained model once and parses texts as the REST channel would."""

    def __init__(self, model_path: Path) -> None:
        if not model_path.exists():
            raise MadoguchiError(f"no trained model at {model_path}", hint="run `bot train` first")
        os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        logging.getLogger("rasa").setLevel(logging.WARNING)
        from rasa.core.agent import Agent

        from bot import rasa_speedups
        from rasa.utils.log_utils import configure_structlog

        configure_structlog(logging.WARNING)  # Rasa's debug lines would mix into our stdout

        # An entry point to the model like the Rasa server: the same speed-ups (they keep
        # Rasa's results), so `bot eval` measures the code that serves residents.
        rasa_speedups.install()
        self._loop = asyncio.new_event_loop()
        self._agent = Agent.load(str(model_path))

    def _retrievers(self) -> list:
        from bot.components.faq_retriever import FaqRetriever

        runner = self._agent.processor.graph_runner
        return [c for node in getattr(runner, "_instantiated_nodes", {}).values()
                if isinstance(c := getattr(node, "_component", None), FaqRetriever)]

    def rank_at_least(self, k: int) -> None:
        """Make the FAQ retriever rank at least ``k`` FAQs per question."""
        for component in self._retrievers():
            if int(component._config["ranking_length"]) < k:
                component.set_ranking_length(k)

    def set_words_first(self, enabled: bool) -> None:
        """False: every question gets the full search with the sentence encoder (what
        `bot calibrate` needs: the full scores of every question)."""
        for component in self._retrievers():
            component.set_words_first(enabled)

    def words_only(self, text: str):
        """The retriever's search of ``text`` by its words alone (a SearchResult; None
        when the text is rejected or has nothing to search)."""
        from bot.components.query_vectors import searchable_text
        from bot.nlp.japanese import has_meaningful_text

        try:
            cleaned = prepare_text(text)
        except InputRejected:
            return None
        searchable = searchable_text(cleaned)
        for component in self._retrievers():
            if component._index is not None and has_meaningful_text(searchable):
                return component._index.search(searchable, k=int(component._config["ranking_length"]), meaning=False)
        return None

    def parse(self, text: str) -> dict:
        """Rasa parse data, with the FAQ decision under ``madoguchi``."""
        try:
            cleaned = prepare_text(text)
        except InputRejected as rejected:
            return {"text": text, "intent": {"name": None, "confidence": 0.0},
                    PARSE_KEY: {"type": "unclear", "faq_id": None, "confidence": 0.0, "candidates": [], "reason": rejected.code}}
        return self._loop.run_until_complete(self._agent.parse_message(cleaned))

    def close(self) -> None:
        self._loop.close()


def ranking_of(parse: dict) -> list[dict]:
    """The FAQs ranked for a parsed question, best first (``[{"faq_id", "score"}]``)."""
    md = parse.get(PARSE_KEY) or {}
    return md.get("ranking") or md.get("candidates") or []


def rank_line(text: str, parse: dict, top: int = 3) -> dict:
    """One `bot rank` JSON line."""
    md = parse.get(PARSE_KEY) or {}
    intent = (parse.get("intent") or {}).get("name")
    kind = md.get("type") if intent == "faq" or not intent else "smalltalk"
    return {
        "question": text,
        "type": kind,
        "intent": intent,
        "faq_id": md.get("faq_id"),
        "confidence": md.get("confidence"),
        "candidates": [{"faq_id": c["faq_id"], "score": c["score"]} for c in ranking_of(parse)[:top]],
    }
