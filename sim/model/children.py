"""Children on an adoption track: care proceedings, plan, placement order, family finding,
match, placement, adoption order, and disruption.

A group (one child or siblings placed together) enters care; care proceedings last a
random time ending in the court's decision on the placement order, and the agency
decision maker's plan for adoption comes ``plan_before_order_days`` before it.  Children
considered for early permanence look for a dual-approved household in their first weeks in
care and, if one is found, live with it before the order.  With an order, the agency's own
adopters are sought first (see :mod:`sim.model.matching`); after the in-house search window an
interagency family is found after a random search (longer for harder-to-place children, sooner
the more interagency families the national market offers), or, in a market of agencies run
together, offered by the market (:mod:`sim.model.market`).
While waiting, the plan may change, more often once the order is 18 months old.  A match
goes to panel and the decision maker, the child moves in, and the adoption order follows
unless the placement disrupts, which returns the child to waiting.
"""

from __future__ import annotations

import math

from sim.model.entities import ChildGroup
from sim.model.interagency_fee import LA, VAA, monthly_fee, placement_fee
from sim.model.panel import MATCH
from sim.scenario.calendar import MONTH_DAYS, YEAR_DAYS

INHOUSE = "inhouse"
EIGHTEEN_MONTHS_DAYS = 548
A1_THRESHOLD_DAYS = 426  # 14 months (DfE scorecard)
AGE_BANDS = ((0.0, 1.0), (1.0, 2.0), (2.0, 5.0), (5.0, 10.0))  # years: <1, 1, 2-4, 5+


def group_rate_per_day(c) -> float:
    """Groups (a child or siblings) entering care a day: children a year over the mean group size."""
    mean_size = sum((i + 1) * q for i, q in enumerate(c.sibling_group_probs))
    return c.entering_per_year / mean_size / YEAR_DAYS


def arrivals(p):
    """Groups of children entering care (Poisson), each starting its journey.

    Each gap is one exponential draw of unit mean (in expected arrivals) spent at the rate in
    force, month by month where the rate changes (a dated change or a trend), so the same
    draws give the same arrivals wherever the rate has not changed.  The process wakes on each
    day the scenario changes and reads the pipeline's timeline then, not before, so that a
    shared history continued as another scenario (:mod:`sim.model.history`) arrives at that
    scenario's rates; a day on which the rate does not change leaves the arithmetic as it was,
    so the same draws give the same days to the last bit whichever days the timeline marks."""
    env = p.env
    gaps = p.streams["child_arrivals"]
    rate = group_rate_per_day(p.scenario.children)
    t = 0.0
    while True:
        work = gaps.exponential(1.0)
        looked = t  # the gap is spent from t at ``rate``; the timeline has been read up to ``looked``
        while True:
            change = p.timeline.next_start(looked) if p.timeline is not None else math.inf
            if rate > 0 and work <= rate * (change - t):
                t += work / rate
                break
            if change == math.inf:
                return
            if env.now < change:
                yield env.timeout(change - env.now)
            new_rate = group_rate_per_day(p.timeline.at(change).children) if p.timeline is not None else rate
            if new_rate != rate:
                work -= rate * (change - t)
                t, rate = change, new_rate
            looked = change
        yield env.timeout(t - env.now)
        env.process(child_journey(p, new_group(p, env.now)))


def new_group(p, entry_t: float) -> ChildGroup:
    """Draw a group's size, age, needs and early permanence consideration."""
    c, s = p.scenario.children, p.streams["child_profile"]
    size = 1 + s.choice(c.sibling_group_probs)
    lo, hi = AGE_BANDS[s.choice(c.age_band_probs)]
    age = lo + (hi - lo) * s.uniform()
    return ChildGroup(p.new_child_id(), size, age, s.bernoulli(c.complex_needs_share),
                      s.bernoulli(c.early_permanence_share), entry_t)


def child_journey(p, g: ChildGroup):
    """From entering care to the adoption order (or a change of plan)."""
    env, c = p.env, p.scenario.children
    p.census.enter(g, "in_proceedings")
    order_t = env.now + p.streams["proceedings"].lognormal(c.proceedings_weeks * 7, c.proceedings_cv)
    plan_t = max(env.now, order_t - c.plan_before_order_days)
    window = min(c.early_permanence_window_days, plan_t - env.now)
    if g.ep_candidate and window > 0:
        yield from _seek_early_permanence(p, g, window)
    yield from court_stage(p, g, plan_t, order_t)


def _seek_early_permanence(p, g, window: float):
    household = yield p.matcher.add_ep_seeker(g, patience=window)
    if household is not None:
        g.ep_t = p.env.now
        p.tally.add("early_permanence_placements", p.env.now, g.size)


