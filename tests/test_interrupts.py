"""Ctrl-C (SIGINT) and SIGTERM stop a run on several processes within a second or two: one line on
standard error (after the estimate a long run prints as it starts), exit status 130 or 143, no worker
process left running and no output file left behind."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")

ROOT = Path(__file__).resolve().parents[1]


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended while being read
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    """Whether ``pid`` is still a live process (a zombie has finished: only its exit status is left)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.parametrize("signum, status, message", [
    (signal.SIGINT, 130, "interrupted (Ctrl-C)"),
    (signal.SIGTERM, 143, "terminated (SIGTERM)"),
])
def test_a_signal_stops_a_run_and_its_workers(tmp_path, signum, status, message):
    out = tmp_path / "tables"
    run = subprocess.Popen([sys.executable, "-m", "sim", "run", "--workers", "2", "--reps", "1500", "--years", "10",
                            "--csv", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        started = time.monotonic()
        while len(workers := _children(run.pid)) < 2 and time.monotonic() - started < 60:
            time.sleep(0.1)
        assert len(workers) >= 2, "the worker processes did not start"
        time.sleep(0.5)
        sent = time.monotonic()
        run.send_signal(signum)
        _, stderr = run.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == status, stderr
    assert took < 3, f"took {took:.1f} s to stop"
    *before, last = stderr.strip().splitlines()  # before: what a long run would take, said as it starts
    assert last.startswith(message) and all(line.startswith("run: ") for line in before), stderr
    assert "Traceback" not in stderr and len(before) <= 1, stderr
    deadline = time.monotonic() + 2
    while any(_running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [w for w in workers if _running(w)], "worker processes survived"
    assert not out.exists() or list(out.iterdir()) == []  # nothing half written: the rerun is not blocked


@pytest.mark.parametrize("command", [["run", "--workers", "1", "--reps", "400", "--years", "10"],
                                     ["market", "east-of-england", "--workers", "1", "--reps", "50"]])
@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_serial_engine_cleanly(command, signum, status):
    """On the serial engine the signal arrives inside a simpy process, which rebuilds the exception from
    its arguments: the stop must survive that and exit with the shell's status and one line."""
    run = subprocess.Popen([sys.executable, "-m", "sim", *command], cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3.0)  # well inside the replications
        run.send_signal(signum)
        _, stderr = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == status, stderr
    assert "Traceback" not in stderr and "TypeError" not in stderr, stderr
    assert stderr.strip().splitlines()[-1].startswith(("interrupted", "terminated")), stderr


TARGETS = """[agency]
name = "Stopshire"
financial_year = "2022-23"
start_year = 2022
report = "synthetic.txt"
timing_only = false

[[target]]
figure = "placement_orders"
value = 24.0
source = "synthetic.txt §1"
sd = 4.9
use = true
"""


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("at", ["parameter sets", "report: year 1", "projection with no change"])
def test_a_stopped_calibration_leaves_nothing_that_blocks_its_rerun(tmp_path, at):
    """SIGTERM at any stage after the fit: exit 143 with one line, no output and no temporary file left,
    and the same command then runs to the end without --force."""
    targets = tmp_path / "stopshire.toml"
    targets.write_text(TARGETS, encoding="utf-8")
    out = tmp_path / "fit"
    command = [sys.executable, "-m", "sim", "calibrate", str(targets), "--out", str(out / "stopshire.toml"),
               "--reps", "4", "--report-reps", "400", "--max-iterations", "2", "--workers", "2",
               "--design", "300", "--candidates", "300"]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = []
    try:
        for line in run.stderr:
            seen.append(line)
            if line.startswith(at) or line.strip().startswith(at):
                time.sleep(0.3)
                run.send_signal(signal.SIGTERM)
                break
        _, rest = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    stderr = "".join(seen) + rest
    assert run.returncode == 143, stderr
    assert "Traceback" not in stderr
    assert not out.exists() or _files(out) == [], _files(out)
    again = subprocess.run([*command[:-4], "--design", "60", "--candidates", "100"], cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode in (0, 3), again.stderr
    assert "already exists" not in again.stderr
    assert (out / "stopshire-parameter-sets.csv").is_file() and (out / "stopshire.toml").is_file()
    assert not [f for f in _files(out) if f.startswith(".")]


def test_a_calibration_whose_output_is_a_folder_is_refused_before_it_runs(tmp_path):
    targets = tmp_path / "stopshire.toml"
    targets.write_text(TARGETS, encoding="utf-8")
    (tmp_path / "d.toml").mkdir()
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "sim", "calibrate", str(targets), "--out", str(tmp_path / "d.toml"),
                          "--force"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "is a folder" in out.stderr and "Traceback" not in out.stderr, out.stderr
    assert time.monotonic() - started < 30
    assert _files(tmp_path) == ["stopshire.toml"]


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        kids = _children(todo.pop())
        found += kids
        todo += kids
    return found


def _signal_once_ready(proc: subprocess.Popen, signum: int, ready, timeout: float = 30.0, settle: float = 0.3) -> str:
    """Wait until ``ready()`` (or ``timeout``), a moment more, send ``signum`` and collect standard error;
    the process is killed whatever happens."""
    try:
        started = time.monotonic()
        while not ready() and time.monotonic() - started < timeout:
            time.sleep(0.05)
        time.sleep(settle)
        proc.send_signal(signum)
        return proc.communicate(timeout=60)[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_a_stopped_benchmark_leaves_no_process_of_its_command_line_run():
    """bench runs the command line as a child, which has workers of its own: a SIGINT to the benchmark
    alone stops the child and its workers too (were left running for over a minute)."""
    bench = subprocess.Popen([sys.executable, "-m", "sim", "bench", "--quick"], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    for line in bench.stderr:
        if "command line run" in line:
            break
    family: list[int] = []

    def child_and_workers() -> bool:  # the command line run and its two workers
        family[:] = _descendants(bench.pid)
        return len(family) >= 3

    stderr = _signal_once_ready(bench, signal.SIGINT, child_and_workers)
    assert bench.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    deadline = time.monotonic() + 5
    while any(_running(p) for p in family) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert family and not [p for p in family if _running(p)], "processes of the benchmark's child survived"


def test_ctrl_c_on_the_dask_engine_ends_in_one_line():
    """The local Dask cluster's workers say nothing as they are stopped: one line, exit 130."""
    pytest.importorskip("distributed")
    run = subprocess.Popen([sys.executable, "-m", "sim", "run", "--engine", "dask", "--reps", "400", "--years", "10"],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr = _signal_once_ready(run, signal.SIGINT, lambda: len(_descendants(run.pid)) >= 3, timeout=60,
                                settle=3.0)  # the workers are computing
    assert run.returncode == 130, stderr
    lines = [line for line in stderr.strip().splitlines() if not line.startswith("run: ")]
    assert lines == [lines[-1]] and lines[-1].startswith("interrupted (Ctrl-C)"), stderr
    assert "Traceback" not in stderr and "CancelledError" not in stderr and "WARNING" not in stderr
