"""The app driven through Streamlit's AppTest: choose a baseline, move levers (from a date),
run, compare, load a bad scenario file, find a recruitment target, finance.

Runs are kept small (a few replications over two years, in this process) through the app's
settings for tests (ADOPTION_APP_REPS, ADOPTION_APP_YEARS, ADOPTION_APP_ENGINE).
"""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sim.scenario.files import load_scenario

APP = str(Path(__file__).resolve().parent.parent / "app.py")
BUILT_IN_NAME = "Cambridgeshire & Peterborough Adoption 2022-23 (calibrated)"
SOONER = "Go interagency sooner (30-day in-house search)"  # scenarios/interagency-sooner.toml
ROTHERHAM = "Rotherham Metropolitan Borough Council Adoption Service 2017-18 (calibrated)"
CAMPAIGN_65 = "Raise recruitment by 30% (Hampshire: 50 to 65 a year)"  # scenarios/raise-recruitment-65.toml


@pytest.fixture
def app(monkeypatch):
    monkeypatch.setenv("ADOPTION_APP_REPS", "6")
    monkeypatch.setenv("ADOPTION_APP_YEARS", "2")
    monkeypatch.setenv("ADOPTION_APP_ENGINE", "serial")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    _no_exception(at)
    return at


def _no_exception(at):
    assert not at.exception, [e.value for e in at.exception]


def _metrics(at) -> dict:
    return {m.label: m for m in at.metric}


PAGE_FILES = {"Charts": "charts", "Compare scenarios": "compare", "Recruitment target": "recruitment_target",
              "Finance": "finance", "Market": "market", "Downloads": "downloads", "Library": "library",
              "Model notes": "model_notes"}


def _open(at, view):
    """Open one of the app's pages (a module of app_pages/) by its title."""
    at.switch_page(f"app_pages/{PAGE_FILES[view]}.py")
    at.run()
    _no_exception(at)
    return at


def _run(at, **levers):
    for key, value in levers.items():
        at.number_input(key=f"lever:{key}").set_value(value)
    at.button(key="run").click().run()
    _no_exception(at)
    return at


def test_opens_on_the_built_in_baseline(app):
    assert app.selectbox(key="baseline_choice").value == "Built-in baseline"
    assert app.subheader[0].value == BUILT_IN_NAME
    metrics = _metrics(app)
    assert {"Approvals", "Children waiting", "A10 (days)", "A2 (days)", "Adopter gap",
            "Interagency fees"} <= set(metrics)
    assert all(not m.delta for m in app.metric)  # the baseline against itself: no change shown
    assert len(app.get("vega_lite_chart")) >= 5  # gap, waits, spend, cumulative spend, flows
    captions = " ".join(c.value for c in app.caption)
    # each lever's source, behind its help: the calibrated baseline's figures it was set from
    helps = " ".join(n.help or "" for n in app.sidebar.number_input)
    assert "calibrated in 'Built-in baseline'" in helps and "enquiries 308 (001_ef741affdb884314.txt §4.6)" in helps
    assert "001_ef741affdb884314.txt" not in captions and "python -m sim" not in " ".join(m.value for m in app.markdown)
    assert "threshold 121 days" in captions and "threshold 426 days" in captions


def test_levers_change_the_scenario_and_show_paired_changes(app):
    app.text_input(key="scenario_name").set_value("Campaign +30%")
    _run(app, campaign_pct=30.0, stage2_days=120.0)
    assert app.subheader[0].value == f"Campaign +30% against {BUILT_IN_NAME}"
    changed = [m.value for m in app.markdown if m.value.startswith("Changed:")]
    stage2 = load_scenario().adopters.stage2_days  # the calibrated value
    assert changed and f"Stage 2 length {stage2:g} → 120 days from 2023-24" in changed[0]
    assert "Recruitment campaign: extra enquiries +30% from 2023-24 (enquiries 25.67 → 33.371 a month)" in changed[0]
    assert app.selectbox(key="period").value == "2023-24"  # the first year the change can show
    approvals = _metrics(app)["Approvals"]
    assert approvals.delta is not None and approvals.delta.startswith("+")
    # a fall is given with the minus the metric reads as one (its arrow down; its colour by the measure)
    assert not [m.label for m in app.metric if (m.delta or "").startswith("\u2212")]
    assert "change" in " ".join(c.value for c in app.caption)
    # the run is kept in the session, ready to compare
    assert "Campaign +30%" in app.session_state["kept"]
    _open(app, "Compare scenarios")
    assert app.multiselect(key="compare_choice").value == [BUILT_IN_NAME, "Campaign +30%"]


