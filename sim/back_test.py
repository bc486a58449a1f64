"""Forecast back test: fit to a report's earlier years, forecast its last, compare.

A figure the model was not fitted to is the test that counts.  Where a targets file gives a
series (the same figure for earlier years beside the report's own, as reports often set the
year before beside the year), the back test holds out the report-year value of every such
figure, fits the agency to everything else (the earlier years of the series, and the
report's other figures) with its trends, and forecasts the held-out values: the simulated
mean of the report's year and its 90% interval with parameter uncertainty (each replication
draws a plausible parameter set from the fit).  The error is (forecast − observed) /
observed; a figure is *inside* when the observed value lies within the interval.

    python -m sim backtest calibration/targets/rotherham-2017-18.toml [--reps 40]
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from sim import calibration as cal
from sim.parameter_sets import save_parameter_sets
from sim.parameters import Scenario
from sim.targets import Target, TargetSet, load_targets

COLUMNS = ["agency", "figure", "year", "observed", "forecast", "p5", "p95", "error_pct", "inside", "fitted_to"]


def held_out(ts: TargetSet) -> list[Target]:
    """The report-year target of each used figure that the file also gives for an earlier year."""
    earlier = {t.figure for t in ts.used_targets() if t.year is not None}
    return [t for t in ts.used_targets() if t.year is None and t.figure in earlier]


def back_test(path: str | Path, replications: int = 40, forecast_replications: int = 200,
              max_iterations: int = 40, workers: int | None = None,
              say: Callable[[str], None] = lambda s: None) -> pd.DataFrame:
    """Fit without the last value of each series and forecast those values (one row each)."""
    ts = load_targets(path)
    out = held_out(ts)
    if not out:
        raise cal.CalibrationError(f"{ts.path.name}: no series to back-test: give a figure for an earlier year "
                                   f"beside the report's (a [[target]] with year = \"YYYY-YY\")")
    ids = {id(t) for t in out}
    reduced = dataclasses.replace(ts, targets=[dataclasses.replace(t, use=False) if id(t) in ids else t
                                               for t in ts.targets])
    say(f"{ts.name}: holding out {', '.join(t.figure for t in out)} ({ts.financial_year}); fitting to the rest")
    before = cal.years_before(ts)
    with cal.Simulator(workers) as sim:
        fitted = cal.fit_agency(reduced, sim, replications, max_iterations)
        draws = cal.draw_parameter_sets(fitted.result, 100, seed=fitted.start.scenario.seed)
        with tempfile.TemporaryDirectory() as tmp:
            sets = save_parameter_sets(fitted.result.values, draws, Path(tmp) / "back-test-sets.csv")
            forecast = _with_uncertainty(fitted.scenario, sets)
            values = sim.window([forecast], forecast_replications, before)[0]
    col = cal.columns(ts)
    fitted_to = ", ".join(sorted({t.key for t in cal.fit_targets(reduced) if t.year is not None}))
    rows = []
    for t in out:
        v = values[:, col[t.key]]
        v = v[~np.isnan(v)]
        mean, p5, p95 = float(v.mean()), *map(float, np.percentile(v, [5, 95]))
        rows.append({"agency": ts.name, "figure": t.figure, "year": ts.financial_year, "observed": t.value,
                     "forecast": mean, "p5": p5, "p95": p95,
                     "error_pct": 100.0 * (mean - t.value) / t.value if t.value else np.nan,
                     "inside": bool(p5 <= t.value <= p95), "fitted_to": fitted_to})
    return pd.DataFrame(rows, columns=COLUMNS)


def _with_uncertainty(scenario: Scenario, sets: Path) -> Scenario:
    data = scenario.model_dump()
    data["calibration"].update(parameter_sets=str(sets), parameter_uncertainty=True)
    return Scenario.model_validate(data)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """By agency: figures forecast, mean absolute error and how many fell inside their interval."""
    return table.groupby("agency", sort=False).agg(
        figures=("figure", "count"), mean_abs_error_pct=("error_pct", lambda e: float(np.nanmean(np.abs(e)))),
        inside=("inside", "sum")).reset_index()
