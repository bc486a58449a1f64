"""Recruitment target finder: the fewest enquiries a month that keep a measure within a limit.

The question a service planner asks is "how many adopters must we recruit to keep children's
waits under the threshold (or interagency spend under budget)?".  The finder answers it by
simulation: it runs the scenario at different levels of enquiries a month, every run with
the same seed (common random numbers, so the levels differ by the lever and not by chance),
and searches for the smallest level at which the measure meets the limit.

The search is in two steps, so that it answers in seconds:

1. **Bracketing on a few replications.**  Today's level, run on all the replications, splits
   the range (the measure falls as recruitment rises, so the answer is below today's level
   when today meets the limit, above it otherwise).  Replications 0 to
   ``screen_replications - 1`` of each level (20 by default) then halve that side until the
   bracket is within the tolerance.  With common random numbers the levels differ by the lever
   alone, so a few replications order them well even where each level's own interval is
   wide.  (Bisection rather than a secant: where capacity, not enquiries, limits approvals
   the response is flat over a long stretch and steep elsewhere, and a secant step then
   creeps along one end.)
2. **Confirming on the full replications.**  The answer, and the level one tolerance below
   it, are run on all the replications (continuing the same replications, so the first
   ones are not run again).  When they agree with the bracket (the answer meets the limit,
   the level below does not) that is the answer; otherwise the full runs bisect on from
   there.  Every answer and today's level are judged on the full replications; the
   bracketing runs only guide where to look, except that when the top of the range misses
   the limit beyond doubt on them (the 90% confidence interval of its mean lies wholly above
   the limit) it is not run again in full to show that recruitment cannot get there.  Where the response is flat the
   few and the full replications can place the crossing far apart; the full runs decide.

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

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from sim.model.kpis import KPI_BY_NAME
from sim.planning.comparison import describe
from sim.planning.levers import ENQUIRIES, default_start, in_force, set_from, start_index
from sim.run.execution import run_replications
from sim.run.options import RunOptions
from sim.run.replications import Precision, check, next_count, precision_table, t_quantile
from sim.scenario.calendar import financial_year_label
from sim.scenario.files import scenario_from_dict
from sim.scenario.parameters import Scenario, field_info

#: The most enquiries a month the finder searches up to: the most a scenario may have.
SEARCH_MAX: float = float(field_info("adopters", "enquiries_per_month")["max"])

#: Replications per level while bracketing (assumption: with common random numbers 20 order
#: levels a tolerance apart reliably; the answer is then confirmed on the full replications).
SCREEN_REPLICATIONS = 20

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
    replications: int = 0  # how many replications it rests on


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
    replications: int = 0  # replications every answer and today's level are judged on
    screen_replications: int = 0  # replications per level while bracketing

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
        rows = [{"enquiries_per_month": e.enquiries_per_month, "mean": e.measure["mean"], "p5": e.measure["p5"],
                 "p95": e.measure["p95"], "approvals_mean": e.approvals["mean"], "approvals_p5": e.approvals["p5"],
                 "approvals_p95": e.approvals["p95"]} for e in self.evaluations]
        return pd.DataFrame(rows).sort_values("enquiries_per_month").reset_index(drop=True)


def _within(value: float, limit: float) -> bool:
    return bool(not np.isnan(value) and value <= limit)


def _with_enquiries(scenario: Scenario, enquiries: float, start: str) -> Scenario:
    """The scenario with ``enquiries`` a month from ``start`` (a dated change)."""
    return set_from(scenario, ENQUIRIES, float(enquiries), start, note="recruitment target")


def _by_year(runs: list, kpi: str) -> pd.DataFrame:
    """A replication x year table of one KPI (years numbered from 1), from replication results."""
    values = np.array([r.kpis[kpi] for r in runs], dtype=float)
    return pd.DataFrame(values, index=[r.replication for r in runs], columns=range(1, values.shape[1] + 1))


def _period(table: pd.DataFrame, year: int | None) -> np.ndarray:
    """Each replication's figure in ``year``, or its average over the horizon (``None``)."""
    if year is not None:
        return table[year].to_numpy()
    with np.errstate(all="ignore"):
        return np.nanmean(table.to_numpy(dtype=float), axis=1)


