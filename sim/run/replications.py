"""How many replications: as many as the headline figures need for a stated precision.

A mean over replications is an estimate; more replications narrow its confidence interval,
at the cost of time.  The *confidence interval method* of choosing replications (Robinson,
*Simulation: The Practice of Model Development and Use*, ch. 9; Hoad, Robinson & Davies,
"Automated selection of the number of replications for a discrete-event simulation", JORS 61,
2010) runs replications in batches and stops when, for every figure that matters, the
half-width of the confidence interval of the mean is within a stated percentage of the mean:

    t(1 - a/2, n - 1) * s / sqrt(n)  <=  precision * |mean|

with a minimum (so that the 5th-95th percentile band has enough replications to be drawn)
and a maximum (so that a noisy scenario cannot run for ever; the result then says which
figure fell short and by how much).

The figures judged are the app's headline figures in **every** reported financial year
(:data:`PRECISION_KPIS`).  The adopter gap is left out: it is a difference of two stocks that
passes through zero, where a percentage of the mean means nothing; its two parts, approved
adopters waiting and children waiting, are judged instead.

Each replication is a pure function of (scenario, replication number), so ``n`` replications
run in batches are figure for figure the ``n`` replications of one run: choosing the count
this way changes how many replications are run, never their results.  After each batch the
next one is sized by the usual projection ``n = (t s / (precision * mean))^2`` for the figure
furthest from its precision (at least one batch more, at most the maximum), so that a run
needs few rounds; a batch at most doubles the count, since a projection from few
replications is itself uncertain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from statistics import NormalDist

import numpy as np

from sim.model.kpis import KPI_BY_NAME
from sim.run.execution import run_replications
from sim.run.options import RunOptions
from sim.run.runner import Results, event_table, replication_table, summarise
from sim.scenario.calendar import financial_year_label
from sim.scenario.files import scenario_from_dict
from sim.scenario.parameters import Scenario

#: Figures whose means must reach the precision, in every reported year: the app's headline
#: figures less the adopter gap (see the module's description).
PRECISION_KPIS: tuple[str, ...] = ("approvals", "adopters_waiting", "children_waiting_with_po", "a10_days",
                                   "a2_days", "interagency_fees_gbp")


@dataclass(frozen=True)
class Precision:
    """The stated precision and the limits on the count.

    ``percent``: the confidence interval's half-width as a percentage of the mean (assumption:
    15%; the textbook figure is 5-10%, but on the built-in baseline interagency fees, a few
    placements a year at £35,000-£70,000 each, needed 80 to 130 replications at 10% in
    trials, and the app's answer would take well over two seconds on
    two cores, while a 15% precision of the mean is small beside the 5th-95th percentile band
    the planner reads, about ±80% of the mean for those fees).  ``confidence``: the
    interval's level, 90% like every interval the model reports.  ``minimum``: 20
    replications (assumption: fewer leave the 5th and 95th percentiles resting on one or two
    replications).  ``maximum``: 200 (assumption: twice the count used before the precision
    rule, about 3 seconds of computing on two cores).
    ``batch``: replications added at least after each check.
    """

    percent: float = 15.0
    confidence: float = 0.90
    minimum: int = 20
    maximum: int = 200
    batch: int = 10
    kpis: tuple[str, ...] = PRECISION_KPIS

    def __post_init__(self):
        if not 0 < self.percent <= 100:
            raise ValueError(f"precision: the percentage must be above 0 and at most 100, got {self.percent}")
        if not 0.5 <= self.confidence < 1:
            raise ValueError(f"precision: the confidence must be from 0.5 to below 1, got {self.confidence}")
        if not 2 <= self.minimum <= self.maximum:
            raise ValueError(f"precision: need 2 <= minimum ({self.minimum}) <= maximum ({self.maximum})")
        if self.batch < 1:
            raise ValueError(f"precision: the batch must be at least 1, got {self.batch}")
        unknown = [k for k in self.kpis if k not in KPI_BY_NAME]
        if unknown:
            raise ValueError(f"precision: unknown measure {', '.join(unknown)}")

    def describe(self) -> str:
        return (f"the {self.confidence:.0%} confidence interval of each headline figure's mean within "
                f"{self.percent:g}% of the mean in every year")


#: The precision the app and the command line use unless a count is given.
DEFAULT_PRECISION = Precision()


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom (Cornish-Fisher
    expansion about the normal; within 0.1% of exact for df >= 5, which the minimum ensures;
    SciPy would do it exactly but takes seconds to import)."""
    z = NormalDist().inv_cdf(p)
    v = float(df)
    return (z + (z ** 3 + z) / (4 * v) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * v ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * v ** 3))


@dataclass(frozen=True)
class Check:
    """The precision reached by ``replications`` replications."""

    replications: int
    precise: bool
    worst: str  # the figure furthest from its precision, as "A2 (days) 2024-25"
    worst_percent: float  # its half-width as a percentage of its mean
    needed: int  # projected replications for every figure to be precise (at least ``replications``)


