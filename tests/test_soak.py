"""Several people on one server for a while: running, comparing and downloading at once.

Three browser sessions take turns for about a minute and a half against one ``streamlit run`` server
(its process engine, as deployed): each moves a lever, runs, opens the comparison and downloads the
results.  No page shows an exception, the server's memory stays flat once its caches are warm, and
when the server stops no process of it is left."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.app_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    app_server_process,
    open_view,
    run_and_wait_for_charts,
    wait_until_idle,
)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")]
SOAK_SECONDS = 90
SESSIONS = 3


def _group(pgid: int) -> list[int]:
    """The live processes of a process group."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            out.append(int(stat.parent.name))
    return out


def _resident(pids: list[int]) -> int:
    """Resident memory of the processes, in bytes (pages shared by forked workers counted in each)."""
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
    return total


def test_three_sessions_running_comparing_and_downloading_for_a_while(tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (on Debian or Ubuntu: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="python playwright is not installed")
    with app_server_process(reps=6, years=3) as (url, server), sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            pages = [browser.new_context(viewport={"width": 1400, "height": 1400}).new_page() for _ in range(SESSIONS)]
            for page in pages:
                assert run_and_wait_for_charts(page, url) >= 4
            warm = None
            started, rounds, downloads = time.monotonic(), 0, 0
            while time.monotonic() - started < SOAK_SECONDS or rounds < 2:
                for i, page in enumerate(pages):
                    run_and_wait_for_charts(page, url, campaign_pct=10 + 5 * ((rounds + i) % 4))
                    open_view(page, "Compare scenarios", "Scenarios (in the order to show them)")
                    open_view(page, "Downloads", "The question for the board")
                    with page.expect_download(timeout=120_000) as download:
                        page.get_by_role("button", name="Results (CSV)").click()
                    path = tmp_path / f"results-{i}-{rounds}.csv"
                    download.value.save_as(path)
                    assert path.stat().st_size > 1000
                    downloads += 1
                    wait_until_idle(page)
                    assert page.locator("[data-testid='stException']").count() == 0, f"session {i}, round {rounds}"
                rounds += 1
                if rounds == 1:
                    warm = _resident(_group(server.pid))
            end = _resident(_group(server.pid))
        finally:
            browser.close()
        group = server.pid
    assert downloads >= 2 * SESSIONS
    assert end <= warm * 1.5 + 200 * 2**20, f"server memory grew from {warm / 2**20:.0f} to {end / 2**20:.0f} MiB"
    deadline = time.monotonic() + 10
    while _group(group) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _group(group), "processes of the server survived it"
