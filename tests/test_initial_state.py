"""The state a run starts from: the report's stocks, and the stages no report counts at their steady level."""

import math

import pytest

from sim.model.census import CHILD, HOUSEHOLD
from sim.model.children import group_rate_per_day
from sim.model.pipeline import start
from tests.conftest import small


def _seeded(p, kind: str, state: str) -> int:
    """How many ``p``'s set-up seeded in ``state``: entries into it in its event log (journeys begin
    as they are seeded, so a few have moved on by the time ``start`` returns, as a household seeded
    late in stage 1 whose stage 1 ends on day 0)."""
    return sum(size for _, k, _, size, old, new in p.census.log if k == kind and old is None and new == state)


def _mean_at_start(scenario, kind: str, state: str, reps: int = 30) -> float:
    return sum(_seeded(start(scenario, rep, event_log=True), kind, state) for rep in range(reps)) / reps


def test_children_in_proceedings_start_at_their_steady_number():
    """Children entering a day x days from entering care to the plan (Little's law)."""
    s = small(children={"entering_per_year": 400.0})
    c = s.children
    want = c.entering_per_year / 365.25 * (c.proceedings_weeks * 7 - c.plan_before_order_days)
    mean_size = sum((i + 1) * q for i, q in enumerate(c.sibling_group_probs))
    sd_of_mean = math.sqrt(want * mean_size / 30)  # Poisson groups, each of mean_size children
    assert abs(_mean_at_start(s, CHILD, "in_proceedings") - want) < 4 * sd_of_mean


def test_returning_adopters_start_at_their_steady_number():
    """Families adopting a day x the share returning x the days before they return."""
    s = small(children={"entering_per_year": 400.0}, adopters={"return_share": 0.5})
    want = (group_rate_per_day(s.children) * s.children.order_granted_share * s.adopters.return_share
            * s.adopters.return_after_days)
    assert abs(_mean_at_start(s, HOUSEHOLD, "between_adoptions") - want) < 4 * math.sqrt(want / 30)


def test_no_children_entering_means_none_part_way_either():
    s = small(children={"entering_per_year": 0.0})
    assert _mean_at_start(s, CHILD, "in_proceedings", reps=3) == 0
    assert _mean_at_start(s, HOUSEHOLD, "between_adoptions", reps=3) == 0


def test_seeded_children_reach_their_plan_and_order_in_what_remains_of_proceedings():
    """With fixed durations each child seeded part-way through proceedings gets its plan
    ``proceedings - plan_before_order - elapsed`` days into the run and its order ``plan_before_order`` later."""
    s = small(years=2, warm_up=0, children={"entering_per_year": 200.0, "proceedings_cv": 0.0,
                                            "proceedings_weeks": 30.0, "plan_before_order_days": 60.0})
    p = start(s, 0, event_log=True)
    p.env.run(until=400.0)
    times: dict[int, dict[str, float]] = {}
    for t, kind, ident, _size, _old, state in p.census.log:
        if kind == CHILD:
            times.setdefault(ident, {}).setdefault(state, t)
    seeded = [w for w in times.values() if w.get("in_proceedings") == 0.0 and "plan" in w]
    assert len(seeded) > 10
    for w in seeded:
        assert 0.0 <= w["plan"] <= 30 * 7 - 60.0
        if "waiting" in w:
            assert w["waiting"] - w["plan"] == pytest.approx(60.0)
    assert sum("waiting" in w for w in seeded) > 10


def test_households_and_children_in_every_stage_start_at_their_steady_level():
    """Little's law for each stage no [initial_state] entry gives: arrivals a day x days in the stage."""
    s = small(adopters={"enquiries_per_month": 200.0}, children={"entering_per_year": 400.0})
    a, c = s.adopters, s.children
    registering = a.enquiries_per_month / (365.25 / 12) * a.registration_share
    want_stage1 = registering * a.stage1_days * (1 - a.stage1_withdrawal / 2)
    assert abs(_mean_at_start(s, HOUSEHOLD, "stage1") - want_stage1) < 4 * math.sqrt(want_stage1 / 30)
    orders = group_rate_per_day(c) * c.order_granted_share
    mean_size = sum((i + 1) * q for i, q in enumerate(c.sibling_group_probs))
    want_placed = orders * s.placement.order_days * mean_size
    assert abs(_mean_at_start(s, CHILD, "placed") - want_placed) < 4 * math.sqrt(want_placed * mean_size / 30)
    assert _mean_at_start(s, HOUSEHOLD, "approved_waiting") > 0
    assert _mean_at_start(s, CHILD, "waiting") > 0
    assert _mean_at_start(s, CHILD, "plan") > 0


def test_a_stock_given_in_the_initial_state_is_used_as_it_is():
    s = small(initial_state={"households_stage1": 7, "adopters_waiting": 0, "children_waiting_with_po": 11,
                             "children_placed_awaiting_order": 3})
    p = start(s, 0, event_log=True)
    assert _seeded(p, HOUSEHOLD, "stage1") == 7
    assert _seeded(p, HOUSEHOLD, "approved_waiting") == 0
    assert _seeded(p, CHILD, "waiting") == 11
    assert _seeded(p, CHILD, "placed") == 3
