"""Where replications run: in this process, or spread over local processes.

Every replication is a pure function of (scenario, replication number), so results do not
depend on where or in which order they run: serial and parallel runs give identical
tables for the same seed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor

from sim.model import ReplicationResult, run_replication
from sim.parameters import Scenario

ENGINES = ("serial", "processes")


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - platforms without affinity
        return os.cpu_count() or 1


def _run_chunk(args: tuple[Scenario, list[int], bool]) -> list[ReplicationResult]:
    scenario, reps, keep_log = args
    return [run_replication(scenario, r, keep_log) for r in reps]


def run_replications(scenario: Scenario, replications: Iterable[int], engine: str = "serial",
                     workers: int | None = None, keep_log: bool = False,
                     progress: Callable[[int, int], None] | None = None) -> list[ReplicationResult]:
    """Run the given replications on ``engine``; results come back in replication order.

    ``progress(done, total)`` is called as replications finish.
    """
    reps = list(replications)
    total = len(reps)
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    workers = workers or default_workers()
    if engine == "serial" or workers <= 1 or total <= 1:
        results = []
        for i, r in enumerate(reps, 1):
            results.append(run_replication(scenario, r, keep_log))
            if progress:
                progress(i, total)
        return results
    n_chunks = min(total, workers * 4)
    chunks = [reps[i::n_chunks] for i in range(n_chunks)]
    results = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for chunk_result in pool.map(_run_chunk, [(scenario, c, keep_log) for c in chunks]):
            results.extend(chunk_result)
            if progress:
                progress(len(results), total)
    return sorted(results, key=lambda r: r.replication)
