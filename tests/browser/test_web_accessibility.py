"""Accessibility of the chat widget (WCAG 2.1 AA): axe-core, text resize, phone width, screenshots.

Set ``MADOGUCHI_UPDATE_SCREENSHOTS=1`` to write the README screenshots to docs/images/.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.runtime.rasa_api import bot_event
from tests.browser.widget import Widget

pytestmark = pytest.mark.slow

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page, axe_script: Path) -> list[dict]:
    """Run axe-core on the whole page (the widget's shadow root included)."""
    page.add_script_tag(path=str(axe_script))
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                               nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }""",
        WCAG_TAGS,
    )


def serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def conversation_with_every_kind_of_message(page, site, rasa_api) -> Widget:
    """Answer, clarify buttons, cannot-answer, hand-off status and a staff reply."""
    widget = Widget.load(page, site)
    widget.open()
    widget.ask("住民票ってどこでもらえるの？")
    widget.ask("ごみはどうやって捨てればいい？")
    widget.ask("今日の天気は？")
    widget.wait_stream_open()
    sender = widget.state()["sender"]
    rasa_api(sender, [bot_event(
        "担当者におつなぎしています。このままお待ちください。",
        {"type": "handoff", "status": "queued", "queue_position": 1},
        buttons=[{"title": "やめる", "payload": "/handoff_cancel"}],
    )])
    rasa_api(sender, [bot_event("市民課の田中です。どのようなご用件でしょうか。", {"type": "staff", "staff_name": "田中"})])
    expect(page.locator(".mdg-staff")).to_have_count(1)
    return widget


def no_horizontal_overflow(page) -> list[str]:
    """Parts of the panel whose content is wider than the part (text cut off or 2-D scrolling)."""
    return page.evaluate(
        """() => {
            const root = document.getElementById('madoguchi-widget').shadowRoot;
            const bad = [];
            for (const sel of ['.mdg-panel', '.mdg-header', '.mdg-log', '.mdg-form', '.mdg-msg', '.mdg-choice']) {
                for (const el of root.querySelectorAll(sel)) {
                    if (el.scrollWidth > el.clientWidth + 1) bad.push(sel + ' ' + el.scrollWidth + '>' + el.clientWidth);
                }
            }
            const panel = root.querySelector('.mdg-panel').getBoundingClientRect();
            if (panel.right > window.innerWidth + 1 || panel.left < -1) bad.push('panel outside the screen');
            return bad;
        }"""
    )


def in_view(page, locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= size["width"] + 1 \
        and box["y"] + box["height"] <= size["height"] + 1


def test_structure_for_assistive_technology(page, site):
    widget = Widget.load(page, site)
    expect(widget.launcher).to_have_attribute("aria-controls", "mdg-panel")
    expect(page.locator(".mdg")).to_have_attribute("lang", "ja")
    widget.open()
    expect(widget.launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("dialog", name="サンプル市 お問い合わせチャット")).to_be_visible()
    log = page.get_by_role("log", name="会話の記録")
    expect(log).to_have_attribute("aria-live", "polite")
    expect(page.get_by_label("質問を入力")).to_be_visible()
    widget.ask("住民票ってどこでもらえるの？")
    # New messages are added inside the live region, with who said them for screen readers.
    expect(log.locator(".mdg-user .mdg-sr")).to_have_text("あなた：")
    expect(log.locator(".mdg-bot[data-id] .mdg-sr").first).to_have_text("窓口：")
    expect(page.get_by_role("group", name="役に立ちましたか？")).to_be_visible()


@pytest.mark.parametrize("width, height", [(1280, 800), (360, 740)], ids=["desktop", "phone-360"])
def test_axe_finds_no_serious_violations(browser, site, rasa_api, axe_script, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP")
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        Widget.load(page, site)
        closed = axe_violations(page, axe_script)  # the page with the launcher only
        conversation_with_every_kind_of_message(page, site, rasa_api)
        open_ = axe_violations(page, axe_script)
        page.get_by_role("button", name="文字を大きく").click()
        large = axe_violations(page, axe_script)
    finally:
        context.close()
    for name, violations in (("closed", closed), ("open", open_), ("large text", large)):
        assert serious(violations) == [], f"{name}: {violations}"


def test_phone_width_and_large_text(browser, site, rasa_api):
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="ja-JP", has_touch=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        widget = conversation_with_every_kind_of_message(page, site, rasa_api)
        box = widget.panel.bounding_box()
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 360, 740)  # full screen
        expect(widget.panel).to_have_attribute("aria-modal", "true")
        assert no_horizontal_overflow(page) == []
        assert in_view(page, widget.input) and in_view(page, page.get_by_role("button", name="送信"))
        size = lambda: page.locator(".mdg").evaluate("el => parseFloat(getComputedStyle(el).fontSize)")  # noqa: E731
        assert size() == 16
        page.get_by_role("button", name="文字を大きく").click()
        assert size() == 20
        assert no_horizontal_overflow(page) == []
        assert in_view(page, widget.input) and in_view(page, page.get_by_role("button", name="送信"))
        # Full screen: Tab stays inside the panel.
        page.get_by_role("button", name="送信").focus()
        for _ in range(3):
            page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "madoguchi-widget"
        # The choice is kept for the next page.
        page.reload()
        expect(page.get_by_role("button", name="文字を大きく")).to_have_attribute("aria-pressed", "true")
        assert size() == 20
    finally:
        context.close()


@pytest.mark.parametrize("width, height", [(1280, 800), (320, 640)], ids=["text-200-percent", "reflow-320"])
def test_text_resized_to_200_percent_still_works(browser, site, width, height):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP")
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        widget = Widget.load(page, site)
        if width > 400:  # the browser's text size at 200 %
            page.evaluate("document.documentElement.style.fontSize = '200%'")
        widget.open()
        assert page.locator(".mdg").evaluate("el => parseFloat(getComputedStyle(el).fontSize)") == (32 if width > 400 else 16)
        widget.ask("ごみはどうやって捨てればいい？")
        assert no_horizontal_overflow(page) == []
        assert in_view(page, widget.input) and in_view(page, page.get_by_role("button", name="送信"))
        last_choice = widget.last_bot().locator(".mdg-choice").last
        last_choice.scroll_into_view_if_needed()
        expect(last_choice).to_be_in_viewport()
    finally:
        context.close()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize(
    "name, width, height",
    [("web-widget-desktop.png", 1280, 800), ("web-widget-360.png", 360, 740)],
)
def test_screenshots(browser, site, rasa_api, tmp_path, name, width, height):
    """Desktop: an answer and candidates. Phone: the hand-off status and a staff reply."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP", device_scale_factor=1)
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        widget = Widget.load(page, site)
        widget.open()
        answer = widget.ask("住民票ってどこでもらえるの？")
        if width > 400:
            widget.ask("ごみはどうやって捨てればいい？")
            scroll_to = answer
        else:
            widget.wait_stream_open()
            sender = widget.state()["sender"]
            rasa_api(sender, [bot_event("担当者におつなぎしています。このままお待ちください。",
                                        {"type": "handoff", "status": "queued", "queue_position": 2})])
            rasa_api(sender, [bot_event("市民課の田中です。ご質問の内容を確認しますので、少しお待ちください。",
                                        {"type": "staff", "staff_name": "田中"})])
            scroll_to = page.locator(".mdg-staff")
            expect(scroll_to).to_have_count(1)
        scroll_to.evaluate("el => el.parentElement.scrollTop = el.offsetTop - el.parentElement.offsetTop - 8")
        page.evaluate("() => { const r = document.getElementById('madoguchi-widget').shadowRoot; "
                      "if (r.activeElement) r.activeElement.blur(); }")
        data = page.screenshot(animations="disabled")
    finally:
        context.close()
    assert png_size(data) == (width, height)
    (tmp_path / name).write_bytes(data)
    if os.environ.get("MADOGUCHI_UPDATE_SCREENSHOTS") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        (IMAGES / name).write_bytes(data)
