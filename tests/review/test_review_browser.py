"""The review pages in Debian's headless Chromium (Playwright), in the real staff console.

Staff log in, open the list, add a group's questions to an FAQ with one click, write a new
FAQ from a group, and look at the dashboard. Needs /usr/bin/chromium
(scripts/ensure_chromium.sh) and the playwright package; fails with the reason when either
is missing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from pathlib import Path

import pytest
from aiohttp import web

from bot.console.accounts import StaffAccounts
from bot.console.app import create_app
from bot.db import open_database
from bot.knowledge.loader import load_knowledge
from tests.review.test_web import SODAI

PASSWORD = "correct horse battery"

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("/tmp/madoguchi-review-shots")

pytestmark = pytest.mark.slow


class ServerThread:
    """An aiohttp application served on 127.0.0.1 from its own thread and event loop."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(self.app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # the port chosen by the OS
        self._runner = runner
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def __enter__(self) -> "ServerThread":
        self._thread.start()
        assert self._ready.wait(30)
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing: run scripts/ensure_chromium.sh")
    from playwright import sync_api  # in requirements.lock: missing is an error, not a skip

    with sync_api.sync_playwright() as pw:
        try:
            b = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        except Exception as exc:  # noqa: BLE001 - fail (never skip) and say why
            pytest.fail(f"Chromium could not be started: {exc}. Run scripts/ensure_chromium.sh")
        yield b
        b.close()


@pytest.fixture
def site(review_settings, log, clock):
    def ask(conv, text, outcome="cannot_answer", minutes=0, **kw):
        clock.now = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=minutes)
        log.record(conv, "web", text, outcome, kw.pop("candidates", []), **kw)

    for i, text in enumerate(["ホタル祭りはいつですか", "ほたるまつりの日程", "蛍祭りの駐車場"]):
        ask(f"h{i}", text, minutes=i)
    ask("s1", "ソファを捨てたい", "clarify", minutes=10, candidates=SODAI)
    ask("a1", "スプレー缶の捨て方", "answer", minutes=11, faq_id="gomi-spray")
    StaffAccounts(open_database(review_settings.database)).add("suzuki", "鈴木", PASSWORD, "staff")
    # The console's own Rasa client is not used by these pages: a closed port will do.
    console = create_app(review_settings, rasa_url="http://127.0.0.1:9", rasa_token="unused", mount_review=True)
    with ServerThread(console) as server:
        yield f"http://127.0.0.1:{server.port}"


def test_staff_improve_the_faq_from_the_review_page(browser, site, review_settings):
    SHOTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site + "/review/")
    assert page.url.startswith(site + "/login")
    page.fill("#username", "suzuki")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(site + "/review/")
    cards = page.locator("article.group")
    assert cards.count() == 2
    # The console's layout and stylesheet: its header, its large type (20px base).
    assert page.locator("header.top").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(18, 53, 91)"
    assert page.locator("html").evaluate("e => getComputedStyle(e).fontSize") == "20px"
    assert page.get_by_role("navigation", name="振り返りのメニュー").get_by_role("link", name="未回答の質問").get_attribute(
        "aria-current") == "page"
    assert cards.nth(0).locator(".count").inner_text() == "3件"
    page.screenshot(path=str(SHOTS / "list.png"), full_page=True)

    # One click: the sofa question becomes a paraphrase of the suggested FAQ.
    sofa = cards.filter(has_text="ソファを捨てたい")
    sofa.get_by_role("button", name="「粗大ごみの出し方を教えてください。」に言い換えとして追加").click()
    page.wait_for_load_state()
    assert "FAQ「gomi-sodai-apply」に言い換えを1件追加しました" in page.locator(".flash").inner_text()
    assert page.locator("article.group").count() == 1
    assert "ソファを捨てたい" in load_knowledge(review_settings.knowledge_dir).kb.by_id()["gomi-sodai-apply"].paraphrases

    # A new FAQ from the ホタル group: the draft is pre-filled, staff write the answer.
    page.get_by_role("link", name="新しいFAQを作る").click()
    assert page.get_by_label("質問").input_value() == "ホタル祭りはいつですか"
    page.get_by_label("ID（英小文字・数字・ハイフン）").fill("event-hotaru")
    page.get_by_label("ファイル（分野）").select_option("shimin.yml")
    page.get_by_label("回答（です・ます、短い文で）").fill("ホタル祭りは毎年6月に開きます。")
    page.screenshot(path=str(SHOTS / "draft.png"), full_page=True)
    page.get_by_role("button", name="FAQを追加する").click()
    page.wait_for_load_state()
    assert "新しいFAQ「event-hotaru」を shimin.yml に追加しました" in page.locator(".flash").inner_text()
    assert "未対応の質問はありません" in page.content()
    faq = load_knowledge(review_settings.knowledge_dir).kb.by_id()["event-hotaru"]
    assert faq.paraphrases == ("ほたるまつりの日程", "蛍祭りの駐車場")

    # The dashboard draws its charts without JavaScript.
    page.get_by_role("link", name="ダッシュボード").click()
    page.get_by_label("開始日").fill("2026-11-20")
    page.get_by_label("終了日").fill("2026-11-20")
    page.get_by_role("button", name="絞り込む").click()
    page.wait_for_load_state()
    assert page.locator('[data-figure="質問"] b').inner_text() == "5件"
    # Six charts: in the console, the hand-off tables exist, so the waiting times have one (no data yet).
    assert page.locator("svg.chart").count() == 6
    assert "引き継ぎ 0件（対応 0件）" in page.content()
    assert page.locator("svg.chart rect").count() > 5
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)
    assert errors == []
