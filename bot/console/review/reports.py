"""The review's pages for retraining, the dashboard and CSV export."""

from __future__ import annotations

import datetime as dt
import io

from aiohttp import web
from markupsafe import Markup

from bot.console.render import fragment, join
from bot.console.review import charts
from bot.console.review.common import (
    ACTION_LABELS, DASHBOARD_DAYS, RETRAIN, SERVICE, SETTINGS, blocking, csrf_field, errors_html, filter_form,
    lines, link, page, parse_date, redirect, review_filters, training_pending,
)
from bot.i18n.languages import staff_label
from bot.review.dashboard import BUCKET_LABELS, BUCKETS, Dashboard, build_dashboard
from bot.review.export import EXPORT_KINDS, write_channels, write_daily, write_groups, write_questions
from bot.review.service import ReviewService
from bot.review.store import LOCAL_TZ, ReviewFilter


async def retrain_page(request: web.Request) -> web.Response:
    job = request.app[RETRAIN]
    status = job.status()
    pending = await blocking(training_pending, request.app[SETTINGS])
    parts = []
    if status.running:
        parts.append(fragment("review/retrain_running.html", label=status.label, elapsed=f"{status.elapsed():.0f}",
                              expected=f"{status.expected_seconds:.0f}", progress=f"{status.progress():.3f}",
                              percent=int(status.progress() * 100)))
    else:
        if status.phase.value in ("done", "failed"):
            parts.append(fragment("review/retrain_result.html", kind="ok" if status.phase.value == "done" else "error",
                                  label=status.label, message=lines(status.message)))
        parts.append(fragment(
            "review/retrain_form.html",
            pending="ナレッジや学習データに、まだ反映されていない変更があります。" if pending else "変更はすべて反映されています。",
            action=link(request, "review-retrain"), csrf=csrf_field(request), expected=f"{status.expected_seconds:.0f}"))
    resolutions = await blocking(request.app[SERVICE].log.resolutions, 10)
    if resolutions:
        parts.append(fragment("review/resolutions.html", rows=join(
            fragment("review/resolution_row.html", at=r["created_at"][:16].replace("T", " "),
                     action=ACTION_LABELS.get(r["action"], r["action"]), faq_id=r["faq_id"] or "",
                     questions=len(r["question_ids"]), staff=r["staff"] or "")
            for r in resolutions)))
    return page(request, "学習と反映", join(parts), here="review-retrain", refresh=2 if status.running else None)


