"""The benchmark command runs and reports every figure (speed targets are checked by hand, not here)."""

import json
import subprocess
import sys


def test_quick_benchmark_prints_and_writes_the_figures(tmp_path):
    out_json = tmp_path / "bench.json"
    out = subprocess.run([sys.executable, "-m", "sim", "bench", "--quick", "--json", str(out_json)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    for fragment in ("bare simpy loop", "timeouts/s", "events/s", "ratio model / bare", "pending",
                     "ratio model / that", "replications, 1 process",
                     "speed-up", "results identical to serial: yes", "standard workload wall time",
                     "peak memory (ru_maxrss)", "by horizon", "by agency size", "peak KiB"):
        assert fragment in out.stdout, fragment
    figures = json.loads(out_json.read_text())
    for name in ("bare_simpy_timeouts_per_s", "model_events_per_s", "event_ratio", "model_queue_length",
                 "simpy_at_depth_timeouts_per_s", "event_ratio_at_depth", "serial_replications_per_s",
                 "parallel_replications_per_s", "speedup", "standard_workload_wall_s", "peak_rss_mib"):
        assert figures[name] > 0, name
    assert figures["parallel_equals_serial"] is True
    assert len(figures["horizon_growth"]) == 2 and len(figures["size_growth"]) == 2
    assert all(row["events_per_replication"] > 0 and row["peak_kib"] > 0
               for row in figures["horizon_growth"] + figures["size_growth"])


def test_event_count_is_every_event_simpy_processes(monkeypatch):
    """``count_events`` gives the same number as counting each call of ``Environment.step``."""
    import simpy

    from sim.model import run_replication
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


def _model_garbage(objects: list) -> list:
    """The objects among ``objects`` that the model made: instances of its own or simpy's classes,
    and generators (its processes) whose code lives in either package.  Other threads (a
    Streamlit session, an executor's manager) may leave cyclic garbage of their own meanwhile;
    that is not the model's and is not counted."""
    import os

    import simpy

    import sim

    homes = tuple(os.path.dirname(m.__file__) for m in (sim, simpy))

    def made_by_model(o) -> bool:
        if (type(o).__module__ or "").split(".")[0] in ("sim", "simpy"):
            return True
        code = getattr(o, "gi_code", None) or getattr(o, "f_code", None)
        return code is not None and code.co_filename.startswith(homes)

    return [o for o in objects if made_by_model(o)]


def test_a_run_leaves_no_reference_cycles_behind():
    """Memory stays bounded with the garbage collector paused during a run (sim.model.collector_paused):
    everything the model lets go of is freed by reference counting."""
    import gc

    from sim.model import end_time, start
    from tests.conftest import small

    s = small(years=6, warm_up=1, matching={"split_sibling_groups": True, "split_after_days": 200},
              initial_state={"households_stage2": 5, "adopters_waiting": 5, "children_waiting_with_po": 5})
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # keep what a collection finds, to see whose it is
    try:
        p = start(s, 0)
        p.env.run(until=end_time(s))
        assert p.tally.results()["adoption_orders"][3] > 0
        gc.collect()  # the pipeline is still alive: nothing of the model's is unreachable yet
        leaked = _model_garbage(gc.garbage)
        assert not leaked, f"{len(leaked)} model objects in reference cycles, e.g. {leaked[:5]!r}"
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
