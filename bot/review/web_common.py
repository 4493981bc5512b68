"""Shared parts of the review pages: application keys, request helpers, layout, stylesheet."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import secrets
from collections import OrderedDict
from html import escape
from typing import Any, Callable

from aiohttp import web

from bot.i18n.languages import LANGUAGES, staff_label
from bot.review.grouping import QuestionGroup
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
def staff_name(request: web.Request) -> str | None:
    for key in ("staff_name", "username"):
        value = request.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def csrf_field(request: web.Request) -> str:
    token = request.get("csrf_token")
    return f'<input type="hidden" name="_csrf" value="{escape(str(token))}">' if token else ""


def link(request: web.Request, name: str, query: dict | None = None, **parts: str) -> str:
    url = request.app.router[name].url_for(**parts)
    if query:
        url = url.with_query({k: v for k, v in query.items() if v not in (None, "")})
    return str(url)


async def blocking(func: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run database, Sudachi and file work off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(func, *args, **kwargs))


def flash(request: web.Request, message: str, kind: str = "ok") -> str:
    flashes = request.app[FLASHES]
    token = secrets.token_urlsafe(8)
    flashes[token] = (kind, message)
    while len(flashes) > 200:
        flashes.popitem(last=False)
    return token


def take_flash(request: web.Request) -> str:
    token = request.query.get("flash")
    item = request.app[FLASHES].pop(token, None) if token else None
    if not item:
        return ""
    kind, message = item
    return f'<div class="flash {escape(kind)}" role="status">{escape(message).replace(chr(10), "<br>")}</div>'


def redirect(request: web.Request, name: str, message: str | None = None, kind: str = "ok",
              query: dict | None = None, **parts: str) -> web.HTTPSeeOther:
    q = dict(query or {})
    if message:
        q["flash"] = flash(request, message, kind)
    return web.HTTPSeeOther(link(request, name, q, **parts))


def parse_date(value: str | None, field: str, errors: list[str]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        errors.append(f"{field}は YYYY-MM-DD の形で入力してください（入力: {value[:20]}）。")
        return None


def review_filters(request: web.Request) -> tuple[ReviewFilter, dict, list[str]]:
    q = request.query
    errors: list[str] = []
    since = parse_date(q.get("since"), "開始日", errors)
    until = parse_date(q.get("until"), "終了日", errors)
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
        "language": q.get("language") if q.get("language") in LANGUAGES else "",
    }
    return ReviewFilter(since, until, raw["channel"] or None, raw["category"] or None, outcomes,
                        language=raw["language"] or None), raw, errors


def parse_ids(value: str | None) -> list[int]:
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


def local_time(moment: dt.datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


STYLESHEET = """
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


def page(request: web.Request, title: str, body: str, here: str = "", refresh: int | None = None,
          status: int = 200) -> web.Response:
    nav = [("review-index", "未回答の質問"), ("review-dashboard", "ダッシュボード"), ("review-retrain", "学習")]
    links = "".join(
        f'<a href="{escape(link(request, name))}"{" class=here" if name == here else ""}>{label}</a>' for name, label in nav
    )
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    html = (
        f'<!doctype html><html lang="ja"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">{meta}'
        f'<title>{escape(title)}｜窓口 振り返り</title><link rel="stylesheet" href="{escape(link(request, "review-css"))}"></head><body>'
        f'<header class="top"><a href="/">← コンソール</a><strong>振り返り</strong>{links}</header>'
        f"<main><h1>{escape(title)}</h1>{take_flash(request)}{body}</main></body></html>"
    )
    return web.Response(text=html, content_type="text/html", status=status)


def options_html(values: list[str], selected: str, empty: str) -> str:
    opts = [f'<option value="">{escape(empty)}</option>']
    for v in values:
        opts.append(f'<option value="{escape(v)}"{" selected" if v == selected else ""}>{escape(v)}</option>')
    return "".join(opts)


