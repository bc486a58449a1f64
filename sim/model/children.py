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
from typing import TYPE_CHECKING

from sim.model.entities import ChildGroup, Household
from sim.model.interagency_fee import LA, VAA, monthly_fee, placement_fee
from sim.model.journey import begin
from sim.model.panel import MATCH
from sim.scenario.calendar import MONTH_DAYS, YEAR_DAYS

if TYPE_CHECKING:  # the pipeline runs these processes; it imports this module
    from sim.model.pipeline import Pipeline
    from sim.scenario.parameters import Children, Matching

INHOUSE = "inhouse"
EIGHTEEN_MONTHS_DAYS = 548
A1_THRESHOLD_DAYS = 426  # 14 months (DfE scorecard)
AGE_BANDS = ((0.0, 1.0), (1.0, 2.0), (2.0, 5.0), (5.0, 10.0))  # years: <1, 1, 2-4, 5+


def group_rate_per_day(children_params: Children) -> float:
    """Groups (a child or siblings) entering care a day: children a year over the mean group size."""
    mean_size = sum((i + 1) * q for i, q in enumerate(children_params.sibling_group_probs))
    return children_params.entering_per_year / mean_size / YEAR_DAYS


def arrivals(pipeline: Pipeline):
    """Groups of children entering care (Poisson), each starting its journey.

    Each gap is one exponential draw of unit mean (in expected arrivals) spent at the rate in
    force, month by month where the rate changes (a dated change or a trend), so the same
    draws give the same arrivals wherever the rate has not changed.  The process wakes on each
    day the scenario changes and reads the pipeline's timeline then, not before, so that a
    shared history continued as another scenario (:mod:`sim.model.history`) arrives at that
    scenario's rates; a day on which the rate does not change leaves the arithmetic as it was,
    so the same draws give the same days to the last bit whichever days the timeline marks.

    Groups arriving within a month of the process's last wake are started at once, each booked
    to enter care on its own day (no event of its own): the month never reaches past a day the
    scenario changes, on which the process wakes anyway, so each is drawn from the parameters in
    force on the day it enters."""
    env = pipeline.env
    gaps = pipeline.streams["child_arrivals"]
    rate = group_rate_per_day(pipeline.scenario.children)
    t, ahead = 0.0, MONTH_DAYS
    while True:
        work = gaps.exponential(1.0)
        looked = t  # the gap is spent from t at ``rate``; the timeline has been read up to ``looked``
        while True:
            change = pipeline.timeline.next_start(looked) if pipeline.timeline is not None else math.inf
            if rate > 0 and work <= rate * (change - t):
                t += work / rate
                break
            if change == math.inf:
                return
            if env.now < change:
                yield env.timeout(change - env.now)
            new_rate = group_rate_per_day(pipeline.timeline.at(change).children) if pipeline.timeline is not None else rate
            if new_rate != rate:
                work -= rate * (change - t)
                t, rate = change, new_rate
            looked = change
        if t > ahead:  # beyond the month drawn ahead: wait for it, and draw the month from it
            yield env.timeout(t - env.now)
            ahead = env.now + MONTH_DAYS
        begin(child_journey(pipeline, new_group(pipeline, t)))


def new_group(pipeline: Pipeline, entry_t: float) -> ChildGroup:
    """Draw a group's size, age, needs and early permanence consideration (as on day ``entry_t``)."""
    children_params, s = pipeline.scenario_at(entry_t).children, pipeline.streams["child_profile"]
    size = 1 + s.choice(children_params.sibling_group_probs)
    lo, hi = AGE_BANDS[s.choice(children_params.age_band_probs)]
    age = lo + (hi - lo) * s.uniform()
    return ChildGroup(pipeline.new_child_id(), size, age, s.bernoulli(children_params.complex_needs_share),
                      s.bernoulli(children_params.early_permanence_share), entry_t)


