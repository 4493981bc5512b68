"""Errors that tell the user what was expected and what to do."""

from __future__ import annotations


class MadoguchiError(Exception):
    """An error with a message for people and an optional hint on how to fix it."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  ヒント / hint: {self.hint}"
        return self.message


class ConfigError(MadoguchiError):
    """A setting has a value that cannot work."""


class KnowledgeError(MadoguchiError):
    """The knowledge base cannot be loaded or is invalid."""
