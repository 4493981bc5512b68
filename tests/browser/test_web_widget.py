"""The chat widget in headless Chromium against the real Rasa and action servers."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from bot.runtime.rasa_api import bot_event
from tests.browser.widget import Widget

pytestmark = pytest.mark.slow


def test_a_full_conversation_with_buttons_and_feedback(page, site):
    widget = Widget.load(page, site)
    expect(widget.launcher).to_have_text("チャットで質問する")
    expect(widget.panel).to_be_hidden()
    widget.open()
    assert widget.focused() == "mdg-input"  # opening moves focus to the question field
    expect(page.locator(".mdg-greeting")).to_contain_text("知りたいことを短い文で入力してください")

    # An answer: text, department with phone, and the feedback question.
    answer = widget.ask("住民票ってどこでもらえるの？")
    expect(answer).to_have_class(re.compile(r"\bmdg-type-answer\b"))
    expect(answer.locator(".mdg-text")).to_have_text("本庁舎1階の市民課の窓口で取れます。手数料は1通300円です。本人確認書類をお持ちください。")
    expect(answer.locator(".mdg-dept")).to_contain_text("担当：市民課（本庁舎1階）")
    expect(answer.locator(".mdg-dept a")).to_have_attribute("href", "tel:0000111111")
    expect(answer.locator(".mdg-feedback")).to_contain_text("役に立ちましたか？")
    expect(widget.user_messages.last).to_contain_text("住民票ってどこでもらえるの？")

    # Feedback 「はい」 goes back to the assistant as /feedback_positive.
    reply = widget.click_and_wait(answer.get_by_role("button", name="はい"))
    expect(reply).to_have_class(re.compile(r"\bmdg-type-feedback\b"))
    expect(answer.locator(".mdg-feedback-done")).to_contain_text("ご回答ありがとうございました。")
    expect(answer.get_by_role("button", name="はい")).to_have_count(0)

    # A vague question: candidates as buttons; clicking one sends its payload.
    clarify = widget.ask("ごみはどうやって捨てればいい？")
    expect(clarify).to_have_class(re.compile(r"\bmdg-type-clarify\b"))
    choices = clarify.locator(".mdg-choice")
    expect(choices.last).to_have_text("どれでもない")
    assert 3 <= choices.count() <= 4  # 2–3 candidates and 「どれでもない」
    title = choices.first.inner_text()
    chosen = widget.click_and_wait(choices.first)
    expect(chosen).to_have_class(re.compile(r"\bmdg-type-answer\b"))
    expect(widget.user_messages.last).to_have_text(re.compile(re.escape(title)))
    expect(choices.first).to_be_disabled()
    expect(choices.first).to_have_class(re.compile(r"\bmdg-chosen\b"))
    assert widget.focused() == "mdg-input"  # the pressed button is disabled; focus is not lost

    # Feedback 「いいえ」: an apology with where to ask and a button to reach a person.
    sorry = widget.click_and_wait(chosen.get_by_role("button", name="いいえ"))
    expect(sorry).to_contain_text("お役に立てず申し訳ありません")
    expect(sorry.get_by_role("button", name="担当者と話したい")).to_be_visible()

    # Nothing fits: cannot-answer with the contact.
    cannot = widget.ask("今日の天気は？")
    expect(cannot).to_have_class(re.compile(r"\bmdg-type-cannot_answer\b"))
    expect(cannot.locator(".mdg-contact")).to_contain_text("お問い合わせ先：テスト市役所")
    expect(cannot.get_by_role("button", name="担当者と話したい")).to_be_visible()

    # Emoji only: the assistant asks again, the widget does not break.
    unclear = widget.ask("😀")
    expect(unclear).to_have_class(re.compile(r"\bmdg-type-unclear\b"))

    # What was sent, as Rasa recorded it: the payloads, not the button titles.
    state = widget.state()
    assert re.fullmatch(r"web-[0-9a-f]{32}", state["sender"])
    assert [m["role"] for m in state["messages"]].count("user") == 5


def test_the_conversation_survives_reload_and_navigation(page, site):
    widget = Widget.load(page, site)
    widget.open()
    widget.ask("住民票ってどこでもらえるの？")
    sender = widget.state()["sender"]

    page.reload()
    widget = Widget(page)
    expect(widget.panel).to_be_visible()  # it was open, so it opens again
    expect(widget.bot_messages).to_have_count(1)
    expect(widget.user_messages.locator(".mdg-text")).to_have_text(["住民票ってどこでもらえるの？"])
    assert widget.focused() != "mdg-input"  # a page load does not take the focus

    page.get_by_role("link", name="ごみ・リサイクル").first.click()
    expect(page).to_have_url(site + "demo/gomi")
    widget = Widget(page)
    expect(widget.bot_messages).to_have_count(1)
    assert widget.state()["sender"] == sender
    # The same conversation on the new page: the assistant still knows the context.
    feedback = widget.click_and_wait(widget.last_bot().get_by_role("button", name="はい"))
    expect(feedback).to_have_class(re.compile(r"\bmdg-type-feedback\b"))

    # 「新しい会話」 starts again with a new id.
    page.get_by_role("button", name="新しい会話").click()
    expect(widget.bot_messages).to_have_count(0)
    expect(widget.user_messages).to_have_count(0)
    expect(page.locator(".mdg-greeting")).to_be_visible()
    assert widget.focused() == "mdg-input"
    assert widget.state()["sender"] is None
    widget.ask("ごみはどうやって捨てればいい？")
    assert widget.state()["sender"] not in (None, sender)


def test_staff_reply_and_handoff_status_arrive_live(page, site, rasa_api):
    widget = Widget.load(page, site)
    widget.open()
    widget.ask("住民票ってどこでもらえるの？")
    widget.wait_stream_open()
    sender = widget.state()["sender"]

    # What the hand-off and the staff console do: append bot events through Rasa's API.
    rasa_api(sender, [bot_event(
        "担当者におつなぎしています。このままお待ちください。",
        {"type": "handoff", "status": "queued", "queue_position": 2,
         "department": {"id": "shimin", "name": "市民課", "phone": "0000-11-1111", "place": "本庁舎1階"}},
    )])
    queued = widget.last_bot()
    expect(queued).to_have_class(re.compile(r"\bmdg-type-handoff\b"))
    expect(queued.locator(".mdg-handoff-status")).to_have_text("担当者におつなぎしています…")
    # queue_position is how many are ahead (bot/handoff/replies.py); it stays visible above.
    expect(page.locator(".mdg-handoff-bar")).to_have_text("担当者への取り次ぎ：担当者におつなぎしています…（あなたの前に 2人）")
    rasa_api(sender, [bot_event("まもなくおつなぎします。", {"type": "handoff", "status": "queued", "queue_position": 0})])
    expect(page.locator(".mdg-handoff-bar")).to_have_text("担当者への取り次ぎ：担当者におつなぎしています…（次にご案内します）")

    rasa_api(sender, [bot_event("市民課の田中が対応します。", {"type": "handoff", "status": "claimed", "staff_name": "田中"})])
    expect(page.locator(".mdg-handoff-bar")).to_contain_text("田中が対応します。")

    # The panel is closed when the staff reply comes: the launcher counts it.
    page.get_by_role("button", name="閉じる").click()
    assert widget.focused() == "mdg-launcher"
    rasa_api(sender, [bot_event("お待たせしました。住民票の写しは郵送でも請求できます。", {"type": "staff", "staff_name": "田中"})])
    expect(page.locator(".mdg-badge")).to_have_text("1")
    expect(widget.launcher).to_have_attribute("aria-label", "チャットで質問する（新しいメッセージ 1件）")
    widget.open()
    expect(page.locator(".mdg-badge")).to_be_hidden()
    staff = widget.last_bot()
    expect(staff).to_have_class(re.compile(r"\bmdg-staff\b"))
    expect(staff.locator(".mdg-from-staff")).to_have_text("市役所の職員（田中）")
    expect(staff.locator(".mdg-text")).to_have_text("お待たせしました。住民票の写しは郵送でも請求できます。")

    # Pushed messages are part of the kept conversation too.
    page.reload()
    expect(Widget(page).last_bot().locator(".mdg-from-staff")).to_have_text("市役所の職員（田中）")


def test_stream_reconnects_after_a_network_drop_and_delivers_what_was_missed(page, site, proxy, rasa_api):
    widget = Widget.load(page, site)
    widget.open()
    widget.ask("住民票ってどこでもらえるの？")
    widget.wait_stream_open()
    sender = widget.state()["sender"]
    connections = proxy.accepted

    proxy.drop()  # the network goes away: open connections are cut, new ones refused
    expect(page.locator(".mdg")).to_have_attribute("data-stream", "reconnecting")
    rasa_api(sender, [bot_event("職員の田中です。ご連絡ありがとうございます。", {"type": "staff", "staff_name": "田中"})])
    expect(widget.status).to_have_text("接続が切れました。再接続しています…", timeout=10_000)
    proxy.wait_refused(more_than=proxy.refused)  # the browser tried again after the push, and was refused
    expect(page.locator(".mdg-staff")).to_have_count(0)  # nothing can arrive while cut off

    proxy.resume()
    staff = page.locator(".mdg-staff")
    expect(staff).to_have_count(1, timeout=30_000)  # resent from where the browser left off
    expect(staff.locator(".mdg-text")).to_have_text("職員の田中です。ご連絡ありがとうございます。")
    widget.wait_stream_open()
    assert proxy.accepted > connections
    expect(widget.status).not_to_have_text("接続が切れました。再接続しています…")

    # Live again after the reconnect, and nothing is shown twice.
    rasa_api(sender, [bot_event("ほかにご質問はありますか。", {"type": "staff", "staff_name": "田中"})])
    expect(staff).to_have_count(2)
    expect(page.locator(".mdg-text", has_text="職員の田中です。")).to_have_count(1)


def test_a_failed_send_says_so_and_keeps_the_text(page, site, proxy):
    widget = Widget.load(page, site)
    widget.open()
    proxy.drop()
    widget.input.fill("粗大ごみの出し方")
    widget.input.press("Enter")
    notice = page.locator(".mdg-notice")
    expect(notice).to_have_text("送信できませんでした。通信環境を確認して、もう一度お試しください。")
    expect(widget.input).to_have_value("粗大ごみの出し方")  # nothing to type again
    proxy.resume()
    answer = widget.ask("粗大ごみの出し方")
    expect(answer).to_be_visible()


def test_embedded_on_another_site_with_configured_texts(page, site, rasa_api, city_site):
    """The city's own site (another origin) with one <script> tag, texts set by data- attributes."""
    city_page = f"""<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>テスト市</title>
        <style>html {{ font-size: 62.5%; }} button {{ color: red !important; background: yellow; }}</style></head>
        <body><main><h1>テスト市</h1></main>
        <script>window.MadoguchiConfig = {{ texts: {{ send: "質問する" }} }};</script>
        <script src="{site}widget.js" defer data-title="テスト市 AIチャット" data-storage="local"
                data-position="left" data-text-launcher="AIに質問" data-text-feedback-question="解決しましたか？"></script>
        </body></html>"""
    url = city_site(city_page)
    page.goto(url)
    widget = Widget(page)
    expect(page.locator(".mdg")).to_have_attribute("data-ready", "true")
    expect(widget.launcher).to_have_text("AIに質問")
    # The city's CSS does not reach into the widget.
    assert widget.launcher.evaluate("el => getComputedStyle(el).color") == "rgb(255, 255, 255)"
    assert widget.launcher.bounding_box()["x"] < 100  # data-position="left"
    widget.open()
    expect(page.get_by_role("dialog", name="テスト市 AIチャット")).to_be_visible()
    expect(page.get_by_role("button", name="質問する")).to_be_visible()
    # Cross-origin webhook and event stream (Rasa runs with --cors).
    answer = widget.ask("住民票ってどこでもらえるの？")
    expect(answer.locator(".mdg-feedback")).to_contain_text("解決しましたか？")
    widget.wait_stream_open()
    stored = json.loads(page.evaluate("localStorage.getItem('madoguchi-widget')"))
    # Text from staff is shown as text, never as markup.
    rasa_api(stored["sender"], [bot_event('<img src=x onerror="window.hacked=1">ご確認ください', {"type": "staff"})])
    staff = page.locator(".mdg-staff .mdg-text")
    expect(staff).to_have_text('<img src=x onerror="window.hacked=1">ご確認ください')
    expect(page.locator(".mdg-staff img")).to_have_count(0)
    assert page.evaluate("window.hacked") is None
    expect(page.locator(".mdg-from-staff")).to_have_text("市役所の職員")

    # data-storage="local": a second tab shows the same conversation and gets pushes too.
    tab = page.context.new_page()
    tab.goto(url)
    other = Widget(tab)
    expect(other.bot_messages).to_have_count(2)
    other.wait_stream_open()
    rasa_api(stored["sender"], [bot_event("両方のタブに届きます。", {"type": "staff", "staff_name": "田中"})])
    # Both tabs show it: each from its own stream, or from the other tab's storage. (A tab
    # used to write back the state it had just read from the other tab, which could
    # overwrite the message that tab had stored meanwhile: web/widget.js, applyingOtherTab.)
    for p in (page, tab):
        expect(p.locator(".mdg-staff")).to_have_count(2, timeout=20000)
    expect(tab.locator(".mdg-staff .mdg-text").last).to_have_text("両方のタブに届きます。")


