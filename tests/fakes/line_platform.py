"""A fake LINE platform on loopback: the Messaging API endpoints the assistant calls, and a
sender of signed webhook events shaped like LINE's documented ones.

It checks what LINE checks (the access token, reply tokens that are single-use and
expire, LINE's message limits, retry keys) and answers 400/401/409 like LINE, records
every call, and can be told to fail: ``fail_next("/v2/bot/message/reply", 500)`` or
``fail_next(..., 429, retry_after=1)``. The limits here are written from LINE's
reference independently of bot/line/messages.py, so the two check each other.

Use it in an async test through ``aiohttp_server(platform.app())``, or in a thread next
to real servers with :meth:`FakeLinePlatform.start_in_thread`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def new_user_id() -> str:
    return "U" + uuid.uuid4().hex


def new_event_id() -> str:
    """Webhook event ids are ULIDs (26 characters of Crockford base32)."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    n = uuid.uuid4().int
    return "".join(alphabet[(n >> (5 * i)) & 31] for i in range(26))


@dataclass
class Call:
    """One request the platform received, and what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    answer: Any = None
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass
class _Token:
    issued: float
    used: bool = False


@dataclass
class FakeLinePlatform:
    channel_secret: str = "fake-channel-secret"
    access_token: str = "fake-access-token"
    reply_token_ttl: float = 60.0  # seconds a reply token stays valid
    reply_delay: float = 0.0  # seconds the reply/push endpoints take (to prove the webhook does not wait)
    calls: list[Call] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # every 400 the platform gave, with the reason

    def __post_init__(self) -> None:
        self._failures: dict[str, deque[tuple[int, dict]]] = {}
        self._tokens: dict[str, _Token] = {}
        self._retry_keys: dict[str, str] = {}
        self._token_owner: dict[str, str | None] = {}  # reply token → user (or group) it answers
        self.rich_menus: dict[str, dict] = {}
        self.rich_menu_images: dict[str, tuple[str, bytes]] = {}
        self.default_rich_menu: str | None = None
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # ------------------------------------------------------------------ control
    def fail_next(self, path: str, *statuses: int, retry_after: int | None = None, body: dict | None = None) -> None:
        """Answer the next requests to ``path`` with ``statuses`` (one each), then normally."""
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        queue = self._failures.setdefault(path, deque())
        for status in statuses:
            queue.append((status, {"headers": headers, "body": body or {"message": f"fake failure {status}"}}))

    def expire_reply_tokens(self) -> None:
        for token in self._tokens.values():
            token.issued = 0.0

    def calls_to(self, path: str, status: int | None = None) -> list[Call]:
        with self._changed:
            return [c for c in self.calls if c.path == path and (status is None or c.status == status)]

    def sent_to(self, user_id: str) -> list[Call]:
        """Successful reply/push calls that reached ``user_id`` (replies by their token)."""
        tokens = {t for t, owner in self._token_owner.items() if owner == user_id}
        out = []
        with self._changed:
            for c in self.calls:
                if c.status != 200 or c.path not in ("/v2/bot/message/reply", "/v2/bot/message/push"):
                    continue
                body = c.json or {}
                if body.get("to") == user_id or body.get("replyToken") in tokens:
                    out.append(c)
        return out

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Block until ``predicate()`` is truthy (checked on every recorded call); returns it."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = predicate()
                if result:
                    return result
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake LINE platform: condition not met after {timeout} s; calls: "
                                         f"{[(c.method, c.path, c.status) for c in self.calls][-20:]}")
                self._changed.wait(min(left, 0.2))

    # ------------------------------------------------------------------ webhook events
    def _base_event(self, kind: str, user_id: str | None, *, group_id: str | None = None, room_id: str | None = None,
                    reply: bool = True, redelivery: bool = False, age: float = 0.0, event_id: str | None = None) -> dict:
        if group_id:
            source = {"type": "group", "groupId": group_id, **({"userId": user_id} if user_id else {})}
        elif room_id:
            source = {"type": "room", "roomId": room_id, **({"userId": user_id} if user_id else {})}
        else:
            source = {"type": "user", "userId": user_id}
        event = {
            "type": kind,
            "mode": "active",
            "timestamp": int((time.time() - age) * 1000),
            "source": source,
            "webhookEventId": event_id or new_event_id(),
            "deliveryContext": {"isRedelivery": redelivery},
        }
        if reply:
            token = uuid.uuid4().hex
            self._tokens[token] = _Token(issued=time.time() - age)
            self._token_owner[token] = user_id if not (group_id or room_id) else (group_id or room_id)
            event["replyToken"] = token
        return event

    def text_event(self, user_id: str, text: str, **kw: Any) -> dict:
        event = self._base_event("message", user_id, **kw)
        event["message"] = {"type": "text", "id": str(uuid.uuid4().int)[:18], "quoteToken": uuid.uuid4().hex, "text": text}
        return event

    def postback_event(self, user_id: str, data: str, **kw: Any) -> dict:
        event = self._base_event("postback", user_id, **kw)
        event["postback"] = {"data": data}
        return event

    def follow_event(self, user_id: str, **kw: Any) -> dict:
        event = self._base_event("follow", user_id, **kw)
        event["follow"] = {"isUnblocked": False}
        return event

    def unfollow_event(self, user_id: str, **kw: Any) -> dict:
        return self._base_event("unfollow", user_id, reply=False, **kw)

    def join_event(self, group_id: str, **kw: Any) -> dict:
        return self._base_event("join", None, group_id=group_id, **kw)

    def sticker_event(self, user_id: str, **kw: Any) -> dict:
        event = self._base_event("message", user_id, **kw)
        event["message"] = {"type": "sticker", "id": "1", "quoteToken": uuid.uuid4().hex, "packageId": "446",
                            "stickerId": "1988", "stickerResourceType": "STATIC", "keywords": ["happy"]}
        return event

    def image_event(self, user_id: str, **kw: Any) -> dict:
        event = self._base_event("message", user_id, **kw)
        event["message"] = {"type": "image", "id": "2", "quoteToken": uuid.uuid4().hex,
                            "contentProvider": {"type": "line"}}
        return event

    def location_event(self, user_id: str, **kw: Any) -> dict:
        event = self._base_event("message", user_id, **kw)
        event["message"] = {"type": "location", "id": "3", "title": "自宅", "address": "サンプル市中央9丁目9-9",
                            "latitude": 35.0, "longitude": 139.0}
        return event

    def other_event(self, kind: str, user_id: str, **kw: Any) -> dict:
        """An event type the assistant does not act on (beacon, videoPlayComplete, future ones)."""
        event = self._base_event(kind, user_id, **kw)
        event[kind] = {"hwid": "d41d8cd98f", "type": "enter"} if kind == "beacon" else {}
        return event

    def body(self, *events: dict, destination: str = "Udeadbeefdeadbeefdeadbeefdeadbeef") -> bytes:
        return json.dumps({"destination": destination, "events": list(events)}, ensure_ascii=False).encode("utf-8")

    def sign(self, body: bytes, secret: str | None = None) -> str:
        key = (secret or self.channel_secret).encode("utf-8")
        return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")

    def send(self, url: str, body: bytes, signature: str | None | bool = True, timeout: float = 30.0) -> tuple[int, Any, float]:
        """POST ``body`` to the webhook ``url`` as LINE does; returns (status, JSON, seconds).

        ``signature``: True signs with the channel secret, a string is sent as is, None
        or False sends no header.
        """
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "LineBotWebhook/2.0"}
        if signature is True:
            headers["X-Line-Signature"] = self.sign(body)
        elif isinstance(signature, str):
            headers["X-Line-Signature"] = signature
        req = urllib.request.Request(url, data=body, headers=headers, method="POST")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # loopback
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        elapsed = time.monotonic() - started
        try:
            data = json.loads(raw.decode("utf-8")) if raw else None
        except ValueError:
            data = raw.decode("utf-8", "replace")
        return status, data, elapsed

    # ------------------------------------------------------------------ API endpoints
    def app(self) -> web.Application:
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_post("/v2/bot/message/reply", self._reply)
        app.router.add_post("/v2/bot/message/push", self._push)
        app.router.add_post("/v2/bot/richmenu", self._create_rich_menu)
        app.router.add_get("/v2/bot/richmenu/list", self._list_rich_menus)
        app.router.add_post("/v2/bot/richmenu/{id}/content", self._upload_image)
        app.router.add_delete("/v2/bot/richmenu/{id}", self._delete_rich_menu)
        app.router.add_post("/v2/bot/user/all/richmenu/{id}", self._set_default)
        return app

    def _answer(self, call: Call, status: int, body: Any, headers: dict | None = None) -> web.Response:
        call.status, call.answer = status, body
        if status == 400:
            self.problems.append(f"{call.path}: {body.get('message')} {body.get('details', '')}")
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        hdrs = {"X-Line-Request-Id": str(uuid.uuid4()), **(headers or {})}
        return web.json_response(body, status=status, headers=hdrs)

    async def _begin(self, request: web.Request, template: str | None = None) -> tuple[Call, web.Response | None]:
        call = Call(request.method, request.path, dict(request.headers), await request.read())
        path_key = template or request.path
        queue = self._failures.get(path_key)
        if queue:
            status, spec = queue.popleft()
            return call, self._answer(call, status, spec["body"], spec["headers"])
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return call, self._answer(call, 401, {"message": "Authentication failed. Confirm that the access token in the authorization header is valid."})
        return call, None

    async def _begin_json(self, request: web.Request) -> tuple[Call, Any, web.Response | None]:
        """:meth:`_begin`, then the JSON body: ``(call, body, None)``, or ``(call, None, answer)``
        when the platform answers early (failure queued, bad token, not JSON)."""
        call, early = await self._begin(request)
        if early is not None:
            return call, None, early
        if not call.headers.get("Content-Type", "").startswith("application/json"):
            return call, None, self._answer(call, 400, {"message": "Content-Type must be application/json"})
        try:
            return call, call.json, None
        except ValueError:
            return call, None, self._answer(call, 400, {"message": "The request body has 1 error(s)",
                                                        "details": ["invalid JSON"]})

    async def _reply(self, request: web.Request) -> web.Response:
        call, body, early = await self._begin_json(request)
        if early is not None:
            return early
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        problems = check_messages(body.get("messages"))
        if problems:
            return self._answer(call, 400, {"message": "The request body has 1 error(s)", "details": problems})
        token = self._tokens.get(body.get("replyToken") or "")
        if token is None or token.used or time.time() - token.issued > self.reply_token_ttl:
            return self._answer(call, 400, {"message": "Invalid reply token"})
        token.used = True
        return self._answer(call, 200, {"sentMessages": _sent(body["messages"])})

    async def _push(self, request: web.Request) -> web.Response:
        call, body, early = await self._begin_json(request)
        if early is not None:
            return early
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        key = request.headers.get("X-Line-Retry-Key")
        if key is not None and not UUID_RE.match(key):
            return self._answer(call, 400, {"message": "The value of the X-Line-Retry-Key header is invalid"})
        if key is not None and key in self._retry_keys:
            return self._answer(call, 409, {"message": "The retry key is already accepted"},
                                {"X-Line-Accepted-Request-Id": self._retry_keys[key]})
        problems = check_messages(body.get("messages"))
        if not isinstance(body.get("to"), str) or not re.match(r"^[UCR][0-9a-f]{32}$", body["to"]):
            problems.append("to: a userId, groupId or roomId expected")
        if problems:
            return self._answer(call, 400, {"message": "The request body has 1 error(s)", "details": problems})
        if key is not None:
            self._retry_keys[key] = str(uuid.uuid4())
        return self._answer(call, 200, {"sentMessages": _sent(body["messages"])})

    async def _create_rich_menu(self, request: web.Request) -> web.Response:
        call, body, early = await self._begin_json(request)
        if early is not None:
            return early
        problems = check_rich_menu(body)
        if problems:
            return self._answer(call, 400, {"message": "The request body has errors", "details": problems})
        rich_menu_id = f"richmenu-{uuid.uuid4().hex}"
        self.rich_menus[rich_menu_id] = body
        return self._answer(call, 200, {"richMenuId": rich_menu_id})

    async def _list_rich_menus(self, request: web.Request) -> web.Response:
        call, early = await self._begin(request)
        if early is not None:
            return early
        return self._answer(call, 200, {"richmenus": [{"richMenuId": k, **v} for k, v in self.rich_menus.items()]})

    async def _upload_image(self, request: web.Request) -> web.Response:
        call, early = await self._begin(request, "/v2/bot/richmenu/{id}/content")
        if early is not None:
            return early
        rich_menu_id = request.match_info["id"]
        content_type = request.headers.get("Content-Type", "")
        if rich_menu_id not in self.rich_menus:
            return self._answer(call, 404, {"message": "Not found"})
        if rich_menu_id in self.rich_menu_images:
            return self._answer(call, 400, {"message": "An image has already been uploaded to the richmenu"})
        if content_type not in ("image/png", "image/jpeg") or not call.body or len(call.body) > 1_000_000:
            return self._answer(call, 400, {"message": "Invalid image", "details": [content_type, len(call.body)]})
        self.rich_menu_images[rich_menu_id] = (content_type, call.body)
        return self._answer(call, 200, {})

    async def _delete_rich_menu(self, request: web.Request) -> web.Response:
        call, early = await self._begin(request, "/v2/bot/richmenu/{id}")
        if early is not None:
            return early
        if self.rich_menus.pop(request.match_info["id"], None) is None:
            return self._answer(call, 404, {"message": "Not found"})
        return self._answer(call, 200, {})

    async def _set_default(self, request: web.Request) -> web.Response:
        call, early = await self._begin(request, "/v2/bot/user/all/richmenu/{id}")
        if early is not None:
            return early
        rich_menu_id = request.match_info["id"]
        if rich_menu_id not in self.rich_menus or rich_menu_id not in self.rich_menu_images:
            return self._answer(call, 400, {"message": "must upload richmenu image before applying it to user"})
        self.default_rich_menu = rich_menu_id
        return self._answer(call, 200, {})

    # ------------------------------------------------------------------ running in a thread
    def start_in_thread(self) -> str:
        """Serve on a free loopback port in a background thread; returns the base URL."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._runner = web.AppRunner(self.app(), access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.base_url = f"http://127.0.0.1:{port}"
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-line-platform", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake LINE platform did not start")
        return self.base_url

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)


