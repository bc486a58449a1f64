"""Scenario against baseline: changes with their 90% interval, from paired replications.

Replication *r* of every scenario with the same seed uses the same random numbers for every
activity the scenarios have in common (docs/background/model.md, "Reproducibility"), so the change a
scenario makes is best measured replication by replication: the difference in replication
*r*, then the mean and the 5th-95th percentiles of those differences.  Chance that affects
both runs alike cancels, and the interval is much narrower than comparing two independent
intervals.  Scenarios with different seeds are still compared replication by replication,
but the result says they are not paired (their interval is wider).

A *period* is either a financial year (1 = the first reported year) or ``None`` for the
whole horizon, where each replication's figure is its average over the years (a count a
year, a year-end stock on average, an average wait).  Finance totals over the horizon use
:func:`horizon_total`.

A what-if's dated changes start after the base year (year 1), whose figures are the
baseline's, replication by replication: the change there is 0 with the interval [0, 0].
:func:`default_year` is the year headline figures open on: the budget window's last year, by which
a change has had time to show.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd

from sim.model.kpis import GAP_COUNTS, KPI_BY_NAME, THRESHOLDS_DAYS, gap_of_means
from sim.planning.budget_window import window_end_year
from sim.run.runner import Results
from sim.scenario.calendar import start_month
from sim.scenario.changes import Change
from sim.scenario.parameters import Scenario

PERCENTILES = (5, 95)


def by_replication(results: Results, kpi: str) -> pd.DataFrame:
    """A replication x year table of one KPI (tables are built once per set of results)."""
    tables = results.__dict__.get("_by_replication")
    if tables is None:  # all KPIs at once: one replication x KPI x year array, cut into tables
        reps = results.replications
        rep_codes, rep_index = pd.factorize(reps["replication"], sort=True)
        kpi_codes, kpi_names = pd.factorize(reps["kpi"])
        year_codes, years = pd.factorize(reps["year"], sort=True)
        cube = np.full((len(rep_index), len(kpi_names), len(years)), np.nan)
        cube[rep_codes, kpi_codes, year_codes] = reps["value"].to_numpy(dtype=float)
        index = pd.Index(rep_index, name="replication")
        columns = pd.Index(years, name="year")
        tables = {name: pd.DataFrame(cube[:, i, :], index=index, columns=columns) for i, name in enumerate(kpi_names)}
        results.__dict__["_by_replication"] = tables
    return tables[kpi].copy()


def period_values(results: Results, kpi: str, year: int | None = None) -> pd.Series:
    """Each replication's figure for the period: one year, or the average over the horizon."""
    table = by_replication(results, kpi)
    if year is not None:
        if year not in table.columns:
            raise ValueError(f"year {year} is outside the horizon (1 to {table.columns.max()})")
        return table[year]
    with np.errstate(all="ignore"):
        values = np.nanmean(table.to_numpy(dtype=float), axis=1) if table.shape[1] else np.array([])
    return pd.Series(values, index=table.index)


def horizon_total(results: Results, kpi: str) -> pd.Series:
    """Each replication's total over the horizon (for counts and money)."""
    return by_replication(results, kpi).sum(axis=1, min_count=1)


def describe(values) -> dict[str, float]:
    """Mean, 5th and 95th percentiles and count, leaving out undefined values."""
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return {"mean": np.nan, "p5": np.nan, "p95": np.nan, "n": 0}
    p5, p95 = np.percentile(arr, PERCENTILES)
    return {"mean": float(arr.mean()), "p5": float(p5), "p95": float(p95), "n": int(arr.size)}


def is_paired(base: Results, scenario: Results) -> bool:
    """Whether the two runs share random numbers replication by replication (same seed)."""
    return base.scenario.scenario.seed == scenario.scenario.scenario.seed


