"""The Library page through Streamlit's AppTest: a planner saves a scenario and a comparison; a
board member opens the comparison by its link in a session of their own and reads the same figures."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from sim.library.store import Library
from tests.test_app import APP, BUILT_IN_NAME, SOONER, _no_exception, _open, _run


def _session(monkeypatch, tmp_path) -> AppTest:
    monkeypatch.setenv("ADOPTION_APP_REPS", "6")
    monkeypatch.setenv("ADOPTION_APP_YEARS", "2")
    monkeypatch.setenv("ADOPTION_APP_ENGINE", "serial")
    monkeypatch.setenv("ADOPTION_LIBRARY", f"sqlite:///{tmp_path}/library.sqlite3")
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    _no_exception(at)
    return at


def test_a_saved_comparison_opens_by_its_link_with_the_same_figures(monkeypatch, tmp_path):
    planner = _session(monkeypatch, tmp_path)
    planner.text_input(key="scenario_name").set_value("Campaign +30%")
    _run(planner, campaign_pct=30.0)
    _open(planner, "Compare scenarios")
    planner.multiselect(key="compare_choice").select(SOONER).run()
    _no_exception(planner)
    table = planner.session_state["compare_wide"]
    _open(planner, "Library")
    planner.text_input(key="library:comparison_title").set_value("Options for May")
    planner.button(key="FormSubmitter:library:save_comparison-Save the comparison").click().run()
    _no_exception(planner)
    said = " ".join(i.value for i in planner.info)
    assert "Saved as comparison 1, with its figures: its link is ?comparison=1." in said
    rows = [d.value for d in planner.dataframe if "link" in d.value.columns][0]
    assert rows.iloc[0]["title"] == "Options for May" and BUILT_IN_NAME in rows.iloc[0]["scenarios"]
    planner.text_input(key="library:comparison_title").set_value("Options for May, again")
    planner.button(key="FormSubmitter:library:save_comparison-Save the comparison").click().run()
    _no_exception(planner)
    lib = Library(f"sqlite:///{tmp_path}/library.sqlite3")
    assert [c.scenario_ids for c in lib.comparisons()][0] == [c.scenario_ids for c in lib.comparisons()][1]
    assert len(lib.scenarios()) == 3  # saved again, the comparison's scenarios are listed once

    board = _session(monkeypatch, tmp_path)  # another person, another session: the link
    board.query_params["comparison"] = "1"
    board.run()
    _no_exception(board)
    board.switch_page("app_pages/compare.py").run()
    _no_exception(board)
    assert board.multiselect(key="compare_choice").value == [BUILT_IN_NAME, "Campaign +30%", SOONER]
    assert board.session_state["compare_wide"].equals(table)  # the same figures, cell for cell


def test_a_saved_scenario_opens_as_the_baseline_and_is_deleted_only_when_confirmed(monkeypatch, tmp_path):
    at = _session(monkeypatch, tmp_path)
    _open(at, "Library")
    at.text_input(key="library:title").set_value("Our baseline")
    at.button(key="FormSubmitter:library:save-Save the scenario").click().run()
    _no_exception(at)
    at.button(key="library:open").click().run()
    _no_exception(at)
    assert at.session_state["baseline_choice"] == "Library: Our baseline"
    _open(at, "Library")
    assert at.button(key="library:delete").disabled  # not without the confirmation
    at.checkbox(key="library:sure").check().run()
    at.button(key="library:delete").click().run()
    _no_exception(at)
    assert not [d for d in at.dataframe if "extends" in d.value.columns]


def _save_comparison(planner: AppTest) -> None:
    planner.text_input(key="scenario_name").set_value("Campaign +30%")
    _run(planner, campaign_pct=30.0)
    _open(planner, "Compare scenarios")
    _open(planner, "Library")
    planner.text_input(key="library:comparison_title").set_value("Options for May")
    planner.button(key="FormSubmitter:library:save_comparison-Save the comparison").click().run()
    _no_exception(planner)


def test_figures_an_older_model_made_are_shown_as_saved_flagged_and_rerun_in_one_click(monkeypatch, tmp_path):
    from sqlalchemy import text

    from sim.library.store import Library

    planner = _session(monkeypatch, tmp_path)
    _save_comparison(planner)
    lib = Library(f"sqlite:///{tmp_path}/library.sqlite3")
    saved = lib.comparison_results(1)
    with lib.engine.begin() as db:  # as if an older release of the model had made them
        db.execute(text("update results set model_version = '0.1.0'"))

    board = _session(monkeypatch, tmp_path)
    board.query_params["comparison"] = "1"
    board.run()
    board.switch_page("app_pages/compare.py").run()
    _no_exception(board)
    warning = " ".join(w.value for w in board.warning)
    assert "made by an older model than this app's" in warning and "Campaign +30%: model 0.1.0" in warning
    shown = board.session_state["compare_wide"]
    board.button(key="library:rerun").click().run()  # on one's own machine, the user is an editor
    _no_exception(board)
    assert not [w for w in board.warning if "older model" in w.value]
    assert " ".join(s.value for s in board.success).startswith("Saved comparison 1 now shows this model's figures")
    renewed = lib.comparison_results(1)
    assert all(r.current for r in renewed) and [r.id for r in renewed] != [r.id for r in saved]
    assert lib.result(saved[0].id).model_version == "0.1.0"  # the older figures are kept
    # this model's figures for the same scenarios, seed and replications: the same as saved
    assert board.session_state["compare_wide"].equals(shown)


def test_a_shared_server_shows_nothing_until_its_proxy_names_the_person(monkeypatch, tmp_path):
    monkeypatch.setenv("ADOPTION_USER_HEADER", "X-Forwarded-Email")
    at = _session(monkeypatch, tmp_path)  # AppTest sends no such header
    assert "expects the sign-in in front of it to name you (the X-Forwarded-Email header)" in at.error[0].value
    assert not at.button and not at.dataframe  # no page, no library
