"""The FAQ knowledge base: loading, validating, indexing and searching.

A pure core: nothing here imports Rasa, a channel or the console.
"""
