import pytest
from tests.console.test_browser import *  # noqa
from tests.console.conftest import PASSWORD

async def test_dbg(browser, console, store):
    base = str(console.make_url("")).rstrip("/")
    context = await browser.new_context()
    page = await context.new_page()
    page.on("console", lambda m: print("CONSOLE", m.text))
    page.on("response", lambda r: print("RESP", r.status, r.url, r.headers.get("location")))
    await page.goto(f"{base}/inbox")
    print(page.url)
    await page.fill("#username", "suzuki")
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_timeout(3000)
    print(page.url)
    print((await page.content())[:1500])