def test_choose_a_scenario_file_as_baseline(app):
    app.selectbox(key="baseline_choice").set_value("raise-recruitment-65").run()
    _no_exception(app)
    # the lever shows the value in force when the forecast starts, and says from when the file sets it
    assert app.number_input(key="lever:enquiries_per_month").value == pytest.approx(25.67 * 1.3)
    assert app.subheader[0].value.startswith("Raise recruitment by 30%")
    assert "from 2023-24: 33.371 (+30%), set by the scenario 'raise-recruitment-65'" in app.number_input(
        key="lever:enquiries_per_month").help
    assert app.text_input(key="levers_from").value == "2023-24"


def _spec_text(at) -> str:
    """Every chart's specification and data, as text."""
    import pyarrow as pa

    texts = []
    for chart in at.get("vega_lite_chart"):
        texts.append(chart.proto.spec)
        for dataset in chart.proto.datasets:
            texts.append(pa.ipc.open_stream(dataset.data.data).read_pandas().to_csv())
    return " ".join(texts)


def test_levers_act_from_a_date_and_figures_open_on_its_year(app):
    app.text_input(key="scenario_name").set_value("Social workers from 2024")
    app.number_input(key="years").set_value(3)
    app.text_input(key="levers_from").set_value("2024-25")
    _run(app, assessing_social_workers=8.0)
    assert app.subheader[0].value == f"Social workers from 2024 against {BUILT_IN_NAME}"
    changed = [m.value for m in app.markdown if m.value.startswith("Changed:")]
    before = f"{load_scenario('baseline').adopters.assessing_social_workers:g}"
    assert changed and f"Assessing social workers {before} → 8 FTE social workers from 2024-25" in changed[0]
    assert app.selectbox(key="period").value == "2024-25"  # headline figures open on the change's year
    assert any(c.value.startswith("Changes start 2024-25.") for c in app.caption)
    assert "changes from 2024-25" in _spec_text(app)  # the charts mark it
    # any year can be chosen; before the change the figures are the baseline's
    app.selectbox(key="period").set_value("2023-24").run()
    _no_exception(app)
    assert all(m.delta.lstrip("£").startswith("0") for m in app.metric), [m.delta for m in app.metric]
    app.selectbox(key="period").set_value("Average over the horizon").run()
    _no_exception(app)
    # compare: the what-if against the baseline, change 0 with interval [0, 0] in the base year
    _open(app, "Compare scenarios")
    assert app.selectbox(key="compare_period").value == "2024-25"
    app.selectbox(key="compare_period").set_value("2022-23").run()
    _no_exception(app)
    table = app.session_state["compare_table"]
    what_if = table[table["scenario"] == "Social workers from 2024"]
    assert len(what_if) > 10
    assert (what_if[["change", "change_p5", "change_p95"]] == 0).all().all()
    # finance: paired savings by year, zero before the change
    _open(app, "Finance")
    saved = app.session_state["savings_table"]
    before = saved[saved["financial_year"].isin(["2022-23", "2023-24"])]
    assert len(before) == 6 and (before[["saving_gbp", "saving_p5", "saving_p95"]] == 0).all().all()
    assert "2024-25" in set(saved["financial_year"])


