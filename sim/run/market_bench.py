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
* **England**: the England market (``scenarios/markets/england.toml``: England's LA/RAA side
  from the national calibration in 31 RAAs, and 30 VAAs), one replication over its warm-up and
  years; the time per replication-year (simulated year, warm-up included) and the events simpy
  processed a second; from them, the time of the planners' national run, England x 100
  replications x 10 years (and its warm-up) on all cores, against its target of 60 seconds, and
  where one replication's time goes (a profile by module: simpy's event loop, each part of the
  model).

``--quick`` runs markets of 2 and 4 agencies over one year (after one warm-up year), one replication
each, and leaves England out (for the tests).

    python -m sim bench --market --scheduler tcp://scheduler-host:8786 [--quick]

* **A cluster**: England's replications (four for each worker, over the warm-up and two years) run
  on the Dask cluster at that address; the replication-years each worker completes a second, each
  worker's peak memory, and from them the workers England x 100 replications x 10 years needs to
  finish in 60 seconds.  ``--quick`` runs the East of England market for one year instead (a
  check that the cluster answers, for the tests).
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import time
from collections import defaultdict
from pathlib import Path

from sim.model.market import run_market_replication
from sim.run.process_pool import default_workers
from sim.scenario import atomic_write
from sim.scenario.files import load_scenario, scenario_from_dict
from sim.scenario.market_file import Agency, load_market

CALIBRATED = "cambridgeshire-peterborough-2022-23"
SIZES = (5, 10, 20, 40)
QUICK_SIZES = (2, 4)
PER_REGION = 5
#: The planners' national run and its target (issue: England x 100 replications x 10 years).
NATIONAL_REPLICATIONS, NATIONAL_YEARS, NATIONAL_TARGET_S = 100, 10, 60.0


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


def main(quick: bool = False, json_path: str | None = None) -> int:
    """Print the market benchmark; with ``json_path``, write its figures there too (whole or not at all)."""
    figures: dict = {"quick": quick, "markets": []}
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
        figures["markets"].append({"agencies": n, "simulated_years": simulated, "seconds_per_replication": seconds,
                                   "events_per_second": events / seconds, "events_per_agency_year": events / simulated / n})
    if not quick:
        england = load_market("england")
        simulated = england.years + england.warm_up_years
        seconds, events = time_replication(list(england.agencies), england.seed, tries=1)
        print(f"\nEngland ({len(england.agencies)} agencies, {simulated} simulated years): {seconds:.1f} s a "
              f"replication, {seconds / simulated:.2f} s per replication-year, {events / seconds:,.0f} events/s, "
              f"{events / simulated:,.0f} events per replication-year")
        national_years = NATIONAL_YEARS + england.warm_up_years
        cores = default_workers()
        projected = seconds / simulated * national_years * NATIONAL_REPLICATIONS / cores
        needed = events / simulated * national_years * NATIONAL_REPLICATIONS / cores / NATIONAL_TARGET_S
        print(f"England x {NATIONAL_REPLICATIONS} replications x {NATIONAL_YEARS} years (+{england.warm_up_years} "
              f"warm-up) on {cores} cores: about {projected:,.0f} s at that speed (target {NATIONAL_TARGET_S:.0f} s: "
              f"{'met' if projected < NATIONAL_TARGET_S else 'not met'}; it needs {needed:,.0f} events/s on each core)")
        figures["england"] = {"agencies": len(england.agencies), "simulated_years": simulated,
                               "seconds_per_replication": seconds, "events_per_second": events / seconds,
                               "projected_national_seconds": projected, "cores": cores}
        print("Where one England replication's time goes (share of the time, by module):")
        for module, share in profile_by_module(list(england.agencies), england.seed):
            print(f"  {share:6.1%}  {module}")
    if json_path:
        atomic_write.write_text(json_path, json.dumps(figures, indent=1))
    return 0


def cluster(scheduler: str, quick: bool = False, json_path: str | None = None) -> int:
    """Print what the Dask cluster at ``scheduler`` does with a market's replications."""
    from sim.run.dask_engine import dask_client
    from sim.run.market_runner import run_market

    client = dask_client(scheduler)
    workers = len(client.scheduler_info()["workers"])
    if workers == 0:
        raise ConnectionError(f"the Dask scheduler at {scheduler} has no workers; start some with "
                              f"`dask worker {scheduler} --nthreads 1`")
    name, years, each = ("east-of-england", 1, 2) if quick else ("england", 2, 4)
    market = load_market(name).with_run(years=years, replications=each * workers)
    simulated = market.years + market.warm_up_years
    print(f"Cluster benchmark: {scheduler}, {workers} workers; {name}, {market.replications} replications x "
          f"{simulated} simulated years ({market.warm_up_years} warm-up)")
    t0 = time.perf_counter()
    run_market(market, engine="dask", scheduler=scheduler)
    seconds = time.perf_counter() - t0
    rate = market.replications * simulated / seconds / workers
    memory = client.run(_peak_memory_mb)
    print(f"  {seconds:.1f} s: {market.replications / seconds:.2f} replications/s, {rate:.3f} replication-years/s "
          f"per worker; peak memory per worker {min(memory.values()):.0f} to {max(memory.values()):.0f} MB")
    figures = {"scheduler": scheduler, "workers": workers, "market": name, "seconds": seconds,
               "replication_years_per_second_per_worker": rate, "peak_memory_mb": sorted(memory.values())}
    if not quick:
        national = NATIONAL_REPLICATIONS * (NATIONAL_YEARS + market.warm_up_years)
        needed = national / rate / NATIONAL_TARGET_S
        print(f"  England x {NATIONAL_REPLICATIONS} replications x {NATIONAL_YEARS} years (+{market.warm_up_years} "
              f"warm-up): about {national / rate / workers:,.0f} s on these {workers} workers; {needed:,.0f} workers "
              f"like these finish it in {NATIONAL_TARGET_S:.0f} s")
        figures["workers_for_national_in_60_s"] = needed
    if json_path:
        atomic_write.write_text(json_path, json.dumps(figures, indent=1))
    return 0


def _peak_memory_mb() -> float:
    """This process's peak resident memory (MB), on the worker that runs it."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def profile_by_module(agencies: list[Agency], seed: int, top: int = 10) -> list[tuple[str, float]]:
    """One replication run under cProfile, its own time added up by source file (simpy's modules,
    the model's, the standard library's), largest first."""
    profiler = cProfile.Profile()
    profiler.enable()
    run_market_replication(agencies, seed, 0)
    profiler.disable()
    by_file: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in pstats.Stats(profiler).stats.items():
        path = Path(filename)
        parts = path.parts
        if "simpy" in parts:
            key = "simpy/" + path.name
        elif "sim" in parts:
            key = "/".join(parts[parts.index("sim"):])
        else:
            key = "built-ins and the standard library"
        by_file[key] += tottime
    total = sum(by_file.values()) or 1.0
    return sorted(((k, v / total) for k, v in by_file.items()), key=lambda kv: -kv[1])[:top]
