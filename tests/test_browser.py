"""The app in a real browser: ``streamlit run app.py`` driven in headless Chromium.

Skipped, with the reason, where Chromium or playwright is not installed.  The server is
always stopped, whatever happens.
"""

import contextlib
from pathlib import Path

import numpy as np
import pytest

from tests.app_server import CHROMIUM, CHROMIUM_ARGS, app_server, run_and_wait_for_charts, wait_until_idle

pytestmark = pytest.mark.browser


def test_run_draws_charts_and_a_redraw_does_not_lose_a_run(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (on Debian or Ubuntu: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="python playwright is not installed")
    with app_server(reps=8, years=3) as url, sync_api.sync_playwright() as p:
        browser = _browser(p)
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
            page.get_by_text("3 financial years (2022-23 to 2024-25)", exact=False).first.wait_for(timeout=120_000)
            page.get_by_text("200 replications, as asked", exact=False).first.wait_for(timeout=120_000)
            assert page.locator("[data-testid='stException']").count() == 0
            page.screenshot(path=str(tmp_path / "app.png"))
        finally:
            browser.close()


DOCS = Path(__file__).resolve().parent.parent / "docs"
# The tasks below open tabs whose page code the browser fetches on first use; with a pool of worker
# processes forked from the server, those fetches were seen to hang, so their runs stay in the
# server's process (small runs: a few replications).
IN_PROCESS = "serial"


def _browser(p):
    return p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def _skip_without_browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (on Debian or Ubuntu: apt-get install chromium)")
    return pytest.importorskip("playwright.sync_api", reason="python playwright is not installed")


@contextlib.contextmanager
def _task_page(years: int, height: int, campaign_pct: float | None = None):
    """A user's task in the browser: the app served (six replications, runs in its own process),
    one page opened on it and the first run's charts drawn; the page, then everything stopped."""
    sync_api = _skip_without_browser()
    with app_server(reps=6, years=years, engine=IN_PROCESS) as url, sync_api.sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": height})
            run_and_wait_for_charts(page, url, campaign_pct=campaign_pct)
            yield page
            assert page.locator("[data-testid='stException']").count() == 0
        finally:
            browser.close()


def test_finance_officer_three_years_of_interagency_spend_with_and_without_a_campaign():
    """A finance officer's task: interagency spend over 2025-26 to 2027-28, with and without a
    +30% recruitment campaign, baseline beside the scenario, totals and the paired saving."""
    from tests.app_server import choose, open_view

    with _task_page(years=6, height=1100, campaign_pct=30) as page:
        open_view(page, "Finance", "From financial year")
        choose(page, "From financial year", "2025-26")
        choose(page, "To financial year", "2027-28")
        page.get_by_text("2025-26 to 2027-28: totals").wait_for()
        wait_until_idle(page)
        tables = page.locator("[data-testid='stTable']")
        assert tables.count() >= 2
        for i in range(tables.count()):  # every column inside the page
            box = tables.nth(i).bounding_box()
            assert box["x"] + box["width"] <= page.viewport_size["width"] + 1
        text = page.locator("[data-testid='stMain']").inner_text()
        totals = tables.first.inner_text()
        assert "net spend" in totals and totals.count("[") >= 9  # baseline, scenario and saving, each with its interval
        assert "against the report's 11" in text  # the baseline's miss, from its fit report
        assert "python -m sim" not in text and "Traceback" not in text
        page.get_by_text("Interagency spend: Recruitment campaign +30%").evaluate(
            "e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(500)
        page.screenshot(path=str(DOCS / "finance-view.png"))


FOUR = ("Raise recruitment by 30% (Hampshire: 50 to 65 a year)", "Sibling-group recruitment campaign",
        "Go interagency sooner (30-day in-house search)")


def test_board_compares_four_scenarios_and_downloads_the_paper_and_the_spreadsheet(tmp_path):
    """A board's task: the baseline and three what-ifs side by side, a question typed for the board,
    then the board paper (PDF) and the spreadsheet, checked as the board reads them: every compared
    scenario and the question in the paper, a summary on page 1, no near-empty page; the Compare
    choice still there after the downloads."""
    import openpyxl
    import pypdfium2 as pdfium

    from tests.app_server import choose, open_view, wait_for_drawing

    with _task_page(years=4, height=1300) as page:
        open_view(page, "Compare scenarios", "Scenarios (in the order to show them)")
        for title in FOUR:
            choose(page, "Scenarios (in the order to show them)", title)
        wait_for_drawing(page, charts=4)
        wait_until_idle(page)
        table = page.locator("[data-testid='stTable']").first
        box = table.bounding_box()  # every scenario's column inside the page
        assert box["x"] + box["width"] <= page.viewport_size["width"]
        page.get_by_text("Scenarios run in this session").evaluate(
            "e => e.scrollIntoView({block: 'start'})")  # the page's header covers the top lines
        page.wait_for_timeout(500)
        page.screenshot(path=str(DOCS / "compare-view.png"))
        open_view(page, "Downloads", "The question for the board")
        question = page.get_by_role("textbox", name="The question for the board")
        question.fill("Which of these should we fund from April 2023?")
        question.press("Enter")
        wait_until_idle(page)
        with page.expect_download(timeout=180_000) as download:
            page.get_by_role("button", name="Board pack (PDF)").click()
        path = tmp_path / "board-pack.pdf"
        download.value.save_as(path)
        pdf = pdfium.PdfDocument(str(path))
        texts = ["".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf))]
        for words in ("Which of these should we fund from April 2023?", "The board is asked to decide", "Summary"):
            assert "".join(words.split()) in texts[0], words
        for title in ("Cambridgeshire & Peterborough Adoption 2022-23 (calibrated)", *FOUR):
            assert "".join(title.split()) in texts[0], title  # every compared scenario, on page 1
        for i in range(len(pdf)):
            image = np.asarray(pdf[i].render(scale=0.5).to_pil().convert("L"))
            rows = np.flatnonzero((image < 200).any(axis=1))
            assert (rows[-1] + 1) / len(image) >= 0.2, f"page {i + 1} under a fifth full"
        pdf[1].render(scale=1.2).to_pil().save(DOCS / "board-pack-headline.png")  # the headline table
        with page.expect_download(timeout=180_000) as download:
            page.get_by_role("button", name="Results and comparison (Excel)").click()
        sheet = tmp_path / "results.xlsx"
        download.value.save_as(sheet)
        book = openpyxl.load_workbook(sheet)
        compared = {row[3].value for row in book["comparison"].iter_rows(min_row=2)}
        assert {"Cambridgeshire & Peterborough Adoption 2022-23 (calibrated)", *FOUR} <= compared
        periods = {row[0].value for row in book["spend and savings"].iter_rows(min_row=2)}
        assert any(str(p).startswith("total ") for p in periods)  # the finance window's totals
        open_view(page, "Compare scenarios", "Scenarios (in the order to show them)")
        wait_for_drawing(page, charts=4)
        header = page.locator("[data-testid='stTable'] thead").first.inner_text()
        for title in FOUR:  # the Compare choice after the downloads: all four still compared
            assert title in header, (title, header)
        open_view(page, "Downloads", "The question for the board")
        assert question.input_value() == "Which of these should we fund from April 2023?"


