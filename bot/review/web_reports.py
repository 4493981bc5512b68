"""Review pages for retraining, the dashboard and CSV export."""

from __future__ import annotations

import datetime as dt
import io
from html import escape

from aiohttp import web

from bot.i18n.languages import staff_label
from bot.review import charts
from bot.review.dashboard import BUCKET_LABELS, BUCKETS, Dashboard, build_dashboard
from bot.review.export import EXPORT_KINDS, write_channels, write_daily, write_groups, write_questions
from bot.review.service import ReviewService
from bot.review.store import LOCAL_TZ, ReviewFilter
from bot.review.web_common import (
    DASHBOARD_DAYS, RETRAIN, SERVICE, SETTINGS, ACTION_LABELS, blocking, csrf_field, errors_html, filter_form, link, page,
    parse_date, redirect, review_filters, training_pending,
)

async def retrain_page(request: web.Request) -> web.Response:
    job = request.app[RETRAIN]
    status = job.status()
    pending = await blocking(training_pending, request.app[SETTINGS])
    pct = int(status.progress() * 100)
    parts = []
    if status.running:
        parts.append(
            f'<p><strong>{escape(status.label)}</strong>（{status.elapsed():.0f}秒経過・目安 {status.expected_seconds:.0f}秒）</p>'
            f'<progress value="{status.progress():.3f}" max="1" aria-label="学習の進み具合">{pct}%</progress>'
            f'<p class="muted">このページは自動で更新されます。学習中もアシスタントは今のモデルで応答を続けます。</p>'
        )
    else:
        if status.phase.value in ("done", "failed"):
            kind = "ok" if status.phase.value == "done" else "error"
            parts.append(f'<div class="flash {kind}" role="status"><strong>{escape(status.label)}</strong><br>'
                         f'{escape(status.message).replace(chr(10), "<br>")}</div>')
        parts.append(f'<p>{"ナレッジや学習データに、まだ反映されていない変更があります。" if pending else "変更はすべて反映されています。"}</p>')
        parts.append(
            f'<form method="post" action="{escape(link(request, "review-retrain"))}">{csrf_field(request)}'
            f'<label><input type="checkbox" name="force" value="1"> 変更がなくても学習する</label> '
            f'<button type="submit">学習して反映する</button></form>'
            f'<p class="muted">学習には約{status.expected_seconds:.0f}秒かかります。終わると新しいモデルに切り替わります（止まりません）。</p>'
        )
    resolutions = await blocking(request.app[SERVICE].log.resolutions, 10)
    if resolutions:
        rows = "".join(
            f"<tr><td>{escape(r['created_at'][:16].replace('T', ' '))} UTC</td><td>{escape(ACTION_LABELS.get(r['action'], r['action']))}</td>"
            f"<td>{escape(r['faq_id'] or '')}</td><td>{len(r['question_ids'])}</td><td>{escape(r['staff'] or '')}</td></tr>"
            for r in resolutions)
        parts.append(f"<section><h2>最近の対応</h2><table><tr><th>日時</th><th>対応</th><th>FAQ</th><th>質問数</th><th>職員</th></tr>{rows}</table></section>")
    return page(request, "学習と反映", "".join(parts), here="review-retrain", refresh=2 if status.running else None)


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


