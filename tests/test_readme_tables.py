"""The README's settings table and command table say what the code has.

Both tables are for people deciding how to run Madoguchi; a setting or a command missing
from them is a feature nobody finds, and one listed that does not exist is a wrong doc.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from bot.cli import cli
from bot.settings import Settings, describe, markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end > 0 else None]


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every runnable command path of the CLI, e.g. ("review", "list")."""
    found: set[tuple[str, ...]] = set()
    for name, command in group.commands.items():
        if command.hidden:
            continue
        if isinstance(command, click.Group):
            found |= _commands(command, prefix + (name,))
        else:
            found.add(prefix + (name,))
    return found


def _documented_commands(section: str) -> set[tuple[str, ...]]:
    """Command paths in the README's table: `bot review list` / `show` / … (a cell's later
    items name further subcommands of the first item's group)."""
    groups = {name for name, c in cli.commands.items() if isinstance(c, click.Group)}
    subgroups = {(g, name) for g in groups for name, c in cli.commands[g].commands.items() if isinstance(c, click.Group)}
    documented: set[tuple[str, ...]] = set()
    for line in section.splitlines():
        if not line.startswith("| `bot "):
            continue
        first_cell = line.split(" | ")[0]
        parent: tuple[str, ...] = ()
        for item in re.findall(r"`([^`]+)`", first_cell):
            words = [w for w in item.split() if re.fullmatch(r"[a-z][a-z-]*", w)]
            if words and words[0] == "bot":
                words = words[1:]
                path: tuple[str, ...] = (words[0],)
                if words[0] in groups and len(words) > 1:
                    path = (words[0], words[1])
                    if path in subgroups and len(words) > 2:
                        path = (words[0], words[1], words[2])
                parent = path[:-1]
            else:
                path = parent + (words[0],)
            documented.add(path)
    return documented


def test_every_command_is_in_the_readme_table_and_nothing_else():
    in_code = _commands(cli)
    in_readme = _documented_commands(_section("The `bot` command"))
    assert in_code - in_readme == set(), "commands missing from README's `bot` command table"
    assert in_readme - in_code == set(), "README's `bot` command table lists commands the CLI does not have"


def test_the_settings_table_is_the_one_the_code_declares():
    section = _section("The `bot` command")
    assert markdown_table() in section, (
        "README's settings table differs from bot/settings.py: paste the output of `bot settings --markdown`")


def test_every_setting_has_help_and_names_its_environment_variable():
    for info in describe({}):
        assert info.help, f"{info.name} has no help text"
        assert info.env == f"MADOGUCHI_{info.name.upper()}"
    assert [i.name for i in describe({})] == [f for f in Settings.__dataclass_fields__]


def test_sources_and_secrets_are_reported(tmp_path):
    env = {"MADOGUCHI_RASA_PORT": "5105",
           "MADOGUCHI_DATABASE_URL": "postgresql://staff:s3cret@db.city.example:5432/madoguchi"}
    infos = {i.name: i for i in describe(env, project_dir=tmp_path)}
    assert infos["rasa_port"].value == 5105 and infos["rasa_port"].source == "environment"
    assert infos["actions_port"].source == "default"
    assert infos["project_dir"].source == "command line"
    shown = infos["database_url"].shown(infos["database_url"].value)
    assert "s3cret" not in shown and "staff" not in shown and "db.city.example" in shown


@pytest.mark.parametrize("args", [["settings"], ["settings", "--json"], ["settings", "--markdown"]])
def test_bot_settings_runs(args, monkeypatch):
    from click.testing import CliRunner

    monkeypatch.setenv("MADOGUCHI_NOTIFY_WEBHOOK_URL", "https://hooks.example/services/T0/B0/tok3n")
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "tok3n" not in result.output
    assert "MADOGUCHI_NOTIFY_WEBHOOK_URL" in result.output or "notify_webhook_url" in result.output


def test_a_bad_value_is_a_clear_error_not_a_traceback(monkeypatch):
    from click.testing import CliRunner

    monkeypatch.setenv("MADOGUCHI_RASA_PORT", "five")
    result = CliRunner().invoke(cli, ["settings"])
    assert result.exit_code != 0
    assert "MADOGUCHI_RASA_PORT must be a number" in result.output
    assert "Traceback" not in result.output
