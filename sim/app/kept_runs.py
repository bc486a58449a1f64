"""Runs kept in the shared library, for the app: a run already kept by this model is read back
rather than rerun, and the runs of a saved comparison are shown as saved (pinned), whichever model
made them — flagged when an older one did, and rerun in one click."""

from __future__ import annotations

import streamlit as st

from sim.library.database import LibraryError, library_url
from sim.library.store import Library, SavedResult
from sim.run.runner import Results
from sim.scenario.files import ScenarioError, parse_scenario

state = st.session_state


def library() -> Library:
    """The library (``$ADOPTION_LIBRARY``, else the project's SQLite file), opened once a server."""
    return _opened(library_url())


@st.cache_resource
def _opened(url: str) -> Library:
    return Library(url)


def pin(text: str, reps: int | None, years: int, saved: SavedResult) -> None:
    """Show ``saved`` for this scenario text, replications and horizon (a saved comparison's run)."""
    state.setdefault("pinned", {})[(text, reps, years)] = saved


def older_pins(texts: dict[str, str], reps: int | None, years: int) -> dict[str, str]:
    """Of the scenarios shown (label -> text), those whose pinned run an older model made: label ->
    that model's version."""
    pins = state.get("pinned", {})
    return {label: pins[(text, reps, years)].model_version for label, text in texts.items()
            if (text, reps, years) in pins and not pins[(text, reps, years)].current}


def unpin_older() -> None:
    """Forget the pinned runs an older model made, so that they are rerun with this one."""
    state["pinned"] = {key: saved for key, saved in state.get("pinned", {}).items() if saved.current}


def pinned_run(text: str, reps: int | None, years: int) -> Results | None:
    """The run pinned for this scenario text, replications and horizon, if any."""
    saved = state.get("pinned", {}).get((text, reps, years))
    return None if saved is None else saved.run


def library_run(text: str, reps: int | None, years: int) -> Results | None:
    """The library's run of this scenario text by this model (for a count of replications); None if
    there is none, or the library cannot be read (the run is then made afresh, as without one)."""
    if not reps:
        return None
    try:
        found = library().results_for(parse_scenario(text, "scenario"), reps, years)
    except (LibraryError, ScenarioError):
        return None
    return None if found is None else found.run
