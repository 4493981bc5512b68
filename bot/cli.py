"""The ``bot`` command: run the assistant, manage the knowledge base, measure quality."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from bot.errors import MadoguchiError


def _settings(ctx: click.Context):
    return ctx.obj["settings"]


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--knowledge-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="FAQ knowledge base (default: knowledge/, or MADOGUCHI_KNOWLEDGE_DIR).")
@click.option("--project-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Rasa project root (default: current directory).")
@click.pass_context
def cli(ctx: click.Context, knowledge_dir: Path | None, project_dir: Path | None) -> None:
    """Madoguchi (窓口): a Japanese resident-inquiry assistant for municipalities.

    \b
    Example:
        bot run                 # train if needed, start everything
        bot kb check            # validate knowledge/
        bot eval eval/dev.csv   # measure answer quality
    """
    from bot.settings import Settings

    try:
        overrides = {"knowledge_dir": knowledge_dir, "project_dir": project_dir}
        ctx.obj = {"settings": Settings.from_env(**overrides), "overrides": overrides}
    except MadoguchiError as exc:
        raise _fail(exc) from None


# --------------------------------------------------------------------------- settings
@cli.command("settings")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per setting (secrets redacted).")
@click.option("--markdown", is_flag=True, help="The README's settings table (defaults and help, no current values).")
@click.pass_context
def settings_cmd(ctx: click.Context, as_json: bool, markdown: bool) -> None:
    """Print every setting: its value, where it came from, its environment variable.

    Each setting is overridden by an environment variable MADOGUCHI_<NAME>; secrets
    (database and Redis URLs, the notice webhook) are printed without their credentials.

    \b
    Example:
        bot settings
        MADOGUCHI_RASA_PORT=5105 bot settings
        bot settings --markdown   # the README's table
    """
    from bot.settings import describe, markdown_table

    if markdown:
        click.echo(markdown_table())
        return
    try:
        infos = describe(**ctx.obj["overrides"])
    except MadoguchiError as exc:
        raise _fail(exc) from None
    for info in infos:
        if as_json:
            click.echo(json.dumps({"name": info.name, "env": info.env, "value": info.shown(info.value),
                                   "default": info.shown(info.default), "source": info.source, "help": info.help},
                                  ensure_ascii=False))
            continue
        click.echo(f"{info.name} = {info.shown(info.value)}   [{info.source}; {info.env}]")
        click.echo(f"    {info.help}")


# --------------------------------------------------------------------------- run / train / shell
@cli.command()
@click.option("--force", is_flag=True, help="Retrain even when nothing changed.")
@click.pass_context
def train(ctx: click.Context, force: bool) -> None:
    """Train the Rasa model when the knowledge base, training data or config changed.

    \b
    Example:
        bot train
        bot train --force
    """
    from bot.runtime.training import needs_training, train as do_train

    s = _settings(ctx)
    _check_knowledge_or_fail(s)
    if not force and not needs_training(s):
        click.echo("model is up to date (nothing changed since the last training)")
        return
    click.echo("training the model (this takes about a minute)…")
    try:
        result = do_train(s, force=True)
    except MadoguchiError as exc:
        raise _fail(exc) from None
    click.echo(f"trained {result.model_path} in {result.seconds:.0f} s")


def _check_knowledge_or_fail(s) -> None:
    from bot.knowledge.loader import load_knowledge

    try:
        result = load_knowledge(s.knowledge_dir)
    except MadoguchiError as exc:
        raise _fail(exc) from None
    if result.problems:
        for p in result.problems:
            click.echo(str(p), err=True)
        raise click.ClickException(f"the knowledge base has {len(result.problems)} problem(s); fix them and try again")


def _start_stack(s, log_dir: Path | None):
    from bot.runtime.runner import Stack, console_available
    from bot.runtime.training import model_path, needs_training, train as do_train

    _check_knowledge_or_fail(s)
    if needs_training(s):
        click.echo("knowledge base, training data or config changed: training the model…")
        result = do_train(s)
        click.echo(f"trained in {result.seconds:.0f} s")
    else:
        click.echo("model is up to date")
    stack = Stack(s, model_path(s), log_dir=log_dir)
    started = time.monotonic()
    servers = "the action server, the Rasa server and the staff console" if stack.with_console and console_available() \
        else "the action server and the Rasa server"
    click.echo(f"starting {servers}…")
    last = [0.0]

    def progress(waiting: str) -> None:
        if time.monotonic() - last[0] > 5:
            click.echo(f"  waiting for: {waiting} ({time.monotonic() - started:.0f} s)")
            last[0] = time.monotonic()

    stack.start(on_wait=progress)
    click.echo(f"ready after {time.monotonic() - started:.1f} s")
    for note in stack.notes:
        click.echo(f"  note: {note}")
    return stack


@cli.command()
@click.option("--log-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write server output to files here instead of the terminal.")
@click.pass_context
def run(ctx: click.Context, log_dir: Path | None) -> None:
    """Train if needed, then start the action server, the Rasa server and the staff console.

    A server that crashes is restarted (after 1 s, 2 s, 4 s …) while the others keep
    serving; bot run gives up, stopping all, when one crashes 5 times in 10 minutes.
    Ctrl-C stops everything.

    \b
    Example:
        bot run
        MADOGUCHI_RASA_PORT=5006 bot run
    """
    import signal

    def interrupt(*_):
        raise KeyboardInterrupt

    # Ctrl-C, and SIGTERM from a service manager, stop everything cleanly.
    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    s = _settings(ctx)
    try:
        stack = _start_stack(s, log_dir)
    except MadoguchiError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        raise click.Abort() from None
    click.echo("")
    click.echo(f"  Madoguchi is running. REST:  POST {stack.rasa_url}/webhooks/rest/webhook")
    click.echo(f"  web chat widget demo page:  {stack.rasa_url}/webhooks/web/demo")
    if any(p.args[2:3] == ["bot.console"] for p in stack.processes):
        click.echo(f"  staff console:              {stack.console_url}/   (accounts: bot staff add …)")
    click.echo(f'  try: curl -s {stack.rasa_url}/webhooks/rest/webhook -d \'{{"sender":"me","message":"住民票はどこで取れますか"}}\'')
    click.echo("  or chat in the terminal with:  bot shell   (Ctrl-C here stops everything)")
    click.echo("")
    try:
        # A crashed server is restarted with backoff (bot/runtime/supervisor.py); bot run stops
        # only on Ctrl-C, or when one server keeps crashing.
        stack.supervise(report=lambda line: click.echo(f"  {line}", err=True))
    except KeyboardInterrupt:
        click.echo("\nstopping…")
        stack.stop()
        click.echo("stopped")
        return
    except MadoguchiError as exc:
        raise _fail(exc) from None


def _post(url: str, sender: str, text: str) -> list[dict]:
    import urllib.request

    req = urllib.request.Request(url, data=json.dumps({"sender": sender, "message": text}).encode(),  # noqa: S310 - http:// of our own Rasa server
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - loopback
            return json.loads(resp.read().decode())
    except urllib.error.HTTPError as err:  # 4xx with a JSON explanation
        body = json.loads(err.read().decode() or "{}")
        return [{"text": body.get("message", str(err)), "custom": {"type": "error"}}]


@cli.command()
@click.option("--sender", default=None, help="Conversation id (default: a new one).")
@click.pass_context
def shell(ctx: click.Context, sender: str | None) -> None:
    """Chat with the assistant in the terminal (starts it if it is not running).

    Type a number to press one of the offered buttons; Ctrl-D or /exit to leave.

    \b
    Example:
        bot shell
    """
    import uuid

    from bot.runtime.runner import _url_ok

    s = _settings(ctx)
    base = f"http://{s.host}:{s.rasa_port}"
    stack = None
    if not _url_ok(f"{base}/webhooks/rest/"):
        try:
            stack = _start_stack(s, s.var_dir / "logs")
        except MadoguchiError as exc:
            raise _fail(exc) from None
    sender = sender or f"shell-{uuid.uuid4().hex[:8]}"
    url = f"{base}/webhooks/rest/webhook"
    click.echo("質問を入力してください（終了: Ctrl-D または /exit）")
    buttons: list[dict] = []
    try:
        while True:
            try:
                text = input("あなた> ").strip()
            except EOFError:
                break
            if text in ("/exit", "/quit"):
                break
            if not text:
                continue
            if text.isdigit() and buttons and 1 <= int(text) <= len(buttons):
                text = buttons[int(text) - 1]["payload"]
            buttons = []
            for m in _post(url, sender, text):
                kind = (m.get("custom") or {}).get("type", "")
                click.echo(f"窓口[{kind}]> {m.get('text', '')}")
                for i, b in enumerate(m.get("buttons") or [], 1):
                    click.echo(f"    {i}. {b['title']}")
                    buttons.append(b)
    except KeyboardInterrupt:
        pass
    finally:
        if stack is not None:
            stack.stop()
    click.echo("")


# --------------------------------------------------------------------------- knowledge base
@cli.group()
def kb() -> None:
    """Check, import and count the FAQ knowledge base (knowledge/)."""


@kb.command("check")
@click.option("--missing", "list_missing", is_flag=True,
              help="Also list every FAQ without a translation, per language (default: counts only).")
@click.pass_context
def kb_check(ctx: click.Context, list_missing: bool) -> None:
    """Validate the knowledge base; prints every problem with file and line.

    Also reports translations (knowledge/i18n/): stale ones (the Japanese question or
    answer changed after the translation was made) with their file and line, and how
    many FAQs have no translation per language. These are warnings: they do not fail
    the check, residents get the Japanese answer with a note meanwhile.

    \b
    Example:
        bot kb check
        bot kb check --missing
        bot --knowledge-dir other/knowledge kb check
    """
    from bot.knowledge.loader import load_knowledge

    s = _settings(ctx)
    try:
        result = load_knowledge(s.knowledge_dir)
    except MadoguchiError as exc:
        raise _fail(exc) from None
    for p in result.problems:
        click.echo(str(p))
    if result.problems:
        raise click.ClickException(f"{len(result.problems)} problem(s) in {s.knowledge_dir}")
    n = len(result.kb.faqs)
    paraphrases = sum(len(f.paraphrases) for f in result.kb.faqs)
    click.echo(f"OK: {n} FAQs, {paraphrases} paraphrases, {len(result.kb.departments)} departments")
    _report_translations(result.kb, list_missing)


def _report_translations(kb_, list_missing: bool) -> None:
    """Stale and missing translations, as warnings (they never fail `bot kb check`)."""
    from bot.knowledge.translations import translation_coverage

    if kb_.translations is None or not kb_.translations.faqs:
        return
    for c in translation_coverage(kb_):
        click.echo(f"translations {c.language}: {c.current}/{c.total} current, {len(c.stale)} stale, {len(c.missing)} missing")
        for st in c.stale:
            click.echo(f"  {st.location}: STALE {c.language} '{st.faq_id}': 日本語の質問・回答が変わりました"
                       f"（翻訳の source {st.source}、今の日本語 {st.current}）。訳を見直して source を更新してください。")
        for g in c.glossary_misses:
            click.echo(f"  {g.location}: {c.language} '{g.faq_id}': 用語「{g.term}」の訳語 '{g.rendering}' が使われていません（glossary.yml）。")
        if list_missing:
            for faq_id in c.missing:
                click.echo(f"  MISSING {c.language} '{faq_id}'")


@kb.command("import")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Knowledge directory to write to (default: the knowledge base).")
@click.option("--prefix", default=None, help="Prefix of the FAQ ids (default: from the file name).")
@click.option("--department", default=None, help="Department id for every FAQ (default: from the file).")
@click.option("--encoding", default="auto", show_default=True, help="utf-8, cp932, shift_jis… or auto.")
@click.pass_context
def kb_import(ctx: click.Context, source: Path, out_dir: Path | None, prefix: str | None,
              department: str | None, encoding: str) -> None:
    """Import a municipal FAQ file (CSV in UTF-8 or Shift_JIS, or JSON).

    Columns are matched by name: id/ID, question/問い合わせ文, answer/応答文,
    category/カテゴリ, department/担当課, url.

    \b
    Example:
        bot kb import city-faq.csv --prefix city
        bot kb import ../shared/data/kosodate-faq/faq.json --out var/kosodate
    """
    from bot.knowledge.importer import import_faq_file
    from bot.knowledge.loader import load_knowledge

    s = _settings(ctx)
    target = out_dir or s.knowledge_dir
    try:
        report = import_faq_file(source, target, encoding=encoding, prefix=prefix, default_department=department)
    except MadoguchiError as exc:
        raise _fail(exc) from None
    click.echo(f"imported {report.faqs} FAQs ({report.encoding}) into {len(report.files)} file(s) under {target}/faq")
    for d in report.departments_added:
        click.echo(f"  added department to city.yml: {d} (fill in its phone number)")
    for sk in report.skipped:
        click.echo(f"  skipped {sk}", err=True)
    problems = load_knowledge(target).problems
    if problems:
        for p in problems[:20]:
            click.echo(str(p), err=True)
        raise click.ClickException(f"the imported knowledge base has {len(problems)} problem(s)")


@kb.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def kb_stats(ctx: click.Context, as_json: bool) -> None:
    """FAQs and paraphrases per category, and FAQs not reviewed for over a year.

    \b
    Example:
        bot kb stats
        bot kb stats --json | jq .faqs
    """
    from bot.knowledge.loader import load_knowledge
    from bot.knowledge.stats import knowledge_stats

    s = _settings(ctx)
    try:
        kb_ = load_knowledge(s.knowledge_dir).kb
    except MadoguchiError as exc:
        raise _fail(exc) from None
    st = knowledge_stats(kb_)
    from bot.knowledge.translations import coverage_as_dict, essential_coverage, essential_ids, translation_coverage

    st["translations"] = coverage_as_dict(translation_coverage(kb_))
    essential = essential_ids(s.knowledge_dir)
    if essential:  # knowledge/i18n/essential.txt: the FAQs every language must cover
        st["essential"] = essential_coverage(kb_, essential)
    if as_json:
        click.echo(json.dumps(st, ensure_ascii=False, indent=2))
        return
    click.echo(f"{st['faqs']} FAQs, {st['paraphrases']} paraphrases, {st['departments']} departments")
    import unicodedata

    def cells(text: str) -> int:  # full-width characters take two columns in a terminal
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    width = max((cells(c["category"]) for c in st["categories"]), default=4)
    for c in st["categories"]:
        pad = " " * (width - cells(c["category"]))
        click.echo(f"  {c['category']}{pad}  {c['faqs']:4d} FAQs  {c['paraphrases']:5d} paraphrases")
    stale = st["not_reviewed_recently"]
    click.echo(f"not reviewed for over a year: {len(stale)}")
    for f in stale:
        click.echo(f"  {f['id']}  (reviewed {f['reviewed'] or 'never'})  {f['source']}")
    click.echo("translation coverage (current / FAQs):")
    for t in st["translations"]:
        click.echo(f"  {t['language']:8s} {t['current']:4d}/{t['faqs']}  {t['share']:6.1%}  "
                   f"({t['stale']} stale, {t['missing']} missing)")
    if "essential" in st:
        click.echo("essential FAQs (i18n/essential.txt), current / listed:")
        for e in st["essential"]:
            click.echo(f"  {e['language']:8s} {e['current']:4d}/{e['essential']}  ({len(e['missing'])} missing)")


# --------------------------------------------------------------------------- quality
def _parser(s, model: Path | None):
    from bot.eval.parser import ModelParser
    from bot.runtime.training import model_path

    return ModelParser(model or model_path(s))


@cli.command()
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Trained model (default: models/madoguchi.tar.gz).")
@click.option("--top", "top", type=click.IntRange(1, 20), default=3, show_default=True,
              help="How many FAQ candidates to print per question (1–20), e.g. 10 to measure recall@10.")
@click.pass_context
def rank(ctx: click.Context, source, model: Path | None, top: int) -> None:
    """Print the top FAQ candidates for each question (one per line) as JSON lines.

    Uses the trained model, exactly as the live assistant does.

    \b
    Example:
        echo 粗大ごみの出し方 | bot rank
        bot rank questions.txt --top 10
    """
    from bot.eval.dataset import read_questions
    from bot.eval.parser import rank_line

    s = _settings(ctx)
    questions = read_questions(source.read())
    try:
        parser = _parser(s, model)
    except MadoguchiError as exc:
        raise _fail(exc) from None
    parser.rank_at_least(top)
    for q in questions:
        click.echo(json.dumps(rank_line(q, parser.parse(q), top), ensure_ascii=False))


def _evaluate(s, paths, model: Path | None, full_search: bool = False):
    """Parse labelled questions with the trained model. ``full_search``: every question
    through the full search (words first off, as calibration needs), and the words-only
    search of each question as a sixth result."""
    from bot.eval.calibrate import outcome_for
    from bot.eval.dataset import read_labelled
    from bot.knowledge.loader import load_knowledge

    paths = [paths] if isinstance(paths, Path) else list(paths)
    questions = [q for path in paths for q in read_labelled(path)]
    path = ", ".join(str(p) for p in paths)
    kb_ = load_knowledge(s.knowledge_dir).kb
    cats = {f.id: f.category for f in kb_.faqs}
    unknown = sorted({q.expected for q in questions if q.in_scope and q.expected not in cats})
    if unknown:
        raise MadoguchiError(f"{path}: labels not in the knowledge base: {', '.join(unknown[:10])}",
                             hint="fix the labels, or pass the matching --knowledge-dir")
    parser = _parser(s, model)
    if full_search:
        parser.set_words_first(False)
    started = time.perf_counter()
    parses = [parser.parse(q.question) for q in questions]
    per_question_ms = (time.perf_counter() - started) * 1000 / len(questions)
    categories = [cats.get(q.expected, "(out of scope)") if q.in_scope else "(out of scope)" for q in questions]
    outcomes = [outcome_for(q, p, c) for q, p, c in zip(questions, parses, categories)]
    if full_search:
        return questions, parses, categories, outcomes, per_question_ms, [parser.words_only(q.question) for q in questions]
    return questions, parses, categories, outcomes, per_question_ms


@cli.command("eval")
@click.argument("labelled", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--errors", is_flag=True, help="Also list the questions that went wrong.")
@click.pass_context
def evaluate(ctx: click.Context, labelled: Path, as_json: bool, model: Path | None, errors: bool) -> None:
    """Measure answer quality on a labelled question file (CSV: question,faq_id).

    faq_id is the expected FAQ id, or "none" for questions no FAQ should answer.
    Prints top-1 accuracy, recall@3, MRR and the cannot-answer precision/recall,
    overall and per category.

    \b
    Example:
        bot eval eval/dev.csv
        bot eval eval/dev.csv --json
    """
    from bot.contract import REFUSALS, Outcome
    from bot.eval.metrics import by_category, summarise

    s = _settings(ctx)
    try:
        _, _, _, outcomes, ms = _evaluate(s, labelled, model)
    except MadoguchiError as exc:
        raise _fail(exc) from None
    report = {"overall": summarise(outcomes), "by_category": by_category(outcomes), "nlu_ms_per_question": round(ms, 2)}
    if errors:
        report["errors"] = [
            {"question": o.question.question, "expected": o.question.expected, "decision": o.decision,
             "answered": o.answered, "ranking": o.ranking[:3]}
            for o in outcomes
            if (o.question.in_scope and (o.ranking[:1] != [o.question.expected] or o.decision not in (Outcome.ANSWER, Outcome.CLARIFY)))
            or (not o.question.in_scope and o.decision not in REFUSALS)
        ]
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    o = report["overall"]
    click.echo(f"questions: {o['questions']} ({o['in_scope']} in scope, {o['out_of_scope']} out of scope)")
    click.echo(f"top-1 accuracy:            {o['top1']:.3f}")
    click.echo(f"recall@3:                  {o['recall_at_3']:.3f}")
    click.echo(f"MRR:                       {o['mrr']:.3f}")
    click.echo(f"cannot-answer precision:   {o['cannot_answer_precision']:.3f}")
    click.echo(f"cannot-answer recall:      {o['cannot_answer_recall']:.3f}")
    click.echo(f"answered correctly:        {o['answered_correctly']:.3f}   clarified with the right FAQ: {o['clarified_with_correct']:.3f}")
    click.echo(f"wrong answers (any):       {o['wrong_answers']:.3f}")
    click.echo(f"NLU time per question:     {ms:.1f} ms")
    click.echo("by category:                       n  top1   r@3  answered  cannot-P cannot-R")
    for cat, m in report["by_category"].items():
        if m["out_of_scope"]:  # precision/recall of refusing only mean something here
            refusal = f"{m['cannot_answer_precision']:.2f}     {m['cannot_answer_recall']:.2f}"
            click.echo(f"  {cat:28s} {m['questions']:4d}   -      -       -      {refusal}")
        else:
            click.echo(f"  {cat:28s} {m['questions']:4d} {m['top1']:.2f}  {m['recall_at_3']:.2f}   {m['answered_correctly']:.2f}       -        -")
    for e in report.get("errors", []):
        click.echo(f"  ✗ {e['question']}  expected={e['expected']} got={e['decision']}:{e['answered']} top3={e['ranking']}")


@cli.command()
@click.argument("labelled", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--model", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--top", default=5, show_default=True, help="How many threshold sets to show.")
@click.option("--cv", default=0, show_default=True, help="Also cross-validate: this many half/half splits.")
@click.option("--min-precision", default=0.0, show_default=True,
              help="Required cannot-answer precision: settings reaching it (and --min-recall) are preferred.")
@click.option("--min-recall", default=0.0, show_default=True, help="Required cannot-answer recall.")
@click.option("--max-wrong", type=float, default=None,
              help="Largest accepted share of wrong answers (e.g. 0.015): within it, answer the most questions "
                   "directly and correctly.")
@click.pass_context
def calibrate(ctx: click.Context, labelled: tuple[Path, ...], model: Path | None, top: int, cv: int,
              min_precision: float, min_recall: float, max_wrong: float | None) -> None:
    """Recommend FaqRetriever thresholds for config.yml from labelled dev sets (one or more files).

    The objective rewards right answers and honest refusals and penalises wrong answers
    three times; with --min-precision/--min-recall, the best settings that reach that
    cannot-answer operating point come first. With --max-wrong, among the settings that
    keep wrong answers within that share, the one that answers the most questions
    directly and correctly comes first (clarifying only what is really ambiguous).

    With --cv N, also check how well such thresholds carry over to questions they were
    not calibrated on: N random half/half splits, calibrated on one half and measured on
    the other (coverage and veto as in config.yml).

    With a sentence encoder, it also recommends the words-first gate (words_first_*):
    the settings at which the most questions are answered from their words alone,
    without encoding them, while no answer on these questions gets worse.

    Questions ranked by meaning alone (no letters in a script the FAQs are asked in,
    e.g. English against Japanese FAQs: eval/dev-languages.csv) get their own
    recommendation, meaning_only_*.

    \b
    Example:
        bot calibrate eval/dev.csv
        bot calibrate eval/dev.csv --cv 10
        bot calibrate eval/dev.csv --min-precision 0.9 --min-recall 0.9
        bot calibrate eval/dev.csv eval/dev-situations.csv --min-precision 0.95 --min-recall 0.9 --max-wrong 0.02
    """
    from bot.contract import PARSE_KEY
    from bot.eval.calibrate import cross_validate
    from bot.knowledge.decision import OUT_OF_SCOPE_VETO, Thresholds

    s = _settings(ctx)
    try:
        questions, parses, categories, _, _, words = _evaluate(s, labelled, model, full_search=True)
        configured = _retriever_config(s.project_dir / "config.yml")
    except MadoguchiError as exc:
        raise _fail(exc) from None
    meaning_only = [bool(((p.get(PARSE_KEY) or {}).get("signals") or {}).get("meaning_only")) for p in parses]
    rows = [i for i, m in enumerate(meaning_only) if not m]
    if rows:
        pick = lambda xs: [xs[i] for i in rows]  # noqa: E731
        # A model of a knowledge base with few paraphrases reads the few_paraphrases_* thresholds.
        few = any(((parses[i].get(PARSE_KEY) or {}).get("signals") or {}).get("few_paraphrases") for i in rows)
        if few:
            click.echo("this knowledge base has few paraphrases (fewer than few_paraphrases_share of its FAQs have "
                       "one): its thresholds are the few_paraphrases_* ones")
        best = _recommend_thresholds(pick(questions), pick(parses), pick(categories), top,
                                     "few_paraphrases_" if few else "", min_precision, min_recall, max_wrong)
        if any(words[i] is not None for i in rows):
            _recommend_words_first(list(zip(pick(questions), pick(parses), pick(words), pick(categories))), *best)
    foreign = [i for i, m in enumerate(meaning_only) if m]
    if foreign:
        pick = lambda xs: [xs[i] for i in foreign]  # noqa: E731
        click.echo(f"\n{len(foreign)} questions were ranked by their meaning alone (no letters in a script the FAQs "
                   "are asked in); their own thresholds (the out_of_scope veto stays as configured):")
        _recommend_thresholds(pick(questions), pick(parses), pick(categories), top, "meaning_only_",
                              min_precision, min_recall, max_wrong,
                              veto=float(configured.get("out_of_scope_threshold", OUT_OF_SCOPE_VETO)))
    if cv:
        veto = float(configured.get("out_of_scope_threshold", OUT_OF_SCOPE_VETO))
        r = cross_validate(questions, parses, categories, Thresholds.from_config(configured), veto, splits=cv,
                           min_precision=min_precision, min_recall=min_recall, max_wrong=max_wrong)
        click.echo(f"\ncross-validated ({cv} half/half splits; held-out half):")
        for name in ("top1", "cannot_answer_precision", "cannot_answer_recall", "answered_correctly", "wrong_answers"):
            click.echo(f"    {name:26s} mean {r['mean'][name]:.3f}   worst {r['worst'][name]:.3f}")


def _recommend_thresholds(questions, parses, categories, top: int, prefix: str, min_precision: float,
                          min_recall: float, max_wrong: float | None, veto: float | None = None):
    """Print the best threshold settings for these questions; returns (thresholds, veto)."""
    from bot.eval.calibrate import calibrate as run_calibration
    from bot.eval.calibrate import meets
    from bot.knowledge.decision import OUT_OF_SCOPE_VETO, Thresholds

    from bot.eval.calibrate import LOW_ANSWER_GRID

    extra = {} if veto is None else {"vetoes": (veto,)}
    if prefix == "meaning_only_":
        extra["answers"] = LOW_ANSWER_GRID
    # The veto is searched on OUT_OF_SCOPE_GRID (or is ``veto``); the base value is not used by the grid.
    results = run_calibration(questions, parses, categories, Thresholds(), OUT_OF_SCOPE_VETO,
                              min_precision=min_precision, min_recall=min_recall, max_wrong=max_wrong, **extra)
    wrong_cap = 1.0 if max_wrong is None else max_wrong
    if (min_precision or min_recall or max_wrong is not None) and not meets(results[0][3], min_precision, min_recall,
                                                                            wrong_cap):
        click.echo(f"no setting reaches cannot-answer precision ≥ {min_precision}, recall ≥ {min_recall} and wrong "
                   f"answers ≤ {wrong_cap}; best by the objective:")
    click.echo("objective  answer clarify margin coverage oos   top1  ans-ok clar-ok wrong  cannot-P cannot-R")
    for score, t, oos, m in results[:top]:
        click.echo(f"{score:8.3f}   {t.answer:5.2f}  {t.clarify:5.3f}  {t.margin:5.2f}  {t.min_coverage:5.2f}  {oos:4.1f}  "
                   f"{m['top1']:.3f}  {m['answered_correctly']:.3f}  {m['clarified_with_correct']:.3f}  "
                   f"{m['wrong_answers']:.3f}  {m['cannot_answer_precision']:.3f}    {m['cannot_answer_recall']:.3f}")
    _, best, oos, _ = results[0]
    click.echo("\nput in config.yml (FaqRetriever):")
    names = ("answer_threshold", "clarify_threshold", "margin_threshold", "min_coverage")
    for name, value in zip(names, (best.answer, best.clarify, best.margin, best.min_coverage)):
        click.echo(f"    {prefix}{name}: {value}")
    if veto is None:
        click.echo(f"    out_of_scope_threshold: {oos}")
    return best, oos


def _recommend_words_first(rows, thresholds, veto: float) -> None:
    """The words-first gate for the thresholds just recommended (bot/eval/words_first.py)."""
    from bot.eval.words_first import calibrate_gate

    gate, fig, full = calibrate_gate(rows, thresholds, veto)
    click.echo("\nwords first (questions answered by their words alone, without the sentence encoder):")
    if gate is None:
        click.echo("    no setting spares the encoder without changing the answers on these questions:\n"
                   "    words_first_threshold: null")
        return
    click.echo(f"    {fig['words_first']:.1%} of these questions answered by their words alone; answered right "
               f"{full['answered_correctly']:.3f} -> {fig['answered_correctly']:.3f}, wrong "
               f"{full['wrong_answers']:.3f} -> {fig['wrong_answers']:.3f}")
    click.echo(f"    words_first_threshold: {gate.answer}\n    words_first_margin: {gate.margin}\n"
               f"    words_first_min_coverage: {gate.min_coverage}")


def _retriever_config(path: Path) -> dict:
    """The FaqRetriever settings of config.yml ({} when it has none)."""
    from ruamel.yaml import YAML

    try:
        config = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    except (OSError, ValueError) as exc:
        raise MadoguchiError(f"cannot read {path}: {exc}", hint="check that config.yml is valid YAML") from None
    for step in config.get("pipeline") or []:
        if isinstance(step, dict) and str(step.get("name", "")).endswith("FaqRetriever"):
            return step
    return {}


# --- sub-command groups of other capabilities (one line each: cli.add_command(...)) ---
def _register_subcommands() -> None:
    """Add the command groups that live next to their capability (bot/<capability>/cli.py)."""
    import importlib

    for module, name in _SUBCOMMANDS:
        cli.add_command(getattr(importlib.import_module(module), name))


_SUBCOMMANDS: list[tuple[str, str]] = [
    ("bot.line.cli", "line"),
    ("bot.console.cli", "staff"),
    ("bot.review.cli", "review"),
    ("bot.cluster.cli", "cluster"),
    ("bot.cluster.cli", "db"),
]
_register_subcommands()  # cheap: those modules import their heavy dependencies lazily


def main() -> None:
    try:
        cli(prog_name="bot")
    except MadoguchiError as exc:  # anything that escaped a command
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
