"""``bot staff``: accounts of the staff console (add, reset password, list, disable)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from bot.errors import MadoguchiError


def _accounts(ctx: click.Context):
    from bot.console.accounts import StaffAccounts
    from bot.handoff.store import HandoffStore

    store = HandoffStore.open(ctx.obj["settings"].database)
    return StaffAccounts(store.db), store


@contextmanager
def _click_errors() -> Iterator[None]:
    """A library error (a bad username, a short password…) ends the command with its message."""
    try:
        yield
    except MadoguchiError as exc:
        raise click.ClickException(str(exc)) from None


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("password", hide_input=True, confirmation_prompt="password (again)")


@click.group()
def staff() -> None:
    """Accounts of the staff console, in the project's database.

    That is var/madoguchi.db by default, or the PostgreSQL database of
    MADOGUCHI_DATABASE_URL when it is set (several machines: docs/scaling.md).
    Every command says which one it used.

    \b
    Example:
        bot staff add tanaka --name 田中 --role admin
        bot staff list
        MADOGUCHI_DATABASE_URL=postgresql://madoguchi:…@db:5432/madoguchi bot staff list
    """


@staff.command("add")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Name residents see with your replies, e.g. 田中.")
@click.option("--role", type=click.Choice(["staff", "admin"]), default="staff", show_default=True,
              help="admin can also read the audit log.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.pass_context
def add(ctx: click.Context, username: str, display_name: str, role: str, password_stdin: bool) -> None:
    """Create a console account (asks for the password, at least 10 characters).

    \b
    Example:
        bot staff add tanaka --name 田中 --role admin
        echo 'a long passphrase' | bot staff add suzuki --name 鈴木 --password-stdin
    """
    accounts, store = _accounts(ctx)
    with _click_errors():
        account = accounts.add(username, display_name, _read_password(password_stdin), role)
    store.audit("cli", "staff.add", f"staff:{account.username}", f"role={account.role}")
    click.echo(f"created {account.username} ({account.display_name}, {account.role}) in {store.db.location}")


@staff.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of standard input.")
@click.pass_context
def passwd(ctx: click.Context, username: str, password_stdin: bool) -> None:
    """Set a new password for an account; its open log-ins end.

    \b
    Example:
        bot staff passwd tanaka
    """
    accounts, store = _accounts(ctx)
    with _click_errors():
        accounts.set_password(username, _read_password(password_stdin))
    store.audit("cli", "staff.passwd", f"staff:{username}")
    click.echo(f"password of {username} changed in {store.db.location}; they need to log in again")


@staff.command("list")
@click.pass_context
def list_accounts(ctx: click.Context) -> None:
    """List the accounts with their role and whether they are disabled.

    \b
    Example:
        bot staff list
    """
    accounts, store = _accounts(ctx)
    rows = accounts.list()
    if not rows:
        click.echo(f"no accounts yet in {store.db.location}; create one with: bot staff add USERNAME --name 田中 --role admin")
        return
    for a in rows:
        state = "disabled" if a.disabled else "active"
        click.echo(f"{a.username:20s} {a.display_name:10s} {a.role:6s} {state:8s} created {a.created_at[:10]}")
    click.echo(f"({len(rows)} in {store.db.location})")


@staff.command("disable")
@click.argument("username")
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
@click.pass_context
def disable(ctx: click.Context, username: str, enable: bool) -> None:
    """Disable an account (it can no longer log in; open log-ins end at once).

    \b
    Example:
        bot staff disable suzuki
        bot staff disable suzuki --enable
    """
    accounts, store = _accounts(ctx)
    with _click_errors():
        accounts.set_disabled(username, not enable)
    store.audit("cli", "staff.enable" if enable else "staff.disable", f"staff:{username}")
    click.echo(f"{username} {'enabled' if enable else 'disabled'} in {store.db.location}")
