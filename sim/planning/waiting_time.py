"""How long a planner waits: from pressing *Run* to the charts, and for a recruitment target.

``python -m sim bench`` prints these beside the model's own figures (:mod:`sim.run.bench`):

* **click to chart**: the app's default run of a what-if (the built-in baseline with one lever
  moved, over the default horizon, replications chosen to the stated precision with at least
  the baseline's count, as the app does), from the scenario to the chart objects the page
  draws: the run, the headline changes and the five charts of the *Charts* view, each turned
  into the specification the browser receives.  As in the app, the baseline has run already
  (the page runs it when it opens) and the worker processes have started.  Three what-ifs
  (a different lever each, so that nothing is cached) give the median.
* **target finder**: :func:`sim.planning.target_finder.find_recruitment_target` with the app's
  settings (A2 at or below 121 days in every year from the year after recruitment starts),
  and a limit recruitment can reach (interagency fees at or below £400,000 a year in every
  year from then on).

Targets (the planners' requirement): under :data:`CLICK_TARGET_S` and :data:`FINDER_TARGET_S`.
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass, replace

from sim.planning import charts
from sim.planning.comparison import change_table
from sim.planning.levers import apply_levers, default_start, start_index
from sim.planning.target_finder import find_recruitment_target
from sim.run.replications import DEFAULT_PRECISION, Precision, run_to_precision
from sim.scenario.files import built_in_baseline
from sim.scenario.parameters import HORIZON_YEARS, Scenario

#: Seconds from pressing Run to the charts (the planners' requirement).
CLICK_TARGET_S = 2.0
#: Seconds for a recruitment target (the planners' requirement).
FINDER_TARGET_S = 15.0
#: What-ifs timed for the click (one lever each; assumption: typical first moves of a planner).
WHAT_IFS = ({"campaign_pct": 30.0}, {"enquiries_per_month": 30.0}, {"stage2_days": 150.0})
#: The app's headline figures (app.py HEADLINE).
HEADLINE = ["approvals", "children_waiting_with_po", "a10_days", "a2_days", "adopter_gap", "interagency_fees_gbp"]
#: Recruitment targets timed: (measure, limit, what it stands for).
TARGETS = (("a2_days", 121.0, "A2 <= 121 days every year (the app's default)"),
           ("interagency_fees_gbp", 400_000.0, "interagency fees <= £400,000 every year"))


@dataclass
class WaitingTimes:
    click_to_chart_s: float  # median over the what-ifs
    click_to_chart_runs_s: list[float]
    click_replications: list[int]
    baseline_replications: int
    target_finder_s: dict[str, float]  # by target
    target_finder_replications: dict[str, int]  # replications the answers were judged on
    years: int

    def as_dict(self) -> dict:
        """The figures for ``bench --json``, the horizon as ``wait_years`` (beside the standard
        workload's own ``years``, which it must not overwrite)."""
        figures = asdict(self)
        figures["wait_years"] = figures.pop("years")
        return figures


def _charts(both: dict) -> None:
    """The Charts view's specifications, as the browser receives them (JSON)."""
    for chart in (charts.gap_chart(both), charts.waits_chart(both), charts.spend_chart(both),
                  charts.spend_chart(both, cumulative=True), charts.flows_chart(both)):
        json.dumps(chart)


def click_to_chart(base: Scenario, values: dict, baseline, years: int, precision: Precision) -> tuple[float, int]:
    """Seconds from a what-if on ``base`` to its charts (its baseline's results given), and its replications."""
    started = time.perf_counter()
    scenario = apply_levers(base, values)
    rule = replace(precision, minimum=min(max(precision.minimum, baseline.scenario.scenario.replications),
                                          precision.maximum))
    results = run_to_precision(scenario, rule, years=years, engine="processes", share_history=True)
    both = {"baseline": baseline, "what-if": results}
    change_table(baseline, results, HEADLINE, 2)
    _charts(both)
    return time.perf_counter() - started, results.scenario.scenario.replications


def measure(years: int = HORIZON_YEARS, precision: Precision = DEFAULT_PRECISION, what_ifs=WHAT_IFS,
            targets=TARGETS, say=print) -> WaitingTimes:
    base = built_in_baseline()
    say("the app's opening run (the baseline, and the worker processes) ...")
    baseline = run_to_precision(base, precision, years=years, engine="processes", share_history=True)
    _charts({"baseline": baseline})  # the page draws the baseline's charts when it opens
    runs, counts = [], []
    for values in what_ifs:
        say(f"click to chart: {', '.join(values)} ...")
        seconds, n = click_to_chart(base, values, baseline, years, precision)
        runs.append(seconds)
        counts.append(n)
    start = default_start(base)
    every = min(years, start_index(base, start) // 12 - base.scenario.warm_up_years + 2)  # the year after
    finder_s, finder_n = {}, {}
    for kpi, limit, label in targets:
        say(f"target finder: {label} ...")
        started = time.perf_counter()
        found = find_recruitment_target(base, kpi, limit, years=years, engine="processes", start=start,
                                        every_year_from=every, precision=precision)
        finder_s[label] = time.perf_counter() - started
        finder_n[label] = found.replications
    return WaitingTimes(statistics.median(runs), runs, counts, baseline.scenario.scenario.replications,
                        finder_s, finder_n, years)


def report(w: WaitingTimes) -> str:
    def met(seconds: float, target: float) -> str:
        return f"< {target:g} s: {'met' if seconds < target else 'not met'}"

    lines = ["", f"  What a planner waits for ({w.years} years, replications chosen to the stated precision):",
             f"  {'click to chart (median)':<30}{w.click_to_chart_s:>12.2f} s  {met(w.click_to_chart_s, CLICK_TARGET_S)}"
             f" (runs {', '.join(f'{s:.2f}' for s in w.click_to_chart_runs_s)} s; "
             f"{', '.join(map(str, w.click_replications))} replications; baseline {w.baseline_replications})"]
    for label, seconds in w.target_finder_s.items():
        lines.append(f"  {'target finder':<30}{seconds:>12.2f} s  {met(seconds, FINDER_TARGET_S)} ({label}; "
                     f"answers on {w.target_finder_replications[label]} replications)")
    return "\n".join(lines)
