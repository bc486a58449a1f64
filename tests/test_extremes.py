"""Extreme values: the model stays sensible with nothing flowing."""

import math

import pytest

from sim.run.runner import run_scenario
from sim.scenario.files import load_scenario, parse_scenario, scenario_from_dict, to_toml
from tests.conftest import small


def _totals(results, kpi):
    return results.summary.loc[results.summary["kpi"] == kpi, "mean"].to_numpy()


def test_no_enquiries_means_no_adopters():
    # no second-time adopters either: past adopters due to return start the run (sim.model.initial_state)
    r = run_scenario(small(adopters={"enquiries_per_month": 0.0, "return_share": 0.0}))
    for kpi in ("enquiries", "registrations", "approvals", "inhouse_placements", "adopters_waiting"):
        assert (_totals(r, kpi) == 0).all(), kpi
    # children still move on, through interagency families only
    assert (_totals(r, "interagency_placements") > 0).all()
    assert (_totals(r, "inhouse_share_pct") == 0).all()


def test_without_enquiries_only_returning_adopters_are_approved():
    r = run_scenario(small(adopters={"enquiries_per_month": 0.0, "return_share": 0.5}))
    assert (_totals(r, "registrations") == 0).all()
    assert _totals(r, "approvals").sum() > 0  # past adopters coming back for a second child


def test_no_children_means_no_placements():
    r = run_scenario(small(children={"entering_per_year": 0.0}))
    for kpi in ("plans_for_adoption", "placement_orders", "placements", "adoption_orders",
                "interagency_fees_gbp", "children_waiting_with_po"):
        assert (_totals(r, kpi) == 0).all(), kpi
    for kpi in ("a1_days", "a2_days", "adopter_gap"):
        assert all(math.isnan(v) for v in _totals(r, kpi)), f"{kpi} should be undefined with no children"
    assert (_totals(r, "adopters_waiting") > 0).all()


def test_no_panel_capacity_means_no_approvals_or_matches():
    """With no panel, nothing is approved or matched; only children already placed when the run
    starts (here none) could still be adopted."""
    for panel in ({"panels_per_month": 0.0}, {"cases_per_panel": 0}):
        r = run_scenario(small(panel=panel, initial_state={"children_placed_awaiting_order": 0}))
        for kpi in ("approvals", "matches", "placements", "adoption_orders"):
            assert (_totals(r, kpi) == 0).all(), (panel, kpi)


def test_no_assessing_social_workers_means_no_approvals():
    r = run_scenario(small(adopters={"assessing_social_workers": 0.0}))
    assert (_totals(r, "approvals") == 0).all()
    assert (_totals(r, "registrations") > 0).all()


def test_an_england_sized_agency_validates_and_runs():
    """England as a whole: Cambridgeshire & Peterborough 2022/23 x100 in inflows, capacity and
    initial stocks, one replication of one year after a year's warm-up (a few seconds)."""
    data = load_scenario("cambridgeshire-peterborough-2022-23").model_dump()
    data["scenario"].update(years=1, warm_up_years=1, replications=1)
    data["adopters"]["enquiries_per_month"] *= 100
    data["adopters"]["assessing_social_workers"] *= 100
    data["children"]["entering_per_year"] *= 100
    data["panel"]["panels_per_month"] *= 100
    data["panel"]["extra_panels_per_month"] *= 100
    for name, n in data["initial_state"].items():
        if n is not None:  # a stock the scenario gives
            data["initial_state"][name] = n * 100
    england = parse_scenario(to_toml(scenario_from_dict(data, "england.toml")), "england.toml")
    assert england.children.entering_per_year == pytest.approx(6000.0)
    r = run_scenario(england, engine="serial")
    # about a hundred times the agency's ~37 approvals and ~50 matches a year (England: 2,850-2,980
    # families approved a year in 2017-19, DOMAIN.md)
    assert 2000 < _totals(r, "approvals")[0] < 6000
    assert 3000 < _totals(r, "matches")[0] < 8000
