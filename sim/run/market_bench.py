"""The market benchmark: how a market's time grows with its agencies, and England's time.

    python -m sim bench --market [--quick]

* **Scaling**: markets of 5, 10, 20 and 40 agencies, each the calibrated Cambridgeshire &
  Peterborough scenario as it is (one agency of C&P's size), five to a region, run for the
  warm-up and two reported years.  For each, the time of one replication (the best of two, the
  one least disturbed by other work on the machine) per simulated year, and per agency and
  simulated year: matching across agencies indexes waiting adopters by region and compatibility
  class (:mod:`sim.model.market`), so the time per agency-year should stay level as agencies are
  added, the time growing linearly with them.  The events simpy processed per agency-year measure
  the work itself, which other work on the machine does not disturb.
* **England**: the England market (``scenarios/markets/england.toml``: about 55 times C&P in
  adoption orders, 61 agencies), one replication over its warm-up and years; the time per
  replication-year (simulated year, warm-up included) and the events simpy processed a second.

``--quick`` runs markets of 2 and 4 agencies over one year (after one warm-up year), one replication
each, and leaves England out (for the tests).
"""

from __future__ import annotations

import os
import time

from sim.model.market import run_market_replication
from sim.scenario.files import load_scenario, scenario_from_dict
from sim.scenario.market_file import Agency, load_market

CALIBRATED = "cambridgeshire-peterborough-2022-23"
SIZES = (5, 10, 20, 40)
QUICK_SIZES = (2, 4)
PER_REGION = 5


def cp_market(n: int, years: int, warm_up_years: int = 3) -> list[Agency]:
    """``n`` agencies of C&P's size, five to a region."""
    data = load_scenario(CALIBRATED).model_dump()
    data["scenario"].update(years=years, warm_up_years=warm_up_years)
    scenario = scenario_from_dict(data, CALIBRATED)
    return [Agency(f"agency {k + 1}", f"region {k // PER_REGION + 1}", "raa", scenario) for k in range(n)]


def time_replication(agencies: list[Agency], seed: int, tries: int = 2) -> tuple[float, int]:
    """The best of ``tries`` times (seconds) of one replication, and the events it processed."""
    best, events = float("inf"), 0
    for r in range(tries):
        t0 = time.perf_counter()
        result = run_market_replication(agencies, seed, r, count_events=True)
        best, events = min(best, time.perf_counter() - t0), result.events
    return best, events


def main(quick: bool = False) -> int:
    years, warm_up = (1, 1) if quick else (2, 3)
    simulated = years + warm_up
    print(f"Market benchmark (load average {os.getloadavg()[0]:.2f}); markets of C&P-sized agencies, "
          f"{simulated} simulated years ({warm_up} warm-up), best of {'one' if quick else 'two'} replications")
    print(f"{'agencies':>9} {'s/replication':>14} {'s/replication-year':>19} {'ms/agency-year':>15} {'events/s':>10} "
          f"{'events/agency-year':>19}")
    for n in QUICK_SIZES if quick else SIZES:
        seconds, events = time_replication(cp_market(n, years, warm_up), seed=1, tries=1 if quick else 2)
        print(f"{n:>9} {seconds:>14.2f} {seconds / simulated:>19.3f} {1000 * seconds / simulated / n:>15.1f} "
              f"{events / seconds:>10,.0f} {events / simulated / n:>19,.0f}")
    if not quick:
        england = load_market("england")
        simulated = england.years + england.warm_up_years
        seconds, events = time_replication(list(england.agencies), england.seed, tries=1)
        print(f"\nEngland ({len(england.agencies)} agencies, {simulated} simulated years): {seconds:.1f} s a "
              f"replication, {seconds / simulated:.2f} s per replication-year, {events / seconds:,.0f} events/s")
    return 0
