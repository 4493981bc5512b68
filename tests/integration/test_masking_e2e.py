"""Personal data sent through every channel of the real stack never reaches the disk.

One stack of its own (``rasa run`` with the REST, web widget and LINE channels, the
action server and the staff console, all writing to their own var/ directory) gets the
same kinds of personal data through each channel: マイナンバー with and without
separators and in full-width digits, mobile and landline numbers, e-mail, 〒 postal code
with address, card number, date of birth, and numbers split by zero-width characters or
中黒. LINE gets signed webhook events from the fake LINE platform: text messages,
postbacks and a location. Each channel has its own values, so a leak names its channel.

Then every file the system wrote (the stack's var/: tracker store, our database, their
WAL/SHM files, logs, generated configuration; and the models directory, archives
unpacked) is searched for every raw value: as UTF-8, UTF-16, JSON ``\\uXXXX`` escapes and
URL encoding, each in half- and full-width form, while the servers run and again after
they stopped (logs flushed, WAL checkpointed). Rasa's own API shows that what it saw is
the masked text (「私の電話番号は［電話番号］です。…」).
"""

from __future__ import annotations

import dataclasses
import gzip
import io
import json
import re
import sqlite3
import tarfile
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from bot.line.menus import LOCATION_TEXT
from bot.privacy.masking import ADDRESS, CARD, DATE_OF_BIRTH, EMAIL, MY_NUMBER, PHONE
from bot.runtime.runner import Stack
from tests.fakes.line_platform import Call, FakeLinePlatform, new_user_id
from tests.line_stack import run_stack, serve_platform, tracker

pytestmark = pytest.mark.slow

SECRET = "pii-test-channel-secret"
TOKEN = "pii-test-access-token"
CHANNELS = ("rest", "web", "line")

OTHER_CHANNELS = ("bot.channels.rest.MadoguchiRestInput", "bot.channels.web.WebInput")  # and LINE

# A message of only zero-width characters (and a BOM, a word joiner, spaces): empty.
INVISIBLE_ONLY = "\u200b\u200c \u200d\u2060\ufeff\u3000\u200b"
EMPTY_REPLY = "メッセージが空です。質問を入力してください。"

# What Rasa must see, turn by turn, whichever channel and resident: the masked text.
MASKED = [
    f"私の電話番号は{PHONE}です。住民票の取り方は？",
    f"自宅の電話は{PHONE}、メールは {EMAIL} です",
    f"マイナンバーは{MY_NUMBER}です。マイナンバーカードをなくしました",
    f"家族のマイナンバーは{MY_NUMBER}と{MY_NUMBER}です",
    f"{ADDRESS}に住んでいます。粗大ごみを出したい",
    f"カード{CARD}で払えますか",
    f"生年月日は{DATE_OF_BIRTH}です。国保に入りたい",
    f"携帯は{PHONE}、予備は{PHONE}です",
    f"電話は{PHONE}か{PHONE}です",  # 090/1234/5678, 090_1234_5678
    f"マイナンバーは{MY_NUMBER}、携帯は（{PHONE}）です",  # 1234,5678,9018; 〇九〇‐一二三四‐五六七八
    f"予備の番号は{PHONE}、メールは {EMAIL} です",  # 𝟎𝟗𝟎…; taro.yamada at example dot jp
    f'/choose_faq{{"faq_id": "{CARD}"}}',  # a forged button payload carrying personal data
    "/feedback_negative",
    "人と話したい",
    "/leave_message",
    f"国保の保険料について教えてください。連絡先は{PHONE}、{EMAIL}です",  # the message left for staff
]
CHOOSE_TURN = 11  # the forged /choose_faq payload
POSTBACK_TURNS = {4, CHOOSE_TURN}  # on LINE these come as postback events, the others as text messages


@dataclasses.dataclass(frozen=True)
class Turn:
    raw: str
    masked: str
    postback: bool


