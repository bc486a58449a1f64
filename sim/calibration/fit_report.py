"""The fit report: how well a calibrated baseline reproduces its report's figures.

For each agency, ``calibration/reports/NAME.md`` and ``NAME.csv`` hold a table of every
target in its targets file: the observed figure, the simulated year-1 mean and 90% interval
(5th-95th percentile over replications, chance alone, and with the plausible parameter sets
drawn as well), the standardised distance (mean - observed) / sd, and whether the observed
figure lies outside the interval (a miss).  Each miss of a used target says why it misses:
a note written after looking (``calibration/notes/NAME.toml``, table ``[misses]``, one entry
per figure) or, failing that, a generated reason.  The report also lists how each parameter
was set, which parameters the figures leave unidentified, and checks: relationships the
reports state that the fit did not use.

The app loads a report with :func:`fit_report` (a DataFrame), :func:`fit_parameters`,
:func:`fit_checks` and :func:`fit_report_path` (the Markdown).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.model.kpis import KPI_BY_NAME
from sim.scenario.parameter_sets import PROJECT_DIR

REPORT_DIR = PROJECT_DIR / "calibration" / "reports"
NOTES_DIR = PROJECT_DIR / "calibration" / "notes"
FITS_DIR = PROJECT_DIR / "calibration" / "fits"

C_P = "001_ef741affdb884314.txt"
CAMBS = "000_3308d4f1cd971e43.txt"
ROTH = "002_f60beec63e9d6bc7.txt"

COLUMNS = ["figure", "year", "label", "unit", "used", "role", "observed", "sd", "mean", "p5", "p95", "distance", "miss",
           "mean_with_parameter_uncertainty", "p5_with_parameter_uncertainty", "p95_with_parameter_uncertainty",
           "distance_with_parameter_uncertainty", "miss_with_parameter_uncertainty", "paired_se", "source", "why"]
#: How the parameter sets are drawn, for the fit report's header (see :mod:`sim.calibration.posterior`).
POSTERIOR_METHOD = "sim/calibration/posterior.py"


class FitReportError(FileNotFoundError):
    """No fit report for that name."""


def fit_report_path(name: str, folder: Path = REPORT_DIR) -> Path:
    """The Markdown fit report of a calibrated baseline (``calibration/reports/NAME.md``)."""
    return Path(folder) / f"{name}.md"


def fit_report(name: str, folder: Path = REPORT_DIR) -> pd.DataFrame:
    """The target table of a calibrated baseline's fit report, one row per target.

    Columns: figure, label, unit, used, observed, sd, mean, p5, p95 (year 1, chance alone),
    distance ((mean - observed) / sd), miss (observed outside [p5, p95]), the interval and miss
    with parameter uncertainty, source and why (the reason a used target misses).
    """
    path = Path(folder) / f"{name}.csv"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in Path(folder).glob("*.csv") if not p.stem.endswith("-parameters")))
        raise FitReportError(f"{name}: no fit report ({path}); reports available: {known or 'none'}")
    return _text_columns(pd.read_csv(path), ("why", "source", "role"))


def fit_parameters(name: str, folder: Path = REPORT_DIR) -> pd.DataFrame:
    """How each candidate parameter of a calibrated baseline was set (``NAME-parameters.csv``)."""
    path = Path(folder) / f"{name}-parameters.csv"
    if not path.is_file():
        raise FitReportError(f"{name}: no parameter table ({path})")
    return _text_columns(pd.read_csv(path), ("p5", "p95", "prior_sd", "how", "identification"))


def fit_checks(name: str, folder: Path = REPORT_DIR) -> pd.DataFrame:
    """The checks of a calibrated baseline's fit report (``NAME-checks.csv``): each relationship,
    the report's figure, the simulated mean and 90% interval, and whether it holds."""
    path = Path(folder) / f"{name}-checks.csv"
    if not path.is_file():
        raise FitReportError(f"{name}: no checks ({path})")
    return _text_columns(pd.read_csv(path), ("simulated_detail",))


