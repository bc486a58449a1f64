"""Conservation: every household and child is in exactly one state at every time, and the
counts at each stage reconcile."""

from collections import defaultdict

from sim.model.census import CHILD, HOUSEHOLD, STATES
from sim.model.kpis import COUNT, KPI_BY_NAME, KPI_NAMES
from sim.model.pipeline import run_replication
from tests.conftest import small


def _replay(log):
    """Rebuild each entity's state from the event log, checking every change starts where
    the entity was."""
    where = {}
    for t, kind, eid, _size, old, new in log:
        key = (kind, eid)
        if old is None:
            assert key not in where or eid == -1, f"{key} entered twice"
        else:
            assert where.get(key) == old, f"{key} moved from {old} but was in {where.get(key)} at day {t}"
        where[key] = new
    return where


def test_every_entity_in_exactly_one_known_state():
    s = small(years=4, warm_up=0, matching={"split_sibling_groups": True, "split_after_days": 200})
    for rep in range(3):
        r = run_replication(s, rep, event_log=True)
        _replay([e for e in r.log if e[2] != -1])  # closed enquiries are counted in batches
        for (kind, state), n in r.census.items():
            assert n >= 0, f"negative count in {kind}/{state}"
            assert state in STATES[kind], f"unknown state {state}"
        for kind in (HOUSEHOLD, CHILD):
            in_states = sum(n for (k, _), n in r.census.items() if k == kind)
            assert in_states == r.entered[kind], f"{kind}: {in_states} in states, {r.entered[kind]} entered"


def test_log_and_census_agree():
    r = run_replication(small(years=3, warm_up=0), 0, event_log=True)
    where = _replay([e for e in r.log if e[2] != -1])
    sizes = {(e[1], e[2]): e[3] for e in r.log}
    counts = defaultdict(int)
    for key, state in where.items():
        if state != "split":
            counts[key[0], state] += sizes[key]
    closed = sum(e[3] for e in r.log if e[2] == -1)
    counts[HOUSEHOLD, "enquiry_closed"] += closed
    assert {k: v for k, v in counts.items() if v} == {k: v for k, v in r.census.items() if v}


def test_flows_reconcile_across_stages():
    """From an empty start (no stocks at day 0: nobody placed, waiting or in assessment), nothing
    leaves a stage it never entered."""
    empty = {name: 0 for name in ("households_stage1", "households_stage2", "adopters_waiting", "children_with_plan",
                                  "children_waiting_with_po", "children_placed_awaiting_order")}
    r = run_replication(small(years=5, warm_up=0, adopters={"return_share": 0.0}, initial_state=empty), 1)
    k = {name: sum(r.kpis[name]) for name in KPI_NAMES if KPI_BY_NAME[name].kind == COUNT}
    assert k["registrations"] > 0 and k["registrations"] <= k["enquiries"]
    assert k["stage2_starts"] <= k["registrations"]
    assert k["approvals"] <= k["stage2_starts"]
    assert k["placement_orders"] + k["plans_declined"] <= k["plans_for_adoption"]
    assert k["placements"] <= k["matches"]
    assert k["adoption_orders"] <= k["placements"]
    assert k["inhouse_placements"] + k["interagency_placements"] == k["placements"]
    assert k["interagency_placements_vaa"] + k["interagency_placements_la"] == k["interagency_placements"]
