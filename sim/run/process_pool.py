"""The "processes" engine: a pool of worker processes on this machine, one per core, started on
first use and kept for later runs, so that a session that runs many scenarios (the app, a sweep,
a calibration) pays the start-up once.  Workers are forked where that is safe (Linux, from a
single-threaded process), so they start at once with everything already imported; they leave
Ctrl-C to the main process and close the network sockets a fork copied."""

from __future__ import annotations

import multiprocessing
import os
import signal
import stat
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - platforms without affinity
        return os.cpu_count() or 1


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


def on_processes(tasks, workers: int, scheduler, collect, function) -> None:
    """Run ``function(args)`` for each ``(key, args)`` of ``tasks`` on the pool of ``workers``,
    passing each result to ``collect(key, result)`` as it finishes; a pool whose worker died is
    started afresh once and its unfinished work run again.  (``scheduler`` is the Dask engine's;
    every engine takes the same arguments, :data:`sim.run.execution.ENGINE_RUNNERS`.)"""
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