def child_journey(pipeline: Pipeline, group: ChildGroup):
    """From entering care (on ``group.entry_t``, now or booked ahead) to the adoption order (or a
    change of plan): the proceedings drawn on entry, and one wait to the court's decision (two for
    a child who first looks for early permanence carers)."""
    entry = group.entry_t
    children_params = pipeline.scenario_at(entry).children
    pipeline.census.enter_at(group, "in_proceedings", entry)
    order_t = entry + pipeline.streams["proceedings"].lognormal(children_params.proceedings_weeks * 7, children_params.proceedings_cv)
    plan_t = max(entry, order_t - children_params.plan_before_order_days)
    window = min(children_params.early_permanence_window_days, plan_t - entry)
    if group.ep_candidate and window > 0:
        yield from _seek_early_permanence(pipeline, group, entry, window)
    yield from court_stage(pipeline, group, plan_t, order_t, in_proceedings=group.state != "ep_placed")


def _seek_early_permanence(pipeline: Pipeline, group: ChildGroup, entry: float, window: float):
    """Look for dual-approved carers from entering care (booked: no event) for ``window`` days."""
    household = yield pipeline.matcher.add_ep_seeker(group, at=entry, until=entry + window)
    if household is not None:
        group.ep_t = pipeline.env.now
        pipeline.tally.add("early_permanence_placements", pipeline.env.now, group.size)


def court_stage(pipeline: Pipeline, group: ChildGroup, plan_t: float, order_t: float, plan_counted: bool = False,
                in_proceedings: bool = True):
    """The plan for adoption, then the court's decision; on an order, family finding.  The plan is
    booked on its day, so this is one wait, to the court's decision; a child living with early
    permanence carers (``in_proceedings`` false) stays counted as placed with them."""
    env, children_params = pipeline.env, pipeline.scenario.children
    if not plan_counted:
        plan_t = max(env.now, plan_t)
        pipeline.tally.add("plans_for_adoption", plan_t, group.size)
        if in_proceedings:
            pipeline.census.move_at(group, "plan", plan_t)
    yield env.timeout(max(0.0, order_t - env.now))
    if not pipeline.streams["court"].bernoulli(children_params.order_granted_share):
        pipeline.tally.add("plans_declined", env.now, group.size)
        pipeline.census.move(group, "plan_declined")
        if group.household is not None:  # early permanence carers: the child goes home
            group.household.outcome.succeed("returned")
        return
    group.order_t = env.now
    pipeline.tally.add("placement_orders", env.now, group.size)
    yield from family_finding(pipeline, group)


def family_finding(pipeline: Pipeline, group: ChildGroup):
    """Search, match, placement and order; a disruption starts the search again."""
    env, matching_params = pipeline.env, pipeline.scenario.matching
    household, provider = group.household, INHOUSE
    while True:
        if household is None:
            household, provider = yield from _search(pipeline, group)
            if provider is None:
                return
        # the match goes to panel once its paperwork is ready (booked: no event); early permanence
        # carers' at once
        paperwork = None if group.ep_t is not None else env.now + matching_params.link_to_panel_days
        yield pipeline.panel.hear(MATCH, at=paperwork)
        # the decision, and the move to the family: one wait, the match booked on its day
        group.match_t = env.now + pipeline.scenario.panel.decision_days
        pipeline.tally.add("matches", group.match_t, group.size)
        pipeline.tally.add("families_matched", group.match_t)
        if group.state == "ep_placed":
            yield env.timeout(group.match_t - env.now)
        else:
            pipeline.census.move_at(group, "matched", group.match_t)
            yield env.timeout(group.match_t + matching_params.match_to_placement_days - env.now)
            if household is not None:
                (pipeline.census if pipeline.market is None else pipeline.market.census_of(household)).move(household, "placed")
        pipeline.census.move(group, "placed")
        _count_placement(pipeline, group, provider)
        if (yield from order_phase(pipeline, group, household, provider)):
            return
        household, provider, group.ep_t, group.household = None, INHOUSE, None, None


