"""The stocks a run starts from: households and children already part-way through.

A report's year-end stocks (households in stage 1 and 2, approved adopters waiting,
children with a plan, with an order, placed) can be given in ``[initial_state]``.  Each
entity starts part-way through its stage: the time already spent is a uniform fraction of a
typical stay, an approximation that the warm-up years (``scenario.warm_up_years``) then
wash out.  Stages the reports do not give (enquiries in progress, children in care
proceedings before a plan) start empty, which the warm-up also fills.
"""

from __future__ import annotations

from sim.children import INHOUSE, court_stage, family_finding, new_group, order_phase
from sim.households import draw_offer, household_journey


def seed_initial_state(p) -> None:
    """Create the initial stocks at day 0 and start their processes."""
    env, init, s = p.env, p.scenario.initial_state, p.streams["initial_state"]
    a, c = p.scenario.adopters, p.scenario.children
    for start, n, typical in (("stage1", init.households_stage1, a.stage1_days),
                              ("stage2", init.households_stage2, a.stage2_days)):
        for _ in range(n):
            h = p.new_household()
            p.census.enter(h, start)
            env.process(household_journey(p, h, start, s.uniform() * typical))
    for _ in range(init.adopters_waiting):
        h = p.new_household()
        p.census.enter(h, "approved_waiting")
        draw_offer(p, h)
        env.process(household_journey(p, h, "approved_waiting"))

    for _ in range(init.children_with_plan):
        g = _child(p, "plan", -s.uniform() * c.proceedings_weeks * 7)
        order_t = s.uniform() * c.plan_before_order_days
        env.process(court_stage(p, g, 0.0, order_t, plan_counted=True))
    for _ in range(init.children_waiting_with_po):
        g = _child(p, "waiting", -c.proceedings_weeks * 7 - s.uniform() * 365.0)
        g.order_t = -s.uniform() * 365.0
        env.process(family_finding(p, g))
    for _ in range(init.children_placed_awaiting_order):
        elapsed = s.uniform() * p.scenario.placement.order_days
        g = _child(p, "placed", -elapsed - c.proceedings_weeks * 7 - 180.0)
        g.order_t = g.placed_t = g.match_t = -elapsed
        h = p.new_household()
        draw_offer(p, h)
        p.census.enter(h, "placed")
        env.process(household_journey(p, h, "placed"))
        env.process(order_phase(p, g, h, INHOUSE, elapsed))


def _child(p, state: str, entry_t: float):
    """A single child (initial stocks are given in children) entered at day ``entry_t``."""
    g = new_group(p, entry_t)
    g.size, g.ep_candidate = 1, False
    p.census.enter(g, state)
    return g

