"""The planning app: scenarios for service planners, finance and boards, in the browser.

    pip install -e . && streamlit run app.py

Choose a baseline (the built-in one, a scenario file, or a file of your own), move the
levers and run: headline figures against the baseline with their 90% intervals, charts with
uncertainty bands, scenarios side by side, a recruitment target finder, the finance view and
downloads.  Moved levers act from a date (by default the first year after the base year):
they become the scenario's dated changes, and history runs on the baseline.  Runs are done
in the background and cached by scenario, so touching a control while a run is going does
not lose it, and returning to a scenario is instant.

The logic lives in small modules of ``sim`` (levers, comparison, target_finder, finance,
charts, export, jobs, upload, model_notes); this file only lays out the page.

Settings for tests and small machines (environment variables): ``ADOPTION_APP_REPS`` and
``ADOPTION_APP_YEARS`` (default replications and horizon), ``ADOPTION_APP_ENGINE``
(``processes`` or ``serial``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from sim.model.kpis import KPI_BY_NAME, KPIS, THRESHOLDS_DAYS
from sim.planning import board_pack, budget_window, charts, comparison, export, finance, run_limits
from sim.planning.levers import (
    CAMPAIGN,
    GROUPS,
    LEVERS,
    apply_levers,
    changed_levers,
    default_start,
    in_force,
    lever_info,
    lever_values,
    start_index,
)
from sim.planning.model_notes import FOR_A_BOARD, calibration_report, doc_page, plain_text
from sim.planning.target_finder import MEASURES, SEARCH_MAX, find_recruitment_target
from sim.run.jobs import JobStore
from sim.run.replications import DEFAULT_PRECISION, run_to_precision, why
from sim.run.runner import Results, run_scenario
from sim.scenario.calendar import financial_year_label
from sim.scenario.files import (
    BUILT_IN_FILE,
    SCENARIO_DIR,
    ScenarioError,
    built_in_baseline,
    load_scenario,
    parse_scenario,
    scenario_names,
    to_toml,
)
from sim.scenario.parameters import HORIZON_YEARS, Scenario, parameter_table
from sim.scenario.upload import read_scenario_text

DEFAULT_REPS = int(os.environ.get("ADOPTION_APP_REPS", "100"))
AUTO_REPS = "ADOPTION_APP_REPS" not in os.environ  # by default, replications are chosen for precision
FIXED_YEARS = os.environ.get("ADOPTION_APP_YEARS")  # else each baseline's run reaches the budget window
ENGINE = os.environ.get("ADOPTION_APP_ENGINE", "processes")
BUILT_IN = "Built-in baseline"
HORIZON = "Average over the horizon"
EVERY_YEAR = "every year from"
FINAL_YEAR = "the final year"
SESSION_RESULTS = 40  # results kept in a session (older ones are rerun, or come from the cache)

HEADLINE = [
    # kpi, short label, lower is better
    ("approvals", "Approvals", False),
    ("children_waiting_with_po", "Children waiting", True),
    ("a10_days", "A10 (days)", True),
    ("a2_days", "A2 (days)", True),
    ("adopter_gap", "Adopter gap", False),  # comparison.GAP_DEFINITION
    ("interagency_fees_gbp", "Interagency fees", True),
]
TABLE_KPIS = ["enquiries", "approvals", "adopters_waiting", "children_waiting_with_po",
              "children_waiting_over_18_months", "adopter_gap", "placements", "early_permanence_placements",
              "interagency_placements", "adoption_orders", "a1_days", "a10_days", "a2_days", "a20_days",
              "interagency_fees_gbp", "interagency_income_gbp", "interagency_net_gbp"]

st.set_page_config(page_title="Adoption pipeline planner", layout="wide")
state = st.session_state


# --------------------------------------------------------------------------- running
@st.cache_resource
def job_store() -> JobStore:
    """Background runs shared by every session of this server."""
    return JobStore()


def run_text(scenario: Scenario) -> str:
    """What a run depends on: the scenario as TOML, less its name and description."""
    data = scenario.model_dump()
    data["scenario"]["name"] = ""
    data["scenario"]["description"] = ""
    return to_toml(Scenario.model_validate(data))


def run_key(text: str, reps: int | None, years: int, at_least: int = 0) -> str:
    count = reps if reps else f"precision, at least {at_least}"
    return hashlib.sha1(f"{count}|{years}|{text}".encode()).hexdigest()


def _compute(text: str, reps: int | None, years: int, progress, at_least: int = 0) -> Results:
    """A run of ``reps`` replications or, with none given, as many as the stated precision needs
    (at least ``at_least``, so that each replication of a reference run has its pair)."""
    scenario = parse_scenario(text, "scenario")
    if reps:
        return run_scenario(scenario, replications=reps, years=years, engine=ENGINE, progress=progress,
                            share_history=True)
    rule = dataclasses.replace(DEFAULT_PRECISION, minimum=min(max(DEFAULT_PRECISION.minimum, at_least),
                                                              DEFAULT_PRECISION.maximum))
    return run_to_precision(scenario, rule, years=years, engine=ENGINE, progress=progress, share_history=True)


@st.cache_data(show_spinner=False, max_entries=64)
def simulate(text: str, reps: int | None, years: int, at_least: int = 0) -> Results:
    """Results of one scenario, cached by its TOML text, replications and years."""
    job = job_store().submit(run_key(text, reps, years, at_least), lambda p: _compute(text, reps, years, p, at_least))
    return job.wait()


def obtain(texts: dict[str, str], reps: int | None, years: int, what: str = "Running") -> dict[str, Results] | None:
    """Results for each scenario text (label -> text), running what is missing with a
    progress bar.  A redraw while this waits finds the same background runs.  With replications
    chosen for precision (``reps`` None) the first text is run first, and the others with at
    least as many replications, so that every change against it is paired replication by
    replication."""
    if reps or len(texts) < 2:
        return _obtain(texts, reps, years, what)
    first = dict([next(iter(texts.items()))])
    done = _obtain(first, None, years, what)
    if done is None:
        return None
    rest = _obtain({k: v for k, v in texts.items() if k not in first}, None, years, what,
                   at_least=next(iter(done.values())).scenario.scenario.replications)
    return None if rest is None else {label: {**done, **rest}[label] for label in texts}


def _obtain(texts: dict[str, str], reps: int | None, years: int, what: str, at_least: int = 0):
    store = state.setdefault("results", {})
    keys = {label: run_key(text, reps, years, at_least) for label, text in texts.items()}
    missing = {label: text for label, text in texts.items() if keys[label] not in store}
    if missing:
        jobs = [job_store().submit(keys[label], lambda p, t=text: _compute(t, reps, years, p, at_least))
                for label, text in missing.items()]
        bar = st.progress(0.0, text=f"{what}: {', '.join(missing)}")
        while not all(j.finished for j in jobs):
            done = sum(j.done for j in jobs)
            planned = reps * len(jobs) if reps else sum(j.total for j in jobs)
            bar.progress(float(np.mean([j.fraction for j in jobs])),
                         text=f"{what} {', '.join(missing)}: {done} of {planned} replications"
                              + ("" if reps else " (so far; chosen for precision)"))
            time.sleep(0.05)
        bar.empty()
        for label, text in missing.items():
            try:
                store[keys[label]] = simulate(text, reps, years, at_least)
            except RuntimeError as exc:
                st.error(f"The run of '{label}' failed: {exc}")
                return None
    out = {label: store[keys[label]] for label in texts}
    for key in list(store)[:-SESSION_RESULTS]:  # keep the session's most recent results
        if key not in keys.values():
            del store[key]
    return out


# --------------------------------------------------------------------------- baselines
def baseline_options() -> list[str]:
    files = [name for name in scenario_names() if name != BUILT_IN_FILE]  # the built-in is listed first
    return [BUILT_IN] + files + list(state.get("uploaded", {}))


def baseline_scenario(choice: str) -> Scenario:
    if choice == BUILT_IN:
        return built_in_baseline()
    if choice in state.get("uploaded", {}):
        return parse_scenario(state["uploaded"][choice], choice)
    return load_scenario(choice)


def reset_levers(scenario: Scenario, label: str) -> None:
    """Put every lever (and the name) at the baseline's values, acting from the first year after
    its base year."""
    for key, value in lever_values(scenario).items():
        state[f"lever:{key}"] = float(value)
        state[f"from:{key}"] = ""
    state["levers_from"] = default_start(scenario)
    state["campaign_months"] = 0
    state["target_from"] = default_start(scenario)
    state["scenario_name"] = f"What-if on {label}"
    state["scenario_description"] = ""
    state.pop("current", None)  # the new baseline is shown until the next run


def default_years(scenario: Scenario) -> int:
    """The horizon a baseline opens on: ``ADOPTION_APP_YEARS`` if set, else enough financial years
    to reach the end of the budget window (the next three financial years)."""
    run = scenario.scenario
    return int(FIXED_YEARS) if FIXED_YEARS else budget_window.default_horizon(run.start_year, run.years)


def on_baseline_change() -> None:
    try:
        chosen = baseline_scenario(state["baseline_choice"])
        reset_levers(chosen, state["baseline_choice"])
        state["years"] = default_years(chosen)
        state.pop("load_error", None)
    except ScenarioError as exc:
        state["load_error"] = str(exc)


def _add_uploaded(text: str, source: str) -> None:
    try:
        scenario = read_scenario_text(text, source, uploads=state.get("upload_names", {}))
    except ScenarioError as exc:
        state["load_error"] = str(exc)
        return
    run, built_in = scenario.scenario, Scenario().scenario
    asked = (run.replications if run.replications != built_in.replications else int(state["reps"]),
             run.years if run.years != built_in.years else int(state["years"]))
    too_large = run_limits.refusal(scenario, *asked, engine=ENGINE)
    if too_large:
        state["load_error"] = f"{source}: not loaded, its run is too large: {too_large}"
        return
    name = scenario.scenario.name if scenario.scenario.name != Scenario().scenario.name else source
    label = f"Uploaded: {name}"
    state.setdefault("uploaded", {})[label] = to_toml(scenario)
    state.setdefault("upload_names", {})[Path(source).stem] = state["uploaded"][label]  # for a later 'extends'

    state["baseline_choice"] = label
    state.pop("load_error", None)
    reset_levers(scenario, label)
    if run.replications != built_in.replications:  # a file saved from the app keeps its run settings
        state["reps"] = max(run.replications, 2)
        state["reps_auto"] = False
    if run.years != built_in.years:
        state["years"] = run.years


def on_upload() -> None:
    upload = state.get("upload")
    if upload is not None:
        _add_uploaded(upload.getvalue(), upload.name)


def on_paste() -> None:
    _add_uploaded(state.get("paste", ""), "pasted scenario")


# --------------------------------------------------------------------------- page: sidebar
st.title("Adoption pipeline planner")
st.caption("A discrete-event model of the adoption pipeline, from adopter enquiries to adoption orders. "
           "Every figure is a mean over replications with its 90% interval (5th to 95th percentile); "
           "changes against the baseline are paired, replication by replication, on common random numbers.")

if "baseline_choice" not in state:
    state["baseline_choice"] = BUILT_IN
    reset_levers(built_in_baseline(), BUILT_IN)
    state["reps"] = DEFAULT_REPS
    state["reps_auto"] = AUTO_REPS
    state["years"] = default_years(built_in_baseline())

with st.sidebar:
    st.header("Baseline")
    st.selectbox("Start from", baseline_options(), key="baseline_choice", on_change=on_baseline_change,
                 help="The built-in baseline (Cambridgeshire & Peterborough 2022/23, calibrated to its annual "
                      "report), a scenario file in scenarios/, or a scenario you loaded below.")
    st.file_uploader("Load a scenario file (TOML)", type=["toml", "txt"], key="upload", on_change=on_upload,
                     help="A scenario saved from this app, or written by hand (see docs/reference/scenario-files.md).")
    with st.expander("…or paste a scenario"):
        st.text_area("Scenario TOML", key="paste", height=150,
                     placeholder='[scenario]\nname = "My what-if"\n\n[adopters]\nenquiries_per_month = 33.4')
        st.button("Load pasted scenario", key="load_paste", on_click=on_paste)
    if state.get("load_error"):
        st.error(f"That scenario could not be loaded:\n\n{state['load_error']}")

def chosen_baseline() -> tuple[Scenario, str, str]:
    """The chosen baseline, what was chosen (a file name or an upload), and its label."""
    ref = state["baseline_choice"]
    scenario = baseline_scenario(ref)
    named = scenario.scenario.name != Scenario().scenario.name
    label = scenario.scenario.name if ref == BUILT_IN or (named and ref in scenario_names()) else ref
    return scenario, ref, label


def chosen_reps() -> int | None:
    """The replications asked for, or None: as many as the stated precision needs."""
    return None if state.get("reps_auto") else int(state["reps"])


def on_run() -> None:
    """Apply the levers when Run is pressed.  As a callback this happens before the page is
    redrawn, so a control touched straight after Run cannot lose the run."""
    state.pop("run_error", None)
    state.pop("run_refused", None)
    try:
        base, _, base_label = chosen_baseline()
        scenario = apply_levers(base, {lever.key: state[f"lever:{lever.key}"] for lever in LEVERS},
                                start=state.get("levers_from"),
                                starts={lever.key: state.get(f"from:{lever.key}") or "" for lever in LEVERS},
                                campaign_months=int(state.get("campaign_months") or 0))
    except (ScenarioError, ValueError) as exc:  # a bad date, or a combination the scenario checks refuse
        state["run_error"] = str(exc)
        return
    too_large = run_limits.refusal(scenario, int(state["reps"]), int(state["years"]), engine=ENGINE)
    if too_large:
        state["run_refused"] = too_large
        return
    name = (state.get("scenario_name") or "").strip() or "What-if"
    if not changed_levers(base, scenario):
        name = base_label
    elif name == base_label:
        name = f"{name} (changed)"
    if name != base_label:
        kept = state.setdefault("kept", {})
        label, i = name, 2
        while label in kept and kept[label] != run_text(scenario):
            label, i = f"{name} ({i})", i + 1
        kept[label] = run_text(scenario)
        name = label
        choice = list(state.get("compare_choice", [base_label]))
        state["compare_choice"] = choice + [label] if label not in choice else choice
    state["current"] = {"label": name, "description": state.get("scenario_description", ""),
                        "scenario": scenario, "reps": chosen_reps(), "years": int(state["years"])}


try:
    baseline, baseline_ref, baseline_label = chosen_baseline()
except ScenarioError as exc:
    st.error(str(exc))
    st.stop()


# --------------------------------------------------------------------------- page: levers
def base_year_label(scenario: Scenario) -> str:
    run = scenario.scenario
    return financial_year_label(run.start_year)


def _format(value: float, step: float) -> str:
    decimals = next((d for d in range(5) if abs(round(value, d) - value) < 1e-9), 4)
    step_decimals = next((d for d in range(5) if abs(round(step, d) - step) < 1e-9), 4)
    return f"%.{max(decimals, step_decimals)}f"


FROM_HELP = ("A financial year 'YYYY-YY' (from its April) or a month 'YYYY-MM'. History (the warm-up and the base "
             "year) always runs on the baseline, so the earliest is {earliest}; moved levers become dated changes "
             "from this date (saved as [[change]] in the scenario file), and replace the baseline's own changes to "
             "the same parameter from then on.")

with st.sidebar, st.form("levers"):
    st.header("Levers")
    st.text_input("Scenario name", key="scenario_name")
    st.text_input("Description (why, and the source)", key="scenario_description")
    st.text_input("Changes start from (financial year or month)", key="levers_from",
                  placeholder=default_start(baseline), help=FROM_HELP.format(earliest=default_start(baseline)))
    st.caption(f"The base year {base_year_label(baseline)} runs on the baseline. A lever may have its own date "
               "('YYYY-YY' or 'YYYY-MM') in the box under it.")
    for group in GROUPS:
        with st.expander(group, expanded=group == GROUPS[0]):
            for lever in (lv for lv in LEVERS if lv.group == group):
                info = lever_info(lever, baseline, baseline_ref)
                st.number_input(f"{lever.label} ({lever.unit})", min_value=float(lever.lo),
                                max_value=float(lever.hi), step=float(lever.step), key=f"lever:{lever.key}",
                                format=_format(float(info["baseline"]), lever.step),
                                help=f"{info['meaning']}  \n**Source:** {info['source']}")
                st.text_input(f"{lever.label}: from", key=f"from:{lever.key}", label_visibility="collapsed",
                              placeholder="from: as above")
                if lever.key == CAMPAIGN:
                    st.number_input("Campaign length (months; 0 = to the end of the run)", min_value=0,
                                    max_value=600, step=1, key="campaign_months",
                                    help="A campaign for six months, say: enquiries go back to their level after it.")
                st.caption(f"Baseline {info['baseline']:,.6g}" + (" (changes from a date: see ?)" if info["changes"]
                                                                     else ""))
    with st.expander("Horizon and replications"):
        st.number_input("Financial years to simulate", min_value=1, max_value=run_limits.MAX_YEARS, step=1, key="years",
                        help="Reported years after a warm-up; year 1 is the baseline's first year.")
        st.checkbox("Choose replications for precision", key="reps_auto",
                    help=f"Run replications in batches until {DEFAULT_PRECISION.describe()} (at least "
                         f"{DEFAULT_PRECISION.minimum}, at most {DEFAULT_PRECISION.maximum}; see docs/background/model.md). "
                         "Untick to give a number of your own.")
        st.number_input("Replications (when not chosen for precision)", min_value=2, max_value=run_limits.MAX_REPLICATIONS, step=10,
                        key="reps", help="More replications narrow the estimate of each interval but take longer.")
    st.form_submit_button("Run", type="primary", key="run", on_click=on_run)

reps, years = chosen_reps(), int(state["years"])
if state.get("run_error"):
    st.error(f"Those lever settings are not a valid scenario: {state['run_error']}")
if state.get("run_refused"):
    st.error(f"Not run, too large: {state['run_refused']}")
if "current" not in state:  # the baseline itself until the first run
    state["current"] = {"label": baseline_label, "description": baseline.scenario.description,
                        "scenario": baseline, "reps": reps, "years": years}

current = state["current"]
scenario, label = current["scenario"], current["label"]
reps, years = current["reps"], current["years"]
runs = obtain({baseline_label: run_text(baseline), label: run_text(scenario)}, reps, years)
if runs is None:
    st.stop()
base_res, scen_res = runs[baseline_label], runs[label]
same = label == baseline_label
both = {baseline_label: base_res} if same else {baseline_label: base_res, label: scen_res}


# --------------------------------------------------------------------------- page: headline
def period_choice(results: Results, key: str, default: int, marker: str) -> int | None:
    """A year (1 = the base year) or None for the horizon average; it opens on ``default`` each
    time ``marker`` (what is shown) changes, and keeps the user's choice otherwise."""
    options = results.years + [HORIZON]
    if state.get(f"{key}:for") != marker or state.get(key) not in options:
        state[key] = options[min(default, len(results.years)) - 1]
        state[f"{key}:for"] = marker
    choice = st.selectbox("Figures for", options, key=key,
                          help="A financial year (stocks at its 31 March), or each replication's average over the "
                               "years. It opens on the first year a change can show: the financial year in which "
                               "the earliest change starts (without one, the first forecast year).")
    return None if choice == HORIZON else options.index(choice) + 1