def _search(pipeline: Pipeline, group: ChildGroup):
    """Wait for a family: in-house link, interagency family, plan change or split.

    Returns (household, provider): (h, "inhouse"), (None, "vaa"/"la"), or (None, None)
    when the plan changed or the group was split.
    """
    env, matching_params = pipeline.env, pipeline.scenario.matching
    now = env.now
    pipeline.census.move(group, "waiting")
    pipeline.searching[group] = None
    ia = pipeline.streams["interagency"]
    if group.no_family is None:
        group.no_family = _no_family_comes_forward(pipeline, group)
    if group.no_family:  # set apart: no in-house link and no interagency family, only a plan change or a split
        t_interagency = math.inf
    elif pipeline.market is None:  # the interagency family comes from outside, after a random search
        search_from = max(now, group.order_t + matching_params.inhouse_search_days)
        find_mean = interagency_find_mean(matching_params, group.harder_to_place(search_from))
        t_interagency = search_from + ia.exponential(find_mean)
    else:  # in a market, other agencies' adopters are offered by the market's rounds
        t_interagency = math.inf
    t_change = _plan_change_time(pipeline, group, now)
    t_split = (max(now, group.order_t + matching_params.split_after_days)
               if matching_params.split_sibling_groups and group.size > 1 else math.inf)
    t_next = min(t_interagency, t_change, t_split)
    ready = math.inf if group.no_family else now + pipeline.streams["family_finding"].exponential(matching_params.family_finding_days)
    if ready < t_next:  # joins the waiting list when ready (booked: no event)
        household = yield pipeline.matcher.add_child(group, at=ready, until=t_next)
        if household is not None:
            del pipeline.searching[group]
            return household, (INHOUSE if pipeline.market is None else pipeline.market.provider(pipeline, household))
    else:
        yield env.timeout(t_next - now)
    del pipeline.searching[group]
    if t_next == t_change:
        pipeline.census.move(group, "plan_changed")
        pipeline.tally.add("plan_changes", env.now, group.size)
        return None, None
    if t_next == t_split:
        _split(pipeline, group)
        return None, None
    pipeline.census.move(group, "linked")
    return None, (VAA if ia.bernoulli(matching_params.vaa_share) else LA)


def _no_family_comes_forward(pipeline: Pipeline, group: ChildGroup) -> bool:
    """Whether ``g`` is among the harder-to-place children for whom no family comes forward
    (``children.no_family_share``), drawn once, at its first search after the order."""
    share = pipeline.scenario_at(pipeline.env.now).children.no_family_share
    return share > 0 and group.harder_to_place(group.order_t) and pipeline.streams["family_prospect"].bernoulli(share)


def interagency_find_mean(matching_params: Matching, harder_to_place: bool) -> float:
    """Mean days to find an interagency family: the calibrated search, longer for a harder-to-place
    child, divided by the national sufficiency of interagency families (none found at 0)."""
    if matching_params.interagency_sufficiency <= 0:
        return math.inf
    days = matching_params.interagency_find_days * (matching_params.harder_to_place_factor if harder_to_place else 1.0)
    return days / matching_params.interagency_sufficiency


def _plan_change_time(pipeline: Pipeline, group: ChildGroup, now: float) -> float:
    """When the plan would change: a hazard that rises once the order is 18 months old."""
    children_params, s = pipeline.scenario.children, pipeline.streams["plan_change"]
    turn = group.order_t + EIGHTEEN_MONTHS_DAYS
    if now < turn:
        early = s.exponential(YEAR_DAYS / children_params.plan_change_per_year) if children_params.plan_change_per_year > 0 else math.inf
        if now + early < turn:
            return now + early
        now = turn
    rate = children_params.plan_change_per_year_after_18_months
    return now + (s.exponential(YEAR_DAYS / rate) if rate > 0 else math.inf)


def _split(pipeline: Pipeline, group: ChildGroup) -> None:
    """Place a sibling group's children separately: each continues as a group of one."""
    pipeline.census.retire(group, "split")
    for _ in range(group.size):
        single = ChildGroup(pipeline.new_child_id(), 1, group.age_at_entry, group.complex, False, group.entry_t)
        single.order_t = group.order_t
        pipeline.census.enter(single, "waiting")
        begin(family_finding(pipeline, single))


