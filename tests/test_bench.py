"""The benchmark command runs and reports every figure (speed targets are checked by hand, not here)."""

import json
import subprocess
import sys
from pathlib import Path


def test_quick_benchmark_prints_and_writes_the_figures(tmp_path):
    out_json = tmp_path / "bench.json"
    out = subprocess.run([sys.executable, "-m", "sim", "bench", "--quick", "--json", str(out_json)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    for fragment in ("bare simpy loop", "timeouts/s", "events/s", "ratio model / bare", "pending",
                     "ratio model / that", "replications, 1 process",
                     "speed-up", "results identical to serial: yes", "standard workload wall time",
                     "peak memory (ru_maxrss)", "by horizon", "by agency size", "peak KiB",
                     "click to chart (median)", "< 2 s:", "target finder", "< 15 s:"):
        assert fragment in out.stdout, fragment
    figures = json.loads(out_json.read_text())
    for name in ("bare_simpy_timeouts_per_s", "model_events_per_s", "event_ratio", "model_queue_length",
                 "simpy_at_depth_timeouts_per_s", "event_ratio_at_depth", "serial_replications_per_s",
                 "parallel_replications_per_s", "speedup", "standard_workload_wall_s", "peak_rss_mib"):
        assert figures[name] > 0, name
    assert figures["parallel_equals_serial"] is True
    assert (figures["years"], figures["wait_years"]) == (2, 2)  # the workload's horizon, and the waits' own
    assert figures["click_to_chart_s"] > 0 and 4 <= min(figures["click_replications"])
    assert all(seconds > 0 for seconds in figures["target_finder_s"].values())
    assert len(figures["horizon_growth"]) == 2 and len(figures["size_growth"]) == 2
    assert all(row["events_per_replication"] > 0 and row["peak_kib"] > 0
               for row in figures["horizon_growth"] + figures["size_growth"])

    from sim.run.bench_against import against, load_figures

    slower = dict(figures, model_events_per_s=figures["model_events_per_s"] / 2)
    side = against(slower, load_figures(str(out_json)), "then.json")
    assert "Against then.json" in side
    line = next(x for x in side.splitlines() if "model events/s" in x)
    assert line.rstrip().endswith("0.50x  worse")
    assert next(x for x in side.splitlines() if "events a replication" in x).rstrip().endswith("1.00x")


def test_against_refuses_a_file_that_is_not_benchmark_figures_before_running(tmp_path, capsys):
    from sim.cli import main

    (tmp_path / "other.json").write_text('{"scenario": "x"}')
    (tmp_path / "broken.json").write_text("{not json")
    assert main(["bench", "--against", str(tmp_path / "other.json")]) == 2
    assert main(["bench", "--against", str(tmp_path / "broken.json")]) == 2
    assert main(["bench", "--against", str(tmp_path / "missing.json")]) == 2
    assert main(["bench", "--market", "--against", str(tmp_path / "other.json")]) == 2
    err = capsys.readouterr().err
    assert "not the figures of `python -m sim bench --json`" in err and "not a JSON file" in err
    assert "missing.json" in err and "leave out --market" in err


def test_event_count_is_every_event_simpy_processes(monkeypatch):
    """``count_events`` gives the same number as counting each call of ``Environment.step``."""
    import simpy

    from sim.model.pipeline import run_replication
    from tests.conftest import small

    made = []

    class Counting(simpy.Environment):
        def __init__(self):
            super().__init__()
            self.steps = 0
            made.append(self)

        def step(self):
            self.steps += 1
            super().step()

    monkeypatch.setattr(simpy, "Environment", Counting)
    s = small(years=3, warm_up=1, matching={"split_sibling_groups": True, "split_after_days": 200},
              initial_state={"households_stage2": 5, "adopters_waiting": 5, "children_waiting_with_po": 5})
    for rep in range(3):
        r = run_replication(s, rep, count_events=True)
        assert r.events == made[-1].steps > 1000


_CYCLE_CHECK = """
import gc
from sim.model.pipeline import end_time, start
from tests.conftest import small

s = small(years=6, warm_up=1, matching={"split_sibling_groups": True, "split_after_days": 200},
          initial_state={"households_stage2": 5, "adopters_waiting": 5, "children_waiting_with_po": 5})
gc.collect()
gc.disable()
gc.set_debug(gc.DEBUG_SAVEALL)  # keep what a collection finds, to count it
p = start(s, 0)
p.env.run(until=end_time(s))
assert p.tally.results()["adoption_orders"][3] > 0
found = gc.collect()  # the pipeline is still alive: nothing of the run is unreachable yet
print(found, [type(o).__name__ for o in gc.garbage[:5]])
"""


def test_a_run_leaves_no_reference_cycles_behind():
    """Memory stays bounded with the garbage collector paused during a run (sim.model.pipeline.collector_paused):
    everything the model lets go of is freed by reference counting.

    The run happens in a fresh interpreter that imports only the model, so every object the
    collector finds there is the model's: no other test or thread (a Streamlit session, an
    executor's manager) can leave garbage of its own in the count."""
    out = subprocess.run([sys.executable, "-c", _CYCLE_CHECK], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.returncode == 0, out.stderr
    found, kinds = out.stdout.split(" ", 1)
    assert int(found) == 0, f"{found} objects in reference cycles, e.g. {kinds.strip()}"
