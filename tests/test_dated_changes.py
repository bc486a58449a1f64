"""Dated changes and trends: history runs on the baseline, changes act from their date with the
pipeline's lags, trends move the baseline itself, and bad entries are refused clearly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model.pipeline import run_replication
from sim.run.runner import run_scenario
from sim.scenario.calendar import YEAR_DAYS
from sim.scenario.changes import monthly_values
from sim.scenario.files import ScenarioError, load_scenario, parse_scenario
from sim.scenario.parameters import Scenario, run_months
from tests.conftest import small

CALIBRATED = ("cambridgeshire-peterborough-2022-23", "cambridgeshire-2017-18", "rotherham-2017-18")


def _with(base: Scenario, **extra) -> Scenario:
    data = base.model_dump()
    data.update(extra)
    return Scenario.model_validate(data)


def _campaign(scenario: Scenario, percent: float = 30.0) -> Scenario:
    """A recruitment campaign from April of the first year after year 1."""
    fy = scenario.scenario.start_year + 1
    return _with(scenario, change=[{"parameter": "adopters.enquiries_per_month", "start": f"{fy}-{(fy + 1) % 100:02d}",
                                    "percent": percent}])


@pytest.mark.parametrize("name", CALIBRATED)
def test_a_campaign_changes_nothing_before_it_starts_then_approvals_follow_with_a_lag(name):
    base = _with(load_scenario(name), scenario={**load_scenario(name).scenario.model_dump(), "years": 3})
    campaign = _campaign(base, 50.0)
    b = run_scenario(base, replications=30)
    c = run_scenario(campaign, replications=30)
    rb, rc = b.replications, c.replications
    assert np.array_equal(rb[rb.year == 1].value.to_numpy(), rc[rc.year == 1].value.to_numpy(), equal_nan=True)

    def change(kpi, year):
        return (c.kpi(kpi)["mean"] - b.kpi(kpi)["mean"])[year - 1]

    assert change("enquiries", 2) > 0.3 * b.kpi("enquiries")["mean"][1]  # the campaign acts at once on enquiries
    # approvals come after stages 1 and 2 (nine months or more): most of the rise comes in year 3
    assert change("approvals", 3) > change("approvals", 2) >= -1.0
    assert change("approvals", 3) > 0


def test_the_first_extra_approval_comes_after_registration_and_both_stages():
    """With fixed durations and no enquiries before the change, nobody is approved until the
    change's date plus the days to register, stage 1 and stage 2 (and the panel after)."""
    s = small(years=3, warm_up=1,
              adopters={"enquiries_per_month": 0.0, "stage1_cv": 0.0, "stage2_cv": 0.0, "stage1_days": 70.0,
                        "stage2_days": 120.0, "break_share": 0.0, "enquiry_to_registration_days": 30.0,
                        "return_share": 0.0},
              initial_state={"adopters_waiting": 0, "households_stage1": 0, "households_stage2": 0})
    s = _with(s, change=[{"parameter": "adopters.enquiries_per_month", "start": "2023-24", "value": 40.0}])
    r = run_replication(s, 0, event_log=True)
    start = 2 * YEAR_DAYS  # April 2023: one warm-up year, then year 1 (2022-23)
    approved = [t for t, kind, _, _, _, new in r.log if kind == "household" and new == "approved_waiting"]
    assert approved and min(approved) >= start + 30.0 + 70.0 + 120.0
    assert r.kpis["approvals"][0] == 0 and r.kpis["approvals"][1] > 0


def test_more_social_workers_from_a_date_clear_the_queue_for_stage_2_after_it():
    """Caseload places added part-way through a run go at once to households waiting for one."""
    s = small(years=3, warm_up=1, adopters={"assessing_social_workers": 1.0, "enquiries_per_month": 40.0})
    more = _with(s, change=[{"parameter": "adopters.assessing_social_workers", "start": "2023-04", "add": 6.0}])
    b, m = run_scenario(s, replications=6), run_scenario(more, replications=6)
    assert m.kpi("approvals")["mean"][0] == b.kpi("approvals")["mean"][0]
    assert m.kpi("approvals")["mean"][1] > b.kpi("approvals")["mean"][1] + 5
    fewer = _with(s, change=[{"parameter": "adopters.assessing_social_workers", "start": "2023-04", "value": 0.0}])
    assert run_scenario(fewer, replications=6).kpi("approvals")["mean"][2] == 0  # places taken away disappear