def comparability_warnings(reference_name: str, reference: Results, name: str, other: Results) -> list[str]:
    """Why a change of ``other`` against ``reference`` may not mean what a board would read into it:
    a run of another agency, or one whose years are other financial years."""
    out = []
    ref_agency, agency = reference.scenario.calibration.targets_file, other.scenario.calibration.targets_file
    if agency != ref_agency:
        what = f"calibrated to {agency}" if agency else "not calibrated to any agency's report"
        out.append(f"'{name}' is {what}, the reference '{reference_name}' "
                   + (f"to {ref_agency}" if ref_agency else "to none")
                   + ": a change between them is a difference between agencies, not the effect of a what-if.")
    if other.years != reference.years:
        out.append(f"'{name}' runs {other.years[0]} to {other.years[-1]} and the reference {reference.years[0]} to "
                   f"{reference.years[-1]}: each column shows the same year of its own run, so the financial years "
                   f"differ.")
    return out


def _start(scenario: Scenario, c: Change) -> int:
    run = scenario.scenario
    return start_month(c.start, run.start_year - run.warm_up_years)


def first_change(scenario: Scenario, reference: Scenario | None = None) -> Change | None:
    """The earliest dated change in which ``scenario`` and ``reference`` differ (one has it, the
    other not); with no reference, or none differing, the earliest of ``scenario``'s own; None
    if it has none."""
    differ = [] if reference is None else (
        [c for c in scenario.change if c not in reference.change]
        + [c for c in reference.change if c not in scenario.change])
    changes = differ or list(scenario.change)
    return min(changes, key=lambda c: _start(scenario, c)) if changes else None


def change_year(scenario: Scenario, reference: Scenario | None = None) -> int | None:
    """The reported year (1 = the base year) in which :func:`first_change` starts, or None."""
    c = first_change(scenario, reference)
    if c is None:
        return None
    return _start(scenario, c) // 12 - scenario.scenario.warm_up_years + 1


def default_year(scenario: Scenario, reference: Scenario | None = None, years: int | None = None,
                 today: date | None = None) -> int:
    """The year figures open on: the last year of the budget window the run reaches (the next three
    financial years after today's, :mod:`sim.planning.budget_window`), by which a change begun now has
    had time to pass through the pipeline's lags; never before the first year a change can show (the
    financial year in which the earliest change starts, or without a change the first forecast year);
    within the ``years`` reported (default: the scenario's)."""
    years = years or scenario.scenario.years
    first = change_year(scenario, reference) or 2
    end = window_end_year(scenario.scenario.start_year, years, today)
    return max(1, min(max(first, end), years))


def paired_differences(base_values: pd.Series, scenario_values: pd.Series) -> pd.Series:
    """Scenario minus baseline, replication by replication (replications in both runs)."""
    both = pd.concat({"base": base_values, "scenario": scenario_values}, axis=1, join="inner")
    return both["scenario"] - both["base"]


def paired_values(values: dict[str, pd.Series]) -> dict[str, pd.Series]:
    """Each run's values over the replications every run has a value for, so that every mean shown
    beside a paired change comes from the same replications as the change: scenario - reference =
    change, to the rounding shown, in every output."""
    both = pd.concat(values, axis=1, join="inner").dropna()
    return {name: both[name] for name in values}


def paired_figures(runs: dict[str, Results], kpi: str, year: int | None, reference: str) -> dict[str, dict]:
    """Each run's figure (mean, p5, p95, n) and its paired change against ``reference`` (change,
    change_p5, change_p95), all over the replications every run shares (:func:`paired_values`):
    so that scenario - reference = change.  The adopter gap's mean is the gap of the mean counts
    (:func:`sim.model.kpis.gap_of_means`), its change the difference of those, its intervals the
    spread of each replication's own."""
    paired = paired_values({name: period_values(r, kpi, year) for name, r in runs.items()})
    out = {name: describe(values) for name, values in paired.items()}
    if kpi == "adopter_gap" and len(paired[reference]):
        shared = paired[reference].index
        for name, r in runs.items():
            counts = [period_values(r, c, year).reindex(shared).mean() for c in GAP_COUNTS]
            out[name]["mean"] = gap_of_means(*counts)
    for name in runs:
        if name == reference:
            out[name].update(change=0.0, change_p5=0.0, change_p95=0.0)
            continue
        d = describe(paired_differences(paired[reference], paired[name]))
        mean = out[name]["mean"] - out[reference]["mean"] if kpi == "adopter_gap" else d["mean"]
        out[name].update(change=mean, change_p5=d["p5"], change_p95=d["p95"], change_n=d["n"])
    return out


