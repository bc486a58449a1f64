"""Where replications run: in this process, on this machine's cores, or on a Dask cluster.

Every replication is a pure function of (scenario, replication number), so results do not
depend on where or in which order they run: serial, process and Dask runs give identical
tables for the same seed.

Engines (``engine=``):

* ``"serial"``: one after another in this process.
* ``"processes"``: a pool of worker processes on this machine, one per core.  The pool is
  started on first use and kept for later runs, so a session that runs many scenarios
  (the app, a sweep, a calibration) pays the start-up once.  Workers are forked where that
  is safe (Linux, from a single-threaded process), so they start at once with everything
  already imported.
* ``"dask"``: a Dask distributed cluster.  ``scheduler=`` gives its address
  ("tcp://host:8786"), else the environment variable ``SIM_DASK_SCHEDULER``, else a local
  cluster (one single-threaded worker process per core) is started on first use and kept.
  Remote workers need this package installed (``pip install -e .``) and any parameter-sets
  file a scenario names.

:func:`run_many` runs many (scenario, replications) jobs in one go, for sweeps and
calibration: the replications of all jobs are spread over the engine together, so that a
batch of small jobs still keeps every worker busy.  :func:`run_replications` is one job.
"""

from __future__ import annotations

import atexit
import logging
import math
import multiprocessing
import os
import signal
import stat
import sys
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from urllib.parse import urlsplit

from sim.model.pipeline import ReplicationResult, run_replication
from sim.run.options import ENGINES, RunOptions
from sim.scenario.messages import short_repr
from sim.scenario.parameters import Scenario

SCHEDULER_ENV = "SIM_DASK_SCHEDULER"
CHUNKS_PER_WORKER = 25  # pieces of work per worker: small, so that the workers finish together (each costs ~1 ms)

Job = tuple[Scenario, "int | Iterable[int]"]
Progress = Callable[[int, int], None]
Keep = Callable[[ReplicationResult], object]


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - platforms without affinity
        return os.cpu_count() or 1


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
            run = _on_processes if engine == "processes" else _on_dask
            run(tasks, workers, scheduler, collect)
    return {key: sorted(rs, key=lambda r: r.replication) for key, rs in results.items()}


def _on_history_workers(scenarios: dict, reps: dict, workers: int, collect, results: dict) -> dict:
    """Run the jobs' replications on the history workers (:mod:`sim.run.shared_history`); the
    replications left to run elsewhere: none, unless the workers cannot be used or one was lost."""
    from sim.run.shared_history import run_on_history_workers

    run_on_history_workers({key: (scenarios[key], numbers) for key, numbers in reps.items()}, workers, collect)
    have = {key: {r.replication for r in rs} for key, rs in results.items()}
    return {key: [r for r in numbers if r not in have[key]] for key, numbers in reps.items()}


def map_chunks(function: Callable, tasks: list[tuple[Hashable, tuple]], engine: str, workers: int | None = None,
               scheduler=None, collect: Callable[[Hashable, list], None] | None = None) -> None:
    """Run ``function(args)`` for each ``(key, args)`` of ``tasks`` on ``engine`` and pass each
    result, a list, to ``collect(key, result)`` as it finishes: the engines for work other than one
    scenario's replications (a market's, say).  ``function`` must be importable by the workers."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    workers = workers or default_workers()
    if engine == "serial" or (engine == "processes" and (workers <= 1 or len(tasks) <= 1)):
        for key, args in tasks:
            collect(key, function(args))
    else:
        (_on_processes if engine == "processes" else _on_dask)(tasks, workers, scheduler, collect, function)


# --- local processes -------------------------------------------------------------------

_pools: dict[int, ProcessPoolExecutor] = {}  # by number of workers
_pool_lock = threading.Lock()


def _start_context():
    """Fork where it is safe and fast (Linux, no other threads running); else the platform's default."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def process_pool(workers: int) -> ProcessPoolExecutor:
    """The pool of ``workers`` local processes, started on first use and kept for later runs
    (and shared by runs on other threads, as in the app)."""
    with _pool_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=_start_context(),
                                                         initializer=_worker_start)
        return pool


