"""A small page object for the chat widget, shared by the browser tests."""

from __future__ import annotations

import json

from playwright.sync_api import Locator, Page, expect

STORAGE_KEY = "madoguchi-widget"


class Widget:
    """Drives the widget on a page the way a resident does (Playwright pierces its shadow root)."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.launcher = page.locator(".mdg-launcher")
        self.panel = page.locator(".mdg-panel")
        self.input = page.locator(".mdg-input")
        self.log = page.locator(".mdg-log")
        self.status = page.locator(".mdg-status")

    @classmethod
    def load(cls, page: Page, site: str, path: str = "demo") -> "Widget":
        page.goto(site + path)
        widget = cls(page)
        expect(page.locator(".mdg")).to_have_attribute("data-ready", "true")
        return widget

    # ------------------------------------------------------------------ reading
    @property
    def bot_messages(self) -> Locator:
        """Messages from the assistant or staff (not the local greeting)."""
        return self.page.locator(".mdg-bot[data-id]")

    @property
    def user_messages(self) -> Locator:
        return self.page.locator(".mdg-user")

    def last_bot(self) -> Locator:
        return self.bot_messages.last

    def state(self) -> dict:
        raw = self.page.evaluate(f"sessionStorage.getItem({json.dumps(STORAGE_KEY)})")
        return json.loads(raw) if raw else {}

    def focused(self) -> str:
        """Class of the focused element, inside the widget's shadow root or in the page."""
        return self.page.evaluate(
            """() => {
                const host = document.getElementById('madoguchi-widget');
                const inner = host && host.shadowRoot && host.shadowRoot.activeElement;
                const el = inner || document.activeElement;
                return el ? (el.className || el.tagName) : '';
            }"""
        )

    def stream_state(self) -> str | None:
        return self.page.locator(".mdg").get_attribute("data-stream")

    # ------------------------------------------------------------------ acting
    def open(self) -> None:
        self.launcher.click()
        expect(self.panel).to_be_visible()

    def ask(self, text: str, replies: int = 1) -> Locator:
        """Type a question, press Enter and wait for ``replies`` new messages; returns the first."""
        before = self.bot_messages.count()
        self.input.fill(text)
        self.input.press("Enter")
        expect(self.bot_messages).to_have_count(before + replies, timeout=60_000)
        return self.bot_messages.nth(before)

    def click_and_wait(self, target: Locator, replies: int = 1) -> Locator:
        before = self.bot_messages.count()
        target.click()
        expect(self.bot_messages).to_have_count(before + replies, timeout=60_000)
        return self.bot_messages.nth(before)

    def wait_stream_open(self) -> None:
        expect(self.page.locator(".mdg")).to_have_attribute("data-stream", "open", timeout=20_000)
