"""The Messaging API client against the fake LINE platform on loopback (retries, limits, rich menu)."""

from __future__ import annotations

import socket

import pytest

from bot.errors import MadoguchiError
from bot.line.client import LineApiConfig, LineApiError, LineClient, retry_after_seconds
from bot.line.richmenu import WIDTH, HEIGHT, check_definition, rich_menu_definition, upload_rich_menu
from tests.fakes.line_platform import UUID_RE, FakeLinePlatform

REPLY = "/v2/bot/message/reply"
PUSH = "/v2/bot/message/push"
USER = "U" + "ab" * 16


@pytest.fixture
def platform():
    return FakeLinePlatform()


@pytest.fixture
async def client_for(aiohttp_server, platform):
    server = await aiohttp_server(platform.app())
    clients = []

    def make(**overrides):
        sleeps: list[float] = []

        async def sleep(seconds):
            sleeps.append(seconds)

        config = LineApiConfig(access_token=overrides.pop("token", platform.access_token),
                               api_base_url=str(server.make_url("")).rstrip("/"),
                               data_api_base_url=str(server.make_url("")).rstrip("/"), **overrides)
        client = LineClient(config, sleep=sleep)
        client.sleeps = sleeps
        clients.append(client)
        return client

    yield make
    for c in clients:
        await c.close()


def reply_token(platform):
    return platform.text_event(USER, "x")["replyToken"]


async def test_reply_sends_token_messages_and_bearer_header(client_for, platform):
    client = client_for()
    token = reply_token(platform)
    sent = await client.reply(token, [{"type": "text", "text": "こんにちは"}])
    [call] = platform.calls
    assert call.status == 200 and call.headers["Authorization"] == "Bearer fake-access-token"
    assert call.headers["Content-Type"].startswith("application/json")
    assert call.json == {"replyToken": token, "messages": [{"type": "text", "text": "こんにちは"}]}
    assert len(sent.message_ids) == 1 and sent.request_id


async def test_server_error_then_success_is_retried_once(client_for, platform):
    client = client_for()
    platform.fail_next(REPLY, 500)
    await client.reply(reply_token(platform), [{"type": "text", "text": "a"}])
    assert [c.status for c in platform.calls] == [500, 200]
    assert len(client.sleeps) == 1 and 0.25 <= client.sleeps[0] <= 0.5  # first backoff, with jitter


async def test_backoff_grows_and_gives_up_after_max_attempts(client_for, platform):
    client = client_for(max_attempts=4, backoff_seconds=1.0, max_backoff_seconds=3.0)
    platform.fail_next(PUSH, 502, 503, 500, 500, 500)
    with pytest.raises(LineApiError) as exc:
        await client.push(USER, [{"type": "text", "text": "a"}])
    assert exc.value.status == 500 and "HTTP 500" in str(exc.value)
    assert len(platform.calls) == 4
    assert [0.5 <= client.sleeps[0] <= 1.0, 1.0 <= client.sleeps[1] <= 2.0, 1.5 <= client.sleeps[2] <= 3.0] == [True] * 3


async def test_429_honours_retry_after(client_for, platform):
    client = client_for()
    platform.fail_next(PUSH, 429, retry_after=2, body={"message": "The API rate limit has been exceeded. Try again later."})
    await client.push(USER, [{"type": "text", "text": "a"}])
    assert client.sleeps == [2.0]
    assert [c.status for c in platform.calls] == [429, 200]


async def test_retry_after_is_capped(client_for, platform):
    client = client_for(max_backoff_seconds=5)
    platform.fail_next(PUSH, 429, retry_after=3600)
    await client.push(USER, [{"type": "text", "text": "a"}])
    assert client.sleeps == [5]


async def test_monthly_quota_429_is_not_retried(client_for, platform):
    client = client_for()
    platform.fail_next(PUSH, 429, body={"message": "You have reached your monthly limit."})
    with pytest.raises(LineApiError) as exc:
        await client.push(USER, [{"type": "text", "text": "a"}])
    assert exc.value.status == 429 and "quota" in str(exc.value)
    assert len(platform.calls) == 1 and client.sleeps == []