def test_a_fee_change_applies_to_placements_from_its_date():
    s = small(years=3, warm_up=1)
    dearer = _with(s, change=[{"parameter": "fees.vaa_one_child_gbp", "start": "2024-25", "percent": 50.0},
                              {"parameter": "fees.la_one_child_gbp", "start": "2024-25", "percent": 50.0}])
    b, d = run_scenario(s, replications=6), run_scenario(dearer, replications=6)
    fees_b, fees_d = b.kpi("interagency_fees_gbp")["mean"], d.kpi("interagency_fees_gbp")["mean"]
    assert fees_d[0] == fees_b[0] and fees_d[1] == fees_b[1]
    assert fees_d[2] > fees_b[2]


def test_a_time_limited_campaign_ramps_and_ends():
    s = _with(small(years=4, warm_up=1), change=[{"parameter": "adopters.enquiries_per_month", "start": "2023-04",
                                                  "end": "2023-09", "percent": 40.0, "ramp_months": 2}])
    path = monthly_values(s, run_months(s))[("adopters", "enquiries_per_month")]
    base = s.adopters.enquiries_per_month
    april = 24  # months from April 2021 (the warm-up year) to April 2023
    assert path[april - 1] == base
    assert path[april] == pytest.approx(base * 1.2) and path[april + 1] == pytest.approx(base * 1.4)
    assert path[april + 5] == pytest.approx(base * 1.4) and path[april + 6] == base


def test_later_changes_act_on_earlier_ones_in_order():
    s = _with(small(years=4, warm_up=1), change=[
        {"parameter": "adopters.assessing_social_workers", "start": "2023-24", "value": 8.0},
        {"parameter": "adopters.assessing_social_workers", "start": "2024-04", "end": "2024-06", "add": -2.0}])
    path = monthly_values(s, run_months(s))[("adopters", "assessing_social_workers")]
    assert path[24] == 8.0 and path[36] == 6.0 and path[39] == 8.0


def test_a_trend_averages_the_parameter_over_its_anchor_year_and_holds_after():
    s = _with(small(years=4, warm_up=2), trend=[{"parameter": "children.entering_per_year", "percent_per_year": 20.0}])
    path = monthly_values(s, run_months(s))[("children", "entering_per_year")]
    year1 = path[24:36]  # two warm-up years, then year 1
    assert np.mean(year1) == pytest.approx(s.children.entering_per_year, rel=1e-9)
    assert path[0] < path[12] < path[24] and path[35] == path[47] == path[-1]
    assert path[35] / path[23] == pytest.approx(1.2, rel=1e-9)


def test_values_by_year_step_at_april_and_hold_outside_the_years_given():
    s = _with(small(years=3, warm_up=1), trend=[{"parameter": "children.entering_per_year",
                                                 "by_year": {"2022-23": 50.0, "2023-24": 80.0}}])
    path = monthly_values(s, run_months(s))[("children", "entering_per_year")]
    assert path[0] == path[23] == 50.0 and path[24] == path[-1] == 80.0  # 2021-22 held at the first value


def test_a_trend_in_children_entering_moves_the_flows_year_by_year():
    s = small(years=3, warm_up=2, children={"entering_per_year": 200.0})
    rising = _with(s, trend=[{"parameter": "children.entering_per_year", "percent_per_year": 30.0,
                              "until": "2024-25"}])
    plans = run_scenario(rising, replications=8).kpi("plans_for_adoption")["mean"]
    assert plans[0] < plans[1] < plans[2]


# --- bad entries --------------------------------------------------------------------------

