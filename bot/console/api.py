"""The console's JSON API (used by its pages) and the live event stream.

Every handler runs behind :func:`bot.console.auth.auth_middleware` (log-in and CSRF).
Errors are ``{"error": code, "message": 日本語}`` with a 4xx (or 502 when Rasa cannot be
reached); nothing changes in the database when a delivery to the resident fails.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import unicodedata
from collections.abc import Callable

from aiohttp import web

from bot.console import keys, notices
from bot.console.auth import SESSION_COOKIE, require_admin, staff_of
from bot.console.inbox import handoff_view, inbox_payload, ticket_view
from bot.console.live import RASA_ERRORS, LiveHub
from bot.console.transcript import tracker_events, transcript_items
from bot.handoff.store import ContactMethod, Handoff, HandoffError, HandoffStatus, HandoffStore, Ticket

logger = logging.getLogger(__name__)
routes = web.RouteTableDef()

MAX_REPLY_CHARS = 2000
_dumps = functools.partial(json.dumps, ensure_ascii=False)


class ApiError(web.HTTPException):
    """An API error with the console's JSON body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status_code = status
        super().__init__(text=_dumps({"error": code, "message": message}), content_type="application/json")


def ok(data: dict, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


async def read_body(request: web.Request) -> dict:
    """The JSON object (or form) sent, or a 400 that says what was expected."""
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(400, "invalid_json", "送られた内容が JSON として読めません。") from None
    except RecursionError:  # nested a thousand levels deep
        raise ApiError(400, "invalid_json", "JSON の入れ子が深すぎます。{\"text\": \"…\"} の形で送ってください。") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "JSON のオブジェクト（{…}）で送ってください。")
    return data


def clean_text(value: object, label: str, required: bool = True, max_chars: int = MAX_REPLY_CHARS) -> str:
    """Staff-written text: control characters removed, NFC, trimmed, length checked."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ApiError(400, "invalid_text", f"{label}は文字列で送ってください。")
    text = "".join(" " if unicodedata.category(c).startswith("C") and c not in "\n\t" else c for c in value)
    text = unicodedata.normalize("NFC", text).strip()
    if required and not text:
        raise ApiError(400, "empty_text", f"{label}を入力してください。")
    if len(text) > max_chars:
        raise ApiError(413, "text_too_long", f"{label}が長すぎます（{len(text)}文字）。{max_chars}文字以内にしてください。")
    return text


def _id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if len(raw) > 12:
        raise ApiError(404, "not_found", "見つかりません。")
    return int(raw)


def _handoff(request: web.Request) -> Handoff:
    found = request.app[keys.STORE].get(_id(request))
    if found is None:
        raise ApiError(404, "not_found", "この引き継ぎは見つかりません。")
    return found


def _ticket(request: web.Request) -> Ticket:
    found = request.app[keys.STORE].get_ticket(_id(request))
    if found is None:
        raise ApiError(404, "not_found", "この伝言は見つかりません。")
    return found


def _mine(request: web.Request, h: Handoff) -> None:
    """Only the member of staff who claimed it (or an admin) may act on a hand-off."""
    if h.status != HandoffStatus.CLAIMED.value:
        if h.status == HandoffStatus.WAITING.value:
            raise ApiError(409, "not_claimed", "まだ誰も担当していません。先に「この会話を担当する」を押してください。")
        raise ApiError(409, "not_open", "この引き継ぎはすでに終わっています。")
    staff = staff_of(request)
    if h.claimed_by != staff.username and not staff.is_admin:
        raise ApiError(403, "not_yours", f"この会話はほかの職員（{_display_name(request, h.claimed_by)}）が担当しています。")


def _display_name(request: web.Request, username: str | None) -> str:
    account = request.app[keys.ACCOUNTS].get(username or "")
    return account.display_name if account else (username or "")


def _view(request: web.Request, h: Handoff) -> dict:
    view = handoff_view(h, request.app[keys.DEPARTMENTS], request.app[keys.ACCOUNTS].display_names())
    staff = staff_of(request)
    view["mine"] = h.status == HandoffStatus.CLAIMED.value and (h.claimed_by == staff.username or staff.is_admin)
    return view


def _ticket_view(request: web.Request, t: Ticket) -> dict:
    view = ticket_view(t, request.app[keys.DEPARTMENTS])
    view["answered_by_name"] = _display_name(request, t.answered_by) if t.answered_by else None
    return view


async def _deliver(request: web.Request, conversation_id: str, events: list[dict]) -> None:
    """Append events to the resident's conversation (Rasa sends them); 502 when Rasa is unreachable."""
    try:
        await request.app[keys.RASA].append_events(conversation_id, events)
    except RASA_ERRORS as exc:
        logger.warning("Rasa did not take the events for a conversation (%s)", type(exc).__name__)
        raise ApiError(502, "rasa_unavailable",
                       "チャットのサーバーに届けられませんでした。少し待ってから、もう一度お試しください。") from None