def check(values: np.ndarray, labels: list[str], precision: Precision) -> Check:
    """Judge a replications x figures table (NaN where a figure is undefined in a replication).

    A figure with no spread is precise whatever its mean; one with spread and a zero mean
    cannot be (its percentage is infinite); a figure undefined in all but one replication is
    not judged.
    """
    values = np.asarray(values, dtype=float)
    n = np.sum(~np.isnan(values), axis=0)
    judged = n >= 2
    if not judged.any():
        return Check(len(values), True, "", 0.0, len(values))
    v, n, labels = values[:, judged], n[judged], [lb for lb, j in zip(labels, judged) if j]
    mean = np.nanmean(v, axis=0)
    sd = np.nanstd(v, axis=0, ddof=1)
    t = np.array([t_quantile(0.5 + precision.confidence / 2, k - 1) for k in n])
    half = t * sd / np.sqrt(n)
    allowed = precision.percent / 100 * np.abs(mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(half == 0, 0.0, 100 * half / np.abs(mean))
        need = np.where(half == 0, 0.0, (t * sd / allowed) ** 2)
    i = int(np.argmax(pct))
    needed = max(len(values), int(math.ceil(float(np.max(need))))) if np.isfinite(np.max(need)) else math.inf
    return Check(len(values), bool(np.all(half <= allowed)), labels[i], float(pct[i]), needed)


def next_count(current: Check, precision: Precision) -> int | None:
    """How many replications to have after the next batch, or ``None`` to stop (precise, or at
    the maximum).  The next count is the projection rounded up to whole batches: at least one
    batch more, at most twice as many as now (a projection from few replications is itself
    uncertain, and overshooting costs time) and at most the maximum."""
    if current.precise or current.replications >= precision.maximum:
        return None
    target = min(current.needed, 2 * current.replications, precision.maximum)
    batches = max(1, math.ceil((target - current.replications) / precision.batch))
    return min(precision.maximum, current.replications + batches * precision.batch)


def stopping_point(values: np.ndarray, labels: list[str], precision: Precision) -> Check:
    """The stopping rule applied to a given sequence of replications (a replications x figures
    table, in replication order): where it stops, and the precision there.  The run uses the
    same rule on replications as they arrive (:func:`run_to_precision`)."""
    n = min(precision.minimum, len(values))
    while True:
        state = check(values[:n], labels, precision)
        following = next_count(state, precision)
        if following is None or n >= len(values):
            return state
        n = min(following, len(values))


@dataclass(frozen=True)
class ReplicationChoice:
    """How many replications were run, and why (for the app and the command line to say)."""

    replications: int
    precision: Precision
    reached: Check

    def text(self) -> str:
        n = f"{self.replications} replication{'' if self.replications == 1 else 's'}"
        p, c = self.precision, self.reached
        if c.precise:
            return f"{n}: enough for {p.describe()} (the widest, {c.worst}, within {c.worst_percent:.1f}%)"
        return (f"{n}, the most allowed, short of {p.describe()}: {c.worst} is within {c.worst_percent:.1f}%; "
                "give more replications to narrow it")


def precision_table(results: list, year_labels: list[str], precision: Precision) -> tuple[np.ndarray, list[str]]:
    """The replications x figures table the rule judges (each precision KPI in each reported
    year), and the figures' names ("A2 (days) 2024-25")."""
    years = len(year_labels)
    table = np.array([[r.kpis[k][y] for k in precision.kpis for y in range(years)] for r in results], dtype=float)
    labels = [f"{KPI_BY_NAME[k].label} ({KPI_BY_NAME[k].unit}) {fy}" for k in precision.kpis for fy in year_labels]
    return table.reshape(len(results), len(labels)), labels


def at_least(count: int, precision: Precision = DEFAULT_PRECISION) -> Precision:
    """``precision`` run to at least ``count`` replications (never beyond its maximum): a scenario
    compared with a reference of ``count`` replications then has a pair for each of them."""
    return replace(precision, minimum=min(max(precision.minimum, count), precision.maximum))


def run_to_precision(scenario: Scenario, precision: Precision = DEFAULT_PRECISION, years: int | None = None,
                     seed: int | None = None, options: RunOptions | None = None, **run_options) -> Results:
    """Run ``scenario`` in batches until its headline figures reach ``precision``.

    Returns the tables :func:`sim.run.runner.run_scenario` would give for the count chosen
    (``results.scenario.scenario.replications``), with ``results.choice`` saying why.
    ``options`` (or the same as keywords) as in :class:`sim.run.options.RunOptions`; its
    ``progress(done, total)`` counts replications, ``total`` being the count planned so far.
    """
    opts = RunOptions.of(options, **run_options)
    progress = opts.progress
    data = scenario.model_dump()
    data["scenario"].update({k: v for k, v in (("years", years), ("seed", seed)) if v is not None})
    scenario = scenario_from_dict(data, "options")
    run = scenario.scenario
    year_labels = [financial_year_label(run.start_year + y) for y in range(run.years)]
    results: list = []
    target = precision.minimum
    while True:
        done = len(results)

        def step(k: int, _total: int, done=done, target=target) -> None:
            if progress:
                progress(done + k, target)

        results += run_replications(scenario, range(done, target), replace(opts, progress=step))
        reached = check(*precision_table(results, year_labels, precision), precision)
        target = next_count(reached, precision)
        if target is None:
            break
    data["scenario"]["replications"] = len(results)
    reps = replication_table(results, year_labels)
    return Results(scenario=scenario_from_dict(data, "options"), summary=summarise(reps), replications=reps,
                   events=event_table(results) if opts.event_log else None,
                   choice=ReplicationChoice(len(results), precision, reached))


def why(results: Results) -> str:
    """How many replications ``results`` has, and why: the precision reached, or as asked."""
    if results.choice is not None:
        return results.choice.text()
    n = results.scenario.scenario.replications
    return f"{n} replication{'' if n == 1 else 's'}, as asked"
