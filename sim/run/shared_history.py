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
from sim.model.pipeline import run_replication
from sim.run.process_pool import _start_context, _worker_start

#: Memory a worker may keep histories in (assumption: 500 MB, so 1 GB on this 2-core machine:
#: about 450 histories of the built-in baseline, or 20 of England run as one agency; a request
#: for more continues what it can and runs the other replications whole).
HISTORY_BUDGET_BYTES = 500_000_000


def history_bytes(history) -> int:
    """About how much memory a paused history holds: 600 kB plus 2 kB for each event pending
    (fitted to two histories measured with ``tracemalloc``: 1.1 MB with 243 events pending for
    the built-in baseline, 23 MB with 12,175 for England as one agency)."""
    return 600_000 + 2_000 * len(history.env._queue)


class _Store:
    """A worker's histories by (history key, replication), the least recently used first out,
    within :data:`HISTORY_BUDGET_BYTES`."""

    def __init__(self, budget: int | None = None):
        self.budget = HISTORY_BUDGET_BYTES if budget is None else budget
        self.items: OrderedDict = OrderedDict()  # (key, replication) -> (history, bytes)
        self.used = 0

    def get(self, key: str, r: int):
        item = self.items.get((key, r))
        if item is None:
            return None
        self.items.move_to_end((key, r))
        return item[0]

    def room_for(self, size: int, keep: set) -> bool:
        """Make room for ``size`` bytes, letting go of the least recently used histories not in
        ``keep``; whether there is room."""
        for name in [n for n in self.items if n not in keep]:
            if self.used + size <= self.budget:
                break
            self.used -= self.items.pop(name)[1]
        return self.used + size <= self.budget

    def put(self, key: str, r: int, history, size: int) -> None:
        self.items[(key, r)] = (history, size)
        self.used += size

    def clear(self) -> None:
        self.items.clear()
        self.used = 0


class WorkersLost(RuntimeError):
    """A worker process died (killed, out of memory); the run can go to the ordinary pool."""


def available() -> bool:
    """Whether this platform can keep histories (it needs ``os.fork`` in a worker)."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def _serve(conn) -> None:
    """A worker's loop: for each request, a list of (job, scenario, replications), make the
    histories it lacks, then continue them all in one forked copy of itself."""
    _worker_start(keep=(conn.fileno(),))  # its connection is a socket pair
    store = _Store()
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):  # the main process has gone
            return
        try:
            plan, made = _plan(store, request)
        except Exception as exc:  # a replication that fails fails the run, as on the pool
            _send_error(conn, exc)
            continue
        _continue_in_copy(conn, store, plan, made)


def _plan(store: _Store, request) -> tuple[list, int]:
    """What the copy will do for each requested replication: continue a kept history, or (None)
    run it whole where the memory for its history is not there; and how many histories were made."""
    plan, made = [], 0
    keys = [history_key(scenario) for _, scenario, _ in request]
    keep = {(key, r) for key, (_, _, replications) in zip(keys, request) for r in replications}
    for key, (job, scenario, replications) in zip(keys, request):
        size = None  # of this key's histories, once one is known
        for r in replications:
            history = store.get(key, r)
            if history is None and (size is None or store.room_for(size, keep)):
                history = simulate_history(scenario, r)
                made += 1
                size = history_bytes(history)
                if store.room_for(size, keep):
                    store.put(key, r, history, size)
            plan.append((job, scenario, r, history))
    return plan, made


def _send_error(conn, exc: BaseException) -> None:
    try:
        conn.send(("error", None, exc))
    except Exception:  # an exception that cannot be pickled: its traceback instead
        conn.send(("error", None, RuntimeError("".join(traceback.format_exception(exc)))))


def _continue_in_copy(conn, store: _Store, plan, made: int) -> None:
    """Continue each planned history (or run its replication whole), in a forked copy so that the
    histories stay as they are; the copy's last word says how many histories were ``made`` for it
    and how many were kept from earlier requests."""
    gc.freeze()  # the kept histories: later collections in this worker need not go over them again
    pid = os.fork()
    if pid == 0:  # the copy: send each result as it comes, then end at once (no clean-up of the copy)
        gc.disable()  # short-lived, and the model leaves no cycles: a collection would only go over the
        store.clear()  # histories copied here; each is let go once continued, so that the pages the
        code = 0       # continuation copies are freed as it goes
        try:
            kept = sum(history is not None for *_, history in plan) - made
            for i in range(len(plan)):
                job, scenario, r, history = plan[i]
                plan[i] = None
                result = run_replication(scenario, r) if history is None else continue_as(history, scenario, r)
                del history
                conn.send(("result", job, result))
            conn.send(("done", None, {"made": made, "kept": kept}))
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


def run_on_history_workers(jobs: dict[Hashable, tuple], workers: int, collect) -> None:
    """Run ``jobs`` on the history workers, where they can be used; a lost worker ends the attempt
    (the workers start afresh next time), and the caller runs what was not collected elsewhere."""
    if not available():
        return
    try:
        history_workers(workers).run(jobs, collect)
    except WorkersLost:
        stop_history_workers()
