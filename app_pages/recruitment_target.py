"""The Recruitment target page: the fewest enquiries a month that keep a measure within a limit, found
by simulation; the level found can be taken into the levers and run."""

from __future__ import annotations

import hashlib
import time

import streamlit as st

from sim import DEFAULT_PRECISION, KPI_BY_NAME, THRESHOLDS_DAYS, ScenarioError, parse_scenario, run_text
from sim.app.runs import job_store
from sim.app.settings import EVERY_YEAR, FINAL_YEAR, HORIZON, engine
from sim.app.sidebar import chosen_baseline, on_use_level
from sim.app.view import current_view, remember, set_choice
from sim.planning import charts, target_reading
from sim.planning.levers import (
    default_start,
    in_force,
    start_index,
)
from sim.planning.target_finder import MEASURES, SEARCH_MAX, find_recruitment_target

state = st.session_state
v = current_view()


def on_find(kpi: str, year_labels: list[str]) -> None:
    """Start the search when asked (a callback, so a redraw cannot lose the request)."""
    remember(*[k for k in state.keys() if isinstance(k, str) and k.startswith(("target_limit:", "target_when",
                                                                                  "target_every", "target_from",
                                                                                  "target_max"))])
    run = state["current"]
    state.pop("target_error", None)
    start = (state.get("target_from") or "").strip() or default_start(run["scenario"])
    try:
        start_index(run["scenario"], start, "Recruitment from")
    except ScenarioError as exc:
        state["target_error"] = str(exc)
        state.pop("target_request", None)
        return
    when = state["target_when"]
    every = year_labels.index(state["target_every"]) + 1 if when == EVERY_YEAR else None
    try:  # today's level: the baseline's enquiries a month at that date
        base = chosen_baseline()[0]
        today = float(in_force(base, start_index(base, start)).adopters.enquiries_per_month)
    except ScenarioError:
        today = None
    state["target_request"] = {
        "kpi": kpi, "limit": float(state[f"target_limit:{kpi}"]), "start": start, "every": every, "today": today,
        "year": run["years"] if when == FINAL_YEAR else None,
        "search_max": float(state["target_max"]), "text": run_text(run["scenario"]),
        "reps": run["reps"], "years": run["years"], "label": run["label"], "year_labels": tuple(year_labels)}


def draw_target() -> None:
    st.write("The fewest enquiries a month (and so approvals a year) that keep a measure within a limit, found by "
             f"simulation: runs of '{v.label}' with enquiries set from a date (a dated change; the base year runs on "
             "the baseline), all with the same random numbers: a few replications of each level bracket the level "
             "where the measure meets the limit, and full runs confirm the answer.")
    labels = {KPI_BY_NAME[k].label + f" ({KPI_BY_NAME[k].unit})": k for k in MEASURES}
    c1, c2, c3 = st.columns(3)
    measure_label = c1.selectbox("Keep", list(labels), key="target_measure", on_change=remember,
                                 args=("target_measure",))
    target_kpi = labels[measure_label]
    year_labels = list(v.scen_res.years)
    start = (state.get("target_from") or "").strip() or default_start(v.scenario)
    try:
        from_year = start_index(v.scenario, start) // 12 - v.scenario.scenario.warm_up_years + 1
    except ScenarioError:
        from_year = 2
    default_every = year_labels[max(0, min(from_year + 1, len(year_labels)) - 1)]
    if state.get("target_every") not in year_labels:
        set_choice("target_every", default_every)
    if "target_from" not in state:
        set_choice("target_from", default_start(v.scenario))
    with st.form("target"):
        c1, c2, c3 = st.columns(3)
        step = 10_000.0 if KPI_BY_NAME[target_kpi].unit == "£" else 1.0
        c1.number_input(f"{KPI_BY_NAME[target_kpi].label} at or below ({KPI_BY_NAME[target_kpi].unit})",
                        min_value=0.0, value=float(MEASURES[target_kpi]), step=step,
                        key=f"target_limit:{target_kpi}",
                        help=("The scorecard threshold." if target_kpi in THRESHOLDS_DAYS else
                              "A starting point, not a published threshold: set your own limit."))
        c2.selectbox("in", [EVERY_YEAR, FINAL_YEAR, HORIZON.lower()], key="target_when",
                     help="Every year from the year beside it to the end of the horizon (each year's mean, and "
                          "separately each year's 95th percentile, within the limit); the final year; or each "
                          "replication's average over the years.")
        c3.selectbox("year (for every year from)", year_labels, key="target_every",
                     help="Enquiries take a year or more to become approvals and placements (stages 1 and 2, "
                          "matching), so the year recruitment starts rarely moves a measure: the default is the "
                          "year after.")
        c1, c2, _ = st.columns(3)
        c1.text_input("Recruitment from (financial year or month)", key="target_from",
                      placeholder=default_start(v.scenario),
                      help=f"When the target's enquiries a month start: 'YYYY-YY' or 'YYYY-MM', "
                           f"{default_start(v.scenario)} at the earliest (the base year runs on the baseline).")
        c2.number_input("Search up to (enquiries per month)", min_value=1.0, max_value=SEARCH_MAX,
                        value=float(min(SEARCH_MAX, max(20.0, 4 * v.scenario.adopters.enquiries_per_month))),
                        step=5.0, key="target_max")
        st.form_submit_button("Find the recruitment target", key="find", on_click=on_find,
                              args=(target_kpi, year_labels))
    if state.get("target_error"):
        st.error(state["target_error"])
    request = state.get("target_request")
    if request:
        key = "target:" + hashlib.sha1(repr(sorted(request.items())).encode()).hexdigest()
        job = job_store().submit(key, lambda p, r=request: find_recruitment_target(
            parse_scenario(r["text"], "scenario"), r["kpi"], r["limit"], r["year"], r["reps"], r["years"],
            search_max=r["search_max"], engine=engine(), progress=p, start=r["start"], every_year_from=r["every"],
            today=r["today"], precision=None if r["reps"] else DEFAULT_PRECISION))
        if not job.finished:
            bar = st.progress(0.0, text="Searching")
            while not job.finished:
                bar.progress(job.fraction, text=f"Searching: {job.done} of about {job.total} replications")
                time.sleep(0.05)
            bar.empty()
        if job.error:
            st.error(f"The search failed: {job.error}")
        else:
            found = job.result
            state["target_result"] = found
            k = KPI_BY_NAME[found.kpi]
            st.markdown(target_reading.question(found, list(request["year_labels"]), request["label"]))
            kind, text = target_reading.today(found)
            (st.info if kind == "info" else st.write)(text)
            for answer in target_reading.answers(found):
                if answer.level is None:
                    st.warning(answer.text)
                    continue
                st.success(answer.text)
                st.button(f"Use this level: {answer.level:.1f} enquiries a month from {found.start}",
                          key=f"use_level:{answer.what}", on_click=on_use_level,
                          args=(answer.level, found.start, answer.what),
                          help="Sets the enquiries lever to this level from this date (the campaign to none) "
                               "and runs it, so its figures show in every view and it can be compared.")
            st.vega_lite_chart(spec=charts.target_chart(found.table(), found.limit, k.label,
                                                {"mean meets the limit": found.mean_level,
                                                 "95th percentile meets it": found.p95_level},
                                                today=found.baseline_enquiries), width="stretch")
            st.caption(target_reading.method(found, not request["reps"]))


draw_target()