st.subheader(label if same else f"{label} against {baseline_label}")
st.caption(f"{years} financial years ({base_res.years[0]} to {base_res.years[-1]}), seed {scenario.scenario.seed}; "
           + (why(scen_res) if same else f"{why(scen_res)}; baseline {why(base_res)}") + "."
           + ("" if same else " Changes are paired replication by replication (common random numbers) with their "
                              "90% interval."))
if current.get("description"):
    st.write(plain_text(current["description"]))
moved = changed_levers(baseline, scenario)
if moved:
    st.write("Changed: " + "; ".join(ch.text() for ch in moved))
first_change = comparison.first_change(scenario, None if same else baseline)
if first_change is not None:
    st.caption(f"Changes start {first_change.start}. History (the warm-up and {base_res.years[0]}, the base year) "
               "runs on the baseline, with the same random numbers, so until a change starts the figures are the "
               "baseline's (change 0); its effect then shows with the pipeline's lags.")
    if (comparison.change_year(scenario, None if same else baseline) or 0) > len(scen_res.years):
        st.warning(f"The changes start ({first_change.start}) after the last year simulated ({scen_res.years[-1]}): "
                   "they do not show. Simulate more years (Horizon and replications) or choose an earlier date.")

year = period_choice(scen_res, "period",
                     comparison.default_year(scenario, None if same else baseline, len(scen_res.years)),
                     marker=f"{label}|{run_key(run_text(scenario), reps, years)}")
