"""Browser tests: a real `pgdrip serve` with the admin pages on, driven by Debian's Chromium
through Playwright. Without Chromium or Playwright they are skipped, unless
PGDRIP_REQUIRE_BROWSER=1 (CI sets it), when that is a failure."""

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.acceptance.serve_process import ServeProcess, serving

CHROMIUM = os.environ.get("PGDRIP_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "correct horse battery staple"
ADMIN_ENV = {"PGDRIP_ADMIN_PASSWORD": PASSWORD, "PGDRIP_ADMIN_USER": "marketing"}


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    if not shutil.which(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser():
    missing = _missing()
    if missing:
        if os.environ.get("PGDRIP_REQUIRE_BROWSER") == "1":
            pytest.fail(missing)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                           "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.fixture
def server(dsn, tmp_home) -> Iterator[ServeProcess]:
    with serving(dsn, tmp_home, ADMIN_ENV) as s:
        yield s


@pytest.fixture
def page(browser, server):
    context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10000)
    tab = context.new_page()
    yield tab
    context.close()


def sign_in(page, next_path: str = "/admin/sequences") -> None:
    page.goto(next_path)
    page.get_by_label("User name").fill("marketing")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(next_path.split("?")[0])))


def screenshot(page, name: str, tmp_path: Path) -> None:
    """Into PGDRIP_SCREENSHOTS (docs/screenshots when refreshing the README's pictures), else a
    temporary directory: the pages are drawn either way."""
    folder = Path(os.environ.get("PGDRIP_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def press(page, name: str) -> None:
    """Click a button of the sequence form. Scrolled into view first: headless Chromium can send
    a click that Playwright aims near a sandboxed preview iframe into the frame (playwright#13762)."""
    button = page.get_by_role("button", name=name, exact=True)
    button.scroll_into_view_if_needed()
    button.click()


def save(page) -> None:
    press(page, "Save sequence")
