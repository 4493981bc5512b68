"""Fake external services for tests (webhooks, LINE platform …)."""
