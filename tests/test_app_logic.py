"""The app's logic without the page: levers, paired comparison, the recruitment target
finder, finance, charts, downloads, uploads, background runs and model notes."""

import io
import math
import threading
import time
from datetime import date

import openpyxl
import pandas as pd
import pytest

from sim.planning import budget_window, charts, comparison, export, finance
from sim.planning.levers import (
    LEVER_BY_KEY,
    LEVERS,
    LeverError,
    apply_levers,
    changed_levers,
    default_start,
    in_force,
    lever_info,
    lever_values,
)
from sim.planning.model_notes import calibration_report, doc_page
from sim.planning.target_finder import _with_enquiries, find_recruitment_target
from sim.run.jobs import JobStore
from sim.run.replications import Precision
from sim.run.runner import run_scenario
from sim.scenario.files import ScenarioError, load_scenario, parse_scenario, to_toml
from sim.scenario.parameters import Scenario
from sim.scenario.upload import read_scenario_text
from tests.conftest import small


@pytest.fixture(scope="module")
def pair():
    base = small(years=3, reps=12, seed=11)
    campaign = apply_levers(base, {"campaign_pct": 40.0})
    return run_scenario(base), run_scenario(campaign)


def _changes(scenario):
    return [(c.parameter, c.start, c.end, c.value, c.percent) for c in scenario.change]


def _at(scenario, month_text):
    """The scenario in force in a month ('2023-10') of the run."""
    run = scenario.scenario
    year, month = map(int, month_text.split("-"))
    return in_force(scenario, (year - (run.start_year - run.warm_up_years)) * 12 + month - 4)


# --- levers -------------------------------------------------------------------------
def test_unchanged_levers_give_exactly_the_baseline():
    for name in ("baseline", "raise-recruitment-65", "sibling-campaign"):
        base = load_scenario(name)
        assert apply_levers(base, lever_values(base)) == base
        assert apply_levers(base, lever_values(base), start="2025-10", campaign_months=6) == base
        assert changed_levers(base, base) == []
    # a scenario with dated changes shows the values in force when the forecast starts
    assert lever_values(load_scenario("raise-recruitment-65"))["enquiries_per_month"] == pytest.approx(25.67 * 1.3)


def test_moved_levers_become_dated_changes_from_the_first_forecast_year():
    base = load_scenario()  # base year 2022-23
    assert default_start(base) == "2023-24"
    s = apply_levers(base, {"stage2_days": 120.0, "assessing_social_workers": 7.0})
    assert _changes(s) == [("adopters.stage2_days", "2023-24", None, 120.0, None),
                           ("adopters.assessing_social_workers", "2023-24", None, 7.0, None)]
    # history is the baseline's: the static values, and what is in force in the base year, are unchanged
    assert s.adopters == base.adopters
    assert _at(s, "2023-03").adopters.stage2_days == base.adopters.stage2_days
    assert _at(s, "2023-04").adopters.stage2_days == 120.0
    # the form's date, and a lever's own date (a month or a financial year)
    s = apply_levers(base, {"stage2_days": 120.0, "panels_per_month": 4.0, "dual_approved_share": 60.0},
                     start="2024-25", starts={"panels_per_month": "2023-10", "stage2_days": " "})
    assert {c.parameter: c.start for c in s.change} == {
        "adopters.stage2_days": "2024-25", "panel.panels_per_month": "2023-10", "adopters.dual_approved_share": "2024-25"}
    assert next(c for c in s.change if c.parameter == "adopters.dual_approved_share").value == pytest.approx(0.6)


def test_a_lever_before_the_first_forecast_year_or_without_a_date_is_refused():
    base = load_scenario()
    with pytest.raises(LeverError, match="Stage 2 length: from 2022-23 is before the first forecast year.*2023-24"):
        apply_levers(base, {"stage2_days": 120.0}, start="2022-23")
    with pytest.raises(LeverError, match="Stage 2 length: 'from' 'next April' is not a date"):
        apply_levers(base, {"stage2_days": 120.0}, starts={"stage2_days": "next April"})
    assert apply_levers(base, {}, start="nonsense") == base  # nothing moved: the date is not needed


