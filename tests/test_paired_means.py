"""Every mean shown beside a paired change comes from the same replications as the change.

A what-if and its baseline may run different numbers of replications (each chosen for precision);
the comparison shows each over the replications they share, so that scenario - baseline = change
in every table (the headline, the side-by-side comparison), whatever the counts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.planning import comparison
from sim.run.runner import run_scenario
from sim.scenario.parameters import Scenario
from tests.conftest import small

KPIS = ["approvals", "children_waiting_with_po", "a2_days", "interagency_fees_gbp", "adoption_orders"]


def _what_if(base: Scenario, percent: float) -> Scenario:
    data = base.model_dump()
    data["change"] = [{"parameter": "adopters.enquiries_per_month", "start": "2023-24", "percent": percent}]
    return Scenario.model_validate(data)


@settings(max_examples=8, deadline=None)
@given(st.integers(2, 9), st.integers(2, 9), st.floats(-50, 80), st.sampled_from([None, 1, 2, 3]))
def test_scenario_minus_baseline_is_the_change_in_every_table(base_reps, what_if_reps, percent, year):
    base = small(years=3, seed=3)
    runs = {"baseline": run_scenario(base, replications=base_reps),
            "what-if": run_scenario(_what_if(base, percent), replications=what_if_reps)}
    headline = comparison.change_table(runs["baseline"], runs["what-if"], KPIS, year).set_index("kpi")
    both = comparison.side_by_side(runs, KPIS, year).set_index(["kpi", "scenario"])
    for kpi in KPIS:
        row = headline.loc[kpi]
        if np.isnan(row["change"]):
            continue
        assert row["scenario"] - row["baseline"] == pytest.approx(row["change"], abs=1e-9)
        assert row["n"] == min(base_reps, what_if_reps) or row["n"] < min(base_reps, what_if_reps)
        side = both.loc[(kpi, "what-if")]
        reference = both.loc[(kpi, "baseline")]
        assert side["mean"] - reference["mean"] == pytest.approx(side["change"], abs=1e-9)
        assert side["mean"] == pytest.approx(row["scenario"]) and reference["mean"] == pytest.approx(row["baseline"])


def test_finance_spend_and_saving_come_from_the_same_replications():
    from sim.planning import finance

    base = small(years=3, seed=5)
    b = run_scenario(base, replications=6)
    s = run_scenario(_what_if(base, 40.0), replications=9)
    table = finance.spend_table(b, s)
    assert (table["baseline_gbp"].notna()).all()
    exact = finance.spend_table(b, run_scenario(_what_if(base, 40.0), replications=6))
    assert table[["baseline_gbp", "scenario_gbp", "saving_gbp"]].equals(exact[["baseline_gbp", "scenario_gbp",
                                                                              "saving_gbp"]])
