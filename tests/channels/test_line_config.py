"""credentials.yml for LINE: the channel's settings, and the runner's effective-credentials helper."""

from __future__ import annotations

import pytest

from bot.channels.line import sender_id_for, user_id_from_sender
from bot.line.config import LineChannelConfig
from bot.errors import ConfigError
from bot.runtime.credentials import effective_credentials, write_effective_credentials

CREDENTIALS = """\
# Input channels. Secrets come from environment variables, never from this file.
bot.channels.rest.MadoguchiRestInput:

# LINE official account (docs/line.md)
bot.channels.line.LineInput:
  channel_secret: ${LINE_CHANNEL_SECRET}
  access_token: ${LINE_CHANNEL_ACCESS_TOKEN}   # long-lived token
  # api_base_url: ${LINE_API_BASE_URL}   (commented out: does not count)

"other.Channel":
  token: ${OTHER_TOKEN}
"""


def test_channels_with_unset_variables_are_left_out():
    result = effective_credentials(CREDENTIALS, {"LINE_CHANNEL_SECRET": "s"})
    assert result.channels == ["bot.channels.rest.MadoguchiRestInput"]
    assert result.skipped == {"bot.channels.line.LineInput": ["LINE_CHANNEL_ACCESS_TOKEN"], "other.Channel": ["OTHER_TOKEN"]}
    assert "channel_secret" not in result.text and "${" not in result.text
    assert "# bot.channels.line.LineInput: left out, environment variable(s) not set: LINE_CHANNEL_ACCESS_TOKEN" in result.text


def test_configured_channels_are_kept_verbatim_for_rasa_to_expand():
    env = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "OTHER_TOKEN": "o"}
    result = effective_credentials(CREDENTIALS, env)
    assert result.text == CREDENTIALS and result.skipped == {}
    assert result.channels == ["bot.channels.rest.MadoguchiRestInput", "bot.channels.line.LineInput", "other.Channel"]


def test_empty_variable_counts_as_unset():
    result = effective_credentials(CREDENTIALS, {"LINE_CHANNEL_SECRET": "", "LINE_CHANNEL_ACCESS_TOKEN": "t", "OTHER_TOKEN": "o"})
    assert result.skipped == {"bot.channels.line.LineInput": ["LINE_CHANNEL_SECRET"]}


def test_written_file_is_what_rasa_reads(tmp_path, monkeypatch):
    import rasa.shared.utils.io as rasa_io

    source = tmp_path / "credentials.yml"
    source.write_text(CREDENTIALS, encoding="utf-8")
    monkeypatch.setenv("LINE_CHANNEL_SECRET", "secret")
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "token")
    monkeypatch.delenv("OTHER_TOKEN", raising=False)
    import os

    result = write_effective_credentials(source, tmp_path / "var" / "credentials.runtime.yml", os.environ)
    loaded = rasa_io.read_config_file(str(tmp_path / "var" / "credentials.runtime.yml"))
    assert loaded == {"bot.channels.rest.MadoguchiRestInput": None,
                      "bot.channels.line.LineInput": {"channel_secret": "secret", "access_token": "token"}}
    assert result.skipped == {"other.Channel": ["OTHER_TOKEN"]}


def test_the_project_credentials_start_rasa_without_line_variables(project_root, tmp_path, monkeypatch):
    """`bot run` must work for a city without LINE: the runtime file leaves LINE out."""
    import os

    import rasa.shared.utils.io as rasa_io

    monkeypatch.delenv("LINE_CHANNEL_SECRET", raising=False)
    monkeypatch.delenv("LINE_CHANNEL_ACCESS_TOKEN", raising=False)
    result = write_effective_credentials(project_root / "credentials.yml", tmp_path / "c.yml", os.environ)
    loaded = rasa_io.read_config_file(str(tmp_path / "c.yml"))
    assert "bot.channels.rest.MadoguchiRestInput" in loaded and "bot.channels.web.WebInput" in loaded
    assert "bot.channels.line.LineInput" not in loaded
    assert result.skipped == {"bot.channels.line.LineInput": ["LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN"]}


def test_channel_config_from_credentials():
    config = LineChannelConfig.from_credentials({
        "channel_secret": " s ", "access_token": "t", "api_base_url": "http://127.0.0.1:9/", "max_attempts": 2,
        "backoff_seconds": 0.01, "reply_token_ttl_seconds": 30, "max_concurrent_events": 4,
    })
    assert config.channel_secret == "s" and config.reply_token_ttl_seconds == 30 and config.max_concurrent_events == 4
    assert config.api.api_base_url == "http://127.0.0.1:9" and config.api.max_attempts == 2
    assert config.api.data_api_base_url == "https://api-data.line.me"


@pytest.mark.parametrize(
    "creds, says",
    [
        ({}, "channel_secret is missing or empty"),
        ({"channel_secret": "s"}, "access_token is missing or empty"),
        ({"channel_secret": "${LINE_CHANNEL_SECRET}", "access_token": "t"}, "literal text"),
        ({"channel_secret": "s", "access_token": "t", "chanel_secret": "x"}, "unknown key(s) chanel_secret"),
        ({"channel_secret": "s", "access_token": "t", "max_attempts": 0}, "max_attempts must be a positive number"),
        ({"channel_secret": "s", "access_token": "t", "timeout_seconds": "10"}, "timeout_seconds must be a positive number"),
        ({"channel_secret": "s", "access_token": "t", "max_concurrent_events": 1.5}, "must be a whole number"),
        ({"channel_secret": "s", "access_token": "t", "api_base_url": "api.line.me"}, "must be an http(s) URL"),
    ],
)
def test_bad_channel_config_says_what_to_fix(creds, says):
    with pytest.raises(ConfigError) as exc:
        LineChannelConfig.from_credentials(creds)
    assert says in str(exc.value)


def test_sender_id_round_trip():
    user = "U" + "0123456789abcdef" * 2
    assert sender_id_for(user) == f"line:{user}"
    assert user_id_from_sender(sender_id_for(user)) == user
    assert user_id_from_sender("resident-1") is None and user_id_from_sender("line:") is None