def test_campaign_is_a_percent_change_optionally_time_limited():
    base = load_scenario()
    s = apply_levers(base, {"campaign_pct": 30.0})
    assert _changes(s) == [("adopters.enquiries_per_month", "2023-24", None, None, 30.0)]
    # a campaign for six months from October 2023: enquiries go back to their level after it
    s = apply_levers(base, {"campaign_pct": 30.0}, starts={"campaign_pct": "2023-10"}, campaign_months=6)
    assert _changes(s) == [("adopters.enquiries_per_month", "2023-10", "2024-03", None, 30.0)]
    enquiries = base.adopters.enquiries_per_month
    for month, expected in (("2023-09", enquiries), ("2023-10", enquiries * 1.3), ("2024-03", enquiries * 1.3),
                            ("2024-04", enquiries)):
        assert _at(s, month).adopters.enquiries_per_month == pytest.approx(expected), month
    text = [c.text() for c in changed_levers(base, s)]
    assert text == ["Recruitment campaign: extra enquiries +30% from 2023-10 to 2024-03 "
                    f"(enquiries {enquiries:g} → {enquiries * 1.3:g} a month)"]


def test_campaign_on_top_of_the_enquiries_lever():
    base = load_scenario()
    # the same date: one level, the campaign on top of the new enquiries, then the new enquiries
    s = apply_levers(base, {"enquiries_per_month": 30.0, "campaign_pct": 10.0}, campaign_months=6)
    assert [(_at(s, m).adopters.enquiries_per_month) for m in ("2023-03", "2023-04", "2023-09", "2023-10", "2027-03")] \
        == pytest.approx([base.adopters.enquiries_per_month, 33.0, 33.0, 30.0, 30.0])
    # the campaign later: enquiries from one date, +x% on top of them from another
    s = apply_levers(base, {"enquiries_per_month": 30.0, "campaign_pct": 10.0}, starts={"campaign_pct": "2024-25"})
    assert _changes(s) == [("adopters.enquiries_per_month", "2023-24", None, 30.0, None),
                           ("adopters.enquiries_per_month", "2024-25", None, None, 10.0)]
    assert _at(s, "2024-04").adopters.enquiries_per_month == pytest.approx(33.0)


def test_shares_in_users_terms():
    s = apply_levers(Scenario(), {"registration_share": 20.0, "dual_approved_share": 60.0})
    assert s.adopters == Scenario().adopters  # history unchanged
    later = _at(s, "2023-04").adopters
    assert later.registration_share == pytest.approx(0.2) and later.dual_approved_share == pytest.approx(0.6)
    assert lever_values(s)["registration_share"] == pytest.approx(20.0)


def test_every_lever_shows_unit_baseline_and_source():
    base = Scenario()
    for lever in LEVERS:
        info = lever_info(lever, base, "built-in")
        assert info["unit"] and info["source"] and info["meaning"], lever.key
        assert info["lo"] <= info["baseline"] <= info["hi"], lever.key


def test_children_mix_is_a_dated_change_of_the_whole_distribution():
    s = apply_levers(Scenario(), {"sibling_group_share": 40.0, "older_share": 25.0})
    changes = {c.parameter: c for c in s.change}
    assert set(changes) == {"children.sibling_group_probs", "children.age_band_probs"}
    assert all(c.start == "2023-24" and isinstance(c.value, list) for c in changes.values())
    assert s.children == Scenario().children  # history unchanged
    sib, age = changes["children.sibling_group_probs"].value, changes["children.age_band_probs"].value
    assert sum(sib) == pytest.approx(1) and sum(age) == pytest.approx(1)
    assert sib[0] == pytest.approx(0.6) and sib[1] / sib[2] == pytest.approx(0.2 / 0.04, rel=1e-3)
    assert age[3] == pytest.approx(0.25) and age[0] / age[1] == pytest.approx(0.45 / 0.2, rel=1e-3)
    assert lever_values(s)["sibling_group_share"] == pytest.approx(40.0)


def test_lever_source_names_the_scenario_that_set_it():
    base = load_scenario("raise-recruitment-65")  # +30% enquiries from 2023-24, a [[change]]
    info = lever_info(LEVER_BY_KEY["enquiries_per_month"], base, "raise-recruitment-65")
    assert info["source"].startswith(f"from 2023-24: {25.67 * 1.3:g} (+30%), set by the scenario "
                                     "'raise-recruitment-65' (Hampshire's +30% recruitment target")
    assert "In 2022-23 (the base year): 25.67, calibrated" in info["source"] and "§4.6" in info["source"]
    assert info["baseline"] == pytest.approx(25.67 * 1.3) and info["base_year"] == pytest.approx(25.67)
    fitted = Scenario.model_validate({"calibration": {"fitted": {"adopters.stage1_days": "A21 36 approvals"}}})
    assert "calibrated in 'cp'" in lever_info(LEVER_BY_KEY["stage1_days"], fitted, "cp")["source"]
    # a value some other file sets throughout, history included
    other = Scenario.model_validate({"adopters": {"stage1_days": 80.0}})
    assert lever_info(LEVER_BY_KEY["stage1_days"], other, "mine")["source"].startswith(
        "set by the scenario 'mine' (built-in baseline")


