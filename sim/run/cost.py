"""What a run will take — simulated events, minutes on this machine, memory — estimated from the
scenario's size before it starts, and the limit beyond which a run is refused unless forced.

A typing slip (``--reps 10000`` for 1000, ``--years 50``) should not tie up a machine for an
hour or exhaust its memory: the command line refuses a run whose estimate is beyond
:data:`MAX_MINUTES` or :data:`MAX_MEMORY_SHARE` of the machine's memory, saying what it would
take, unless ``--force`` is given; the app refuses it with the same estimate.

**Events.** A replication's simpy events grow with the households and children that pass
through it and with the months simulated (panels, matching rounds, monthly changes)::

    events = months x (EVENTS_PER_ENQUIRY x enquiries a month
                       + EVENTS_PER_CHILD x children entering a month + EVENTS_PER_MONTH)

summed month by month over the warm-up and the reported years, with the scenario's dated
changes and trends.  The three constants were fitted by least squares to the events counted
by ``run_replication(..., count_events=True)`` (the count ``python -m sim bench`` reports) in
three replications each of the calibrated Cambridgeshire & Peterborough scenario at 2 and 10
years (+ 3 warm-up), as it is, with enquiries x3, and with children entering x3: the fit
predicts each of the six counts within 2.2% (2,790 to 15,136 events a replication).  (Most of a
household's stretches are booked rather than simulated event by event, and its joining the pool
too, so an enquiry costs few events; the months carry the panels' sittings, the matching rounds
and the alarms.)
:func:`measure_events` repeats the measurement.

**Time.** Events at the model's speed measured by ``python -m sim bench`` on the 2-core
development machine (docs/background/performance.md: 209,070 events a second on one core of the
quiet machine, 1.92x on two), on the cores used: the time when the machine has no other work, which the limit is
checked against, so that the same command is refused or not whatever else is running.  Other
work slows it, and the estimate says by how much when it is busy: the run's k processes share
the C cores with the load average's L others, about C / (L + k) of a core each once L + k > C.
(With the load average between 8 and 11 on the 2-core machine, 300 replications x 10 years,
estimated at 8 seconds idle and 40 at that load, took 39 seconds.)

**Memory.** The process itself (``ru_maxrss`` 158 MiB in the benchmark), each worker process
(143 MiB), and the results kept: a run keeps every replication's KPIs by year (for the
intervals and the paired comparisons), which with the tables built from them took about
9.1 KB per replication-year of the process's memory: the peak resident size
(``/usr/bin/time -v``) of ``python -m sim run`` on a small scenario over 2 years on one process
rose from 135.5 MiB at 100 replications to 151.5 MiB at 1,000 (``tracemalloc`` sees 5.6 KB of
it, 1.3 against 11.3 MB: the rest is the allocator's overhead).  The event log, if asked for,
adds 0.54 logged changes of state per event, 372 bytes each at the peak (``tracemalloc``, on
the calibrated scenario).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sim.scenario.changes import monthly_values
from sim.scenario.files import ScenarioError
from sim.scenario.parameters import Scenario, run_months

# Fitted to counted events (see the module docstring and measure_events).
EVENTS_PER_ENQUIRY = 0.290
EVENTS_PER_CHILD = 5.10
EVENTS_PER_MONTH = 13.1
# python -m sim bench on the 2-core development machine (docs/background/performance.md).
EVENTS_PER_SECOND = 209_070
PARALLEL_EFFICIENCY = 0.96  # speed-up 1.92 on 2 cores
START_SECONDS = 1.0  # start-up, imports and worker processes: 2.76 s end to end against 2.19 s for the run
PROCESS_BYTES = 158 * 2**20  # ru_maxrss of the benchmark's process (docs/background/performance.md)
WORKER_BYTES = 143 * 2**20  # ru_maxrss of its largest worker process (pages shared with the parent counted)
BYTES_PER_REPLICATION_YEAR = 9_100  # peak resident size, 100 against 1,000 replications (see above)
LOGGED_PER_EVENT = 0.54
BYTES_PER_LOGGED = 372

MAX_MINUTES = 10.0  # assumption: a run longer than this is almost always a slip (a zero too many)
MAX_MEMORY_SHARE = 0.5  # assumption: leave half the machine's memory for the system and other work


def machine_cores() -> int:
    """The machine's cores."""
    return os.cpu_count() or 1