async def retrain_start(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    started = request.app[RETRAIN].start(force=form.get("force") == "1")
    if not started:
        raise redirect(request, "review-retrain", "すでに学習中です。終わるまでお待ちください。", "error")
    raise web.HTTPSeeOther(link(request, "review-retrain"))


async def retrain_status(request: web.Request) -> web.Response:
    return web.json_response(request.app[RETRAIN].status().as_dict())


def _period(request: web.Request) -> tuple[dt.date, dt.date, str | None, list[str], dict]:
    errors: list[str] = []
    today = dt.datetime.now(LOCAL_TZ).date()
    until = parse_date(request.query.get("until"), "終了日", errors) or today
    since = parse_date(request.query.get("since"), "開始日", errors) or until - dt.timedelta(days=DASHBOARD_DAYS - 1)
    if since > until:
        errors.append("開始日は終了日より前にしてください。")
        since, until = until, since
    if (until - since).days > 366:
        errors.append("期間は1年以内にしてください。直近1年を表示します。")
        since = until - dt.timedelta(days=366)
    channel = (request.query.get("channel") or "")[:32] or None
    raw = {"since": since.isoformat(), "until": until.isoformat(), "channel": channel or ""}
    return since, until, channel, errors, raw


def _dashboard(service: ReviewService, since: dt.date, until: dt.date, channel: str | None) -> Dashboard:
    groups = service.groups(ReviewFilter(since=since, until=until, channel=channel))
    return build_dashboard(service.log, service.knowledge(), since, until, channel, groups)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _minutes(value: float | None) -> str:
    return "—" if value is None else str(value)


def _breakdown_rows(rows, name) -> Markup:
    """A row per channel (or language): questions, each outcome, self-resolution rate."""
    return join(fragment("review/breakdown_row.html", name=name(c), questions=c.questions,
                         cells=join(fragment("review/cell.html", value=c.buckets[b]) for b in BUCKETS),
                         rate=_pct(c.self_resolution_rate))
                for c in rows)


async def dashboard_page(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    since, until, channel, errors, raw = _period(request)
    d = await blocking(_dashboard, service, since, until, channel)
    channels = await blocking(service.log.channels)
    tiles = [("質問", f"{d.questions}件"), ("自己解決率", _pct(d.self_resolution_rate))] + [
        (BUCKET_LABELS[b], f"{d.buckets[b]}件（{_pct(d.share(b))}）") for b in BUCKETS]
    series = [(b, BUCKET_LABELS[b]) for b in BUCKETS]
    if d.waits is None:
        waits = fragment("review/no_waits.html")
    else:
        w = d.waits
        waits = fragment("review/waits.html", handoffs=w.handoffs, claimed=w.claimed, median=_minutes(w.median),
                         p90=_minutes(w.p90), mean=_minutes(w.mean),
                         chart=charts.horizontal_bars("引き継ぎの待ち時間", list(w.bins), label_w=140, unit="件"))
    exports = (("daily", "日別"), ("channels", "チャネル別"), ("questions", "質問の一覧"), ("groups", "未回答グループ"))
    body = fragment(
        "review/dashboard.html",
        errors=errors_html(errors),
        filters=filter_form(request, raw, channels, [], link(request, "review-dashboard"), with_outcome=False),
        since=since.isoformat(), until=until.isoformat(), channel=f"／{channel}" if channel else "",
        exports=join((fragment("review/link.html", href=link(request, "review-export", {**raw, "kind": k}), label=label)
                      for k, label in exports), "・"),
        tiles=join(fragment("review/tile.html", name=k, value=v) for k, v in tiles),
        per_day=charts.stacked_bars("日ごとの質問数", [(day.strftime("%m/%d"), counts) for day, counts in d.days], series),
        head=join(fragment("review/head_cell.html", label=BUCKET_LABELS[b]) for b in BUCKETS),
        day_rows=join(fragment("review/day_row.html", day=day.isoformat(), total=sum(c[b] for b in BUCKETS),
                               cells=join(fragment("review/cell.html", value=c[b]) for b in BUCKETS))
                      for day, c in d.days),
        rate=_pct(d.self_resolution_rate),
        shares=charts.share_bar("結果の内訳", [(b, BUCKET_LABELS[b], d.buckets[b]) for b in BUCKETS]),
        top_faqs=charts.horizontal_bars("よく使われたFAQ", [(q or f, n) for f, q, n in d.top_faqs], unit="件"),
        top_groups=charts.horizontal_bars("多かった未回答の質問", [(g.label, g.count) for g in d.top_groups], unit="件"),
        group_rows=join(fragment("review/top_group.html", label=g.label, count=g.count,
                                 href=link(request, "review-group", {"since": raw["since"], "until": raw["until"]},
                                           key=str(g.key)))
                        for g in d.top_groups),
        waits=waits,
        channel_chart=charts.horizontal_bars(
            "チャネル別の自己解決率", [(c.channel, round((c.self_resolution_rate or 0) * 100, 1)) for c in d.channels],
            label_w=140, unit="%"),
        channel_rows=_breakdown_rows(d.channels, lambda c: c.channel),
        language_rows=_breakdown_rows(d.languages, lambda c: staff_label(c.channel or None)),
    )
    return page(request, "ダッシュボード", body, here="review-dashboard")


async def export_csv(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    kind = request.query.get("kind") or "questions"
    if kind not in EXPORT_KINDS:
        raise web.HTTPBadRequest(text=f"kind は {', '.join(EXPORT_KINDS)} のどれかにしてください。")
    out = io.StringIO()
    if kind in ("daily", "channels"):
        since, until, channel, _, raw = _period(request)
        d = await blocking(_dashboard, service, since, until, channel)
        (write_daily if kind == "daily" else write_channels)(out, d)
        name = f"madoguchi-{kind}-{raw['since']}-{raw['until']}.csv"
    else:
        filters, raw, _ = review_filters(request)
        if kind == "groups":
            groups = await blocking(service.groups, filters, raw["sort"])
            write_groups(out, groups)
        else:
            all_filters = ReviewFilter(filters.since, filters.until, filters.channel, filters.category, (), None,
                                       language=filters.language)
            questions = await blocking(service.log.questions, all_filters)
            write_questions(out, questions)
        name = f"madoguchi-{kind}.csv"
    # The BOM makes Excel (still the tool of most offices) read the UTF-8 correctly.
    return web.Response(
        body=("\ufeff" + out.getvalue()).encode("utf-8"),
        content_type="text/csv", charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