table = comparison.change_table(base_res, scen_res, [k for k, _, _ in HEADLINE], year)
cols = st.columns(len(HEADLINE))
for col, (kpi, short, lower_better), row in zip(cols, HEADLINE, table.itertuples()):
    unit = row.unit
    threshold = THRESHOLDS_DAYS.get(kpi)
    parts = comparison.estimate_parts(row.scenario, row.scenario_p5, row.scenario_p95, unit)
    value = parts[0] if parts else comparison.format_figure(row.scenario, unit)
    change_parts = None if same else comparison.estimate_parts(row.change, row.change_p5, row.change_p95, unit,
                                                               signed=True)
    delta = None if same or np.isnan(row.change) else (
        change_parts[0] if change_parts else comparison.format_change(row.change, row.change, row.change, unit))
    no_change = delta is not None and not any(ch in "123456789" for ch in delta)  # a change that rounds to 0
    col.metric(short, value, comparison.metric_delta(delta),
               delta_color="off" if no_change else "inverse" if lower_better else "normal",
               delta_arrow="off" if no_change else "auto",
               help=comparison.GAP_DEFINITION if kpi == "adopter_gap" else f"{row.label}. " + KPI_BY_NAME[kpi].description
               + (f" Scorecard threshold {threshold} days." if threshold else ""))
    lines = ["mean [90%]: " + comparison.format_estimate(row.scenario, row.scenario_p5, row.scenario_p95, unit)]
    if not same:
        lines.append("change " + comparison.format_change(row.change, row.change_p5, row.change_p95, unit))
    if threshold:
        lines.append(f"threshold {threshold} days: " + ("within" if row.scenario <= threshold else "above"))
    col.caption("  \n".join(lines))

