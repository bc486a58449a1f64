"""A shared history continued as a scenario gives that scenario's own run, figure for figure;
the history workers give the same results as every other engine, keep histories between runs,
and a lost worker costs time, not results."""

import json
import os
import signal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.history import branch_day, continue_as, history_key, simulate_history
from sim.model.pipeline import run_replication
from sim.planning.levers import LEVER_BY_KEY, apply_levers, lever_values
from sim.run import shared_history
from sim.run.execution import run_replications
from sim.scenario.files import built_in_baseline
from tests.conftest import small


def _figures(results):
    """Replication numbers, KPIs (NaN-safe) and final census, for exact comparison."""
    return [(r.replication, json.dumps(r.kpis), sorted(r.census.items()), sorted(r.entered.items()))
            for r in results]


@pytest.fixture(scope="module")
def base():
    return built_in_baseline()


def _what_ifs(base):
    """What-ifs a planner makes of the built-in baseline (trends to the report year, parameter
    sets by replication): each lever kind, a later start, a time-limited campaign."""
    return {
        "baseline": base,
        "campaign": apply_levers(base, {"campaign_pct": 30.0}),
        "campaign later, for 6 months": apply_levers(base, {"campaign_pct": 40.0}, start="2024-10",
                                                     campaign_months=6),
        "enquiries": apply_levers(base, {"enquiries_per_month": 30.0}),
        "stage 2 shorter": apply_levers(base, {"stage2_days": 150.0}),
        "more social workers": apply_levers(base, {"assessing_social_workers": 9.0}),
        "more children from 2024-25": apply_levers(base, {"entering_per_year": 90.0}, start="2024-25"),
        "more sibling groups from 2026-01": apply_levers(base, {"sibling_group_share": 50.0}, start="2026-01"),
    }


def test_what_ifs_of_a_baseline_share_its_history(base):
    keys = {history_key(s) for s in _what_ifs(base).values()}
    assert len(keys) == 1
    assert history_key(small(years=3)) != history_key(small(years=4))  # the years are part of it


@pytest.mark.parametrize("name", ["baseline", "campaign", "campaign later, for 6 months", "enquiries",
                                  "stage 2 shorter", "more social workers", "more children from 2024-25",
                                  "more sibling groups from 2026-01"])
def test_a_history_continued_as_a_what_if_is_its_own_run(base, name):
    scenario = _what_ifs(base)[name]
    for r in range(2):
        continued = continue_as(simulate_history(base, r), scenario, r)
        assert _figures([continued]) == _figures([run_replication(scenario, r)])


def test_a_what_ifs_history_continues_as_the_baseline(base):
    campaign = _what_ifs(base)["campaign"]
    for r in range(2):
        assert _figures([continue_as(simulate_history(campaign, r), base, r)]) == _figures([run_replication(base, r)])


def test_a_baseline_without_trends_or_parameter_sets():
    plain = small(years=3, warm_up=2, initial_state={"households_stage2": 4, "children_waiting_with_po": 3})
    what_if = apply_levers(plain, {"campaign_pct": 50.0})
    assert branch_day(plain) == 3 * 12 * 30.4375  # April after year 1
    for r in range(3):
        history = simulate_history(plain, r)
        assert history.env.now == branch_day(plain)
        assert _figures([continue_as(history, what_if, r)]) == _figures([run_replication(what_if, r)])


LEVERS = ["campaign_pct", "enquiries_per_month", "stage2_days", "assessing_social_workers", "older_share",
          "entering_per_year", "sibling_group_share"]


@settings(max_examples=10, deadline=None)
@given(key=st.sampled_from(LEVERS), factor=st.floats(0.5, 2.0), start=st.sampled_from(["2023-24", "2023-07",
                                                                                       "2024-25", "2026-01"]),
       replication=st.integers(0, 50))
def test_any_lever_from_any_date_continues_exactly(base, key, factor, start, replication):
    """A lever moved to between half and twice the value it shows (within its range), from any date."""
    lever = LEVER_BY_KEY[key]
    value = max(1.0, lever_values(base)[key]) * factor
    value = min(max(value, lever.lo if lever.lo is not None else value), lever.hi if lever.hi is not None else value)
    if lever.integer:
        value = round(value)
    what_if = apply_levers(base, {key: value}, start=start)
    continued = continue_as(simulate_history(base, replication), what_if, replication)
    assert _figures([continued]) == _figures([run_replication(what_if, replication)])


