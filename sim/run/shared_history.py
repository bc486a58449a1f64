"""Worker processes that keep each replication's shared history and continue it as each
scenario asks: a what-if of a baseline already run is simulated from the branch day only.

A planner's what-ifs differ from their baseline only in dated changes, which start after
year 1, so every replication of every what-if shares its history (the warm-up and year 1)
with the same replication of the baseline (:mod:`sim.model.history`).  Each worker holds the
histories of the replications it has run, paused on the branch day, keyed by the history
they stand for; a later scenario with the same history continues a copy of each instead of
simulating it again.  The copy is a forked process: simpy's processes are Python generators,
which cannot be copied within a process, while a fork copies the whole paused simulation in
the time it takes to map its memory.  Each worker runs one fork per request, which continues
all the requested replications in turn and sends their results straight back.

Replication ``r`` always goes to worker ``r % workers``, where its history is.  The results
are those of the scenario's own run, figure for figure (the tests check it), so using these
workers changes how long a run takes, never what it gives.

Only on Linux (a fork of a single-threaded worker is safe there); elsewhere, and for a run
that keeps its event log, replications run on the ordinary pool
(:mod:`sim.run.execution`).
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable, Hashable
from multiprocessing.connection import wait

from sim.model.history import continue_as, history_key, simulate_history
from sim.run.execution import _start_context, _worker_start

#: Histories a worker keeps (assumption: about 1 MB each for the built-in baseline, so at most
#: about 250 MB a worker; enough for a baseline run at the maximum of 200 replications and a
#: second history besides).  The least recently used go first.
HISTORIES_PER_WORKER = 250


class WorkersLost(RuntimeError):
    """A worker process died (killed, out of memory); the run can go to the ordinary pool."""


def available() -> bool:
    """Whether this platform can keep histories (it needs ``os.fork`` in a worker)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def _serve(conn) -> None:
    """A worker's loop: for each request, a list of (job, scenario, replications), make the
    histories it lacks, then continue them all in one forked copy of itself."""
    _worker_start(keep=(conn.fileno(),))  # its connection is a socket pair
    store: OrderedDict = OrderedDict()
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):  # the main process has gone
            return
        try:
            plan, made = [], 0
            for job, scenario, replications in request:
                key = history_key(scenario)
                for r in replications:
                    if (key, r) in store:
                        store.move_to_end((key, r))
                    else:
                        store[(key, r)] = simulate_history(scenario, r)
                        made += 1
                    plan.append((job, scenario, r, store[(key, r)]))
            while len(store) > HISTORIES_PER_WORKER:
                store.popitem(last=False)
        except Exception as exc:  # a replication that fails fails the run, as on the pool
            _send_error(conn, exc)
            continue
        _continue_in_copy(conn, plan, made)


def _send_error(conn, exc: BaseException) -> None:
    try:
        conn.send(("error", None, exc))
    except Exception:  # an exception that cannot be pickled: its traceback instead
        conn.send(("error", None, RuntimeError("".join(traceback.format_exception(exc)))))


def _continue_in_copy(conn, plan, made: int) -> None:
    """Continue each planned history, in a forked copy so that the histories stay as they are;
    the copy's last word says how many histories were ``made`` for it (the others were kept)."""
    gc.freeze()  # the kept histories: later collections in this worker need not go over them again
    pid = os.fork()
    if pid == 0:  # the copy: send each result as it comes, then end at once (no clean-up of the copy)
        gc.disable()  # short-lived, and the model leaves no cycles: a collection would only go over the
        code = 0      # histories copied here (about a tenth of each replication's time)
        try:
            for job, scenario, r, history in plan:
                conn.send(("result", job, continue_as(history, scenario, r)))
            conn.send(("done", None, {"made": made, "kept": len(plan) - made}))
        except BaseException as exc:
            code = 1
            try:
                _send_error(conn, exc)
            except BaseException:
                code = 2
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 1):  # stopped before it could say why
        conn.send(("error", None, RuntimeError(f"the copy continuing the histories ended with status {status}")))


class HistoryWorkers:
    """``workers`` processes, each keeping the histories of its share of replications."""

    def __init__(self, workers: int):
        context = _start_context()
        self.workers = workers
        self.lock = threading.Lock()
        self.histories = {"made": 0, "kept": 0}  # over all runs: simulated, and continued from a kept one
        self.connections, self.processes = [], []
        for _ in range(workers):
            here, there = context.Pipe()
            process = context.Process(target=_serve, args=(there,), daemon=True)
            process.start()
            there.close()
            self.connections.append(here)
            self.processes.append(process)

    def run(self, jobs: dict[Hashable, tuple], collect: Callable[[Hashable, list], None]) -> None:
        """Run each job's (scenario, replication numbers), passing each result to
        ``collect(job, [result])`` as it arrives.  Raises the first replication's error after
        every worker has finished, or :class:`WorkersLost`."""
        with self.lock:
            shares = [[] for _ in self.connections]
            for job, (scenario, replications) in jobs.items():
                for w in range(self.workers):
                    mine = [r for r in replications if r % self.workers == w]
                    if mine:
                        shares[w].append((job, scenario, mine))
            pending = [c for c, share in zip(self.connections, shares) if share]
            finished = False
            try:
                for connection, share in zip(self.connections, shares):
                    if share:
                        connection.send(share)
                error = None
                while pending:
                    for connection in wait(pending):
                        try:
                            kind, job, value = connection.recv()
                        except (EOFError, OSError):
                            raise WorkersLost("a worker process keeping histories stopped") from None
                        if kind == "result":
                            collect(job, [value])
                        else:
                            pending.remove(connection)
                            if kind == "done":
                                for name, count in value.items():
                                    self.histories[name] += count
                            elif error is None:
                                error = value
                finished = True
            finally:
                if not finished:  # interrupted, or a worker lost: what the others still send would
                    self.stop()   # be read by the next run, so these workers are done
            if error is not None:
                raise error

    def alive(self) -> bool:
        return all(p.is_alive() for p in self.processes) and bool(self.processes)

    def stop(self) -> None:
        for connection in self.connections:
            connection.close()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.join(timeout=5)
        self.processes = []


_workers: dict[int, HistoryWorkers] = {}
_lock = threading.Lock()


def history_workers(workers: int) -> HistoryWorkers:
    """The ``workers`` history workers, started on first use and kept (like the process pool)."""
    with _lock:
        current = _workers.get(workers)
        if current is None or not current.alive():
            current = _workers[workers] = HistoryWorkers(workers)
        return current


def stop_history_workers() -> None:
    """Stop every history worker now (their histories are lost; they start afresh when next used)."""
    with _lock:
        running = list(_workers.values())
        _workers.clear()
    for w in running:
        w.stop()


def run_on_history_workers(jobs: dict[Hashable, tuple], workers: int, collect) -> bool:
    """Run ``jobs`` on the history workers; False (nothing run) where they cannot be used or a
    worker was lost, so that the caller runs the jobs on the ordinary pool instead."""
    if not available():
        return False
    try:
        history_workers(workers).run(jobs, collect)
    except WorkersLost:
        stop_history_workers()
        return False
    return True
