"""The console in headless Chromium: log in, watch the inbox update, claim, reply, hand back.

Drives Debian's Chromium (``/usr/bin/chromium``, see scripts/ensure_chromium.sh) with the
``playwright`` package; the console runs in-process on loopback against the fake Rasa API.
With ``MADOGUCHI_SCREENSHOTS=1`` the screenshots go to docs/images/ (for docs/console.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.console.conftest import PASSWORD, eventually

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
async def browser():
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.fail("no browser driver: the playwright package is not installed (.venv/bin/pip install -r requirements.lock)")
    if not CHROMIUM.exists():
        pytest.fail("no browser: /usr/bin/chromium is missing (run scripts/ensure_chromium.sh)")
    async with async_playwright() as pw:
        try:
            b = await pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        except Exception as exc:  # noqa: BLE001 - fail (never skip) and say why the browser cannot start
            pytest.fail(f"Chromium could not be started: {exc}. Run scripts/ensure_chromium.sh")
        yield b
        await b.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    if os.environ.get("MADOGUCHI_SCREENSHOTS") == "1":
        return ROOT / "docs" / "images"
    return tmp_path


def _seed_conversation(fake_rasa, sender: str) -> None:
    candidates = [
        {"faq_id": "tennyu-documents", "question": "転入届に必要なものは何ですか。", "score": 0.41},
        {"faq_id": "tennyu-deadline", "question": "転入届はいつまでに出せばいいですか。", "score": 0.36},
    ]
    fake_rasa.add_user_message(sender, "引っ越してきたんですけど何が必要？",
                               {"type": "clarify", "faq_id": None, "confidence": 0.24, "candidates": candidates})
    fake_rasa.add_bot_message(sender, "もしかして、次のどれかですか？ 当てはまるものを選んでください。",
                              {"type": "clarify", "faq_id": None, "confidence": 0.24, "candidates": candidates},
                              buttons=[{"title": c["question"], "payload": f'/choose_faq{{"faq_id": "{c["faq_id"]}"}}'}
                                       for c in candidates] + [{"title": "どれでもない", "payload": "/none_of_these"}])
    fake_rasa.add_user_message(sender, "/none_of_these", None, intent="none_of_these")
    fake_rasa.add_bot_message(sender, "申し訳ありません。お答えできる情報が見つかりませんでした。",
                              {"type": "cannot_answer", "faq_id": None, "confidence": None, "candidates": [],
                               "reason": "none_of_these"})
    fake_rasa.add_user_message(sender, "担当者と話したい", None, intent="request_human")
    fake_rasa.add_bot_message(sender, "市民課の担当者におつなぎしています。すぐにおつなぎします。このままお待ちください。",
                              {"type": "handoff", "status": "queued", "queue_position": 0, "faq_id": None,
                               "confidence": None, "candidates": []})


async def _axe(page) -> list[str]:
    """Serious or critical accessibility problems found by axe-core (when it is installed)."""
    if not AXE.exists():
        return []
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']}" for v in result["violations"] if v["impact"] in ("serious", "critical")]


async def test_log_in_claim_and_reply_in_chromium(browser, console, store, fake_rasa, shots):
    base = str(console.make_url("")).rstrip("/")
    h = store.request("web-7f3a", "web", "shimin", "cannot_answer", "引っ越してきたんですけど何が必要？", language="ja")
    _seed_conversation(fake_rasa, "web-7f3a")
    store.request("line-19c2", "line", "kokuho", "requested", "Tôi muốn hỏi cách đóng phí bảo hiểm y tế quốc dân", language="vi")
    store.create_ticket("web-22b0", "web", "gomi", "エアコンを処分したいのですが、市で回収してもらえますか。", "chat",
                        expected_by="12月3日（木）", language="ja")
    store.create_ticket("line-5d1e", "line", "shimin", "戸籍謄本を郵送で取り寄せたい", "phone_dept", expected_by="12月3日（木）",
                        language="ja-easy")

    context = await browser.new_context(viewport={"width": 1280, "height": 860}, locale="ja-JP",
                                        timezone_id="Asia/Tokyo", bypass_csp=True)
    context.set_default_timeout(15_000)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    await page.goto(f"{base}/inbox")
    assert page.url.startswith(f"{base}/login")
    await page.fill("#username", "suzuki")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/inbox")
    await page.wait_for_selector(f'tr[data-handoff="{h.id}"]')
    await page.locator("#live-status.on").wait_for()  # the event stream is open
    assert await page.locator("#live-status").inner_text() == "自動更新中"

    # the action server queues someone else: the row appears without reloading
    urgent = store.request("web-91aa", "web", None, "urgent", "家が火事です", language="ja")
    row = page.locator(f'tr[data-handoff="{urgent.id}"]')
    await row.wait_for()
    assert "緊急" in await row.inner_text()
    assert await page.locator("#handoff-count").inner_text() == "3件"
    await page.screenshot(path=str(shots / "console-inbox.png"), full_page=True)
    assert await _axe(page) == []

    # claim from the inbox: the conversation page opens
    await page.click(f'button[data-claim="{h.id}"]')
    await page.wait_for_url(f"{base}/handoffs/{h.id}")
    await page.locator("#reply-form").wait_for(state="visible")
    assert await page.locator("#f-staff").inner_text() == "鈴木"
    transcript = page.locator("#transcript")
    await transcript.get_by_text("担当の鈴木です", exact=False).wait_for()
    assert "転入届に必要なものは何ですか。" in await transcript.inner_text()  # candidates the assistant considered
    assert "［ボタン］どれでもない" in await transcript.inner_text()

    await page.fill("#reply-text", "お待たせしました。転入届には、前の住所の転出証明書と本人確認書類が必要です。")
    await page.click("#reply-form button[type=submit]")
    await transcript.get_by_text("前の住所の転出証明書", exact=False).wait_for()
    assert await page.locator("#reply-text").input_value() == ""
    delivered = [e["text"] for s, e in fake_rasa.delivered if s == "web-7f3a"]
    assert delivered[-1] == "お待たせしました。転入届には、前の住所の転出証明書と本人確認書類が必要です。"

    # the resident answers; it appears live
    fake_rasa.add_user_message("web-7f3a", "マイナンバーカードも持っていった方がいいですか？")
    await transcript.get_by_text("マイナンバーカードも持っていった方がいいですか？").wait_for()
    await page.locator("details").last.evaluate("d => d.open = true")
    await page.screenshot(path=str(shots / "console-conversation.png"), full_page=True)
    assert await _axe(page) == []

    # hand back to the assistant
    await page.click("#show-hand-back")
    await page.fill("#hand-back-note", "持ち物を案内済み")
    await page.click("#hand-back-form button[type=submit]")
    await page.locator("#notice").get_by_text("自動応答に戻しました").wait_for()
    await eventually(lambda: store.get(h.id).status == "returned")
    assert await page.locator("#reply-form").is_hidden()
    assert [e["event"] for e in fake_rasa.events_appended("web-7f3a")][-2:] == ["resume", "bot"]
    assert errors == []
    await context.close()


async def test_answer_a_ticket_in_chromium(browser, console, store, fake_rasa, shots):
    base = str(console.make_url("")).rstrip("/")
    t = store.create_ticket("web-22b0", "web", "gomi", "エアコンを処分したいのですが、市で回収してもらえますか。", "chat",
                            expected_by="12月3日（木）")
    context = await browser.new_context(viewport={"width": 1280, "height": 860}, locale="ja-JP", timezone_id="Asia/Tokyo")
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await page.goto(f"{base}/login?next=/tickets/{t.id}")
    await page.fill("#username", "sato")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/tickets/{t.id}")
    assert await page.locator("#question").inner_text() == "エアコンを処分したいのですが、市で回収してもらえますか。"
    await page.fill("#answer-text", "エアコンは家電リサイクル法の対象です。購入したお店にご相談ください。")
    await page.click("#answer-form button[type=submit]")
    await page.locator("#notice").get_by_text("回答を住民の方に送りました").wait_for()
    assert store.get_ticket(t.id).status == "answered"
    assert (await page.locator("#answered-by").inner_text()).startswith("佐藤")
    assert fake_rasa.delivered[-1][0] == "web-22b0"
    await page.screenshot(path=str(shots / "console-ticket.png"), full_page=True)
    await context.close()


async def test_language_column_filter_and_detail_in_chromium(browser, console, store, fake_rasa):
    """Staff see in which language each resident waits, can show one language only, and the
    conversation page says it too; the resident's text carries its own lang attribute."""
    base = str(console.make_url("")).rstrip("/")
    vi = store.request("web-0a1b", "web", "gomi", "requested", "Tôi muốn vứt tủ lạnh cũ", language="vi")
    ja = store.request("web-0c2d", "web", "gomi", "requested", "冷蔵庫を捨てたい", language="ja")
    old = store.request("web-0e3f", "rest", "gomi", "requested", "粗大ごみの日")  # logged before languages were recorded
    store.create_ticket("line-7a8b", "line", None, "Paano magbayad ng buwis?", "chat", language="fil")
    context = await browser.new_context(viewport={"width": 1280, "height": 860}, locale="ja-JP", timezone_id="Asia/Tokyo",
                                        bypass_csp=True)  # axe-core is injected as an inline script
    context.set_default_timeout(15_000)
    page = await context.new_page()
    await page.goto(f"{base}/login?next=/inbox")
    await page.fill("#username", "suzuki")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/inbox")
    await page.wait_for_selector(f'tr[data-handoff="{vi.id}"]')
    cells = {h.id: await page.locator(f'tr[data-handoff="{h.id}"] td').nth(3).inner_text() for h in (vi, ja, old)}
    assert cells == {vi.id: "ベトナム語", ja.id: "日本語", old.id: "不明"}
    assert await page.locator(f'tr[data-handoff="{vi.id}"] td.q a').get_attribute("lang") == "vi"
    assert await page.locator("tr[data-ticket] td").nth(2).inner_text() == "フィリピノ語"
    # the menu offers the languages someone waits in, not all eight
    assert await page.locator("#lang-filter option").all_inner_texts() == ["すべての言語", "日本語", "ベトナム語", "フィリピノ語", "不明"]
    await page.select_option("#lang-filter", "vi")
    assert await page.locator("tr[data-handoff]").count() == 1
    assert await page.locator(f'tr[data-handoff="{vi.id}"]').is_visible()
    assert await page.locator("#handoff-count").inner_text() == "1件"
    assert await page.locator("#tickets").is_hidden()
    assert await _axe(page) == []
    await page.goto(f"{base}/handoffs/{vi.id}")
    await page.locator("#f-language").get_by_text("ベトナム語").wait_for()
    await context.close()
