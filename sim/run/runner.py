"""Run a scenario over replications and return tidy tables with uncertainty.

``run_scenario`` is the one call a user needs in Python::

    from sim import run_scenario, load_scenario
    results = run_scenario(load_scenario("cambridgeshire-peterborough-2022-23"), replications=50)
    results.summary        # one row per (year, KPI): mean, p5, p95, n
    results.replications   # one row per (replication, year, KPI)
    results.events         # the per-entity event log, if asked for

The interval reported is the 5th-95th percentile of the replication values: where 90% of
simulated years fall, counting chance alone (and parameter uncertainty when the scenario
draws its parameters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from sim.model.kpis import GAP_COUNTS, KPI_BY_NAME, KPI_NAMES, gap_of_means
from sim.run.execution import run_replications
from sim.run.options import RunOptions
from sim.scenario.calendar import financial_year_label
from sim.scenario.files import scenario_from_dict
from sim.scenario.parameters import Scenario

if TYPE_CHECKING:
    from sim.run.replications import ReplicationChoice


@dataclass
class Results:
    """A scenario's results as tidy tables."""

    scenario: Scenario
    summary: pd.DataFrame
    replications: pd.DataFrame
    events: pd.DataFrame | None = None
    choice: ReplicationChoice | None = None  # why this many replications, when chosen for precision

    @property
    def years(self) -> list[str]:
        return list(dict.fromkeys(self.summary["financial_year"]))

    def kpi(self, name: str) -> pd.DataFrame:
        """The summary rows of one KPI, by year."""
        return self.summary[self.summary["kpi"] == name].reset_index(drop=True)

    def to_json_dict(self) -> dict:
        """The documented JSON structure: scenario, seed, replications, years, kpis."""
        run = self.scenario.scenario
        kpis = {}
        for name, rows in self.summary.groupby("kpi", sort=False):
            kpis[name] = {col: [_json_number(v) for v in rows[col]] for col in ("mean", "p5", "p95")}
        return {
            "scenario": run.name,
            "seed": run.seed,
            "replications": int(self.replications["replication"].nunique()),
            "years": self.years,
            "kpis": kpis,
        }


def _json_number(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and np.isnan(v)) else round(float(v), 4)


def run_scenario(scenario: Scenario, replications: int | None = None, years: int | None = None,
                 seed: int | None = None, options: RunOptions | None = None, **run_options) -> Results:
    """Run ``scenario`` (optionally overriding replications, years and seed).

    ``options`` (or the same as keywords: ``engine`` "serial", "processes" or "dask",
    ``workers``, ``scheduler``, ``progress``, ``event_log``, ``share_history``) as in
    :class:`sim.run.options.RunOptions`.
    """
    opts = RunOptions.of(options, **run_options)
    overrides = {k: v for k, v in (("replications", replications), ("years", years), ("seed", seed))
                 if v is not None}
    if overrides:
        data = scenario.model_dump()
        data["scenario"].update(overrides)
        scenario = scenario_from_dict(data, "options")
    run = scenario.scenario
    results = run_replications(scenario, range(run.replications), opts, keep=Kept.of)
    labels = [financial_year_label(run.start_year + y) for y in range(run.years)]
    reps = replication_table(results, labels)
    events = event_table(results) if opts.event_log else None
    return Results(scenario=scenario, summary=summarise(reps), replications=reps, events=events)


class Kept(NamedTuple):
    """What a run keeps of each replication as it finishes: its KPIs as one array (KPI x year),
    and its event log if asked for.  A replication's full result (its KPIs as lists of Python
    numbers, its census) takes about ten times the memory."""

    replication: int
    values: np.ndarray
    log: list[tuple] | None

    @classmethod
    def of(cls, result) -> "Kept":
        return cls(result.replication, np.array([result.kpis[name] for name in KPI_NAMES], dtype=float), result.log)


def replication_table(results, labels: list[str]) -> pd.DataFrame:
    """One row per (replication, year, KPI) with its value (replication, then KPI, then year), from
    replications' results or what was kept of them (:class:`Kept`)."""
    n_reps, n_kpis, n_years = len(results), len(KPI_NAMES), len(labels)
    values = np.empty((n_reps, n_kpis, n_years))  # rep x kpi x year
    for i, r in enumerate(results):
        values[i] = r.values if isinstance(r, Kept) else [r.kpis[name] for name in KPI_NAMES]
    return pd.DataFrame({
        "replication": np.repeat(np.array([r.replication for r in results], dtype=np.int64), n_kpis * n_years),
        "year": np.tile(np.arange(1, n_years + 1), n_reps * n_kpis),
        "financial_year": _labels(np.tile(np.arange(n_years), n_reps * n_kpis), labels),
        "kpi": _labels(np.tile(np.repeat(np.arange(n_kpis), n_years), n_reps), KPI_NAMES),
        "value": values.ravel(),
    })


def _labels(codes: np.ndarray, names) -> pd.Series:
    """A text column from codes into ``names``, built through a categorical so that each row
    refers to one of a few strings (a column of text built row by row takes ten times the memory
    while it is built)."""
    return pd.Series(pd.Categorical.from_codes(codes, list(names))).astype(str)


def summarise(reps: pd.DataFrame) -> pd.DataFrame:
    """Mean and 90% interval (5th and 95th percentiles) over replications, by year and KPI.

    Averages that are undefined in a replication (no child adopted that year, say) are
    left out of that year's figures; ``n`` says how many replications contributed.
    """
    grouped = reps.groupby(["kpi", "year", "financial_year"], sort=False)["value"]
    out = grouped.agg(mean="mean", n="count").reset_index()
    out["p5"] = grouped.quantile(0.05).to_numpy()
    out["p95"] = grouped.quantile(0.95).to_numpy()
    gap = out["kpi"] == "adopter_gap"
    if gap.any():  # the gap of the mean counts (kpis.gap_of_means), in the years the counts have
        means = out.set_index(["kpi", "year"])["mean"]
        out.loc[gap, "mean"] = [gap_of_means(means.get((GAP_COUNTS[0], y), np.nan), means.get((GAP_COUNTS[1], y), np.nan))
                                for y in out.loc[gap, "year"]]
    out["unit"] = out["kpi"].map(lambda k: KPI_BY_NAME[k].unit)
    out["label"] = out["kpi"].map(lambda k: KPI_BY_NAME[k].label)
    order = {name: i for i, name in enumerate(KPI_NAMES)}
    out = out.sort_values(["kpi", "year"], key=lambda s: s.map(order) if s.name == "kpi" else s)
    return out[["year", "financial_year", "kpi", "label", "unit", "mean", "p5", "p95", "n"]].reset_index(drop=True)


def event_table(results) -> pd.DataFrame:
    """The per-entity audit log: every change of state, by replication."""
    rows = [(r.replication, *e) for r in results for e in (r.log or [])]
    return pd.DataFrame(rows, columns=["replication", "day", "entity", "id", "size", "from_state", "to_state"])
