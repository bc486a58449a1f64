"""With every duration fixed (spread 0), stage times can be checked exactly in the event log."""

import pytest

from sim.model.pipeline import run_replication
from tests.conftest import small


@pytest.fixture(scope="module")
def fixed_run():
    s = small(
        years=4, warm_up=0,
        adopters={"stage1_cv": 0.0, "stage2_cv": 0.0, "stage1_days": 70.0, "stage2_days": 120.0,
                  "break_share": 0.0, "stage1_withdrawal": 0.0, "stage2_withdrawal": 0.0,
                  "assessing_social_workers": 100.0},
        children={"proceedings_cv": 0.0, "proceedings_weeks": 30.0, "plan_before_order_days": 60.0,
                  "early_permanence_share": 0.0, "order_granted_share": 1.0},
        placement={"order_cv": 0.0, "order_days": 200.0, "challenge_share": 0.0, "disruption_share": 0.0},
        matching={"match_to_placement_days": 21.0, "link_to_panel_days": 42.0},
    )
    return s, run_replication(s, 0, event_log=True)


def _times(log, kind):
    """Each entity's states and when it entered them, for entities that arrived during the run
    (those present at the start begin part-way through a stage)."""
    out, at_start = {}, set()
    for t, k, eid, _size, old, new in log:
        if k == kind and eid != -1:
            if t == 0.0 and old is None:
                at_start.add(eid)
            out.setdefault(eid, []).append((new, t))
    return {eid: steps for eid, steps in out.items() if eid not in at_start}


def test_stage_lengths_are_exact(fixed_run):
    _, r = fixed_run
    checked = 0
    for steps in _times(r.log, "household").values():
        when = dict(steps)
        if "stage1" in when and "stage2" in when:
            assert when["stage2"] - when["stage1"] == pytest.approx(70.0)
            checked += 1
        if "stage2" in when and "awaiting_decision" in when:
            assert when["awaiting_decision"] - when["stage2"] == pytest.approx(120.0)
    assert checked > 20


def test_child_timings_are_exact(fixed_run):
    _, r = fixed_run
    checked = 0
    for steps in _times(r.log, "child").values():
        when = dict(steps)
        entered_in_run = when.get("in_proceedings", 0.0) > 0  # not part-way through at the start
        if "plan" in when and entered_in_run:
            assert when["plan"] - when["in_proceedings"] == pytest.approx(30 * 7 - 60.0)
        if "waiting" in when and entered_in_run:
            assert when["waiting"] - when["in_proceedings"] == pytest.approx(30 * 7)
        if "matched" in when and "placed" in when:
            assert when["placed"] - when["matched"] == pytest.approx(21.0)
        if "placed" in when and "adopted" in when:
            assert when["adopted"] - when["placed"] == pytest.approx(200.0)
            checked += 1
    assert checked > 20


def test_scorecard_times_follow_from_fixed_durations(fixed_run):
    _, r = fixed_run
    for y in range(1, 4):
        assert r.kpis["a20_days"][y] == pytest.approx(210.0)
        assert r.kpis["orders_within_12_months_pct"][y] == 100.0
        # A1 = A20 + A2 + introductions, child by child, so also on average
        assert r.kpis["a1_days"][y] == pytest.approx(210.0 + r.kpis["a2_days"][y] + 21.0)
        assert r.kpis["stage1_within_2_months_pct"][y] == 0.0  # 70 days > 61
        assert r.kpis["stage2_within_4_months_pct"][y] == 100.0  # 120 days <= 122