async def dashboard_page(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    since, until, channel, errors, raw = _period(request)
    d = await blocking(_dashboard, service, since, until, channel)
    channels = await blocking(service.log.channels)
    tiles = [("質問", f"{d.questions}件"), ("自己解決率", _pct(d.self_resolution_rate))] + [
        (BUCKET_LABELS[b], f"{d.buckets[b]}件（{_pct(d.share(b))}）") for b in BUCKETS]
    tiles_html = "".join(f'<div class="tile" data-figure="{escape(k)}">{escape(k)}<b>{escape(v)}</b></div>' for k, v in tiles)
    series = [(b, BUCKET_LABELS[b]) for b in BUCKETS]
    per_day = charts.stacked_bars("日ごとの質問数", [(day.strftime("%m/%d"), counts) for day, counts in d.days], series)
    shares = charts.share_bar("結果の内訳", [(b, BUCKET_LABELS[b], d.buckets[b]) for b in BUCKETS])
    top_faqs = charts.horizontal_bars("よく使われたFAQ", [(q or f, n) for f, q, n in d.top_faqs], unit="件")
    group_rows = "".join(
        f'<li><a href="{escape(link(request, "review-group", {"since": raw["since"], "until": raw["until"]}, key=str(g.key)))}">'
        f"「{escape(g.label)}」</a> {g.count}件</li>" for g in d.top_groups)
    top_groups = charts.horizontal_bars("多かった未回答の質問", [(g.label, g.count) for g in d.top_groups], unit="件")
    if d.waits is None:
        waits = '<p class="muted">引き継ぎのデータがありません（引き継ぎ機能が使われていません）。</p>'
    else:
        w = d.waits
        waits = (
            f'<p>引き継ぎ {w.handoffs}件（対応 {w.claimed}件）／待ち時間の中央値 {w.median if w.median is not None else "—"}分'
            f'・90%点 {w.p90 if w.p90 is not None else "—"}分・平均 {w.mean if w.mean is not None else "—"}分</p>'
            + charts.horizontal_bars("引き継ぎの待ち時間", list(w.bins), label_w=140, unit="件")
        )
    channel_rows = "".join(
        f"<tr><td>{escape(c.channel)}</td><td>{c.questions}</td>"
        + "".join(f"<td>{c.buckets[b]}</td>" for b in BUCKETS)
        + f"<td>{_pct(c.self_resolution_rate)}</td></tr>"
        for c in d.channels)
    channel_chart = charts.horizontal_bars(
        "チャネル別の自己解決率", [(c.channel, round((c.self_resolution_rate or 0) * 100, 1)) for c in d.channels], label_w=140, unit="%")
    language_rows = "".join(
        f"<tr><td>{escape(staff_label(c.channel or None))}</td><td>{c.questions}</td>"
        + "".join(f"<td>{c.buckets[b]}</td>" for b in BUCKETS)
        + f"<td>{_pct(c.self_resolution_rate)}</td></tr>"
        for c in d.languages)
    day_rows = "".join(
        f"<tr><td>{day.isoformat()}</td><td>{sum(c[b] for b in BUCKETS)}</td>" + "".join(f"<td>{c[b]}</td>" for b in BUCKETS) + "</tr>"
        for day, c in d.days)
    head = "".join(f"<th>{BUCKET_LABELS[b]}</th>" for b in BUCKETS)
    exports = "・".join(
        f'<a href="{escape(link(request, "review-export", {**raw, "kind": k}))}">{label}</a>'
        for k, label in (("daily", "日別"), ("channels", "チャネル別"), ("questions", "質問の一覧"), ("groups", "未回答グループ")))
    body = (
        f"{errors_html(errors)}{filter_form(request, raw, channels, [], link(request, 'review-dashboard'), with_outcome=False)}"
        f'<p class="meta">{since.isoformat()} 〜 {until.isoformat()}{f"／{escape(channel)}" if channel else ""}。CSV: {exports}</p>'
        f'<div class="tiles">{tiles_html}</div>'
        f'<section><h2>日ごとの質問数</h2>{per_day}<details><summary>数値</summary><table><tr><th>日</th><th>質問</th>{head}</tr>{day_rows}</table></details></section>'
        f"<section><h2>結果の内訳（自己解決率 {_pct(d.self_resolution_rate)}）</h2>{shares}"
        f'<p class="muted">自己解決＝回答した、または候補から選ばれた質問のうち、その後「役に立たなかった」も職員への引き継ぎもなかったもの。</p></section>'
        f"<section><h2>よく使われたFAQ</h2>{top_faqs}</section>"
        f"<section><h2>多かった未回答の質問</h2>{top_groups}<ul>{group_rows}</ul></section>"
        f"<section><h2>引き継ぎの待ち時間</h2>{waits}</section>"
        f"<section><h2>チャネル別</h2>{channel_chart}<table><tr><th>チャネル</th><th>質問</th>{head}<th>自己解決率</th></tr>{channel_rows}</table></section>"
        f"<section><h2>言語別</h2><table><tr><th>言語</th><th>質問</th>{head}<th>自己解決率</th></tr>{language_rows}</table>"
        f'<p class="muted">言語は会話の言語（住民が選んだもの、または文面から判定したもの）。「不明」は言語を記録する前の質問です。</p></section>'
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
