"""The old name of ``bot.runtime.runner`` (the same module, not a copy), for a while.

bot/console, bot/review and bot/cluster still import ``bot.runner``; they are being
changed on other branches at the same time, so phase 1 of issue 13 does not touch them.
Once those branches have merged, their imports move to ``bot.runtime.runner`` and this
module goes. It replaces itself in ``sys.modules``, so both names are one module
(a test that patches ``bot.runner.X`` patches what the code uses).
"""

import sys

from bot.runtime import runner as _module

sys.modules[__name__] = _module
