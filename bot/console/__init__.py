"""The staff console: log-in, inbox of hand-offs and tickets, live conversations.

An aiohttp application (``python -m bot.console``) started by ``bot run`` next to Rasa
and the action server. It reads and changes hand-offs in the embedded database
(``bot/handoff/store.py``) and reaches residents through Rasa's HTTP API (the delivery
seam, docs/architecture.md). See docs/console.md.
"""
