"""The stocks a run starts from: households and children already part-way through.

Every stock starts at its **steady level** unless ``[initial_state]`` gives it: a Poisson
number with mean (arrivals a day) x (mean days in the stage), as for any stage that its
arrivals pass through (Little's law), worked out from the scenario's rates in the first month.
So a run starts near the level its rates sustain, and the warm-up
(``scenario.warm_up_years``) only has to settle what these rough levels miss (queues for a
social worker or a panel, who waits longest): year 1 and the years after show what the rates
and trends imply, not the filling of an empty pipeline.  The levels, per stage:

* enquiries on their way to registering: registrations a day x the days to register;
* households in stage 1 and in stage 2: registrations a day (after stage 1 withdrawals, for
  stage 2) x the stage's mean length (those who withdraw leave half-way, on average);
* approved adopters waiting: approvals a day x the mean time before a household can be
  linked plus a matching interval, or the mean time before it leaves, whichever is shorter;
* children in care proceedings (before and after their plan): groups entering a day x the
  mean length of proceedings, each with a length-biased duration and a uniform share of it
  gone (a long case is more likely to be under way), so those past their plan are children
  with a plan awaiting the order;
* children with an order waiting: orders a day x the family-finding time plus half the
  in-house and interagency searches;
* children placed awaiting the adoption order: orders a day x the mean placement-to-order time;
* past adopters who will come back for a second child (``return_share``, after
  ``return_after_days``).

A stock given in ``[initial_state]`` (say a report's year-end figures) is used as it is, in
single children, each part-way through a uniform fraction of a typical stay.

An **opening stock** (``opening_children_waiting_with_po``: the children with an order waiting at the
start of ``opening_year``, by default year 1, as a report gives the stock at the 31 March before its
year) is reached on that day, after the warm-up: single children are added, each with an order since
a uniform share of a year, until the children waiting number the opening stock (none are taken away
if more are waiting).  So a forecast starts from the agency's real position, a backlog included,
rather than from the level its rates settle at, and a year in which the waiting list grows can be
reproduced.  Enquiries in
progress (weeks) start empty and fill within the first months; early permanence seekers
(the first weeks in care) likewise.
"""

from __future__ import annotations

from sim.model.census import CHILD
from sim.model.children import INHOUSE, court_stage, family_finding, group_rate_per_day, new_group, order_phase
from sim.model.households import draw_offer, household_journey
from sim.model.journey import begin
from sim.scenario.calendar import MONTH_DAYS, YEAR_DAYS, parse_date


def seed_initial_state(p) -> None:
    """Create the initial stocks at day 0 and start their processes (and the opening stock's, if given)."""
    _households(p)
    _children_in_proceedings(p)
    _children_waiting(p)
    _children_placed(p)
    _returning_adopters(p)
    if p.scenario.initial_state.opening_children_waiting_with_po is not None:
        begin(opening_stock(p))


def opening_day(scenario) -> float:
    """The day (from the run's start) at which the opening stock holds: the start of its opening year."""
    run, init = scenario.scenario, scenario.initial_state
    year = parse_date(init.opening_year)[0] if init.opening_year else run.start_year
    return (year - (run.start_year - run.warm_up_years)) * YEAR_DAYS


def opening_stock(p):
    """On the opening day, add children with an order waiting until they number the opening stock."""
    yield p.env.timeout(max(0.0, opening_day(p.scenario) - p.env.now))
    c, s = p.scenario_at(p.env.now).children, p.streams["initial_state"]
    short = p.scenario.initial_state.opening_children_waiting_with_po - p.census.count(CHILD, "waiting")
    for _ in range(max(0, short)):
        waited = s.uniform() * YEAR_DAYS
        g = _child(p, "waiting", p.env.now - waited - c.proceedings_weeks * 7)
        g.order_t = p.env.now - waited
        begin(family_finding(p, g))


def registrations_per_day(a) -> float:
    """Households registering a day: enquiries a day x the share registering."""
    return a.enquiries_per_month / MONTH_DAYS * a.registration_share


def _households(p) -> None:
    init, s = p.scenario.initial_state, p.streams["initial_state"]
    a = p.scenario.adopters
    into_stage2 = registrations_per_day(a) * (1.0 - a.stage1_withdrawal)
    approvals = into_stage2 * (1.0 - a.stage2_withdrawal) * (1.0 - a.not_approved_share)
    leave_rate = a.deregistration_per_year + a.external_placement_per_year
    wait = p.scenario.matching.adopter_ready_days + p.scenario.matching.interval_days
    if leave_rate > 0:
        wait = min(wait, YEAR_DAYS / leave_rate)
    steady = {
        "stage1": registrations_per_day(a) * a.stage1_days * (1.0 - a.stage1_withdrawal / 2),
        "stage2": into_stage2 * a.stage2_days * (1.0 - a.stage2_withdrawal / 2),
    }
    to_register = a.enquiry_to_registration_days + MONTH_DAYS / 2  # an enquiry's wait to register, on average
    for _ in range(s.poisson(registrations_per_day(a) * to_register)):
        h = p.new_household()
        p.census.enter(h, "enquiry")
        begin(household_journey(p, h, "enquiry", s.uniform() * 2 * to_register))
    for start, given, typical in (("stage1", init.households_stage1, a.stage1_days),
                                  ("stage2", init.households_stage2, a.stage2_days)):
        for _ in range(given if given is not None else s.poisson(steady[start])):
            h = p.new_household()
            p.census.enter(h, start)
            begin(household_journey(p, h, start, s.uniform() * typical))
    given = init.adopters_waiting
    for _ in range(given if given is not None else s.poisson(approvals * wait)):
        h = p.new_household()
        p.census.enter(h, "approved_waiting")
        draw_offer(p, h)
        begin(household_journey(p, h, "approved_waiting"))


