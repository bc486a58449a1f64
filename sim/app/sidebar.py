"""The sidebar: the baseline (built in, a scenario file, or one uploaded or pasted), the levers as
dated changes, the horizon and replications, and Run.  Its callbacks act before the page is
redrawn, so a control touched straight after Run cannot lose the run."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from sim.app.settings import BUILT_IN, auto_reps, default_reps, engine, fixed_years
from sim.planning import budget_window, run_limits
from sim.planning.levers import (
    CAMPAIGN,
    GROUPS,
    LEVERS,
    apply_levers,
    changed_levers,
    default_start,
    lever_info,
    lever_values,
)
from sim.run.replications import DEFAULT_PRECISION
from sim.scenario.calendar import financial_year_label
from sim.scenario.files import (
    BUILT_IN_FILE,
    ScenarioError,
    built_in_baseline,
    load_scenario,
    parse_scenario,
    run_text,
    scenario_names,
    to_toml,
)
from sim.scenario.parameters import Scenario
from sim.scenario.upload import read_scenario_text

state = st.session_state


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
    state.setdefault("remembered", {})["target_from"] = state["target_from"]
    state["scenario_name"] = f"What-if on {label}"
    state["scenario_description"] = ""
    state.pop("current", None)  # the new baseline is shown until the next run


def default_years(scenario: Scenario) -> int:
    """The horizon a baseline opens on: ``ADOPTION_APP_YEARS`` if set, else enough financial years
    to reach the end of the budget window (the next three financial years)."""
    run = scenario.scenario
    return int(fixed_years()) if fixed_years() else budget_window.default_horizon(run.start_year, run.years)


def on_baseline_change() -> None:
    try:
        chosen = baseline_scenario(state["baseline_choice"])
        reset_levers(chosen, state["baseline_choice"])
        state["years"] = default_years(chosen)
        state.pop("load_error", None)
    except ScenarioError as exc:
        state["load_error"] = str(exc)


def add_scenario_text(text: str, source: str, kind: str = "Uploaded", title: str | None = None) -> None:
    """Check a scenario's text (an upload, a paste, a saved scenario) and make it the baseline,
    listed as '``kind``: its title'; what is wrong with it is said in the sidebar."""
    try:
        scenario = read_scenario_text(text, source, uploads=state.get("upload_names", {}))
    except ScenarioError as exc:
        state["load_error"] = str(exc)
        return
    run, built_in = scenario.scenario, Scenario().scenario
    asked = (run.replications if run.replications != built_in.replications else int(state["reps"]),
             run.years if run.years != built_in.years else int(state["years"]))
    too_large = run_limits.refusal(scenario, *asked, engine=engine())
    if too_large:
        state["load_error"] = f"{source}: not loaded, its run is too large: {too_large}"
        return
    name = title or (scenario.scenario.name if scenario.scenario.name != Scenario().scenario.name else source)
    label = f"{kind}: {name}"
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
        add_scenario_text(upload.getvalue(), upload.name)


def on_paste() -> None:
    add_scenario_text(state.get("paste", ""), "pasted scenario")


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
    too_large = run_limits.refusal(scenario, int(state["reps"]), int(state["years"]), engine=engine())
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
        choice = list(state.get("compare_choice", state.get("remembered", {}).get("compare_choice", [base_label])))
        state["compare_choice"] = choice + [label] if label not in choice else choice
        state.setdefault("remembered", {})["compare_choice"] = state["compare_choice"]
    state["current"] = {"label": name, "description": state.get("scenario_description", ""),
                        "scenario": scenario, "reps": chosen_reps(), "years": int(state["years"])}


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


def draw_sidebar() -> tuple[Scenario, str, str]:
    """The sidebar drawn; the chosen baseline, what was chosen, and its label (the page stops, with
    the reason, where the baseline cannot be read)."""
    if "baseline_choice" not in state:
        state["baseline_choice"] = BUILT_IN
        reset_levers(built_in_baseline(), BUILT_IN)
        state["reps"] = default_reps()
        state["reps_auto"] = auto_reps()
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
    try:
        baseline, baseline_ref, baseline_label = chosen_baseline()
    except ScenarioError as exc:
        st.error(str(exc))
        st.stop()
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
    return baseline, baseline_ref, baseline_label
