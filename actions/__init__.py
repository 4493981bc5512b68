"""rasa-sdk actions: thin plumbing between Rasa and the pure logic in ``bot/``.

rasa-sdk registers every action in every module of this package.
"""
