"""The old name of ``bot.rasa_speedups.tracker_store`` (the same module, not a copy).

``endpoints.yml`` used to name the tracker store ``bot.tracker_store.SQLiteTrackerStore``.
A city's own endpoints.yml written before the move may still say so, and Rasa would
then refuse to start after an upgrade; this keeps that name working. New files name
``bot.rasa_speedups.tracker_store.SQLiteTrackerStore``. The module replaces itself in
``sys.modules``, so both names are one module (patching one patches the other).
"""

import sys

from bot.rasa_speedups import tracker_store as _tracker_store

sys.modules[__name__] = _tracker_store
