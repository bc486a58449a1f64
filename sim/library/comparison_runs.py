"""A saved comparison's runs, by its scenarios' titles: the figures it keeps, as saved (whichever
model made them, said in a note), or run afresh with this model where none were kept or where an
older model's are to be rerun.  Runs made afresh are kept and the comparison points at them, so the
next paper, and the app, show the same figures.

A comparison whose replications were chosen for precision runs its reference that way and the
others to the same precision with at least the reference's count, so that every change is paired
replication by replication: the rule of the app's Compare (:func:`sim.run.replications.at_least`),
so a paper made here and the app show the same figures."""

from __future__ import annotations

from sim.library.store import Library, model_version
from sim.run.replications import at_least, run_to_precision
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
        if saved.replications:
            runs[sid] = run_scenario(scenario, replications=saved.replications, years=saved.years, share_history=True)
        else:
            reference = runs.get(saved.reference_id)
            pairs = reference.scenario.scenario.replications if reference is not None and sid != saved.reference_id else 0
            runs[sid] = run_to_precision(scenario, at_least(pairs), years=saved.years, share_history=True)
        afresh.append(sid)
        notes.append(f"'{scenarios[sid].title}': run afresh with model {model_version()} "
                     f"({runs[sid].scenario.scenario.replications} replications)")
    if afresh:  # kept, and the comparison now shows what this paper shows
        library.renew_results(comparison_id, [library.save_results(runs[sid]) if sid in afresh else kept[k].id
                                              for k, sid in enumerate(saved.scenario_ids)])
    return {scenarios[s].title: runs[s] for s in saved.scenario_ids}, notes
