"""The app's logic without the page: levers, paired comparison, the recruitment target
finder, finance, charts, downloads, uploads, background runs and model notes."""

import io
import math
import threading
import time

import openpyxl
import pandas as pd
import pytest

from sim import charts, comparison, export, finance
from sim.jobs import JobStore
from sim.levers import LEVER_BY_KEY, LEVERS, apply_levers, changed_levers, lever_info, lever_values
from sim.model_notes import calibration_report, readme_section
from sim.parameters import Scenario
from sim.runner import run_scenario
from sim.scenario_file import ScenarioError, load_scenario, parse_scenario
from sim.target_finder import find_recruitment_target
from sim.upload import read_scenario_text
from tests.conftest import small


@pytest.fixture(scope="module")
def pair():
    base = small(years=3, reps=12, seed=11)
    campaign = apply_levers(base, {"campaign_pct": 40.0})
    return run_scenario(base), run_scenario(campaign)


# --- levers -------------------------------------------------------------------------
def test_unchanged_levers_give_exactly_the_baseline():
    for name in ("baseline", "raise-recruitment-65", "sibling-campaign"):
        base = load_scenario(name)
        assert apply_levers(base, lever_values(base)) == base
        assert changed_levers(base, base) == []


def test_every_lever_shows_unit_baseline_and_source():
    base = Scenario()
    for lever in LEVERS:
        info = lever_info(lever, base, "built-in")
        assert info["unit"] and info["source"] and info["meaning"], lever.key
        assert info["lo"] <= info["baseline"] <= info["hi"], lever.key


def test_campaign_and_shares_in_users_terms():
    s = apply_levers(Scenario(), {"campaign_pct": 30.0, "registration_share": 20.0, "dual_approved_share": 60.0})
    assert s.adopters.enquiries_per_month == pytest.approx(25.7 * 1.3)
    assert s.adopters.registration_share == pytest.approx(0.2)
    assert s.adopters.dual_approved_share == pytest.approx(0.6)
    # the campaign applies on top of a changed enquiries lever
    s = apply_levers(Scenario(), {"enquiries_per_month": 30.0, "campaign_pct": 10.0})
    assert s.adopters.enquiries_per_month == pytest.approx(33.0)


def test_children_mix_keeps_distributions_valid():
    s = apply_levers(Scenario(), {"sibling_group_share": 40.0, "older_share": 25.0})
    sib, age = s.children.sibling_group_probs, s.children.age_band_probs
    assert sum(sib) == pytest.approx(1) and sum(age) == pytest.approx(1)
    assert sib[0] == pytest.approx(0.6) and sib[1] / sib[2] == pytest.approx(0.2 / 0.04, rel=1e-3)
    assert age[3] == pytest.approx(0.25) and age[0] / age[1] == pytest.approx(0.45 / 0.2, rel=1e-3)
    assert lever_values(s)["sibling_group_share"] == pytest.approx(40.0)


def test_lever_source_names_the_scenario_that_set_it():
    base = load_scenario("raise-recruitment-65")
    info = lever_info(LEVER_BY_KEY["enquiries_per_month"], base, "raise-recruitment-65")
    assert "set by the scenario 'raise-recruitment-65'" in info["source"] and "§4.6" in info["source"]
    fitted = Scenario.model_validate({"calibration": {"fitted": {"adopters.stage1_days": "A21 36 approvals"}}})
    assert "calibrated in 'cp'" in lever_info(LEVER_BY_KEY["stage1_days"], fitted, "cp")["source"]


def test_a_moved_lever_is_no_longer_fitted():
    base = load_scenario()  # the calibrated built-in baseline
    moved = apply_levers(base, {"campaign_pct": 20.0, "stage2_days": 120.0, "older_share": 30.0})
    gone = set(base.calibration.fitted) - set(moved.calibration.fitted)
    assert gone == {"adopters.enquiries_per_month", "adopters.stage2_days"}  # age mix was not fitted
    info = lever_info(LEVER_BY_KEY["stage2_days"], moved, "what-if")
    assert info["source"].startswith(f"set by the scenario 'what-if' (built-in baseline {base.adopters.stage2_days:g}: "
                                     "fitted to")


def test_unknown_lever_refused():
    with pytest.raises(KeyError):
        apply_levers(Scenario(), {"no_such_lever": 1.0})


# --- paired comparison ----------------------------------------------------------------
def test_same_scenario_changes_nothing(pair):
    base, _ = pair
    row = comparison.change(base, base, "approvals")
    assert row["change"] == 0 and row["change_p5"] == 0 and row["change_p95"] == 0 and row["paired"]


def test_paired_change_is_mean_of_differences_and_narrower_than_unpaired(pair):
    base, camp = pair
    b = comparison.period_values(base, "approvals", 3)
    c = comparison.period_values(camp, "approvals", 3)
    row = comparison.change(base, camp, "approvals", 3)
    assert row["change"] == pytest.approx((c - b).mean())
    assert row["change"] > 0
    assert row["change_p5"] <= row["change"] <= row["change_p95"]
    # common random numbers: the spread of differences is below that of the runs themselves
    assert (c - b).std() < math.sqrt(b.var() + c.var())