def filter_form(request: web.Request, raw: dict, channels: list[str], categories: list[str], action: str,
                 with_outcome: bool = True, languages: list[str] = ()) -> str:
    outcome = ""
    if with_outcome:
        opts = "".join(
            f'<option value="{o}"{" selected" if raw.get("outcome") == o else ""}>{OUTCOME_LABELS[o]}</option>'
            for o in REVIEW_OUTCOMES)
        outcome = f'<label>種類<select name="outcome"><option value="">すべて</option>{opts}</select></label>'
        sort = "".join(f'<option value="{k}"{" selected" if raw.get("sort") == k else ""}>{v}</option>' for k, v in SORTS.items())
        outcome += f'<label>並び順<select name="sort">{sort}</select></label>'
        outcome += f'<label>分野<select name="category">{options_html(categories, raw.get("category", ""), "すべて")}</select></label>'
    if languages:
        chosen = raw.get("language", "")
        opts = "".join(f'<option value="{escape(code)}"{" selected" if code == chosen else ""}>{escape(staff_label(code))}</option>'
                       for code in languages)
        outcome += f'<label>言語<select name="language"><option value="">すべて</option>{opts}</select></label>'
    return (
        f'<form class="filters" method="get" action="{escape(action)}">'
        f'<label>開始日<input type="date" name="since" value="{escape(raw.get("since", ""))}"></label>'
        f'<label>終了日<input type="date" name="until" value="{escape(raw.get("until", ""))}"></label>'
        f'<label>チャネル<select name="channel">{options_html(channels, raw.get("channel", ""), "すべて")}</select></label>'
        f"{outcome}<button type=\"submit\">絞り込む</button></form>"
    )


def errors_html(errors: list[str]) -> str:
    return "".join(f'<div class="flash error" role="alert">{escape(e)}</div>' for e in errors)


def faq_datalist(service: ReviewService) -> str:
    kb = service.knowledge()
    options = "".join(f'<option value="{escape(f.id)}">{escape(f.question)}</option>' for f in kb.faqs)
    return f'<datalist id="faq-ids">{options}</datalist>'


def outcome_summary(group: QuestionGroup) -> str:
    return "・".join(f"{OUTCOME_LABELS.get(o, o)} {n}" for o, n in group.outcomes().most_common())


def language_summary(group: QuestionGroup) -> str:
    """「日本語 3・英語 1・ベトナム語 1」: the languages the group's questions were asked in."""
    return "・".join(f"{staff_label(code)} {n}" for code, n in group.languages().most_common())


def group_actions(request: web.Request, group: QuestionGroup, titles: dict[str, str], back: dict) -> str:
    ids = ",".join(str(i) for i in group.ids)
    csrf = csrf_field(request)
    hidden = f'{csrf}<input type="hidden" name="ids" value="{ids}">' + "".join(
        f'<input type="hidden" name="back_{k}" value="{escape(v)}">' for k, v in back.items() if v)
    suggest_buttons = "".join(
        f'<button class="suggest" name="faq_choice" value="{escape(s.faq_id)}" '
        f'title="{escape(s.faq_id)}">「{escape(titles.get(s.faq_id, s.question) or s.faq_id)}」に言い換えとして追加</button>'
        for s in group.suggestions
    )
    paraphrase = (
        f'<form method="post" action="{escape(link(request, "review-paraphrase"))}">{hidden}'
        f'<span class="muted">既存のFAQに言い換えとして追加：</span>{suggest_buttons}'
        f'<input type="text" name="faq_id" list="faq-ids" placeholder="FAQのIDを入力" size="18" aria-label="追加先のFAQのID">'
        f'<button type="submit" class="secondary">このFAQに追加</button></form>'
    )
    draft = f'<a class="button secondary" href="{escape(link(request, "review-draft", {"ids": ids}))}">新しいFAQを作る</a>'
    oos = (
        f'<form method="post" action="{escape(link(request, "review-out-of-scope"))}">{hidden}'
        f'<label><input type="checkbox" name="train" value="1"> 対象外の学習例にも追加</label>'
        f'<button type="submit" class="secondary">対象外にする</button></form>'
    )
    dismiss = (
        f'<form method="post" action="{escape(link(request, "review-dismiss"))}">{hidden}'
        f'<button type="submit" class="secondary">対応不要</button></form>'
    )
    return f'<div class="actions">{paraphrase}</div><div class="actions">{draft}{oos}{dismiss}</div>'


def back_query(form) -> dict:
    return {k[5:]: form.get(k) for k in ("back_since", "back_until", "back_channel", "back_category", "back_outcome", "back_sort",
                                          "back_language")
            if form.get(k)}


def training_pending(settings: Settings) -> bool:
    from bot.training import needs_training

    try:
        return needs_training(settings)
    except OSError:
        return False


async def stylesheet(request: web.Request) -> web.Response:
    # A file rather than an inline <style>: the console's Content-Security-Policy can stay strict.
    return web.Response(text=STYLESHEET, content_type="text/css", headers={"Cache-Control": "max-age=3600"})