def _hub(request: web.Request) -> LiveHub:
    return request.app[keys.HUB]  # type: ignore[return-value]


async def _end_handoff(request: web.Request, notice: Callable[[int], list[dict]],
                       end: Callable[[HandoffStore, int, str, str], None], text: str) -> web.Response:
    """Hand back or close the request's hand-off: tell the resident first (``notice``), then
    record it (``end(store, id, staff, text)``); 409 when it has ended meanwhile."""
    h = _handoff(request)
    _mine(request, h)
    await _deliver(request, h.conversation_id, notice(h.id))
    store = request.app[keys.STORE]
    try:
        end(store, h.id, staff_of(request).username, text)
    except HandoffError:
        raise ApiError(409, "not_open", "この引き継ぎはすでに終わっています。") from None
    _hub(request).poke()
    return ok({"handoff": _view(request, store.get(h.id))})


# ---------------------------------------------------------------------------- reading
@routes.get("/api/me")
async def me(request: web.Request) -> web.Response:
    staff = staff_of(request)
    return ok({"username": staff.username, "display_name": staff.display_name, "role": staff.role})


@routes.get("/api/inbox")
async def inbox(request: web.Request) -> web.Response:
    return ok(inbox_payload(request.app[keys.STORE], request.app[keys.DEPARTMENTS], request.app[keys.ACCOUNTS].display_names()))


@routes.get(r"/api/handoffs/{id:\d+}")
async def handoff_detail(request: web.Request) -> web.Response:
    return ok({"handoff": _view(request, _handoff(request))})


async def _conversation(request: web.Request, conversation_id: str) -> web.Response:
    try:
        tracker = await request.app[keys.RASA].tracker(conversation_id)
    except RASA_ERRORS:
        raise ApiError(502, "rasa_unavailable", "会話の記録を読み込めませんでした。少し待ってから、画面を再読み込みしてください。") from None
    events = tracker_events(tracker)
    return ok({"items": transcript_items(events), "cursor": len(events), "paused": bool(tracker.get("paused"))})


@routes.get(r"/api/handoffs/{id:\d+}/conversation")
async def handoff_conversation(request: web.Request) -> web.Response:
    return await _conversation(request, _handoff(request).conversation_id)


@routes.get(r"/api/tickets/{id:\d+}")
async def ticket_detail(request: web.Request) -> web.Response:
    return ok({"ticket": _ticket_view(request, _ticket(request))})


@routes.get(r"/api/tickets/{id:\d+}/conversation")
async def ticket_conversation(request: web.Request) -> web.Response:
    return await _conversation(request, _ticket(request).conversation_id)


@routes.get("/api/audit")
async def audit(request: web.Request) -> web.Response:
    require_admin(request)
    try:
        limit = int(request.query.get("limit", "200"))
    except ValueError:
        raise ApiError(400, "invalid_limit", "limit は数字で指定してください。") from None
    return ok({"entries": request.app[keys.STORE].audit_log(limit)})


# ---------------------------------------------------------------------------- acting
@routes.post(r"/api/handoffs/{id:\d+}/claim")
async def claim(request: web.Request) -> web.Response:
    store = request.app[keys.STORE]
    staff = staff_of(request)
    before = _handoff(request)
    if not store.claim(before.id, staff.username):
        now = store.get(before.id)
        if now is not None and now.status == HandoffStatus.CLAIMED.value:
            raise ApiError(409, "already_claimed",
                           f"ほかの職員（{_display_name(request, now.claimed_by)}）がすでに担当しています。")
        raise ApiError(409, "not_waiting", "この引き継ぎはもう対応待ちではありません（取り消しまたは終了）。")
    already_mine = before.status == HandoffStatus.CLAIMED.value and before.claimed_by == staff.username
    if not already_mine:
        try:
            await _deliver(request, before.conversation_id, notices.claimed(staff.display_name, before.id))
        except ApiError:
            store.release(before.id, staff.username, "could not reach Rasa")
            raise
    _hub(request).poke()
    return ok({"handoff": _view(request, store.get(before.id))})


