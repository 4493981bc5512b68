"""Integration tests use the shared trained model and live servers from tests/conftest.py."""

from tests.conftest import free_port  # noqa: F401 - kept for imports of older tests