def _text_columns(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Empty cells of text (or optional) columns as "" rather than NaN."""
    for col in columns:
        if col in table:
            table[col] = ["" if pd.isna(x) else x for x in table[col]]
    return table


# --- the target table -----------------------------------------------------------------------

def _stats(values: np.ndarray) -> tuple[float, float, float, int]:
    v = values[~np.isnan(values)]
    if len(v) == 0:
        return math.nan, math.nan, math.nan, 0
    p5, p95 = np.percentile(v, [5, 95])
    return float(v.mean()), float(p5), float(p95), len(v)


def read_notes(name: str, folder: Path = NOTES_DIR) -> dict[str, str]:
    """Notes written after reading a fit report (``calibration/notes/NAME.toml``): ``[misses]``
    figure = "why it misses", and ``[caveats]`` title = "what a user of the baseline should know";
    returned as {figure: why} with caveats under the key ``"caveats:" + title``."""
    path = Path(folder) / f"{name}.toml"
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    notes = {str(k): str(v) for k, v in data.get("misses", {}).items()}
    notes.update({f"caveats:{k}": str(v) for k, v in data.get("caveats", {}).items()})
    return notes


def target_table(ts, values: np.ndarray, kpi_index: dict[str, int], fitted: Sequence, values_pu: np.ndarray | None = None,
                 notes: dict[str, str] | None = None,
                 reason: Callable[[object, dict], str] | None = None) -> pd.DataFrame:
    """Every target of ``ts`` against simulated year-1 ``values`` (replications x KPI).

    ``fitted`` are the targets the fit used (``used`` is true for them); a used entry of the
    file held out of the fit is a check (role "check").
    """
    from sim.calibration.fit import opening_targets

    notes = notes or {}
    fitted_ids = {id(t) for t in fitted}
    opening_ids = {id(t) for t in opening_targets(ts)}
    rows = []
    for t in ts.targets:
        used = id(t) in fitted_ids
        role = "fitted" if used else ("opening stock" if id(t) in opening_ids else "check" if t.use else "not used")
        col = values[:, kpi_index[t.key]]
        mean, p5, p95, _ = _stats(col)
        miss = not (p5 <= t.value <= p95) if not math.isnan(mean) else True
        row = {"figure": t.figure, "year": t.year or ts.financial_year, "label": KPI_BY_NAME[t.figure].label, "unit": KPI_BY_NAME[t.figure].unit,
               "used": used, "role": role, "observed": t.value, "sd": t.sd, "mean": mean, "p5": p5, "p95": p95,
               "distance": (mean - t.value) / t.sd if not math.isnan(mean) else math.nan, "miss": miss,
               "source": t.source}
        if values_pu is not None:
            m, q5, q95, _ = _stats(values_pu[:, kpi_index[t.key]])
            # the Monte Carlo standard error of the difference of the two means (replications paired:
            # common random numbers), what separates a moved mean from chance
            diff = values_pu[:, kpi_index[t.key]] - col
            diff = diff[~np.isnan(diff)]
            row["paired_se"] = float(diff.std(ddof=1) / math.sqrt(len(diff))) if len(diff) > 1 else math.nan
            row.update(mean_with_parameter_uncertainty=m, p5_with_parameter_uncertainty=q5,
                       p95_with_parameter_uncertainty=q95,
                       distance_with_parameter_uncertainty=(m - t.value) / t.sd if not math.isnan(m) else math.nan,
                       miss_with_parameter_uncertainty=not (q5 <= t.value <= q95))
        else:
            row.update(mean_with_parameter_uncertainty=math.nan, p5_with_parameter_uncertainty=math.nan,
                       p95_with_parameter_uncertainty=math.nan, distance_with_parameter_uncertainty=math.nan,
                       miss_with_parameter_uncertainty=math.nan, paired_se=math.nan)
        why = ""
        if miss and used:
            why = notes.get(t.figure) or (reason(t, row) if reason else "")
        elif role == "opening stock":
            why = "the run starts from it: the stock at the start of the report's year, reached on its first day"
        elif miss and t.use:
            why = notes.get(t.figure) or "held out of the fit as a check"
        elif miss:
            why = notes.get(t.figure) or (f"not fitted: {t.note}" if t.note else "not fitted")
        row["why"] = why
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def generated_reason(ts, fit_result, set_directly: dict | None = None) -> Callable[[object, dict], str]:
    """A reason for a miss when no note was written: the report's figures disagree, no fitted
    parameter moves the figure (naming the parameters set directly from other figures that do:
    ``set_directly`` maps a parameter to its value, note and the figures it moves), or the
    parameters that move it are held by other figures."""
    set_directly = set_directly or {}
    used = list(fit_result.targets) if fit_result is not None else ts.used_targets()
    index = {t.key: i for i, t in enumerate(used)}

    def reason(t, row) -> str:
        direction = "above" if row["mean"] > t.value else "below"
        when = f"{t.year} mean" if t.year else "year-1 mean"
        head = f"the model's {when} ({row['mean']:.4g}) lies {direction} the report's {t.value:g}"
        others = [o for o in ts.targets if o.key == t.key and o is not t and row["p5"] <= o.value <= row["p95"]]
        if others:
            o = others[0]
            return f"{head}; the report's figures disagree: {o.value:g} ({o.source}) lies inside the interval"
        if fit_result is None or t.key not in index:
            return head
        j = fit_result.jac_data[index[t.key]]
        movers = [(abs(j[k]), p.key) for k, p in enumerate(fit_result.parameters) if abs(j[k]) > 0.2]
        if not movers:
            held = [f"{key} = {value:g}, set directly ({note.split(': ', 1)[-1]})"
                    for key, (value, note, informs) in set_directly.items() if t.figure in informs]
            if held:
                return f"{head}; no fitted parameter moves it much: it is held by " + "; ".join(held)
            return f"{head}; no fitted parameter moves it much, so the model reproduces it only through its fixed " \
                   f"assumptions"
        movers.sort(reverse=True)
        keys = [k for _, k in movers[:3]]
        ks = [fit_result.parameters.index(next(p for p in fit_result.parameters if p.key == k)) for k in keys]
        r = fit_result.residuals
        pull = []
        for i, o in enumerate(used):
            if o.key == t.key:
                continue
            # another figure pulls the other way if moving the parameters to fix t worsens it
            if any(np.sign(fit_result.jac_data[i, k]) * np.sign(j[k]) * np.sign(r[index[t.key]]) *
                   np.sign(r[i]) < 0 and abs(fit_result.jac_data[i, k]) > 0.2 for k in ks):
                pull.append((abs(r[i]), o.key))
        pull.sort(reverse=True)
        held = ", ".join(f for _, f in pull[:3]) or "their priors"
        return f"{head}; the parameters that move it ({', '.join(keys)}) are held by {held}"

    return reason


# --- the verdict ----------------------------------------------------------------------------

#: A fit fails when its used figures lie inside their 90% intervals clearly less often than 90% of
#: the time (a one-sided binomial test at ALPHA, or under MIN_INSIDE of them with at least 4
#: figures), or when any used figure lies more than FAR_SD of its sd from the simulated mean.
ALPHA = 0.05
MIN_INSIDE = 0.75
FAR_SD = 3.0
#: A national figure is an estimate ("extrapolating from the returns received"), not a count of an
#: agency's own cases, and a national run's chance-alone interval is narrower than its uncertainty
#: (a few percent against the 5% sd its targets file gives counts): a national figure is reproduced
#: when it lies inside the simulated interval or the simulated mean inside the figure's own 90%
#: interval, OWN_INTERVAL_SD of its sd either side.
OWN_INTERVAL_SD = 1.645
#: Exit status of ``python -m sim calibrate`` when the fit fails (2 is a refused file or option).
FAILED_FIT_STATUS = 3


@dataclass(frozen=True)
class Verdict:
    """Whether a fit reproduces its figures: how many used figures lie inside their year-1 90%
    interval, how likely so few would be if each had a 90% chance, and the figures far off."""

    used: int
    inside: int
    p_value: float  # P(as few inside or fewer | each inside with probability 0.9)
    far: tuple[tuple[str, float], ...]  # (figure, distance in sd) beyond FAR_SD
    misses: tuple[str, ...]
    own_interval: bool = False  # national figures: inside the simulated interval or their own

    @property
    def where(self) -> str:
        return ("their simulated 90% interval of year 1 or, as national estimates, their own 90% interval "
                f"(±{OWN_INTERVAL_SD:g} sd)" if self.own_interval else "their simulated 90% interval of year 1")

    @property
    def too_few_inside(self) -> bool:
        return self.used > 0 and (self.p_value < ALPHA or (self.used >= 4 and self.inside < MIN_INSIDE * self.used))

    @property
    def ok(self) -> bool:
        return not self.too_few_inside and not self.far

    def summary(self) -> str:
        head = (f"{self.inside} of {self.used} used figures inside {self.where} "
                f"({self.inside / max(self.used, 1):.0%}; so few or fewer has probability {self.p_value:.2g} if "
                f"each had a 90% chance)")
        if self.ok:
            return f"the fit holds: {head}, none more than {FAR_SD:g} sd away."
        why = []
        if self.too_few_inside:
            why.append(f"too few inside (under {MIN_INSIDE:.0%} of at least 4, or a binomial test at {ALPHA:.0%})")
        if self.far:
            why.append("more than " + f"{FAR_SD:g} sd away: " + ", ".join(f"{f} ({d:+.1f} sd)" if not math.isnan(d) else f"{f} (no simulated value)"
                                                                for f, d in self.far))
        return f"the fit FAILS: {head}; " + "; ".join(why) + "."


def _binomial_cdf(k: int, n: int, p: float) -> float:
    return float(sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(0, k + 1)))


def verdict(table: pd.DataFrame, own_interval: bool = False) -> Verdict:
    """The verdict on a fit from its target table (:func:`target_table`); ``own_interval`` for national
    figures (see :data:`OWN_INTERVAL_SD`).

    Where the table has the run with parameter uncertainty (as the calibrated scenario runs by
    default), the verdict counts with it: each figure inside that interval, and its distance from
    that mean."""
    used = table[table["used"].astype(bool)]
    pu = _with_uncertainty(used)
    missed = used["miss_with_parameter_uncertainty" if pu else "miss"].astype(bool)
    distance = used["distance_with_parameter_uncertainty" if pu else "distance"]
    if own_interval:
        missed = missed & ~(distance.abs() <= OWN_INTERVAL_SD)
    inside = int((~missed).sum())
    label = [f if y == table["year"].max() else f"{f} {y}" for f, y in zip(used["figure"], used["year"])]
    far = tuple((f, float(d)) for f, d in zip(label, distance) if not pd.isna(d) and abs(d) > FAR_SD)
    far += tuple((f, math.nan) for f, d in zip(label, distance) if pd.isna(d))
    misses = tuple(f for f, m in zip(label, missed) if m)
    return Verdict(len(used), inside, _binomial_cdf(inside, len(used), 0.9), far, misses, own_interval)


def _with_uncertainty(used: pd.DataFrame) -> bool:
    """Whether a target table has the run with parameter uncertainty (older reports may not)."""
    return ("mean_with_parameter_uncertainty" in used and len(used) > 0
            and not used["mean_with_parameter_uncertainty"].isna().all())


#: Uncertainty must leave a mean where chance alone puts it: within this many sd of the figure wherever
#: the chance-alone mean is.
MEAN_HELD_SD = 0.5
#: ... unless it lies this close to the chance-alone mean, or within two Monte Carlo standard errors of
#: it (the two runs' replications paired), so that a figure whose chance-alone mean sits on the edge
#: (0.49 sd) is not called moved for what chance in a finite run can do.
MEAN_NOISE_SD = 0.1


def means_held(table: pd.DataFrame) -> tuple[int, int, list[str]]:
    """Of the used figures whose chance-alone mean lies within :data:`MEAN_HELD_SD` of the observed
    figure, how many keep their mean there with parameter uncertainty (or within :data:`MEAN_NOISE_SD`,
    or two paired Monte Carlo standard errors, of the chance-alone mean), how many there are, and the
    labels of those that do not."""
    used = table[table["used"].astype(bool)]
    if not _with_uncertainty(used):
        return 0, 0, []
    near = used[used["distance"].abs() <= MEAN_HELD_SD]
    pu = near["distance_with_parameter_uncertainty"]
    noise = MEAN_NOISE_SD
    if "paired_se" in near:
        noise = np.maximum(MEAN_NOISE_SD, (2.0 * near["paired_se"] / near["sd"]).fillna(MEAN_NOISE_SD))
    moved = near[~((pu.abs() <= MEAN_HELD_SD) | ((pu - near["distance"]).abs() <= noise))]
    report_year = table["year"].max()
    labels = [f if y == report_year else f"{f} {y}" for f, y in zip(moved["figure"], moved["year"])]
    return len(near) - len(moved), len(near), labels


def own_interval_count(table: pd.DataFrame) -> int:
    """How many used figures have the simulated mean inside their own 90% interval."""
    used = table[table["used"].astype(bool)]
    return int((used["distance"].abs() <= OWN_INTERVAL_SD).sum())


# --- checks ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """A relationship a report states, compared with the calibrated model."""

    name: str
    statement: str
    reference: str  # the report, section and figure
    reference_value: float
    kpi: str  # the KPI (or ratio numerator)
    denominator: str | None = None  # for a ratio of two KPIs
    general_rule: str = ""  # what must hold where the agency's own report gives no figure


CHECKS: tuple[Check, ...] = (
    Check("early permanence sooner", "early permanence children reach the adoption order sooner after entering "
          "care than other children", f"{ROTH} §7.3: 257 vs 560 days (ratio 0.46)", 257 / 560,
          "ep_care_to_order_days", "non_ep_care_to_order_days", "ratio below 1"),
    Check("orders within 12 months", "most adoption orders are made within 12 months of placement",
          f"{CAMBS} §2.7.1: 34 of 39 (87%)", 100 * 34 / 39, "orders_within_12_months_pct", None, "over 50%"),
    Check("in-house share", "share of children placed with the agency's own adopters",
          f"{C_P} §4.2: 71% of children with a placement order placed with own adopters", 71.0,
          "inhouse_share_pct", None, "between 50% and 95%"),
)


def _own_value(check: Check, ts, used: set[str]) -> tuple[float, str, bool] | None:
    """The agency's own figure for a check, with its source and whether the fit used it."""
    entries = {t.figure: t for t in reversed(ts.targets) if t.year is None}
    if check.denominator:
        a, b = entries.get(check.kpi), entries.get(check.denominator)
        if a and b and b.value > 0:
            return a.value / b.value, f"{a.source}: {a.value:g} vs {b.value:g}", \
                check.kpi in used and check.denominator in used
        return None
    t = entries.get(check.kpi)
    if t is not None:
        return t.value, f"{t.source}: {t.value:g}", t.figure in used
    if check.kpi == "inhouse_share_pct":
        ih, pl = entries.get("inhouse_placements"), entries.get("placements")
        if ih and pl and pl.value > 0:
            return 100 * ih.value / pl.value, f"{ih.source}, {pl.source}: {ih.value:g} of {pl.value:g} placed", \
                "inhouse_placements" in used and "placements" in used
    return None


def _general_holds(check: Check, mean: float) -> bool:
    if check.name == "early permanence sooner":
        return mean < 1
    if check.name == "orders within 12 months":
        return mean > 50
    return 50 <= mean <= 95


def check_table(ts, values: np.ndarray, kpi_index: dict[str, int], fitted: Sequence) -> pd.DataFrame:
    """Each check: the report's figure (the agency's own where it gives one), the simulated
    mean and 90% interval, whether the relationship holds, and whether the fit used it."""
    fitted_figures = {t.figure for t in fitted}
    rows = []
    for check in CHECKS:
        num = values[:, kpi_index[check.kpi]]
        if check.denominator:
            den = values[:, kpi_index[check.denominator]]
            with np.errstate(invalid="ignore", divide="ignore"):
                col = np.where(den > 0, num / den, np.nan)
            detail = (f"{np.nanmean(num):.0f} vs {np.nanmean(den):.0f} days"
                      if not np.all(np.isnan(num)) and not np.all(np.isnan(den)) else "")
        else:
            col, detail = num, ""
        mean, p5, p95, n = _stats(col)
        own = _own_value(check, ts, fitted_figures)
        if own is not None:
            value, source, used = own
            holds = p5 <= value <= p95
            figure = f"{value:.3g} ({source})"
            rule = ("the agency's figure lies in the simulated 90% interval" if holds else
                    "the agency's figure lies outside the simulated 90% interval")
        else:
            value, used = check.reference_value, False
            holds = _general_holds(check, mean) if n else False
            figure = f"{value:.3g}, another agency ({check.reference})"
            rule = (f"simulated mean {check.general_rule if holds else 'not ' + check.general_rule} "
                    f"(the agency's report gives no figure)")
        rows.append({"check": check.name, "statement": check.statement, "report_figure": figure,
                     "mean": mean, "p5": p5, "p95": p95, "simulated_detail": detail, "holds": bool(holds),
                     "rule": rule, "used_in_fit": used})
    return pd.DataFrame(rows)


# --- Markdown -------------------------------------------------------------------------------

def _num(x: float, unit: str = "") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if unit == "£":
        return f"£{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) >= 1 else f"{x:.2g}"


#: Measures shown in a baseline's projection with no change, and the band year 1 should hold them in.
PROJECTION_KPIS = ("approvals", "adoption_orders", "adopters_waiting", "children_waiting_with_po", "a2_days",
                   "a10_days", "interagency_placements")
LEVEL_BAND = 0.10


def projection_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Year-by-year means of the projection measures (years as rows), from a run's summary."""
    shown = summary[summary["kpi"].isin(PROJECTION_KPIS)]
    return shown.pivot(index="financial_year", columns="kpi", values="mean")[list(PROJECTION_KPIS)]


def projection_lines(projection: pd.DataFrame, trends: Sequence[str]) -> list[str]:
    """The fit report's section on the baseline projected with no change: years 2-5 against year 1,
    and what moves any measure by more than 10%."""
    out = ["## Projection with no change", "",
           f"The calibrated baseline run forward with no change (means over replications). With no trend a baseline "
           f"should stay within ±{LEVEL_BAND:.0%} of year 1; a measure that moves more is named with what moves it.",
           "", "| year | " + " | ".join(f"`{k}`" for k in projection.columns) + " |",
           "|---|" + "---:|" * len(projection.columns)]
    for year, row in projection.iterrows():
        out.append(f"| {year} | " + " | ".join(_num(v) for v in row) + " |")
    first = projection.iloc[0]
    moved = []
    for kpi in projection.columns:
        later = projection[kpi].iloc[1:]
        worst = float((later / first[kpi] - 1).abs().max()) if first[kpi] else 0.0
        if worst > LEVEL_BAND:
            moved.append((kpi, worst))
    out.append("")
    if not moved:
        out.append(f"Every measure stays within ±{LEVEL_BAND:.0%} of year 1 in the years shown.")
    for kpi, worst in moved:
        one = len(trends) == 1
        why = (f"the fitted trend{'' if one else 's'} ({'; '.join(trends)}), which run{'s' if one else ''} to the "
               f"end of the report's year and hold{'s' if one else ''} after it, so the flows keep the level reached "
               f"then and the stocks and waits adjust to it") if trends else \
            "chance in a small count (see its 90% interval), or the slow settling of the pool of adopters whom few " \
            "children need (households leave it at their de-registration rate, over years)"
        if trends and abs(first[kpi]) < 10:
            why += "; on a count this small, chance moves it too"
        out.append(f"- `{kpi}` moves by up to {worst:.0%} from year 1: {why}.")
    return out


def _means_line(table: pd.DataFrame) -> str:
    held, near, moved = means_held(table)
    if not near:
        return "No used figure has its chance-alone mean within 0.5 sd of the report, or the report has no run with parameter uncertainty."
    text = (f"**Means held: {held} of the {near} used figures whose chance-alone mean lies within "
            f"{MEAN_HELD_SD:g} sd of the report keep their mean within {MEAN_HELD_SD:g} sd with parameter "
            f"uncertainty** (or within {MEAN_NOISE_SD:g} sd, or two Monte Carlo standard errors, of the chance-alone "
            f"mean)")
    return text + (f"; moved: {', '.join(f'`{m}`' for m in moved)}." if moved else ".")


def markdown(title: str, header: Sequence[str], table: pd.DataFrame, parameters: pd.DataFrame,
             unidentified: Sequence[str], checks: pd.DataFrame, caveats: dict[str, str] | None = None,
             projection: Sequence[str] = ()) -> str:
    """The fit report as Markdown."""
    caveats = caveats or {}
    used = table[table["used"]]
    inside = int((~used["miss"].astype(bool)).sum())
    out = [f"# Fit report: {title}", "", *header, "",
           f"**{inside} of {len(used)} used targets ({inside / max(len(used), 1):.0%}) lie inside the simulated "
           f"90% interval of year 1** (chance alone; "
           f"{int((~used['miss_with_parameter_uncertainty'].astype(bool)).sum())} of {len(used)} with parameter "
           f"uncertainty as well; {own_interval_count(table)} of {len(used)} with the simulated mean inside the "
           f"figure's own 90% interval, ±{OWN_INTERVAL_SD:g} sd).", "",
           _means_line(table), "",
           "## Targets", "",
           "Observed: the report's figure. Chance alone: year-1 mean and 90% interval (5th–95th percentile over "
           "replications) with the calibrated values. With parameter uncertainty: the same when each replication also "
           "draws a plausible parameter set, as the calibrated scenario runs by default; uncertainty should widen the "
           "interval and leave the mean where chance alone puts it. Distance: (mean − observed) / sd, for each. "
           "**miss**: the observed figure lies outside the interval with parameter uncertainty. "
           "Figures not used in the fit are in italics: *check* marks a figure held out of the fit to test the "
           "model (see Checks), *not used* one the targets file does not use (its note says why).", "",
           "| figure | observed | sd | mean, chance alone | 90% interval | mean, with parameter uncertainty | "
           "90% interval | distance | distance with uncertainty | | source |",
           "|---|---:|---:|---:|---|---:|---|---:|---:|---|---|"]
    report_year = max(table["year"]) if "year" in table and len(table) else ""
    for _, r in table.iterrows():
        label = r["figure"] if r.get("year", report_year) == report_year else f"{r['figure']} {r['year']}"
        name = f"`{label}`" if r["used"] else f"*`{label}` ({r['role']})*"
        unit = r["unit"]
        has_pu = not pd.isna(r["p5_with_parameter_uncertainty"])
        missed = r["miss_with_parameter_uncertainty"] if has_pu else r["miss"]
        flag = "**miss**" if missed else ""
        pu = (f"{_num(r['mean_with_parameter_uncertainty'], unit)} | {_num(r['p5_with_parameter_uncertainty'], unit)} – "
              f"{_num(r['p95_with_parameter_uncertainty'], unit)}" if has_pu else "– | –")
        pu_distance = _num(r["distance_with_parameter_uncertainty"]) if has_pu else "–"
        out.append(f"| {name} | {_num(r['observed'], unit)} | {_num(r['sd'], unit)} | {_num(r['mean'], unit)} | "
                   f"{_num(r['p5'], unit)} – {_num(r['p95'], unit)} | {pu} | {_num(r['distance'])} | {pu_distance} | "
                   f"{flag} | {r['source']} |")
    misses = table[table["miss"] & table["used"]]
    out += ["", "## Why each miss misses", ""]
    if misses.empty:
        out.append("No used target misses.")
    for _, r in misses.iterrows():
        out.append(f"- `{r['figure']}` (observed {_num(r['observed'], r['unit'])}, simulated "
                   f"{_num(r['p5'], r['unit'])} – {_num(r['p95'], r['unit'])}): {r['why']}")
    for _, r in table[table["miss"] & (table["role"] == "check")].iterrows():
        out.append(f"- check `{r['figure']}` (observed {_num(r['observed'], r['unit'])}, simulated "
                   f"{_num(r['p5'], r['unit'])} – {_num(r['p95'], r['unit'])}), held out of the fit: {r['why']}")
    unused_misses = table[table["miss"] & (table["role"] == "not used")]
    if not unused_misses.empty:
        out += ["", "Figures recorded but not fitted that lie outside the interval:", ""]
        out += [f"- `{r['figure']}` {_num(r['observed'], r['unit'])} ({r['source']}; simulated "
                f"{_num(r['p5'], r['unit'])} – {_num(r['p95'], r['unit'])}): {r['why']}"
                for _, r in unused_misses.iterrows()]
    if caveats:
        out += ["", "## Caveats", ""] + [f"- **{title}.** {text}" for title, text in caveats.items()]
    if projection:
        out += ["", *projection]
    out += ["", "## Parameters", "",
            "How each parameter the calibration considers was set. Baseline / prior centre: the default (the value from the reports before any fitting), or "
            "where the agency's own figures nearly pin the parameter down, the value they give (see how set). "
            "Calibrated: the value in the scenario. Plausible range: 5th–95th percentile over the saved parameter "
            "sets. Prior sd: on the log (durations, rates) or logit (shares) scale. Every other parameter keeps its "
            "default (`sim/scenario/parameters.py`, with its source).", "",
            "| parameter | baseline / prior centre | calibrated | plausible range | prior sd | how set | identification |",
            "|---|---:|---:|---|---:|---|---|"]
    for _, r in parameters.iterrows():
        rng = f"{_num(r['p5'])} – {_num(r['p95'])}" if r["p5"] != "" and not pd.isna(r["p5"]) else ""
        prior = f"{r['prior_sd']:g}" if r["prior_sd"] != "" and not pd.isna(r["prior_sd"]) else ""
        out.append(f"| `{r['parameter']}` | {_num(r['baseline'])} | {_num(r['calibrated'])} | {rng} | {prior} | "
                   f"{r['how']} | {r['identification']} |")
    out += ["", "## Unidentified parameters", ""]
    out += [f"- {line}" for line in unidentified] or ["None: every fitted parameter is informed by the figures."]
    out += ["", "## Checks", "",
            "Relationships the reports state, compared with the calibrated model's year 1. Where the agency's own report "
            "gives the figure, it should lie in the simulated 90% interval; otherwise the relationship should hold.", "",
            "| check | report | simulated mean | 90% interval | holds | used in the fit |",
            "|---|---|---:|---|---|---|"]
    for _, c in checks.iterrows():
        mean = _num(c["mean"]) + (f" ({c['simulated_detail']})" if c["simulated_detail"] else "")
        out.append(f"| {c['statement']} | {c['report_figure']} | {mean} | {_num(c['p5'])} – {_num(c['p95'])} | "
                   f"{'yes' if c['holds'] else '**no**'}: {c['rule']} | {'yes' if c['used_in_fit'] else 'no'} |")
    return "\n".join(out) + "\n"