def court_stage(p, g, plan_t: float, order_t: float, plan_counted: bool = False):
    """The plan for adoption, then the court's decision; on an order, family finding."""
    env, c = p.env, p.scenario.children
    if not plan_counted:
        yield env.timeout(max(0.0, plan_t - env.now))
        p.tally.add("plans_for_adoption", env.now, g.size)
        if g.state == "in_proceedings":
            p.census.move(g, "plan")
    yield env.timeout(max(0.0, order_t - env.now))
    if not p.streams["court"].bernoulli(c.order_granted_share):
        p.tally.add("plans_declined", env.now, g.size)
        p.census.move(g, "plan_declined")
        if g.household is not None:  # early permanence carers: the child goes home
            g.household.outcome.succeed("returned")
        return
    g.order_t = env.now
    p.tally.add("placement_orders", env.now, g.size)
    yield from family_finding(p, g)


def family_finding(p, g):
    """Search, match, placement and order; a disruption starts the search again."""
    env, m = p.env, p.scenario.matching
    household, provider = g.household, INHOUSE
    while True:
        if household is None:
            household, provider = yield from _search(p, g)
            if provider is None:
                return
        if g.ep_t is None:
            yield env.timeout(m.link_to_panel_days)
        yield p.panel.hear(MATCH)
        yield env.timeout(p.scenario.panel.decision_days)
        g.match_t = env.now
        p.tally.add("matches", env.now, g.size)
        p.tally.add("families_matched", env.now)
        if g.state != "ep_placed":
            p.census.move(g, "matched")
            yield env.timeout(m.match_to_placement_days)
            if household is not None:
                (p.census if p.market is None else p.market.census_of(household)).move(household, "placed")
        p.census.move(g, "placed")
        _count_placement(p, g, provider)
        if (yield from order_phase(p, g, household, provider)):
            return
        household, provider, g.ep_t, g.household = None, INHOUSE, None, None


def _search(p, g):
    """Wait for a family: in-house link, interagency family, plan change or split.

    Returns (household, provider): (h, "inhouse"), (None, "vaa"/"la"), or (None, None)
    when the plan changed or the group was split.
    """
    env, m = p.env, p.scenario.matching
    now = env.now
    p.census.move(g, "waiting")
    p.searching[g] = None
    ia = p.streams["interagency"]
    if g.no_family is None:
        g.no_family = _no_family_comes_forward(p, g)
    if g.no_family:  # set apart: no in-house link and no interagency family, only a plan change or a split
        t_interagency = math.inf
    elif p.market is None:  # the interagency family comes from outside, after a random search
        search_from = max(now, g.order_t + m.inhouse_search_days)
        find_mean = interagency_find_mean(m, g.harder_to_place(search_from))
        t_interagency = search_from + ia.exponential(find_mean)
    else:  # in a market, other agencies' adopters are offered by the market's rounds
        t_interagency = math.inf
    t_change = _plan_change_time(p, g, now)
    t_split = (max(now, g.order_t + m.split_after_days)
               if m.split_sibling_groups and g.size > 1 else math.inf)
    t_next = min(t_interagency, t_change, t_split)
    ready = math.inf if g.no_family else now + p.streams["family_finding"].exponential(m.family_finding_days)
    if ready < t_next:
        yield env.timeout(ready - now)
        household = yield p.matcher.add_child(g, patience=t_next - ready)
        if household is not None:
            del p.searching[g]
            return household, (INHOUSE if p.market is None else p.market.provider(p, household))
    else:
        yield env.timeout(t_next - now)
    del p.searching[g]
    if t_next == t_change:
        p.census.move(g, "plan_changed")
        p.tally.add("plan_changes", env.now, g.size)
        return None, None
    if t_next == t_split:
        _split(p, g)
        return None, None
    p.census.move(g, "linked")
    return None, (VAA if ia.bernoulli(m.vaa_share) else LA)


def _no_family_comes_forward(p, g) -> bool:
    """Whether ``g`` is among the harder-to-place children for whom no family comes forward
    (``children.no_family_share``), drawn once, at its first search after the order."""
    share = p.scenario_at(p.env.now).children.no_family_share
    return share > 0 and g.harder_to_place(g.order_t) and p.streams["family_prospect"].bernoulli(share)


def interagency_find_mean(m, harder_to_place: bool) -> float:
    """Mean days to find an interagency family: the calibrated search, longer for a harder-to-place
    child, divided by the national sufficiency of interagency families (none found at 0)."""
    if m.interagency_sufficiency <= 0:
        return math.inf
    days = m.interagency_find_days * (m.harder_to_place_factor if harder_to_place else 1.0)
    return days / m.interagency_sufficiency