def _worker_start(keep: tuple[int, ...] = ()) -> None:
    """In each worker: leave Ctrl-C to the main process (it reaches every process of the terminal),
    die at once on SIGTERM (a forked worker would otherwise inherit the main process's handler), and
    close the network sockets a fork copied from the main process (in the app, the web server's
    connections: a copy held open in a worker can keep a browser waiting for a reply the server has
    finished).  The pool talks to its workers over pipes, which are kept, as are the descriptors
    in ``keep``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _close_inherited_sockets(keep)


def _close_inherited_sockets(keep: tuple[int, ...] = ()) -> None:
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.is_dir():  # not Linux: workers start afresh there (spawn), with nothing to close
        return
    for entry in list(fd_dir.iterdir()):
        try:
            fd = int(entry.name)
            if fd > 2 and fd not in keep and stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.close(fd)
        except (OSError, ValueError):  # the listing's own descriptor, already gone
            pass


def stop_workers() -> None:
    """Stop every local worker process now, dropping their unfinished work (after an interrupt):
    waiting for them to finish their share could take minutes."""
    from sim.run.shared_history import stop_history_workers

    stop_history_workers()
    with _pool_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        # The executor offers no public way to stop its processes, nor to wait for the thread that
        # manages them without waiting for the work too.
        processes = list((pool._processes or {}).values())
        manager = pool._executor_manager_thread
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=5)
        pool.shutdown(wait=False, cancel_futures=True)
        if manager is not None:  # let it finish with the broken pool before this process exits: its
            manager.join(timeout=5)  # exit handler would otherwise race it to a closing pipe


def shutdown_pool(workers: int | None = None, wait: bool = True) -> None:
    """Stop the pool of ``workers`` processes, or every pool (they also stop by themselves
    when this process exits)."""
    with _pool_lock:
        for n in [workers] if workers is not None else list(_pools):
            pool = _pools.pop(n, None)
            if pool is not None:
                pool.shutdown(wait=wait)


def _on_processes(tasks, workers: int, scheduler, collect, function=_run_chunk) -> None:
    remaining = dict(enumerate(tasks))
    for attempt in (1, 2):
        pool = process_pool(workers)
        try:
            futures = {pool.submit(function, args): i for i, (_, args) in remaining.items()}
            for future in as_completed(futures):
                i = futures[future]
                collect(tasks[i][0], future.result())
                del remaining[i]
            return
        except BrokenProcessPool:  # a worker died (killed, out of memory): start afresh once
            with _pool_lock:
                if _pools.get(workers) is pool:  # not already replaced by another thread
                    del _pools[workers]
            pool.shutdown(wait=False)
            if attempt == 2:
                raise


# --- Dask ------------------------------------------------------------------------------

_clients: dict[str, object] = {}
_clusters: list = []
_clients_lock = threading.Lock()
LOCAL = "local"
CONNECT_TIMEOUT_S = 10
# A worker's statistical profiler samples the running task's stack every few milliseconds,
# which doubles the time of a replication; the local cluster runs without it (set
# DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False for workers started by hand).
LOCAL_WORKER_CONFIG = {"distributed.worker.profile.enabled": False}


SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss")


def scheduler_problem(address: str, option: str = "--scheduler") -> str | None:
    """Why ``address`` is not a Dask scheduler address this module can reach, or None."""
    allowed = "like tcp://host:8786 (tcp://, tls://, ws:// or wss://, then a host name and a port)"
    try:
        parts = urlsplit(address.strip())
        port = parts.port
    except ValueError:  # a port that is not a number, or out of range
        parts, port = None, None
    if (parts is None or parts.scheme not in SCHEDULER_SCHEMES or not parts.hostname or port is None
            or parts.path not in ("", "/") or parts.query or parts.fragment):
        return f"{option}: {short_repr(address)} is not a Dask scheduler address; give one {allowed}"
    return None


def dask_client(scheduler=None, workers: int | None = None):
    """A Dask client: for ``scheduler`` (an address or a ``distributed.Client``), else for
    ``$SIM_DASK_SCHEDULER``, else for a local cluster of ``workers`` processes (all cores).
    Clients and the local cluster are kept for later runs, and closed when this process exits."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError('the dask engine needs Dask distributed: pip install -e ".[distributed]"') from exc
    if isinstance(scheduler, Client):
        return scheduler
    address = scheduler or os.environ.get(SCHEDULER_ENV) or LOCAL
    with _clients_lock:
        client = _clients.get(address)
        if client is None or client.status in ("closing", "closed"):
            if not _clients and not _clusters:
                atexit.register(close_dask)
            if address == LOCAL:
                with dask.config.set(LOCAL_WORKER_CONFIG):
                    # the private cluster's own logging is silenced: a task's error reaches the client as an
                    # exception, and a Ctrl-C must end in one line, not the workers' shutdown warnings
                    cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                                           processes=True, dashboard_address=":0", silence_logs=logging.CRITICAL)
                _clusters.append(cluster)
                client = Client(cluster)
            else:
                try:
                    client = Client(address, timeout=CONNECT_TIMEOUT_S)
                except OSError as exc:  # refused, unknown host, timed out
                    raise ConnectionError(f"cannot reach the Dask scheduler at {address} ({exc})") from None
            _clients[address] = client
        return client


def close_dask() -> None:
    """Close the Dask clients this module opened, and the local cluster if it started one."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        for cluster in _clusters:
            cluster.close()
        _clients.clear()
        _clusters.clear()


def _on_dask(tasks, workers: int, scheduler, collect, function=_run_chunk) -> None:
    from distributed import as_completed as dask_completed

    client = dask_client(scheduler, workers)
    futures = client.map(function, [args for _, args in tasks], pure=False)
    keys = {future.key: key for future, (key, _) in zip(futures, tasks)}
    for future in dask_completed(futures):
        collect(keys[future.key], future.result())