def _sent(messages: list) -> list[dict]:
    return [{"id": str(uuid.uuid4().int)[:18], "quoteToken": uuid.uuid4().hex} for _ in messages]


# ---------------------------------------------------------------------- LINE's limits
def _check_action(action: Any, where: str, problems: list[str], in_rich_menu: bool = False) -> None:
    if not isinstance(action, dict):
        problems.append(f"{where}: action object expected")
        return
    kind, label = action.get("type"), action.get("label")
    if label is not None and (not isinstance(label, str) or not 1 <= utf16_len(label) <= 20):
        problems.append(f"{where}.label: 1–20 characters")
    if not in_rich_menu and kind in ("postback", "message", "uri") and label is None:
        problems.append(f"{where}.label: required")
    if kind == "postback":
        data = action.get("data")
        if not isinstance(data, str) or not 1 <= utf16_len(data) <= 300:
            problems.append(f"{where}.data: 1–300 characters")
        if "displayText" in action and not 1 <= utf16_len(str(action["displayText"])) <= 300:
            problems.append(f"{where}.displayText: 1–300 characters")
    elif kind == "message":
        if not isinstance(action.get("text"), str) or not 1 <= utf16_len(action["text"]) <= 300:
            problems.append(f"{where}.text: 1–300 characters")
    elif kind == "uri":
        uri = action.get("uri")
        if not isinstance(uri, str) or not re.match(r"^(https?|line|tel):", uri) or len(uri) > 1000:
            problems.append(f"{where}.uri: http, https, line or tel, at most 1000 characters")
    else:
        problems.append(f"{where}.type: unsupported action {kind!r}")


