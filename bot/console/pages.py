"""The console's HTML pages and static files (served by the app itself; no CDN)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.console import keys
from bot.console.auth import require_admin
from bot.console.render import audit_rows, message_response, page_response, render

routes = web.RouteTableDef()
STATIC = Path(__file__).parent / "static"
_STATIC_TYPES = {".css": "text/css", ".js": "application/javascript", ".png": "image/png", ".svg": "image/svg+xml"}


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    """For the runner, the load balancer and monitoring; tells nothing about the data.

    ``inbox_updates``: ``polling`` (SQLite, or PostgreSQL while its listening connection
    is down) or ``notify`` (PostgreSQL LISTEN: changes arrive at once).
    """
    listener = request.app.get(keys.LISTENER)
    return web.json_response({"ok": True, "inbox_updates": "notify" if listener is not None and listener.listening
                              else "polling"})


@routes.get("/")
async def root(request: web.Request) -> web.Response:
    raise web.HTTPFound("/inbox")


@routes.get("/inbox")
async def inbox_page(request: web.Request) -> web.Response:
    return page_response(request, "inbox", "受付一覧", render("inbox.html"), scripts=("inbox.js",))


def _page_id(request: web.Request) -> int | None:
    raw = request.match_info["id"]
    return int(raw) if len(raw) <= 12 else None


@routes.get(r"/handoffs/{id:\d+}")
async def handoff_page(request: web.Request) -> web.Response:
    handoff_id = _page_id(request)
    if handoff_id is None or request.app[keys.STORE].get(handoff_id) is None:
        return message_response(request, "見つかりません", "この引き継ぎは見つかりません。受付一覧から選び直してください。", 404)
    return page_response(request, "handoff", f"引き継ぎ {handoff_id}", render("conversation.html", handoff_id=handoff_id),
                         scripts=("transcript.js", "conversation.js"))


@routes.get(r"/tickets/{id:\d+}")
async def ticket_page(request: web.Request) -> web.Response:
    ticket_id = _page_id(request)
    if ticket_id is None or request.app[keys.STORE].get_ticket(ticket_id) is None:
        return message_response(request, "見つかりません", "この伝言は見つかりません。受付一覧から選び直してください。", 404)
    return page_response(request, "ticket", f"伝言 {ticket_id}", render("ticket.html", ticket_id=ticket_id),
                         scripts=("transcript.js", "ticket.js"))


@routes.get("/audit")
async def audit_page(request: web.Request) -> web.Response:
    try:
        require_admin(request)
    except web.HTTPForbidden:
        return message_response(request, "管理者専用です", "監査ログは管理者だけが見られます。", 403)
    rows = request.app[keys.STORE].audit_log(500)
    return page_response(request, "audit", "監査ログ", render("audit.html", count=len(rows), rows=audit_rows(rows)))


@routes.get("/static/{name}")
async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC / name
    if "/" in name or name.startswith(".") or path.suffix not in _STATIC_TYPES or not path.is_file():
        raise web.HTTPNotFound(text="見つかりません。")
    return web.FileResponse(path, headers={"Content-Type": _STATIC_TYPES[path.suffix] + "; charset=utf-8",
                                           "Cache-Control": "no-cache"})
