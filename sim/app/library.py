"""The app's side of the scenario library: opening a saved comparison (from the Library page, or
from its link ``?comparison=ID``) so that a board member who never touches a lever reads the same
figures the planner saved — its scenarios, reference, year, finance window and question, and the
runs it showed — and rerunning, in one click, figures an older model made."""

from __future__ import annotations

import streamlit as st

from sim.app.access import can_edit
from sim.app.choices import marker_of
from sim.app.kept_runs import library, older_pins, pin, unpin_older
from sim.app.settings import HORIZON
from sim.app.view import set_choice
from sim.library.database import LibraryError
from sim.library.store import model_version
from sim.run.runner import Results
from sim.scenario.files import run_text

state = st.session_state


def open_comparison(comparison_id: int) -> None:
    """Make a saved comparison the one Compare shows: its scenarios, in order, under their saved
    titles, with the runs it showed; its reference, year, window, question, replications and
    horizon."""
    lib = library()
    saved = lib.comparison(comparison_id)
    kept = state.setdefault("kept", {})
    names = {}
    runs = dict(zip(saved.scenario_ids, lib.comparison_results(comparison_id)))
    for sid in saved.scenario_ids:
        scenario = lib.scenario(sid)
        names[sid] = scenario.title
        kept[scenario.title] = run_text(scenario.scenario())
        if runs[sid] is not None:
            pin(kept[scenario.title], saved.replications, saved.years, runs[sid])
    order = [names[i] for i in saved.scenario_ids]
    reference = names[saved.reference_id]
    set_choice("compare_choice", order)
    set_choice("compare_reference", reference)
    set_choice("board_question", saved.question)
    ref_run = runs[saved.reference_id]
    if ref_run is not None:
        labels = ref_run.run.years + [HORIZON]
        set_choice("compare_period", labels[saved.year - 1] if saved.year else HORIZON)
        state["compare_period:for"] = marker_of(reference, order, saved.replications, saved.years)
    if " to " in saved.window:
        state["library:window"] = tuple(saved.window.split(" to ", 1))
    if "current" in state:  # the runs shown take the comparison's horizon and replications
        state["current"] = {**state["current"], "years": saved.years, "reps": saved.replications}
    state["library:open"] = saved.id
    state["library:go_compare"] = True


def open_linked_comparison() -> None:
    """Open the comparison a link names (``?comparison=ID``), once, in Compare scenarios."""
    wanted = st.query_params.get("comparison")
    if not wanted or state.get("library:linked") == wanted:
        return
    state["library:linked"] = wanted
    try:
        open_comparison(int(wanted))
    except (ValueError, LibraryError) as exc:
        st.error(f"The link names comparison {wanted!r}, which cannot be opened: {exc}")
        return
    go_to_compare()


def go_to_compare() -> None:
    """Show Compare scenarios where a comparison was just opened."""
    if state.pop("library:go_compare", False):
        st.switch_page("app_pages/compare.py")


def flag_older_figures(texts: dict[str, str], reps: int | None, years: int) -> None:
    """Say which of the figures shown an older model made (a saved comparison's runs), with a button
    that reruns them with this one."""
    older = older_pins(texts, reps, years)
    if not older:
        return
    made = "; ".join(f"{label}: model {version}" for label, version in older.items())
    st.warning(f"These figures are as saved, made by an older model than this app's ({model_version()}): {made}. "
               "Rerun them to see this model's figures" + (" — the saved comparison then shows them."
                                                           if can_edit() else "."))
    st.button("Rerun with this model", key="library:rerun", on_click=_rerun)


def _rerun() -> None:
    unpin_older()
    state["library:renew"] = state.get("library:open")


def renew_comparison(compared: dict[str, Results]) -> None:
    """After a rerun asked for by an editor, keep the new runs and point the saved comparison at them."""
    cid = state.pop("library:renew", None)
    if cid is None or not can_edit():
        return
    lib = library()
    try:
        saved = lib.comparison(cid)
        names = [lib.scenario(sid).title for sid in saved.scenario_ids]
        if set(names) != set(compared):
            return  # the user has since changed what is compared: the saved comparison is left as it is
        lib.renew_results(cid, [lib.save_results(compared[name]) for name in names])
    except LibraryError as exc:
        st.error(f"The new figures could not be kept in the library: {exc}")
        return
    st.success(f"Saved comparison {cid} now shows this model's figures (the older ones are kept).")