BAD = {
    "before the first forecast year": ('start = "2022-10"\nvalue = 30.0', "before the first forecast year"),
    "unknown parameter": ('start = "2023-24"\nvalue = 30.0', "no parameter"),
    "two kinds": ('start = "2023-24"\nvalue = 30.0\npercent = 10.0', "exactly one of"),
    "bad month": ('start = "2023-13"\nvalue = 30.0', "neither a month"),
    "ends before it starts": ('start = "2024-04"\nend = "2023-12"\nvalue = 30.0', "before it starts"),
    "out of range": ('start = "2023-24"\npercent = -200.0', "outside its valid range"),
    "unknown field": ('start = "2023-24"\nvalue = 30.0\nfrom = "2023-24"', "unknown field 'from'"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_change_is_refused_naming_the_file_the_entry_and_what_is_allowed(case):
    body, expected = BAD[case]
    parameter = "adopters.enquiries_per_montth" if case == "unknown parameter" else "adopters.enquiries_per_month"
    text = f'extends = "cambridgeshire-peterborough-2022-23"\n[[change]]\nparameter = "{parameter}"\n{body}\n'
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "my.toml")
    assert str(err.value).startswith("my.toml: ") and "change 1" in str(err.value) and expected in str(err.value)


def test_overlapping_changes_of_one_parameter_are_refused():
    text = ('[[change]]\nparameter = "adopters.stage1_days"\nstart = "2023-04"\nend = "2023-12"\nvalue = 80.0\n'
            '[[change]]\nparameter = "adopters.stage1_days"\nstart = "2023-06"\nvalue = 90.0\n')
    with pytest.raises(ScenarioError, match="change 2 .* overlaps"):
        parse_scenario(text, "my.toml")


def test_a_what_if_adds_its_changes_to_its_parents():
    s = load_scenario("raise-recruitment-65")
    assert [c.parameter for c in s.change] == ["adopters.enquiries_per_month"]
    assert s.adopters.enquiries_per_month == load_scenario("baseline").adopters.enquiries_per_month


_dates = st.one_of(
    st.builds(lambda y, m: f"{y}-{m:02d}", st.integers(2015, 2035), st.integers(0, 14)),
    st.builds(lambda y: f"{y}-{(y + 1) % 100:02d}", st.integers(2015, 2035)),
    st.text(max_size=8),
)
_entries = st.fixed_dictionaries(
    {"parameter": st.sampled_from(["adopters.enquiries_per_month", "adopters.registration_share", "panel.cases_per_panel",
                                   "children.sibling_group_probs", "scenario.years", "fees.vaa_one_child_gbp",
                                   "nope.nothing"]),
     "start": _dates},
    optional={"end": _dates, "value": st.one_of(st.floats(), st.integers(-5, 10**6), st.booleans(),
                                                                   st.lists(st.floats(0, 1), max_size=4)),
              "percent": st.floats(-300, 300), "add": st.floats(-1e6, 1e6), "ramp_months": st.integers(-2, 700),
              "change_unit": st.sampled_from(["percent", "points", "metres"])})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_entries, min_size=1, max_size=3))
def test_any_dated_change_is_either_valid_or_refused_clearly(entries):
    """Generated changes: each scenario is valid (and every monthly value within range) or the
    refusal names the file; never another exception."""
    data = {"change": entries}
    try:
        s = Scenario.model_validate(data)
    except Exception:  # noqa: BLE001 - classified through the scenario reader below
        s = None
    if s is None:
        from sim.scenario.files import scenario_from_dict

        with pytest.raises(ScenarioError) as err:
            scenario_from_dict(data, "fuzz.toml")
        assert str(err.value).startswith("fuzz.toml: ")
        return
    months = run_months(s)
    earliest = (s.scenario.warm_up_years + 1) * 12  # April of year 2
    for path in monthly_values(s, months).values():
        assert len(path) == months
        assert all(v == v for v in path if isinstance(v, float))  # no NaN reaches the model
        assert all(v == path[0] for v in path[:earliest])  # history runs on the baseline
