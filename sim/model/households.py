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
from typing import TYPE_CHECKING

from sim.model.entities import Household
from sim.model.interagency_fee import LA, placement_fee
from sim.model.panel import APPROVAL
from sim.scenario.calendar import MONTH_DAYS, YEAR_DAYS

if TYPE_CHECKING:  # the pipeline runs these processes; it imports this module
    from sim.model.pipeline import Pipeline
    from sim.scenario.parameters import Adopters

STAGE1_TARGET_DAYS = 61  # two months (DOMAIN primer; C&P 2022/23 §4.6 "within 60 days")
STAGE2_TARGET_DAYS = 122  # four months (DOMAIN primer)
BREAK_MAX_DAYS = 183  # six months


def enquiries(pipeline: Pipeline):
    """Monthly batches of enquiries; those that register start a household journey."""
    env = pipeline.env
    stream, conv = pipeline.streams["enquiries"], pipeline.streams["registration"]
    month = 0
    while True:
        adopters_params = (pipeline.timeline.in_month(month) if pipeline.timeline else pipeline.scenario).adopters
        season = 1.0 + adopters_params.seasonality * math.cos(2 * math.pi * ((month % 12) + 1 - adopters_params.peak_month) / 12)
        n = stream.poisson(adopters_params.enquiries_per_month * season)
        registering = conv.binomial(n, adopters_params.registration_share)
        pipeline.tally.add("enquiries", env.now, n)
        if n > registering:
            pipeline.census.enter(Household(-1, n - registering), "enquiry_closed")
        for _ in range(registering):
            household = pipeline.new_household()
            pipeline.census.enter(household, "enquiry")
            delay = conv.uniform() * MONTH_DAYS + adopters_params.enquiry_to_registration_days
            env.process(household_journey(pipeline, household, "enquiry", delay))
        month += 1
        yield env.timeout(MONTH_DAYS)


def household_journey(pipeline: Pipeline, household: Household, start: str, time_in: float = 0.0):
    """One household from ``start`` ("enquiry", "between_adoptions", "stage1", "stage2",
    "approved_waiting" or "placed") onwards.  ``time_in`` is the delay before registering (from
    "enquiry") or before returning for a second adoption (from "between_adoptions"), or the
    time already spent in the starting stage (households in the initial state)."""
    env = pipeline.env
    if start == "enquiry":
        yield env.timeout(time_in)
        start, time_in = "stage1", 0.0
    elif start == "between_adoptions":
        yield env.timeout(time_in)
        start, time_in = "stage2", 0.0
    if start == "stage1":
        if not (yield from _stage1(pipeline, household, time_in)):
            return
        start, time_in = "stage2", 0.0
    while True:
        if start == "stage2":
            if not (yield from _stage2_and_decision(pipeline, household, time_in)):
                return
            time_in = 0.0
        result = yield from _wait_and_place(pipeline, household, start == "placed")
        if result != "adopted":
            return
        adopters_params = pipeline.scenario.adopters
        if not pipeline.streams["waiting_adopters"].bernoulli(adopters_params.return_share):
            pipeline.census.move(household, "adopted_left")
            return
        pipeline.census.move(household, "between_adoptions")
        yield env.timeout(adopters_params.return_after_days)
        start = "stage2"


def _stage1(pipeline: Pipeline, household: Household, elapsed: float):
    """Stage 1 and the optional break; False if the household withdraws."""
    env, adopters_params, s = pipeline.env, pipeline.scenario.adopters, pipeline.streams["stage1"]
    household.registered_t = env.now - elapsed
    if elapsed == 0.0:
        pipeline.tally.add("registrations", env.now)
    pipeline.census.move(household, "stage1")
    d = s.lognormal(adopters_params.stage1_days, adopters_params.stage1_cv)
    if s.bernoulli(adopters_params.stage1_withdrawal):
        yield env.timeout(max(0.0, d * s.uniform() - elapsed))
        pipeline.census.move(household, "withdrawn")
        pipeline.tally.add("withdrawals", env.now)
        return False
    yield env.timeout(max(0.0, d - elapsed))
    pipeline.tally.observe("stage1_within_2_months_pct", env.now, 100.0 if d <= STAGE1_TARGET_DAYS else 0.0)
    b = pipeline.streams["break"]
    if b.bernoulli(adopters_params.break_share):
        pipeline.census.move(household, "break")
        yield env.timeout(min(b.exponential(adopters_params.break_days), BREAK_MAX_DAYS))
    return True