def test_a_lever_before_the_forecast_is_refused_with_a_clear_message(app):
    app.text_input(key="levers_from").set_value("2022-23")
    _run(app, stage2_days=120.0)
    errors = " ".join(e.value for e in app.error)
    assert "Stage 2 length: from 2022-23 is before the first forecast year" in errors and "2023-24" in errors
    assert app.subheader[0].value == BUILT_IN_NAME  # the baseline is still shown
    # a lever's own date, and a campaign for six months from October
    app.text_input(key="levers_from").set_value("2023-24")
    app.text_input(key="from:campaign_pct").set_value("2023-10")
    app.number_input(key="campaign_months").set_value(6)
    _run(app, campaign_pct=40.0)
    changed = [m.value for m in app.markdown if m.value.startswith("Changed:")]
    assert changed and "+40% from 2023-10 to 2024-03" in changed[0]
    assert not app.error


def test_compare_two_scenarios_side_by_side(app):
    app.text_input(key="scenario_name").set_value("More social workers")
    _run(app, assessing_social_workers=8.0)
    _open(app, "Compare scenarios")
    app.multiselect(key="compare_choice").select(SOONER).run()
    _no_exception(app)
    table = app.session_state["compare_table"]
    assert list(dict.fromkeys(table["scenario"])) == [BUILT_IN_NAME, "More social workers", SOONER]
    reference = table[table["scenario"] == BUILT_IN_NAME]
    assert (reference["change"] == 0).all()
    assert len(app.get("vega_lite_chart")) >= 4  # the comparison's charts
    assert not [w for w in app.warning if "between agencies" in w.value or "financial years differ" in w.value]
    # another agency, another year: compared, but flagged so that nobody reads it as a what-if
    app.multiselect(key="compare_choice").select(ROTHERHAM).run()
    _no_exception(app)
    warnings = " ".join(w.value for w in app.warning)
    assert f"'{ROTHERHAM}' is calibrated to calibration/targets/rotherham-2017-18.toml" in warnings
    assert "a difference between agencies" in warnings and "the financial years differ" in warnings


def test_a_bad_scenario_file_gives_a_clear_error(app):
    app.sidebar.file_uploader[0].set_value(("mine.toml", b"[adopters]\nstage1_days = -5\n", "application/toml"))
    app.run()
    _no_exception(app)
    errors = [e.value for e in app.error]
    assert errors and "mine.toml: field 'adopters.stage1_days'" in errors[0] and "1 to 730 days" in errors[0]
    assert app.selectbox(key="baseline_choice").value == "Built-in baseline"  # unchanged


@pytest.mark.parametrize("content, expected", [
    (b"\xff\xfe\x00garbage", "not a text file"),
    (b"[adopters\nx = 1", "not valid TOML"),
    (b"[adopter]\nstage1_days = 80.0\n", "did you mean 'adopters'"),
])
def test_unreadable_uploads_give_clear_errors(app, content, expected):
    app.sidebar.file_uploader[0].set_value(("x.toml", content, "application/toml"))
    app.run()
    _no_exception(app)
    assert any(expected in e.value for e in app.error)


def test_a_good_upload_becomes_the_baseline(app):
    text = b'[scenario]\nname = "Our plan"\nyears = 3\nreplications = 4\n\n[adopters]\nenquiries_per_month = 30.0\n'
    app.sidebar.file_uploader[0].set_value(("plan.toml", text, "application/toml"))
    app.run()
    _no_exception(app)
    assert app.selectbox(key="baseline_choice").value == "Uploaded: Our plan"
    assert app.number_input(key="lever:enquiries_per_month").value == 30.0
    assert (app.session_state["years"], app.session_state["reps"]) == (3, 4)  # its run settings come too
    assert app.subheader[0].value == "Uploaded: Our plan"
    assert not app.error


