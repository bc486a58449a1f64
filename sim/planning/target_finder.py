"""Recruitment target finder: the fewest enquiries a month that keep a measure within a limit.

The question a service planner asks is "how many adopters must we recruit to keep children's
waits under the threshold (or interagency spend under budget)?".  The finder answers it by
simulation: it runs the scenario at different levels of enquiries a month, every run with
the same seed (common random numbers, so the levels differ by the lever and not by chance),
and bisects for the smallest level at which the measure meets the limit.

The planner's target is a dated change: enquiries a month *from* a date (a financial year or
a month, by default the first year after the base year), the base year and the warm-up
running on the baseline as always (:func:`sim.planning.levers.set_from`).  The limit is met

* in one financial year (``year``), or
* on average over the horizon (``year=None``), or
* in **every** year from a given year (``every_year_from``): then the measure a level is
  judged by is its worst year's (the highest mean, and separately the highest 95th
  percentile), and approvals are their average over those years.

Today's level (by default the scenario's enquiries a month at the from date; the app gives
its baseline's, where the agency is now) is run too, held from that date: the result says
when it already meets the limit, so no extra recruitment is needed.

Two answers are given:

* where the **mean** over replications meets the limit (on average the service is within it);
* where the **95th percentile** meets it (in 95 of 100 simulated futures it is within it):
  the recruitment needed allowing for uncertainty.

Both are found to within ``tolerance`` enquiries a month, and each comes with the approvals a
year it produces (mean and 90% interval), since services set approval targets too.  The
measures are assumed to fall as recruitment rises (the monotone tests check this for A2 and
interagency spend); with finite replications the response is not perfectly smooth, so the
answer is a level, not a precise point.  If the limit cannot be met within the search range
(for example when assessing social workers, not enquiries, limit approvals), the finder
says so rather than inventing a number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sim.model.kpis import KPI_BY_NAME
from sim.planning.comparison import by_replication, describe, period_values
from sim.planning.levers import ENQUIRIES, default_start, in_force, set_from, start_index
from sim.run.runner import Results, run_scenario
from sim.scenario.parameters import Scenario, field_info

#: The most enquiries a month the finder searches up to: the most a scenario may have.
SEARCH_MAX: float = float(field_info("adopters", "enquiries_per_month")["max"])

#: Measures a target can be set on (all: smaller is better), with a default limit.
MEASURES: dict[str, float] = {
    "a2_days": 121.0,
    "a10_days": 426.0,
    "children_waiting_over_18_months": 0.0,
    "children_waiting_with_po": 15.0,
    "interagency_fees_gbp": 500_000.0,
    "interagency_net_gbp": 500_000.0,
}


@dataclass
class Evaluation:
    enquiries_per_month: float
    measure: dict  # mean, p5, p95, n of the measure (and worst_year, in every-year mode)
    approvals: dict  # mean, p5, p95, n of approvals a year


@dataclass
class TargetResult:
    kpi: str
    limit: float
    year: int | None
    tolerance: float
    search_max: float
    baseline_enquiries: float  # today's level: the scenario's enquiries a month at the from date
    mean_level: float | None  # smallest enquiries a month where the mean meets the limit
    p95_level: float | None  # ... where the 95th percentile meets it
    evaluations: list[Evaluation] = field(default_factory=list)
    start: str = ""  # from when the target's enquiries apply
    every_year_from: int | None = None  # every year from this one (1 = the base year)
    today: Evaluation | None = None  # at today's level (baseline_enquiries)

    @property
    def today_meets_mean(self) -> bool:
        """Today's level already meets the limit on average: no extra recruitment needed."""
        return self.today is not None and _within(self.today.measure["mean"], self.limit)

    @property
    def today_meets_p95(self) -> bool:
        """... and in 95 of 100 simulated futures."""
        return self.today is not None and _within(self.today.measure["p95"], self.limit)

    def at(self, level: float | None) -> Evaluation | None:
        for e in self.evaluations:
            if level is not None and abs(e.enquiries_per_month - level) < 1e-9:
                return e
        return None

    @property
    def label(self) -> str:
        return KPI_BY_NAME[self.kpi].label

    def table(self):
        """The evaluations, sorted by enquiries a month (for a chart)."""
        import pandas as pd
        rows = [{"enquiries_per_month": e.enquiries_per_month, "mean": e.measure["mean"], "p5": e.measure["p5"],
                 "p95": e.measure["p95"], "approvals_mean": e.approvals["mean"], "approvals_p5": e.approvals["p5"],
                 "approvals_p95": e.approvals["p95"]} for e in self.evaluations]
        return pd.DataFrame(rows).sort_values("enquiries_per_month").reset_index(drop=True)


def _within(value: float, limit: float) -> bool:
    return bool(not np.isnan(value) and value <= limit)


def _with_enquiries(scenario: Scenario, enquiries: float, start: str) -> Scenario:
    """The scenario with ``enquiries`` a month from ``start`` (a dated change)."""
    return set_from(scenario, ENQUIRIES, float(enquiries), start, note="recruitment target")


