"""Languages: the supported languages, detecting a resident's language, and the catalogue
of resident-facing texts per language.

Pure code (no Rasa): the actions and channels call it.
"""
