"""A saved comparison's runs, by its scenarios' titles: the figures it keeps, as saved (whichever
model made them, said in a note), or run afresh with this model where none were kept or where an
older model's are to be rerun.  Runs made afresh are kept and the comparison points at them, so the
next paper, and the app, show the same figures.

A comparison whose replications were chosen for precision runs its reference that way and the
others with the reference's count, so that every change is paired replication by replication, as
in the app."""

from __future__ import annotations

from sim.library.store import Library, model_version
from sim.run.replications import run_to_precision
from sim.run.runner import Results, run_scenario


def comparison_runs(library: Library, comparison_id: int, rerun: bool = False) -> tuple[dict[str, Results], list[str]]:
    """The comparison's runs (title -> results, in its order) and notes on where they came from."""
    saved = library.comparison(comparison_id)
    kept = library.comparison_results(comparison_id)
    scenarios = {sid: library.scenario(sid) for sid in saved.scenario_ids}
    order = [saved.reference_id] + [s for s in saved.scenario_ids if s != saved.reference_id]
    runs: dict[int, Results] = {}
    notes, afresh = [], []
    for sid in order:
        found = kept[saved.scenario_ids.index(sid)]
        if found is not None and (found.current or not rerun):
            runs[sid] = found.run
            if not found.current:
                notes.append(f"'{scenarios[sid].title}': figures as saved, made by model {found.model_version} "
                             f"(this is {model_version()}; --rerun makes them afresh)")
            continue
        scenario = scenarios[sid].scenario()
        reps = saved.replications or (runs[saved.reference_id].scenario.scenario.replications
                                      if saved.reference_id in runs else None)
        runs[sid] = (run_scenario(scenario, replications=reps, years=saved.years, share_history=True) if reps
                     else run_to_precision(scenario, years=saved.years, share_history=True))
        afresh.append(sid)
        notes.append(f"'{scenarios[sid].title}': run afresh with model {model_version()} "
                     f"({runs[sid].scenario.scenario.replications} replications)")
    if afresh:  # kept, and the comparison now shows what this paper shows
        library.renew_results(comparison_id, [library.save_results(runs[sid]) if sid in afresh else kept[k].id
                                              for k, sid in enumerate(saved.scenario_ids)])
    return {scenarios[s].title: runs[s] for s in saved.scenario_ids}, notes