def _stage2_and_decision(pipeline: Pipeline, household: Household, elapsed: float):
    """Stage 2 (including any wait for a social worker), panel and decision; True if approved."""
    env, adopters_params, s = pipeline.env, pipeline.scenario.adopters, pipeline.streams["stage2"]
    started = env.now - elapsed
    pipeline.census.move(household, "stage2")
    if elapsed == 0.0:
        pipeline.tally.add("stage2_starts", env.now)
    yield pipeline.assessors.take()  # a place on a social worker's caseload
    d = s.lognormal(adopters_params.stage2_days, adopters_params.stage2_cv)
    if s.bernoulli(adopters_params.stage2_withdrawal):
        yield env.timeout(max(0.0, d * s.uniform() - elapsed))
        pipeline.assessors.hand_over()
        pipeline.census.move(household, "withdrawn")
        pipeline.tally.add("withdrawals", env.now)
        return False
    yield env.timeout(max(0.0, d - elapsed))
    pipeline.assessors.hand_over()
    days = env.now - started
    pipeline.tally.observe("stage2_mean_days", env.now, days)
    pipeline.tally.observe("stage2_within_4_months_pct", env.now, 100.0 if days <= STAGE2_TARGET_DAYS else 0.0)
    pipeline.census.move(household, "awaiting_decision")
    yield pipeline.panel.hear(APPROVAL)
    yield env.timeout(pipeline.scenario.panel.decision_days)
    if pipeline.streams["approval"].bernoulli(adopters_params.not_approved_share):
        pipeline.census.move(household, "not_approved")
        pipeline.tally.add("withdrawals", env.now)
        return False
    pipeline.tally.add("approvals", env.now)
    if household.registered_t is not None:
        pipeline.tally.observe("roi_to_approval_days", env.now, env.now - household.registered_t)
        household.registered_t = None  # a second-time adopter's return is not a new registration
    draw_offer(pipeline, household)
    return True


def draw_offer(pipeline: Pipeline, household: Household) -> None:
    """What an approved household can offer: group size, older children, complex needs, EP."""
    adopters_params, s = pipeline.scenario.adopters, pipeline.streams["offer"]
    if s.bernoulli(adopters_params.open_to_siblings_share):
        household.max_group = 3 if s.bernoulli(adopters_params.open_to_three_siblings_share) else 2
    else:
        household.max_group = 1
    household.older = s.bernoulli(adopters_params.open_to_older_share)
    household.complex = s.bernoulli(adopters_params.open_to_complex_share)
    household.dual = s.bernoulli(adopters_params.dual_approved_share)


def _wait_and_place(pipeline: Pipeline, household: Household, already_placed: bool):
    """Wait in the pool until linked, then until the placement ends.

    Returns "adopted", "disrupted", or "left" (de-registered or taken by another agency).
    A placement whose child goes home before the order (early permanence) sends the
    household back to the pool.
    """
    env, adopters_params, s = pipeline.env, pipeline.scenario.adopters, pipeline.streams["waiting_adopters"]
    leave_rate = adopters_params.deregistration_per_year + adopters_params.external_placement_per_year
    while True:
        household.outcome = env.event()
        if not already_placed:
            pipeline.census.move(household, "approved_waiting")
            stay = s.exponential(YEAR_DAYS / leave_rate) if leave_rate > 0 else math.inf
            ready = s.exponential(pipeline.scenario.matching.adopter_ready_days)
            child = None
            if ready < stay:
                yield env.timeout(ready)
                child = yield pipeline.matcher.add_household(household, patience=stay - ready)
            else:
                yield env.timeout(stay)
            if child is None:
                if s.uniform() * leave_rate < adopters_params.external_placement_per_year:
                    _placed_by_another_agency(pipeline, household)
                else:
                    pipeline.census.move(household, "deregistered")
                    pipeline.tally.add("deregistrations", env.now)
                return "left"
        already_placed = False
        result = yield household.outcome
        if result == "returned":
            continue
        if result == "disrupted":
            pipeline.census.move(household, "disrupted_left")
        return result


def _placed_by_another_agency(pipeline: Pipeline, household: Household) -> None:
    """Another agency's child is placed with this household: the agency receives the LA fee."""
    size = 1 + pipeline.streams["external"].choice(pipeline.scenario.children.sibling_group_probs)
    size = min(size, household.max_group)
    pipeline.census.move(household, "placed_elsewhere")
    pipeline.tally.add("external_placements", pipeline.env.now)
    fee = placement_fee(pipeline.scenario.fees, LA, size, pipeline.financial_year(pipeline.env.now))
    pipeline.tally.add("interagency_income_gbp", pipeline.env.now, fee)


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

    def resize(self, adopters_params: Adopters) -> None:
        """Places from the ``[adopters]`` section given (social workers x cases each)."""
        places = caseload_places(adopters_params)
        self.free += places - self.places
        self.places = places
        while self.free > 0 and self.queue:
            self.free -= 1
            self.queue.popleft().succeed()


def caseload_places(adopters_params: Adopters) -> int:
    """Stage 2 places: social workers x cases each, to the nearest whole place."""
    return int(round(adopters_params.assessing_social_workers * adopters_params.cases_per_social_worker))


def assessors(env, adopters_params: Adopters) -> Caseload:
    """The stage 2 caseload of the ``[adopters]`` section given."""
    return Caseload(env, caseload_places(adopters_params))