def test_a_moved_lever_keeps_the_base_year_fitted_and_says_from_when():
    base = load_scenario()  # the calibrated built-in baseline
    moved = apply_levers(base, {"campaign_pct": 20.0, "stage2_days": 120.0, "older_share": 30.0})
    assert moved.calibration.fitted == base.calibration.fitted  # the base year still runs on the fitted values
    info = lever_info(LEVER_BY_KEY["stage2_days"], moved, "what-if")
    assert info["source"].startswith("from 2023-24: 120, set by the scenario 'what-if' (set in the app: Stage 2 length). "
                                     f"In 2022-23 (the base year): {base.adopters.stage2_days:g}, calibrated in 'what-if'")
    assert info["baseline"] == 120.0


def test_a_lever_replaces_the_scenarios_own_change_from_its_date():
    base = load_scenario("raise-recruitment-65")  # +30% enquiries from 2023-24
    level = 25.67 * 1.3
    # from the same date: the lever's value replaces the scenario's change
    s = apply_levers(base, {"enquiries_per_month": 40.0})
    assert _changes(s) == [("adopters.enquiries_per_month", "2023-24", None, 40.0, None)]
    # later: the scenario's change runs until the lever's date
    s = apply_levers(base, {"enquiries_per_month": 40.0}, start="2024-25")
    assert [_at(s, m).adopters.enquiries_per_month for m in ("2023-04", "2024-04")] == pytest.approx([level, 40.0])
    # a campaign goes on top of the level the form shows, whichever date it starts
    for start in ("2023-24", "2024-25"):
        s = apply_levers(base, {"campaign_pct": 10.0}, start=start)
        assert _at(s, "2025-04").adopters.enquiries_per_month == pytest.approx(level * 1.1, rel=1e-5), start
    # a lever may not start while one of the scenario's changes is time-limited or phasing in
    limited = apply_levers(load_scenario(), {"campaign_pct": 20.0}, campaign_months=12)
    with pytest.raises(LeverError, match="still running then; start the lever from 2024-04 or later"):
        apply_levers(limited, {"enquiries_per_month": 30.0}, start="2023-10")


def test_scenario_saved_from_the_app_writes_its_changes():
    base = load_scenario()
    s = apply_levers(base, {"campaign_pct": 30.0, "stage2_days": 120.0}, campaign_months=6)
    text = export.scenario_toml(s, name="Campaign", replications=50, years=5).decode()
    assert text.count("[[change]]") == 2 and 'start = "2023-24"' in text and 'end = "2023-09"' in text
    again = parse_scenario(text, "download.toml")
    assert again.change == s.change and again.scenario.name == "Campaign"
    assert apply_levers(again, lever_values(again)) == again  # loaded as a baseline, its form is unchanged


def test_figures_open_on_the_budget_window_s_last_year_and_never_before_a_change_shows():
    base = load_scenario()  # 2022-23, five years
    june_2022 = date(2022, 6, 1)  # the budget window: 2023-24 to 2025-26, years 2 to 4
    assert comparison.first_change(base) is None and comparison.default_year(base, today=june_2022) == 4
    s = apply_levers(base, {"stage2_days": 120.0}, start="2024-10")
    assert comparison.change_year(s, base) == 3 and comparison.default_year(s, base, today=june_2022) == 4
    late = apply_levers(base, {"stage2_days": 120.0}, start="2026-05")
    assert comparison.default_year(late, base, today=june_2022) == 5  # the year its change starts
    assert comparison.default_year(s, base, years=2, today=june_2022) == 2  # within the horizon
    assert comparison.default_year(s, base, today=date(2026, 12, 7)) == 5  # a run ending before the window: its end


