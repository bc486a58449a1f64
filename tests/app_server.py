"""Start the app with ``streamlit run`` on a free port, and drive it in headless Chromium.

Used by the browser test, and to take the README's screenshot:

    python -m tests.app_server --screenshot docs/app-screenshot.png

The server runs in its own process group and is always stopped, with everything it started.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_server(reps: int = 10, years: int = 3, engine: str = "processes", timeout: float = 60.0):
    """Run ``streamlit run app.py`` and yield its URL; stop it (and its children) afterwards."""
    with app_server_process(reps, years, engine, timeout) as (url, _):
        yield url


@contextlib.contextmanager
def app_server_process(reps: int = 10, years: int = 3, engine: str = "processes", timeout: float = 60.0,
                       port: int | None = None, env: dict[str, str] | None = None, options: tuple[str, ...] = ()):
    """As :func:`app_server`, yielding the URL and the server's process (the leader of its group);
    ``env`` adds to the environment and ``options`` to Streamlit's command line (a secrets file)."""
    port = port or free_port()
    env = dict(os.environ, ADOPTION_APP_REPS=str(reps), ADOPTION_APP_YEARS=str(years),
               ADOPTION_APP_ENGINE=engine, **(env or {}))  # usage statistics are off in .streamlit/config.toml
    log = open(os.devnull, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
         *options],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with status {proc.returncode} before serving")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not answer on {url} within {timeout:.0f} s")
            time.sleep(0.3)
        yield url, proc
    finally:
        _stop(proc)
        log.close()


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server's process group: politely, then by force."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_until_idle(page, timeout_ms: int = 90_000) -> None:
    """Wait until the app has finished redrawing (its status widget, 'Stop' while a run
    goes on, has gone)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => ![...document.querySelectorAll('[data-testid=\"stStatusWidget\"]')]"
        ".some(e => /Stop|Running/.test(e.innerText))", timeout=timeout_ms)


def run_and_wait_for_charts(page, url: str, campaign_pct: float | None = None, min_charts: int = 4,
                            timeout_ms: int = 90_000) -> int:
    """Open the app, optionally set a recruitment campaign, press Run, and wait until charts
    are drawn; the number of charts drawn."""
    page.goto(url, wait_until="domcontentloaded")
    run = page.get_by_role("button", name="Run", exact=True)
    run.wait_for(timeout=timeout_ms)
    wait_until_idle(page, timeout_ms)
    if campaign_pct is not None:
        page.get_by_role("textbox", name="Scenario name").fill(f"Recruitment campaign +{campaign_pct:g}%")
        page.get_by_role("spinbutton", name="Recruitment campaign: extra enquiries").fill(f"{campaign_pct:g}")
    run.click()
    if campaign_pct is not None:
        page.get_by_text(f"Recruitment campaign +{campaign_pct:g}% against", exact=False).first.wait_for(
            timeout=timeout_ms)
    wait_until_idle(page, timeout_ms)
    try:  # charts draw one after another once the page has its data
        page.wait_for_function(
            f"() => document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= {min_charts}",
            timeout=timeout_ms)
    except Exception:  # report how many were drawn
        pass
    return page.locator(".vega-embed canvas, .vega-embed svg").count()


def choose(page, label: str, option: str, timeout_ms: int = 90_000) -> None:
    """Pick ``option`` in the select box or multiselect labelled ``label``, and wait for the redraw."""
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")  # close a multiselect's list
    wait_until_idle(page, timeout_ms)


def open_view(page, name: str, ready: str, timeout_ms: int = 90_000) -> None:
    """Open one of the app's tabs (Charts, Compare scenarios, Finance, ...) and wait until the
    text ``ready`` shows in it."""
    page.get_by_role("link", name=name, exact=True).first.click()
    page.get_by_text(ready, exact=False).first.wait_for(timeout=timeout_ms)
    wait_until_idle(page, timeout_ms)


def wait_for_drawing(page, charts: int = 0, tables: int = 0, timeout_ms: int = 90_000) -> None:
    """Wait until at least ``charts`` charts and ``tables`` tables are drawn (and a moment more
    for them to finish painting)."""
    page.wait_for_function(
        f"() => document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= {charts} && "
        f"document.querySelectorAll('[data-testid=\"stDataFrame\"] canvas').length >= {tables}", timeout=timeout_ms)
    page.wait_for_timeout(1_000)


def screenshot(path: Path, full_page: bool = False) -> None:
    from playwright.sync_api import sync_playwright

    with app_server(reps=100, years=5) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            run_and_wait_for_charts(page, url, campaign_pct=30)
            time.sleep(3)  # let the charts finish drawing
            page.screenshot(path=str(path), full_page=full_page)
        finally:
            browser.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--screenshot", type=Path, required=True)
    parser.add_argument("--full-page", action="store_true")
    args = parser.parse_args()
    screenshot(args.screenshot, args.full_page)