def _every_year(results: Results, kpi: str, first: int) -> dict:
    """The worst year from year ``first`` on: the highest mean (with that year's interval) and,
    separately, the highest 95th percentile."""
    table = by_replication(results, kpi)
    per_year = [(results.years[y - 1], describe(table[y])) for y in table.columns if y >= first]
    worst_label, worst = max(per_year, key=lambda p: -np.inf if np.isnan(p[1]["mean"]) else p[1]["mean"])
    p95s = [d["p95"] for _, d in per_year if not np.isnan(d["p95"])]
    return {**worst, "p95": max(p95s) if p95s else np.nan, "worst_year": worst_label}


def _approvals_from(results: Results, first: int) -> dict:
    """Approvals a year, each replication's average over the years from ``first``."""
    table = by_replication(results, "approvals")
    return describe(table[[y for y in table.columns if y >= first]].mean(axis=1))


def find_recruitment_target(scenario: Scenario, kpi: str, limit: float, year: int | None = None,
                            replications: int | None = None, years: int | None = None,
                            search_max: float | None = None, tolerance: float | None = None,
                            engine: str = "serial",
                            progress: Callable[[int, int], None] | None = None,
                            start: str | None = None, every_year_from: int | None = None,
                            today: float | None = None) -> TargetResult:
    """Bisect enquiries a month from ``start`` in [0, ``search_max``] for the smallest level at
    which the measure's mean (and, separately, its 95th percentile) is at or below ``limit``.

    ``start`` is when the target's enquiries apply (a financial year "2023-24" or a month
    "2023-10"; default the first year after the base year).  ``year`` is a reported financial
    year (1 = the base year) or ``None`` for the average over the horizon; ``every_year_from``
    (a year, overriding ``year``) asks for the limit in every year from that one to the end.
    ``today`` is today's enquiries a month (default: the scenario's at ``start``), run too to
    say whether the limit is already met.  ``search_max`` defaults to four times today's
    enquiries (at most :data:`SEARCH_MAX`, the most a scenario may have); ``tolerance`` to 2% of them (at least 0.25 a month).
    """
    if kpi not in KPI_BY_NAME:
        raise ValueError(f"unknown measure {kpi!r}")
    start = (start or "").strip() or default_start(scenario)
    month = start_index(scenario, start, "Recruitment target")
    horizon = years or scenario.scenario.years
    if every_year_from is not None and not 1 <= every_year_from <= horizon:
        raise ValueError(f"every year from year {every_year_from}: outside the horizon (1 to {horizon})")
    base = float(today if today is not None else in_force(scenario, month).adopters.enquiries_per_month)
    hi = float(search_max if search_max is not None else min(SEARCH_MAX, max(4.0 * base, 20.0)))
    tol = float(tolerance if tolerance is not None else max(0.25, 0.02 * base))
    # bisection steps for each answer, plus the two ends: an upper bound for the progress bar
    steps = int(np.ceil(np.log2(max(hi / tol, 2.0))))
    budget = 3 + 2 * steps
    cache: dict[float, Evaluation] = {}

    def judge(level: float, res: Results) -> Evaluation:
        if every_year_from is not None:
            return Evaluation(level, _every_year(res, kpi, every_year_from), _approvals_from(res, every_year_from))
        return Evaluation(level, describe(period_values(res, kpi, year)), describe(period_values(res, "approvals", year)))

    def evaluate(level: float) -> Evaluation:
        level = round(level, 6)
        if level not in cache:
            res = run_scenario(_with_enquiries(scenario, level, start), replications=replications, years=years,
                               engine=engine)
            cache[level] = judge(level, res)
            if progress:
                progress(min(len(cache), budget), budget)
        return cache[level]

    def meets(level: float, stat: str) -> bool:
        return _within(evaluate(level).measure[stat], limit)

    now = evaluate(base)

    def smallest(stat: str, lo: float, hi_: float) -> float | None:
        if not meets(hi_, stat):
            return None
        if meets(lo, stat):
            return lo
        while hi_ - lo > tol:
            mid = (lo + hi_) / 2
            if meets(mid, stat):
                hi_ = mid
            else:
                lo = mid
        return round(hi_, 6)

    mean_level = smallest("mean", 0.0, hi)
    # the 95th percentile is never below the mean, so its answer is not below the mean's
    p95_level = smallest("p95", mean_level if mean_level is not None else 0.0, hi) if mean_level is not None \
        else None
    if progress:
        progress(budget, budget)
    return TargetResult(kpi=kpi, limit=float(limit), year=None if every_year_from is not None else year,
                        tolerance=tol, search_max=hi, baseline_enquiries=base, mean_level=mean_level,
                        p95_level=p95_level, evaluations=sorted(cache.values(), key=lambda e: e.enquiries_per_month),
                        start=start, every_year_from=every_year_from, today=now)