def _plan_change_time(p, g, now: float) -> float:
    """When the plan would change: a hazard that rises once the order is 18 months old."""
    c, s = p.scenario.children, p.streams["plan_change"]
    turn = g.order_t + EIGHTEEN_MONTHS_DAYS
    if now < turn:
        early = s.exponential(YEAR_DAYS / c.plan_change_per_year) if c.plan_change_per_year > 0 else math.inf
        if now + early < turn:
            return now + early
        now = turn
    rate = c.plan_change_per_year_after_18_months
    return now + (s.exponential(YEAR_DAYS / rate) if rate > 0 else math.inf)


def _split(p, g) -> None:
    """Place a sibling group's children separately: each continues as a group of one."""
    p.census.retire(g, "split")
    for _ in range(g.size):
        single = ChildGroup(p.new_child_id(), 1, g.age_at_entry, g.complex, False, g.entry_t)
        single.order_t = g.order_t
        p.census.enter(single, "waiting")
        p.env.process(family_finding(p, single))


def _count_placement(p, g, provider: str) -> None:
    env, t, n = p.env, p.env.now, g.size
    g.placed_t = t
    p.tally.add("placements", t, n)
    if n > 1:
        p.tally.add("sibling_group_placements", t)
    if provider == INHOUSE:
        p.tally.add("inhouse_placements", t, n)
        p.tally.observe("inhouse_share_pct", t, 100.0, n)
    else:
        p.tally.add("interagency_placements", t, n)
        p.tally.add("interagency_placements_vaa" if provider == VAA else "interagency_placements_la", t, n)
        p.tally.observe("inhouse_share_pct", env.now, 0.0, n)


def order_phase(p, g, household, provider: str, elapsed: float = 0.0):
    """From placement to the adoption order; True if adopted, False if the placement disrupted."""
    env, pl = p.env, p.scenario.placement
    s = p.streams["order"]
    days = s.lognormal(pl.order_days, pl.order_cv)
    if s.bernoulli(pl.challenge_share):
        days += pl.challenge_delay_days
    disrupts = p.streams["disruption"].bernoulli(pl.disruption_share)
    if disrupts:
        days *= p.streams["disruption"].uniform()
    if provider != INHOUSE:
        _book_fees(p, g, provider, household, g.placed_t, g.placed_t + days)
    yield env.timeout(max(0.0, days - elapsed))
    if disrupts:
        p.tally.add("disruptions", env.now)
        if household is not None:
            household.outcome.succeed("disrupted")
        return False
    _count_adoption(p, g)
    if household is not None:
        household.outcome.succeed("adopted")
    p.census.move(g, "adopted")
    return True


def _book_fees(p, g, provider: str, household, placed_t: float, end_t: float) -> None:
    """The fee at placement, and the monthly fee after 12 months without an order; in a market each
    is also booked to the agency that provided the household."""
    fees, tally, market = p.scenario.fees, p.tally, p.market
    fee = placement_fee(fees, provider, g.size, p.financial_year(placed_t))
    tally.add("interagency_fees_gbp", placed_t, fee)
    if market is not None:
        market.book(p, household, placed_t, fee, g.size)
    t = placed_t + YEAR_DAYS
    while t < end_t:
        fee = monthly_fee(p.scenario_at(t).fees, p.financial_year(t))
        tally.add("interagency_fees_gbp", t, fee)
        if market is not None:
            market.book(p, household, t, fee, 0)
        t += MONTH_DAYS


def _count_adoption(p, g) -> None:
    """Scorecard times for the children adopted (a group counts once per child)."""
    t, n, tally = p.env.now, g.size, p.tally
    tally.add("adoption_orders", t, n)
    moved_in = g.placed_t - g.entry_t
    a10 = (g.ep_t if g.ep_t is not None else g.placed_t) - g.entry_t
    tally.observe("a1_days", t, moved_in, n)
    tally.observe("a10_days", t, a10, n)
    tally.observe("a2_days", t, g.match_t - g.order_t, n)
    tally.observe("a20_days", t, g.order_t - g.entry_t, n)
    tally.observe("a3_pct", t, 100.0 if moved_in < A1_THRESHOLD_DAYS else 0.0, n)
    tally.observe("orders_within_12_months_pct", t, 100.0 if t - g.placed_t <= 365 else 0.0, n)
    tally.observe("ep_care_to_order_days" if g.ep_t is not None else "non_ep_care_to_order_days",
                  t, t - g.entry_t, n)
