"""Nothing a user types crashes, hangs or loses a file: scenario files (on disk, pasted or
uploaded) and parameter-sets CSVs that are wrong in every way found so far end in a
:class:`ScenarioError` naming the file, the field and what is allowed, never a traceback."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from sim.run.runner import run_scenario
from sim.scenario.files import (
    BUILT_IN_FILE,
    MAX_BYTES,
    MAX_EXTENDS,
    MAX_PROBLEMS,
    ScenarioError,
    load_scenario,
    parse_scenario,
    scenario_from_dict,
)
from sim.scenario.parameter_sets import (
    ParameterSetsError,
    load_parameter_sets,
    save_parameter_sets,
    with_parameters,
)
from sim.scenario.parameters import Scenario, parameter_table
from sim.scenario.upload import read_scenario_text
from tests.conftest import small


def _write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path, text, *fragments, name="s.toml") -> str:
    """``text`` is refused as a file and as pasted text, each time naming its source."""
    path = _write(tmp_path, text, name)
    with pytest.raises(ScenarioError) as on_disk:
        load_scenario(path)
    with pytest.raises(ScenarioError) as pasted:
        parse_scenario(text if isinstance(text, str) else text.decode("utf-8", "replace"), "pasted.toml")
    for message, source in ((str(on_disk.value), name), (str(pasted.value), "pasted.toml")):
        assert source in message
        for fragment in fragments:
            assert fragment in message, f"{fragment!r} not in {message!r}"
    return str(on_disk.value)


# --- wrong types in [calibration] ------------------------------------------------------------

@pytest.mark.parametrize("line, fragments", [
    ("targets_file = 5", ["calibration.targets_file", "valid string", "got 5", "allowed: text (path)"]),
    ("parameter_uncertainty = 'yes'", ["calibration.parameter_uncertainty", "got 'yes'", "allowed: true or false"]),
    ("parameter_sets = []", ["calibration.parameter_sets", "allowed: text"]),
    ("fitted = 5", ["calibration.fitted", "allowed: a table"]),
])
def test_wrong_type_in_calibration_is_explained(tmp_path, line, fragments):
    refused(tmp_path, f"[calibration]\n{line}\n", *fragments)


# --- nesting, size, huge numbers ---------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "[adopters]\nstage1_days = " + "[" * 500 + "]" * 500 + "\n",
    "[adopters]\nstage1_days = " + "{a = " * 500 + "1" + "}" * 500 + "\n",
    "[adopters]\n" + ".".join(["a"] * 500) + " = 1\n",
    "[" + ".".join(["a"] * 500) + "]\nx = 1\n",
    "x = " + "[" * 30 + "]" * 30 + "\n",
])
def test_deep_nesting_is_refused(tmp_path, text):
    refused(tmp_path, text, "nested more than 10 levels deep")


def test_a_message_lists_the_first_problems_and_counts_the_rest(tmp_path):
    text = "[adopters]\n" + "".join(f"k{i} = 1\n" for i in range(10_000))
    message = refused(tmp_path, text, "unknown field 'adopters.k0'", "... and 9,990 more problems")
    assert len(message.splitlines()) == MAX_PROBLEMS + 1
    assert len(message) < 10_000


def test_a_file_too_large_is_refused(tmp_path):
    text = "[scenario]\ndescription = '" + "x" * MAX_BYTES + "'\n"
    refused(tmp_path, text, "too large for a scenario file")
    with pytest.raises(ScenarioError, match="up.toml: too large"):
        read_scenario_text(text.encode(), "up.toml")


def test_integers_of_thousands_of_digits(tmp_path):
    refused(tmp_path, "[adopters]\nstage1_days = " + "1" * 5000 + "\n", "not valid TOML")
    message = refused(tmp_path, "[scenario]\nseed = " + "9" * 400 + "\n", "scenario.seed", "less than or equal to")
    assert len(message) < 500


def test_long_values_and_names_are_cut_short_in_messages(tmp_path):
    for text in ("[adopters]\nstage1_days = '" + "a" * 5000 + "'\n", "[" + "b" * 5000 + "]\nx = 1\n",
                 "extends = '" + "c" * 5000 + "'\n", "[adopters]\nstage1_days = [" + "1.0, " * 5000 + "]\n"):
        assert len(refused(tmp_path, text)) < 1000


# --- empty files, byte order marks ----------------------------------------------------------

@pytest.mark.parametrize("text", ["# only a comment\n", "# a\n\n# b\n", "[adopters]\n", "[adopters]\n[children]\n# x\n",
                                  "\ufeff# a comment after a byte order mark\n", "[calibration.fitted]\n"])
def test_a_file_that_sets_nothing_is_refused(tmp_path, text):
    refused(tmp_path, text, "sets nothing")


def test_a_byte_order_mark_is_accepted_everywhere(tmp_path):
    text = "[adopters]\nstage1_days = 90.0\n"
    expected = parse_scenario(text, "plain.toml")
    assert load_scenario(_write(tmp_path, ("\ufeff" + text).encode("utf-8"))) == expected
    assert parse_scenario("\ufeff" + text, "pasted") == expected
    assert read_scenario_text(b"\xef\xbb\xbf" + text.encode(), "up.toml") == expected
    assert read_scenario_text("\ufeff" + text, "pasted") == expected


# --- extends -------------------------------------------------------------------------------

def test_extends_baseline_is_the_built_in_baseline_in_files_and_text(tmp_path):
    built_in = load_scenario(BUILT_IN_FILE)
    text = "extends = 'baseline'\n[adopters]\nstage1_days = 90.0\n"
    for scenario in (load_scenario(_write(tmp_path, text, "mine.toml")), parse_scenario(text, "pasted"),
                     read_scenario_text(text.encode(), "up.toml")):
        assert scenario.adopters.stage1_days == 90.0
        assert scenario.children == built_in.children and scenario.matching == built_in.matching
        assert scenario.calibration.targets_file == built_in.calibration.targets_file
        assert f"(changes '{built_in.scenario.name}')" in scenario.scenario.name
    assert parse_scenario("extends = 'baseline'\n", "same").adopters == built_in.adopters


def test_extends_a_path_with_a_folder_is_relative_to_the_file(tmp_path, monkeypatch):
    (tmp_path / "helpers").mkdir()
    _write(tmp_path / "helpers", "[adopters]\nstage1_days = 77.0\n", "x.toml")
    _write(tmp_path / "helpers", "extends = '../base'\n[adopters]\nstage2_days = 88.0\n", "y.toml")
    _write(tmp_path, "[adopters]\nbreak_days = 66.0\n", "base.toml")
    monkeypatch.chdir("/")
    assert load_scenario(_write(tmp_path, "extends = 'helpers/x'\n", "a.toml")).adopters.stage1_days == 77.0
    assert load_scenario(_write(tmp_path, "extends = 'helpers/x.toml'\n", "b.toml")).adopters.stage1_days == 77.0
    chained = load_scenario(_write(tmp_path, "extends = 'helpers/y'\n", "c.toml")).adopters
    assert (chained.stage2_days, chained.break_days) == (88.0, 66.0)
    refused(tmp_path, "extends = 'helpers/nope'\n", "field 'extends'", "helpers/nope: no such scenario file")


@pytest.mark.parametrize("extends", ["sub/../c", "sub/../c.toml", "./c", "sub/../sub/../c.toml"])
def test_extends_a_path_that_grows_each_step_is_a_circle(tmp_path, extends):
    (tmp_path / "sub").mkdir()
    path = _write(tmp_path, f"extends = '{extends}'\n", "c.toml")
    with pytest.raises(ScenarioError, match="goes round in a circle"):
        load_scenario(path)


def test_extends_chain_is_at_most_20_files(tmp_path):
    n = 1200
    for i in range(n):
        _write(tmp_path, f"extends = 'f{i + 1}'\n" if i < n - 1 else "[adopters]\nstage1_days = 80.0\n", f"f{i}.toml")
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "f0.toml")
    message = str(err.value)
    assert f"a chain of more than {MAX_EXTENDS} scenario files" in message and "f0.toml" in message
    assert len(message) < 1000
    assert load_scenario(tmp_path / f"f{n - MAX_EXTENDS}.toml").adopters.stage1_days == 80.0  # 20 files: fine
    with pytest.raises(ScenarioError, match="a chain of more than"):
        load_scenario(tmp_path / f"f{n - MAX_EXTENDS - 1}.toml")


@pytest.mark.parametrize("extends", ["a" * 5000, "a\x00b", "", ".", "/", "..", "/dev/null", "/dev/zero"])
def test_extends_a_path_the_system_cannot_use(tmp_path, extends):
    text = "extends = " + repr(extends).replace("\\x00", "\\u0000") + "\n"
    refused(tmp_path, text, "field 'extends'")


def test_extends_a_file_that_cannot_be_read(tmp_path):
    with pytest.raises(ScenarioError, match="mem: the scenario file cannot be read"):
        load_scenario(_write(tmp_path, "extends = '/proc/self/mem'\n"))


def test_a_child_section_that_is_not_a_table_is_refused_not_merged(tmp_path):
    refused(tmp_path, "extends = 'baseline'\nscenario = 5\n", "[scenario] must be a table")
    refused(tmp_path, "extends = 'baseline'\n[calibration]\nfitted = 5\n[adopters]\nstage1_days = 90.0\n",
            "calibration.fitted")
    refused(tmp_path, "extends = 'baseline'\ncalibration = 5\n[adopters]\nstage1_days = 90.0\n",
            "[calibration] must be a table")


# --- NaN and infinities ----------------------------------------------------------------------

FLOATS = [(r["section"], r["name"]) for r in parameter_table()
          if isinstance(r["default"], float)]


@pytest.mark.parametrize("section, name", FLOATS, ids=[f"{s}.{n}" for s, n in FLOATS])
def test_nan_and_infinities_are_refused_for_every_number(tmp_path, section, name):
    for value in ("nan", "inf", "-inf", "+nan"):
        refused(tmp_path, f"[{section}]\n{name} = {value}\n", f"'{section}.{name}'", "finite number")


@pytest.mark.parametrize("line", [
    "sibling_group_probs = [nan, 0.2, 0.04]",  # looped for ever in the model
    "sibling_group_probs = [0.7, nan, 0.1]",  # ran with no plans for adoption
    "age_band_probs = [nan, 0.2, 0.23, 0.12]",  # put every child over 5
    "age_band_probs = [0.45, 0.2, inf, 0.12]",
])
def test_nan_in_a_list_of_probabilities_is_refused(tmp_path, line):
    refused(tmp_path, f"[children]\n{line}\n", "children.", "finite number")


def test_nan_is_refused_when_set_in_python():
    with pytest.raises(ValidationError):
        Scenario.model_validate({"children": {"sibling_group_probs": [math.nan, 0.2, 0.04]}})
    scenario = Scenario()
    with pytest.raises(ValidationError):
        scenario.adopters.stage1_days = math.nan


# --- parameter-sets CSVs ---------------------------------------------------------------------

def _sets(tmp_path, content: bytes):
    path = tmp_path / "sets.csv"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("content, fragments", [
    (b"set,adopters.stage1_days\nfit,100\n1,5000\n",
     ["line 3, column 2 (adopters.stage1_days)", "5000 is out of range", "allowed: a number from 1 to 730 days"]),
    (b"set,adopters.stage1_days\nfit,100\n1,-1\n", ["line 3, column 2", "allowed: a number from 1 to 730 days"]),
    (b"set,adopters.stage1_days\nfit,100\n1,\xff\xfe\n", ["line 3", "not UTF-8", "allowed: a CSV file in UTF-8"]),
    (b"set,adopters.stage1_days\nfit,nan\n1,90\n", ["line 2, column 2", "not a finite number"]),
    (b"set,adopters.stage1_days\nfit,100\n1,inf\n", ["line 3, column 2", "not a finite number"]),
    (b"set,adopters.stage1_days\nfit,100\n1,long\n", ["line 3, column 2", "'long' is not a number"]),
    (b"set,adopters.stage1_days\nfit,100\n1,90,7\n", ["line 3", "3 values for 2 columns"]),
    (b"set,adopters.stage1_days\nfit,100\n1\n", ["line 3", "1 values for 2 columns"]),
    (b"set,children.sibling_group_probs\n1,0.5\n", ["column 2", "not a numeric model parameter"]),
    (b"set,matching.split_sibling_groups\n1,1\n", ["column 2", "not a numeric model parameter"]),
    (b"set,scenario.years\n1,3\n", ["column 2", "not a numeric model parameter"]),
    (b"set,adopters.stage1_days,adopters.stage1_days\n1,90,90\n", ["appears twice"]),
    (b"set,panel.cases_per_panel\nfit,6\n1,51\n", ["line 3, column 2", "from 0 to 50"]),
    (b"", ["no parameter sets"]),
])
def test_bad_parameter_sets_are_refused_with_line_and_column(tmp_path, content, fragments):
    path = _sets(tmp_path, content)
    with pytest.raises(ParameterSetsError) as err:
        load_parameter_sets(path)
    message = str(err.value)
    assert "sets.csv" in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_parameter_sets_bom_and_blank_lines(tmp_path):
    sets = load_parameter_sets(_sets(tmp_path, b"\xef\xbb\xbfset,adopters.stage1_days\r\nfit,100\r\n\r\n1,90\r\n"))
    assert sets.fit == {"adopters.stage1_days": 100.0} and sets.draws == [{"adopters.stage1_days": 90.0}]


def test_a_run_with_bad_parameter_sets_stops_with_the_file_and_line_not_a_validation_error(tmp_path):
    path = save_parameter_sets({"adopters.stage1_days": 100.0}, [{"adopters.stage1_days": 5000.0}],
                               tmp_path / "sets.csv")
    data = with_parameters(small(years=1, reps=2), {"adopters.stage1_days": 100.0}).model_dump()
    data["calibration"] = {"parameter_sets": str(path), "parameter_uncertainty": True,
                           "fitted": {"adopters.stage1_days": "fitted to a test"}}
    scenario = scenario_from_dict(data, "test")
    with pytest.raises(ParameterSetsError, match=r"sets\.csv: line 3, column 2 \(adopters\.stage1_days\)"):
        run_scenario(scenario)


# --- the model with the smallest numbers a file can hold ------------------------------------

def test_a_rate_too_small_to_count_runs_as_none():
    """5e-324 children a year gives a rate a day that rounds to 0 (it divided by zero)."""
    results = run_scenario(small(years=1, reps=2, children={"entering_per_year": 5e-324}))
    assert (results.kpi("plans_for_adoption")["mean"] == 0).all()


@pytest.mark.parametrize("trend", [
    "percent_per_year = -90.0\nanchor = '9000-01'",  # 0.1 ** -84,000 overflowed
    "percent_per_year = 500.0\nanchor = '1000-01'\nuntil = '2030-04'",
])
def test_a_trend_anchored_thousands_of_years_away_is_refused(tmp_path, trend):
    refused(tmp_path, f"[[trend]]\nparameter = 'panel.cases_per_panel'\n{trend}\n", "trend 1 (panel.cases_per_panel)",
            "outside its valid range")


def test_a_change_to_a_number_of_400_digits_is_refused(tmp_path):
    text = f"[[change]]\nparameter = 'adopters.enquiries_per_month'\nstart = '2023-24'\nvalue = {'1' * 400}\n"
    refused(tmp_path, text, "change 1, field 'value'", "too large")