async def test_client_errors_are_not_retried(client_for, platform):
    client = client_for()
    with pytest.raises(LineApiError) as exc:
        await client.reply("not-a-token", [{"type": "text", "text": "a"}])
    assert exc.value.status == 400 and "Invalid reply token" in str(exc.value)
    bad = client_for(token="wrong")
    with pytest.raises(LineApiError) as exc:
        await bad.push(USER, [{"type": "text", "text": "a"}])
    assert exc.value.status == 401 and "LINE_CHANNEL_ACCESS_TOKEN" in str(exc.value)
    assert len(platform.calls) == 2


async def test_push_retries_keep_one_retry_key_and_409_counts_as_delivered(client_for, platform):
    client = client_for()
    platform.fail_next(PUSH, 500)
    await client.push(USER, [{"type": "text", "text": "a"}])
    keys = [c.headers["X-Line-Retry-Key"] for c in platform.calls]
    assert len(keys) == 2 and keys[0] == keys[1] and UUID_RE.match(keys[0])
    # The same key again (a retry whose first attempt got through): LINE answers 409.
    sent = await client.push(USER, [{"type": "text", "text": "a"}], retry_key=keys[0])
    assert sent.already_accepted and platform.calls[-1].status == 409
    assert len(platform.calls_to(PUSH, 200)) == 1


async def test_network_errors_and_timeouts_are_retried_then_reported(client_for, platform):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = client_for(max_attempts=3)
    client.config = LineApiConfig(access_token="t", api_base_url=f"http://127.0.0.1:{port}", max_attempts=3)
    with pytest.raises(LineApiError) as exc:
        await client.push(USER, [{"type": "text", "text": "a"}])
    assert "no answer after 3 attempts" in str(exc.value) and len(client.sleeps) == 2

    platform.reply_delay = 1.0
    slow = client_for(timeout_seconds=0.2, max_attempts=2)
    with pytest.raises(LineApiError) as exc:
        await slow.push(USER, [{"type": "text", "text": "a"}])
    assert "TimeoutError" in str(exc.value)


@pytest.mark.parametrize("count", [0, 6])
async def test_message_count_is_checked_before_calling(client_for, platform, count):
    with pytest.raises(LineApiError, match="1 to 5 messages"):
        await client_for().push(USER, [{"type": "text", "text": "a"}] * count)
    assert platform.calls == []


def test_retry_after_parsing():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0


def test_empty_access_token_is_a_clear_error():
    with pytest.raises(LineApiError, match="access token is empty"):
        LineApiConfig(access_token="")


def png(width=WIDTH, height=HEIGHT):
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), "#336699").save(out, format="PNG")
    return out.getvalue()


async def test_rich_menu_upload_creates_uploads_sets_default_and_replaces_old(client_for, platform):
    client = client_for()
    definition = rich_menu_definition()
    first = await upload_rich_menu(client, definition, png())
    second = await upload_rich_menu(client, definition, png())
    assert second.deleted == [first.rich_menu_id]
    assert list(platform.rich_menus) == [second.rich_menu_id] and platform.default_rich_menu == second.rich_menu_id
    content_type, data = platform.rich_menu_images[second.rich_menu_id]
    assert content_type == "image/png" and data.startswith(b"\x89PNG")
    assert platform.problems == []


def test_rich_menu_definition_has_the_four_city_areas():
    definition = rich_menu_definition()
    assert check_definition(definition) == []
    actions = [a["action"] for a in definition["areas"]]
    assert [a["label"] for a in actions] == ["よくある質問", "ごみ", "手続き", "人と話す"]
    assert [a["data"] for a in actions] == ["menu:faq", "menu:gomi", "menu:tetsuzuki", "/request_human"]
    assert sum(a["bounds"]["width"] for a in definition["areas"]) == WIDTH


async def test_rich_menu_upload_refuses_wrong_images(client_for, platform):
    with pytest.raises(MadoguchiError, match="2500x843 expected"):
        await upload_rich_menu(client_for(), rich_menu_definition(), png(800, 400))
    with pytest.raises(MadoguchiError, match="PNG or JPEG"):
        await upload_rich_menu(client_for(), rich_menu_definition(), b"GIF89a")
    assert platform.calls == []
