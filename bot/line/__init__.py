"""LINE Messaging API: webhook events, signatures, message building, the API client, rich menu.

Pure modules (``signature``, ``events``, ``messages``, ``menus``, ``credentials``) import
neither Rasa nor aiohttp; ``client`` and ``richmenu`` talk to the API with aiohttp. The
Rasa input channel that uses them is ``bot/channels/line.py``. See docs/line.md.

The official line-bot-sdk v3 needs pydantic 2 and aiohttp ≥ 3.10, which Rasa 3.6's pins
exclude, so this package talks to the documented HTTP API directly.
"""