def test_keyboard_only(page, site):
    widget = Widget.load(page, site)
    # Tab from the top of the page reaches the launcher.
    for _ in range(30):
        page.keyboard.press("Tab")
        if widget.focused() == "mdg-launcher":
            break
    assert widget.focused() == "mdg-launcher"
    expect(widget.launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Enter")
    expect(widget.panel).to_be_visible()
    assert widget.focused() == "mdg-input"

    page.keyboard.type("ごみはどうやって捨てればいい？")
    before = widget.bot_messages.count()
    page.keyboard.press("Enter")
    expect(widget.bot_messages).to_have_count(before + 1, timeout=60_000)
    # Shift+Tab walks back from the field to the newest candidates: Tab order is reading order.
    page.keyboard.press("Shift+Tab")
    assert widget.focused() == "mdg-choice"
    expect(widget.last_bot().locator(".mdg-choice").last).to_be_focused()
    # From the field forward: the send button.
    widget.input.focus()
    page.keyboard.press("Tab")
    assert widget.focused() == "mdg-send"

    # A candidate can be chosen with the keyboard.
    choice = widget.last_bot().locator(".mdg-choice").first
    choice.focus()
    before = widget.bot_messages.count()
    page.keyboard.press("Enter")
    expect(widget.bot_messages).to_have_count(before + 1, timeout=60_000)
    assert widget.focused() == "mdg-input"

    # The large-text toggle works with Space and says whether it is on.
    large = page.get_by_role("button", name="文字を大きく")
    large.focus()
    page.keyboard.press("Space")
    expect(large).to_have_attribute("aria-pressed", "true")

    # Escape closes the panel and gives the focus back to the launcher.
    widget.input.focus()
    page.keyboard.press("Escape")
    expect(widget.panel).to_be_hidden()
    assert widget.focused() == "mdg-launcher"