def test_planner_finds_the_recruitment_target_for_a10(tmp_path):
    """A planner's task: the enquiries a month that keep A10 at or below the scorecard's 426 days,
    found in the Recruitment target view, with its answer (or why recruitment alone cannot reach it)
    and the search's chart."""
    from tests.app_server import choose, open_view, wait_for_drawing

    with _task_page(years=4, height=1300) as page:
        open_view(page, "Recruitment target", "The fewest enquiries a month")
        choose(page, "Keep", "A10: care to moving in (foster-carer adjusted) (days)")
        limit = page.get_by_role("spinbutton", name="A10: care to moving in (foster-carer adjusted) at or below")
        assert float(limit.input_value()) == 426.0  # the scorecard threshold, offered as the limit
        page.get_by_role("button", name="Find the recruitment target").click()
        page.get_by_text("A10: care to moving in (foster-carer adjusted) at or below 426", exact=False).first.wait_for(
            timeout=240_000)
        wait_for_drawing(page, charts=1)
        wait_until_idle(page)
        text = page.locator("[data-testid='stMain']").inner_text()
        assert ("enquiries a month** from" in text or "enquiries a month from" in text
                or "not reached with up to" in text or "already meets the limit" in text), text[-2000:]
        assert "Traceback" not in text and "The search failed" not in text
        page.get_by_text("The fewest enquiries a month").evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(500)
        page.screenshot(path=str(DOCS / "recruitment-target.png"))
        # the controls and the answer survive a visit to another view
        open_view(page, "Finance", "From financial year")
        open_view(page, "Recruitment target", "The fewest enquiries a month")
        assert "A10" in page.get_by_role("combobox", name="Keep").input_value()
        page.get_by_text("A10: care to moving in (foster-carer adjusted) at or below 426", exact=False).first.wait_for()
        use = page.get_by_role("button", name="Use this level", exact=False)
        if use.count():  # a level was found: take it into the levers and run it
            level = float(use.first.inner_text().split(":")[1].split()[0])
            use.first.click()
            page.get_by_text("Recruitment target (", exact=False).first.wait_for(timeout=240_000)
            wait_until_idle(page, 240_000)
            value = page.get_by_role("spinbutton", name="Enquiries per month (households/month)").input_value()
            assert float(value) == pytest.approx(level, abs=0.05)


def test_finance_compares_a_regional_campaign_with_its_base_in_the_market_view():
    """A region as one market: a joint recruitment campaign against the region as it is, with the
    change in its totals, its charts, and its money by year, every column on screen."""
    from tests.app_server import choose, open_view, wait_for_drawing

    with _task_page(years=3, height=1500) as page:
        open_view(page, "Market", "Run a region or England as one market")
        choose(page, "Market", "East of England: regional recruitment campaign +30% from 2023-24")
        choose(page, "Against (its base market, to compare)", "East of England")
        page.get_by_role("spinbutton", name="Replications").last.fill("3")
        page.get_by_role("spinbutton", name="Years").last.fill("3")
        page.get_by_role("button", name="Run the market").click()
        page.get_by_text("Change against East of England").wait_for(timeout=180_000)
        wait_for_drawing(page, charts=4, tables=3, timeout_ms=180_000)
        wait_until_idle(page)
        text = page.locator("[data-testid='stMain']").inner_text()
        assert "Change against East of England" in text and "Traceback" not in text
        page.get_by_text("Change against East of England").evaluate("e => e.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(500)
        page.screenshot(path=str(DOCS / "market-view.png"))
