"""Forecast back test: fit to a report's earlier years, forecast its last (figures the fit never saw)."""

from pathlib import Path

import pytest

from sim.calibration.back_test import back_test, held_out, summary
from sim.calibration.fit import CalibrationError
from sim.calibration.targets import load_targets

TARGETS = Path(__file__).resolve().parent.parent / "calibration" / "targets"


def test_the_last_value_of_each_series_is_held_out():
    ts = load_targets(TARGETS / "rotherham-2017-18.toml")
    figures = {t.figure for t in held_out(ts)}
    assert {"enquiries", "approvals", "placement_orders", "adoption_orders", "a2_days"} <= figures
    assert all(t.year is None for t in held_out(ts))


def test_a_file_without_a_series_says_what_to_add(tmp_path):
    text = (TARGETS / "hampshire-2012.toml").read_text(encoding="utf-8")
    path = tmp_path / "hampshire.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalibrationError, match="no series to back-test.*year ="):
        back_test(path, replications=4, max_iterations=1, workers=1)


def test_cambridgeshire_forecast_of_its_last_year_stays_close():
    """Cambridgeshire 2017/18 gives plans for adoption and early permanence placements for three
    years: fitted to 2015/16 and 2016/17 (and the report's other figures), the forecast of 2017/18
    must keep the observed values inside its 90% interval and the plans within 15%.  A short fit
    (few replications and iterations) keeps the test quick; the README's table uses the full one."""
    table = back_test(TARGETS / "cambridgeshire-2017-18.toml", replications=8, forecast_replications=100,
                      max_iterations=3, workers=1, design=100, candidates=100, central_replications=40)
    assert set(table["figure"]) == {"plans_for_adoption", "early_permanence_placements"}
    assert table["inside"].all(), table
    plans = table.set_index("figure").loc["plans_for_adoption"]
    assert abs(plans["error_pct"]) < 15, table
    assert summary(table)["figures"].iloc[0] == 2


def test_leave_out_keeps_only_the_figures_most_agencies_publish():
    from sim.calibration.back_test import common_figures

    cp = load_targets(TARGETS / "cambridgeshire-peterborough-2022-23.toml")
    assert [t.figure for t in common_figures(cp)] == ["approvals", "placement_orders", "adoption_orders",
                                                      "adopters_waiting"]
    assert all(t.year is None for t in common_figures(cp))
    hampshire = load_targets(TARGETS / "hampshire-2012.toml")
    assert [t.figure for t in common_figures(hampshire)] == ["a1_days"]
