"""The Dask engine on a real cluster: a scheduler and two workers started as separate processes on
the loopback address, as on separate machines.  A market's replications run on it give the serial
engine's results exactly, and still do when a worker is killed mid-run (its replications rerun on
the other)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading

import pytest

from sim.run.dask_engine import close_dask
from sim.run.market_runner import run_market
from sim.scenario.market_file import load_market
from tests.app_server import free_port
from tests.test_market import AGENCIES, write_market

distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed")

SETTINGS = "years = 4\nwarm_up_years = 1\nreplications = 16\n"


@contextlib.contextmanager
def loopback_cluster(workers: int = 2):
    """A scheduler and ``workers`` single-threaded workers, each its own process (no nanny, so a
    killed worker stays dead); its address, the workers' processes and a client to watch it."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED="False")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "start_new_session": True}
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", str(port), "--no-dashboard"], **quiet)]
    watcher = None
    try:
        for k in range(workers):
            procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                                           "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"worker-{k}",
                                           "--host", "127.0.0.1"], **quiet))
        watcher = distributed.Client(address, timeout=60)
        watcher.wait_for_workers(workers, timeout=120)
        yield address, procs[1:], watcher
    finally:
        if watcher is not None:
            watcher.close()
        close_dask()
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)


def test_a_market_on_a_cluster_of_separate_processes_gives_the_serial_results(tmp_path):
    market = load_market(write_market(tmp_path, AGENCIES, SETTINGS))
    serial = run_market(market, engine="serial")
    with loopback_cluster() as (address, _, _):
        on_cluster = run_market(market, engine="dask", scheduler=address, workers=2)
    assert on_cluster.ledger_replications.equals(serial.ledger_replications)
    assert on_cluster.agency_replications.equals(serial.agency_replications)


def test_a_worker_killed_mid_run_loses_nothing(tmp_path):
    market = load_market(write_market(tmp_path, AGENCIES, SETTINGS))
    serial = run_market(market, engine="serial")
    killed = threading.Event()
    with loopback_cluster() as (address, workers, watcher):
        def progress(done: int, total: int) -> None:
            if done >= 2 and not killed.is_set():  # the run is under way on both workers: one dies
                busy = [w for w, tasks in watcher.processing().items() if tasks]
                victim = workers[0]
                os.killpg(victim.pid, signal.SIGKILL)
                victim.wait(30)
                killed.set()
                assert busy, "no worker was running a task when one was killed"

        on_cluster = run_market(market, engine="dask", scheduler=address, workers=2, progress=progress)
        left = len(watcher.scheduler_info()["workers"])
    assert killed.is_set() and left == 1
    assert on_cluster.ledger_replications.equals(serial.ledger_replications)
    assert on_cluster.agency_replications.equals(serial.agency_replications)


def test_the_cluster_benchmark_reports_each_worker_s_rate_and_memory(tmp_path, capsys):
    import json

    from sim.cli import main

    with loopback_cluster() as (address, _, _):
        assert main(["bench", "--market", "--scheduler", address, "--quick", "--json", str(tmp_path / "b.json")]) == 0
    out = capsys.readouterr().out
    assert f"Cluster benchmark: {address}, 2 workers" in out and "per worker; peak memory per worker" in out
    figures = json.loads((tmp_path / "b.json").read_text())
    assert figures["workers"] == 2 and figures["replication_years_per_second_per_worker"] > 0
    assert len(figures["peak_memory_mb"]) == 2 and min(figures["peak_memory_mb"]) > 10


def test_the_cluster_benchmark_needs_a_market_and_a_scheduler_address(capsys):
    from sim.cli import main

    assert main(["bench", "--scheduler", "tcp://127.0.0.1:8786"]) == 2
    assert main(["bench", "--market", "--scheduler", "not-an-address"]) == 2
    err = capsys.readouterr().err
    assert "use it with --market" in err and "is not a Dask scheduler address" in err
