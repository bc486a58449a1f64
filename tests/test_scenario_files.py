"""Scenario files: validated on load with messages naming the file and field; never
overwritten without asking."""

import pytest

from sim.scenario.files import (
    BUILT_IN_FILE,
    ScenarioError,
    load_scenario,
    parse_scenario,
    save_scenario,
    scenario_names,
    to_toml,
)
from sim.scenario.parameters import Scenario, parameter_table


def _load(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return load_scenario(path)


@pytest.mark.parametrize("text, expected", [
    ("[adopters]\nstage1_dayz = 3\n", ["adopters.stage1_dayz", "did you mean 'stage1_days'"]),
    ("[adopter]\nstage1_days = 3\n", ["unknown section [adopter]", "did you mean 'adopters'"]),
    ("[adopters]\nstage1_days = 'long'\n", ["adopters.stage1_days", "valid number", "1 to 730 days"]),
    ("[adopters]\nstage1_days = -5\n", ["adopters.stage1_days", "greater than or equal to 1", "got -5"]),
    ("[adopters]\nregistration_share = 1.4\n", ["adopters.registration_share", "0 to 1 probability"]),
    ("[children]\nsibling_group_probs = [0.5, 0.6, 0.1]\n", ["children", "add up to 1"]),
    ("[children]\nage_band_probs = [0.5, 0.5]\n", ["children", "four probabilities"]),
    ("[matching]\nsplit_sibling_groups = 1\n", ["matching.split_sibling_groups", "true or false"]),
    ("[adopters\nx=1", ["not valid TOML"]),
    ("extends = 'no-such-scenario'\n", ["no-such-scenario", "no such scenario"]),
])
def test_bad_files_get_clear_errors(tmp_path, text, expected):
    with pytest.raises(ScenarioError) as err:
        _load(tmp_path, text)
    message = str(err.value)
    assert "s.toml" in message or "no-such-scenario" in message
    for fragment in expected:
        assert fragment in message


def test_extends_changes_only_what_it_says(tmp_path):
    (tmp_path / "base.toml").write_text("[adopters]\nstage1_days = 80.0\nstage2_days = 100.0\n")
    child = _load(tmp_path, "extends = 'base'\n[adopters]\nstage2_days = 90.0\n", "child.toml")
    assert child.adopters.stage1_days == 80.0 and child.adopters.stage2_days == 90.0


def test_built_in_baseline_is_the_calibrated_file():
    built_in = load_scenario()
    assert built_in == load_scenario("baseline") == load_scenario(BUILT_IN_FILE)
    assert built_in.calibration.targets_file and built_in.calibration.fitted
    built_in.adopters.stage1_days = 1.0  # a caller changing its copy leaves the built-in as it was
    assert load_scenario().adopters.stage1_days == load_scenario(BUILT_IN_FILE).adopters.stage1_days != 1.0


def test_a_what_if_on_a_calibrated_baseline_drops_the_fitted_record_of_what_it_changes(tmp_path):
    base = load_scenario(BUILT_IN_FILE)
    assert "adopters.enquiries_per_month" in base.calibration.fitted
    child = _load(tmp_path, f"extends = '{BUILT_IN_FILE}'\n[adopters]\nenquiries_per_month = 40.0\n"
                            f"stage1_days = {base.adopters.stage1_days}\n")
    fitted = child.calibration.fitted
    assert "adopters.enquiries_per_month" not in fitted  # changed: no longer the fitted value
    assert "adopters.stage1_days" in fitted  # written out at its fitted value: still fitted
    assert set(base.calibration.fitted) - set(fitted) == {"adopters.enquiries_per_month"}
    upload = parse_scenario(f"extends = '{BUILT_IN_FILE}'\n[matching]\ninhouse_search_days = 30.0\n", "upload.toml")
    assert "matching.inhouse_search_days" not in upload.calibration.fitted


def test_extends_names_the_file_that_refers_and_the_file_at_fault(tmp_path, monkeypatch):
    child = tmp_path / "child.toml"
    child.write_text("extends = 'no-such-parent'\n")
    with pytest.raises(ScenarioError, match=r"child\.toml: field 'extends': no-such-parent: no such scenario file"):
        load_scenario(child)
    (tmp_path / "parent.toml").write_text("[adopters]\nregistration_share = 1.5\n")
    child.write_text("extends = 'parent'\n[adopters]\nstage1_days = 90.0\n")
    with pytest.raises(ScenarioError, match=r"parent\.toml: field 'adopters\.registration_share'") as err:
        load_scenario(child)
    assert "child.toml" not in str(err.value)  # the mistake is the parent's, not the child's
    (tmp_path / "parent.toml").write_text("[scenario]\nname = 'Parent'\n")
    child.write_text("extends = 'parent.toml'\n")  # a path relative to the child, from another folder
    monkeypatch.chdir("/")
    assert load_scenario(child).scenario.name == "child (changes 'Parent')"


def test_a_what_if_without_a_name_is_not_called_by_its_parents_name(tmp_path):
    child = _load(tmp_path, f"extends = '{BUILT_IN_FILE}'\n[adopters]\nassessing_social_workers = 0.0\n", "nosw.toml")
    assert child.scenario.name == f"nosw (changes '{load_scenario().scenario.name}')"
    named = _load(tmp_path, f"extends = '{BUILT_IN_FILE}'\n[scenario]\nname = 'No social workers'\n", "n.toml")
    assert named.scenario.name == "No social workers"


def test_extends_cycle_refused(tmp_path):
    (tmp_path / "a.toml").write_text("extends = 'b'\n")
    (tmp_path / "b.toml").write_text("extends = 'a'\n")
    with pytest.raises(ScenarioError, match="circle"):
        load_scenario(tmp_path / "a.toml")


def test_round_trip_and_no_silent_overwrite(tmp_path):
    s = Scenario.model_validate({"adopters": {"enquiries_per_month": 33.0}})
    path = save_scenario(s, tmp_path / "mine.toml")
    assert load_scenario(path) == s
    with pytest.raises(ScenarioError, match="already exists"):
        save_scenario(s, path)
    assert load_scenario(path) == s
    save_scenario(Scenario(), path, overwrite=True)
    assert load_scenario(path) == Scenario()


def test_parse_text_upload():
    assert parse_scenario(to_toml(Scenario()), "upload.toml") == Scenario()
    with pytest.raises(ScenarioError, match="upload.toml: field 'fees.monthly_fee_gbp'"):
        parse_scenario("[fees]\nmonthly_fee_gbp = -1.0\n", "upload.toml")


def test_every_shipped_scenario_loads():
    for name in scenario_names():
        assert isinstance(load_scenario(name), Scenario)


def test_every_parameter_has_unit_range_and_source():
    for row in parameter_table():
        assert row["unit"], row["name"]
        assert row["source"], row["name"]
        assert row["meaning"], row["name"]
        numeric = isinstance(row["default"], (int, float)) and not isinstance(row["default"], bool)
        if numeric and row["section"] != "scenario":
            assert row["min"] is not None and row["max"] is not None, row["name"]


#: The largest figures a scenario may need: England as a whole is about 100 times Cambridgeshire &
#: Peterborough (25.7 enquiries a month, 65 children a year, 5 assessing social workers, 3 panels
#: a month, stocks up to about 40); the ranges admit many times that.
ENGLAND_AND_MORE = """
[adopters]
enquiries_per_month = 100000.0
assessing_social_workers = 20000.0

[children]
entering_per_year = 500000.0

[panel]
panels_per_month = 2000.0
extra_panels_per_month = 2000
cases_per_panel = 50

[initial_state]
households_stage1 = 1000000
households_stage2 = 1000000
adopters_waiting = 1000000
children_with_plan = 1000000
children_waiting_with_po = 1000000
children_placed_awaiting_order = 1000000
"""


def test_ranges_admit_every_agency_a_region_and_england():
    s = parse_scenario(ENGLAND_AND_MORE, "england.toml")
    assert s.adopters.enquiries_per_month == 100_000 and s.children.entering_per_year == 500_000
    assert s.panel.panels_per_month == 2000 and s.initial_state.children_waiting_with_po == 1_000_000


@pytest.mark.parametrize("text, expected", [
    ("[panel]\ncases_per_panel = 51\n", "0 to 50 cases"),  # a large agency holds more panels, not longer ones
    ("[panel]\napproval_share = 1.2\n", "panel.approval_share"),
    ("[panel]\nextra_panels_per_month = -1\n", "panel.extra_panels_per_month"),
    ("[adopters]\nenquiries_per_month = -1.0\n", "adopters.enquiries_per_month"),
    ("[initial_state]\nadopters_waiting = -3\n", "initial_state.adopters_waiting"),
])
def test_what_is_impossible_is_still_refused(text, expected):
    with pytest.raises(ScenarioError, match=expected):
        parse_scenario(text, "s.toml")
