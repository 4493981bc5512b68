"""The catalogue of resident-facing texts: one YAML file per language in ``messages/``.

``messages/ja.yml`` defines every key; the other files translate them and keep the same
``{placeholders}`` (tests/i18n/test_catalogue.py checks both). A key missing in a
language falls back to Japanese, so a new text never shows a key to a resident.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass
from pathlib import Path

from bot.errors import ConfigError
from bot.i18n.languages import JA, LANGUAGES

MESSAGES_DIR = Path(__file__).resolve().parent / "messages"


@dataclass(frozen=True)
class Catalogue:
    """Texts by language and key."""

    messages: dict[str, dict[str, str]]

    @classmethod
    def load(cls, directory: Path = MESSAGES_DIR) -> "Catalogue":
        from ruamel.yaml import YAML

        messages: dict[str, dict[str, str]] = {}
        for path in sorted(directory.glob("*.yml")):
            data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
            language = data.get("language")
            if language != path.stem or language not in LANGUAGES:
                raise ConfigError(f"{path}: language: must be the file's name and one of {', '.join(LANGUAGES)}; got {language!r}",
                                  hint=f"write language: {path.stem}")
            messages[language] = {str(k): str(v) for k, v in (data.get("messages") or {}).items()}
        if JA not in messages:
            raise ConfigError(f"{directory}/ja.yml is missing", hint="the Japanese catalogue defines every key")
        return cls(messages)

    def text(self, language: str | None, key: str, **values: object) -> str:
        """The text of ``key`` in ``language`` (Japanese when missing), placeholders filled."""
        template = self.messages.get(language or JA, {}).get(key)
        if template is None:
            template = self.messages[JA].get(key)
        if template is None:
            raise KeyError(f"no text {key!r} in the catalogue (bot/i18n/messages/ja.yml)")
        return template.format(**values) if values else template

    def section(self, language: str | None, prefix: str) -> dict[str, str]:
        """Every text whose key starts with ``prefix`` (without it), Japanese filling the gaps."""
        out = {k[len(prefix):]: v for k, v in self.messages[JA].items() if k.startswith(prefix)}
        out.update({k[len(prefix):]: v for k, v in self.messages.get(language or JA, {}).items() if k.startswith(prefix)})
        return out


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@functools.lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The packaged catalogue, loaded on first use."""
    return Catalogue.load()


def text(language: str | None, key: str, **values: object) -> str:
    return catalogue().text(language, key, **values)
