"""``rasa run``, with the API token read from a file instead of the command line.

Rasa 3.6 takes the token of its HTTP API only as ``--auth-token`` (there is no variable
or file for it), and a command line is readable by every local user (``ps``,
``/proc/<pid>/cmdline``). The token opens every conversation and ``PUT /model``. So
``bot run`` starts ``python -m bot.rasa_server run --auth-token-file var/rasa-api-token …``:
this reads the token from the file (mode 0600, refused when others may read it) and
hands it to Rasa's own command-line parser in this process; the process's visible
command line keeps only the file's name.

Before Rasa starts, this entry point also installs what the project changes in Rasa
(``install_rasa_changes``): the speed-ups (``bot.rasa_speedups``), the pause guard, the
action-server fallback, database errors passed on as the polite error reply, and
``GET /health``. They used to be installed by the REST channel when Rasa built it,
so a configuration without that channel silently ran without any of them.

Example:
    python -m bot.rasa_server run --enable-api --auth-token-file var/rasa-api-token --model models/x.tar.gz
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from bot.errors import ConfigError

TOKEN_FILE_OPTION = "--auth-token-file"


def read_token_file(path: Path) -> str:
    """The token in ``path``; :class:`ConfigError` when missing, empty or readable by others."""
    try:
        mode = path.stat().st_mode
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the Rasa API token file {path}: {exc.strerror}",
                          hint="run `bot run` once to create it, or check the path") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"the Rasa API token file {path} can be read by other users (mode {stat.S_IMODE(mode):o})",
                          hint=f"chmod 600 {path}")
    if not token:
        raise ConfigError(f"the Rasa API token file {path} is empty", hint="delete it; `bot run` creates a new one")
    return token


def rasa_argv(argv: list[str]) -> list[str]:
    """Rasa's arguments: ``--auth-token-file FILE`` replaced by the token it holds."""
    if any(a == "--auth-token" or a.startswith("--auth-token=") for a in argv):
        raise ConfigError("--auth-token would put the token on the command line",
                          hint=f"use {TOKEN_FILE_OPTION} FILE (a file of mode 0600 holding the token)")
    out: list[str] = []
    token_file: str | None = None
    it = iter(argv)
    for arg in it:
        if arg == TOKEN_FILE_OPTION:
            token_file = next(it, None)
            if token_file is None:
                raise ConfigError(f"{TOKEN_FILE_OPTION} needs a file name")
        elif arg.startswith(TOKEN_FILE_OPTION + "="):
            token_file = arg.split("=", 1)[1]
        else:
            out.append(arg)
    if token_file is not None:
        out.append(f"--auth-token={read_token_file(Path(token_file))}")  # "=": a token may start with "-"
    return out


def install_rasa_changes() -> None:
    """Install, in this process, everything the project changes in Rasa (idempotent).

    Raises:
        ConfigError: the installed Rasa is not the pinned version (bot.rasa_speedups).
    """
    from bot import action_fallback, health, rasa_speedups
    from bot.handoff import pause_guard
    from bot.rasa_speedups import tracker_store
    from bot.settings import Settings

    rasa_speedups.install()
    pause_guard.install()  # not a speed fix: residents cannot unpause a claimed conversation
    # Not a speed fix either: a reply (and no lost message) when the action server is down.
    action_fallback.install(Settings.from_env().action_retry_seconds)
    # Nor these: a database error becomes the polite error reply instead of a lost message
    # (bot/rasa_speedups/tracker_store.py), and GET /health tells the state of what Rasa
    # depends on (bot/health.py).
    tracker_store.raise_store_errors()
    health.install()


def main(argv: list[str] | None = None) -> None:
    """Run Rasa's command line with the token from the file (in this process)."""
    try:
        args = rasa_argv(list(sys.argv[1:] if argv is None else argv))
        install_rasa_changes()
    except ConfigError as exc:
        sys.exit(f"bot.rasa_server: {exc}")
    # Rasa parses sys.argv itself; changing the list does not change /proc/<pid>/cmdline.
    sys.argv = ["rasa", *args]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
