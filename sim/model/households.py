"""Adopter households: enquiry, registration, stage 1, break, stage 2, panel, approval,
waiting, and what happens after a placement.

Enquiries arrive in monthly Poisson batches (with optional seasonality); a share become
registrations of interest after ``enquiry_to_registration_days`` and start stage 1.  Stage 2
needs a place on an assessing social worker's caseload; the wait for one counts as part of
stage 2 (the statutory clock starts when the household asks to proceed), so understaffing
lengthens assessments.  Approved households wait in the pool until linked with a child,
de-register, or are taken by another agency (which pays the agency a fee).  After an
adoption order a share return later as second-time adopters, straight to stage 2.
"""

from __future__ import annotations

import math
from collections import deque

from sim.model.entities import Household
from sim.model.interagency_fee import LA, placement_fee
from sim.model.panel import APPROVAL
from sim.scenario.calendar import MONTH_DAYS, YEAR_DAYS

STAGE1_TARGET_DAYS = 61  # two months (DOMAIN primer; C&P 2022/23 §4.6 "within 60 days")
STAGE2_TARGET_DAYS = 122  # four months (DOMAIN primer)
BREAK_MAX_DAYS = 183  # six months


def enquiries(p):
    """Monthly batches of enquiries; those that register start a household journey."""
    env = p.env
    stream, conv = p.streams["enquiries"], p.streams["registration"]
    month = 0
    while True:
        a = (p.timeline.in_month(month) if p.timeline else p.scenario).adopters
        season = 1.0 + a.seasonality * math.cos(2 * math.pi * ((month % 12) + 1 - a.peak_month) / 12)
        n = stream.poisson(a.enquiries_per_month * season)
        registering = conv.binomial(n, a.registration_share)
        p.tally.add("enquiries", env.now, n)
        if n > registering:
            p.census.enter(Household(-1, n - registering), "enquiry_closed")
        for _ in range(registering):
            h = p.new_household()
            p.census.enter(h, "enquiry")
            delay = conv.uniform() * MONTH_DAYS + a.enquiry_to_registration_days
            env.process(household_journey(p, h, "enquiry", delay))
        month += 1
        yield env.timeout(MONTH_DAYS)


def household_journey(p, h, start: str, time_in: float = 0.0):
    """One household from ``start`` ("enquiry", "between_adoptions", "stage1", "stage2",
    "approved_waiting" or "placed") onwards.  ``time_in`` is the delay before registering (from
    "enquiry") or before returning for a second adoption (from "between_adoptions"), or the
    time already spent in the starting stage (households in the initial state)."""
    env = p.env
    if start == "enquiry":
        yield env.timeout(time_in)
        start, time_in = "stage1", 0.0
    elif start == "between_adoptions":
        yield env.timeout(time_in)
        start, time_in = "stage2", 0.0
    if start == "stage1":
        if not (yield from _stage1(p, h, time_in)):
            return
        start, time_in = "stage2", 0.0
    while True:
        if start == "stage2":
            if not (yield from _stage2_and_decision(p, h, time_in)):
                return
            time_in = 0.0
        result = yield from _wait_and_place(p, h, start == "placed")
        if result != "adopted":
            return
        a = p.scenario.adopters
        if not p.streams["waiting_adopters"].bernoulli(a.return_share):
            p.census.move(h, "adopted_left")
            return
        p.census.move(h, "between_adoptions")
        yield env.timeout(a.return_after_days)
        start = "stage2"


def _stage1(p, h, elapsed: float):
    """Stage 1 and the optional break; False if the household withdraws."""
    env, a, s = p.env, p.scenario.adopters, p.streams["stage1"]
    h.registered_t = env.now - elapsed
    if elapsed == 0.0:
        p.tally.add("registrations", env.now)
    p.census.move(h, "stage1")
    d = s.lognormal(a.stage1_days, a.stage1_cv)
    if s.bernoulli(a.stage1_withdrawal):
        yield env.timeout(max(0.0, d * s.uniform() - elapsed))
        p.census.move(h, "withdrawn")
        p.tally.add("withdrawals", env.now)
        return False
    yield env.timeout(max(0.0, d - elapsed))
    p.tally.observe("stage1_within_2_months_pct", env.now, 100.0 if d <= STAGE1_TARGET_DAYS else 0.0)
    b = p.streams["break"]
    if b.bernoulli(a.break_share):
        p.census.move(h, "break")
        yield env.timeout(min(b.exponential(a.break_days), BREAK_MAX_DAYS))
    return True


