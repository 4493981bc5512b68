"""Backends of the sentence-encoder seam (bot/nlp/encoder.py), one per module."""