def test_pasted_scenario_checked_the_same_way(app):
    app.text_area(key="paste").input("[children]\nsibling_group_probs = [0.5, 0.6, 0.1]\n")
    app.button(key="load_paste").click().run()
    _no_exception(app)
    assert any("pasted scenario" in e.value and "add up to 1" in e.value for e in app.error)
    app.text_area(key="paste").input("[matching]\ninhouse_search_days = 30.0\n")
    app.button(key="load_paste").click().run()
    _no_exception(app)
    assert app.selectbox(key="baseline_choice").value == "Uploaded: pasted scenario"
    assert app.number_input(key="lever:inhouse_search_days").value == 30.0


def test_recruitment_target_finder_every_year_and_already_met(app):
    _open(app, "Recruitment target")
    assert app.text_input(key="target_from").value == "2023-24"
    app.selectbox(key="target_measure").set_value("Interagency fees paid (£)").run()
    app.number_input(key="target_limit:interagency_fees_gbp").set_value(50_000_000.0)
    app.selectbox(key="target_when").set_value("every year from")
    app.selectbox(key="target_every").set_value("2023-24")
    app.button(key="find").click().run()
    _no_exception(app)
    assert any(m.value.startswith("**Interagency fees paid at or below £50.00m in every year from 2023-24**, with "
                                  "enquiries set from 2023-24") for m in app.markdown)
    info = " ".join(i.value for i in app.info)
    assert "Today's level already meets the limit" in info and "no extra recruitment is needed" in info
    assert "today: 25.7 a month" in _spec_text(app)  # the chart marks today's level
    found = app.session_state["target_result"]
    assert found.every_year_from == 2 and found.today_meets_mean
    # a date before the forecast is refused
    app.text_input(key="target_from").set_value("2022-10")
    app.button(key="find").click().run()
    _no_exception(app)
    assert any("before the first forecast year" in e.value for e in app.error)


def test_recruitment_target_finder(app):
    _open(app, "Recruitment target")
    app.selectbox(key="target_measure").set_value("Interagency fees paid (£)").run()
    assert app.number_input(key="target_limit:interagency_fees_gbp").value == 500_000.0
    app.number_input(key="target_limit:interagency_fees_gbp").set_value(900_000.0)
    app.selectbox(key="target_when").set_value("average over the horizon")
    app.button(key="find").click().run()
    _no_exception(app)
    answers = [s.value for s in app.success] + [w.value for w in app.warning]
    assert any("mean" in a for a in answers) and any("95th percentile" in a for a in answers)
    assert any("enquiries a month" in s.value and "approvals a year" in s.value for s in app.success)


def test_finance_and_downloads_are_there(app):
    _open(app, "Finance")
    _run(app, campaign_pct=50.0)
    assert any(m.value.startswith("**Interagency spend") for m in app.markdown)  # a run keeps the page the user was on
    saved = app.session_state["savings_table"]
    assert set(saved["measure"]) == {"fees paid", "fees received", "net spend"}
    assert "whole horizon" in set(saved["financial_year"])
    _open(app, "Downloads")
    labels = [d.label for d in app.get("download_button")]
    assert {"Results (CSV)", "Results and comparison (Excel)", "Scenario (TOML)"} <= set(labels)
    assert {"Fit report (Markdown)", "Fit report (CSV)"} <= set(labels)  # the built-in baseline's fit


def test_model_notes(app):
    _open(app, "Model notes")
    text = " ".join(m.value for m in app.markdown)
    assert "simpy process" in text and "Matching rule" in text
    assert len(app.dataframe) >= 2  # measures, and parameters with their sources


def test_a_file_asking_for_a_run_too_large_is_refused_with_what_it_would_take(app):
    text = b'[scenario]\nname = "Long plan"\nyears = 50\nreplications = 10000\n'
    app.sidebar.file_uploader[0].set_value(("long.toml", text, "application/toml"))
    app.run()
    _no_exception(app)
    errors = " ".join(e.value for e in app.error)
    assert "long.toml: not loaded, its run is too large: 10,000 replications x 50 years" in errors
    assert "minutes" in errors and "of memory" in errors and "at most 30 years and 2,000 replications" in errors
    assert app.selectbox(key="baseline_choice").value == "Built-in baseline"  # unchanged, not cut down
    assert (app.session_state["years"], app.session_state["reps"]) == (2, 6)


