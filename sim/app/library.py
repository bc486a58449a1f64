"""The app's side of the scenario library: the library every session of this server shares, and
opening a saved comparison (from the Library page, or from its link ``?comparison=ID``) so that a
board member who never touches a lever reads the same figures the planner saved."""

from __future__ import annotations

import streamlit as st

from sim.app.view import set_choice
from sim.library.database import library_url
from sim.library.store import Library
from sim.scenario.files import run_text

state = st.session_state


def library() -> Library:
    """The library (``$ADOPTION_LIBRARY``, else the project's SQLite file), opened once a server."""
    return _opened(library_url())


@st.cache_resource
def _opened(url: str) -> Library:
    return Library(url)


def open_comparison(comparison_id: int) -> None:
    """Make a saved comparison the one Compare shows: its scenarios, in order, under their saved
    titles; its reference, question, replications and horizon."""
    lib = library()
    saved = lib.comparison(comparison_id)
    kept = state.setdefault("kept", {})
    names = {}
    for sid in saved.scenario_ids:
        scenario = lib.scenario(sid)
        names[sid] = scenario.title
        kept[scenario.title] = run_text(scenario.scenario())
    set_choice("compare_choice", [names[i] for i in saved.scenario_ids])
    set_choice("compare_reference", names[saved.reference_id])
    set_choice("board_question", saved.question)
    if "current" in state:  # the runs shown take the comparison's horizon and replications
        state["current"] = {**state["current"], "years": saved.years, "reps": saved.replications}
    state["library:go_compare"] = True


def open_linked_comparison() -> None:
    """Open the comparison a link names (``?comparison=ID``), once, in Compare scenarios."""
    wanted = st.query_params.get("comparison")
    if not wanted or state.get("library:linked") == wanted:
        return
    state["library:linked"] = wanted
    try:
        open_comparison(int(wanted))
    except (ValueError, RuntimeError) as exc:
        st.error(f"The link names comparison {wanted!r}, which cannot be opened: {exc}")
        return
    go_to_compare()


def go_to_compare() -> None:
    """Show Compare scenarios where a comparison was just opened."""
    if state.pop("library:go_compare", False):
        st.switch_page("app_pages/compare.py")