def check_message(m: Any, where: str) -> list[str]:
    """LINE's validation of one message object (the parts the assistant uses)."""
    problems: list[str] = []
    if not isinstance(m, dict):
        return [f"{where}: message object expected"]
    kind = m.get("type")
    if kind == "text":
        text = m.get("text")
        if not isinstance(text, str) or not text.strip() or utf16_len(text) > 5000:
            problems.append(f"{where}.text: 1–5000 characters")
    elif kind == "template":
        alt = m.get("altText")
        if not isinstance(alt, str) or not 1 <= utf16_len(alt) <= 400:
            problems.append(f"{where}.altText: 1–400 characters")
        t = m.get("template") or {}
        if t.get("type") != "buttons":
            problems.append(f"{where}.template.type: buttons expected")
        limit = 60 if ("title" in t or "thumbnailImageUrl" in t) else 160
        if not isinstance(t.get("text"), str) or not 1 <= utf16_len(t["text"]) <= limit:
            problems.append(f"{where}.template.text: 1–{limit} characters")
        actions = t.get("actions") or []
        if not 1 <= len(actions) <= 4:
            problems.append(f"{where}.template.actions: 1–4 actions")
        for i, a in enumerate(actions):
            _check_action(a, f"{where}.template.actions[{i}]", problems)
    elif kind == "flex":
        alt = m.get("altText")
        if not isinstance(alt, str) or not 1 <= utf16_len(alt) <= 400:
            problems.append(f"{where}.altText: 1–400 characters")
        contents = m.get("contents") or {}
        if contents.get("type") not in ("bubble", "carousel"):
            problems.append(f"{where}.contents.type: bubble or carousel")
        if len(json.dumps(contents, ensure_ascii=False).encode("utf-8")) > 30_000:
            problems.append(f"{where}.contents: a bubble is at most 30 KB")
    else:
        problems.append(f"{where}.type: {kind!r} is not used by the assistant")
    if "sender" in m:
        name = (m.get("sender") or {}).get("name")
        if not isinstance(name, str) or not 1 <= utf16_len(name) <= 20:
            problems.append(f"{where}.sender.name: 1–20 characters")
    if "quickReply" in m:
        items = (m.get("quickReply") or {}).get("items") or []
        if not 1 <= len(items) <= 13:
            problems.append(f"{where}.quickReply.items: 1–13 items")
        for i, item in enumerate(items):
            if not isinstance(item, dict) or item.get("type") != "action":
                problems.append(f"{where}.quickReply.items[{i}].type: action expected")
                continue
            _check_action(item.get("action"), f"{where}.quickReply.items[{i}].action", problems)
    return problems