@dataclasses.dataclass(frozen=True)
class Resident:
    """One resident's personal data, written the ways residents write it."""

    mobile: str  # with hyphens
    landline: str  # without
    email: str
    my_number_spaced: str
    my_number_plain: str
    my_number_wide: str  # full-width digits and hyphens
    postal_code: str
    address: str
    card: str
    birth_date: str
    hidden_phone: str  # split by zero-width characters
    dotted_phone: str  # split by 中黒
    slashed_phone: str  # 090/1234/5678
    underscored_phone: str  # 090_1234_5678
    comma_my_number: str  # 1234,5678,9018
    kanji_phone: str  # 〇九〇‐一二三四‐五六七八
    math_phone: str  # mathematical digits 𝟎𝟗𝟎…
    spelled_email: str  # taro.yamada at example dot jp
    pieces: tuple[str, ...]  # parts of the values: a value masked only in part would leave them

    def turns(self) -> list[Turn]:
        card_digits = re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", self.card))
        raw = [
            f"私の電話番号は{self.mobile}です。住民票の取り方は？",
            f"自宅の電話は{self.landline}、メールは {self.email} です",
            f"マイナンバーは{self.my_number_spaced}です。マイナンバーカードをなくしました",
            f"家族のマイナンバーは{self.my_number_plain}と{self.my_number_wide}です",
            f"{self.postal_code} {self.address}に住んでいます。粗大ごみを出したい",
            f"カード{self.card}で払えますか",
            f"生年月日は{self.birth_date}です。国保に入りたい",
            f"携帯は{self.hidden_phone}、予備は{self.dotted_phone}です",
            f"電話は{self.slashed_phone}か{self.underscored_phone}です",
            f"マイナンバーは{self.comma_my_number}、携帯は（{self.kanji_phone}）です",
            f"予備の番号は{self.math_phone}、メールは {self.spelled_email} です",
            f'/choose_faq{{"faq_id": "{card_digits}"}}',
            "/feedback_negative",
            "人と話したい",
            "/leave_message",
            f"国保の保険料について教えてください。連絡先は{self.mobile}、{self.email}です",
        ]
        assert len(raw) == len(MASKED)
        return [Turn(text, masked, i in POSTBACK_TURNS) for i, (text, masked) in enumerate(zip(raw, MASKED))]

    def needles(self) -> list[str]:
        """Every value, and the pieces of them, to search the disk for."""
        values = [getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "pieces"]
        return values + list(self.pieces)


RESIDENTS = {
    "rest": Resident(
        mobile="090-4821-7395", landline="0356128479", email="sakura.tanabe.r7@example.org",
        my_number_spaced="4827 1956 3042", my_number_plain="583920174615", my_number_wide="７３０１－５５８２－９４６３",
        postal_code="〒197-0824", address="東京都架空市見本町3丁目14番15号", card="4539 1488 0343 6467",
        birth_date="昭和58年7月16日", hidden_phone="080\u200b6138\u200b2957", dotted_phone="090・3358・1720",
        slashed_phone="090/2273/6481", underscored_phone="080_5537_1269", comma_my_number="2961,4407,8813",
        kanji_phone="〇九〇‐七三一八‐二六四五", math_phone="𝟎𝟗𝟎-𝟔𝟔𝟏𝟕-𝟑𝟎𝟐𝟖", spelled_email="riko.amano.r2 at example dot org",
        pieces=("2273/6481", "5537_1269", "4407,8813", "七三一八‐二六四五", "𝟔𝟔𝟏𝟕-𝟑𝟎𝟐𝟖", "riko.amano.r2", "4821-7395", "1956 3042", "５５８２－９４６３", "0343 6467", "sakura.tanabe.r7", "架空市見本町",
                "3丁目14番15号", "3358・1720"),
    ),
    "web": Resident(
        mobile="080-3917-5264", landline="0459283716", email="kenta.morioka.w3@example.net",
        my_number_spaced="6182 0375 9941", my_number_plain="294058316672", my_number_wide="８１５３－２０７９－４４６８",
        postal_code="〒532-0117", address="大阪府見本市架空町2丁目7番21号", card="5281-7304-6619-2853",
        birth_date="1987年11月23日", hidden_phone="070\u200d5294\u200d8163", dotted_phone="080・7245・9031",
        slashed_phone="070/4418/9352", underscored_phone="090_6624_0187", comma_my_number="5508,1932,7746",
        kanji_phone="〇八〇‐五五二九‐一七三六", math_phone="𝟎𝟖𝟎-𝟐𝟐𝟒𝟒-𝟗𝟏𝟑𝟕", spelled_email="daichi.ono.w8 at example dot net",
        pieces=("4418/9352", "6624_0187", "1932,7746", "五五二九‐一七三六", "𝟐𝟐𝟒𝟒-𝟗𝟏𝟑𝟕", "daichi.ono.w8", "3917-5264", "0375 9941", "２０７９－４４６８", "6619-2853", "kenta.morioka.w3", "見本市架空町",
                "2丁目7番21号", "7245・9031"),
    ),
    "line": Resident(
        mobile="070-6628-1943", landline="0112874563", email="yui.hoshino.l5@example.com",
        my_number_spaced="3390 2716 5548", my_number_plain="710264839915", my_number_wide="６６０２－４１８７－３０５９",
        postal_code="〒061-3285", address="北海道見本郡架空町5丁目3番8号", card="3589041277561183",
        birth_date="平成2年4月5日", hidden_phone="090\u20608841\ufeff2036", dotted_phone="070・5516・8824",
        slashed_phone="080/3301/7725", underscored_phone="070_8846_2213", comma_my_number="6620,3817,4459",
        kanji_phone="〇七〇‐九一四四‐三八二〇", math_phone="𝟎𝟕𝟎-𝟓𝟑𝟑𝟖-𝟏𝟗𝟐𝟔", spelled_email="mio.sakai.l4 at example dot com",
        pieces=("3301/7725", "8846_2213", "3817,4459", "九一四四‐三八二〇", "𝟓𝟑𝟑𝟖-𝟏𝟗𝟐𝟔", "mio.sakai.l4", "6628-1943", "2716 5548", "４１８７－３０５９", "77561183", "yui.hoshino.l5", "見本郡架空町",
                "5丁目3番8号", "5516・8824"),
    ),
}