headline = comparison.change_table(base_res, scen_res, TABLE_KPIS, year)
shown = pd.DataFrame({
    "measure": headline["label"],
    "baseline": [comparison.format_figure(v, u) for v, u in zip(headline["baseline"], headline["unit"])],
    "scenario [90% interval]": [comparison.format_estimate(r.scenario, r.scenario_p5, r.scenario_p95, r.unit)
                                for r in headline.itertuples()],
    "change [90% interval]": [comparison.format_change(r.change, r.change_p5, r.change_p95, r.unit)
                              for r in headline.itertuples()],
    "threshold": [f"{t:g} days" if not np.isnan(t) else "" for t in headline["threshold"]],
})
with st.expander("All headline measures", expanded=False):
    st.dataframe(shown, hide_index=True, width="stretch")

def draw_charts() -> None:
    st.vega_lite_chart(spec=charts.gap_chart(both), width="stretch")
    st.caption("The adopter gap: approved adopters waiting against children with a placement order waiting, "
               "at each 31 March. Lines are means, bands the 90% interval.")
    st.vega_lite_chart(spec=charts.waits_chart(both))
    c1, c2 = st.columns(2)
    c1.vega_lite_chart(spec=charts.spend_chart(both), width="stretch")
    c2.vega_lite_chart(spec=charts.spend_chart(both, cumulative=True), width="stretch")
    st.vega_lite_chart(spec=charts.flows_chart(both))

# --------------------------------------------------------------------------- compare
@st.cache_data(show_spinner=False, max_entries=4)
def scenario_files(stamp: tuple) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """The scenario files in scenarios/: {file name: (title, run text)}, and the files that
    cannot be read with the reason.  ``stamp`` (names and modification times) renews it."""
    files, errors = {}, {}
    for name, _ in stamp:
        try:
            loaded = load_scenario(name)
        except ScenarioError as exc:
            errors[name] = str(exc)
            continue
        title = loaded.scenario.name if loaded.scenario.name != Scenario().scenario.name else name
        files[name] = (title, run_text(loaded))
    return files, errors


def compare_options() -> dict[str, str]:
    """What can be compared, each once, by its title: the baseline, the scenarios run in this
    session, and the files in scenarios/ (a file that runs the same scenario as one already
    listed, such as the built-in baseline's own file, is not listed again)."""
    options = {baseline_label: run_text(baseline)}
    for name, text in state.get("kept", {}).items():
        if text not in options.values():
            options[name] = text
    stamp = tuple((name, (SCENARIO_DIR / f"{name}.toml").stat().st_mtime) for name in scenario_names())
    files, _ = scenario_files(stamp)
    for name, (title, text) in files.items():
        if text in options.values():
            continue
        options[title if title not in options else f"{title} ({name})"] = text
    return options


def compare_choice(options: dict[str, str]) -> list[str]:
    """The scenarios chosen to compare, in the order chosen (by default the baseline and the
    last three scenarios run), keeping only those still on offer."""
    if "compare_choice" in state:
        return [n for n in state["compare_choice"] if n in options] or [baseline_label]
    return [baseline_label] + [n for n in list(state.get("kept", {}))[-3:] if n in options]