def change(base: Results, scenario: Results, kpi: str, year: int | None = None) -> dict:
    """One KPI: baseline and scenario figures, and the change with its 90% interval, all over the
    replications the two runs share (:func:`paired_figures`)."""
    figures = paired_figures({"base": base, "scenario": scenario}, kpi, year, "base")
    b, sc = figures["base"], figures["scenario"]
    k = KPI_BY_NAME[kpi]
    return {
        "kpi": kpi, "label": k.label, "unit": k.unit,
        "baseline": b["mean"],
        "scenario": sc["mean"], "scenario_p5": sc["p5"], "scenario_p95": sc["p95"],
        "change": sc["change"], "change_p5": sc["change_p5"], "change_p95": sc["change_p95"],
        "n": sc.get("change_n", sc["n"]),
        "paired": is_paired(base, scenario),
        "threshold": THRESHOLDS_DAYS.get(kpi, np.nan),
    }


def change_table(base: Results, scenario: Results, kpis: list[str], year: int | None = None) -> pd.DataFrame:
    """The headline table: one row per KPI (see :func:`change`)."""
    return pd.DataFrame([change(base, scenario, k, year) for k in kpis])


def change_by_year(base: Results, scenario: Results, kpi: str, cumulative: bool = False) -> pd.DataFrame:
    """The paired change in each year (or cumulated from year 1), with its 90% interval."""
    b, s = by_replication(base, kpi), by_replication(scenario, kpi)
    if cumulative:
        b, s = b.cumsum(axis=1), s.cumsum(axis=1)
    labels = dict(zip(base.summary["year"], base.summary["financial_year"]))
    rows = []
    for year in b.columns:
        d = describe(paired_differences(b[year], s[year]))
        rows.append({"year": int(year), "financial_year": labels[year], **d})
    return pd.DataFrame(rows)


def total_change(base: Results, scenario: Results, kpi: str) -> dict[str, float]:
    """The paired change in the horizon total of a count or money KPI."""
    return describe(paired_differences(horizon_total(base, kpi), horizon_total(scenario, kpi)))


def side_by_side(runs: dict[str, Results], kpis: list[str], year: int | None = None,
                 reference: str | None = None) -> pd.DataFrame:
    """Several scenarios in one long table: each KPI's mean and interval, and the paired
    change against the ``reference`` scenario (the first if not given), every figure over the
    replications all the runs share (:func:`paired_figures`)."""
    reference = reference or next(iter(runs))
    rows = []
    for kpi in kpis:
        k = KPI_BY_NAME[kpi]
        figures = paired_figures(runs, kpi, year, reference)
        for name in runs:
            f = figures[name]
            rows.append({"kpi": kpi, "label": k.label, "unit": k.unit, "scenario": name,
                         **{key: f[key] for key in ("mean", "p5", "p95", "n", "change", "change_p5", "change_p95")}})
    return pd.DataFrame(rows)


def uncertainty_step(width: float, significant: int = 3) -> float:
    """The rounding step a money figure's uncertainty supports: the place of the
    ``significant``-th significant figure of its 90% interval's width, and at least £1.

    An interval £236,000 to £648,345 wide (£412,345) gives steps of £1,000 with 3 figures: a
    figure quoted to the pound would claim a precision the replications do not have.  A
    figure with no spread (width 0, as before a change starts) is rounded to the pound.
    """
    if width is None or not np.isfinite(width) or width <= 0:
        return 1.0
    return max(1.0, 10.0 ** (math.floor(math.log10(width)) - significant + 1))