def machine_memory() -> int | None:
    """The machine's memory in bytes, where the system says."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - systems without sysconf
        return None


@dataclass(frozen=True)
class Cost:
    """What a run would take."""

    replications: int
    years: int
    warm_up_years: int
    events: float  # simpy events over all replications
    seconds: float
    memory: float  # bytes
    cores: int  # cores the estimate assumes
    busy_seconds: float | None = None  # at the machine's load when estimated, if that is much slower

    def describe(self) -> str:
        busy = (f" (about {_duration(self.busy_seconds)} at its present load)"
                if self.busy_seconds and self.busy_seconds > 1.5 * self.seconds else "")
        return (f"{self.replications:,} replication{'s' if self.replications != 1 else ''} x {self.years} "
                f"year{'s' if self.years != 1 else ''} "
                f"(+{self.warm_up_years} warm-up) is about {_count(self.events)} simulated events: about "
                f"{_duration(self.seconds)} on {self.cores} core{'s' if self.cores != 1 else ''} of this machine "
                f"when idle{busy} and {_size(self.memory)} of memory")

    def beyond_limit(self) -> bool:
        memory = machine_memory()
        return self.seconds > MAX_MINUTES * 60 or (memory is not None and self.memory > MAX_MEMORY_SHARE * memory)


def limit_text() -> str:
    memory = machine_memory()
    held = f" and {_size(MAX_MEMORY_SHARE * memory)} of memory (half of this machine's)" if memory else ""
    return f"{MAX_MINUTES:g} minutes{held}"


def events_per_replication(scenario: Scenario) -> float:
    """The simpy events one replication of ``scenario`` is expected to process."""
    months = run_months(scenario)
    paths = monthly_values(scenario, months)
    enquiries = paths.get(("adopters", "enquiries_per_month"), [scenario.adopters.enquiries_per_month] * months)
    children = paths.get(("children", "entering_per_year"), [scenario.children.entering_per_year] * months)
    return (EVENTS_PER_ENQUIRY * sum(enquiries) + EVENTS_PER_CHILD * sum(children) / 12
            + EVENTS_PER_MONTH * months)


def estimate(scenario: Scenario, workers: int | None = None, engine: str = "processes",
             event_log: bool = False) -> Cost:
    """What running ``scenario`` (its replications and years) would take on ``workers`` processes
    (default: all cores; one for the serial engine)."""
    run = scenario.scenario
    cores = 1 if engine == "serial" else max(1, min(workers or machine_cores(), machine_cores()))
    events = events_per_replication(scenario) * run.replications
    speed = EVENTS_PER_SECOND * (1 if cores == 1 else cores * PARALLEL_EFFICIENCY)
    memory = (BYTES_PER_REPLICATION_YEAR * run.replications * run.years
              + (LOGGED_PER_EVENT * BYTES_PER_LOGGED * events if event_log else 0))
    return _cost(run.replications, run.years, run.warm_up_years, events, speed, memory, cores)


def _cost(replications: int, years: int, warm_up_years: int, events: float, speed: float, results_bytes: float,
          cores: int) -> Cost:
    """The cost of ``events`` at ``speed`` events a second on ``cores``: when idle and at the machine's
    load, and the memory of the processes and ``results_bytes`` of results."""
    memory = PROCESS_BYTES + (WORKER_BYTES * cores if cores > 1 else 0) + results_bytes
    load = machine_load()
    share = min(1.0, machine_cores() / (load + cores)) if load is not None else 1.0
    return Cost(replications, years, warm_up_years, events, START_SECONDS + events / speed, memory, cores,
                START_SECONDS + events / (speed * share))


#: A market replication runs its agencies in one environment and matches across them each round: per
#: simulated event it is this much slower than one agency's (England x 100 replications x 10 years took
#: 256 s on two cores of the quiet machine, measured 2026-12-07 with release 0.4.0, against the
#: single-agency rate's estimate; docs/background/performance.md).
MARKET_SLOWDOWN = 2.0


def estimate_market(market, workers: int | None = None, engine: str = "processes") -> Cost:
    """What running the market ``market`` (a :class:`sim.scenario.market_file.MarketSpec`, with its
    replications and years) would take: its agencies' events added up, at the market's speed."""
    reps = market.replications
    cores = 1 if engine == "serial" else max(1, min(workers or machine_cores(), machine_cores(), reps))
    events = sum(events_per_replication(a.scenario) for a in market.agencies) * reps
    speed = EVENTS_PER_SECOND / MARKET_SLOWDOWN * (1 if cores == 1 else cores * PARALLEL_EFFICIENCY)
    return _cost(reps, market.years, market.warm_up_years, events, speed,
                 BYTES_PER_REPLICATION_YEAR * reps * market.years * len(market.agencies), cores)


def machine_load() -> float | None:
    """Processes running or waiting for a core, on average over the last minute, where the system says."""
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):  # pragma: no cover - Windows
        return None


def check_cost(cost: Cost, what: str = "run") -> None:
    """Refuse a run beyond the limit (the caller skips this with ``--force``)."""
    if cost.beyond_limit():
        raise ScenarioError(f"{what}: {cost.describe()}, beyond the limit of {limit_text()} for one run. Ask for "
                            f"fewer --reps or --years, or add --force to run it anyway")


def check_workers(workers: int | None, force: bool = False, forcible: bool = True) -> None:
    """Refuse fewer than one worker, and more than the machine's cores unless forced (``forcible``:
    whether the command offers ``--force``)."""
    if workers is None:
        return
    if workers < 1:
        raise ScenarioError(f"--workers: must be at least 1, got {workers}")
    cores = machine_cores()
    if workers > cores and not force:
        raise ScenarioError(f"--workers: {workers:,} is more than this machine's {cores} core"
                            f"{'s' if cores != 1 else ''}; more processes than cores only add start-up time and "
                            f"memory (about {WORKER_BYTES / 2**20:.0f} MiB each). Use at most {cores}"
                            + (", or add --force" if forcible else ""))


def measure_events(scenario: Scenario, replications: int = 3) -> float:
    """The events a replication of ``scenario`` processes, counted (to check the constants above)."""
    from sim.model.pipeline import run_replication

    return sum(run_replication(scenario, r, count_events=True).events for r in range(replications)) / replications


def _count(n: float) -> str:
    for size, word in ((1e9, "billion"), (1e6, "million")):
        if n >= size:
            return f"{n / size:,.1f} {word}"
    return f"{n:,.0f}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} seconds"
    if seconds < 90 * 60:
        return f"{seconds / 60:,.0f} minutes"
    return f"{seconds / 3600:,.1f} hours"


def _size(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB" if n >= 2**30 else f"{n / 2**20:,.0f} MiB"