def test_the_budget_window_is_the_next_three_financial_years_and_the_horizon_reaches_it():
    assert budget_window.budget_years(date(2026, 12, 7)) == [2027, 2028, 2029]
    assert budget_window.budget_years(date(2027, 3, 31)) == [2027, 2028, 2029]
    assert budget_window.budget_years(date(2027, 4, 1)) == [2028, 2029, 2030]
    assert budget_window.default_horizon(2022, 5, date(2026, 12, 7)) == 8  # 2022-23 to 2029-30
    assert budget_window.default_horizon(2022, 12, date(2026, 12, 7)) == 12  # never shorter than the file's
    labels = [f"{y}-{(y + 1) % 100:02d}" for y in range(2022, 2030)]
    assert budget_window.default_window(labels, date(2026, 12, 7)) == ("2027-28", "2029-30")
    assert budget_window.default_window(labels[:3], date(2026, 12, 7)) == ("2022-23", "2024-25")


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


def test_what_if_equals_its_baseline_before_its_changes_start(pair):
    base, camp = pair  # a campaign from 2023-24, year 2
    table = comparison.change_table(base, camp, ["enquiries", "approvals", "adopters_waiting", "a2_days",
                                                 "interagency_fees_gbp", "children_waiting_with_po"], year=1)
    assert (table["change"] == 0).all() and (table["change_p5"] == 0).all() and (table["change_p95"] == 0).all()
    assert (table["baseline"] == table["scenario"]).all()
    assert comparison.change(base, camp, "enquiries", 2)["change_p5"] > 0  # then the change shows
    saved = finance.savings(base, camp)
    year1 = saved[saved["financial_year"] == base.years[0]]
    assert (year1[["saving_gbp", "saving_p5", "saving_p95"]] == 0).all().all()
    assert comparison.default_year(camp.scenario, base.scenario, today=date(2022, 6, 1)) == 3  # its last year


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
    s = small(years=3, reps=6, seed=5)  # enquiries from 2023-24 (year 2) show in year 3
    base = run_scenario(s)
    limit = comparison.describe(comparison.period_values(base, "interagency_fees_gbp", 3))["mean"] * 0.8
    found = find_recruitment_target(s, "interagency_fees_gbp", limit, year=3, tolerance=1.0)
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
    assert len(found.evaluations) == 2  # only today's level and the top of the range were needed


def test_finder_sets_enquiries_from_a_date_and_says_when_today_already_meets_the_limit():
    s = small(years=3, reps=4, seed=5)
    found = find_recruitment_target(s, "interagency_fees_gbp", 1e9, tolerance=5.0)
    assert found.start == "2023-24" and found.baseline_enquiries == pytest.approx(s.adopters.enquiries_per_month)
    assert found.today_meets_mean and found.today_meets_p95 and found.mean_level == 0.0
    lower = find_recruitment_target(s, "interagency_fees_gbp", 1e9, tolerance=5.0, today=20.0)  # the baseline's
    assert lower.baseline_enquiries == 20.0 and lower.today.enquiries_per_month == 20.0
    level = _with_enquiries(s, 40.0, "2024-25")
    assert [(c.parameter, c.start, c.value) for c in level.change] == [("adopters.enquiries_per_month", "2024-25", 40.0)]
    assert level.adopters == s.adopters  # the history is the scenario's
    with pytest.raises(ScenarioError, match="before the first forecast year"):
        find_recruitment_target(s, "a2_days", 100.0, start="2022-23")


def test_finder_every_year_from_a_year():
    s = small(years=4, reps=6, seed=5)
    today = run_scenario(s)
    by_year = comparison.by_replication(today, "interagency_fees_gbp").mean(axis=0)
    limit = float(by_year.loc[[3, 4]].max()) * 0.8  # today misses it in years 3 and 4
    found = find_recruitment_target(s, "interagency_fees_gbp", limit, tolerance=2.0, every_year_from=3)
    assert found.every_year_from == 3 and not found.today_meets_mean
    assert found.today.measure["mean"] == pytest.approx(by_year.loc[[3, 4]].max())  # judged by its worst year
    assert found.today.measure["worst_year"] in today.years[2:]
    assert found.mean_level is not None and found.mean_level > found.baseline_enquiries
    at = run_scenario(_with_enquiries(s, found.mean_level, found.start))
    means = comparison.by_replication(at, "interagency_fees_gbp").mean(axis=0)
    assert (means.loc[[3, 4]] <= limit + 1e-6).all()  # within the limit in every year from year 3
    below = [e for e in found.evaluations if e.enquiries_per_month < found.mean_level]
    assert any(e.measure["mean"] > limit for e in below)
    for e in found.evaluations:  # the worst year decides
        assert e.measure["worst_year"] in today.years[2:]
    with pytest.raises(ValueError, match="outside the horizon"):
        find_recruitment_target(s, "a2_days", 100.0, every_year_from=5)