def _mean_above(values: np.ndarray, limit: float) -> bool:
    """Whether the 90% confidence interval of the mean of ``values`` lies wholly above ``limit``."""
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return False
    half = t_quantile(0.95, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return bool(values.mean() - half > limit)


def _every_year(table: pd.DataFrame, labels: list[str], first: int) -> dict:
    """The worst year from year ``first`` on: the highest mean (with that year's interval) and,
    separately, the highest 95th percentile."""
    per_year = [(labels[y - 1], describe(table[y])) for y in table.columns if y >= first]
    worst_label, worst = max(per_year, key=lambda p: -np.inf if np.isnan(p[1]["mean"]) else p[1]["mean"])
    p95s = [d["p95"] for _, d in per_year if not np.isnan(d["p95"])]
    return {**worst, "p95": max(p95s) if p95s else np.nan, "worst_year": worst_label}


def _approvals_from(table: pd.DataFrame, first: int) -> dict:
    """Approvals a year, each replication's average over the years from ``first``."""
    return describe(table[[y for y in table.columns if y >= first]].mean(axis=1))


def find_recruitment_target(scenario: Scenario, kpi: str, limit: float, year: int | None = None,
                            replications: int | None = None, years: int | None = None,
                            search_max: float | None = None, tolerance: float | None = None,
                            start: str | None = None, every_year_from: int | None = None,
                            today: float | None = None, precision: Precision | None = None,
                            screen_replications: int = SCREEN_REPLICATIONS, options: RunOptions | None = None,
                            **run_options) -> TargetResult:
    """The smallest enquiries a month from ``start`` in [0, ``search_max``] at which the measure's
    mean (and, separately, its 95th percentile) is at or below ``limit``.

    ``start`` is when the target's enquiries apply (a financial year "2023-24" or a month
    "2023-10"; default the first year after the base year).  ``year`` is a reported financial
    year (1 = the base year) or ``None`` for the average over the horizon; ``every_year_from``
    (a year, overriding ``year``) asks for the limit in every year from that one to the end.
    ``today`` is today's enquiries a month (default: the scenario's at ``start``), run too to
    say whether the limit is already met.  ``search_max`` defaults to four times today's
    enquiries (at most :data:`SEARCH_MAX`, the most a scenario may have); ``tolerance`` to 2% of
    them (at least 0.25 a month).

    Every answer and today's level are judged on ``replications`` (default: the scenario's)
    or, with ``precision`` and no count, on as many as today's level needs for that precision
    (:mod:`sim.run.replications`).  The search itself runs ``screen_replications`` of them
    (see the module's description).  ``options`` (or the same as keywords) as in
    :class:`sim.run.options.RunOptions`; its ``progress(done, total)`` counts replications, and
    the levels share their histories (each is the scenario with other enquiries from ``start``).
    """
    if kpi not in KPI_BY_NAME:
        raise ValueError(f"unknown measure {kpi!r}")
    start = (start or "").strip() or default_start(scenario)
    month = start_index(scenario, start, "Recruitment target")
    horizon = years or scenario.scenario.years
    if every_year_from is not None and not 1 <= every_year_from <= horizon:
        raise ValueError(f"every year from year {every_year_from}: outside the horizon (1 to {horizon})")
    base = float(today if today is not None else in_force(scenario, month).adopters.enquiries_per_month)
    data = scenario.model_dump()
    if years:
        data["scenario"]["years"] = years
    search = TargetSearch(
        levels=scenario_from_dict(data, "options"), kpi=kpi, limit=float(limit), year=year,
        every_year_from=every_year_from, start=start, today=base,
        search_max=float(search_max if search_max is not None else min(SEARCH_MAX, max(4.0 * base, 20.0))),
        tolerance=float(tolerance if tolerance is not None else max(0.25, 0.02 * base)),
        replications=replications, precision=precision, screen_replications=screen_replications,
        options=RunOptions.of(options, **run_options))
    return search.run()


class TargetSearch:
    """One search of :func:`find_recruitment_target`: the runs it has made (by level, on common
    random numbers), how each level was judged, and the steps that bracket and confirm the answers."""

    def __init__(self, levels: Scenario, kpi: str, limit: float, year: int | None, every_year_from: int | None,
                 start: str, today: float, search_max: float, tolerance: float, replications: int | None,
                 precision: Precision | None, screen_replications: int, options: RunOptions):
        self.levels, self.kpi, self.limit, self.year = levels, kpi, limit, year
        self.every_year_from, self.start, self.base = every_year_from, start, today
        self.hi, self.tol, self.precision, self.options = search_max, tolerance, precision, options
        horizon = levels.scenario.years
        self.labels = [financial_year_label(levels.scenario.start_year + y) for y in range(horizon)]
        self.by_precision = precision is not None and replications is None
        self.full = int(replications or (precision.minimum if self.by_precision else levels.scenario.replications))
        self.screen_replications = screen_replications
        self.screen = max(2, min(screen_replications, self.full))
        self.steps = int(np.ceil(np.log2(max(search_max / tolerance, 2.0))))
        self.runs: dict[float, list] = {}  # replication results by level, replication 0 on (common random numbers)
        self.judged: dict[tuple[float, int], Evaluation] = {}
        self.clear: dict[tuple[float, int], bool] = {}  # whether the mean misses the limit beyond doubt
        self.done = 0

    def run(self) -> TargetResult:
        """Today's level (run to the precision asked, if any), then the smallest level at which the
        mean meets the limit, and from there the smallest at which the 95th percentile does."""
        self.report()
        if self.by_precision:  # today's level run to the precision; its count judges every answer
            while True:
                table = precision_table(self.replications_at(round(self.base, 6), self.full), self.labels,
                                        self.precision)
                following = next_count(check(*table, self.precision), self.precision)
                if following is None:
                    break
                self.full = following
            self.screen = max(2, min(self.screen_replications, self.full))
        now = self.evaluate(self.base, self.full)
        mean_level = self.smallest("mean", 0.0)
        # the 95th percentile is never below the mean, so its answer is not below the mean's
        p95_level = self.smallest("p95", mean_level) if mean_level is not None else None
        if self.options.progress:
            self.options.progress(self.done, self.done)
        finals = sorted((e for (_, n), e in self.judged.items() if n == self.full),
                        key=lambda e: e.enquiries_per_month)
        return TargetResult(kpi=self.kpi, limit=self.limit, year=None if self.every_year_from is not None else self.year,
                            tolerance=self.tol, search_max=self.hi, baseline_enquiries=self.base,
                            mean_level=mean_level, p95_level=p95_level, evaluations=finals, start=self.start,
                            every_year_from=self.every_year_from, today=now, replications=self.full,
                            screen_replications=self.screen)

    def report(self, running: int = 0) -> None:
        """Progress in replications: done so far, of about today's level, both searches (ends and
        steps) and two confirming runs each."""
        if self.options.progress:
            planned = self.full + 2 * (self.steps + 2) * self.screen + 4 * (self.full - self.screen)
            self.options.progress(self.done + running, max(self.done + running, planned))

    def replications_at(self, level: float, n: int) -> list:
        """The first ``n`` replications at ``level`` (run now where they are not yet), sharing their
        histories with the other levels'."""
        have = self.runs.setdefault(level, [])
        if len(have) < n:
            more = run_replications(_with_enquiries(self.levels, level, self.start), range(len(have), n),
                                    replace(self.options, progress=lambda k, _t: self.report(k), share_history=True))
            have.extend(more)
            self.done += len(more)
            self.report()
        return have[:n]

    def evaluate(self, level: float, n: int) -> Evaluation:
        """The measure and the approvals at ``level`` over ``n`` replications (judged once)."""
        level = round(level, 6)
        if (level, n) not in self.judged:
            reps = self.replications_at(level, n)
            approvals = _by_year(reps, "approvals")
            table = _by_year(reps, self.kpi)
            if self.every_year_from is not None:
                measure = _every_year(table, self.labels, self.every_year_from)
                approval = _approvals_from(approvals, self.every_year_from)
                years = [y for y in table.columns if y >= self.every_year_from]
                self.clear[level, n] = any(_mean_above(table[y].to_numpy(), self.limit) for y in years)
            else:
                measure = describe(_period(table, self.year))
                approval = describe(_period(approvals, self.year))
                self.clear[level, n] = _mean_above(_period(table, self.year), self.limit)
            self.judged[level, n] = Evaluation(level, measure, approval, n)
        return self.judged[level, n]

    def misses_clearly(self, level: float, stat: str) -> bool:
        """On the bracketing replications the mean misses the limit beyond doubt (its 90%
        confidence interval, in some judged year, lies wholly above it): no full run is needed
        to know that ``level`` is not enough."""
        level = round(level, 6)
        self.evaluate(level, self.screen)
        return stat == "mean" and self.clear[level, self.screen]

    def meets(self, level: float, stat: str, n: int) -> bool:
        return _within(self.evaluate(level, n).measure[stat], self.limit)

    def halve(self, stat: str, lo: float, top: float, n: int) -> tuple[float, float]:
        """Bisect between a level that misses the limit (``lo``) and one that meets it (``top``),
        on ``n`` replications, until they are within the tolerance."""
        while top - lo > self.tol + 1e-9:
            mid = round((lo + top) / 2, 6)
            if self.meets(mid, stat, n):
                top = mid
            else:
                lo = mid
        return lo, round(top, 6)

    def confirmed(self, stat: str, candidate: float, floor: float, known_top: float | None) -> float | None:
        """The bracketed answer checked on the full replications: it stands when it meets the
        limit there and the level one tolerance below does not; otherwise the full runs bisect
        on from there (below it, or up to ``known_top``, a level known to meet in full, else the
        top of the range)."""
        full = self.full
        if self.meets(candidate, stat, full):
            if candidate <= floor:
                return floor
            below = max(floor, round(candidate - self.tol, 6))
            if not self.meets(below, stat, full):
                return candidate
            top, step = below, 2 * self.tol  # it meets too: step down, doubling, to a level that misses
            while True:
                low = max(floor, round(top - step, 6))
                if low <= floor and self.meets(floor, stat, full):
                    return floor
                if low <= floor or not self.meets(low, stat, full):
                    return self.halve(stat, low, top, full)[1]
                top, step = low, 2 * step
        top = known_top if known_top is not None else self.hi
        if candidate >= top or not self.meets(top, stat, full):
            return None
        return self.halve(stat, candidate, top, full)[1]

    def smallest(self, stat: str, floor: float) -> float | None:
        """The smallest level from ``floor`` up at which ``stat`` meets the limit: today's level
        (run in full) splits the range, the bracketing replications narrow the side the answer
        is on, the full ones confirm it."""
        lo, top, known_top = floor, self.hi, None
        base = round(self.base, 6)
        if floor < base < self.hi:
            if self.meets(self.base, stat, self.full):
                top = known_top = base
            else:
                lo = base
        if known_top is None and not self.meets(self.hi, stat, self.screen):
            if self.misses_clearly(self.hi, stat) or not self.meets(self.hi, stat, self.full):
                return None
            known_top = self.hi
        if lo == floor and self.meets(floor, stat, self.screen):
            return self.confirmed(stat, floor, floor, known_top)
        return self.confirmed(stat, self.halve(stat, lo, top, self.screen)[1], floor, known_top)
