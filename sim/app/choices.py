"""Choices more than one page makes the same way: the scenarios on offer to compare and the ones
chosen, the reference and year of a comparison, and the finance window (the Downloads page makes
its spreadsheet and board paper from the same choices the Compare and Finance pages show)."""

from __future__ import annotations

import streamlit as st

from sim.app.runs import obtain
from sim.app.settings import HORIZON
from sim.app.view import View, set_choice
from sim.planning import budget_window, comparison, finance
from sim.run.runner import Results
from sim.scenario.files import SCENARIO_DIR, ScenarioError, load_scenario, run_text, scenario_names
from sim.scenario.parameters import Scenario

state = st.session_state


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


def compare_options(v: View) -> dict[str, str]:
    """What can be compared, each once, by its title: the baseline, the scenarios run in this
    session, and the files in scenarios/ (a file that runs the same scenario as one already
    listed, such as the built-in baseline's own file, is not listed again)."""
    options = {v.baseline_label: run_text(v.baseline)}
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


def compare_choice(v: View, options: dict[str, str]) -> list[str]:
    """The scenarios chosen to compare, in the order chosen (by default the baseline and the
    last three scenarios run), keeping only those still on offer."""
    if "compare_choice" in state:
        return [n for n in state["compare_choice"] if n in options] or [v.baseline_label]
    return [v.baseline_label] + [n for n in list(state.get("kept", {}))[-3:] if n in options]


def compared_runs(v: View, options: dict[str, str], chosen: list[str]) -> dict[str, Results] | None:
    """Results of the chosen scenarios, in the order chosen (run now if not run before)."""
    return obtain({name: options[name] for name in chosen}, v.reps, v.years, "Comparing")


def compare_default_year(compared: dict[str, Results], reference: str) -> int:
    """The year a comparison opens on: the budget window's last year, or the first in which a
    scenario's change against the reference can show if that is later
    (:func:`sim.planning.comparison.default_year`)."""
    ref = compared[reference]
    return min(comparison.default_year(r.scenario, ref.scenario, len(ref.years)) for r in compared.values())


def compare_marker(v: View, compared: dict[str, Results], reference: str) -> str:
    """What a comparison shows, as a key: its year opens on its default when this changes."""
    return marker_of(reference, list(compared), v.reps, v.years)


def marker_of(reference: str, names: list[str], reps: int | None, years: int) -> str:
    return "|".join([reference, *names, str(reps), str(years)])


def compare_settings(v: View, compared: dict[str, Results]) -> tuple[str, int | None]:
    """The reference and year chosen in Compare, or their defaults where Compare has not been
    shown for these scenarios (the downloads use the same)."""
    reference = state.get("compare_reference")
    reference = reference if reference in compared else next(iter(compared))
    options = compared[reference].years + [HORIZON]
    if state.get("compare_period:for") == compare_marker(v, compared, reference) and \
            state.get("compare_period") in options:
        choice = state["compare_period"]
        return reference, None if choice == HORIZON else options.index(choice) + 1
    return reference, compare_default_year(compared, reference)


def table_height(rows: int) -> int:
    """A table's height in pixels that shows every row without scrolling."""
    return 38 + 35 * rows


def finance_window(v: View) -> list[int]:
    """The years of the finance window (1 = the base year): the user's choice for this run, or for a
    new run the next three financial years (:mod:`sim.planning.budget_window`).  The finance page,
    the spreadsheet and the board paper total the same window."""
    year_labels = list(v.scen_res.years)
    asked = state.pop("library:window", None)  # a saved comparison's window, where this run reaches it
    if asked and set(asked) <= set(year_labels):
        set_choice("finance_from", asked[0])
        set_choice("finance_to", asked[1])
        state["finance_window:for"] = v.marker
    if state.get("finance_window:for") != v.marker or \
            not {state.get("finance_from"), state.get("finance_to")} <= set(year_labels):
        first, last = budget_window.default_window(year_labels)
        set_choice("finance_from", first)
        set_choice("finance_to", last)
        state["finance_window:for"] = v.marker
    return finance.window_years(v.scen_res, state["finance_from"], state["finance_to"])
