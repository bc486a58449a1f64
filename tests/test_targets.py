"""Tests for sim.calibration.targets: the shipped targets files load, and bad files are refused with a
message that names the file, the entry and the field."""

from collections import Counter
from pathlib import Path

import pytest

from sim.calibration.targets import TargetsError, load_targets
from sim.model.kpis import KPI_BY_NAME

TARGETS_DIR = Path(__file__).resolve().parent.parent / "calibration" / "targets"
SHIPPED = sorted(TARGETS_DIR.glob("*.toml"))
EXPECTED = {
    "cambridgeshire-2017-18.toml",
    "rotherham-2017-18.toml",
    "cambridgeshire-peterborough-2022-23.toml",
    "hampshire-2012.toml",
    "leicestershire-2019-20.toml",
}

REPORT = "001_ef741affdb884314.txt"
AGENCY = f"""\
[agency]
name = "Test agency"
financial_year = "2022-23"
start_year = 2022
report = "{REPORT}"
timing_only = false
"""
ENQUIRIES = f"""
[[target]]
figure = "enquiries"
value = 308.0
kind = "count"
source = "{REPORT} §4.6"
sd = 17.5
use = true
"""


def target(figure: str, value: float, kind: str, sd: float = 2.0, use: str = "true", extra: str = "") -> str:
    return (f'\n[[target]]\nfigure = "{figure}"\nvalue = {value}\nkind = "{kind}"\n'
            f'source = "{REPORT} §1"\nsd = {sd}\nuse = {use}\n{extra}')


