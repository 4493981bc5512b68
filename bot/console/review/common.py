"""Shared parts of the review pages: application keys, request helpers, the layout and its parts.

Every part is a template of ``templates/review/`` filled by :func:`bot.console.render.fragment`,
so each value (a resident's question above all) is escaped unless it is a rendered part.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import secrets
from collections import OrderedDict
from typing import Any, Callable, Iterable

from aiohttp import web
from markupsafe import Markup

from bot.console.render import fragment, join, page_response
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
SUBNAV = (("review-index", "未回答の質問"), ("review-dashboard", "ダッシュボード"), ("review-retrain", "学習"))

SELECTED = Markup(" selected")
CHECKED = Markup(" checked")
CURRENT = Markup(' aria-current="page"')
NOTHING = Markup("")


# --------------------------------------------------------------------------- helpers
def staff_name(request: web.Request) -> str | None:
    for key in ("staff_name", "username"):
        value = request.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def csrf_field(request: web.Request) -> Markup:
    token = request.get("csrf_token")
    return fragment("review/hidden.html", name="_csrf", value=str(token)) if token else NOTHING


def link(request: web.Request, name: str, query: dict | None = None, **parts: str) -> str:
    url = request.app.router[name].url_for(**parts)
    if query:
        url = url.with_query({k: v for k, v in query.items() if v not in (None, "")})
    return str(url)


async def blocking(func: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run database, Sudachi and file work off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(func, *args, **kwargs))


def lines(text: str) -> Markup:
    """``text`` escaped, its line breaks as ``<br>``."""
    return join(text.split("\n"), "<br>")


def flash(request: web.Request, message: str, kind: str = "ok") -> str:
    flashes = request.app[FLASHES]
    token = secrets.token_urlsafe(8)
    flashes[token] = (kind, message)
    while len(flashes) > 200:
        flashes.popitem(last=False)
    return token


def take_flash(request: web.Request) -> Markup:
    token = request.query.get("flash")
    item = request.app[FLASHES].pop(token, None) if token else None
    if not item:
        return NOTHING
    kind, message = item
    return fragment("review/flash.html", kind=kind, message=lines(message))


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


# --------------------------------------------------------------------------- layout
def page(request: web.Request, title: str, body: Markup, here: str = "", refresh: int | None = None,
         status: int = 200) -> web.Response:
    """A review page in the console's layout: its menu of review pages, the title, a flash message."""
    subnav = join(fragment("review/subnav_link.html", href=link(request, name), current=CURRENT if name == here else NOTHING,
                           label=label) for name, label in SUBNAV)
    content = fragment("review/page.html", subnav=subnav, title=title, flash=take_flash(request), body=body)
    return page_response(request, "review", f"{title}｜振り返り", content, status=status, refresh=refresh)


def options(values: Iterable[tuple[str, str]], selected: str) -> Markup:
    """``<option>`` for each ``(value, label)``, the ``selected`` one marked."""
    return join(fragment("review/option.html", value=value, label=label, selected=SELECTED if value == selected else NOTHING)
                for value, label in values)


def options_html(values: list[str], selected: str, empty: str) -> Markup:
    return join([fragment("review/option.html", value="", label=empty, selected=NOTHING),
                 options(((v, v) for v in values), selected)])


def filter_form(request: web.Request, raw: dict, channels: list[str], categories: list[str], action: str,
                with_outcome: bool = True, languages: list[str] = ()) -> Markup:
    more = []
    if with_outcome:
        more.append(fragment(
            "review/filters_outcome.html",
            outcomes=options(((o, OUTCOME_LABELS[o]) for o in REVIEW_OUTCOMES), raw.get("outcome")),
            sorts=options(SORTS.items(), raw.get("sort")),
            categories=options_html(categories, raw.get("category", ""), "すべて"),
        ))
    if languages:
        more.append(fragment("review/filters_language.html",
                             languages=options(((code, staff_label(code)) for code in languages), raw.get("language", ""))))
    return fragment("review/filters.html", action=action, since=raw.get("since", ""), until=raw.get("until", ""),
                    channels=options_html(channels, raw.get("channel", ""), "すべて"), more=join(more))


def errors_html(errors: list[str]) -> Markup:
    return join(fragment("review/error.html", message=e) for e in errors)


def faq_datalist(service: ReviewService) -> Markup:
    kb = service.knowledge()
    return fragment("review/faq_datalist.html", options=join(
        fragment("review/option.html", value=f.id, label=f.question, selected=NOTHING) for f in kb.faqs))


def outcome_summary(group: QuestionGroup) -> str:
    return "・".join(f"{OUTCOME_LABELS.get(o, o)} {n}" for o, n in group.outcomes().most_common())


def language_summary(group: QuestionGroup) -> str:
    """「日本語 3・英語 1・ベトナム語 1」: the languages the group's questions were asked in."""
    return "・".join(f"{staff_label(code)} {n}" for code, n in group.languages().most_common())


def hidden_fields(fields: Iterable[tuple[str, str]]) -> Markup:
    return join(fragment("review/hidden.html", name=name, value=value) for name, value in fields)


def group_actions(request: web.Request, group: QuestionGroup, titles: dict[str, str], back: dict) -> Markup:
    ids = ",".join(str(i) for i in group.ids)
    hidden = join([csrf_field(request), hidden_fields([("ids", ids)]),
                   hidden_fields((f"back_{k}", v) for k, v in back.items() if v)])
    suggestions = join(
        fragment("review/suggest_button.html", faq_id=s.faq_id, title=titles.get(s.faq_id, s.question) or s.faq_id)
        for s in group.suggestions)
    return fragment(
        "review/group_actions.html", hidden=hidden, suggestions=suggestions,
        paraphrase_action=link(request, "review-paraphrase"), draft_href=link(request, "review-draft", {"ids": ids}),
        out_of_scope_action=link(request, "review-out-of-scope"), dismiss_action=link(request, "review-dismiss"),
    )


def back_query(form) -> dict:
    return {k[5:]: form.get(k) for k in ("back_since", "back_until", "back_channel", "back_category", "back_outcome", "back_sort",
                                          "back_language")
            if form.get(k)}


def training_pending(settings: Settings) -> bool:
    from bot.runtime.training import needs_training

    try:
        return needs_training(settings)
    except OSError:
        return False
