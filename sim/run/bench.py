"""The benchmark: how fast the model runs on this machine, how it uses the cores, how it scales.

    python -m sim bench [--json PATH] [--quick]

One run measures, all on the same machine and in the same process:

* **events per second** of the model (every event simpy processes, counted by
  ``run_replication(..., count_events=True)``) against a bare simpy loop, one process
  yielding ``env.timeout(1)``: the most simpy itself can do, so the ratio says how much
  work the model adds to each event;
* the same simpy loop with as many timeouts pending at once as the model keeps on average
  (its mean queue length, measured in one replication): simpy's cost per event grows with
  the length of its queue, so this is the most any model of this size can reach on simpy,
  and the second ratio is the share of that the model keeps;
* **replications per second** on one process and on all cores (once the workers have
  started), the speed-up, and whether the parallel results equal the serial ones figure
  for figure;
* **wall time** of the standard workload (``run_scenario`` of 100 replications x 10 years on
  all cores, tables included, starting the worker processes; the better of two cold
  starts, one in this process and one in a fresh one), the same run from the
  command line (``python -m sim run``, start-up and imports included), and **peak memory**
  (``ru_maxrss`` of this process and of its largest child process);
* **growth** of time and memory with the horizon (5, 10, 20 years) and with the agency's
  size (flows and capacities x1, x4, x16).  Memory there is the peak of Python allocations
  during one replication, traced with ``tracemalloc``.

The workload is the calibrated Cambridgeshire & Peterborough scenario when
``scenarios/cambridgeshire-peterborough-2022-23.toml`` exists, else the uncalibrated defaults.
The bare loop and the model are timed in alternating blocks (five in the standard workload,
each of 20 replications) and each rate is the best block's, the one least disturbed by
other work on the machine; likewise the runs on all cores and the command-line run are the
better of two.  The load average is printed with the figures.  ``--quick`` runs a reduced workload (for the tests).
"""

from __future__ import annotations

import json
import math
import os
import platform
import resource
import subprocess
import sys
import time
import tracemalloc
from dataclasses import asdict, dataclass, field

import numpy as np
import simpy

from sim.model.pipeline import end_time, processed_events, run_replication, start
from sim.run.execution import default_workers, run_replications
from sim.run.runner import run_scenario
from sim.scenario import atomic_write
from sim.scenario.files import SCENARIO_DIR, load_scenario, scenario_from_dict
from sim.scenario.parameters import Scenario

CALIBRATED = "cambridgeshire-peterborough-2022-23"


@dataclass(frozen=True)
class Workload:
    """What the benchmark runs."""

    years: int = 10
    replications: int = 100
    bare_timeouts: int = 100_000  # per block of the bare loop
    blocks: int = 5  # alternating blocks of bare loop and model
    horizons: tuple[int, ...] = (5, 10, 20)
    sizes: tuple[int, ...] = (1, 4, 16)
    growth_replications: int = 8  # at size x1 (fewer at larger sizes, at least 2)


STANDARD = Workload()
QUICK = Workload(years=2, replications=8, bare_timeouts=20_000, blocks=2, horizons=(1, 2), sizes=(1, 2),
                 growth_replications=2)


@dataclass
class GrowthRow:
    years: int
    size: int
    replications: int
    events_per_replication: float
    seconds_per_replication: float
    events_per_s: float
    peak_kib: float  # tracemalloc peak during one replication


@dataclass
class BenchResult:
    scenario: str
    years: int
    replications: int
    cores: int
    python: str
    simpy: str
    bare_simpy_timeouts_per_s: float
    model_events_per_s: float
    events_per_replication: float
    event_ratio: float
    model_queue_length: float  # mean events pending in simpy's queue during a replication
    simpy_at_depth_timeouts_per_s: float  # simpy with that many timeouts pending
    event_ratio_at_depth: float
    serial_replications_per_s: float
    parallel_replications_per_s: float
    speedup: float
    parallel_equals_serial: bool
    standard_workload_wall_s: float
    command_line_wall_s: float  # python -m sim run, start-up and imports included
    peak_rss_mib: float  # ru_maxrss of this process
    peak_rss_children_mib: float  # ru_maxrss of the largest child process (workers, the command line run)
    load_average: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at the start and the end
    horizon_growth: list[GrowthRow] = field(default_factory=list)
    size_growth: list[GrowthRow] = field(default_factory=list)


