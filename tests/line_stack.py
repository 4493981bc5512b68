"""The real stack with the LINE channel on, talking to the fake LINE platform.

Shared by the LINE webhook tests and the end-to-end masking test; each starts its own
platform and stack (module-scoped fixtures that ``yield from`` these generators).
"""

from __future__ import annotations

import dataclasses
import json
import os
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Iterator, TypeVar

import pytest

from bot.runtime.credentials import write_effective_credentials
from bot.runtime.runner import Stack
from bot.settings import Settings
from tests.conftest import free_port
from tests.fakes.line_platform import FakeLinePlatform

S = TypeVar("S", bound=Stack)

# The LINE channel's block of credentials.yml, pointed at the fake platform (@BASE@).
LINE_CHANNEL = """\
bot.channels.line.LineInput:
  channel_secret: ${LINE_CHANNEL_SECRET}
  access_token: ${LINE_CHANNEL_ACCESS_TOKEN}
  api_base_url: @BASE@
  data_api_base_url: @BASE@
  backoff_seconds: 0.05
  max_backoff_seconds: 2
"""


def serve_platform(secret: str, token: str) -> Iterator[FakeLinePlatform]:
    """The fake LINE platform on a free loopback port, stopped when the fixture ends."""
    platform = FakeLinePlatform(channel_secret=secret, access_token=token)
    platform.start_in_thread()
    yield platform
    platform.stop()


def run_stack(platform: FakeLinePlatform, base: Settings, model: Path, work: Path, channels: tuple[str, ...],
              stack_class: type[S] = Stack) -> Iterator[S]:
    """``rasa run``, the action server and the console on free ports with ``work/var``, stopped
    when the fixture ends.

    The credentials list ``channels`` (input channel classes without settings), then
    :data:`LINE_CHANNEL` with the platform's URL, secret and token. As `bot run` does
    (docs/line.md), Rasa gets only the configured channels: here all of them.
    """
    settings = dataclasses.replace(base, var_dir=work / "var", rasa_port=free_port(),
                                   actions_port=free_port(), console_port=free_port())
    source = work / "credentials.yml"
    credentials = "".join(f"{channel}:\n" for channel in channels) + LINE_CHANNEL.replace("@BASE@", platform.base_url)
    source.write_text(credentials, encoding="utf-8")
    target = settings.var_dir / "credentials.test.yml"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LINE_CHANNEL_SECRET", platform.channel_secret)
        mp.setenv("LINE_CHANNEL_ACCESS_TOKEN", platform.access_token)
        effective = write_effective_credentials(source, target, os.environ)
        assert effective.skipped == {}
        stack = stack_class(settings, model, log_dir=settings.var_dir / "logs", credentials=target,
                            choose_port=free_port)
        stack.start(timeout=240)  # the Rasa process copies the environment now
    yield stack
    stack.stop()


def tracker(stack: Stack, sender: str) -> dict:
    """The conversation's tracker with all its events, from Rasa's HTTP API."""
    query = urllib.parse.urlencode({"token": stack.settings.api_token(), "include_events": "ALL"})
    url = f"{stack.rasa_url}/conversations/{urllib.parse.quote(sender, safe=':')}/tracker?{query}"
    with urllib.request.urlopen(url, timeout=30) as resp:  # loopback
        return json.loads(resp.read().decode("utf-8"))