# ---------------------------------------------------------------------- searching bytes
_FULL_WIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}


def _variants(needle: str) -> set[str]:
    """The needle as typed, in half-width and full-width form, and its digits alone (10+)."""
    half = unicodedata.normalize("NFKC", needle)
    out = {needle, half, half.translate(_FULL_WIDTH)}
    digits = re.sub(r"[^0-9]", "", half)
    if len(digits) >= 10:  # shorter digit runs could match by chance in stored numbers
        out.add(digits)
    return out


def _encodings(text: str) -> set[bytes]:
    """How a stored or logged copy of ``text`` would look in a file."""
    escaped = json.dumps(text)[1:-1]  # \uXXXX in lower-case hex
    upper = re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), escaped)
    return {text.encode("utf-8"), escaped.encode("ascii"), upper.encode("ascii"), text.encode("utf-16-le"),
            urllib.parse.quote(text).encode("ascii")}


def search_forms(needles: list[str]) -> dict[bytes, str]:
    return {form: needle for needle in needles for variant in _variants(needle) for form in _encodings(variant)}


# REST sender ids that are personal data: refused at the edge, so never stored.
PERSONAL_SENDERS = ["hana.kouno.s9@example.jp", "090-6612-4873", "tel_08055327190"]

ALL_FORMS = {form: f"{channel}: {needle!r}" for channel, resident in RESIDENTS.items()
             for form, needle in search_forms(resident.needles()).items()}
ALL_FORMS.update({form: f"sender id: {needle!r}" for form, needle in search_forms(PERSONAL_SENDERS).items()})


def _contents(path: Path) -> Iterator[tuple[str, bytes]]:
    """The file's bytes; for archives (the models) also each member's, unpacked."""
    data = path.read_bytes()
    yield str(path), data
    if path.name.endswith((".tar.gz", ".tgz", ".tar")):
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar.getmembers():
                fh = tar.extractfile(member) if member.isfile() else None
                if fh is not None:
                    yield f"{path}!{member.name}", fh.read()
    elif path.name.endswith(".gz"):
        yield f"{path}!", gzip.decompress(data)


def found_in(data: bytes) -> list[str]:
    return sorted({needle for form, needle in ALL_FORMS.items() if form in data})