def test_finder_reports_progress():
    calls = []
    find_recruitment_target(small(years=1, reps=2, seed=5), "interagency_fees_gbp", 1e9, tolerance=5.0,
                            progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1][0] == calls[-1][1]


def test_finder_brackets_on_few_replications_and_judges_answers_on_all():
    s = small(years=3, reps=10, seed=5)
    base = run_scenario(s)
    limit = comparison.describe(comparison.period_values(base, "interagency_fees_gbp", 3))["mean"] * 0.9
    calls = []
    found = find_recruitment_target(s, "interagency_fees_gbp", limit, year=3, tolerance=1.0, screen_replications=4,
                                    progress=lambda d, t: calls.append((d, t)))
    assert (found.replications, found.screen_replications) == (10, 4)
    assert found.mean_level is not None and all(e.replications == 10 for e in found.evaluations)
    at = run_scenario(_with_enquiries(s, found.mean_level, found.start))  # the answer, run afresh in full
    assert comparison.describe(comparison.period_values(at, "interagency_fees_gbp", 3))["mean"] <= limit
    assert found.at(found.mean_level).measure["mean"] <= limit
    below = run_scenario(_with_enquiries(s, max(0.0, found.mean_level - 1.0), found.start))
    assert comparison.describe(comparison.period_values(below, "interagency_fees_gbp", 3))["mean"] > limit
    assert calls[0][0] == 0 and calls[0][1] > 0  # the planned count is known from the start
    assert all(done <= total for done, total in calls) and calls[-1][0] == calls[-1][1]


def test_finder_judges_on_the_replications_today_needs_for_the_precision():
    s = small(years=2, reps=50, seed=5)
    rule = Precision(percent=20.0, minimum=6, maximum=12, batch=3)
    found = find_recruitment_target(s, "a2_days", 1.0, search_max=60.0, tolerance=5.0, precision=rule,
                                    screen_replications=4)
    assert 6 <= found.replications <= 12 and found.today.replications == found.replications
    assert found.mean_level is None  # an A2 of a day is out of reach


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


def test_fee_schedule_follows_a_fee_lever_from_its_date():
    s = apply_levers(small(years=3, reps=2, seed=3), {"la_one_child_gbp": 30000.0}, start="2024-10")
    res = run_scenario(s)
    schedule = finance.schedule_table(res)
    la = schedule[schedule["provider"] == "LA"].set_index("financial_year")["one_child_gbp"]
    assert la.to_dict() == {"2022-23": 27000, "2023-24": 27000, "2024-25": 27000, "2024-25 from 2024-10": 30000}
    assert len(finance.spend_by_year(res)) == 3


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
    gap = charts.gap_chart(runs)
    assert {"area", "line"} <= set(_marks(gap))
    waits = charts.waits_chart(runs)
    assert "rule" in _marks(waits)  # the 426- and 121-day thresholds
    frame = charts.band_frame(runs, charts.WAIT_KPIS)
    assert set(frame["threshold"]) == {426, 121}
    assert (frame["p5"] <= frame["mean"] + 1e-9).all() and (frame["mean"] <= frame["p95"] + 1e-9).all()
    cum = charts.band_frame({"campaign": camp}, ["interagency_net_gbp"], cumulative=True)
    assert len(cum) == 3
    # a dotted rule, labelled, at the year the campaign starts
    marks = charts.change_marks(runs)
    assert marks.to_dict("records") == [{"financial_year": "2023-24", "text": "changes from 2023-24"}]
    assert charts.change_marks({"baseline": base}).empty
    layers = charts.spend_chart(runs)["layer"]
    rules = [layer for layer in layers if layer["mark"]["type"] == "rule" and layer["encoding"]["x"]["field"] ==
             "financial_year"]
    assert rules and any(layer["mark"]["type"] == "text" for layer in layers)
    for chart in (charts.gap_chart(runs), charts.waits_chart(runs), charts.flows_chart(runs)):
        spec = chart
        assert any(layer["mark"]["type"] == "rule" and "x" in layer["encoding"] for layer in spec["spec"]["layer"])
    assert "rule" not in _marks(charts.gap_chart({"baseline": base}))
    # the adopter gap: a panel per count, a colour per scenario (not one black symbol for all)
    gap = charts.gap_chart({"baseline": base, "campaign": camp, "third": camp})
    line = next(layer for layer in gap["spec"]["layer"] if layer["mark"]["type"] == "line")
    assert line["encoding"]["color"]["field"] == "scenario" and "strokeDash" not in line["encoding"]
    assert gap["facet"]["field"] == "label" and gap["resolve"]["scale"]["y"] == "independent"
    for chart in (charts.spend_chart(runs), charts.spend_chart(runs, cumulative=True), charts.flows_chart(runs)):
        assert chart["title"]


