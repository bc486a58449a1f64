"""Every mean shown beside a paired change comes from the same replications as the change.

A what-if and its baseline may run different numbers of replications (each chosen for precision);
the comparison shows each over the replications they share, so that scenario - baseline = change
in every table (the headline, the side-by-side comparison), whatever the counts."""

from __future__ import annotations

import re

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


_NUMBER = re.compile(r"([−+-]?)£?([\d,]+(?:\.\d+)?)")


def _numbers(cell: str) -> list[tuple[float, float]]:
    """Each number printed in a cell, with half the step it was rounded to (its last digit's place,
    or for whole pounds the place of its last non-zero digit): what 'to the rounding shown' allows."""
    out = []
    for sign, digits in _NUMBER.findall(cell):
        text = digits.replace(",", "")
        value = float(text) * (-1.0 if sign in ("−", "-") else 1.0)
        if "." in text:
            half = 0.5 * 10.0 ** -len(text.split(".")[1])
        else:
            stripped = text.rstrip("0") or "0"
            half = 0.5 * 10.0 ** (len(text) - len(stripped)) if "£" in cell else 0.5
        out.append((value, half))
    return out


def _estimate(cell: str) -> tuple[tuple[float, float], ...]:
    """A 'mean [p5 to p95]' cell as (value, half-step) for the mean and its bounds."""
    found = _numbers(cell)
    assert len(found) == 3, cell
    return tuple(found)


@settings(max_examples=6, deadline=None)
@given(st.integers(2, 8), st.integers(2, 8), st.floats(-50, 80), st.sampled_from([None, 2, 3]))
def test_every_output_shows_scenario_minus_reference_as_the_change_and_means_inside_intervals(
        base_reps, what_if_reps, percent, year):
    """The board paper's tables, the command line's comparison and the spreadsheet, for random runs:
    each mean lies within its printed interval, and scenario - reference = change to the rounding
    each shows."""
    from sim.planning import board_pack, export, finance
    from sim.planning.report_table import paired_side_by_side

    base = small(years=3, seed=7)
    runs = {"baseline": run_scenario(base, replications=base_reps),
            "what-if": run_scenario(_what_if(base, percent), replications=what_if_reps)}
    wide, changes = board_pack.headline_table(runs, year, kpis=KPIS)
    printed = paired_side_by_side(runs, KPIS, year)
    for label in wide.index:
        cells = {name: wide.loc[label, name] for name in runs}
        if "–" in cells.values() or any("on average" in c for c in cells.values()):
            continue
        (b, hb), *_ = _estimate(cells["baseline"])
        (s, hs), *_ = _estimate(cells["what-if"])
        change_cell = changes.loc[label, "what-if"]
        for cell in (cells["baseline"], cells["what-if"], change_cell):
            assert "".join(cell.split()) in "".join(printed.split()), (cell, "the command line shows the same")
            if "on average" not in cell:
                (m, _), (lo, hl), (hi, hh) = _estimate(cell)
                assert lo - hl <= m <= hi + hh, cell
        if "on average" not in change_cell:
            (c, hc), *_ = _estimate(change_cell)
            assert abs((s - b) - c) <= hb + hs + hc + 1e-9, (label, cells, change_cell)
    sheet = export.comparison_frame(runs, KPIS)
    for kpi in KPIS:
        rows = sheet[(sheet["kpi"] == kpi) & (sheet["financial_year"] == sheet["financial_year"].iloc[-1])]
        ref, other = rows.iloc[0], rows.iloc[1]
        if np.isnan(other["change"]):
            continue
        allowed = (_step(ref["p95"] - ref["p5"], ref["unit"]) + _step(other["p95"] - other["p5"], ref["unit"])
                   + _step(other["change_p95"] - other["change_p5"], ref["unit"])) / 2
        assert abs(other["mean"] - ref["mean"] - other["change"]) <= allowed + 1e-9, (kpi, ref, other)
    money = finance.spend_table(runs["baseline"], runs["what-if"])
    for r in money.itertuples():
        assert r.baseline_p5 <= r.baseline_gbp <= r.baseline_p95 and r.scenario_p5 <= r.scenario_gbp <= r.scenario_p95
        steps = [comparison.uncertainty_step(w) for w in (r.baseline_p95 - r.baseline_p5,
                                                         r.scenario_p95 - r.scenario_p5, r.saving_p95 - r.saving_p5)]
        sign = 1.0 if r.measure == "fees received" else -1.0
        assert abs(sign * (r.scenario_gbp - r.baseline_gbp) - r.saving_gbp) <= sum(steps) / 2 + 1e-6, r


def _step(width: float, unit: str) -> float:
    """The step a spreadsheet figure is rounded to: for pounds what its interval supports, else
    at most a whole unit (days and percentages are whole; counts keep a decimal or more)."""
    return comparison.uncertainty_step(width) if unit == "£" else 1.0
