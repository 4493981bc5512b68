"""Madoguchi: a Japanese resident-inquiry assistant built on Rasa."""

__version__ = "0.1.0"