def _children_in_proceedings(p) -> None:
    """Groups part-way through care proceedings: at their steady number unless the children with
    a plan are given, in which case only those before their plan are seeded that way."""
    c, init, s = p.scenario.children, p.scenario.initial_state, p.streams["initial_state"]
    days = c.proceedings_weeks * 7
    with_plan = init.children_with_plan
    span = days if with_plan is None else max(0.0, days - c.plan_before_order_days)
    for _ in range(s.poisson(group_rate_per_day(c) * span)):
        # entering care to the order, length-biased (a long case is more likely to be under way):
        # for a lognormal duration that is a lognormal with the mean times (1 + cv^2)
        length = s.lognormal(days * (1.0 + c.proceedings_cv ** 2), c.proceedings_cv)
        to_plan = max(0.0, length - c.plan_before_order_days)
        elapsed = s.uniform() * (length if with_plan is None else to_plan)
        g = new_group(p, -elapsed)
        g.ep_candidate = False  # its early permanence window, the first weeks in care, is over or ignored
        planned = elapsed >= to_plan
        p.census.enter(g, "plan" if planned else "in_proceedings")
        begin(court_stage(p, g, to_plan - elapsed, length - elapsed, plan_counted=planned))
    for _ in range(with_plan or 0):
        g = _child(p, "plan", -s.uniform() * days)
        begin(court_stage(p, g, 0.0, s.uniform() * c.plan_before_order_days, plan_counted=True))


def orders_per_day(c) -> float:
    """Groups granted a placement order a day."""
    return group_rate_per_day(c) * c.order_granted_share


def _children_waiting(p) -> None:
    c, m, s = p.scenario.children, p.scenario.matching, p.streams["initial_state"]
    given = p.scenario.initial_state.children_waiting_with_po
    wait = m.family_finding_days + 0.5 * (m.inhouse_search_days + m.interagency_find_days)
    if given is None:
        for _ in range(s.poisson(orders_per_day(c) * wait)):
            waited = 2.0 * wait * s.uniform()
            g = _group(p, "waiting", -waited - c.proceedings_weeks * 7)
            g.order_t = -waited
            begin(family_finding(p, g))
        return
    for _ in range(given):
        g = _child(p, "waiting", -c.proceedings_weeks * 7 - s.uniform() * 365.0)
        g.order_t = -s.uniform() * 365.0
        begin(family_finding(p, g))


def _children_placed(p) -> None:
    c, s = p.scenario.children, p.streams["initial_state"]
    m = p.scenario.matching
    order_days = p.scenario.placement.order_days
    wait = m.family_finding_days + 0.5 * (m.inhouse_search_days + m.interagency_find_days)  # order to link
    given = p.scenario.initial_state.children_placed_awaiting_order
    n = given if given is not None else s.poisson(orders_per_day(c) * order_days)
    for _ in range(n):
        elapsed = s.uniform() * order_days
        g = _child(p, "placed", 0.0) if given is not None else _group(p, "placed", 0.0)
        g.placed_t = -elapsed
        g.match_t = g.placed_t - m.match_to_placement_days
        g.order_t = g.match_t - m.link_to_panel_days - wait * 2.0 * s.uniform()
        g.entry_t = g.order_t - c.proceedings_weeks * 7
        h = p.new_household()
        draw_offer(p, h)
        p.census.enter(h, "placed")
        begin(household_journey(p, h, "placed"))
        begin(order_phase(p, g, h, INHOUSE, elapsed))


def _returning_adopters(p) -> None:
    """Past adopters due to return for a second child, at their steady number, each part-way
    through the time before returning."""
    a, c, s = p.scenario.adopters, p.scenario.children, p.streams["initial_state"]
    for _ in range(s.poisson(orders_per_day(c) * a.return_share * a.return_after_days)):
        h = p.new_household()
        p.census.enter(h, "between_adoptions")
        begin(household_journey(p, h, "between_adoptions", s.uniform() * a.return_after_days))


def _group(p, state: str, entry_t: float, single: bool = False):
    """A group (drawn as arrivals are; one child if ``single``) entered at day ``entry_t``, not
    seeking early permanence."""
    g = new_group(p, entry_t)
    g.ep_candidate = False
    if single:
        g.size = 1
    p.census.enter(g, state)
    return g


def _child(p, state: str, entry_t: float):
    """A single child (initial stocks are given in children) entered at day ``entry_t``."""
    return _group(p, state, entry_t, single=True)
