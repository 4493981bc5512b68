"""The widget in other languages: the language menu, やさしい日本語, furigana, lang attributes, axe."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot.i18n.catalogue import catalogue
from tests.browser.test_web_accessibility import axe_violations, serious
from tests.browser.widget import Widget

pytestmark = pytest.mark.slow

WIDGET_JS = Path(__file__).resolve().parents[2] / "web" / "widget.js"


def test_the_widgets_japanese_texts_are_the_catalogues():
    """widget.js carries the Japanese texts (it works before the server answers); they must
    stay those of bot/i18n/messages/ja.yml."""
    source = WIDGET_JS.read_text(encoding="utf-8")
    block = source[source.index("var DEFAULT_TEXTS = {") + len("var DEFAULT_TEXTS = "):]
    block = block[:block.index("};") + 1]
    texts = json.loads(re.sub(r"(\n\s*)(\w+):", r'\1"\2":', block))
    assert texts == catalogue().section("ja", "widget.")


def test_language_menu_switches_the_widget_and_the_assistant(page, site, axe_script):
    widget = Widget.load(page, site)
    widget.open()
    menu = page.locator(".mdg-language")
    expect(menu.locator("option")).to_have_count(8)
    expect(page.locator(".mdg")).to_have_attribute("lang", "ja")

    before = widget.bot_messages.count()
    menu.select_option("vi")
    expect(widget.bot_messages).to_have_count(before + 1, timeout=60_000)
    chosen = widget.bot_messages.last
    expect(chosen).to_have_text(re.compile("Từ bây giờ chúng tôi sẽ trả lời bằng tiếng Việt."))
    expect(chosen).to_have_attribute("lang", "vi")
    expect(page.locator(".mdg")).to_have_attribute("lang", "vi")
    expect(page.locator(".mdg-send")).to_have_text("Gửi")
    expect(widget.input).to_have_attribute("placeholder", "Ví dụ: Lấy phiếu cư trú ở đâu?")

    # Translated FAQ: the answer in Vietnamese, with the department's Vietnamese name.
    answer = widget.ask("住民票ってどこでもらえるの？")
    expect(answer).to_have_attribute("lang", "vi")
    expect(answer.locator(".mdg-text").first).to_have_attribute("lang", "vi")
    expect(answer.locator(".mdg-text").first).to_have_text(re.compile("^Bạn có thể lấy tại quầy Phòng Thị dân"))
    expect(answer.locator(".mdg-dept")).to_contain_text("Phòng Thị dân")
    expect(answer.locator(".mdg-fb-yes")).to_have_text("Có")

    # Untranslated FAQ: the Japanese answer marked lang=ja, the note in Vietnamese.
    untranslated = widget.ask("保険証がなくなったらどうなりますか。")
    expect(untranslated.locator(".mdg-text").first).to_have_attribute("lang", "ja")
    expect(untranslated.locator(".mdg-text").first).to_have_text(re.compile("^健康保険証の新しい発行は"))
    expect(untranslated.locator(".mdg-note-translation")).to_have_attribute("lang", "vi")
    expect(untranslated.locator(".mdg-choice")).to_have_text("Nói chuyện với nhân viên")

    assert serious(axe_violations(page, axe_script)) == []
    assert widget.state()["language"] == "vi"


def test_easy_japanese_and_furigana(page, site, axe_script):
    widget = Widget.load(page, site)
    widget.open()
    easy, furigana = page.locator(".mdg-easy"), page.locator(".mdg-furigana")
    expect(furigana).to_have_attribute("aria-pressed", "false")  # off by default

    # Furigana on a Japanese answer: readings over kanji only, never over numbers.
    furigana.click()
    expect(furigana).to_have_attribute("aria-pressed", "true")
    answer = widget.ask("住民票ってどこでもらえるの？")
    body = answer.locator(".mdg-text").first
    expect(body.locator("ruby").first).to_be_visible()
    pairs = body.locator("ruby").evaluate_all(
        "rs => rs.map(r => [r.firstChild.textContent, r.querySelector('rt').textContent])")
    assert ["本庁舎", "ほんちょうしゃ"] in pairs and ["手数料", "てすうりょう"] in pairs
    assert not any(re.search(r"[0-9A-Za-z]", base) for base, _ in pairs)
    assert body.evaluate("p => Array.from(p.childNodes).map(n => n.nodeName === 'RUBY' ? n.firstChild.textContent : n.textContent).join('')") \
        == "本庁舎1階の市民課の窓口で取れます。手数料は1通300円です。本人確認書類をお持ちください。"
    furigana.click()  # off again: plain text
    expect(widget.last_bot().locator("ruby")).to_have_count(0)

    # やさしい日本語: the easy variant, furigana on by default.
    before = widget.bot_messages.count()
    easy.click()
    expect(widget.bot_messages).to_have_count(before + 1, timeout=60_000)
    expect(widget.bot_messages.last).to_contain_text("やさしい")
    expect(easy).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".mdg-furigana")).to_have_attribute("aria-pressed", "true")
    easy_answer = widget.ask("住民票ってどこでもらえるの？")
    expect(easy_answer.locator(".mdg-text").first).to_contain_text("で もらえます。")  # rt readings are in the text too
    expect(easy_answer.locator("ruby").first).to_be_visible()
    expect(easy_answer).to_have_attribute("lang", "ja")
    assert serious(axe_violations(page, axe_script)) == []
