"""What every page of the app is about: the baseline, the scenario last run against it and both
runs' results, in one small object (:class:`View`) that the shell makes once a redraw and each
page reads (:func:`current_view`); and the user's choices in each page, kept across pages.

Streamlit forgets the value of a widget that a redraw does not draw, so the choices a user makes
in one page (the scenarios compared, the question for the board, the finance window, the target
finder's controls) are kept under keys of their own — when the user changes them
(:func:`remember`, a widget's ``on_change``), when the app sets them (:func:`set_choice`) and at
the end of every redraw (:func:`keep_choices`) — and given back before the next redraw draws them
(:func:`give_back_choices`)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from sim.app.runs import obtain, run_key
from sim.app.sidebar import chosen_reps
from sim.run.runner import Results
from sim.scenario.files import run_text
from sim.scenario.parameters import Scenario

state = st.session_state


@dataclass
class View:
    """The baseline and the scenario shown, with their results."""

    baseline: Scenario
    baseline_ref: str  # what was chosen: the built-in baseline, a file name or an upload
    baseline_label: str
    scenario: Scenario
    label: str
    description: str
    reps: int | None  # None: replications chosen for precision
    years: int
    base_res: Results
    scen_res: Results
    headline: pd.DataFrame | None = None  # the headline measures in the year shown (set by the headline)

    @property
    def same(self) -> bool:
        """Whether the scenario is the baseline itself (nothing run against it yet)."""
        return self.label == self.baseline_label

    @property
    def both(self) -> dict[str, Results]:
        """The runs to draw: the baseline, and the scenario where it differs."""
        if self.same:
            return {self.baseline_label: self.base_res}
        return {self.baseline_label: self.base_res, self.label: self.scen_res}

    @property
    def marker(self) -> str:
        """What is shown, as a key: a page's choice opens on its default when this changes."""
        return f"{self.label}|{run_key(run_text(self.scenario), self.reps, self.years)}"


def make_view(baseline: Scenario, baseline_ref: str, baseline_label: str) -> View:
    """The view of this redraw: the scenario last run (the baseline until the first run), run now if
    it is not yet (the page stops while it runs, with its progress)."""
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
    view = View(baseline=baseline, baseline_ref=baseline_ref, baseline_label=baseline_label, scenario=scenario,
                label=label, description=current.get("description") or "", reps=reps, years=years,
                base_res=runs[baseline_label], scen_res=runs[label])
    state["view"] = view
    return view


def current_view() -> View:
    """The view the shell made for this redraw."""
    return state["view"]


#: The keys of the choices kept across pages (a key, or the start of keys such as 'target_limit:a2_days').
REMEMBERED = ("compare_choice", "compare_reference", "compare_period", "board_question", "finance_from", "finance_to",
              "target_measure", "target_limit:", "target_when", "target_every", "target_from", "target_max")


def give_back_choices() -> None:
    """The choices kept, given back (a user's change is kept as it is made, so none is undone)."""
    for key, value in state.get("remembered", {}).items():
        state[key] = value


def remember(*keys: str) -> None:
    """Keep the choices under ``keys`` as they stand now (a widget's ``on_change``, or a form's submit)."""
    kept = state.setdefault("remembered", {})
    for key in keys:
        if key in state and key.startswith(REMEMBERED):
            kept[key] = state[key]


def set_choice(key: str, value) -> None:
    """Set a choice from the app's side (a default, a reset), and keep it."""
    state[key] = value
    if key.startswith(REMEMBERED):
        state.setdefault("remembered", {})[key] = value


def keep_choices() -> None:
    """The choices as they stand, kept for the next redraw."""
    state["remembered"] = {key: state[key] for key in list(state.keys())
                           if isinstance(key, str) and key.startswith(REMEMBERED)}
