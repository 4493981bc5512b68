"""Browser tests of the web chat widget: the real stack, Debian's headless Chromium, Playwright.

Needs ``/usr/bin/chromium`` (``scripts/ensure_chromium.sh`` installs it), the ``playwright``
Python package (no browser download: it drives Debian's Chromium) and npm for axe-core.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.server
import shutil
import subprocess
import threading
import dataclasses
from pathlib import Path

import pytest

from bot.runtime.runner import Stack
from bot.settings import Settings
from tests.browser.proxy import TcpProxy
from tests.conftest import free_port

CHROMIUM = Path("/usr/bin/chromium")
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def city_port() -> int:
    """Where the stand-in of the city's own website listens (its origin is allowed by CORS)."""
    return free_port()


@pytest.fixture(scope="session")
def web_settings(tmp_path_factory, fixture_settings, city_port) -> Settings:
    """The shared fixture settings with a var/ and ports of this stack's own; the city's
    site (city_site) is the one origin allowed to call the webhook from its pages."""
    work = tmp_path_factory.mktemp("webstack")
    return dataclasses.replace(fixture_settings, var_dir=work / "var", rasa_port=free_port(),
                               actions_port=free_port(), console_port=free_port(),
                               web_origins=f"http://127.0.0.1:{city_port}")


@pytest.fixture(scope="session")
def web_stack(web_settings, trained_model, tmp_path_factory):
    """Rasa + actions with the REST and web channels, the session's tiny trained model."""
    credentials = tmp_path_factory.mktemp("webcreds") / "credentials.yml"
    credentials.write_text(
        "bot.channels.rest.MadoguchiRestInput:\n"
        "bot.channels.web.WebInput:\n"
        "  heartbeat_seconds: 5\n"
        "  retry_ms: 1000\n",
        encoding="utf-8",
    )
    stack = Stack(web_settings, trained_model, log_dir=web_settings.var_dir / "logs",
                  with_console=False, credentials=credentials, choose_port=free_port)
    stack.start(timeout=240)
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def proxy(web_stack):
    """The browser reaches Rasa through this proxy, so a test can cut the network."""
    p = TcpProxy(web_stack.settings.host, web_stack.settings.rasa_port)
    p.start()
    yield p
    p.stop()


@pytest.fixture()
def site(proxy) -> str:
    """Base URL of the web channel as the browser sees it (through the proxy)."""
    proxy.resume()
    return f"http://127.0.0.1:{proxy.port}/webhooks/web/"


@pytest.fixture()
def city_site(city_port):
    """A stand-in for the city's own website: another origin on loopback serving one page.

    Yields a function ``publish(html) -> url``.
    """
    pages: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # http.server's naming
            body = pages.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"not found")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", city_port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def publish(html: str, path: str = "/kurashi/") -> str:
        pages[path] = html.encode("utf-8")
        return f"http://127.0.0.1:{server.server_address[1]}{path}"

    yield publish
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def rasa_api(web_stack):
    """Call Rasa's HTTP API (the delivery seam) the way the staff console does."""
    from bot.runtime.rasa_api import RasaApi

    def append(sender: str, events: list[dict]) -> dict:
        async def go():
            import aiohttp

            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
                api = RasaApi(web_stack.rasa_url, web_stack.settings.api_token(), session)
                return await api.append_events(sender, events)

        # Playwright's sync API owns this thread's event loop; use another thread.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, go()).result(timeout=60)

    return append


@pytest.fixture(scope="package")
def browser():
    # Package scope, not session: Playwright's sync API keeps an event loop running in
    # this thread, which would break every asyncio test collected after tests/browser.
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing: run scripts/ensure_chromium.sh (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: .venv/bin/pip install -r requirements.lock")
    with sync_playwright() as pw:
        try:
            b = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        except Exception as exc:  # noqa: BLE001 - any launch failure: fail (never skip) and say why
            pytest.fail(f"Chromium ({CHROMIUM}) could not be started: {exc}. Run scripts/ensure_chromium.sh "
                        "(it installs Chromium and its fonts), then check `chromium --headless --version`")
        yield b
        b.close()


@pytest.fixture()
def context(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, locale="ja-JP")
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


@pytest.fixture()
def page(context):
    return context.new_page()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core from npm (tests/browser/package-lock.json), installed on first use."""
    path = HERE / "node_modules" / "axe-core" / "axe.min.js"
    if not path.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is missing: install Node.js (apt-get install nodejs npm) for the accessibility check")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True, timeout=300)
    return path