@routes.post(r"/api/handoffs/{id:\d+}/reply")
async def reply(request: web.Request) -> web.Response:
    body = await read_body(request)
    text = clean_text(body.get("text"), "返信")
    h = _handoff(request)
    _mine(request, h)
    staff = staff_of(request)
    await _deliver(request, h.conversation_id, notices.staff_reply(text, staff.display_name))
    request.app[keys.STORE].audit(staff.username, "handoff.reply", f"handoff:{h.id}", f"{len(text)} characters")
    return ok({"delivered": True})


@routes.post(r"/api/handoffs/{id:\d+}/hand_back")
async def hand_back(request: web.Request) -> web.Response:
    body = await read_body(request)
    note = clean_text(body.get("note"), "メモ", required=False)
    return await _end_handoff(request, notices.returned, HandoffStore.hand_back, note)


@routes.post(r"/api/handoffs/{id:\d+}/close")
async def close(request: web.Request) -> web.Response:
    body = await read_body(request)
    resolution = clean_text(body.get("resolution"), "対応の記録")
    return await _end_handoff(request, notices.closed, HandoffStore.close, resolution)


@routes.post(r"/api/tickets/{id:\d+}/answer")
async def answer_ticket(request: web.Request) -> web.Response:
    body = await read_body(request)
    answer = clean_text(body.get("answer"), "回答")
    t = _ticket(request)
    if not t.is_open:
        raise ApiError(409, "not_open", "この伝言はすでに回答済みか、取り消されています。")
    staff = staff_of(request)
    store = request.app[keys.STORE]
    delivered = t.contact_method == ContactMethod.CHAT.value
    # Record first (a conditional UPDATE: of two staff answering at once, one wins), then
    # deliver only what was recorded; if it cannot be delivered, the ticket is open again.
    try:
        answered = store.answer_ticket(t.id, staff.username, answer)
    except HandoffError:
        raise ApiError(409, "not_open", "この伝言はすでに回答済みか、取り消されています。") from None
    if delivered:
        try:
            await _deliver(request, t.conversation_id, notices.ticket_answer(t.id, answered.answer or answer,
                                                                            staff.display_name))
        except ApiError:
            store.undo_answer(t.id, staff.username)
            _hub(request).poke()
            raise
    _hub(request).poke()
    return ok({"ticket": _ticket_view(request, answered), "delivered": delivered})


# ---------------------------------------------------------------------------- live stream
@routes.get("/api/stream")
async def stream(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: ``inbox`` (whole inbox on change) and ``conversation`` (new items).

    Query: ``handoff`` or ``ticket`` (id) to follow that conversation, ``cursor`` (events
    the page already has, from the conversation API).
    """
    store = request.app[keys.STORE]
    conversation_id = None
    raw_id = request.query.get("handoff") or request.query.get("ticket")
    if raw_id:
        if not raw_id.isdigit() or len(raw_id) > 12:
            raise ApiError(400, "invalid_id", "handoff / ticket は番号で指定してください。")
        item = store.get(int(raw_id)) if request.query.get("handoff") else store.get_ticket(int(raw_id))
        if item is None:
            raise ApiError(404, "not_found", "見つかりません。")
        conversation_id = item.conversation_id
    raw_cursor = request.query.get("cursor", "0")
    cursor = int(raw_cursor) if raw_cursor.isdigit() and len(raw_cursor) < 9 else 0

    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store",
                                       "X-Accel-Buffering": "no"})
    await resp.prepare(request)
    hub = _hub(request)
    sub = hub.subscribe(conversation_id, cursor)
    accounts = request.app[keys.ACCOUNTS]
    minutes = request.app[keys.CONFIG].session_minutes
    token = request.cookies.get(SESSION_COOKIE)
    try:
        await resp.write(b"retry: 3000\n\n")
        while True:
            try:
                item = await asyncio.wait_for(sub.queue.get(), timeout=15)
            except asyncio.TimeoutError:
                item = ("ping", {})
            if item is None:
                break
            if accounts.session(token, minutes, touch=False) is None:
                await resp.write(b"event: logout\ndata: {}\n\n")
                break
            event, data = item
            if event == "ping":
                await resp.write(b": ping\n\n")
            else:
                await resp.write(f"event: {event}\ndata: {_dumps(data)}\n\n".encode("utf-8"))
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        hub.unsubscribe(sub)
    return resp