def check_messages(messages: Any) -> list[str]:
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return ["messages: 1–5 messages"]
    problems: list[str] = []
    for i, m in enumerate(messages):
        problems.extend(check_message(m, f"messages[{i}]"))
    return problems


def check_rich_menu(menu: Any) -> list[str]:
    problems: list[str] = []
    if not isinstance(menu, dict):
        return ["rich menu object expected"]
    size = menu.get("size") or {}
    w, h = size.get("width"), size.get("height")
    if not (isinstance(w, int) and isinstance(h, int) and 800 <= w <= 2500 and h >= 250 and w / h >= 1.45):
        problems.append("size: width 800–2500, height ≥ 250, width/height ≥ 1.45")
    if not isinstance(menu.get("selected"), bool):
        problems.append("selected: boolean required")
    if not isinstance(menu.get("name"), str) or not 1 <= len(menu["name"]) <= 300:
        problems.append("name: 1–300 characters")
    if not isinstance(menu.get("chatBarText"), str) or not 1 <= utf16_len(menu["chatBarText"]) <= 14:
        problems.append("chatBarText: 1–14 characters")
    areas = menu.get("areas")
    if not isinstance(areas, list) or not 1 <= len(areas) <= 20:
        return problems + ["areas: 1–20 areas"]
    for i, area in enumerate(areas):
        b = area.get("bounds") or {}
        if not all(isinstance(b.get(k), int) for k in ("x", "y", "width", "height")):
            problems.append(f"areas[{i}].bounds: integers required")
        elif b["x"] + b["width"] > (w or 0) or b["y"] + b["height"] > (h or 0):
            problems.append(f"areas[{i}].bounds: outside the menu")
        _check_action(area.get("action"), f"areas[{i}].action", problems, in_rich_menu=True)
    return problems