def _stage2_and_decision(p, h, elapsed: float):
    """Stage 2 (including any wait for a social worker), panel and decision; True if approved."""
    env, a, s = p.env, p.scenario.adopters, p.streams["stage2"]
    started = env.now - elapsed
    p.census.move(h, "stage2")
    if elapsed == 0.0:
        p.tally.add("stage2_starts", env.now)
    yield p.assessors.take()  # a place on a social worker's caseload
    d = s.lognormal(a.stage2_days, a.stage2_cv)
    if s.bernoulli(a.stage2_withdrawal):
        yield env.timeout(max(0.0, d * s.uniform() - elapsed))
        p.assessors.hand_over()
        p.census.move(h, "withdrawn")
        p.tally.add("withdrawals", env.now)
        return False
    yield env.timeout(max(0.0, d - elapsed))
    p.assessors.hand_over()
    days = env.now - started
    p.tally.observe("stage2_mean_days", env.now, days)
    p.tally.observe("stage2_within_4_months_pct", env.now, 100.0 if days <= STAGE2_TARGET_DAYS else 0.0)
    p.census.move(h, "awaiting_decision")
    yield p.panel.hear(APPROVAL)
    yield env.timeout(p.scenario.panel.decision_days)
    if p.streams["approval"].bernoulli(a.not_approved_share):
        p.census.move(h, "not_approved")
        p.tally.add("withdrawals", env.now)
        return False
    p.tally.add("approvals", env.now)
    if h.registered_t is not None:
        p.tally.observe("roi_to_approval_days", env.now, env.now - h.registered_t)
        h.registered_t = None  # a second-time adopter's return is not a new registration
    draw_offer(p, h)
    return True


def draw_offer(p, h) -> None:
    """What an approved household can offer: group size, older children, complex needs, EP."""
    a, s = p.scenario.adopters, p.streams["offer"]
    if s.bernoulli(a.open_to_siblings_share):
        h.max_group = 3 if s.bernoulli(a.open_to_three_siblings_share) else 2
    else:
        h.max_group = 1
    h.older = s.bernoulli(a.open_to_older_share)
    h.complex = s.bernoulli(a.open_to_complex_share)
    h.dual = s.bernoulli(a.dual_approved_share)


def _wait_and_place(p, h, already_placed: bool):
    """Wait in the pool until linked, then until the placement ends.

    Returns "adopted", "disrupted", or "left" (de-registered or taken by another agency).
    A placement whose child goes home before the order (early permanence) sends the
    household back to the pool.
    """
    env, a, s = p.env, p.scenario.adopters, p.streams["waiting_adopters"]
    leave_rate = a.deregistration_per_year + a.external_placement_per_year
    while True:
        h.outcome = env.event()
        if not already_placed:
            p.census.move(h, "approved_waiting")
            stay = s.exponential(YEAR_DAYS / leave_rate) if leave_rate > 0 else math.inf
            ready = s.exponential(p.scenario.matching.adopter_ready_days)
            child = None
            if ready < stay:
                yield env.timeout(ready)
                child = yield p.matcher.add_household(h, patience=stay - ready)
            else:
                yield env.timeout(stay)
            if child is None:
                if s.uniform() * leave_rate < a.external_placement_per_year:
                    _placed_by_another_agency(p, h)
                else:
                    p.census.move(h, "deregistered")
                    p.tally.add("deregistrations", env.now)
                return "left"
        already_placed = False
        result = yield h.outcome
        if result == "returned":
            continue
        if result == "disrupted":
            p.census.move(h, "disrupted_left")
        return result


def _placed_by_another_agency(p, h) -> None:
    """Another agency's child is placed with this household: the agency receives the LA fee."""
    size = 1 + p.streams["external"].choice(p.scenario.children.sibling_group_probs)
    size = min(size, h.max_group)
    p.census.move(h, "placed_elsewhere")
    p.tally.add("external_placements", p.env.now)
    fee = placement_fee(p.scenario.fees, LA, size, p.financial_year(p.env.now))
    p.tally.add("interagency_income_gbp", p.env.now, fee)


class Caseload:
    """Stage 2 places on the assessing social workers' caseloads, first come, first served.

    ``take()`` returns an event that fires when the household has a place: at once if one
    is free, else when a finished household's place is handed over (``hand_over()``), in
    order of asking.  This is a simpy ``Resource`` without its release events.  With no
    places (no social workers) an assessment never starts.  ``resize()`` follows a change in
    staffing: new places go at once to households waiting; places taken away disappear as the
    households holding them finish.
    """

    __slots__ = ("env", "free", "places", "queue")

    def __init__(self, env, places: int):
        self.env = env
        self.places = places
        self.free = places  # negative after a cut, until enough households finish
        self.queue: deque = deque()

    def take(self):
        event = self.env.event()
        if self.free > 0:
            self.free -= 1
            event.succeed()
        else:
            self.queue.append(event)
        return event

    def hand_over(self) -> None:
        if self.queue and self.free >= 0:
            self.queue.popleft().succeed()
        else:
            self.free += 1

    def resize(self, a) -> None:
        """Places from the ``[adopters]`` section given (social workers x cases each)."""
        places = caseload_places(a)
        self.free += places - self.places
        self.places = places
        while self.free > 0 and self.queue:
            self.free -= 1
            self.queue.popleft().succeed()


def caseload_places(a) -> int:
    """Stage 2 places: social workers x cases each, to the nearest whole place."""
    return int(round(a.assessing_social_workers * a.cases_per_social_worker))


def assessors(env, a) -> Caseload:
    """The stage 2 caseload of the ``[adopters]`` section given."""
    return Caseload(env, caseload_places(a))
