"""The review pages of the staff console, as an aiohttp sub-application.

``create_review_app(settings)`` returns an application that the console mounts under
``/review`` behind its log-in and CSRF middleware (this app has no authentication of its
own). Forms carry the console's CSRF token as the hidden field ``_csrf`` when the
console put it in ``request["csrf_token"]``; the staff member's name, when the console
provides it (``request["staff_name"]`` or ``request["username"]``), is stored with each
review decision.

Pages: the grouped list of unanswered questions with filters and the four actions,
a group's details, a new-FAQ draft form, retraining with progress, the dashboard, CSV.
All HTML is server-rendered; charts are inline SVG (no JavaScript, no CDN).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import io
import secrets
from collections import OrderedDict
from html import escape
from typing import Any, Callable
from urllib.parse import urlencode

from aiohttp import web

from bot.errors import MadoguchiError
from bot.review import charts
from bot.review.dashboard import BUCKET_LABELS, BUCKETS, Dashboard, build_dashboard
from bot.review.export import EXPORT_KINDS, write_channels, write_daily, write_groups, write_questions
from bot.review.grouping import QuestionGroup
from bot.review.knowledge_edit import FaqDraft, faq_files
from bot.review.retrain import RetrainJob
from bot.review.service import ReviewService
from bot.review.store import LOCAL_TZ, REVIEW_OUTCOMES, ReviewFilter
from bot.settings import Settings

SERVICE = web.AppKey("review_service", ReviewService)
RETRAIN = web.AppKey("review_retrain", RetrainJob)
SETTINGS = web.AppKey("review_settings", Settings)
FLASHES = web.AppKey("review_flashes", OrderedDict)

MAX_IDS = 5000  # questions one form may act on
DASHBOARD_DAYS = 30  # default period of the dashboard
OUTCOME_LABELS = {
    "clarify": "候補提示", "cannot_answer": "回答できず", "unclear": "読み取れず",
    "feedback_negative": "役に立たなかった", "handoff_requested": "職員を希望", "answer": "回答",
}
SORTS = {"frequent": "件数の多い順", "newest": "新しい順"}
ACTION_LABELS = {"paraphrased": "言い換えを追加", "new_faq": "新しいFAQ", "out_of_scope": "対象外", "dismissed": "対応不要"}


# --------------------------------------------------------------------------- helpers
def _staff(request: web.Request) -> str | None:
    for key in ("staff_name", "username"):
        value = request.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _csrf_field(request: web.Request) -> str:
    token = request.get("csrf_token")
    return f'<input type="hidden" name="_csrf" value="{escape(str(token))}">' if token else ""


def _url(request: web.Request, name: str, query: dict | None = None, **parts: str) -> str:
    url = request.app.router[name].url_for(**parts)
    if query:
        url = url.with_query({k: v for k, v in query.items() if v not in (None, "")})
    return str(url)


async def _blocking(func: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run database, Sudachi and file work off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(func, *args, **kwargs))


def _flash(request: web.Request, message: str, kind: str = "ok") -> str:
    flashes = request.app[FLASHES]
    token = secrets.token_urlsafe(8)
    flashes[token] = (kind, message)
    while len(flashes) > 200:
        flashes.popitem(last=False)
    return token


def _take_flash(request: web.Request) -> str:
    token = request.query.get("flash")
    item = request.app[FLASHES].pop(token, None) if token else None
    if not item:
        return ""
    kind, message = item
    return f'<div class="flash {escape(kind)}" role="status">{escape(message).replace(chr(10), "<br>")}</div>'


def _redirect(request: web.Request, name: str, message: str | None = None, kind: str = "ok",
              query: dict | None = None, **parts: str) -> web.HTTPSeeOther:
    q = dict(query or {})
    if message:
        q["flash"] = _flash(request, message, kind)
    return web.HTTPSeeOther(_url(request, name, q, **parts))


def _parse_date(value: str | None, field: str, errors: list[str]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        errors.append(f"{field}は YYYY-MM-DD の形で入力してください（入力: {value[:20]}）。")
        return None


def _filters(request: web.Request) -> tuple[ReviewFilter, dict, list[str]]:
    q = request.query
    errors: list[str] = []
    since = _parse_date(q.get("since"), "開始日", errors)
    until = _parse_date(q.get("until"), "終了日", errors)
    if since and until and since > until:
        errors.append("開始日は終了日より前にしてください。")
        since, until = until, since
    outcome = q.get("outcome") or ""
    outcomes = (outcome,) if outcome in REVIEW_OUTCOMES else REVIEW_OUTCOMES
    raw = {
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
        "channel": (q.get("channel") or "")[:32],
        "category": (q.get("category") or "")[:100],
        "outcome": outcome if outcome in REVIEW_OUTCOMES else "",
        "sort": q.get("sort") if q.get("sort") in SORTS else "frequent",
    }
    return ReviewFilter(since, until, raw["channel"] or None, raw["category"] or None, outcomes), raw, errors


def _ids(value: str | None) -> list[int]:
    ids = []
    for part in (value or "").replace(" ", ",").split(","):
        if part.strip():
            if not part.strip().isdigit():
                raise web.HTTPBadRequest(text="ids は数字をカンマで区切って指定してください。")
            ids.append(int(part))
    if not ids:
        raise web.HTTPBadRequest(text="対象の質問（ids）がありません。一覧からやり直してください。")
    if len(ids) > MAX_IDS:
        raise web.HTTPBadRequest(text=f"一度に扱える質問は{MAX_IDS}件までです。")
    return ids


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


_CSS = """
body{font-family:system-ui,"Hiragino Sans","Noto Sans CJK JP",sans-serif;margin:0;color:#222;background:#f6f7f9}
header.top{background:#1f3a5f;color:#fff;padding:.6rem 1rem;display:flex;gap:1.2rem;align-items:center;flex-wrap:wrap}
header.top a{color:#fff;text-decoration:none}header.top a.here{text-decoration:underline}
main{max-width:1100px;margin:0 auto;padding:1rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin:.2rem 0}
.flash{padding:.6rem .8rem;border-radius:6px;margin:.6rem 0}.flash.ok{background:#e3f4ea}.flash.error{background:#fde8e8}
.banner{background:#fff4d6;padding:.5rem .8rem;border-radius:6px;margin:.5rem 0}
form.filters{display:flex;gap:.6rem;flex-wrap:wrap;align-items:end;background:#fff;padding:.6rem;border-radius:8px}
form.filters label{display:flex;flex-direction:column;font-size:.85rem}
article.group{background:#fff;border-radius:8px;padding:.8rem 1rem;margin:.8rem 0;box-shadow:0 1px 2px #0002}
.count{font-size:1.3rem;font-weight:bold;color:#1f3a5f;margin-right:.5rem}
.meta{color:#555;font-size:.9rem;margin:.2rem 0}.examples{margin:.2rem 0;font-size:.95rem}
.actions{display:flex;gap:.6rem;flex-wrap:wrap;align-items:center;margin-top:.5rem}
.actions form{display:inline-flex;gap:.3rem;align-items:center;flex-wrap:wrap}
button,.button{background:#1f3a5f;color:#fff;border:0;border-radius:6px;padding:.4rem .7rem;cursor:pointer;font-size:.9rem;text-decoration:none;display:inline-block}
button.secondary,.button.secondary{background:#e6e9ef;color:#222}
button.suggest{background:#0b6e4f}
input[type=text],input[type=date],select,textarea{font:inherit;padding:.3rem;border:1px solid #bbb;border-radius:4px}
textarea{width:100%}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;font-size:.9rem}
.tiles{display:flex;gap:.8rem;flex-wrap:wrap}.tile{background:#fff;border-radius:8px;padding:.6rem 1rem;min-width:9rem}
.tile b{display:block;font-size:1.5rem}
section{background:#fff;border-radius:8px;padding:.8rem 1rem;margin:1rem 0}
.chart{max-width:100%;height:auto}
progress{width:100%;height:1.4rem}
.muted{color:#777}
"""


def _page(request: web.Request, title: str, body: str, here: str = "", refresh: int | None = None,
          status: int = 200) -> web.Response:
    nav = [("review-index", "未回答の質問"), ("review-dashboard", "ダッシュボード"), ("review-retrain", "学習")]
    links = "".join(
        f'<a href="{escape(_url(request, name))}"{" class=here" if name == here else ""}>{label}</a>' for name, label in nav
    )
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    html = (
        f'<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{meta}'
        f'<title>{escape(title)}｜窓口 振り返り</title><link rel="stylesheet" href="{escape(_url(request, "review-css"))}"></head><body>'
        f'<header class="top"><a href="/">← コンソール</a><strong>振り返り</strong>{links}</header>'
        f"<main><h1>{escape(title)}</h1>{_take_flash(request)}{body}</main></body></html>"
    )
    return web.Response(text=html, content_type="text/html", status=status)


def _options(values: list[str], selected: str, empty: str) -> str:
    opts = [f'<option value="">{escape(empty)}</option>']
    for v in values:
        opts.append(f'<option value="{escape(v)}"{" selected" if v == selected else ""}>{escape(v)}</option>')
    return "".join(opts)


def _filter_form(request: web.Request, raw: dict, channels: list[str], categories: list[str], action: str,
                 with_outcome: bool = True) -> str:
    outcome = ""
    if with_outcome:
        opts = "".join(
            f'<option value="{o}"{" selected" if raw.get("outcome") == o else ""}>{OUTCOME_LABELS[o]}</option>'
            for o in REVIEW_OUTCOMES)
        outcome = f'<label>種類<select name="outcome"><option value="">すべて</option>{opts}</select></label>'
        sort = "".join(f'<option value="{k}"{" selected" if raw.get("sort") == k else ""}>{v}</option>' for k, v in SORTS.items())
        outcome += f'<label>並び順<select name="sort">{sort}</select></label>'
        outcome += f'<label>分野<select name="category">{_options(categories, raw.get("category", ""), "すべて")}</select></label>'
    return (
        f'<form class="filters" method="get" action="{escape(action)}">'
        f'<label>開始日<input type="date" name="since" value="{escape(raw.get("since", ""))}"></label>'
        f'<label>終了日<input type="date" name="until" value="{escape(raw.get("until", ""))}"></label>'
        f'<label>チャネル<select name="channel">{_options(channels, raw.get("channel", ""), "すべて")}</select></label>'
        f"{outcome}<button type=\"submit\">絞り込む</button></form>"
    )


def _errors_html(errors: list[str]) -> str:
    return "".join(f'<div class="flash error" role="alert">{escape(e)}</div>' for e in errors)


def _faq_datalist(service: ReviewService) -> str:
    kb = service.knowledge()
    options = "".join(f'<option value="{escape(f.id)}">{escape(f.question)}</option>' for f in kb.faqs)
    return f'<datalist id="faq-ids">{options}</datalist>'


def _outcome_summary(group: QuestionGroup) -> str:
    return "・".join(f"{OUTCOME_LABELS.get(o, o)} {n}" for o, n in group.outcomes().most_common())


def _group_actions(request: web.Request, group: QuestionGroup, titles: dict[str, str], back: dict) -> str:
    ids = ",".join(str(i) for i in group.ids)
    csrf = _csrf_field(request)
    hidden = f'{csrf}<input type="hidden" name="ids" value="{ids}">' + "".join(
        f'<input type="hidden" name="back_{k}" value="{escape(v)}">' for k, v in back.items() if v)
    suggest_buttons = "".join(
        f'<button class="suggest" name="faq_choice" value="{escape(s.faq_id)}" '
        f'title="{escape(s.faq_id)}">「{escape(titles.get(s.faq_id, s.question) or s.faq_id)}」に言い換えとして追加</button>'
        for s in group.suggestions
    )
    paraphrase = (
        f'<form method="post" action="{escape(_url(request, "review-paraphrase"))}">{hidden}'
        f'<span class="muted">既存のFAQに言い換えとして追加：</span>{suggest_buttons}'
        f'<input type="text" name="faq_id" list="faq-ids" placeholder="FAQのIDを入力" size="18" aria-label="追加先のFAQのID">'
        f'<button type="submit" class="secondary">このFAQに追加</button></form>'
    )
    draft = f'<a class="button secondary" href="{escape(_url(request, "review-draft", {"ids": ids}))}">新しいFAQを作る</a>'
    oos = (
        f'<form method="post" action="{escape(_url(request, "review-out-of-scope"))}">{hidden}'
        f'<label><input type="checkbox" name="train" value="1"> 対象外の学習例にも追加</label>'
        f'<button type="submit" class="secondary">対象外にする</button></form>'
    )
    dismiss = (
        f'<form method="post" action="{escape(_url(request, "review-dismiss"))}">{hidden}'
        f'<button type="submit" class="secondary">対応不要</button></form>'
    )
    return f'<div class="actions">{paraphrase}</div><div class="actions">{draft}{oos}{dismiss}</div>'


def _back_query(form) -> dict:
    return {k[5:]: form.get(k) for k in ("back_since", "back_until", "back_channel", "back_category", "back_outcome", "back_sort")
            if form.get(k)}


# --------------------------------------------------------------------------- pages
async def index(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    filters, raw, errors = _filters(request)
    groups = await _blocking(service.groups, filters, raw["sort"])
    channels, categories = await _blocking(lambda: (service.log.channels(), service.log.categories()))
    kb = await _blocking(service.knowledge)
    titles = {f.id: f.question for f in kb.faqs}
    pending = await _blocking(_needs_training, service.settings)
    parts = [_errors_html(errors), _filter_form(request, raw, channels, categories, _url(request, "review-index"))]
    if pending:
        parts.append(f'<div class="banner">ナレッジが変更されています。<a href="{escape(_url(request, "review-retrain"))}">学習</a>すると応答に反映されます。</div>')
    total = sum(g.count for g in groups)
    parts.append(f'<p class="meta">{len(groups)}グループ・{total}件の未対応の質問。'
                 f'<a href="{escape(_url(request, "review-export", {**raw, "kind": "groups"}))}">CSVで書き出す</a></p>')
    if not groups:
        parts.append('<p class="muted">未対応の質問はありません。</p>')
    back = {k: v for k, v in raw.items() if v}
    for g in groups[:200]:
        texts = g.texts()
        items = "".join(f"<li>{escape(t)}{f'（{n}）' if n > 1 else ''}</li>" for t, n in texts[:50])
        more = f'<li class="muted">ほか{len(texts) - 50}種類</li>' if len(texts) > 50 else ""
        ch = "・".join(f"{escape(c)} {n}" for c, n in g.channels().most_common())
        cat = f"／分野: {escape(g.category())}" if g.category() else ""
        link = _url(request, "review-group", back, key=str(g.key))
        parts.append(
            f'<article class="group" data-key="{g.key}"><h2><span class="count">{g.count}件</span>'
            f'<a href="{escape(link)}">「{escape(g.label)}」</a></h2>'
            f'<p class="meta">最新 {_local(g.newest)}／{escape(_outcome_summary(g))}／{ch}{cat}</p>'
            f'<p class="examples">{"".join(f"「{escape(t)}」" for t, _ in texts[1:4])}</p>'
            f"<details><summary>質問文（{len(texts)}種類）</summary><ul>{items}{more}</ul></details>"
            f"{_group_actions(request, g, titles, back)}</article>"
        )
    if len(groups) > 200:
        parts.append(f'<p class="muted">ほか{len(groups) - 200}グループ。期間やチャネルで絞り込んでください。</p>')
    parts.append(await _blocking(_faq_datalist, service))
    return _page(request, "未回答の質問", "".join(parts), here="review-index")


async def group_page(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    try:
        key = int(request.match_info["key"])
    except ValueError:
        raise web.HTTPBadRequest(text="グループ番号は数字です。") from None
    filters, raw, _ = _filters(request)
    groups = await _blocking(service.groups, filters, raw["sort"])
    group = next((g for g in groups if any(q.id == key for q in g.questions)), None)
    if group is None:
        return _page(request, "グループが見つかりません",
                     f'<p>このグループはすでに対応済みか、条件に合いません。<a href="{escape(_url(request, "review-index"))}">一覧へ戻る</a></p>',
                     status=404)
    kb = await _blocking(service.knowledge)
    titles = {f.id: f.question for f in kb.faqs}
    back = {k: v for k, v in raw.items() if v}
    rows = "".join(
        f"<tr><td>{_local(q.created)}</td><td>{escape(q.channel)}</td><td>{escape(OUTCOME_LABELS.get(q.outcome, q.outcome))}</td>"
        f"<td>{escape(q.next_action or '')}</td><td>{escape(q.text)}</td></tr>"
        for q in sorted(group.questions, key=lambda q: q.created, reverse=True)[:500]
    )
    ids = ",".join(str(i) for i in group.ids)
    checks = "".join(
        f'<li><label><input type="checkbox" name="texts" value="{escape(t)}"{"" if "［" in t else " checked"}> {escape(t)}'
        f"{f'（{n}）' if n > 1 else ''}</label></li>"
        for t, n in group.texts()[:200]
    )
    suggestions = "".join(
        f'<li><button class="suggest" name="faq_choice" value="{escape(s.faq_id)}">「{escape(titles.get(s.faq_id, s.question))}」に追加</button>'
        f' <span class="muted">{escape(s.faq_id)}・候補になった回数 {s.votes}・平均スコア {s.score:.2f}</span></li>'
        for s in group.suggestions
    )
    back_fields = "".join(f'<input type="hidden" name="back_{k}" value="{escape(v)}">' for k, v in back.items())
    body = (
        f'<p class="meta">{group.count}件／最新 {_local(group.newest)}／最初 {_local(group.oldest)}／{escape(_outcome_summary(group))}</p>'
        f'<section><h2>言い換えとして既存のFAQに追加</h2>'
        f'<form method="post" action="{escape(_url(request, "review-paraphrase"))}">{_csrf_field(request)}'
        f'<input type="hidden" name="ids" value="{ids}">{back_fields}<p>追加する文を選んでください（個人情報を伏せた文は追加できません）。</p>'
        f"<ul>{checks}</ul><ul>{suggestions}</ul>"
        f'<input type="text" name="faq_id" list="faq-ids" placeholder="FAQのIDを入力" aria-label="追加先のFAQのID">'
        f'<button type="submit" class="secondary">このFAQに追加</button></form></section>'
        f"<section><h2>そのほかの対応</h2>{_group_actions(request, group, titles, back)}</section>"
        f"<section><h2>質問（新しい順）</h2><table><tr><th>日時</th><th>チャネル</th><th>結果</th><th>その後</th><th>質問</th></tr>"
        f"{rows}</table></section>{await _blocking(_faq_datalist, service)}"
    )
    return _page(request, f"「{group.label}」", body, here="review-index")


async def paraphrase(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    form = await request.post()
    ids = _ids(form.get("ids"))
    faq_id = (form.get("faq_choice") or form.get("faq_id") or "").strip()
    back = _back_query(form)
    if not faq_id:
        raise _redirect(request, "review-index", "追加先のFAQを選ぶか、IDを入力してください。", "error", back)
    texts = form.getall("texts", None)
    try:
        outcome = await _blocking(service.add_paraphrases, ids, faq_id, texts, _staff(request))
    except MadoguchiError as exc:
        raise _redirect(request, "review-index", f"追加できませんでした。{exc}", "error", back) from None
    raise _redirect(request, "review-index", outcome.summary(), "ok", back)


async def draft_page(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    ids = _ids(request.query.get("ids"))
    try:
        draft = await _blocking(service.draft, ids)
    except MadoguchiError as exc:
        raise _redirect(request, "review-index", str(exc), "error") from None
    return await _draft_form(request, draft, ids)


async def _draft_form(request: web.Request, draft: FaqDraft, ids: list[int], errors: list[str] = (), status: int = 200) -> web.Response:
    service = request.app[SERVICE]
    kb = await _blocking(service.knowledge)
    files = await _blocking(faq_files, service.settings.knowledge_dir)
    file_opts = "".join(
        f'<option value="{escape(f.path.name)}"{" selected" if f.path.name == draft.file else ""}>{escape(f.category)}（{escape(f.path.name)}）</option>'
        for f in files)
    dept_opts = "".join(
        f'<option value="{escape(d.id)}"{" selected" if d.id == draft.department else ""}>{escape(d.name)}</option>'
        for d in kb.departments.values())
    body = (
        f"{_errors_html(list(errors))}"
        f'<form method="post" action="{escape(_url(request, "review-new-faq"))}">{_csrf_field(request)}'
        f'<input type="hidden" name="ids" value="{",".join(str(i) for i in ids)}">'
        f'<p><label>ID（英小文字・数字・ハイフン）<br><input type="text" name="id" value="{escape(draft.id)}" required pattern="[a-z0-9][a-z0-9_-]*"></label></p>'
        f'<p><label>ファイル（分野）<br><select name="file">{file_opts}</select></label></p>'
        f'<p><label>担当課<br><select name="department"><option value="">ファイルの担当課</option>{dept_opts}</select></label></p>'
        f'<p><label>質問<br><input type="text" name="question" value="{escape(draft.question)}" size="60" required></label></p>'
        f'<p><label>言い換え（1行に1つ）<br><textarea name="paraphrases" rows="6">{escape(chr(10).join(draft.paraphrases))}</textarea></label></p>'
        f'<p><label>回答（です・ます、短い文で）<br><textarea name="answer" rows="6" required>{escape(draft.answer)}</textarea></label></p>'
        f'<p><label>URL（任意）<br><input type="text" name="url" value="{escape(draft.url or "")}" size="60"></label></p>'
        f'<button type="submit">FAQを追加する</button> '
        f'<a class="button secondary" href="{escape(_url(request, "review-index"))}">やめる</a></form>'
    )
    return _page(request, "新しいFAQ", body, here="review-index", status=status)


async def new_faq(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    form = await request.post()
    ids = _ids(form.get("ids"))
    draft = FaqDraft(
        id=(form.get("id") or "").strip(),
        question=(form.get("question") or "").strip(),
        answer=(form.get("answer") or "").strip(),
        paraphrases=[line.strip() for line in (form.get("paraphrases") or "").splitlines() if line.strip()],
        department=(form.get("department") or "").strip() or None,
        file=(form.get("file") or "").strip(),
        url=(form.get("url") or "").strip() or None,
    )
    try:
        outcome = await _blocking(service.create_faq, ids, draft, _staff(request))
    except MadoguchiError as exc:
        return await _draft_form(request, draft, ids, [f"追加できませんでした。{exc}"], status=400)
    raise _redirect(request, "review-index", outcome.summary())


async def out_of_scope(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    form = await request.post()
    ids = _ids(form.get("ids"))
    try:
        outcome = await _blocking(service.mark_out_of_scope, ids, form.get("train") == "1", _staff(request))
    except MadoguchiError as exc:
        raise _redirect(request, "review-index", str(exc), "error", _back_query(form)) from None
    raise _redirect(request, "review-index", outcome.summary(), "ok", _back_query(form))


async def dismiss(request: web.Request) -> web.StreamResponse:
    service = request.app[SERVICE]
    form = await request.post()
    ids = _ids(form.get("ids"))
    try:
        outcome = await _blocking(service.dismiss, ids, _staff(request))
    except MadoguchiError as exc:
        raise _redirect(request, "review-index", str(exc), "error", _back_query(form)) from None
    raise _redirect(request, "review-index", outcome.summary(), "ok", _back_query(form))


def _needs_training(settings: Settings) -> bool:
    from bot.training import needs_training

    try:
        return needs_training(settings)
    except OSError:
        return False


async def retrain_page(request: web.Request) -> web.Response:
    job = request.app[RETRAIN]
    status = job.status()
    pending = await _blocking(_needs_training, request.app[SETTINGS])
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
            f'<form method="post" action="{escape(_url(request, "review-retrain"))}">{_csrf_field(request)}'
            f'<label><input type="checkbox" name="force" value="1"> 変更がなくても学習する</label> '
            f'<button type="submit">学習して反映する</button></form>'
            f'<p class="muted">学習には約{status.expected_seconds:.0f}秒かかります。終わると新しいモデルに切り替わります（止まりません）。</p>'
        )
    resolutions = await _blocking(request.app[SERVICE].log.resolutions, 10)
    if resolutions:
        rows = "".join(
            f"<tr><td>{escape(r['created_at'][:16].replace('T', ' '))} UTC</td><td>{escape(ACTION_LABELS.get(r['action'], r['action']))}</td>"
            f"<td>{escape(r['faq_id'] or '')}</td><td>{len(r['question_ids'])}</td><td>{escape(r['staff'] or '')}</td></tr>"
            for r in resolutions)
        parts.append(f"<section><h2>最近の対応</h2><table><tr><th>日時</th><th>対応</th><th>FAQ</th><th>質問数</th><th>職員</th></tr>{rows}</table></section>")
    return _page(request, "学習と反映", "".join(parts), here="review-retrain", refresh=2 if status.running else None)


async def retrain_start(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    started = request.app[RETRAIN].start(force=form.get("force") == "1")
    if not started:
        raise _redirect(request, "review-retrain", "すでに学習中です。終わるまでお待ちください。", "error")
    raise web.HTTPSeeOther(_url(request, "review-retrain"))


async def retrain_status(request: web.Request) -> web.Response:
    return web.json_response(request.app[RETRAIN].status().as_dict())


def _period(request: web.Request) -> tuple[dt.date, dt.date, str | None, list[str], dict]:
    errors: list[str] = []
    today = dt.datetime.now(LOCAL_TZ).date()
    until = _parse_date(request.query.get("until"), "終了日", errors) or today
    since = _parse_date(request.query.get("since"), "開始日", errors) or until - dt.timedelta(days=DASHBOARD_DAYS - 1)
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
    d = await _blocking(_dashboard, service, since, until, channel)
    channels = await _blocking(service.log.channels)
    tiles = [("質問", f"{d.questions}件"), ("自己解決率", _pct(d.self_resolution_rate))] + [
        (BUCKET_LABELS[b], f"{d.buckets[b]}件（{_pct(d.share(b))}）") for b in BUCKETS]
    tiles_html = "".join(f'<div class="tile" data-figure="{escape(k)}">{escape(k)}<b>{escape(v)}</b></div>' for k, v in tiles)
    series = [(b, BUCKET_LABELS[b]) for b in BUCKETS]
    per_day = charts.stacked_bars("日ごとの質問数", [(day.strftime("%m/%d"), counts) for day, counts in d.days], series)
    shares = charts.share_bar("結果の内訳", [(b, BUCKET_LABELS[b], d.buckets[b]) for b in BUCKETS])
    top_faqs = charts.horizontal_bars("よく使われたFAQ", [(q or f, n) for f, q, n in d.top_faqs], unit="件")
    group_rows = "".join(
        f'<li><a href="{escape(_url(request, "review-group", {"since": raw["since"], "until": raw["until"]}, key=str(g.key)))}">'
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
    day_rows = "".join(
        f"<tr><td>{day.isoformat()}</td><td>{sum(c[b] for b in BUCKETS)}</td>" + "".join(f"<td>{c[b]}</td>" for b in BUCKETS) + "</tr>"
        for day, c in d.days)
    head = "".join(f"<th>{BUCKET_LABELS[b]}</th>" for b in BUCKETS)
    exports = "・".join(
        f'<a href="{escape(_url(request, "review-export", {**raw, "kind": k}))}">{label}</a>'
        for k, label in (("daily", "日別"), ("channels", "チャネル別"), ("questions", "質問の一覧"), ("groups", "未回答グループ")))
    body = (
        f"{_errors_html(errors)}{_filter_form(request, raw, channels, [], _url(request, 'review-dashboard'), with_outcome=False)}"
        f'<p class="meta">{since.isoformat()} 〜 {until.isoformat()}{f"／{escape(channel)}" if channel else ""}。CSV: {exports}</p>'
        f'<div class="tiles">{tiles_html}</div>'
        f'<section><h2>日ごとの質問数</h2>{per_day}<details><summary>数値</summary><table><tr><th>日</th><th>質問</th>{head}</tr>{day_rows}</table></details></section>'
        f"<section><h2>結果の内訳（自己解決率 {_pct(d.self_resolution_rate)}）</h2>{shares}"
        f'<p class="muted">自己解決＝回答した、または候補から選ばれた質問のうち、その後「役に立たなかった」も職員への引き継ぎもなかったもの。</p></section>'
        f"<section><h2>よく使われたFAQ</h2>{top_faqs}</section>"
        f"<section><h2>多かった未回答の質問</h2>{top_groups}<ul>{group_rows}</ul></section>"
        f"<section><h2>引き継ぎの待ち時間</h2>{waits}</section>"
        f"<section><h2>チャネル別</h2>{channel_chart}<table><tr><th>チャネル</th><th>質問</th>{head}<th>自己解決率</th></tr>{channel_rows}</table></section>"
    )
    return _page(request, "ダッシュボード", body, here="review-dashboard")


async def stylesheet(request: web.Request) -> web.Response:
    # A file rather than an inline <style>: the console's Content-Security-Policy can stay strict.
    return web.Response(text=_CSS, content_type="text/css", headers={"Cache-Control": "max-age=3600"})


async def export_csv(request: web.Request) -> web.Response:
    service = request.app[SERVICE]
    kind = request.query.get("kind") or "questions"
    if kind not in EXPORT_KINDS:
        raise web.HTTPBadRequest(text=f"kind は {', '.join(EXPORT_KINDS)} のどれかにしてください。")
    out = io.StringIO()
    if kind in ("daily", "channels"):
        since, until, channel, _, raw = _period(request)
        d = await _blocking(_dashboard, service, since, until, channel)
        (write_daily if kind == "daily" else write_channels)(out, d)
        name = f"madoguchi-{kind}-{raw['since']}-{raw['until']}.csv"
    else:
        filters, raw, _ = _filters(request)
        if kind == "groups":
            groups = await _blocking(service.groups, filters, raw["sort"])
            write_groups(out, groups)
        else:
            all_filters = ReviewFilter(filters.since, filters.until, filters.channel, filters.category, (), None)
            questions = await _blocking(service.log.questions, all_filters)
            write_questions(out, questions)
        name = f"madoguchi-{kind}.csv"
    # The BOM makes Excel (still the tool of most offices) read the UTF-8 correctly.
    return web.Response(
        body=("\ufeff" + out.getvalue()).encode("utf-8"),
        content_type="text/csv", charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --------------------------------------------------------------------------- app
def create_review_app(settings: Settings, service: ReviewService | None = None,
                      retrain_job: RetrainJob | None = None) -> web.Application:
    """The review pages as an aiohttp application, to be mounted under ``/review``.

    Args:
        settings: Paths of the installation (knowledge, var, models) and the Rasa URL.
        service: The review service (default: created at start-up from ``settings``).
        retrain_job: The retraining job (default: one per application).
    """
    app = web.Application()
    app[SETTINGS] = settings
    app[FLASHES] = OrderedDict()
    app[RETRAIN] = retrain_job or RetrainJob(settings)

    async def open_service(app_: web.Application) -> None:
        # Opening the database and Sudachi happens at start-up, never at import.
        app_[SERVICE] = service or await _blocking(ReviewService, settings)

    app.on_startup.append(open_service)
    app.router.add_get("/", index, name="review-index")
    app.router.add_get("/group/{key}", group_page, name="review-group")
    app.router.add_post("/paraphrase", paraphrase, name="review-paraphrase")
    app.router.add_get("/draft", draft_page, name="review-draft")
    app.router.add_post("/new-faq", new_faq, name="review-new-faq")
    app.router.add_post("/out-of-scope", out_of_scope, name="review-out-of-scope")
    app.router.add_post("/dismiss", dismiss, name="review-dismiss")
    app.router.add_get("/retrain", retrain_page, name="review-retrain")
    app.router.add_post("/retrain", retrain_start)
    app.router.add_get("/retrain/status", retrain_status, name="review-retrain-status")
    app.router.add_get("/dashboard", dashboard_page, name="review-dashboard")
    app.router.add_get("/export.csv", export_csv, name="review-export")
    app.router.add_get("/review.css", stylesheet, name="review-css")
    return app
