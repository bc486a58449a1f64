"""How replications are run, declared once for every way of running them: a scenario
(:func:`sim.run.runner.run_scenario`), a precision rule (:func:`sim.run.replications.run_to_precision`),
a batch of jobs (:func:`sim.run.execution.run_many`), a market
(:func:`sim.run.market_runner.run_market`) and the recruitment target finder.

Each of those takes ``options=RunOptions(...)``, or the same names as keywords
(``run_scenario(s, engine="processes", workers=2)``), which are checked here: a name that is
not an option is refused with the options there are.

    >>> RunOptions.of(engine="processes", workers=2).engine
    'processes'
    >>> RunOptions.of(RunOptions(workers=4), engine="dask").workers
    4
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace

#: The engines replications run on.
ENGINES = ("serial", "processes", "dask")


@dataclass(frozen=True)
class RunOptions:
    """Where and how replications run; none of these changes a result."""

    engine: str = "serial"  # "serial", "processes" (this machine's cores) or "dask" (a cluster)
    workers: int | None = None  # processes on this machine (default: the cores it gives this process)
    scheduler: object = None  # a Dask scheduler's address, or a distributed.Client
    progress: Callable[[int, int], None] | None = None  # progress(done, total), replications as they finish
    event_log: bool = False  # keep every entity's changes of state (the audit log)
    share_history: bool = False  # on "processes", keep replications' histories for later what-ifs

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; choose one of {', '.join(ENGINES)}")

    @classmethod
    def of(cls, options: RunOptions | None = None, **given) -> RunOptions:
        """``options`` (default: the defaults) with the options ``given`` as keywords over it."""
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(given) - set(names))
        if unknown:
            raise TypeError(f"unknown run option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                            f"the options are {', '.join(names)}")
        return replace(options or cls(), **given)
