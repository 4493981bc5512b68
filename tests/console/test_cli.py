"""`bot staff` with click's CliRunner."""

from __future__ import annotations

from click.testing import CliRunner

from bot.cli import cli
from bot.console.accounts import StaffAccounts
from bot.handoff.store import HandoffStore


def run(tmp_path, *args, input=None):
    return CliRunner().invoke(cli, ["staff", *args], input=input, env={"MADOGUCHI_VAR_DIR": str(tmp_path / "var")})


def accounts(tmp_path):
    return StaffAccounts(HandoffStore.open(tmp_path / "var" / "madoguchi.db").db)


def test_add_list_passwd_disable(tmp_path):
    result = run(tmp_path, "add", "tanaka", "--name", "田中", "--role", "admin", input="a long password\na long password\n")
    assert result.exit_code == 0, result.output
    assert "created tanaka (田中, admin)" in result.output
    assert accounts(tmp_path).authenticate("tanaka", "a long password").role == "admin"
    result = run(tmp_path, "add", "suzuki", "--name", "鈴木", "--password-stdin", input="another password\n")
    assert result.exit_code == 0
    listing = run(tmp_path, "list").output.splitlines()
    assert listing[0].split()[:4] == ["suzuki", "鈴木", "staff", "active"]
    assert listing[1].split()[:4] == ["tanaka", "田中", "admin", "active"]
    assert run(tmp_path, "passwd", "suzuki", "--password-stdin", input="brand new password\n").exit_code == 0
    assert accounts(tmp_path).authenticate("suzuki", "brand new password") is not None
    assert run(tmp_path, "disable", "suzuki").exit_code == 0
    assert "disabled" in run(tmp_path, "list").output
    assert accounts(tmp_path).authenticate("suzuki", "brand new password") is None
    assert run(tmp_path, "disable", "suzuki", "--enable").exit_code == 0
    assert accounts(tmp_path).authenticate("suzuki", "brand new password") is not None
    actions = [r["action"] for r in HandoffStore.open(tmp_path / "var" / "madoguchi.db").audit_log()]
    assert actions == ["staff.enable", "staff.disable", "staff.passwd", "staff.add", "staff.add"]


def test_errors_are_clear_and_without_traceback(tmp_path):
    result = run(tmp_path, "add", "suzuki", "--name", "鈴木", "--password-stdin", input="short\n")
    assert result.exit_code == 1 and "at least 10 characters" in result.output and "Traceback" not in result.output
    result = run(tmp_path, "add", "suzuki", "--name", "鈴木", "--password-stdin", input="")
    assert result.exit_code == 1 and "at least 10 characters" in result.output
    result = run(tmp_path, "passwd", "nobody", "--password-stdin", input="a long password\n")
    assert result.exit_code == 1 and "no account 'nobody'" in result.output
    assert "no accounts yet" in run(tmp_path, "list").output


def test_help_and_output_name_the_database_of_either_setting(tmp_path, postgres_server):
    help_text = CliRunner().invoke(cli, ["staff", "--help"]).output
    assert "var/madoguchi.db" in help_text and "MADOGUCHI_DATABASE_URL" in help_text
    embedded = run(tmp_path, "add", "ito", "--name", "伊藤", "--password-stdin", input="a long password\n")
    assert embedded.exit_code == 0 and f"in {tmp_path / 'var' / 'madoguchi.db'}" in embedded.output
    url = postgres_server.fresh_schema_url()
    env = {"MADOGUCHI_VAR_DIR": str(tmp_path / "other-var"), "MADOGUCHI_DATABASE_URL": url}
    added = CliRunner().invoke(cli, ["staff", "add", "kato", "--name", "加藤", "--password-stdin"],
                               input="a long password\n", env=env)
    assert added.exit_code == 0, added.output
    password = url.split("@")[0].rsplit(":", 1)[1]
    assert "postgresql://madoguchi:***@127.0.0.1" in added.output and password not in added.output
    assert StaffAccounts(HandoffStore.open(url).db).authenticate("kato", "a long password") is not None
    assert not (tmp_path / "other-var" / "madoguchi.db").exists()  # nothing went to a local file
    listing = CliRunner().invoke(cli, ["staff", "list"], env=env).output.splitlines()
    assert [line.split()[0] for line in listing[:-1]] == ["kato"] and listing[-1].startswith("(1 in postgresql://")