def round_to_uncertainty(value: float, width: float) -> float:
    """A money figure rounded to :func:`uncertainty_step` of its interval's width (never -0)."""
    if value is None or not np.isfinite(value):
        return value
    step = uncertainty_step(width)
    return float(round(float(value) / step) * step) + 0.0


def _inside(mean: float, p5: float, p95: float) -> bool:
    return p5 - 1e-9 <= mean <= p95 + 1e-9


def figure_decimals(mean: float, p5: float, p95: float, unit: str, change: bool = False) -> int | None:
    """Decimals that show a mean and its interval consistently: days and percentages whole, counts
    to one decimal, and small counts (under 1; not changes, whose interval sets their precision)
    to their first significant figure (0.04, not 0.0).  Mean and bounds are rounded to the same
    places, so the rounded mean stays inside its rounded interval.  None when the mean lies
    outside its own interval (a rare event: most replications have none, a few several)."""
    if not _inside(mean, p5, p95):
        return None
    decimals = 0 if unit in ("days", "%") else 1
    if not change and unit not in ("days", "%", "£") and 0 < abs(mean) < 1:
        decimals = max(decimals, min(3, -math.floor(math.log10(abs(mean)))))
    return decimals  # rounding to the same places keeps the order: the mean stays inside


def metric_delta(text: str | None) -> str | None:
    """A change as a headline metric shows it: its sign read from the text's first character, so a fall
    written with the typographic minus ('−4 days') is given the ASCII minus the metric reads as a fall
    (its arrow then points down, and its colour says whether lower is better for that measure).

    >>> metric_delta("−£95,000"), metric_delta("+5.2"), metric_delta(None)
    ('-£95,000', '+5.2', None)
    """
    return None if text is None else ("-" + text[1:] if text.startswith("−") else text)


def _number(value: float, unit: str, decimals: int, signed: bool = False, step: float = 1.0) -> str:
    """One figure in its unit, rounded (to ``decimals``, or for £ to ``step``); never '−0'.  Rounded as
    a Python float, whatever type it comes as (NumPy rounds some halves the other way), so a figure
    reads the same in every output."""
    value = float(value)
    if unit == "£":
        value = round(value / step) * step
        text = f"£{abs(value):,.0f}"
    else:
        value = round(value, decimals)
        text = f"{abs(value):,.{decimals}f}"
        if unit == "days":
            text += " days"
        elif unit == "%":
            text += " points" if signed else "%"
    if value == 0:
        return text
    if value < 0:
        return "−" + text
    return ("+" if signed else "") + text


def round_estimate(mean: float, p5: float, p95: float, unit: str, change: bool = False) -> tuple[float, float, float]:
    """Mean and bounds as numbers, rounded as :func:`format_estimate` shows them (for a
    spreadsheet): pounds to :func:`uncertainty_step` of the width, others to
    :func:`figure_decimals`; never -0."""
    if any(v is None or not np.isfinite(v) for v in (mean, p5, p95)):
        return mean, p5, p95
    mean, p5, p95 = float(mean), float(p5), float(p95)
    if unit == "£":
        width = p95 - p5 if _inside(mean, p5, p95) else abs(mean)
        return tuple(round_to_uncertainty(v, width) for v in (mean, p5, p95))
    d = figure_decimals(mean, p5, p95, unit, change)
    if d is None:
        d = 0 if unit in ("days", "%") else max(1, min(3, -math.floor(math.log10(abs(mean)))))
    return tuple(round(v, d) + 0.0 for v in (mean, p5, p95))


def estimate_parts(mean: float, p5: float, p95: float, unit: str, signed: bool = False) -> tuple[str, str, str] | None:
    """The mean and the two bounds as :func:`format_estimate` rounds them, or None when the mean
    lies outside its interval or a figure is missing."""
    if any(v is None or not np.isfinite(v) for v in (mean, p5, p95)):
        return None
    decimals = figure_decimals(mean, p5, p95, unit, change=signed)
    if decimals is None:
        return None
    step = uncertainty_step(p95 - p5) if unit == "£" else 1.0
    return tuple(_number(v, unit, decimals, signed, step) for v in (mean, p5, p95))