def test_every_chart_is_a_valid_vega_lite_specification(pair):
    """The charts are written as plain data: each is checked against the Vega-Lite schema (the one
    altair ships), must survive JSON (no NaN), and draws to PNG as the board pack does."""
    import json

    import jsonschema
    import vl_convert
    from altair.vegalite.v6.schema.core import load_schema

    base, camp = pair
    table = pd.DataFrame({"enquiries_per_month": [10.0, 20.0], "mean": [300.0, 200.0], "p5": [250.0, 150.0],
                          "p95": [350.0, float("nan")], "approvals_mean": [9.0, 14.0]})
    flows = pd.DataFrame({"payer": ["A", "B"], "provider": ["B", "VAA"], "fees_gbp_a_year": [40000.0, 75000.0],
                          "children_a_year": [1.0, 2.0]})
    specs = [f(runs) for runs in ({"baseline": base}, {"baseline": base, "campaign": camp})
             for f in (charts.gap_chart, charts.waits_chart, charts.spend_chart, charts.flows_chart,
                       lambda r: charts.spend_chart(r, cumulative=True))]
    specs += [charts.target_chart(table, 200.0, "A2 (days)", {"mean": 15.0, "95th percentile": None}, today=12.0),
              charts.fee_flow_chart(flows)]
    schema = load_schema()
    for spec in specs:
        text = json.dumps(spec, allow_nan=False)
        jsonschema.validate(json.loads(text), schema)
    assert vl_convert.vegalite_to_png(json.dumps(specs[-2]))[:4] == b"\x89PNG"


# --- downloads and uploads -----------------------------------------------------------------
def test_csv_and_excel_downloads(pair):
    base, camp = pair
    csv = export.results_csv(camp, "Campaign")
    table = pd.read_csv(io.BytesIO(csv))
    assert set(table["scenario"]) == {"Campaign"} and {"kpi", "mean", "p5", "p95"} <= set(table.columns)
    data = export.results_excel({"Baseline: C&P 2022/23": base, "Campaign": camp},
                                {"spend by year": finance.spend_by_year(camp)})
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert len(book.sheetnames) == 7 and book.sheetnames[0] == "contents" and "summary Campaign" in book.sheetnames
    assert [r[0].value for r in book["changes Campaign"].iter_rows()][:2] == ["kind", "change"]
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


@pytest.mark.parametrize("parent", ["baseline", "cambridgeshire-peterborough-2022-23", "raise-recruitment-65"])
def test_pasted_or_uploaded_scenario_may_extend_a_scenario(parent):
    text = (f'extends = "{parent}"\n\n[[change]]\nparameter = "adopters.stage2_days"\nstart = "2024-25"\n'
            'value = 150.0\n')
    for given in (text, text.encode("utf-8")):
        s = read_scenario_text(given, "pasted scenario")
        assert s.adopters == load_scenario(parent).adopters  # the history is the parent's
        assert s.change[-1].parameter == "adopters.stage2_days"
        again = parse_scenario(to_toml(s), "scenario")  # as the app keeps and reruns it
        assert again.change == s.change
    assert run_scenario(s, replications=2, years=1).summary["n"].max() == 2


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
        store.submit(key, lambda p, key=key: key).wait(5)
    assert len(store) <= 3 and store.get("c") is not None


# --- model notes -------------------------------------------------------------------------------
def test_model_notes_and_fit_reports(tmp_path):
    assert "simpy process" in doc_page("background/model")
    assert doc_page("no/such-page") == ""
    (tmp_path / "cp.md").write_text("# fit")
    assert calibration_report("cp", tmp_path) == {"md": tmp_path / "cp.md"}
    assert calibration_report("other", tmp_path) == {}
    assert calibration_report(None, tmp_path) == {}