def benchmark_scenario(years: int, replications: int) -> Scenario:
    """The calibrated scenario if it has been written, else the uncalibrated defaults; the given run size."""
    base = load_scenario(CALIBRATED) if (SCENARIO_DIR / f"{CALIBRATED}.toml").is_file() else Scenario()
    return with_run(base, years=years, replications=replications)


def with_run(scenario: Scenario, **run) -> Scenario:
    data = scenario.model_dump()
    data["scenario"].update(run)
    return scenario_from_dict(data, "benchmark")


def scaled(scenario: Scenario, factor: int) -> Scenario:
    """An agency ``factor`` times the size: flows, social workers and panel places all scaled.

    Panel places are scaled through the panels a month (regular and extra), as a larger
    agency holds more panels; each panel hears as many cases as before.
    """
    data = scenario.model_dump()
    a, c, panel = data["adopters"], data["children"], data["panel"]
    a["enquiries_per_month"] *= factor
    c["entering_per_year"] *= factor
    a["assessing_social_workers"] *= factor
    panel["panels_per_month"] *= factor
    panel["extra_panels_per_month"] *= factor
    for name, n in data["initial_state"].items():
        data["initial_state"][name] = None if n is None else n * factor
    return scenario_from_dict(data, f"benchmark x{factor}")


def bare_simpy(n: int) -> float:
    """Seconds for a bare simpy loop to process ``n`` timeouts."""
    env = simpy.Environment()

    def loop():
        for _ in range(n):
            yield env.timeout(1)

    env.process(loop())
    start = time.perf_counter()
    env.run()
    return time.perf_counter() - start


def mean_queue_length(scenario: Scenario) -> float:
    """The mean number of events waiting in simpy's queue as replication 0 runs, sampled at each event."""
    env = start(scenario, 0).env
    until, total, steps = end_time(scenario), 0, 0
    while env.peek() < until:
        env.step()
        total += len(env._queue)
        steps += 1
    return total / max(1, steps)


