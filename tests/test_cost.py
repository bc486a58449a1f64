"""What a run will take is estimated before it starts, and a run beyond the limit is refused."""

import tracemalloc

import pytest

from sim.planning import run_limits
from sim.run import cost
from sim.run.runner import run_scenario
from sim.scenario.files import ScenarioError, load_scenario, scenario_from_dict
from tests.conftest import small


@pytest.mark.parametrize("sections", [
    {},
    {"adopters": {"enquiries_per_month": 40.0}},
    {"children": {"entering_per_year": 150.0}},
])
def test_the_estimate_of_events_matches_a_count(sections):
    s = small(years=2, warm_up=1, **sections)
    counted = cost.measure_events(s, replications=2)
    assert cost.events_per_replication(s) == pytest.approx(counted, rel=0.25)


def test_the_estimate_follows_dated_changes():
    base = small(years=4, warm_up=1)
    data = base.model_dump()
    data["change"] = [{"parameter": "adopters.enquiries_per_month", "start": "2023-24", "percent": 100.0}]
    doubled = scenario_from_dict(data, "test")
    assert cost.events_per_replication(doubled) > cost.events_per_replication(base)


def test_a_run_of_fifty_years_and_ten_thousand_replications_is_beyond_the_limit():
    s = load_scenario()
    data = s.model_dump()
    data["scenario"].update(years=50, replications=10_000)
    big = cost.estimate(scenario_from_dict(data, "test"), workers=2)
    assert big.beyond_limit()
    with pytest.raises(ScenarioError, match=r"10,000 replications x 50 years .* minutes on 2 cores .* --force"):
        cost.check_cost(big)
    assert not cost.estimate(load_scenario(), workers=2).beyond_limit()  # the default run is seconds


def test_time_and_memory_grow_with_replications():
    one, ten = cost.estimate(small(reps=100)), cost.estimate(small(reps=1000))
    assert ten.events == pytest.approx(10 * one.events)
    assert ten.seconds > one.seconds and ten.memory > one.memory


def test_workers_beyond_the_cores_are_refused_unless_forced(monkeypatch):
    monkeypatch.setattr(cost.os, "cpu_count", lambda: 2)
    with pytest.raises(ScenarioError, match="--workers: 256 is more than this machine's 2 cores.*or add --force"):
        cost.check_workers(256)
    cost.check_workers(256, force=True)
    cost.check_workers(2)
    with pytest.raises(ScenarioError, match="--workers: must be at least 1, got 0"):
        cost.check_workers(0, force=True)


def test_the_app_refuses_a_run_beyond_its_controls_with_what_it_would_take():
    s = load_scenario()
    assert run_limits.refusal(s, 100, 5) is None
    message = run_limits.refusal(s, 10_000, 50)
    assert message and "10,000 replications x 50 years" in message and "at most 30 years" in message
    assert run_limits.refusal(s, 2001, 5)


def _peak(replications: int) -> int:
    s = small(years=2, reps=replications, warm_up=0, adopters={"enquiries_per_month": 3.0},
              children={"entering_per_year": 6.0})
    tracemalloc.start()
    try:
        run_scenario(s)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_run_keeps_little_of_each_replication():
    """Each replication's KPIs are kept (for the intervals and the paired comparisons), but compactly: the
    traced peak grows by about 5.6 KB per replication-year (it was 15 KB when every replication's full
    result was kept, and its tables built from text columns)."""
    per_replication_year = (_peak(80) - _peak(20)) / 60 / 2
    assert per_replication_year < 8_000, per_replication_year


def test_a_busy_machine_makes_the_estimate_longer_but_not_the_limit(monkeypatch):
    s = load_scenario()
    monkeypatch.setattr(cost, "machine_cores", lambda: 2)
    monkeypatch.setattr(cost, "machine_load", lambda: 0.0)
    idle = cost.estimate(s, workers=2)
    monkeypatch.setattr(cost, "machine_load", lambda: 10.0)
    busy = cost.estimate(s, workers=2)
    # 2 cores shared with 10 others and the run's own 2: a sixth of a core each, six times the simulation's time
    assert busy.seconds == idle.seconds
    assert busy.busy_seconds - cost.START_SECONDS == pytest.approx(6 * (idle.seconds - cost.START_SECONDS))
    assert "at its present load" in busy.describe() and "at its present load" not in idle.describe()
