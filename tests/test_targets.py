"""Tests for sim.targets: the shipped targets files load, and bad files are refused with a
message that names the file, the entry and the field."""

from collections import Counter
from pathlib import Path

import pytest

from sim.kpis import KPI_BY_NAME
from sim.targets import TargetsError, load_targets

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
    refused(write(tmp_path, text), 'target 1 (figure "enquries")', '"figure"', '"enquiries"', "sim/kpis.py")


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
