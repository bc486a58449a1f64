"""Choosing the warm-up: how many simulated years before year 1 until a run has settled.

Method (Welch's graphical method made numeric, on financial-year means): run the scenario
with no warm-up over a long horizon (default 12 years) and many replications; take the mean
of each settling measure by year; call the average of the second half of the horizon its
steady level; a measure has settled from the first year after which every yearly mean stays
within ``tolerance`` (default 10%) of that level, or within two standard errors of it where
chance alone moves a yearly mean by more (small counts).  The warm-up needed is the latest such year
over the measures (less one: year 1 of the long run is the first warm-up year), and a
scenario's ``warm_up_years`` should be at least that.  A measure with a trend, or a
dated change, has no steady level; run this on the scenario without them.

The measures are the ones planners read and whose memory is longest: adopters waiting,
children waiting with an order, A2 and A10 (which look back over a child's whole wait),
approvals, placements, adoption orders and interagency placements.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.scenario.parameters import Scenario

SETTLING_KPIS = ("approvals", "adopters_waiting", "children_waiting_with_po", "placements", "adoption_orders",
                 "interagency_placements", "a2_days", "a10_days")


@dataclass
class WarmUpAnalysis:
    """Yearly means from an unwarmed run, each measure's settling year, and the warm-up it implies."""

    table: pd.DataFrame  # year x KPI: mean over replications
    steady: pd.Series  # KPI: mean of the second half of the horizon
    settled_from: pd.Series  # KPI: first year from which every yearly mean is within tolerance
    tolerance: float

    @property
    def warm_up_years(self) -> int:
        """Years to simulate before year 1 so that every measure has settled."""
        return int(max(0, self.settled_from.max() - 1))

    def text(self) -> str:
        lines = [f"Yearly means with no warm-up (steady level = mean of years {len(self.table) // 2 + 1}-"
                 f"{len(self.table)}; settled = every later year within {self.tolerance:.0%} of it):", ""]
        shown = self.table.copy()
        shown.loc["steady"] = self.steady
        shown.loc["settled from year"] = self.settled_from
        lines.append(shown.round(1).to_string())
        lines += ["", f"Warm-up needed: {self.warm_up_years} years before year 1."]
        return "\n".join(lines)


def analyse_warm_up(scenario: Scenario, replications: int = 100, years: int = 12, tolerance: float = 0.10,
                    engine: str = "processes") -> WarmUpAnalysis:
    """Run ``scenario`` with no warm-up for ``years`` and find when each settling measure settles."""
    from sim.run.runner import run_scenario

    data = scenario.model_dump()
    data["scenario"].update(warm_up_years=0, years=years)
    data["change"], data["trend"] = [], []
    results = run_scenario(Scenario.model_validate(data), replications=replications, engine=engine)
    table = results.summary.pivot(index="year", columns="kpi", values="mean")[list(SETTLING_KPIS)]
    reps = results.replications[results.replications["kpi"].isin(SETTLING_KPIS)]
    se = reps.groupby(["year", "kpi"])["value"].sem().unstack()[list(SETTLING_KPIS)]
    steady = table.iloc[years // 2:].mean()
    allowed = np.maximum(tolerance * steady.abs().to_numpy(), 2.0 * se.to_numpy())
    within = (table - steady).abs() <= allowed
    settled = {}
    for kpi in SETTLING_KPIS:
        ok = within[kpi].to_numpy()
        # first year from which all later years are within tolerance
        later_all = np.logical_and.accumulate(ok[::-1])[::-1]
        settled[kpi] = int(np.argmax(later_all)) + 1 if later_all.any() else years
    return WarmUpAnalysis(table=table, steady=steady, settled_from=pd.Series(settled), tolerance=tolerance)
