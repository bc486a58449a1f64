"""Runs that carry on in the background while the page is redrawn.

A browser app redraws its page whenever a user touches a control; a simulation run inside
the page would be stopped and lost.  Instead each run is a *job* on its own thread, keyed by
what it computes (the scenario text, replications and years): the page starts it, shows its
progress and picks up the result, and a redraw simply finds the same job still running (or
finished) under the same key.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sim.scenario.files import ScenarioError


class Job:
    """One computation on a background thread, with its progress."""

    def __init__(self, key: str, fn: Callable[[Callable[[int, int], None]], Any]):
        self.key = key
        self.done = 0
        self.total = 0
        self.result: Any = None
        self.error: str | None = None
        self._finished = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(fn,), name=f"job {key[:12]}", daemon=True)

    def start(self) -> "Job":
        self._thread.start()
        return self

    def _progress(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def _run(self, fn) -> None:
        try:
            self.result = fn(self._progress)
        except ScenarioError as exc:
            self.error = str(exc)
        except Exception as exc:  # shown to the user as a message; the app keeps running
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self._finished.set()

    @property
    def finished(self) -> bool:
        return self._finished.is_set()

    @property
    def fraction(self) -> float:
        if self.finished:
            return 1.0
        return min(1.0, self.done / self.total) if self.total else 0.0

    def wait(self, timeout: float | None = None) -> Any:
        """Block until finished; the result, or a RuntimeError with the job's message."""
        if not self._finished.wait(timeout):
            raise TimeoutError(f"job {self.key} still running after {timeout} s")
        if self.error:
            raise RuntimeError(self.error)
        return self.result


class JobStore:
    """Jobs by key: the same key gives the same job, running or finished.

    Finished jobs are kept (the most recent ``keep``) so results survive redraws; a job that
    failed is replaced by a new one when it is asked for again.
    """

    def __init__(self, keep: int = 64):
        self.keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def submit(self, key: str, fn: Callable[[Callable[[int, int], None]], Any]) -> Job:
        with self._lock:
            job = self._jobs.get(key)
            if job is not None and not (job.finished and job.error):
                self._jobs.move_to_end(key)
                return job
            job = Job(key, fn)
            self._jobs[key] = job
            self._trim()
        return job.start()

    def get(self, key: str) -> Job | None:
        with self._lock:
            return self._jobs.get(key)

    def _trim(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.finished]
        while len(self._jobs) > self.keep and finished:
            del self._jobs[finished.pop(0)]

    def __len__(self) -> int:
        return len(self._jobs)
