"""Stopping a run cleanly when it is interrupted: Ctrl-C (SIGINT) or SIGTERM (a scheduler, a
shutdown, ``kill``).

Inside :func:`stop_on_signals` either signal raises :class:`Stopped` in the main thread,
wherever it is waiting (a replication, the pool's results); the worker processes are
stopped at once rather than left to finish their share, and the caller says so in one line
and exits with the shell's status for the signal (130 for SIGINT, 143 for SIGTERM).
Workers themselves ignore SIGINT (Ctrl-C reaches every process of the terminal's group, and
only the main process should answer it) and die on SIGTERM as usual.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from sim.run.dask_engine import close_dask
from sim.run.process_pool import stop_workers

NAMES = {signal.SIGINT: "interrupted (Ctrl-C)", signal.SIGTERM: "terminated (SIGTERM)"}


class Stopped(BaseException):
    """The run was stopped by a signal.  A BaseException, like KeyboardInterrupt, so that no
    ``except Exception`` on the way swallows it.  Its only argument is the signal number, so that a
    copy rebuilt from its arguments (as simpy re-raises an exception thrown inside a process) is the
    same stop."""

    def __init__(self, signum: int):
        super().__init__(int(signum))
        self.signum = int(signum)

    def __str__(self) -> str:
        return NAMES.get(self.signum, f"stopped by signal {self.signum}")

    @property
    def status(self) -> int:
        """The exit status a shell gives a program killed by the signal."""
        return 128 + self.signum


def _raise(signum, frame) -> None:
    raise Stopped(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Stopped`, and stop the worker processes when it is raised
    (signals reach only the main thread: elsewhere this changes nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    except KeyboardInterrupt:  # a SIGINT that arrived before the handler was in place
        stop_workers()
        raise Stopped(signal.SIGINT) from None
    except Stopped:
        with contextlib.suppress(Stopped):  # a second Ctrl-C while the workers are being stopped
            stop_workers()
            close_dask()
        raise
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
