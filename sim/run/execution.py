"""Where replications run: in this process, on this machine's cores, or on a Dask cluster.

Every replication is a pure function of (scenario, replication number), so results do not
depend on where or in which order they run: serial, process and Dask runs give identical
tables for the same seed.

Engines (``engine=``, one of :class:`sim.run.options.RunOptions`):

* ``"serial"``: one after another in this process.
* ``"processes"``: a pool of worker processes on this machine, one per core
  (:mod:`sim.run.process_pool`).
* ``"dask"``: a Dask distributed cluster (:mod:`sim.run.dask_engine`).

:func:`run_many` runs many (scenario, replications) jobs in one go, for sweeps and
calibration: the replications of all jobs are spread over the engine together, so that a
batch of small jobs still keeps every worker busy.  :func:`run_replications` is one job.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence

from sim.model.pipeline import ReplicationResult, run_replication
from sim.run.dask_engine import on_dask
from sim.run.options import ENGINES, RunOptions
from sim.run.process_pool import default_workers, on_processes
from sim.scenario.parameters import Scenario

CHUNKS_PER_WORKER = 25  # pieces of work per worker: small, so that the workers finish together (each costs ~1 ms)

Job = tuple[Scenario, "int | Iterable[int]"]
Progress = Callable[[int, int], None]
Keep = Callable[[ReplicationResult], object]


def _run_chunk(args: tuple[Scenario, list[int], bool]) -> list[ReplicationResult]:
    scenario, reps, event_log = args
    return [run_replication(scenario, r, event_log) for r in reps]


def run_replications(scenario: Scenario, replications: Iterable[int], options: RunOptions | None = None,
                     keep: Keep | None = None, **run_options) -> list[ReplicationResult]:
    """Run the given replications; results come back in replication order.  ``options`` (or
    the same as keywords) as in :class:`sim.run.options.RunOptions`; ``keep`` as in :func:`run_many`."""
    return run_many({0: (scenario, list(replications))}, options, keep, **run_options)[0]


def run_many(jobs: Mapping[Hashable, Job] | Sequence[Job], options: RunOptions | None = None,
             keep: Keep | None = None, **run_options) -> dict[Hashable, list[ReplicationResult]]:
    """Run many jobs, each a (scenario, replications) pair.

    ``jobs`` maps a key of your choosing (a scenario name, a parameter value...) to a job, or
    is a list of jobs keyed by position; replications are a count (0 to n - 1) or the
    replication numbers.  Returns ``{key: results in replication order}``.  ``options`` (or the
    same as keywords: ``engine``, ``workers``, ``scheduler``, ``progress``, ``event_log``,
    ``share_history``) as in :class:`sim.run.options.RunOptions`.  ``keep(result)``, if given,
    is what is kept of each result as it arrives (something with the result's ``replication``),
    so that a long run holds only what its tables need.  With ``share_history`` on the
    ``"processes"`` engine each replication's history (the warm-up and year 1) stays in the
    workers and is continued for later scenarios that share it, the what-ifs of one baseline
    (:mod:`sim.run.shared_history`); the results are the same either way.
    """
    opts = RunOptions.of(options, **run_options)
    engine, scheduler, progress, event_log = opts.engine, opts.scheduler, opts.progress, opts.event_log
    items = list(jobs.items() if isinstance(jobs, Mapping) else enumerate(jobs))
    reps = {key: list(range(r)) if isinstance(r, int) else list(r) for key, (_, r) in items}
    scenarios = {key: s for key, (s, _) in items}
    total = sum(len(r) for r in reps.values())
    workers = opts.workers or default_workers()
    results: dict[Hashable, list[ReplicationResult]] = {key: [] for key in reps}
    done = 0

    def collect(key, chunk_results):
        nonlocal done
        results[key].extend(chunk_results if keep is None else map(keep, chunk_results))
        done += len(chunk_results)
        if progress:
            progress(done, total)

    if engine == "serial" or (engine == "processes" and (workers <= 1 or total <= 1)):
        for key, numbers in reps.items():
            for r in numbers:
                collect(key, [run_replication(scenarios[key], r, event_log)])
    else:
        if engine == "processes" and opts.share_history and not event_log:
            reps = _on_history_workers(scenarios, reps, workers, collect, results)
        if any(reps.values()):
            size = max(1, math.ceil(total / (workers * CHUNKS_PER_WORKER)))
            tasks = [(key, (scenarios[key], numbers[i:i + size], event_log))
                     for key, numbers in reps.items() for i in range(0, len(numbers), size)]
            ENGINE_RUNNERS[engine](tasks, workers, scheduler, collect, _run_chunk)
    return {key: sorted(rs, key=lambda r: r.replication) for key, rs in results.items()}


def _on_history_workers(scenarios: dict, reps: dict, workers: int, collect, results: dict) -> dict:
    """Run the jobs' replications on the history workers (:mod:`sim.run.shared_history`); the
    replications left to run elsewhere: none, unless the workers cannot be used or one was lost."""
    from sim.run.shared_history import run_on_history_workers

    run_on_history_workers({key: (scenarios[key], numbers) for key, numbers in reps.items()}, workers, collect)
    have = {key: {r.replication for r in rs} for key, rs in results.items()}
    return {key: [r for r in numbers if r not in have[key]] for key, numbers in reps.items()}


def run_serial(tasks, workers: int, scheduler, collect, function) -> None:
    """The "serial" engine: each task in turn, in this process."""
    for key, args in tasks:
        collect(key, function(args))


#: Every engine behind one interface: ``run(tasks, workers, scheduler, collect, function)`` runs
#: ``function(args)`` for each ``(key, args)`` of ``tasks`` and passes each result, a list, to
#: ``collect(key, result)`` as it finishes.
ENGINE_RUNNERS: dict[str, Callable] = {"serial": run_serial, "processes": on_processes, "dask": on_dask}


def map_chunks(function: Callable, tasks: list[tuple[Hashable, tuple]], engine: str, workers: int | None = None,
               scheduler=None, collect: Callable[[Hashable, list], None] | None = None) -> None:
    """Run ``function(args)`` for each ``(key, args)`` of ``tasks`` on ``engine`` and pass each
    result, a list, to ``collect(key, result)`` as it finishes: the engines for work other than one
    scenario's replications (a market's, say).  ``function`` must be importable by the workers."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    workers = workers or default_workers()
    if engine == "processes" and (workers <= 1 or len(tasks) <= 1):
        engine = "serial"  # one worker, or one task: no pool is worth starting
    ENGINE_RUNNERS[engine](tasks, workers, scheduler, collect, function)
