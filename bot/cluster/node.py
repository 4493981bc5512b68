"""One node of a cluster: what one host runs (``python -m bot.cluster.node MODEL``).

The action server, the Rasa server and the staff console of ``bot run``, supervised the
same way (a crashed server is restarted), with the settings from the environment
(``MADOGUCHI_DATABASE_URL``, ``MADOGUCHI_REDIS_URL``, ports, ``MADOGUCHI_VAR_DIR``), and
a model given on the command line so that nodes never train.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

from bot.errors import MadoguchiError


def main(argv: list[str]) -> int:
    from bot.runtime.runner import Stack
    from bot.settings import Settings

    if len(argv) != 1 or not Path(argv[0]).is_file():
        print("usage: python -m bot.cluster.node MODEL.tar.gz (a model trained with `bot train`)", file=sys.stderr)
        return 2

    def interrupt(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    settings = Settings.from_env()
    stack = Stack(settings, Path(argv[0]), log_dir=settings.var_dir / "logs")
    try:
        stack.start(timeout=300)
        print(f"node ready: Rasa {stack.rasa_url}, console {stack.console_url}", flush=True)
        stack.supervise(report=lambda line: print(line, flush=True))
    except KeyboardInterrupt:
        stack.stop()
    except MadoguchiError as exc:
        print(f"node stopped: {exc}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
