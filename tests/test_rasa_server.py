"""The Rasa API token never appears on a command line (bot.rasa_server, bot.runtime.runner)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.rasa_server import rasa_argv, read_token_file


def token_file(tmp_path: Path, text: str = "-tok3n\n", mode: int = 0o600) -> Path:
    path = tmp_path / "rasa-api-token"
    path.write_text(text)
    path.chmod(mode)
    return path


def test_the_file_becomes_rasas_own_option(tmp_path):
    path = token_file(tmp_path)
    assert rasa_argv(["run", "--enable-api", "--auth-token-file", str(path), "--port", "5"]) == \
        ["run", "--enable-api", "--port", "5", "--auth-token=-tok3n"]
    assert rasa_argv(["run", f"--auth-token-file={path}"]) == ["run", "--auth-token=-tok3n"]
    assert rasa_argv(["run"]) == ["run"]


@pytest.mark.parametrize("argv", [["run", "--auth-token", "x"], ["run", "--auth-token=x"]])
def test_a_token_on_the_command_line_is_refused(argv):
    with pytest.raises(ConfigError, match="command line"):
        rasa_argv(argv)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_token_file_others_may_read_is_refused(tmp_path, mode):
    with pytest.raises(ConfigError, match="other users") as err:
        read_token_file(token_file(tmp_path, mode=mode))
    assert "chmod 600" in str(err.value)


def test_missing_or_empty_token_files_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        read_token_file(tmp_path / "nothing")
    with pytest.raises(ConfigError, match="empty"):
        read_token_file(token_file(tmp_path, text=" \n"))


def test_settings_keep_the_token_file_private(tmp_path):
    from bot.settings import Settings

    settings = Settings(var_dir=tmp_path).resolved()
    token = settings.api_token()
    assert settings.api_token_path.stat().st_mode & 0o777 == 0o600
    settings.api_token_path.chmod(0o644)
    assert settings.api_token() == token and settings.api_token_path.stat().st_mode & 0o777 == 0o600


@pytest.mark.slow
def test_running_rasa_has_no_token_on_its_command_line_and_listens_on_loopback(live_stack):
    token = live_stack.settings.api_token()
    assert live_stack.settings.host == "127.0.0.1"  # the default
    cmdlines = []
    for proc in live_stack.processes:
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()
        assert token not in cmdline, cmdline.replace("\0", " ")
        cmdlines.append(cmdline.split("\0"))
    [rasa] = [c for c in cmdlines if "bot.rasa_server" in c]
    assert rasa[rasa.index("--interface") + 1] == "127.0.0.1" and "--enable-api" in rasa
    # The API works with the token and refuses without it.
    url = f"{live_stack.rasa_url}/conversations/resident-1/tracker"
    with urllib.request.urlopen(f"{url}?token={token}", timeout=30) as resp:  # loopback
        assert json.loads(resp.read())["sender_id"] == "resident-1"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(url, timeout=30)  # loopback
    assert err.value.code == 401
    # Only loopback: the port is not open on the machine's other addresses.
    listening = Path("/proc/net/tcp").read_text().splitlines()[1:]
    port_hex = f"{live_stack.settings.rasa_port:04X}"
    local = {line.split()[1] for line in listening if line.split()[3] == "0A"}  # LISTEN
    assert f"0100007F:{port_hex}" in local and f"00000000:{port_hex}" not in local


def test_the_entry_point_installs_the_rasa_changes_before_rasa_starts(monkeypatch):
    """Not the REST channel: a configuration without it still runs with the speed-ups."""
    import rasa.__main__

    from bot import action_fallback, rasa_server, rasa_speedups
    from bot.handoff import pause_guard

    seen = {}
    rasa_speedups.uninstall()
    monkeypatch.setattr(action_fallback, "install", lambda seconds: seen.setdefault("fallback", seconds))
    monkeypatch.setattr(pause_guard, "install", lambda: seen.setdefault("pause_guard", True))
    monkeypatch.setattr(rasa.__main__, "main", lambda: seen.setdefault("speedups", rasa_speedups.installed()))
    monkeypatch.setattr("sys.argv", ["bot.rasa_server"])
    rasa_server.main(["run", "--enable-api"])
    assert seen == {"speedups": True, "pause_guard": True, "fallback": seen["fallback"]}
    assert isinstance(seen["fallback"], (int, float))
