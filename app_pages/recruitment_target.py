"""The Recruitment target page: the fewest enquiries a month that keep a measure within a limit, found
by simulation; the level found can be taken into the levers and run."""

from __future__ import annotations

import hashlib
import time

import streamlit as st

from sim.app.runs import job_store, run_text
from sim.app.settings import EVERY_YEAR, FINAL_YEAR, HORIZON, engine
from sim.app.sidebar import chosen_baseline, on_use_level
from sim.app.view import current_view, remember, set_choice
from sim.model.kpis import KPI_BY_NAME, THRESHOLDS_DAYS
from sim.planning import charts, comparison
from sim.planning.levers import (
    default_start,
    in_force,
    start_index,
)
from sim.planning.target_finder import MEASURES, SEARCH_MAX, find_recruitment_target
from sim.run.replications import DEFAULT_PRECISION
from sim.scenario.files import (
    ScenarioError,
    parse_scenario,
)

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
            fy = request["year_labels"]
            if found.every_year_from is not None:
                period = f"in every year from {fy[found.every_year_from - 1]}"
            elif found.year:
                period = f"in the final year ({fy[found.year - 1]})"
            else:
                period = "on average over the horizon"
            st.markdown(f"**{k.label} at or below {comparison.format_figure(found.limit, k.unit)} {period}**, with "
                        f"enquiries set from {found.start} (scenario '{request['label']}'; today "
                        f"{found.baseline_enquiries:g} enquiries a month, the baseline's).")
            today = found.today
            worst = f" (worst year {today.measure['worst_year']})" if "worst_year" in today.measure else ""
            if found.today_meets_mean:
                both_ways = found.today_meets_p95
                st.info(f"**Today's level already meets the limit**"
                        f"{', on average and at the 95th percentile' if both_ways else ' on average'}: "
                        f"{found.baseline_enquiries:.1f} enquiries a month give {k.label} "
                        f"{comparison.format_figure(today.measure['mean'], k.unit)} on average{worst} (90%: "
                        f"{comparison.format_figure(today.measure['p5'], k.unit)} to "
                        f"{comparison.format_figure(today.measure['p95'], k.unit)}): no extra recruitment is needed"
                        + ("." if both_ways else " on average; allowing for uncertainty, see the 95th percentile "
                                                 "below."))
            else:
                st.write(f"Today's level, {found.baseline_enquiries:.1f} enquiries a month, gives {k.label} "
                         f"{comparison.format_figure(today.measure['mean'], k.unit)} on average{worst} (90%: "
                         f"{comparison.format_figure(today.measure['p5'], k.unit)} to "
                         f"{comparison.format_figure(today.measure['p95'], k.unit)}): above the limit.")
            for what, level, note in (
                    ("mean", found.mean_level, "on average the service is within the limit"),
                    ("95th percentile", found.p95_level, "in 95 of 100 simulated futures it is within the limit")):
                ev = found.at(level)
                if level is None:
                    st.warning(f"Where the {what} meets the limit: not reached with up to {found.search_max:g} "
                               "enquiries a month. Recruitment alone does not get there; look at the other levers "
                               "(assessing social workers and panels limit approvals; family finding and "
                               "proceedings limit waits), or at a later year: enquiries take a year or more to "
                               "show.")
                else:
                    in_worst = f" in its worst year ({ev.measure['worst_year']})" if "worst_year" in ev.measure else ""
                    st.success(
                        f"Where the **{what}** meets the limit ({note}): **{level:.1f} enquiries a month** from "
                        f"{found.start} ({level * 12:.0f} a year; ±{found.tolerance:.2f} a month; today "
                        f"{found.baseline_enquiries:.1f}), giving "
                        f"**{ev.approvals['mean']:.0f} approvals a year** (90%: {ev.approvals['p5']:.0f} to "
                        f"{ev.approvals['p95']:.0f}); there {k.label} is "
                        f"{comparison.format_figure(ev.measure['mean'], k.unit)} on average{in_worst} (90%: "
                        f"{comparison.format_figure(ev.measure['p5'], k.unit)} to "
                        f"{comparison.format_figure(ev.measure['p95'], k.unit)}).")
                    st.button(f"Use this level: {level:.1f} enquiries a month from {found.start}",
                              key=f"use_level:{what}", on_click=on_use_level, args=(level, found.start, what),
                              help="Sets the enquiries lever to this level from this date (the campaign to none) "
                                   "and runs it, so its figures show in every view and it can be compared.")
            st.vega_lite_chart(spec=charts.target_chart(found.table(), found.limit, k.label,
                                                {"mean meets the limit": found.mean_level,
                                                 "95th percentile meets it": found.p95_level},
                                                today=found.baseline_enquiries), width="stretch")
            st.caption("The answer is where the mean over replications meets the limit; the second answer allows "
                       "for uncertainty. The dotted line is today's level. The search assumes the measure falls as "
                       "recruitment rises; with finite replications the curve is not perfectly smooth, so read the "
                       f"answer as a level to within the stated tolerance. Levels were bracketed on "
                       f"{found.screen_replications} replications each; today's level and the answers are judged on "
                       f"{found.replications}" + (" (as many as the stated precision needs at today's level)."
                                                  if not request["reps"] else "."))


draw_target()
