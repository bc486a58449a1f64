"""The execution layer: the same seed gives the same figures on every engine, one job or many."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from sim.run.dask_engine import SCHEDULER_ENV, close_dask
from sim.run.execution import run_many, run_replications
from sim.run.runner import run_scenario
from tests.conftest import small


@pytest.fixture(scope="module")
def scheduler():
    """A small Dask cluster inside this process (two single-threaded workers), reachable over TCP."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
                                       dashboard_address=":0")
    yield cluster.scheduler_address
    close_dask()
    cluster.close()


def _figures(results):
    """Replication numbers and KPIs, NaN-safe, for exact comparison."""
    return [(r.replication, json.dumps(r.kpis), sorted(r.census.items())) for r in results]


def test_serial_processes_and_dask_agree_exactly(scheduler):
    s = small(reps=6, seed=5, initial_state={"households_stage2": 4, "children_waiting_with_po": 3})
    serial = run_replications(s, range(6), engine="serial")
    assert _figures(run_replications(s, range(6), engine="processes", workers=2)) == _figures(serial)
    assert _figures(run_replications(s, range(6), engine="dask", scheduler=scheduler)) == _figures(serial)


def test_run_scenario_tables_equal_on_dask(scheduler):
    s = small(reps=5, seed=21)
    serial = run_scenario(s, engine="serial")
    dask = run_scenario(s, engine="dask", scheduler=scheduler)
    pd.testing.assert_frame_equal(serial.replications, dask.replications)
    pd.testing.assert_frame_equal(serial.summary, dask.summary)


@pytest.mark.parametrize("engine", ["serial", "processes", "dask"])
def test_run_many_returns_each_job_as_run_alone(engine, scheduler):
    jobs = {
        "baseline": (small(seed=3), 4),
        "more enquiries": (small(seed=3, adopters={"enquiries_per_month": 40.0}), [0, 2, 5]),
        ("fees", 1): (small(seed=3, fees={"vaa_one_child_gbp": 40000.0}), range(3)),
    }
    seen = []
    results = run_many(jobs, engine=engine, workers=2, scheduler=scheduler, progress=lambda d, t: seen.append((d, t)))
    assert list(results) == list(jobs)
    for key, (scenario, reps) in jobs.items():
        numbers = list(range(reps)) if isinstance(reps, int) else list(reps)
        alone = [r for r in run_replications(scenario, numbers)]
        assert _figures(results[key]) == _figures(alone), key
    assert seen[-1] == (10, 10) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_run_many_takes_a_list_of_jobs():
    results = run_many([(small(seed=1), 2), (small(seed=2), 2)])
    assert list(results) == [0, 1]
    assert _figures(results[1]) == _figures(run_replications(small(seed=2), range(2)))


def test_scheduler_address_from_the_environment(scheduler, monkeypatch):
    monkeypatch.setenv(SCHEDULER_ENV, scheduler)
    s = small(reps=3, seed=8)
    assert _figures(run_replications(s, range(3), engine="dask")) == _figures(run_replications(s, range(3)))


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="unknown engine 'threads'"):
        run_replications(small(), range(2), engine="threads")


def test_command_line_engines_give_the_same_json(scheduler):
    def run(*options):
        out = subprocess.run([sys.executable, "-m", "sim", "run", "--years", "2", "--reps", "4", "--seed", "13",
                              "--json", "-", *options], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    serial = run("--engine", "serial")
    assert run("--engine", "processes", "--workers", "2") == serial
    assert run("--engine", "dask", "--scheduler", scheduler) == serial


def test_worker_processes_are_started_once_and_kept():
    from sim.run.process_pool import process_pool

    s = small(reps=4, seed=2)
    run_replications(s, range(4), engine="processes", workers=2)
    pool = process_pool(2)
    run_replications(s, range(4), engine="processes", workers=2)
    assert process_pool(2) is pool


def test_one_set_of_run_options_for_every_way_of_running():
    """The run options are declared once (sim.run.options.RunOptions): as an object or as keywords,
    the same for a scenario, a precision rule, a market and a batch; a misspelt one is refused with
    the options there are, never ignored."""
    import doctest

    from sim.run import options as run_options
    from sim.run.options import RunOptions
    from sim.run.runner import run_scenario

    assert doctest.testmod(run_options).failed == 0
    s = small(years=1, reps=2)
    as_object = run_scenario(s, options=RunOptions(engine="serial", event_log=True))
    as_keywords = run_scenario(s, engine="serial", event_log=True)
    assert as_object.summary.equals(as_keywords.summary) and as_object.events is not None
    with pytest.raises(TypeError, match="unknown run option keep_log; the options are engine, workers"):
        run_scenario(s, keep_log=True)
    with pytest.raises(ValueError, match="unknown engine 'threads'"):
        RunOptions(engine="threads")