def test_horizon_average_and_totals(pair):
    base, _ = pair
    table = comparison.by_replication(base, "approvals")
    assert comparison.period_values(base, "approvals").to_numpy() == pytest.approx(table.mean(axis=1).to_numpy())
    assert comparison.horizon_total(base, "interagency_fees_gbp").to_numpy() == pytest.approx(
        comparison.by_replication(base, "interagency_fees_gbp").sum(axis=1).to_numpy())
    with pytest.raises(ValueError, match="outside the horizon"):
        comparison.period_values(base, "approvals", 9)


def test_unpaired_when_seeds_differ(pair):
    base, _ = pair
    other = run_scenario(small(years=3, reps=12, seed=12))
    assert not comparison.change(base, other, "approvals")["paired"]


def test_side_by_side_and_wide_table(pair):
    base, camp = pair
    table = comparison.side_by_side({"baseline": base, "campaign": camp}, ["approvals", "a2_days"], None)
    assert list(table["scenario"]) == ["baseline", "campaign"] * 2
    assert (table[table["scenario"] == "baseline"]["change"] == 0).all()
    wide = comparison.wide_table(table)
    assert list(wide.columns) == ["baseline", "campaign"] and "[" in wide.iloc[0, 0]


def test_figures_formatted_for_boards():
    assert comparison.format_figure(1_234_567, "£") == "£1.23m"
    assert comparison.format_figure(35_565, "£") == "£35,565"
    assert comparison.format_figure(171.4, "days") == "171 days"
    assert comparison.format_change(-12.0, -20.0, -4.0, "days") == "−12 days [−20 days to −4 days]"
    assert comparison.format_change(151.1, 40.0, 260.0, "%") == "+151 points [+40 points to +260 points]"
    assert comparison.format_figure(float("nan"), "days") == "–"


# --- recruitment target finder ------------------------------------------------------------
def test_finder_brackets_the_limit_for_mean_and_p95():
    s = small(years=2, reps=6, seed=5)
    base = run_scenario(s)
    limit = comparison.describe(comparison.period_values(base, "interagency_fees_gbp", 2))["mean"] * 0.8
    found = find_recruitment_target(s, "interagency_fees_gbp", limit, year=2, tolerance=1.0)
    assert found.mean_level is not None
    at = found.at(found.mean_level)
    assert at.measure["mean"] <= limit
    below = [e for e in found.evaluations if e.enquiries_per_month < found.mean_level]
    assert any(e.measure["mean"] > limit and found.mean_level - e.enquiries_per_month <= 1.0 + 1e-9 for e in below)
    assert found.p95_level is None or found.p95_level >= found.mean_level
    if found.p95_level is not None:
        assert found.at(found.p95_level).measure["p95"] <= limit
    assert at.approvals["mean"] > 0
    assert list(found.table()["enquiries_per_month"]) == sorted(found.table()["enquiries_per_month"])


def test_finder_says_when_recruitment_cannot_reach_the_limit():
    s = small(years=2, reps=4, seed=5)
    found = find_recruitment_target(s, "a2_days", 1.0, search_max=60.0, tolerance=5.0)
    assert found.mean_level is None and found.p95_level is None
    assert len(found.evaluations) == 1  # only the top of the range was needed


def test_finder_reports_progress():
    calls = []
    find_recruitment_target(small(years=1, reps=2, seed=5), "interagency_fees_gbp", 1e9, tolerance=5.0,
                            progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1]


# --- finance ------------------------------------------------------------------------------
def test_spend_by_year_splits_fees_by_provider(pair):
    _, camp = pair
    spend = finance.spend_by_year(camp)
    assert len(spend) == 3
    assert (spend["fees_paid_vaa_gbp_est"] + spend["fees_paid_la_gbp_est"]).to_numpy() == pytest.approx(
        spend["fees_paid_gbp"].to_numpy(), rel=1e-9)
    net = spend["fees_paid_gbp"] - spend["fees_received_gbp"]
    assert net.to_numpy() == pytest.approx(spend["net_spend_gbp"].to_numpy(), rel=1e-9)


def test_savings_of_a_campaign(pair):
    base, camp = pair
    saved = finance.savings(base, camp)
    net = saved[saved["measure"] == "net spend"]
    assert list(net["financial_year"])[-1] == "whole horizon"
    total = net[net["financial_year"] == "whole horizon"].iloc[0]
    by_year = net[net["financial_year"] != "whole horizon"]["saving_gbp"].sum()
    assert total["saving_gbp"] == pytest.approx(by_year)
    assert total["saving_p5"] <= total["saving_gbp"] <= total["saving_p95"]
    cumulative = finance.cumulative_spend(camp)
    assert cumulative["mean"].is_monotonic_increasing or (cumulative["mean"].diff().dropna() >= -1e-6).all()


