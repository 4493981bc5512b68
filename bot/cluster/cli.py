"""``bot cluster up|down|status`` (the local demo cluster) and ``bot db migrate-to``."""

from __future__ import annotations

from pathlib import Path

import click

from bot.errors import MadoguchiError


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _layout(settings, replicas: int):
    from bot.cluster.layout import ClusterLayout

    return ClusterLayout(root=settings.var_dir / "cluster", replicas=replicas)


def _cluster(ctx: click.Context, replicas: int):
    from bot.cluster.control import Cluster

    settings = ctx.obj["settings"]
    return Cluster(_layout(settings, replicas), settings, settings.project_dir, say=lambda line: click.echo(f"  {line}"))


@click.group()
def cluster() -> None:
    """Several replicas on this machine: PostgreSQL, Redis, HAProxy and N nodes (docs/scaling.md).

    Everything listens on 127.0.0.1 and keeps its data under var/cluster/. Use
    scripts/cluster.sh, which also installs Debian's postgresql, redis-server and
    haproxy when they are missing.

    \b
    Example:
        scripts/cluster.sh up        # = bot cluster up, after installing what is missing
        bot cluster status
        bot cluster down
    """


@cluster.command("up")
@click.option("--replicas", type=click.IntRange(1, 8), default=2, show_default=True, help="Nodes to start.")
@click.pass_context
def cluster_up(ctx: click.Context, replicas: int) -> None:
    """Start the services, train if needed, start the nodes and the balancer.

    \b
    Example:
        bot cluster up --replicas 2
        curl -s localhost:8005/webhooks/rest/webhook -d '{"sender":"me","message":"住民票"}'
    """
    from bot.runtime.training import model_path, needs_training, train

    settings = ctx.obj["settings"]
    c = _cluster(ctx, replicas)
    try:
        if needs_training(settings):
            click.echo("training the model once for every node…")
            train(settings)
        c.up(model_path(settings))
    except MadoguchiError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"cluster up: residents {c.layout.rasa_url}/webhooks/rest/webhook, staff {c.layout.console_url}/")
    click.echo(f"  health: curl {c.layout.rasa_url}/health")
    click.echo(f"  the database: MADOGUCHI_DATABASE_URL=$(scripts/postgres.sh url {_relative(c.layout.postgres_dir)})")
    click.echo(f"  add staff: MADOGUCHI_DATABASE_URL=$(scripts/postgres.sh url {_relative(c.layout.postgres_dir)}) "
               ".venv/bin/bot staff add tanaka --name 田中 --role admin")


@cluster.command("down")
@click.option("--replicas", type=click.IntRange(1, 8), default=2, show_default=True, help="Nodes started with up.")
@click.pass_context
def cluster_down(ctx: click.Context, replicas: int) -> None:
    """Stop the nodes, the balancer, Redis and PostgreSQL (the data stays in var/cluster/).

    \b
    Example:
        bot cluster down
    """
    _cluster(ctx, replicas).down()
    click.echo("cluster stopped")


@cluster.command("status")
@click.option("--replicas", type=click.IntRange(1, 8), default=2, show_default=True, help="Nodes started with up.")
@click.pass_context
def cluster_status(ctx: click.Context, replicas: int) -> None:
    """Which parts of the cluster run (exit code 1 when one does not).

    \b
    Example:
        bot cluster status
    """
    state = _cluster(ctx, replicas).status()
    for name, up in state.items():
        click.echo(f"  {name:<11} {'up' if up else 'DOWN'}")
    if not all(state.values()):
        ctx.exit(1)


@click.group()
def db() -> None:
    """The project's database: hand-offs, tickets, accounts, sessions, audit and review logs.

    \b
    Example:
        bot db migrate-to postgres postgresql://madoguchi:…@db.example:5432/madoguchi
    """


@db.command("migrate-to")
@click.argument("engine", type=click.Choice(["postgres"]))
@click.argument("url")
@click.option("--from", "source", default=None, help="Database to copy (default: var/madoguchi.db).")
@click.pass_context
def db_migrate_to(ctx: click.Context, engine: str, url: str, source: str | None) -> None:
    """Copy every table of the embedded database to PostgreSQL, checking the row counts.

    The target must be empty of our tables (its schema is created by the same
    migrations). Stop the assistant first, so nothing is written meanwhile. Rasa's
    trackers move separately (docs/scaling.md, "Moving an installation").

    \b
    Example:
        bot db migrate-to postgres postgresql://madoguchi:secret@127.0.0.1:5432/madoguchi
        MADOGUCHI_DATABASE_URL=postgresql://madoguchi:secret@127.0.0.1:5432/madoguchi bot run
    """
    from bot.cluster.migrate import copy_database

    settings = ctx.obj["settings"]
    try:
        report = copy_database(source or str(settings.database_path), url)
    except MadoguchiError as exc:
        raise click.ClickException(str(exc)) from None
    for table, (copied, target) in report.counts.items():
        click.echo(f"  {table:<20} {copied:>8} rows → {target:>8}")
    click.echo(f"copied {sum(c for c, _ in report.counts.values())} rows in {len(report.counts)} tables; counts match")
    click.echo(f"now set MADOGUCHI_DATABASE_URL={report.target} (password not shown) and restart")
