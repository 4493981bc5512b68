"""The old name of ``bot.runtime.rasa_api`` (the same module, not a copy), for a while.

bot/console, bot/review and bot/cluster still import ``bot.rasa_api``; they are being
changed on other branches at the same time, so phase 1 of issue 13 does not touch them.
Once those branches have merged, their imports move to ``bot.runtime.rasa_api`` and this
module goes. It replaces itself in ``sys.modules``, so both names are one module
(a test that patches ``bot.rasa_api.X`` patches what the code uses).
"""

import sys

from bot.runtime import rasa_api as _module

sys.modules[__name__] = _module