def simpy_at_depth(n: int, depth: int, seed: int = 0) -> tuple[float, int]:
    """Seconds for simpy to process about ``n`` timeouts with ``depth`` of them pending at any moment,
    and the events it processed (the timeouts, and each process's start and end):
    ``depth`` processes, each yielding timeouts whose lengths (exponential, mean 30 days, drawn
    beforehand) spread them through the queue as the model's stage durations do."""
    env = simpy.Environment()
    delays = np.random.default_rng(seed).exponential(30.0, 4096).tolist()
    each = max(1, n // depth)

    def loop(offset: int):
        for i in range(offset, offset + each):
            yield env.timeout(delays[i & 4095])

    for k in range(depth):
        env.process(loop(k * 97))
    start_s = time.perf_counter()
    env.run()
    return time.perf_counter() - start_s, processed_events(env)


def _timed_replications(scenario: Scenario, reps) -> tuple[float, int, list]:
    results, events = [], 0
    start = time.perf_counter()
    for r in reps:
        result = run_replication(scenario, r, count_events=True)
        events += result.events
        results.append(result)
    return time.perf_counter() - start, events, results


def _same(a, b) -> bool:
    """Identical KPIs, replication by replication (NaN equals NaN)."""
    return [(r.replication, json.dumps(r.kpis)) for r in a] == [(r.replication, json.dumps(r.kpis)) for r in b]


def _growth_row(scenario: Scenario, years: int, size: int, reps: int) -> GrowthRow:
    """Events a replication, and time a replication at the best replication's events/s."""
    s = with_run(scaled(scenario, size) if size != 1 else scenario, years=years)
    events, best_rate = 0, 0.0
    for r in range(reps):
        seconds, n, _ = _timed_replications(s, [r])
        events, best_rate = events + n, max(best_rate, n / seconds)
    tracemalloc.start()
    run_replication(s, reps)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return GrowthRow(years, size, reps, events / reps, events / reps / best_rate, best_rate, peak / 1024)


# The standard workload from a cold start in a fresh interpreter (imports not timed).
_COLD_RUN = ("import sys, time\n"
             "from sim.run.bench import benchmark_scenario\n"
             "from sim.run.runner import run_scenario\n"
             "s = benchmark_scenario(int(sys.argv[1]), int(sys.argv[2]))\n"
             "start = time.perf_counter()\n"
             "run_scenario(s, engine='processes', workers=int(sys.argv[3]))\n"
             "print(time.perf_counter() - start)\n")


def run_benchmark(work: Workload = STANDARD, workers: int | None = None,
                  say=lambda text: print(text, file=sys.stderr, flush=True)) -> BenchResult:
    """Measure everything the module docstring lists (the figures most disturbed by other work
    on the machine first: the runs on all cores)."""
    workers = workers or default_workers()
    load_start = os.getloadavg()[0]
    scenario = benchmark_scenario(work.years, work.replications)
    reps = list(range(work.replications))

    say("standard workload on all cores (cold start) ...")
    start = time.perf_counter()
    run_scenario(scenario, engine="processes", workers=workers)
    wall = time.perf_counter() - start
    cold = subprocess.run([sys.executable, "-c", _COLD_RUN, str(work.years), str(work.replications), str(workers)],
                          check=True, capture_output=True, text=True)
    wall = min(wall, float(cold.stdout))  # the better of two cold starts

    say(f"replications on {workers} processes ...")
    parallel_s = math.inf
    for _ in range(2):  # the better of two runs on the (already started) worker processes
        start = time.perf_counter()
        parallel = run_replications(scenario, reps, engine="processes", workers=workers)
        parallel_s = min(parallel_s, time.perf_counter() - start)

    say("the model's queue length ...")
    depth = mean_queue_length(scenario)

    say("bare simpy loop and the model, one process ...")
    bare_rate = depth_rate = model_rate = serial_rate = 0.0
    events = 0
    serial = []
    for block in range(work.blocks):  # each figure is the best of the blocks (the least disturbed)
        bare_rate = max(bare_rate, work.bare_timeouts / bare_simpy(work.bare_timeouts))
        seconds, n = simpy_at_depth(work.bare_timeouts, round(depth))
        depth_rate = max(depth_rate, n / seconds)
        block_reps = reps[block::work.blocks]
        seconds, n, results = _timed_replications(scenario, block_reps)
        model_rate, serial_rate = max(model_rate, n / seconds), max(serial_rate, len(block_reps) / seconds)
        events, serial = events + n, serial + results
    serial.sort(key=lambda r: r.replication)

    say("command line run ...")
    command = [sys.executable, "-m", "sim", "run", "--years", str(work.years), "--reps", str(work.replications),
               "--json", os.devnull]
    if (SCENARIO_DIR / f"{CALIBRATED}.toml").is_file():
        command.insert(4, CALIBRATED)
    command_s = math.inf
    for _ in range(2):  # the better of two
        start = time.perf_counter()
        _run_child(command)
        command_s = min(command_s, time.perf_counter() - start)

    horizon_growth, size_growth = [], []
    for years in work.horizons:
        say(f"growth: {years} years ...")
        horizon_growth.append(_growth_row(scenario, years, 1, work.growth_replications))
    for size in work.sizes:
        say(f"growth: agency x{size} ...")
        size_growth.append(_growth_row(scenario, work.years, size, max(2, work.growth_replications // size)))

    mib = 1024.0 if sys.platform != "darwin" else 1024.0 * 1024.0  # ru_maxrss is KiB on Linux, bytes on macOS
    return BenchResult(
        scenario=scenario.scenario.name, years=work.years, replications=work.replications, cores=workers,
        python=platform.python_version(), simpy=simpy.__version__,
        bare_simpy_timeouts_per_s=bare_rate, model_events_per_s=model_rate,
        events_per_replication=events / len(reps), event_ratio=model_rate / bare_rate,
        model_queue_length=depth, simpy_at_depth_timeouts_per_s=depth_rate, event_ratio_at_depth=model_rate / depth_rate,
        serial_replications_per_s=serial_rate, parallel_replications_per_s=len(reps) / parallel_s,
        speedup=len(reps) / parallel_s / serial_rate, parallel_equals_serial=_same(serial, parallel),
        standard_workload_wall_s=wall, command_line_wall_s=command_s,
        load_average=(load_start, os.getloadavg()[0]),
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / mib,
        peak_rss_children_mib=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / mib,
        horizon_growth=horizon_growth, size_growth=size_growth,
    )


def report(b: BenchResult) -> str:
    """The figures as a readable table."""
    def row(label: str, figure: str, note: str = "") -> str:
        return f"  {label:<30}{figure:>14}  {note}".rstrip()

    lines = [
        f"Benchmark: {b.scenario}, {b.years} years (+ warm-up), {b.replications} replications, "
        f"{b.cores} cores; Python {b.python}, simpy {b.simpy}",
        f"(load average {b.load_average[0]:.1f} at the start, {b.load_average[1]:.1f} at the end: other work on "
        f"the machine slows every figure)",
        "",
        row("bare simpy loop", f"{b.bare_simpy_timeouts_per_s:,.0f}", "timeouts/s"),
        row("model", f"{b.model_events_per_s:,.0f}", f"events/s ({b.events_per_replication:,.0f} a replication)"),
        row("ratio model / bare", f"{b.event_ratio:.2f}"),
        row(f"simpy, {b.model_queue_length:.0f} pending", f"{b.simpy_at_depth_timeouts_per_s:,.0f}",
            "timeouts/s (as many waiting at once as the model's mean queue)"),
        row("ratio model / that", f"{b.event_ratio_at_depth:.2f}"),
        "",
        row("replications, 1 process", f"{b.serial_replications_per_s:.1f}", "/s"),
        row(f"replications, {b.cores} processes", f"{b.parallel_replications_per_s:.1f}", "/s"),
        row("speed-up", f"{b.speedup:.2f}x",
            f"(results identical to serial: {'yes' if b.parallel_equals_serial else 'NO'})"),
        "",
        row("standard workload wall time", f"{b.standard_workload_wall_s:.2f} s",
            f"(run_scenario on {b.cores} processes from a cold start, tables included)"),
        row("command line, end to end", f"{b.command_line_wall_s:.2f} s",
            "(python -m sim run: start-up, imports, run and tables)"),
        row("peak memory (ru_maxrss)", f"{b.peak_rss_mib:.0f} MiB",
            f"this process; largest child process {b.peak_rss_children_mib:.0f} MiB"),
        "",
        "  Growth on one process (ms/rep at the best replication's events/s; x time and x events",
        "  relative to the first row; peak = tracemalloc peak of Python allocations in one replication)",
    ]
    for title, rows in (("horizon", b.horizon_growth), ("agency size", b.size_growth)):
        lines += ["", f"    by {title}", "    years   size  events/rep    ms/rep    events/s  x time  x events  peak KiB"]
        for g in rows:
            base = rows[0]
            lines.append(
                f"    {g.years:>5}  x{g.size:<4} {g.events_per_replication:>10,.0f} "
                f"{g.seconds_per_replication * 1000:>9.1f} {g.events_per_s:>11,.0f} "
                f"{g.seconds_per_replication / base.seconds_per_replication:>7.2f} "
                f"{g.events_per_replication / base.events_per_replication:>9.2f} {g.peak_kib:>9,.0f}")
    return "\n".join(lines)


def _run_child(command: list[str]) -> None:
    """Run a command line to its end; if this process is stopped meanwhile (Ctrl-C, SIGTERM), stop the
    child too, which stops its own workers, and wait for it: no process is left behind."""
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = child.communicate()
    except BaseException:
        child.terminate()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        raise
    if child.returncode != 0:
        raise subprocess.CalledProcessError(child.returncode, command, stderr=err)


def main(json_path: str | None = None, quick: bool = False) -> int:
    b = run_benchmark(QUICK if quick else STANDARD)
    print(report(b))
    if json_path:
        atomic_write.write_text(json_path, json.dumps(asdict(b), indent=1))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(*(sys.argv[1:2] or [None])))
