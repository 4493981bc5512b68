"""``python -m bot.console``: serve the staff console (started by ``bot run``).

Settings come from the environment (``MADOGUCHI_VAR_DIR``, ``MADOGUCHI_CONSOLE_PORT``,
``MADOGUCHI_HOST``, ``MADOGUCHI_RASA_PORT``, ``MADOGUCHI_CLAIM_TIMEOUT``,
``MADOGUCHI_NOTIFY_WEBHOOK_URL``, ``MADOGUCHI_CONSOLE_SESSION_MINUTES``).
"""

from __future__ import annotations

import logging
import sys


def main() -> int:
    from aiohttp import web

    from bot.console import keys
    from bot.console.app import create_app
    from bot.errors import MadoguchiError
    from bot.settings import Settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s console %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        app = create_app(settings)
    except MadoguchiError as exc:
        print(f"staff console: {exc}", file=sys.stderr)
        return 1
    url = f"http://{settings.host}:{settings.console_port}/"
    if not app[keys.ACCOUNTS].list():
        print("staff console: no staff account yet; create one with:  bot staff add USERNAME --name 田中 --role admin",
              file=sys.stderr)
    try:
        web.run_app(app, host=settings.host, port=settings.console_port, print=lambda *_: print(f"staff console: {url}", flush=True),
                    shutdown_timeout=3, access_log=None, handle_signals=True)
    except MadoguchiError as exc:  # e.g. the review pages could not open their database
        print(f"staff console: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"staff console: cannot listen on {settings.host}:{settings.console_port} ({exc.strerror}); "
              "choose another port with MADOGUCHI_CONSOLE_PORT", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