def test_a_children_lever_continues_to_the_last_bit():
    """Found by the test above: the children's arrivals read the timeline at each day it marks, so
    a history continued as a what-if that changes children's numbers arrives at the what-if's rates,
    and a day the history marked without a change of rate leaves every arrival day as it was."""
    base = built_in_baseline()
    for what_if in (apply_levers(base, {"campaign_pct": 1.0}, start="2024-25"),
                    apply_levers(base, {"entering_per_year": 90.0}, start="2024-25")):
        for replication in (0, 35):
            continued = continue_as(simulate_history(base, replication), what_if, replication)
            assert _figures([continued]) == _figures([run_replication(what_if, replication)])


@pytest.fixture
def workers():
    """Fresh history workers, stopped afterwards (their histories would otherwise reach other tests)."""
    if not shared_history.available():
        pytest.skip("history workers need os.fork on Linux")
    shared_history.stop_history_workers()
    yield shared_history.history_workers(2)
    shared_history.stop_history_workers()


def test_history_workers_give_the_serial_results_and_keep_histories(workers):
    plain = small(years=3, warm_up=2, seed=11)
    what_if = apply_levers(plain, {"campaign_pct": 50.0})
    baseline = run_replications(plain, range(5), engine="processes", workers=2, share_history=True)
    assert _figures(baseline) == _figures(run_replications(plain, range(5)))
    assert workers.histories == {"made": 5, "kept": 0}
    more = run_replications(what_if, range(7), engine="processes", workers=2, share_history=True)
    assert _figures(more) == _figures(run_replications(what_if, range(7)))
    assert workers.histories == {"made": 7, "kept": 5}  # replications 5 and 6 were new


def test_a_lost_worker_costs_time_not_results(workers):
    plain = small(years=3, warm_up=2, seed=12)
    run_replications(plain, range(4), engine="processes", workers=2, share_history=True)
    os.kill(workers.processes[0].pid, signal.SIGKILL)
    workers.processes[0].join(timeout=5)
    again = run_replications(plain, range(4), engine="processes", workers=2, share_history=True)
    assert _figures(again) == _figures(run_replications(plain, range(4)))


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic's, on dumping the broken scenario
def test_a_replication_error_reaches_the_caller(workers):
    """An error inside a replication is raised in the caller, as on the ordinary pool, and the
    workers serve the next run."""
    plain = small(years=3, warm_up=2, seed=13)
    broken = plain.model_copy(update={"scenario": plain.scenario.model_copy(update={"years": "three"})})
    with pytest.raises(TypeError, match="multiply"):
        run_replications(broken, range(2), engine="processes", workers=2, share_history=True)
    assert _figures(run_replications(plain, range(2), engine="processes", workers=2, share_history=True)) == \
        _figures(run_replications(plain, range(2)))


def test_a_worker_keeps_histories_within_its_memory_and_lets_the_oldest_go_first():
    store = shared_history._Store(budget=100)
    for r, size in enumerate((40, 40)):
        assert store.room_for(size, set())
        store.put("a", r, f"history {r}", size)
    assert not store.room_for(40, keep={("a", 0), ("a", 1)})  # both in use: nothing let go
    assert store.get("a", 0) == "history 0"  # now the most recently used
    assert store.room_for(40, keep=set()) and store.get("a", 1) is None and store.used == 40
    assert not store.room_for(101, keep=set()) and store.used == 0


def test_without_memory_for_histories_replications_run_whole_with_the_same_results(monkeypatch):
    if not shared_history.available():
        pytest.skip("history workers need os.fork on Linux")
    shared_history.stop_history_workers()
    monkeypatch.setattr(shared_history, "HISTORY_BUDGET_BYTES", 0)  # the workers are forked with it
    try:
        plain = small(years=3, warm_up=2, seed=14)
        what_if = apply_levers(plain, {"campaign_pct": 50.0})
        for scenario in (plain, what_if):
            got = run_replications(scenario, range(5), engine="processes", workers=2, share_history=True)
            assert _figures(got) == _figures(run_replications(scenario, range(5)))
        assert shared_history.history_workers(2).histories == {"made": 4, "kept": 0}  # one a worker a run
    finally:
        shared_history.stop_history_workers()
