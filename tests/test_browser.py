"""The app in a real browser: ``streamlit run app.py`` driven in headless Chromium.

Skipped, with the reason, where Chromium or playwright is not installed.  The server is
always stopped, whatever happens.
"""

from pathlib import Path

import pytest

from tests.app_server import CHROMIUM, CHROMIUM_ARGS, app_server, run_and_wait_for_charts

pytestmark = pytest.mark.browser


def test_run_draws_charts(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (on Debian or Ubuntu: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="python playwright is not installed")
    with app_server(reps=8, years=3) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            charts = run_and_wait_for_charts(page, url)
            assert charts >= 4, f"only {charts} charts drawn"
            assert page.get_by_text("Approvals", exact=True).first.is_visible()
            assert page.locator("[data-testid='stException']").count() == 0
            page.screenshot(path=str(tmp_path / "app.png"))
        finally:
            browser.close()