def test_a_pasted_scenario_over_the_size_limit_is_refused_saying_the_limit(app):
    app.text_area(key="paste").input("# " + "x" * 250_000 + "\n[adopters]\nstage1_days = 80.0\n")
    app.button(key="load_paste").click().run()
    _no_exception(app)
    assert any("pasted scenario: too large" in e.value and "the limit is 200 kB" in e.value for e in app.error)


def test_replications_chosen_for_precision_and_said(monkeypatch):
    """Without a count of the user's, the app runs as many replications as the stated precision
    needs, the what-if at least as many as its baseline (so every change is paired), and says so."""
    monkeypatch.delenv("ADOPTION_APP_REPS", raising=False)
    monkeypatch.setenv("ADOPTION_APP_YEARS", "1")
    monkeypatch.setenv("ADOPTION_APP_ENGINE", "serial")
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    _no_exception(at)
    assert at.checkbox(key="reps_auto").value is True
    captions = " ".join(c.value for c in at.caption)
    assert "replications: enough for the 90% confidence interval of each headline figure's mean within 15%" in captions
    _run(at, campaign_pct=30.0)
    store = at.session_state["results"]
    counts = sorted(r.scenario.scenario.replications for r in store.values())
    assert len(counts) == 2 and counts[0] >= 20
    assert "; baseline " in " ".join(c.value for c in at.caption)
    at.checkbox(key="reps_auto").uncheck()
    at.number_input(key="reps").set_value(7)
    _run(at, campaign_pct=30.0)
    assert "7 replications, as asked" in " ".join(c.value for c in at.caption)


def test_finance_window_totals_baseline_beside_scenario(app):
    _open(app, "Finance")
    app.number_input(key="years").set_value(4)
    app.text_input(key="scenario_name").set_value("Campaign +30%")
    _run(app, campaign_pct=30.0)
    assert (app.selectbox(key="finance_from").value, app.selectbox(key="finance_to").value) == ("2023-24", "2025-26")
    app.selectbox(key="finance_from").set_value("2024-25").run()
    _no_exception(app)
    table = app.session_state["finance_table"]
    assert list(dict.fromkeys(table["period"])) == ["2024-25", "2025-26", "total 2024-25 to 2025-26"]
    assert set(table["measure"]) == {"fees paid", "fees received", "net spend"}
    totals = table[table["period"] == "total 2024-25 to 2025-26"].set_index("measure")
    years = table[table["period"] != "total 2024-25 to 2025-26"].groupby("measure").sum(numeric_only=True)
    for column in ("baseline_gbp", "scenario_gbp", "saving_gbp"):  # totals add up, to their rounding
        assert totals[column].to_numpy() == pytest.approx(years[column].loc[totals.index].to_numpy(), rel=0.02,
                                                          abs=2_000)
    assert (totals["saving_p5"] <= totals["saving_gbp"]).all() and (totals["saving_gbp"] <= totals["saving_p95"]).all()
    # the baseline misses the report's interagency placements: said, from the fit report
    notes = " ".join(w.value for w in app.warning)
    assert "interagency placements in 2022-23 against the report's 11" in notes and "sd above" in notes


