"""A forecast starts from an agency's real position: the opening stock of children waiting.

Where a report gives the children waiting with an order at both ends of its year, the run reaches the
opening stock on the year's first day and the fit honours the closing one, so a year in which the
waiting list grows is reproduced rather than fitted from a settled start."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.calibration.command import calibrate
from sim.calibration.fit import fit_targets, opening_targets, plan_agency
from sim.calibration.fit_report import fit_report
from sim.calibration.targets import load_targets
from sim.model.initial_state import opening_day
from sim.run.runner import run_scenario
from sim.scenario.calendar import YEAR_DAYS
from sim.scenario.files import ScenarioError, load_scenario, scenario_from_dict
from sim.scenario.parameters import Scenario
from tests.conftest import small


def _with_opening(scenario: Scenario, children: int | None, year: str | None = None) -> Scenario:
    data = scenario.model_dump()
    data["initial_state"].update(opening_children_waiting_with_po=children, opening_year=year)
    return Scenario.model_validate(data)


def _year_one(scenario: Scenario, reps: int = 30) -> dict[str, float]:
    summary = run_scenario(scenario, replications=reps).summary
    first = summary[summary["financial_year"] == summary["financial_year"].min()]
    return first.set_index("kpi")["mean"].to_dict()


def test_a_backlog_at_the_start_of_year_one_is_there_and_worked_off():
    """An opening stock three times the steady level: more children waiting at the year's end and more
    placed in the year than from the settled start."""
    base = small(years=1, warm_up=2, seed=8)
    settled = _year_one(base)
    backlog = _year_one(_with_opening(base, int(3 * settled["children_waiting_with_po"]) + 10))
    assert backlog["children_waiting_with_po"] > settled["children_waiting_with_po"] + 3
    assert backlog["placements"] > settled["placements"]


def test_an_opening_stock_below_the_simulated_one_takes_no_child_away():
    base = small(years=2, warm_up=1, seed=4)
    assert run_scenario(_with_opening(base, 0), replications=5).summary.equals(
        run_scenario(base, replications=5).summary)


def test_the_opening_day_is_the_start_of_its_year():
    base = small(years=3, warm_up=2, seed=1)
    assert opening_day(_with_opening(base, 5)) == 2 * YEAR_DAYS
    later = _with_opening(base, 5, f"{base.scenario.start_year + 1}-{(base.scenario.start_year + 2) % 100:02d}")
    assert opening_day(later) == 3 * YEAR_DAYS
    data = _with_opening(base, 5).model_dump()
    data["initial_state"]["opening_year"] = "1999-00"
    with pytest.raises(ScenarioError, match="opening_year.*financial year 'YYYY-YY' of the run"):
        scenario_from_dict(data, "x.toml")


AGENCY = """\
[agency]
name = "Growshire"
financial_year = "2022-23"
start_year = 2022
report = "synthetic.txt"
timing_only = false
"""


def _target(figure: str, value: float, year: str | None = None) -> str:
    year_line = f'year = "{year}"\n' if year else ""
    return (f'\n[[target]]\nfigure = "{figure}"\nvalue = {value}\n{year_line}source = "synthetic.txt §2"\n'
            f"sd = {max(math.sqrt(value), 2.0):.3f}\nuse = true\n")


def test_a_waiting_list_that_grows_by_a_third_is_reproduced(tmp_path):
    """Orders above placements and the waiting list up from 30 to 40 in the year: the calibration starts
    the report's year from the 30 and its year-end stock comes back near the 40."""
    body = (_target("placement_orders", 60) + _target("placements", 45) + _target("approvals", 30)
            + _target("children_waiting_with_po", 30, "2021-22") + _target("children_waiting_with_po", 40))
    path = tmp_path / "growshire.toml"
    path.write_text(AGENCY + body, encoding="utf-8")
    ts = load_targets(path)
    [opening] = opening_targets(ts)
    assert opening.value == 30 and opening not in fit_targets(ts)
    plan = plan_agency(ts)
    assert plan.start.initial_state.opening_children_waiting_with_po == 30
    assert plan.start.initial_state.opening_year == "2022-23"
    out = calibrate(path, out=tmp_path / "fit" / "growshire.toml", replications=16, report_replications=60,
                    max_iterations=6, design=100, candidates=100, workers=2)
    scenario = load_scenario(str(out.scenario_path))
    assert scenario.initial_state.opening_children_waiting_with_po == 30
    assert scenario.calibration.fitted["initial_state.opening_children_waiting_with_po"].startswith(
        "set from ")
    table = out.table.set_index(["figure", "year"])
    closing = table.loc[("children_waiting_with_po", "2022-23")]
    assert abs(closing["mean_with_parameter_uncertainty"] - 40) <= closing["sd"], closing
    assert table.loc[("children_waiting_with_po", "2021-22"), "role"] == "opening stock"
    assert np.isfinite(closing["mean"])


def test_shipped_baselines_without_an_opening_stock_run_as_before():
    """No seed report gives the children waiting at both ends of its year as agencies report it, so no
    shipped agency baseline has an opening stock; their fit reports show none."""
    for name in ("cambridgeshire-peterborough-2022-23", "cambridgeshire-2017-18", "rotherham-2017-18"):
        assert load_scenario(name).initial_state.opening_children_waiting_with_po is None
        assert "opening stock" not in set(fit_report(name)["role"])