def test_fee_schedule_over_the_horizon(pair):
    base, _ = pair
    schedule = finance.schedule_table(base)
    assert set(schedule["provider"]) == {"LA", "VAA"} and len(schedule) == 6
    la = schedule[schedule["provider"] == "LA"]
    assert (la["one_child_gbp"] == 27000).all()  # unchanged since 2011


# --- charts -------------------------------------------------------------------------------
def _marks(spec):
    out = []
    for layer in spec.get("layer", []) + spec.get("spec", {}).get("layer", []):
        mark = layer.get("mark")
        out.append(mark["type"] if isinstance(mark, dict) else mark)
    return out


def test_charts_have_mean_line_band_and_thresholds(pair):
    base, camp = pair
    runs = {"baseline": base, "campaign": camp}
    gap = charts.gap_chart(runs).to_dict()
    assert {"area", "line"} <= set(_marks(gap))
    waits = charts.waits_chart(runs).to_dict()
    assert "rule" in _marks(waits)  # the 426- and 121-day thresholds
    frame = charts.band_frame(runs, charts.WAIT_KPIS)
    assert set(frame["threshold"]) == {426, 121}
    assert (frame["p5"] <= frame["mean"] + 1e-9).all() and (frame["mean"] <= frame["p95"] + 1e-9).all()
    cum = charts.band_frame({"campaign": camp}, ["interagency_net_gbp"], cumulative=True)
    assert len(cum) == 3
    for chart in (charts.spend_chart(runs), charts.spend_chart(runs, cumulative=True), charts.flows_chart(runs)):
        assert chart.to_dict()


# --- downloads and uploads -----------------------------------------------------------------
def test_csv_and_excel_downloads(pair):
    base, camp = pair
    csv = export.results_csv(camp, "Campaign")
    table = pd.read_csv(io.BytesIO(csv))
    assert set(table["scenario"]) == {"Campaign"} and {"kpi", "mean", "p5", "p95"} <= set(table.columns)
    data = export.results_excel({"Baseline: C&P 2022/23": base, "Campaign": camp},
                                {"spend by year": finance.spend_by_year(camp)})
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert len(book.sheetnames) == 5 and "summary Campaign" in book.sheetnames
    assert book["summary Campaign"]["A1"].value == "year"
    assert all(len(name) <= 31 for name in book.sheetnames)
    assert "spend by year" in book.sheetnames


def test_scenario_saved_as_toml_loads_again(pair):
    _, camp = pair
    text = export.scenario_toml(camp.scenario, name="Campaign +40%", replications=50, years=5).decode()
    again = parse_scenario(text, "download.toml")
    assert again.adopters == camp.scenario.adopters
    assert again.scenario.name == "Campaign +40%" and again.scenario.replications == 50
    assert export.file_stem("Campaign +40%!") == "campaign-40"


@pytest.mark.parametrize("data, expected", [
    (b"", "empty"),
    (b"\xff\xfe\x00", "not a text file"),
    (b"x" * 300_000, "too large"),
    ("[adopters]\nenquiries_per_month = -1.0\n", "adopters.enquiries_per_month"),
    ("[placement]\norder_days = 'a year'\n", "placement.order_days"),
])
def test_uploads_refused_with_a_clear_message(data, expected):
    with pytest.raises(ScenarioError, match=expected):
        read_scenario_text(data, "upload.toml")


def test_upload_with_byte_order_mark_accepted():
    s = read_scenario_text("\ufeff[adopters]\nenquiries_per_month = 30.0\n".encode("utf-8"), "bom.toml")
    assert s.adopters.enquiries_per_month == 30.0


# --- background runs -----------------------------------------------------------------------------
def test_jobs_by_key_survive_and_report_progress():
    store = JobStore(keep=2)
    release = threading.Event()

    def work(progress):
        progress(1, 2)
        release.wait(5)
        progress(2, 2)
        return "done"

    job = store.submit("a", work)
    assert store.submit("a", work) is job  # a redraw finds the same run
    deadline = time.monotonic() + 5
    while job.done == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert 0 < job.fraction < 1 and not job.finished
    release.set()
    assert job.wait(5) == "done" and job.fraction == 1.0


def test_failed_job_reports_and_is_retried():
    store = JobStore()
    job = store.submit("bad", lambda p: (_ for _ in ()).throw(ScenarioError("x.toml: wrong")))
    with pytest.raises(RuntimeError, match="x.toml: wrong"):
        job.wait(5)
    assert store.submit("bad", lambda p: 1) is not job


def test_old_finished_jobs_are_dropped():
    store = JobStore(keep=2)
    for key in "abc":
        store.submit(key, lambda p: key).wait(5)
    assert len(store) <= 3 and store.get("c") is not None


# --- model notes -------------------------------------------------------------------------------
def test_model_notes_and_fit_reports(tmp_path):
    assert "simpy process" in readme_section("The model")
    assert readme_section("No such section") == ""
    (tmp_path / "cp.md").write_text("# fit")
    assert calibration_report("cp", tmp_path) == {"md": tmp_path / "cp.md"}
    assert calibration_report("other", tmp_path) == {}
    assert calibration_report(None, tmp_path) == {}