def test_compare_lists_each_scenario_once_by_title_and_keeps_the_order_chosen(app):
    _open(app, "Compare scenarios")
    options = app.multiselect(key="compare_choice").options
    assert options.count(BUILT_IN_NAME) == 1 and len(options) == len(set(options))
    assert SOONER in options and not [o for o in options if o.startswith("file:") or "cambridgeshire-peterborough" in o]
    app.multiselect(key="compare_choice").set_value([SOONER, BUILT_IN_NAME, CAMPAIGN_65]).run()
    _no_exception(app)
    assert app.selectbox(key="compare_reference").value == BUILT_IN_NAME  # kept while it is compared
    wide = app.session_state["compare_wide"]
    assert list(wide.columns) == [SOONER, BUILT_IN_NAME, CAMPAIGN_65]  # the order chosen
    assert {"A10: care to moving in (foster-carer adjusted)", "A2: order to match",
            "Interagency fees paid"} <= set(wide.index)
    shown = [t.value for t in app.table]  # static tables: every row and column shows
    assert list(shown[0].columns) == [SOONER, BUILT_IN_NAME, CAMPAIGN_65] and len(shown[0]) == len(wide)
    assert list(shown[1].columns) == [SOONER, CAMPAIGN_65], "the change table keeps the order chosen"
    spec = _spec_text(app).replace(" ", "")  # every chart's legend lists every scenario in full
    assert '"labelLimit":0' in spec and '"columns":1' in spec and '"labelLimit":360' not in spec


def test_market_view_runs_a_region_and_shows_the_agencies_and_the_fee_flows(app):
    _open(app, "Market")
    app.number_input(key="market:reps").set_value(2)
    app.number_input(key="market:years").set_value(1)
    app.button(key="market:run").click().run()
    _no_exception(app)
    agencies = next(d.value for d in app.dataframe if "Agency" in d.value.columns)
    assert "Cambridgeshire & Peterborough Adoption" in set(agencies["Agency"])
    assert "all agencies" in set(agencies["Kind"]) and "voluntary adoption agency" in set(agencies["Kind"])
    assert all("_" not in c for c in agencies.columns) and any("(days)" in c for c in agencies.columns)
    assert not app.code, "tables, not a monospace dump"
    assert any(any(c.startswith("Sufficiency index") for c in d.value.columns) for d in app.dataframe)
    assert app.selectbox(key="market:file").format_func("east-of-england") != "east-of-england"  # by title
    app.number_input(key="market:years").set_value(2).run()  # a widget moved: the last run stays shown
    _no_exception(app)
    assert any("Agency" in d.value.columns for d in app.dataframe)
    assert any("Showing the last run" in c.value for c in app.caption)


def test_market_view_compares_a_regional_what_if_with_its_base_in_charts_money_and_changes(app):
    _open(app, "Market")
    app.selectbox(key="market:file").set_value("east-of-england-recruitment-campaign")
    app.selectbox(key="market:against").set_value("east-of-england")
    app.number_input(key="market:reps").set_value(2)
    app.number_input(key="market:years").set_value(2)
    app.button(key="market:run").click().run()
    _no_exception(app)
    changes = next(d.value for d in app.dataframe if "Measure" in d.value.columns)
    assert any(m.startswith("Children with an order waiting") for m in changes["Measure"])
    assert any("VAA income" in m for m in changes["Measure"]) and changes.iloc[:, -1].str.contains(r"\[").all()
    assert any("Change against East of England" in m.value for m in app.markdown)
    spec = _spec_text(app)
    assert "The market: adopters waiting" in spec and "Fees paid by LAs and RAAs" in spec
    assert "East of England: regional recruitment campaign" in spec  # both markets drawn, by title
    money = [d.value for d in app.dataframe if "fees paid by LAs and RAAs" in d.value.index]
    assert len(money) == 2 and all(str(c).startswith("20") for c in money[0].columns)


def test_a_run_beyond_the_size_limit_is_refused_with_what_it_would_take(app):
    text = b'[scenario]\nname = "Region"\n\n[adopters]\nenquiries_per_month = 150.0\n\n[children]\nentering_per_year = 600.0\n'
    app.sidebar.file_uploader[0].set_value(("region.toml", text, "application/toml"))
    app.run()
    _no_exception(app)
    assert app.selectbox(key="baseline_choice").value == "Uploaded: Region"  # small enough as loaded
    app.number_input(key="years").set_value(30)
    app.number_input(key="reps").set_value(2000)
    app.button(key="run").click().run()
    _no_exception(app)
    errors = " ".join(e.value for e in app.error)
    assert "Not run, too large: 2,000 replications x 30 years" in errors and "when idle" in errors, errors