def _count_placement(pipeline: Pipeline, group: ChildGroup, provider: str) -> None:
    env, t, n = pipeline.env, pipeline.env.now, group.size
    group.placed_t = t
    pipeline.tally.add("placements", t, n)
    if n > 1:
        pipeline.tally.add("sibling_group_placements", t)
    if provider == INHOUSE:
        pipeline.tally.add("inhouse_placements", t, n)
        pipeline.tally.observe("inhouse_share_pct", t, 100.0, n)
    else:
        pipeline.tally.add("interagency_placements", t, n)
        pipeline.tally.add("interagency_placements_vaa" if provider == VAA else "interagency_placements_la", t, n)
        pipeline.tally.observe("inhouse_share_pct", env.now, 0.0, n)


def order_phase(pipeline: Pipeline, group: ChildGroup, household: Household, provider: str, elapsed: float = 0.0):
    """From placement to the adoption order; True if adopted, False if the placement disrupted."""
    env, pl = pipeline.env, pipeline.scenario.placement
    s = pipeline.streams["order"]
    days = s.lognormal(pl.order_days, pl.order_cv)
    if s.bernoulli(pl.challenge_share):
        days += pl.challenge_delay_days
    disrupts = pipeline.streams["disruption"].bernoulli(pl.disruption_share)
    if disrupts:
        days *= pipeline.streams["disruption"].uniform()
    if provider != INHOUSE:
        _book_fees(pipeline, group, provider, household, group.placed_t, group.placed_t + days)
    yield env.timeout(max(0.0, days - elapsed))
    if disrupts:
        pipeline.tally.add("disruptions", env.now)
        if household is not None:
            household.outcome.succeed("disrupted")
        return False
    _count_adoption(pipeline, group)
    if household is not None:
        household.outcome.succeed("adopted")
    pipeline.census.move(group, "adopted")
    return True


def _book_fees(pipeline: Pipeline, group: ChildGroup, provider: str, household: Household, placed_t: float, end_t: float) -> None:
    """The fee at placement, and the monthly fee after 12 months without an order; in a market each
    is also booked to the agency that provided the household."""
    fees, tally, market = pipeline.scenario.fees, pipeline.tally, pipeline.market
    fee = placement_fee(fees, provider, group.size, pipeline.financial_year(placed_t))
    tally.add("interagency_fees_gbp", placed_t, fee)
    if market is not None:
        market.book(pipeline, household, placed_t, fee, group.size)
    t = placed_t + YEAR_DAYS
    while t < end_t:
        fee = monthly_fee(pipeline.scenario_at(t).fees, pipeline.financial_year(t))
        tally.add("interagency_fees_gbp", t, fee)
        if market is not None:
            market.book(pipeline, household, t, fee, 0)
        t += MONTH_DAYS


def _count_adoption(pipeline: Pipeline, group: ChildGroup) -> None:
    """Scorecard times for the children adopted (a group counts once per child)."""
    t, n, tally = pipeline.env.now, group.size, pipeline.tally
    tally.add("adoption_orders", t, n)
    moved_in = group.placed_t - group.entry_t
    a10 = (group.ep_t if group.ep_t is not None else group.placed_t) - group.entry_t
    tally.observe("a1_days", t, moved_in, n)
    tally.observe("a10_days", t, a10, n)
    tally.observe("a2_days", t, group.match_t - group.order_t, n)
    tally.observe("a20_days", t, group.order_t - group.entry_t, n)
    tally.observe("a3_pct", t, 100.0 if moved_in < A1_THRESHOLD_DAYS else 0.0, n)
    tally.observe("orders_within_12_months_pct", t, 100.0 if t - group.placed_t <= 365 else 0.0, n)
    tally.observe("ep_care_to_order_days" if group.ep_t is not None else "non_ep_care_to_order_days",
                  t, t - group.entry_t, n)