def format_estimate(mean: float, p5: float, p95: float, unit: str, signed: bool = False) -> str:
    """A mean with its 90% interval, rounded consistently: '36.0 [29.0 to 44.0]', '£412,000
    [£236,000 to £648,000]' (pounds to :func:`uncertainty_step` of the width), '0.04 [0.00 to 1.00]'.

    The mean is never shown outside its interval: when it truly lies outside (fewer than one
    replication in twenty has the event at all), it reads '0.04 on average; 0.00 in 90% of runs'.
    ``signed`` shows a change: '+12 days', '−£35,000', '+5 points' for a percentage; a change
    that rounds to nothing has no sign."""
    if any(v is None or not np.isfinite(v) for v in (mean, p5, p95)):
        return "–"
    parts = estimate_parts(mean, p5, p95, unit, signed)
    if parts is not None:
        return f"{parts[0]} [{parts[1]} to {parts[2]}]"
    d = 0 if unit in ("days", "%", "£") else max(1, min(3, -math.floor(math.log10(abs(mean)))))
    step = uncertainty_step(abs(mean)) if unit == "£" else 1.0
    low, high = (_number(v, unit, d, signed, step) for v in (p5, p95))
    return f"{_number(mean, unit, d, signed, step)} on average; {low if low == high else f'{low} to {high}'} in 90% of runs"


def format_figure(value: float, unit: str) -> str:
    """A single figure without its interval (a limit, a fee), as a board reads it: £1.23m,
    £35,565, 171 days, 36.0; never '−0'."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "–"
    value = value + 0.0
    if unit == "£":
        if abs(value) >= 1e6:
            return f"£{value / 1e6:,.2f}m"
        return f"£{value:,.0f}"
    if unit == "days":
        return f"{value:,.0f} days".replace("-0 ", "0 ")
    if unit == "%":
        return f"{value:,.0f}%".replace("-0%", "0%")
    text = f"{value:,.1f}"
    return "0.0" if text == "-0.0" else text


def change_unit(unit: str) -> str:
    """The unit of a change in a measure: a change in a percentage is in percentage points."""
    return "points" if unit == "%" else unit


def format_change(mean: float, p5: float, p95: float, unit: str) -> str:
    """'+12.0 [+8.0 to +16.0]'; a change in a percentage reads '+5 points', not '+5%'; rounded as
    :func:`format_estimate`."""
    if mean is None or np.isnan(mean):
        return "–"
    return format_estimate(mean, p5, p95, unit, signed=True)


#: The adopter gap, named and explained once: every output (page, command line, spreadsheet, board
#: paper) shows the KPI ``adopter_gap`` with this definition, a mean with its interval like any figure.
GAP_DEFINITION = ("Adopter gap (ASGLB's working definition): approved adopter households waiting, less the "
                  "children with a placement order waiting, as a percentage of the children waiting, at 31 March; "
                  "−50% is one household for every two children, 0% as many households as children. As ASGLB reads "
                  "it from totals, the figure is the gap of the mean counts over the replications; the interval is "
                  "the spread of each replication's own gap; a change is in percentage points.")


def wide_table(table: pd.DataFrame) -> pd.DataFrame:
    """A side-by-side table as a board paper shows it: one row per measure, one column per
    scenario (in the order given), 'mean [p5 to p95]'."""
    cells = table.assign(cell=[format_estimate(r.mean, r.p5, r.p95, r.unit) for r in table.itertuples()])
    order = list(dict.fromkeys(table["scenario"]))
    wide = cells.pivot(index="label", columns="scenario", values="cell")
    labels = list(dict.fromkeys(table["label"]))
    wide = wide.loc[labels, order]
    wide.index.name = "measure"
    wide.columns.name = None
    return wide
