"""Runs for the app: each scenario run once in the background (a job shared by every session of
the server), cached by its text, replications and horizon, so that a widget touched while a run
goes on does not lose it and going back to a scenario is instant."""

from __future__ import annotations

import hashlib
import time

import numpy as np
import streamlit as st

from sim.app.kept_runs import library_run, pinned_run
from sim.app.settings import SESSION_RESULTS, engine
from sim.run.jobs import JobStore
from sim.run.replications import at_least as at_least_rule
from sim.run.replications import run_to_precision
from sim.run.runner import Results, run_scenario
from sim.scenario.files import parse_scenario

state = st.session_state


@st.cache_resource
def job_store() -> JobStore:
    """Background runs shared by every session of this server."""
    return JobStore()


def run_key(text: str, reps: int | None, years: int, at_least: int = 0) -> str:
    count = reps if reps else f"precision, at least {at_least}"
    return hashlib.sha1(f"{count}|{years}|{text}".encode()).hexdigest()


def _compute(text: str, reps: int | None, years: int, progress, at_least: int = 0) -> Results:
    """A run of ``reps`` replications or, with none given, as many as the stated precision needs
    (at least ``at_least``, so that each replication of a reference run has its pair)."""
    scenario = parse_scenario(text, "scenario")
    if reps:
        return run_scenario(scenario, replications=reps, years=years, engine=engine(), progress=progress,
                            share_history=True)
    return run_to_precision(scenario, at_least_rule(at_least), years=years, engine=engine(), progress=progress,
                            share_history=True)


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
    pinned = {label: pinned_run(text, reps, years) for label, text in texts.items()}
    for label, text in texts.items():  # kept in the library already: read back, not rerun
        if pinned[label] is None and keys[label] not in store:
            found = library_run(text, reps, years)
            if found is not None:
                store[keys[label]] = found
    missing = {label: text for label, text in texts.items() if pinned[label] is None and keys[label] not in store}
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
    out = {label: store[keys[label]] if pinned[label] is None else pinned[label] for label in texts}
    for key in list(store)[:-SESSION_RESULTS]:  # keep the session's most recent results
        if key not in keys.values():
            del store[key]
    return out


@st.cache_data(show_spinner=False, max_entries=8)
def run_market_file(name: str, reps: int, years: int):
    """A market file's run (cached by its name, replications and years)."""
    from sim.run.market_runner import run_market
    from sim.scenario.market_file import load_market

    return run_market(load_market(name), replications=reps, years=years, engine=engine())
