"""``bot review``: the review of unanswered questions from the terminal."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from bot.errors import MadoguchiError
from bot.i18n.languages import LANGUAGES


def _service(ctx: click.Context):
    from bot.review.service import ReviewService

    try:
        return ReviewService(ctx.obj["settings"])
    except MadoguchiError as exc:
        raise click.ClickException(str(exc)) from None


def _filters(since: dt.datetime | None, until: dt.datetime | None, channel: str | None, category: str | None,
             outcome: str | None = None, all_statuses: bool = False, language: str | None = None):
    from bot.review.store import REVIEW_OUTCOMES, ReviewFilter

    return ReviewFilter(
        since=since.date() if since else None,
        until=until.date() if until else None,
        channel=channel,
        category=category,
        outcomes=(outcome,) if outcome else REVIEW_OUTCOMES,
        status=None if all_statuses else "open",
        language=language,
    )


def _filter_options(func):
    func = click.option("--category", default=None, help="Only questions of this FAQ category (分野).")(func)
    func = click.option("--channel", default=None, help="Only this channel (rest, web, line…).")(func)
    func = click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (JST), inclusive.")(func)
    func = click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (JST), inclusive.")(func)
    return func


def _run(action):
    try:
        return action()
    except MadoguchiError as exc:
        raise click.ClickException(str(exc)) from None


@click.group()
def review() -> None:
    """Review unanswered questions: group, improve the FAQ, retrain, figures."""


@review.command("list")
@_filter_options
@click.option("--language", type=click.Choice(list(LANGUAGES)), default=None,
              help="Only questions asked in this language (ja, ja-easy, en, zh-Hans, ko, vi, pt-BR, fil).")
@click.option("--sort", type=click.Choice(["frequent", "newest"]), default="frequent", show_default=True,
              help="Most frequent groups first, or newest first.")
@click.option("--limit", default=30, show_default=True, help="How many groups to show.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_groups(ctx, since, until, channel, category, language, sort, limit, as_json) -> None:
    """List open unanswered questions, grouped by similarity.

    The number after # identifies the group in the other commands.

    \b
    Example:
        bot review list
        bot review list --since 2026-11-01 --channel line --sort newest
        bot review list --language vi
    """
    service = _service(ctx)
    groups = _run(lambda: service.groups(_filters(since, until, channel, category, language=language), sort=sort))
    if as_json:
        click.echo(json.dumps([
            {"group": g.key, "count": g.count, "label": g.label, "newest": g.newest.isoformat(),
             "outcomes": dict(g.outcomes()), "channels": dict(g.channels()), "category": g.category(),
             "languages": {k or "unknown": v for k, v in g.languages().most_common()},
             "suggestions": [s.faq_id for s in g.suggestions], "texts": g.texts()}
            for g in groups[:limit]], ensure_ascii=False, indent=2))
        return
    if not groups:
        click.echo("no open unanswered questions")
        return
    for g in groups[:limit]:
        from bot.review.store import LOCAL_TZ

        outcomes = ", ".join(f"{k} {v}" for k, v in g.outcomes().most_common())
        languages = ", ".join(f"{k or 'unknown'} {v}" for k, v in g.languages().most_common())
        click.echo(f"#{g.key}  {g.count:4d}×  {g.label}")
        click.echo(f"        newest {g.newest.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}  {outcomes}"
                   + (f"  [{g.category()}]" if g.category() else "") + f"  languages: {languages}")
        if g.suggestions:
            click.echo("        suggested FAQs: " + ", ".join(s.faq_id for s in g.suggestions))
    if len(groups) > limit:
        click.echo(f"… and {len(groups) - limit} more groups (use --limit)")


@review.command("show")
@click.argument("group", type=int)
@click.pass_context
def show(ctx, group: int) -> None:
    """Show every question of a group and the suggested FAQs.

    \b
    Example:
        bot review show 12
    """
    service = _service(ctx)
    g = _run(lambda: service.find_group(group))
    kb = service.knowledge()
    titles = {f.id: f.question for f in kb.faqs}
    click.echo(f"#{g.key}: {g.count} questions")
    for text, n in g.texts():
        click.echo(f"  {n:3d}× {text}")
    for s in g.suggestions:
        click.echo(f"  suggested: {s.faq_id}  {titles.get(s.faq_id, '')}  (votes {s.votes}, score {s.score:.2f})")


@review.command("export")
@_filter_options
@click.option("--csv", "as_csv", is_flag=True, default=True, help="CSV (the only format; the default).")
@click.option("--kind", type=click.Choice(["questions", "groups", "daily", "channels"]), default="questions",
              show_default=True, help="Questions (every outcome), open groups, or the dashboard's daily / per-channel figures.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: standard output).")
@click.option("--excel", is_flag=True, help="Start with a BOM so that Excel reads the UTF-8 correctly.")
@click.pass_context
def export(ctx, since, until, channel, category, as_csv, kind, out_file, excel) -> None:
    """Export the review log or the dashboard figures as CSV.

    \b
    Example:
        bot review export --csv > questions.csv
        bot review export --csv --kind daily --since 2026-11-01 --out daily.csv --excel
    """
    import io

    from bot.review.dashboard import build_dashboard
    from bot.review.export import write_channels, write_daily, write_groups, write_questions
    from bot.review.store import LOCAL_TZ, ReviewFilter

    service = _service(ctx)
    buf = io.StringIO()

    def build() -> int:
        if kind == "questions":
            f = _filters(since, until, channel, category, all_statuses=True)
            return write_questions(buf, service.log.questions(ReviewFilter(f.since, f.until, f.channel, f.category, (), None)))
        if kind == "groups":
            groups = service.groups(_filters(since, until, channel, category))
            return write_groups(buf, groups)
        last = until.date() if until else dt.datetime.now(LOCAL_TZ).date()
        first = since.date() if since else last - dt.timedelta(days=29)
        groups = service.groups(_filters(since, until, channel, None))
        d = build_dashboard(service.log, service.knowledge(), first, last, channel, groups)
        return (write_daily if kind == "daily" else write_channels)(buf, d)

    rows = _run(build)
    text = ("\ufeff" if excel else "") + buf.getvalue()
    if out_file:
        out_file.write_text(text, encoding="utf-8")
        click.echo(f"wrote {rows} rows to {out_file}", err=True)
    else:
        sys.stdout.write(text)


@review.command("paraphrase")
@click.argument("group", type=int)
@click.option("--faq", "faq_id", required=True, help="Id of the FAQ that answers these questions.")
@click.pass_context
def paraphrase(ctx, group: int, faq_id: str) -> None:
    """Add a group's questions as paraphrases of an existing FAQ (knowledge/ is edited).

    \b
    Example:
        bot review paraphrase 12 --faq gomi-sodai-apply
    """
    service = _service(ctx)
    g = _run(lambda: service.find_group(group))
    outcome = _run(lambda: service.add_paraphrases(g.ids, faq_id))
    for text in outcome.edit.added:
        click.echo(f"  + {text}")
    for text, why in outcome.edit.skipped:
        click.echo(f"  - {text}  ({why})")
    click.echo(f"added {len(outcome.edit.added)} paraphrase(s) to {faq_id} in {outcome.edit.file}; run `bot review retrain`")


@review.command("draft")
@click.argument("group", type=int)
@click.pass_context
def draft(ctx, group: int) -> None:
    """Print a pre-filled new FAQ for a group (YAML), to complete and pass to new-faq.

    \b
    Example:
        bot review draft 12
    """
    service = _service(ctx)
    g = _run(lambda: service.find_group(group))
    d = _run(lambda: service.draft(g.ids))
    click.echo(f"# file: faq/{d.file}")
    click.echo(f"- id: {d.id}")
    click.echo(f"  question: {d.question}")
    if d.paraphrases:
        click.echo("  paraphrases:")
        for p in d.paraphrases:
            click.echo(f"    - {p}")
    click.echo("  answer: |\n    （回答を書いてください）")
    if d.department:
        click.echo(f"  department: {d.department}")


@review.command("new-faq")
@click.argument("group", type=int)
@click.option("--id", "faq_id", default=None, help="Id of the new FAQ (default: suggested).")
@click.option("--question", default=None, help="The question (default: the group's most frequent one).")
@click.option("--answer", required=True, help="The answer (polite です・ます Japanese).")
@click.option("--file", "file_name", default=None, help="FAQ file under faq/ (default: by department).")
@click.option("--department", default=None, help="Department id (default: guessed from the group).")
@click.pass_context
def new_faq(ctx, group: int, faq_id, question, answer, file_name, department) -> None:
    """Write a new FAQ from a group (its questions become the paraphrases).

    \b
    Example:
        bot review new-faq 12 --id gomi-kaden-small --answer "回収ボックスに入れてください。"
    """
    service = _service(ctx)
    g = _run(lambda: service.find_group(group))
    d = _run(lambda: service.draft(g.ids))
    d.id = faq_id or d.id
    d.question = question or d.question
    d.answer = answer
    d.file = file_name or d.file
    d.department = department or d.department
    outcome = _run(lambda: service.create_faq(g.ids, d))
    click.echo(f"added FAQ {outcome.edit.faq_id} to {outcome.edit.file}; run `bot review retrain`")


@review.command("out-of-scope")
@click.argument("group", type=int)
@click.option("--train-example/--no-train-example", default=False, show_default=True,
              help="Also add the questions to data/nlu/out_of_scope.yml, so the classifier learns them.")
@click.pass_context
def out_of_scope(ctx, group: int, train_example: bool) -> None:
    """Mark a group as out of scope (not something the assistant should answer).

    \b
    Example:
        bot review out-of-scope 12 --train-example
    """
    service = _service(ctx)
    g = _run(lambda: service.find_group(group))
    outcome = _run(lambda: service.mark_out_of_scope(g.ids, train_example))
    click.echo(outcome.summary())


@review.command("dismiss")
@click.argument("group", type=int)
@click.option("--note", default=None, help="Why (kept with the decision).")
@click.pass_context
def dismiss(ctx, group: int, note: str | None) -> None:
    """Dismiss a group (nothing to do: tests, noise).

    \b
    Example:
        bot review dismiss 12 --note "テスト送信"
    """
    service = _service(ctx)
    g = _run(lambda: service.find_group(group))
    outcome = _run(lambda: service.dismiss(g.ids, note=note))
    click.echo(outcome.summary())


@review.command("retrain")
@click.option("--force", is_flag=True, help="Train even when nothing changed.")
@click.option("--no-reload", is_flag=True, help="Do not load the new model into the running server.")
@click.pass_context
def retrain(ctx, force: bool, no_reload: bool) -> None:
    """Retrain after review edits and load the new model into the running server.

    The running assistant keeps answering with the old model until the new one is loaded.

    \b
    Example:
        bot review retrain
    """
    from bot.review.retrain import RetrainJob

    job = RetrainJob(ctx.obj["settings"])
    click.echo("checking the knowledge base and training (about a minute)…")
    status = job.run(force=force, reload=not no_reload)
    click.echo(status.message)
    if status.phase.value == "failed":
        raise click.ClickException("retraining failed")


@review.command("dashboard")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day (default: 30 days ago).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (default: today, JST).")
@click.option("--channel", default=None, help="Only this channel.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def dashboard(ctx, since, until, channel, as_json) -> None:
    """Print the dashboard figures: questions, 自己解決率, top FAQs, hand-off waits.

    \b
    Example:
        bot review dashboard --since 2026-11-01 --json
    """
    from bot.review.dashboard import BUCKETS, build_dashboard
    from bot.review.store import LOCAL_TZ

    service = _service(ctx)
    last = until.date() if until else dt.datetime.now(LOCAL_TZ).date()
    first = since.date() if since else last - dt.timedelta(days=29)
    d = _run(lambda: build_dashboard(service.log, service.knowledge(), first, last, channel,
                                     service.groups(_filters(since, until, channel, None))))
    if as_json:
        click.echo(json.dumps(d.as_dict(), ensure_ascii=False, indent=2))
        return
    rate = "—" if d.self_resolution_rate is None else f"{d.self_resolution_rate * 100:.1f}%"
    click.echo(f"{first} – {last}: {d.questions} questions, self-resolved {rate}")
    for b in BUCKETS:
        click.echo(f"  {b:14s} {d.buckets[b]:6d}")
    for fid, question, n in d.top_faqs[:5]:
        click.echo(f"  top FAQ {fid}: {n}  {question}")
    for lang in d.languages:
        rate = "—" if lang.self_resolution_rate is None else f"{lang.self_resolution_rate * 100:.1f}%"
        click.echo(f"  language {lang.channel or 'unknown':8s} {lang.questions:6d} questions, self-resolved {rate}")
    if d.waits is not None and d.waits.median is not None:
        click.echo(f"  hand-off wait: median {d.waits.median} min, p90 {d.waits.p90} min ({d.waits.claimed}/{d.waits.handoffs} claimed)")
