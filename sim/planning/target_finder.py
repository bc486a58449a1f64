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
    opts = RunOptions.of(options, **run_options)
    progress = opts.progress
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
    data = scenario.model_dump()
    if years:
        data["scenario"]["years"] = years
    levels = scenario_from_dict(data, "options")
    labels = [financial_year_label(levels.scenario.start_year + y) for y in range(horizon)]
    by_precision = precision is not None and replications is None
    full = int(replications or (precision.minimum if by_precision else levels.scenario.replications))
    screen = max(2, min(screen_replications, full))
    steps = int(np.ceil(np.log2(max(hi / tol, 2.0))))
    runs: dict[float, list] = {}  # replication results by level, replication 0 on (common random numbers)
    judged: dict[tuple[float, int], Evaluation] = {}
    clear: dict[tuple[float, int], bool] = {}  # whether the mean misses the limit beyond doubt
    done = 0

    def report(running: int = 0) -> None:
        """Progress in replications: done so far, of about today's level, both searches (ends and
        steps) and two confirming runs each."""
        if progress:
            planned = full + 2 * (steps + 2) * screen + 4 * (full - screen)
            progress(done + running, max(done + running, planned))

    def replications_at(level: float, n: int) -> list:
        nonlocal done
        have = runs.setdefault(level, [])
        if len(have) < n:
            more = run_replications(_with_enquiries(levels, level, start), range(len(have), n),
                                    replace(opts, progress=lambda k, _t: report(k), share_history=True))
            have.extend(more)
            done += len(more)
            report()
        return have[:n]

    def evaluate(level: float, n: int) -> Evaluation:
        level = round(level, 6)
        if (level, n) not in judged:
            reps = replications_at(level, n)
            approvals = _by_year(reps, "approvals")
            if every_year_from is not None:
                measure = _every_year(_by_year(reps, kpi), labels, every_year_from)
                approval = _approvals_from(approvals, every_year_from)
            else:
                measure = describe(_period(_by_year(reps, kpi), year))
                approval = describe(_period(approvals, year))
            judged[level, n] = Evaluation(level, measure, approval, n)
            table = _by_year(reps, kpi)
            judged_years = [y for y in table.columns if y >= every_year_from] if every_year_from else [year]
            clear[level, n] = (any(_mean_above(table[y].to_numpy(), limit) for y in judged_years)
                               if every_year_from else _mean_above(_period(table, year), limit))
        return judged[level, n]

    def misses_clearly(level: float, stat: str) -> bool:
        """On the bracketing replications the mean misses the limit beyond doubt (its 90%
        confidence interval, in some judged year, lies wholly above it): no full run is needed
        to know that ``level`` is not enough."""
        level = round(level, 6)
        evaluate(level, screen)
        return stat == "mean" and clear[level, screen]

    def meets(level: float, stat: str, n: int) -> bool:
        return _within(evaluate(level, n).measure[stat], limit)

    report()
    if by_precision:  # today's level, run to the precision (sim.run.replications); its count judges every answer
        while True:
            reached = check(*precision_table(replications_at(round(base, 6), full), labels, precision), precision)
            following = next_count(reached, precision)
            if following is None:
                break
            full = following
        screen = max(2, min(screen_replications, full))
    now = evaluate(base, full)

    def halve(stat: str, lo: float, top: float, n: int) -> tuple[float, float]:
        """Bisect between a level that misses the limit (``lo``) and one that meets it (``top``),
        on ``n`` replications, until they are within the tolerance."""
        while top - lo > tol + 1e-9:
            mid = round((lo + top) / 2, 6)
            if meets(mid, stat, n):
                top = mid
            else:
                lo = mid
        return lo, round(top, 6)

    def confirmed(stat: str, candidate: float, floor: float, known_top: float | None) -> float | None:
        """The bracketed answer checked on the full replications: it stands when it meets the
        limit there and the level one tolerance below does not; otherwise the full runs bisect
        on from there (below it, or up to ``known_top``, a level known to meet in full, else the
        top of the range)."""
        if meets(candidate, stat, full):
            if candidate <= floor:
                return floor
            below = max(floor, round(candidate - tol, 6))
            if not meets(below, stat, full):
                return candidate
            top, step = below, 2 * tol  # it meets too: step down, doubling, to a level that misses
            while True:
                low = max(floor, round(top - step, 6))
                if low <= floor and meets(floor, stat, full):
                    return floor
                if low <= floor or not meets(low, stat, full):
                    return halve(stat, low, top, full)[1]
                top, step = low, 2 * step
        top = known_top if known_top is not None else hi
        if candidate >= top or not meets(top, stat, full):
            return None
        return halve(stat, candidate, top, full)[1]

    def smallest(stat: str, floor: float) -> float | None:
        """The smallest level from ``floor`` up at which ``stat`` meets the limit: today's level
        (run in full) splits the range, the bracketing replications narrow the side the answer
        is on, the full ones confirm it."""
        lo, top, known_top = floor, hi, None
        if floor < round(base, 6) < hi:
            if meets(base, stat, full):
                top = known_top = round(base, 6)
            else:
                lo = round(base, 6)
        if known_top is None and not meets(hi, stat, screen):
            if misses_clearly(hi, stat) or not meets(hi, stat, full):
                return None
            known_top = hi
        if lo == floor and meets(floor, stat, screen):
            return confirmed(stat, floor, floor, known_top)
        return confirmed(stat, halve(stat, lo, top, screen)[1], floor, known_top)

    mean_level = smallest("mean", 0.0)
    # the 95th percentile is never below the mean, so its answer is not below the mean's
    p95_level = smallest("p95", mean_level) if mean_level is not None else None
    if progress:
        progress(done, done)
    finals = sorted((e for (_, n), e in judged.items() if n == full), key=lambda e: e.enquiries_per_month)
    return TargetResult(kpi=kpi, limit=float(limit), year=None if every_year_from is not None else year,
                        tolerance=tol, search_max=hi, baseline_enquiries=base, mean_level=mean_level,
                        p95_level=p95_level, evaluations=finals, start=start, every_year_from=every_year_from,
                        today=now, replications=full, screen_replications=screen)