def compared_runs(options: dict[str, str], chosen: list[str]) -> dict[str, Results] | None:
    """Results of the chosen scenarios, in the order chosen (run now if not run before)."""
    return obtain({name: options[name] for name in chosen}, reps, years, "Comparing")


def compare_default_year(compared: dict[str, Results], reference: str) -> int:
    """The year a comparison opens on: the budget window's last year, or the first in which a
    scenario's change against the reference can show if that is later
    (:func:`sim.planning.comparison.default_year`)."""
    ref = compared[reference]
    return min(comparison.default_year(r.scenario, ref.scenario, len(ref.years)) for r in compared.values())


def compare_marker(compared: dict[str, Results], reference: str) -> str:
    return "|".join([reference, *compared, str(reps), str(years)])


def compare_settings(compared: dict[str, Results]) -> tuple[str, int | None]:
    """The reference and year chosen in Compare, or their defaults where Compare has not been
    shown for these scenarios (the downloads use the same)."""
    reference = state.get("compare_reference")
    reference = reference if reference in compared else next(iter(compared))
    options = compared[reference].years + [HORIZON]
    if state.get("compare_period:for") == compare_marker(compared, reference) and state.get("compare_period") in options:
        choice = state["compare_period"]
        return reference, None if choice == HORIZON else options.index(choice) + 1
    return reference, compare_default_year(compared, reference)


def table_height(rows: int) -> int:
    """A table's height in pixels that shows every row without scrolling."""
    return 38 + 35 * rows


def draw_compare() -> None:
    st.write("Scenarios run in this session, and the scenario files shipped with the app, side by side "
             f"({f'{reps} replications' if reps else 'replications chosen for precision'} × {years} years each). Changes are against the reference scenario, paired "
             "replication by replication.")
    options = compare_options()
    state["compare_choice"] = compare_choice(options)
    chosen = st.multiselect("Scenarios (in the order to show them)", list(options), key="compare_choice")
    if not chosen:
        return
    compared = compared_runs(options, chosen)
    if not compared:
        return
    c1, c2 = st.columns(2)
    if state.get("compare_reference") not in compared:
        state["compare_reference"] = chosen[0]
    reference = c1.selectbox("Reference", list(compared), key="compare_reference")
    with c2:
        cyear = period_choice(compared[reference], "compare_period", compare_default_year(compared, reference),
                              marker=compare_marker(compared, reference))
    side = comparison.side_by_side(compared, TABLE_KPIS, cyear, reference)
    state["compare_table"] = side
    wide, wide_change = board_pack.headline_table(compared, cyear, reference, TABLE_KPIS)  # as the board pack
    state["compare_wide"] = wide
    # a static table: every measure and every scenario's full title show, the cells wrapping to fit
    st.table(wide.reset_index().rename(columns={"measure": "Measure"}).set_index("Measure"))
    st.caption("Each cell: mean [90% interval]. " + comparison.GAP_DEFINITION)
    if len(wide_change):
        st.markdown(f"**Change against {reference}** (mean [90% interval], paired)")
        st.table(wide_change.reset_index().rename(columns={"measure": "Measure"}).set_index("Measure"))
    for name in compared:
        for text in comparison.comparability_warnings(reference, compared[reference], name, compared[name]):
            st.warning(text)
    unpaired = [n for n in compared if not comparison.is_paired(compared[reference], compared[n])]
    if unpaired:
        st.warning(f"Not paired with {reference} (a different seed), so their intervals are wider: "
                   + ", ".join(unpaired))
    st.vega_lite_chart(spec=charts.gap_chart(compared), width="stretch")
    st.vega_lite_chart(spec=charts.waits_chart(compared))
    st.vega_lite_chart(spec=charts.spend_chart(compared, cumulative=True), width="stretch")
    st.vega_lite_chart(spec=charts.flows_chart(compared))

# --------------------------------------------------------------------------- recruitment target
def on_find(kpi: str, year_labels: list[str]) -> None:
    """Start the search when asked (a callback, so a redraw cannot lose the request)."""
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


def on_use_level(level: float, start: str, what: str) -> None:
    """Take a level the target finder found into the levers (enquiries a month from its date, no
    campaign on top), and run it as a what-if."""
    state["lever:enquiries_per_month"] = round(float(level), 1)
    state["from:enquiries_per_month"] = start
    state[f"lever:{CAMPAIGN}"] = 0.0
    state["scenario_name"] = f"Recruitment target ({what}): {level:.1f} enquiries a month from {start}"
    state["scenario_description"] = (f"The level of enquiries the recruitment target finder found where the {what} "
                                     "meets the limit.")
    on_run()