def search_files(roots: list[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Every file under ``roots``, and the (file, needle) pairs found in them."""
    files = sorted(p for root in roots for p in root.rglob("*") if p.is_file())
    found = []
    for path in files:
        try:
            for label, data in _contents(path):
                found.extend((label, needle) for needle in found_in(data))
        except FileNotFoundError:  # a journal file that SQLite removed meanwhile
            continue
    return files, found


# ---------------------------------------------------------------------- the stack
@pytest.fixture(scope="module")
def platform():
    yield from serve_platform(SECRET, TOKEN)


@pytest.fixture(scope="module")
def stack(platform, fixture_settings, trained_model, tmp_path_factory):
    yield from run_stack(platform, fixture_settings, trained_model, tmp_path_factory.mktemp("pii-stack"),
                         OTHER_CHANNELS)


# ---------------------------------------------------------------------- talking
def post_json(url: str, body: dict) -> tuple[int, object]:
    req = urllib.request.Request(url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # loopback
            return resp.status, json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read().decode("utf-8"))


def talk_over_http(url: str, sender: str, resident: Resident) -> list[list[dict]]:
    """REST and web widget: one POST per turn; the replies come back in the response."""
    assert post_json(url, {"sender": sender, "message": INVISIBLE_ONLY}) == (
        400, {"error": "empty_message", "message": EMPTY_REPLY})
    replies = []
    for turn in resident.turns():
        status, body = post_json(url, {"sender": sender, "message": turn.raw})
        assert status == 200 and body and all(m.get("custom", {}).get("type") for m in body), (turn.masked, body)
        replies.append(body)
    return replies


def wait_reply(platform: FakeLinePlatform, event: dict) -> Call:
    token = event["replyToken"]
    return platform.wait_for(lambda: next((c for c in platform.calls_to("/v2/bot/message/reply", 200)
                                           if (c.json or {}).get("replyToken") == token), None), timeout=60)


def talk_over_line(stack: Stack, platform: FakeLinePlatform, user: str, resident: Resident) -> list[list[dict]]:
    """LINE: one signed webhook event per turn (postbacks for some), answered by reply token."""
    webhook = f"{stack.rasa_url}/webhooks/line/webhook"

    def exchange(event: dict) -> list[dict]:
        status, body, _ = platform.send(webhook, platform.body(event))
        assert status == 200 and body["started"] == 1, body
        return wait_reply(platform, event).json["messages"]

    assert exchange(platform.text_event(user, INVISIBLE_ONLY))[0]["text"] == EMPTY_REPLY
    location = platform.location_event(user)
    location["message"]["address"] = f"{resident.postal_code} {resident.address}"
    assert exchange(location)[0]["text"] == LOCATION_TEXT
    replies = []
    for turn in resident.turns():
        event = platform.postback_event(user, turn.raw) if turn.postback else platform.text_event(user, turn.raw)
        replies.append(exchange(event))
    return replies


@dataclasses.dataclass
class Conversation:
    sender: str
    replies: list[list[dict]]


@pytest.fixture(scope="module")
def conversations(stack, platform) -> dict[str, Conversation]:
    rest_sender, web_sender, line_user = f"pii-{uuid.uuid4().hex[:8]}", f"web-{uuid.uuid4().hex}", new_user_id()
    for sender in PERSONAL_SENDERS:
        status, body = post_json(f"{stack.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": "住民票の取り方は？"})
        assert (status, body["error"]) == (400, "invalid_sender") and "個人情報" in body["message"], (sender, body)
    return {
        "rest": Conversation(rest_sender, talk_over_http(f"{stack.rasa_url}/webhooks/rest/webhook", rest_sender,
                                                         RESIDENTS["rest"])),
        "web": Conversation(web_sender, talk_over_http(f"{stack.rasa_url}/webhooks/web/webhook", web_sender,
                                                       RESIDENTS["web"])),
        "line": Conversation(f"line:{line_user}", talk_over_line(stack, platform, line_user, RESIDENTS["line"])),
    }


# ---------------------------------------------------------------------- tests
def test_the_search_would_find_each_raw_value():
    """The search itself works: each channel's raw messages and needles are found, the masked ones are not."""
    for channel, resident in RESIDENTS.items():
        for needle in resident.needles():
            assert any(f"{channel}: " in n for n in found_in(json.dumps({"text": needle}).encode())), needle
            assert found_in(needle.encode("utf-8")) and found_in(needle.encode("utf-16-le")), needle
        raw = "\n".join(t.raw for t in resident.turns())
        assert found_in(raw.encode("utf-8")) and found_in(json.dumps(raw).encode())
    assert found_in("\n".join(MASKED).encode("utf-8")) == []
    assert found_in(json.dumps(MASKED).encode()) == []


def test_every_channel_answered(conversations, platform):
    for channel in ("rest", "web"):
        replies = conversations[channel].replies
        # The FAQ search still works on the masked text: 住民票 is what it finds first.
        assert replies[0][0]["custom"]["candidates"][0]["faq_id"] == "juminhyo-get"
        assert replies[CHOOSE_TURN][0]["custom"]["type"] == "cannot_answer"  # no FAQ called ［カード番号］
        assert replies[-2][0]["custom"]["status"] == "ask_ticket_question"
        assert replies[-1][0]["custom"]["status"] == "ticket_created"
    line = conversations["line"].replies
    assert all(line) and "伝言を受け付けました" in line[-1][0]["text"]
    assert platform.problems == []


@pytest.mark.parametrize("channel", CHANNELS)
def test_rasa_saw_the_masked_text(stack, conversations, channel):
    data = tracker(stack, conversations[channel].sender)
    users = [e for e in data["events"] if e["event"] == "user"]
    assert [e["text"] for e in users] == MASKED
    assert {e["input_channel"] for e in users} == {channel}
    assert users[0]["text"] == "私の電話番号は［電話番号］です。住民票の取り方は？"
    assert users[CHOOSE_TURN]["parse_data"]["intent"]["name"] == "choose_faq"
    assert [e["value"] for e in users[CHOOSE_TURN]["parse_data"]["entities"]] == ["［カード番号］"]
    tickets = [e for e in data["events"] if e["event"] == "bot"
               and ((e.get("data") or {}).get("custom") or {}).get("status") == "ticket_created"]
    assert len(tickets) == 1
    assert found_in(json.dumps(data, ensure_ascii=False).encode("utf-8")) == []
    assert found_in(json.dumps(data).encode("ascii")) == []


def test_review_log_and_tickets_hold_masked_text(stack, conversations):
    db = sqlite3.connect(f"file:{stack.settings.database_path}?mode=ro", uri=True)
    try:
        for channel in CHANNELS:
            sender = conversations[channel].sender
            rows = db.execute("SELECT text, channel FROM review_questions WHERE conversation_id = ?",
                              (sender,)).fetchall()
            assert rows and {c for _, c in rows} == {channel}
            assert {t for t, _ in rows} <= set(MASKED), rows
            assert any("［" in t for t, _ in rows)
            tickets = db.execute("SELECT question, channel FROM tickets WHERE conversation_id = ?",
                                 (sender,)).fetchall()
            assert tickets == [(MASKED[-1], channel)]
    finally:
        db.close()


def _assert_no_raw_value_on_disk(stack: Stack) -> list[Path]:
    roots = [stack.settings.var_dir, stack.settings.models_dir]
    files, found = search_files(roots)
    names = {p.name for p in files}
    assert {"tracker.db", "madoguchi.db", "rasa.log", "actions.log"} <= names, names
    assert any(p.suffix == ".gz" for p in files)  # the model
    assert found == [], "raw personal data on disk:\n" + "\n".join(f"{label}: {needle}" for label, needle in found)
    return files


def test_no_raw_value_in_any_file_while_running(stack, conversations):
    files = _assert_no_raw_value_on_disk(stack)
    assert any(p.name.endswith("-wal") for p in files)  # written pages not yet checkpointed are searched too


def test_no_raw_value_in_any_file_after_the_servers_stopped(stack, conversations):
    """Last: stops the stack, so that logs are flushed and the WAL is checkpointed, then searches again."""
    stack.stop()
    _assert_no_raw_value_on_disk(stack)