def write(tmp_path: Path, text: str, name: str = "bad-file.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path, *fragments: str) -> str:
    """Load a file that must be refused; check the message names the file and every fragment."""
    with pytest.raises(TargetsError) as info:
        load_targets(path)
    message = str(info.value)
    assert path.name in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


# --- the shipped files -------------------------------------------------------------------


def test_all_expected_files_are_shipped():
    assert EXPECTED <= {p.name for p in SHIPPED}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_file_loads(path):
    ts = load_targets(path)
    assert ts.used_targets(), "a targets file with nothing to fit"
    assert all(t.source.startswith(ts.report) for t in ts.targets)
    assert all(t.kind == KPI_BY_NAME[t.figure].kind for t in ts.targets)
    if ts.timing_only:
        assert {t.kind for t in ts.used_targets()} <= {"mean_days", "percent"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_no_figure_has_two_used_entries(path):
    used = Counter(t.key for t in load_targets(path).used_targets())  # a figure once per year
    assert [f for f, n in used.items() if n > 1] == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_unused_entry_says_why(path):
    assert all(t.note for t in load_targets(path).targets if not t.use)


def test_used_targets_keeps_only_used_entries(tmp_path):
    extra = target("enquiries", 310.0, "count", use="false", extra='note = "the other count"\n')
    ts = load_targets(write(tmp_path, AGENCY + ENQUIRIES + extra, "good.toml"))
    assert [t.value for t in ts.targets] == [308.0, 310.0]
    assert [t.value for t in ts.used_targets()] == [308.0]


def test_adopter_gap_may_be_negative(tmp_path):
    ts = load_targets(write(tmp_path, AGENCY + target("adopter_gap", -20.0, "stock", sd=30.0), "good.toml"))
    assert ts.targets[0].value == -20.0


# --- files that must be refused ----------------------------------------------------------

T1 = 'target 1 (figure "enquiries")'


def test_unreadable_file(tmp_path):
    refused(tmp_path / "missing.toml", "cannot read")


def test_invalid_toml_names_the_line(tmp_path):
    text = AGENCY + ENQUIRIES.replace("value = 308.0", "value = = 308.0")
    line = text.splitlines().index("value = = 308.0") + 1
    refused(write(tmp_path, text), "not valid TOML", f"line {line},")


def test_unknown_top_level_table(tmp_path):
    refused(write(tmp_path, AGENCY + ENQUIRIES + "\n[extras]\nx = 1\n"), "top level", "'extras'", "[[target]]")


def test_missing_agency_table(tmp_path):
    refused(write(tmp_path, ENQUIRIES), "top level", "[agency]")


def test_unknown_agency_key(tmp_path):
    refused(write(tmp_path, AGENCY.replace("timing_only", "region = 1\ntiming_only") + ENQUIRIES),
            "[agency]", "'region'", "allowed")


def test_financial_year_must_match_start_year(tmp_path):
    refused(write(tmp_path, AGENCY.replace('"2022-23"', '"2021-22"') + ENQUIRIES),
            "[agency]", '"financial_year"', "'2022-23'")


def test_unknown_target_key(tmp_path):
    refused(write(tmp_path, AGENCY + ENQUIRIES.replace("use = true", "use = true\nweight = 2")),
            T1, "'weight'", "allowed")


def test_missing_source(tmp_path):
    text = AGENCY + ENQUIRIES.replace(f'source = "{REPORT} §4.6"\n', "")
    refused(write(tmp_path, text), T1, '"source"', "missing")


def test_source_must_name_the_report(tmp_path):
    refused(write(tmp_path, AGENCY + ENQUIRIES.replace(f"{REPORT} §4.6", "the annual report")),
            T1, '"source"', REPORT)


def test_unknown_figure_suggests_close_names(tmp_path):
    text = AGENCY + ENQUIRIES.replace('"enquiries"', '"enquries"')
    refused(write(tmp_path, text), 'target 1 (figure "enquries")', '"figure"', '"enquiries"', "sim/model/kpis.py")


def test_kind_must_match_the_kpi(tmp_path):
    refused(write(tmp_path, AGENCY + ENQUIRIES.replace('kind = "count"', 'kind = "stock"')),
            T1, '"kind"', 'allowed: "count"')


@pytest.mark.parametrize("figure,kind", [
    ("enquiries", "count"),
    ("adopters_waiting", "stock"),
    ("interagency_fees_gbp", "gbp"),
    ("a2_days", "mean_days"),
])
def test_negative_values_refused(tmp_path, figure, kind):
    refused(write(tmp_path, AGENCY + target(figure, -1.0, kind)),
            f'target 1 (figure "{figure}")', '"value"', "at least 0")


@pytest.mark.parametrize("value", [-5.0, 100.5, 180.0])
def test_percent_outside_0_to_100_refused(tmp_path, value):
    refused(write(tmp_path, AGENCY + target("a3_pct", value, "percent", sd=10.0)),
            'target 1 (figure "a3_pct")', '"value"', "from 0 to 100")


@pytest.mark.parametrize("value", [0.26, 0.8])
def test_percent_typed_as_a_fraction_refused(tmp_path, value):
    refused(write(tmp_path, AGENCY + target("stage2_within_4_months_pct", value, "percent", sd=10.0)),
            'target 1 (figure "stage2_within_4_months_pct")', '"value"', "looks like a fraction")


def test_adopter_gap_below_minus_100_refused(tmp_path):
    refused(write(tmp_path, AGENCY + target("adopter_gap", -150.0, "stock", sd=30.0)),
            'target 1 (figure "adopter_gap")', '"value"', "-100")


@pytest.mark.parametrize("sd", [0.0, -3.0])
def test_non_positive_sd_refused(tmp_path, sd):
    refused(write(tmp_path, AGENCY + ENQUIRIES.replace("sd = 17.5", f"sd = {sd}")), T1, '"sd"', "positive")


def test_unused_entry_needs_a_note(tmp_path):
    refused(write(tmp_path, AGENCY + ENQUIRIES.replace("use = true", "use = false")), T1, '"note"', "use = false")


def test_two_used_entries_for_one_figure_refused(tmp_path):
    second = target("enquiries", 310.0, "count")
    refused(write(tmp_path, AGENCY + ENQUIRIES + second),
            'target 2 (figure "enquiries")', '"use"', "target 1", "one entry with use = true")


def test_timing_only_file_fits_only_timings(tmp_path):
    text = AGENCY.replace("timing_only = false", "timing_only = true") + ENQUIRIES
    refused(write(tmp_path, text), T1, '"use"', "timing_only")


def test_unmodelled_entry_needs_a_note(tmp_path):
    entry = f'\n[[unmodelled]]\ndescription = "Information sessions"\nvalue = 14\nsource = "{REPORT} §4.6"\n'
    text = AGENCY + ENQUIRIES + entry
    refused(write(tmp_path, text), "unmodelled 1", '"note"', "missing")


# --- kind inferred, known inputs ---------------------------------------------------------


def test_kind_left_out_is_the_kpis(tmp_path):
    text = AGENCY + ENQUIRIES.replace('kind = "count"\n', "") + target("a2_days", 200.0, "mean_days", sd=30.0)\
        .replace('kind = "mean_days"\n', "")
    ts = load_targets(write(tmp_path, text, "good.toml"))
    assert [t.kind for t in ts.targets] == ["count", "mean_days"]


def test_inputs_are_read_in_either_form(tmp_path):
    text = AGENCY + ENQUIRIES + ('\n[inputs]\n"adopters.assessing_social_workers" = 10.5\n'
                                 '"panel.panels_per_month" = 2\n\n[inputs.fees]\nvaa_one_child_gbp = 36000.0\n')
    ts = load_targets(write(tmp_path, text, "good.toml"))
    assert ts.inputs == {"adopters.assessing_social_workers": 10.5, "panel.panels_per_month": 2,
                         "fees.vaa_one_child_gbp": 36000.0}
    assert load_targets(write(tmp_path, AGENCY + ENQUIRIES, "plain.toml")).inputs == {}


@pytest.mark.parametrize("entry,fragments", [
    ('"adopters.assessing_social_worker" = 10.5', ("[inputs]", "unknown parameter", "assessing_social_workers")),
    ('"staff.social_workers" = 10.5', ("[inputs]", "unknown section 'staff'", "adopters")),
    ('"scenario.seed" = 3', ("[inputs]", "unknown section 'scenario'",)),
    ('"adopters.stage1_days" = -3.0', ("[inputs]", "'adopters.stage1_days'", "1 to 730 days")),
    ('"panel.cases_per_panel" = 6.5', ("[inputs]", "valid integer")),
    ('"adopters.registration_share" = 14.2', ("[inputs]", "0 to 1 probability")),
])
def test_bad_inputs_refused(tmp_path, entry, fragments):
    refused(write(tmp_path, AGENCY + ENQUIRIES + f"\n[inputs]\n{entry}\n"), *fragments)


# --- files that once gave tracebacks -------------------------------------------------------


@pytest.mark.parametrize("year", [1999, 2101, -5, 10**400], ids=["1999", "2101", "-5", "400-digits"])
def test_start_year_outside_the_scenario_years_refused(tmp_path, year):
    text = AGENCY.replace("start_year = 2022", f"start_year = {year}") + ENQUIRIES
    message = refused(write(tmp_path, text), "[agency]", '"start_year"', "allowed: a year from 2000 to 2100")
    assert len(message) < 300


@pytest.mark.parametrize("figure, kind, value, allowed", [
    ("enquiries", "count", "1e308", "from 0 to 10,000,000 for a count"),
    ("enquiries", "count", "1e8", "from 0 to 10,000,000 for a count"),
    ("adopters_waiting", "stock", "1e300", "from 0 to 10,000,000 for a stock"),
    ("a20_days", "mean_days", "1e6", "from 0 to 36,500 for a mean_days"),
    ("interagency_fees_gbp", "gbp", "1e300", "from 0 to 100,000,000,000 for a gbp"),
    ("adopter_gap", "stock", "1e300", "at most 1,000,000"),
])
def test_values_beyond_any_report_refused(tmp_path, figure, kind, value, allowed):
    refused(write(tmp_path, AGENCY + target(figure, value, kind, sd=30.0)),
            f'target 1 (figure "{figure}")', '"value"', allowed)


@pytest.mark.parametrize("sd", ["1e-300", "0.0001", "1e308", "inf", "nan"])
def test_sd_too_small_or_too_large_refused(tmp_path, sd):
    refused(write(tmp_path, AGENCY + ENQUIRIES.replace("sd = 17.5", f"sd = {sd}")), T1, '"sd"')


@pytest.mark.parametrize("field", ["value", "sd"])
def test_a_400_digit_integer_refused(tmp_path, field):
    old = "value = 308.0" if field == "value" else "sd = 17.5"
    message = refused(write(tmp_path, AGENCY + ENQUIRIES.replace(old, f"{field} = {'1' * 400}")),
                      T1, f'"{field}"', "finite number")
    assert len(message) < 300


def test_a_400_digit_integer_in_an_unmodelled_figure_refused(tmp_path):
    entry = f'\n[[unmodelled]]\ndescription = "x"\nvalue = {"9" * 400}\nsource = "{REPORT} §4.6"\nnote = "n"\n'
    refused(write(tmp_path, AGENCY + ENQUIRIES + entry), "unmodelled 1", '"value"', "finite number")


def test_an_integer_of_thousands_of_digits_is_not_toml(tmp_path):
    refused(write(tmp_path, AGENCY + ENQUIRIES.replace("value = 308.0", f"value = {'1' * 5000}")), "not valid TOML")


@pytest.mark.parametrize("nested", ["[" * 500 + "]" * 500, "{a = " * 500 + "1" + "}" * 500],
                         ids=["arrays", "inline-tables"])
def test_deep_nesting_refused(tmp_path, nested):
    refused(write(tmp_path, AGENCY + ENQUIRIES.replace("value = 308.0", f"value = {nested}")), "nested")


def test_bytes_that_are_not_utf8_refused(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes((AGENCY + ENQUIRIES).replace("§", "\xa7").encode("latin-1"))
    refused(path, "cannot read", "not UTF-8", "allowed: a targets file in UTF-8")


def test_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + (AGENCY + ENQUIRIES).encode("utf-8"))
    assert load_targets(path).targets[0].value == 308.0


def test_long_names_are_cut_short(tmp_path):
    message = refused(write(tmp_path, AGENCY + ENQUIRIES.replace('"enquiries"', '"' + "e" * 5000 + '"')),
                      '"figure"', "unknown KPI")
    assert len(message) < 500


# --- figures that imply a parameter outside its range (sim.calibration.fit) ---------------------


def calibration_refused(path: Path, *fragments: str) -> str:
    """Loading passes; setting the scenario's parameters from the figures is refused, naming the
    file, entry, field and figure, before anything is simulated."""
    from sim.calibration import fit as cal

    ts = load_targets(path)
    with pytest.raises(cal.CalibrationError) as info:
        start, _ = cal.starting_scenario(ts)
        cal.informed_priors(ts, start)
    message = str(info.value)
    for fragment in (path.name, '"value"', "allowed: figures giving", *fragments):
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


@pytest.mark.parametrize("entries, fragments", [
    (target("enquiries", 5_000_000.0, "count", sd=2200.0),
     ['target 1 (figure "enquiries")', "enquiries 5,000,000", "adopters.enquiries_per_month = 416,700",
      "0 to 100,000 households/month"]),
    (target("plans_for_adoption", 600_000.0, "count", sd=800.0),
     ['target 1 (figure "plans_for_adoption")', "children.entering_per_year = 600,000", "0 to 500,000"]),
    (target("a20_days", 3000.0, "mean_days", sd=450.0),
     ['target 1 (figure "a20_days")', "children.proceedings_weeks = 428.6", "1 to 260 weeks"]),
    (target("a20_days", 3.0, "mean_days", sd=1.0), ['target 1 (figure "a20_days")', "proceedings_weeks = 0.4286"]),
    (target("a1_days", 9000.0, "mean_days", sd=900.0) + target("a2_days", 10.0, "mean_days", sd=2.0),
     ['target 1 (figure "a1_days") and target 2 (figure "a2_days")', "a1_days 9,000, a2_days 10"]),
    (target("a1_days", 100.0, "mean_days", sd=15.0) + target("non_ep_care_to_order_days", 30_000.0, "mean_days",
                                                              sd=4500.0),
     ['target 2 (figure "non_ep_care_to_order_days")', "placement.order_days"]),
], ids=["enquiries", "plans", "a20-long", "a20-short", "a1-a2", "care-to-order"])
def test_figures_implying_a_parameter_out_of_range_refused(tmp_path, entries, fragments):
    size = target("approvals", 30.0, "count", sd=5.0)  # a figure that sets the agency's size
    calibration_refused(write(tmp_path, AGENCY + entries + size), *fragments)


def test_calibrate_refuses_such_figures_before_simulating(tmp_path):
    from sim.calibration.command import calibrate
    from sim.calibration.fit import CalibrationError

    path = write(tmp_path, AGENCY + target("enquiries", 5_000_000.0, "count", sd=2200.0)
                 + target("approvals", 30.0, "count", sd=5.0))
    with pytest.raises(CalibrationError, match=r'bad-file\.toml: target 1 \(figure "enquiries"\)'):
        calibrate(path, out=tmp_path / "x.toml", report_dir=tmp_path, fits_dir=tmp_path, workers=1)
    assert list(tmp_path.iterdir()) == [path]


def test_an_earlier_year_before_2000_refused(tmp_path):
    """The fit simulates an earlier year as a scenario's year, and no scenario starts before 2000."""
    agency = AGENCY.replace('"2022-23"', '"2001-02"').replace("start_year = 2022", "start_year = 2001")
    text = agency + ENQUIRIES + target("enquiries", 250.0, "count", sd=16.0, extra='year = "1999-00"\n')
    refused(write(tmp_path, text), 'target 2 (figure "enquiries")', '"year"', "from 2000-01", "none before 2000")


@pytest.mark.parametrize("year", ["202²-23", "٢٠٢١-٢٢"])
def test_a_year_in_other_digits_refused(tmp_path, year):
    text = AGENCY + ENQUIRIES + target("enquiries", 250.0, "count", sd=16.0, extra=f'year = "{year}"\n')
    refused(write(tmp_path, text), 'target 2 (figure "enquiries")', '"year"', 'a financial year "YYYY-YY"')


@pytest.mark.parametrize("entries, fragments", [
    # the adopters' side sized from approvals alone: 7 million enquiries a month, and the children's
    # side scaled with it
    (target("approvals", 1e7, "count", sd=3000.0), ["approvals 1e+07", "outside its range", "children/year"]),
    (target("adoption_orders", 1e7, "count", sd=3000.0), ["adoption_orders 1e+07", "households/month"]),
    # a million enquiries a year is within range, but the panels it needs are not
    (target("enquiries", 1e6, "count", sd=1000.0), ["panel.panels_per_month", "0 to 2,000 panels/month"]),
], ids=["approvals", "adoption-orders", "panels"])
def test_an_agency_size_out_of_range_is_refused_before_any_scenario_is_built(tmp_path, entries, fragments):
    from sim.calibration import fit as cal

    ts = load_targets(write(tmp_path, AGENCY + entries))
    with pytest.raises(cal.CalibrationError) as info:
        cal.plan_agency(ts)
    for fragment in ("bad-file.toml", "allowed: figures giving", *fragments):
        assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"


def test_level_is_an_agency_unless_the_file_says_national(tmp_path):
    assert load_targets(write(tmp_path, AGENCY + ENQUIRIES, "good.toml")).level == "agency"
    national = AGENCY.replace("timing_only = false", 'timing_only = false\nlevel = "national"')
    assert load_targets(write(tmp_path, national + ENQUIRIES, "good.toml")).level == "national"
    for bad in ('"regional"', "1", '""'):
        refused(write(tmp_path, AGENCY.replace("timing_only = false", f"timing_only = false\nlevel = {bad}")
                      + ENQUIRIES), '[agency]', 'field "level"')