def draw_target() -> None:
    st.write("The fewest enquiries a month (and so approvals a year) that keep a measure within a limit, found by "
             f"simulation: runs of '{label}' with enquiries set from a date (a dated change; the base year runs on "
             "the baseline), all with the same random numbers: a few replications of each level bracket the level "
             "where the measure meets the limit, and full runs confirm the answer.")
    labels = {KPI_BY_NAME[k].label + f" ({KPI_BY_NAME[k].unit})": k for k in MEASURES}
    c1, c2, c3 = st.columns(3)
    measure_label = c1.selectbox("Keep", list(labels), key="target_measure")
    target_kpi = labels[measure_label]
    year_labels = list(scen_res.years)
    start = (state.get("target_from") or "").strip() or default_start(scenario)
    try:
        from_year = start_index(scenario, start) // 12 - scenario.scenario.warm_up_years + 1
    except ScenarioError:
        from_year = 2
    default_every = year_labels[max(0, min(from_year + 1, len(year_labels)) - 1)]
    if state.get("target_every") not in year_labels:
        state["target_every"] = default_every
    if "target_from" not in state:
        state["target_from"] = default_start(scenario)
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
                      placeholder=default_start(scenario),
                      help=f"When the target's enquiries a month start: 'YYYY-YY' or 'YYYY-MM', "
                           f"{default_start(scenario)} at the earliest (the base year runs on the baseline).")
        c2.number_input("Search up to (enquiries per month)", min_value=1.0, max_value=SEARCH_MAX,
                        value=float(min(SEARCH_MAX, max(20.0, 4 * scenario.adopters.enquiries_per_month))),
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
            search_max=r["search_max"], engine=ENGINE, progress=p, start=r["start"], every_year_from=r["every"],
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

# --------------------------------------------------------------------------- finance
def money_columns(columns: dict[str, str]) -> dict:
    """Column settings for a table of pounds: labels with their unit, thousands separated."""
    return {key: st.column_config.NumberColumn(label, format="localized") for key, label in columns.items()}


def finance_window() -> list[int]:
    """The years of the finance window (1 = the base year): the user's choice for this run, or for a
    new run the next three financial years (:mod:`sim.planning.budget_window`).  The finance view,
    the spreadsheet and the board paper total the same window."""
    year_labels = list(scen_res.years)
    marker = f"{label}|{run_key(run_text(scenario), reps, years)}"  # a new run opens on its own window
    if state.get("finance_window:for") != marker or not {state.get("finance_from"), state.get("finance_to")} <= set(
            year_labels):
        state["finance_from"], state["finance_to"] = budget_window.default_window(year_labels)
        state["finance_window:for"] = marker
    return finance.window_years(scen_res, state["finance_from"], state["finance_to"])


def draw_finance() -> None:
    st.markdown(f"**Interagency spend: {label}" + ("" if same else f" against {baseline_label}") + "**")
    year_labels = list(scen_res.years)
    finance_window()
    c1, c2, _ = st.columns([1, 1, 2])
    c1.selectbox("From financial year", year_labels, key="finance_from",
                 help="The first year of the period to total (a budget paper's window).")
    c2.selectbox("To financial year", year_labels, key="finance_to", help="The last year of the period, included.")
    window = finance.window_years(scen_res, state["finance_from"], state["finance_to"])
    table = finance.spend_table(base_res, scen_res, window)
    state["finance_table"] = table
    names = {"period": "Financial year", "measure": "Measure",
             "baseline": f"{baseline_label} (£, mean [90% interval])",
             "scenario": f"{label} (£, mean [90% interval])", "saving": "Saving (£, paired, mean [90% interval])"}
    shown = finance.spend_text(table)
    columns = ["measure", "baseline"] if same else ["measure", "baseline", "scenario", "saving"]
    totals = shown[shown["period"].str.startswith("total") | (len(window) == 1)]
    st.markdown(f"**{state['finance_from']} to {state['finance_to']}: totals**")
    # static tables: every column shows, the cells wrapping to fit
    st.table(totals[columns].rename(columns=names).set_index("Measure"))
    st.caption("Each figure: the mean over the replications both runs share, with its 90% interval (5th to 95th "
               "percentile). Saving: less paid, or more received, than the baseline, from the difference in each "
               "replication (scenario and baseline share their random numbers); a negative saving is a cost. "
               "Totals add each replication's years before the mean and interval are taken. Pounds are rounded to "
               "three significant figures of each interval's width, the same in the spreadsheet and the board paper.")
    for note in finance.fit_notes(calibration_report(baseline.calibration.targets_file).get("csv")):
        st.warning("**Baseline against the report.** " + note)
    st.markdown("**By financial year**")
    years_only = shown[~shown["period"].str.startswith("total")]
    st.table(years_only[["period", *columns]].rename(columns=names).set_index(["Financial year", "Measure"]))
    c1, c2 = st.columns(2)
    c1.vega_lite_chart(spec=charts.spend_chart(both), width="stretch")
    c2.vega_lite_chart(spec=charts.spend_chart(both, cumulative=True), width="stretch")
    if not same:
        state["savings_table"] = finance.savings(base_res, scen_res)
        if first_change is not None:
            st.caption(f"Changes start {first_change.start}: in the years before, the scenario is the baseline, "
                       "replication by replication, so it saves nothing there (0, interval [0, 0]).")
    with st.expander(f"Placements and fees by provider: {label}"):
        spend = finance.spend_by_year(scen_res)
        st.dataframe(spend[["financial_year", "placements_vaa", "placements_la", "fees_paid_gbp",
                            "fees_paid_vaa_gbp_est", "fees_paid_la_gbp_est"]].round(1), hide_index=True,
                     width="stretch", column_config={
                         "financial_year": st.column_config.TextColumn("Financial year"),
                         "placements_vaa": st.column_config.NumberColumn("VAA placements (children, mean)",
                                                                         format="%.1f"),
                         "placements_la": st.column_config.NumberColumn("LA/RAA placements (children, mean)",
                                                                        format="%.1f"),
                         **money_columns({"fees_paid_gbp": "Fees paid (£, mean)",
                                          "fees_paid_vaa_gbp_est": "of which VAA (£, estimate)",
                                          "fees_paid_la_gbp_est": "of which LA/RAA (£, estimate)"})})
        st.caption("The split of fees paid by provider is an estimate (each year's fees shared by placements with "
                   "each provider, weighted by its one-child fee); fees received are the LA/RAA fee for the agency's "
                   "own adopters taken by other agencies.")
    with st.expander("Fee schedule (by provider and financial year; a fee lever acts from its date)"):
        schedule = finance.schedule_table(scen_res)
        st.dataframe(schedule[["financial_year", "provider", "one_child_gbp", "two_siblings_gbp", "three_siblings_gbp",
                               "monthly_fee_gbp"]], hide_index=True, width="stretch", column_config={
            "financial_year": st.column_config.TextColumn("Financial year"),
            "provider": st.column_config.TextColumn("Provider"),
            **money_columns({"one_child_gbp": "One child (£)", "two_siblings_gbp": "Two siblings (£)",
                             "three_siblings_gbp": "Three siblings (£)",
                             "monthly_fee_gbp": "Monthly fee after 12 months (£)"})})

# --------------------------------------------------------------------------- downloads
def draw_downloads() -> None:
    stem = export.file_stem(label)
    options = compare_options()
    chosen = compare_choice(options)
    compared = compared_runs(options, chosen)
    if not compared:
        return
    reference, cyear = compare_settings(compared)
    period = compared[reference].years[cyear - 1] if cyear else HORIZON.lower()
    window = finance_window()  # the window the spreadsheet and the board paper total
    st.markdown(f"**Board paper** for the scenarios chosen in *Compare scenarios*: {', '.join(compared)}; figures "
                f"for {period}, changes against {reference}; interagency spend over {state['finance_from']} to "
                f"{state['finance_to']} (the window in *Finance*).")
    st.text_input("The question for the board", key="board_question",
                  placeholder=f"What would {', '.join(n for n in compared if n != reference) or reference} change "
                              f"against {reference}, in {period}?")

    # The paper is made when a download is asked for, outside this run, where the session's state
    # cannot be read: so what it is made from is taken now, and made papers kept in a dict of the
    # session's (a paper per comparison, question and window).
    question = state.get("board_question") or None
    key = (compare_marker(compared, reference), cyear, question or "", tuple(window))
    made = state.setdefault("board_papers", {})

    def pack() -> board_pack.BoardPack:
        if key not in made:
            made.clear()
            made[key] = board_pack.build(compared, cyear, reference, question, kpis=TABLE_KPIS, window=window)
        return made[key]

    c1, c2, _ = st.columns(3)
    c1.download_button("Board pack (PDF)", lambda: board_pack.to_pdf(pack()), "board-pack.pdf", "application/pdf",
                       key="dl_pack_pdf", on_click="ignore", type="primary",
                       help="The question, the scenarios and what each changes from when, the headline table with "
                            "90% intervals, the key charts, the assumptions and the source reports.")
    c2.download_button("Board pack (web page)", lambda: board_pack.to_html(pack()), "board-pack.html", "text/html",
                       key="dl_pack_html", on_click="ignore")
    st.markdown("**Results**")
    c1, c2, c3 = st.columns(3)
    c1.download_button("Results (CSV)", export.results_csv(scen_res, label), f"{stem}-results.csv", "text/csv",
                       key="dl_csv", on_click="ignore")
    sheets = {"headline changes": export.rounded(headline, (("scenario", "scenario_p5", "scenario_p95"),
                                                            ("change", "change_p5", "change_p95"))),
              "spend and savings": finance.spend_table(base_res, scen_res, window),
              "fee schedule": finance.schedule_table(scen_res),
              "comparison": export.comparison_frame(compared, TABLE_KPIS, reference)}
    c2.download_button("Results and comparison (Excel)",
                       lambda: export.results_excel({**both, **compared}, sheets),
                       f"{stem}-results.xlsx", export.EXCEL_MIME, key="dl_xlsx", on_click="ignore",
                       help="A contents sheet; each scenario's summary and parameters; the headline changes; spend, "
                            "fees received, net spend and savings in the finance window, by year and in total; the fee schedule; and the scenarios chosen "
                            "in Compare side by side for every financial year. Values are rounded as on screen.")
    c3.download_button("Scenario (TOML)", export.scenario_toml(scenario, name=label,
                                                                description=current.get("description") or None,
                                                                replications=reps, years=years),
                       f"{stem}.toml", "application/toml", key="dl_toml", on_click="ignore",
                       help="Load it again with 'Load a scenario file' in the sidebar.")
    st.markdown(f"**Calibration fit report for the baseline ({state['baseline_choice']})**")
    report = calibration_report(chosen_baseline()[0].calibration.targets_file)  # the agency it was fitted to
    if report:
        if "md" in report:
            with st.expander("Fit report", expanded=False):
                st.markdown(plain_text(report["md"].read_text(encoding="utf-8")))
            st.download_button("Fit report (Markdown)", report["md"].read_bytes(), report["md"].name, "text/markdown",
                               key="dl_fit_md", on_click="ignore")
        if "csv" in report:
            st.download_button("Fit report (CSV)", report["csv"].read_bytes(), report["csv"].name, "text/csv",
                               key="dl_fit_csv", on_click="ignore")
    else:
        st.info("No calibration fit report is available yet for this baseline. Fitted baselines write theirs to "
                "calibration/reports/NAME.md and NAME.csv.")

# --------------------------------------------------------------------------- model notes
def draw_notes() -> None:
    st.markdown("### The model in brief")
    st.markdown(FOR_A_BOARD)
    with st.expander("Technical notes: how the model works, step by step (docs: background/model.md)"):
        st.markdown(plain_text(doc_page("background/model")))
    st.markdown("### Measures")
    st.dataframe(pd.DataFrame([{"measure": k.label, "name": k.name, "unit": k.unit, "definition": k.description}
                               for k in KPIS]), hide_index=True, width="stretch")
    st.caption("Scorecard thresholds: " + ", ".join(f"{KPI_BY_NAME[k].label} {v} days"
                                                    for k, v in THRESHOLDS_DAYS.items()))
    st.markdown(f"### Parameters of '{label}', with units and sources")
    st.caption("The values of the base year; dated changes, below, move some of them from a date.")
    params = pd.DataFrame(parameter_table(scenario))
    params["value"] = params["value"].map(str)
    params["default"] = params["default"].map(str)
    for column in ("source", "declared_source"):
        params[column] = params[column].map(plain_text)
    st.dataframe(params, hide_index=True, width="stretch")
    if scenario.change or scenario.trend:
        st.markdown(f"### Dated changes and trends of '{label}'")
        st.dataframe(export.changes_frame(scenario), hide_index=True, width="stretch")


# --------------------------------------------------------------------------- markets
@st.cache_data(show_spinner=False, max_entries=8)
def run_market_file(name: str, reps: int, years: int):
    from sim.run.market_runner import run_market
    from sim.scenario.market_file import load_market

    return run_market(load_market(name), replications=reps, years=years, engine=ENGINE)


def draw_market() -> None:
    """Many agencies in one run: a region or England, each agency's figures and the fees between them,
    the market's totals charted as one agency's are, its money by year, and a what-if market against
    its base.  The last run's choice is kept in the session (its results in the cache), so that
    moving a widget does not take the tables away."""
    from sim.planning.market_tables import (
        AGENCY_KPIS,
        agency_display,
        fee_flows,
        market_finance_by_year,
        sufficiency_by_year,
    )
    from sim.scenario.market_file import market_names, market_title

    st.markdown("Run a region or England as one market: every agency's adopters are open to other agencies' "
                "children after its in-house search, and every interagency fee is one agency's spend and "
                "another's income (docs/guides/markets.md).")
    names = market_names()
    c1, c2, c3, c4 = st.columns([2, 2, 1, 1])
    titles = {n: market_title(n) for n in names}
    name = c1.selectbox("Market", names, index=names.index("east-of-england") if "east-of-england" in names else 0,
                        key="market:file", format_func=titles.get)
    against = c2.selectbox("Against (its base market, to compare)", [NO_MARKET] + names, key="market:against",
                           format_func=lambda n: titles.get(n, n),
                           help="A what-if market is compared with its base replication by replication: "
                                "both need the same seed and years (a what-if file extends its base).")
    reps = c3.number_input("Replications", 2, 200, 10, key="market:reps")
    years = c4.number_input("Years", 1, 20, int(FIXED_YEARS or HORIZON_YEARS), key="market:years")
    choice = (name, int(reps), int(years), against)
    if st.button("Run the market", key="market:run"):
        st.session_state["market:shown"] = choice
    shown = st.session_state.get("market:shown")
    if shown is None:
        st.caption("England (61 agencies) takes about half a minute of computing a replication; a region a few "
                   "seconds.")
        return
    if shown != choice:
        what = f"{shown[0]}" + (f" against {shown[3]}" if shown[3] != NO_MARKET else "")
        st.caption(f"Showing the last run ({what}, {shown[1]} replications, {shown[2]} years): press "
                   "*Run the market* for the choice above.")
    name, reps, years, against = shown
    refused = next((why for market in (name, against) if market != NO_MARKET
                    and (why := run_limits.market_refusal(market, reps, years, engine=ENGINE))), None)
    if refused:
        st.error(f"Not run: {refused}")
        return
    with st.spinner(f"Running {name} ..."):
        try:
            results = run_market_file(name, reps, years)
            base = run_market_file(against, reps, years) if against not in (NO_MARKET, name) else None
        except ScenarioError as exc:
            st.error(str(exc))
            return
    runs = {results.market.name: results} if base is None else {base.market.name: base,
                                                                 results.market.name: results}
    agencies = results.market.agencies
    st.markdown(f"**{results.market.name}**: {len(agencies)} agencies; each agency's yearly average over the "
                "horizon, mean [90% interval]")
    st.dataframe(agency_display(results, AGENCY_KPIS), hide_index=True, width="stretch")
    if base is not None:
        draw_market_changes(base, results)
    draw_market_charts(runs)
    st.markdown("**Interagency money by year** (the market's totals, mean and 90% interval): every fee is paid "
                "by a local authority or RAA, to another one or to a VAA")
    for label, run in runs.items():
        money = market_finance_by_year(run)
        if len(runs) > 1:
            st.caption(label)
        money["cell"] = [comparison.format_estimate(m, lo, hi, "£")
                         for m, lo, hi in zip(money["mean"], money["p5"], money["p95"])]
        st.dataframe(money.pivot(index="flow", columns="financial_year", values="cell").reindex(
            money["flow"].unique()), width="stretch")
    flows = fee_flows(results, by_region=len(agencies) > 15)
    if flows.empty:
        st.info("No interagency placement between the market's agencies in the years reported.")
    else:
        st.vega_lite_chart(spec=charts.fee_flow_chart(flows), width="stretch")
    st.markdown("**Interagency families available**: approved adopters waiting anywhere in the market per child "
                "waiting with a placement order, and as an index of the first year's. A single agency's "
                "*national sufficiency* lever stands for this index: 1 is the market it was calibrated in.")
    table = sufficiency_by_year(results)
    st.dataframe(pd.DataFrame({
        "Financial year": table["financial_year"],
        "Approved adopters waiting anywhere (households, mean)": table["adopters_waiting"].round(0),
        "Children waiting with an order (children, mean)": table["children_waiting"].round(0),
        "Families available per child waiting (mean [90% interval])": [
            f"{m:.2f} [{lo:.2f} to {hi:.2f}]" for m, lo, hi in zip(table["ratio_mean"], table["ratio_p5"],
                                                                   table["ratio_p95"])],
        "Sufficiency index (first year = 1; mean [90% interval])": [
            f"{m:.2f} [{lo:.2f} to {hi:.2f}]" for m, lo, hi in zip(table["index_mean"], table["index_p5"],
                                                                   table["index_p95"])],
    }), hide_index=True, width="stretch")


NO_MARKET = "(none)"


def draw_market_changes(base, results) -> None:
    """The what-if market against its base: the change in the market's totals, paired by replication."""
    from sim.planning.market_tables import market_changes, market_changes_display

    try:
        changes = market_changes(base, results)
    except ValueError as exc:  # another seed or other years: not a what-if of that base
        st.warning(f"{results.market.name} cannot be compared with {base.market.name}: {exc}.")
        return
    st.markdown(f"**Change against {base.market.name}** (same seed, paired by replication): yearly average of "
                "the market's totals over the horizon, mean [90% interval]")
    st.dataframe(market_changes_display(changes), hide_index=True, width="stretch")


def draw_market_charts(runs: dict) -> None:
    """The market's totals drawn as the Charts view draws one agency: the adopter gap, the scorecard
    waits and the fees the local authorities and RAAs pay, each with its 90% interval."""
    from sim.planning.market_tables import market_band_frame, market_change_marks

    marks = market_change_marks(runs)
    gap = market_band_frame(runs, charts.GAP_KPIS)
    st.vega_lite_chart(spec=charts.band_chart(gap, "The market: adopters waiting and children waiting at 31 March",
                                              "households / children", changes=marks), width="stretch")
    waits = charts.with_marks(market_band_frame(runs, charts.WAIT_KPIS), marks)
    st.vega_lite_chart(spec=charts.facet_chart(waits, "The market: children's waits against the scorecard "
                                                      "thresholds (days)", columns=2, height=220))
    fees = market_band_frame(runs, ["interagency_fees_gbp"], kinds=("la", "raa"),
                             labels={"interagency_fees_gbp": "Fees paid by LAs and RAAs"})
    st.vega_lite_chart(spec=charts.band_chart(fees, "The market: interagency fees paid a year", "£", changes=marks),
                       width="stretch")


# --------------------------------------------------------------------------- the views
# The tabs keep the one chosen across redraws, and only the open one is computed.  Streamlit forgets
# the value of a widget that a run does not draw, so the choices a user makes in one view (the
# scenarios compared, the question for the board, the finance window, the target finder's controls)
# are kept under keys of their own at the end of every run and given back before the next draws them.
REMEMBERED = ("compare_choice", "compare_reference", "compare_period", "board_question", "finance_from", "finance_to",
              "target_measure", "target_limit:", "target_when", "target_every", "target_from", "target_max")


def give_back_choices() -> None:
    for key, value in state.get("remembered", {}).items():
        if key not in state:
            state[key] = value


def keep_choices() -> None:
    state["remembered"] = {key: state[key] for key in list(state.keys())
                           if isinstance(key, str) and key.startswith(REMEMBERED)}


give_back_choices()
VIEWS = {"Charts": draw_charts, "Compare scenarios": draw_compare, "Recruitment target": draw_target,
         "Finance": draw_finance, "Market": draw_market, "Downloads": draw_downloads, "Model notes": draw_notes}
for tab, draw in zip(st.tabs(list(VIEWS), key="view", on_change="rerun"), VIEWS.values()):
    if tab.open is not False:
        with tab:
            draw()
keep_choices()
