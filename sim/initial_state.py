"""The stocks a run starts from: households and children already part-way through.

A report's year-end stocks (households in stage 1 and 2, approved adopters waiting,
children with a plan, with an order, placed) can be given in ``[initial_state]``.  Each
entity starts part-way through its stage: the time already spent is a uniform fraction of a
typical stay, an approximation that the warm-up years (``scenario.warm_up_years``) then
wash out.

Children in care proceedings before their plan, which no report counts, start at their
steady level: a Poisson number with mean (groups entering a day) x (mean days from entering
care to the plan), as for any stage that every arrival passes through (Little's law), each
with a length-biased duration and a uniform share of it already gone.  Without them the
flow of plans, orders and adoption orders would start from nothing and take a child's whole
journey (two to three years) to reach its level.  They do not seek early permanence (its
window, the first weeks in care, has mostly passed).  Likewise past adopters who will come
back for a second child (``return_share``, after ``return_after_days``) start at their steady
number, taking every group given an order as adopted by one family; without them second-time
adopters would first appear years into the run and approvals would drift upwards.  Enquiries
in progress (weeks) start empty and fill within the first months.
"""

from __future__ import annotations

from sim.children import INHOUSE, court_stage, family_finding, group_rate_per_day, new_group, order_phase
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

    _children_in_proceedings(p)
    _returning_adopters(p)
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


def _children_in_proceedings(p) -> None:
    """Groups part-way through care proceedings, before the plan, at their steady number."""
    env, c, s = p.env, p.scenario.children, p.streams["initial_state"]
    before_plan = max(0.0, c.proceedings_weeks * 7 - c.plan_before_order_days)
    for _ in range(s.poisson(group_rate_per_day(c) * before_plan)):
        # entering care to the order, length-biased (a long case is more likely to be under way):
        # for a lognormal duration that is a lognormal with the mean times (1 + cv^2)
        days = s.lognormal(c.proceedings_weeks * 7 * (1.0 + c.proceedings_cv ** 2), c.proceedings_cv)
        to_plan = max(0.0, days - c.plan_before_order_days)
        elapsed = s.uniform() * to_plan
        g = new_group(p, -elapsed)
        p.census.enter(g, "in_proceedings")
        env.process(court_stage(p, g, to_plan - elapsed, days - elapsed))


def _returning_adopters(p) -> None:
    """Past adopters due to return for a second child, at their steady number, each part-way
    through the time before returning."""
    env, a, c, s = p.env, p.scenario.adopters, p.scenario.children, p.streams["initial_state"]
    families_a_day = group_rate_per_day(c) * c.order_granted_share
    for _ in range(s.poisson(families_a_day * a.return_share * a.return_after_days)):
        h = p.new_household()
        p.census.enter(h, "between_adoptions")
        env.process(household_journey(p, h, "between_adoptions", s.uniform() * a.return_after_days))


def _child(p, state: str, entry_t: float):
    """A single child (initial stocks are given in children) entered at day ``entry_t``."""
    g = new_group(p, entry_t)
    g.size, g.ep_candidate = 1, False
    p.census.enter(g, state)
    return g

