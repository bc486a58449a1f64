"""The app in a real browser: ``streamlit run app.py`` driven in headless Chromium.

Skipped, with the reason, where Chromium or playwright is not installed.  The server is
always stopped, whatever happens.
"""

from pathlib import Path

import pytest

from tests.app_server import CHROMIUM, CHROMIUM_ARGS, app_server, run_and_wait_for_charts, wait_until_idle

pytestmark = pytest.mark.browser


def test_run_draws_charts_and_a_redraw_does_not_lose_a_run(tmp_path):
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

            # a longer run, and while it goes on a control that redraws the page: a bad paste
            page.get_by_role("textbox", name="Scenario name").fill("Campaign +45%")
            page.get_by_role("spinbutton", name="Recruitment campaign: extra enquiries").fill("45")
            page.get_by_text("Horizon and replications").click()
            page.get_by_role("spinbutton", name="Replications").fill("200")
            page.get_by_text("…or paste a scenario").click()
            paste = page.get_by_role("textbox", name="Scenario TOML")
            paste.fill("[adopters]\nstage1_days = -4\n")
            paste.press("Control+Enter")  # commit the text (a redraw) before the run starts
            wait_until_idle(page)
            page.get_by_role("button", name="Run", exact=True).click()
            # the run has started (its progress bar shows) or, on a fast machine, already finished
            page.locator("[role='progressbar']").or_(page.get_by_text("Campaign +45% against")).first.wait_for(
                timeout=60_000)
            page.get_by_role("button", name="Load pasted scenario").click()
            page.get_by_text("could not be loaded", exact=False).first.wait_for(timeout=60_000)
            assert page.get_by_text("adopters.stage1_days", exact=False).count() >= 1
            page.get_by_text("Campaign +45% against", exact=False).first.wait_for(timeout=120_000)
            # the run the redraw did not lose: its results, over 200 replications, once it finishes
            page.get_by_text("200 replications × 3 financial years", exact=False).first.wait_for(timeout=120_000)
            assert page.locator("[data-testid='stException']").count() == 0
            page.screenshot(path=str(tmp_path / "app.png"))
        finally:
            browser.close()
