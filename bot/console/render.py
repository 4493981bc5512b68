"""HTML pages from the templates in ``templates/`` (``string.Template``, every value escaped).

The hand-off pages are small shells; the data is fetched by the page's script from the
JSON API and written with ``textContent``, so text from residents is never interpreted as
HTML. The review pages (``templates/review/``) are filled on the server, from the same
templates mechanism: a value is escaped unless it is ``Markup`` (an already rendered
template), so every text a resident wrote is escaped wherever it appears.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from string import Template

from aiohttp import web
from markupsafe import Markup, escape

from bot.console import keys
from bot.contract import LOCAL_TZ

TEMPLATES = Path(__file__).parent / "templates"
JST = LOCAL_TZ  # staff read times in the city's time

ROLE_LABELS = {"staff": "職員", "admin": "管理者"}
AUDIT_ACTION_LABELS = {
    "handoff.request": "引き継ぎの受付",
    "handoff.claim": "担当した",
    "handoff.release": "担当を外した",
    "handoff.reply": "返信した",
    "handoff.hand_back": "自動応答に戻した",
    "handoff.close": "終了した",
    "handoff.cancel": "引き継ぎの取り消し",
    "handoff.expire": "時間切れ",
    "ticket.create": "伝言の受付",
    "ticket.cancel": "伝言の取り消し",
    "ticket.answer": "伝言に回答した",
    "ticket.answer_undelivered": "伝言の回答を届けられず未回答に戻した",
    "staff.login": "ログイン",
    "staff.login_failed": "ログイン失敗",
    "staff.logout": "ログアウト",
    "staff.add": "アカウント作成",
    "staff.passwd": "パスワード再設定",
    "staff.disable": "アカウント停止",
    "staff.enable": "アカウント再開",
}


@functools.lru_cache(maxsize=None)
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def render(template: str, /, **values: object) -> str:
    """Fill a template; values are HTML-escaped unless they are ``Markup``."""
    return _template(template).substitute({k: str(escape(v)) for k, v in values.items()})


def fragment(template: str, /, **values: object) -> Markup:
    """A template filled as a part of a page (its final line break dropped), ready to go into another."""
    html = render(template, **values)
    return Markup(html[:-1] if html.endswith("\n") else html)


def join(parts, separator: str = "") -> Markup:
    """Rendered parts one after another (text among them is escaped)."""
    return Markup(separator).join(parts)


def jst(iso: str | None) -> str:
    """「2026年12月1日 10:00」 from an ISO-8601 UTC timestamp."""
    if not iso:
        return ""
    try:
        moment = dt.datetime.fromisoformat(iso).astimezone(JST)
    except ValueError:
        return iso
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def _nav(request: web.Request, current: str) -> Markup:
    staff = request["staff"]
    links = [("inbox", "/inbox", "受付一覧")]
    if request.config_dict[keys.CONFIG].review_mounted:  # config_dict: the review pages are a sub-application
        links.append(("review", "/review/", "振り返り"))
    if staff.is_admin:
        links.append(("audit", "/audit", "監査ログ"))
    parts = []
    for name, href, label in links:
        current_attr = Markup(' aria-current="page"') if name == current else Markup("")
        parts.append(Markup('<a href="{}"{}>{}</a>').format(href, current_attr, label))
    return Markup("").join(parts)


def page_response(request: web.Request, page: str, title: str, content: str, scripts: tuple[str, ...] = (),
                  status: int = 200, refresh: int | None = None) -> web.Response:
    """A full page (header, navigation, log-out) around ``content`` (already rendered HTML).

    ``refresh``: reload the page after that many seconds (the review's retraining progress).
    """
    staff = request["staff"]
    tags = Markup("\n").join(Markup('<script src="/static/{}" defer></script>').format(s) for s in ("console.js", *scripts))
    html = render(
        "base.html",
        csrf_token=request["csrf_token"],
        title=title,
        page=page,
        username=staff.username,
        display_name=staff.display_name,
        role_label=ROLE_LABELS.get(staff.role, staff.role),
        nav=_nav(request, page),
        content=Markup(content),
        scripts=tags if scripts else Markup(""),
        head=fragment("refresh.html", seconds=refresh) if refresh else Markup(""),
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def message_response(request: web.Request, heading: str, message: str, status: int) -> web.Response:
    return page_response(request, "message", heading, render("message.html", heading=heading, message=message),
                         status=status)


def login_html(csrf_token: str, next_path: str, error: str, username: str) -> str:
    error_html = Markup('<p class="notice error" role="alert">{}</p>').format(error) if error else Markup("")
    return render("login.html", csrf_token=csrf_token, next=next_path, error=error_html, username=username)


def audit_rows(rows: list[dict]) -> Markup:
    out = []
    for r in rows:
        out.append(Markup("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>").format(
            jst(r["at"]), r["actor"], AUDIT_ACTION_LABELS.get(r["action"], r["action"]), r["target"], r["detail"]))
    return Markup("\n").join(out)
