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
from sim.model.journey import begin
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
            stage2_t = registration_to_stage2(pipeline, household, delay, 0.0)
            if stage2_t is not None:  # a household that withdraws in stage 1 needs no process: it is booked
                begin(household_journey(pipeline, household, "registered", stage2_t - env.now))
        month += 1
        yield env.timeout(MONTH_DAYS)


def household_journey(pipeline: Pipeline, household: Household, start: str, time_in: float = 0.0):
    """One household from ``start`` ("enquiry", "registered", "between_adoptions", "stage1",
    "stage2", "approved_waiting" or "placed") onwards.  ``time_in`` is the delay before
    registering (from "enquiry"), before stage 2 (from "registered": stage 1 and the break already
    booked) or before returning for a second adoption (from "between_adoptions"), or the time
    already spent in the starting stage (households in the initial state).

    Each stretch that nothing else can change is one wait: registration, stage 1 and the break
    (no queue, resource or decision another process touches) up to stage 2; the decision after
    panel and the time until an approved household is ready to be linked.  Everything a stretch
    needs is drawn at its start, from the parameters in force then, and its changes of state are
    booked at their own times (:meth:`sim.model.census.Census.move_at`)."""
    env = pipeline.env
    if start in ("enquiry", "stage1"):
        stage2_t = registration_to_stage2(pipeline, household, *((time_in, 0.0) if start == "enquiry" else (0.0, time_in)))
        if stage2_t is None:
            return
        start, time_in = "registered", stage2_t - env.now
    if start in ("registered", "between_adoptions"):
        yield env.timeout(time_in)
        start, time_in = "stage2", 0.0
    while True:
        approved_t = None
        if start == "stage2":
            approved_t = yield from _stage2_and_panel(pipeline, household, time_in)
            if approved_t is None:
                return
            time_in = 0.0
        result = yield from _wait_and_place(pipeline, household, start == "placed", approved_t)
        if result != "adopted":
            return
        adopters_params = pipeline.scenario.adopters
        if not pipeline.streams["waiting_adopters"].bernoulli(adopters_params.return_share):
            pipeline.census.move(household, "adopted_left")
            return
        pipeline.census.move(household, "between_adoptions")
        yield env.timeout(adopters_params.return_after_days)
        start = "stage2"


def registration_to_stage2(pipeline: Pipeline, household: Household, registers_in: float, elapsed: float) -> float | None:
    """Registration (in ``registers_in`` days), stage 1 (``elapsed`` days of it already spent) and
    the optional break, drawn now and booked at their times: the day stage 2 is asked for, or None
    if the household withdraws in stage 1."""
    now, adopters_params, s = pipeline.env.now, pipeline.scenario.adopters, pipeline.streams["stage1"]
    census, tally = pipeline.census, pipeline.tally
    registered = now + registers_in
    household.registered_t = registered - elapsed
    if elapsed == 0.0:
        tally.add("registrations", registered)
    census.move_at(household, "stage1", registered)
    d = s.lognormal(adopters_params.stage1_days, adopters_params.stage1_cv)
    if s.bernoulli(adopters_params.stage1_withdrawal):
        left = registered + max(0.0, d * s.uniform() - elapsed)
        census.move_at(household, "withdrawn", left)
        tally.add("withdrawals", left)
        return None
    stage1_end = registered + max(0.0, d - elapsed)
    tally.observe("stage1_within_2_months_pct", stage1_end, 100.0 if d <= STAGE1_TARGET_DAYS else 0.0)
    b = pipeline.streams["break"]
    if b.bernoulli(adopters_params.break_share):
        census.move_at(household, "break", stage1_end)
        return stage1_end + min(b.exponential(adopters_params.break_days), BREAK_MAX_DAYS)
    return stage1_end


def _stage2_and_panel(pipeline: Pipeline, household: Household, elapsed: float):
    """Stage 2 (including any wait for a social worker) and panel; the day of the decision to
    approve (booked then), or None if the household withdraws or is not approved."""
    env, adopters_params, s = pipeline.env, pipeline.scenario.adopters, pipeline.streams["stage2"]
    started = env.now - elapsed
    pipeline.census.move(household, "stage2")
    if elapsed == 0.0:
        pipeline.tally.add("stage2_starts", env.now)
    place = pipeline.assessors.take()  # a place on a social worker's caseload: None if one is free now
    if place is not None:
        yield place
    d = s.lognormal(adopters_params.stage2_days, adopters_params.stage2_cv)
    if s.bernoulli(adopters_params.stage2_withdrawal):
        yield env.timeout(max(0.0, d * s.uniform() - elapsed))
        pipeline.assessors.hand_over()
        pipeline.census.move(household, "withdrawn")
        pipeline.tally.add("withdrawals", env.now)
        return None
    yield env.timeout(max(0.0, d - elapsed))
    pipeline.assessors.hand_over()
    days = env.now - started
    pipeline.tally.observe("stage2_mean_days", env.now, days)
    pipeline.tally.observe("stage2_within_4_months_pct", env.now, 100.0 if days <= STAGE2_TARGET_DAYS else 0.0)
    pipeline.census.move(household, "awaiting_decision")
    yield pipeline.panel.hear(APPROVAL)
    decided = env.now + pipeline.scenario.panel.decision_days
    if pipeline.streams["approval"].bernoulli(adopters_params.not_approved_share):
        pipeline.census.move_at(household, "not_approved", decided)
        pipeline.tally.add("withdrawals", decided)
        return None
    pipeline.tally.add("approvals", decided)
    if household.registered_t is not None:
        pipeline.tally.observe("roi_to_approval_days", decided, decided - household.registered_t)
        household.registered_t = None  # a second-time adopter's return is not a new registration
    draw_offer(pipeline, household)
    return decided


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


def _wait_and_place(pipeline: Pipeline, household: Household, already_placed: bool, approved_t: float | None = None):
    """Wait in the pool (from ``approved_t``, the day of approval, or now) until linked, then until
    the placement ends.

    Returns "adopted", "disrupted", or "left" (de-registered or taken by another agency).
    A placement whose child goes home before the order (early permanence) sends the
    household back to the pool.  The household waits on one event, ``household.outcome``: the
    pool lets it go with None when it leaves unlinked, and the child's side with how the
    placement ended (a link itself wakes nothing on the household's side).
    """
    env, adopters_params, s = pipeline.env, pipeline.scenario.adopters, pipeline.streams["waiting_adopters"]
    leave_rate = adopters_params.deregistration_per_year + adopters_params.external_placement_per_year
    while True:
        household.outcome = env.event()
        if not already_placed:
            joined = env.now if approved_t is None else approved_t
            pipeline.census.move_at(household, "approved_waiting", joined)
            stay = s.exponential(YEAR_DAYS / leave_rate) if leave_rate > 0 else math.inf
            ready = s.exponential(pipeline.scenario.matching.adopter_ready_days)
            if ready < stay:  # joins the pool when ready (booked: no event), leaves it unlinked on its day
                result = yield pipeline.matcher.add_household(household, at=joined + ready, until=joined + stay)
            else:
                result = yield env.timeout(joined + stay - env.now)
            if result is None:
                if s.uniform() * leave_rate < adopters_params.external_placement_per_year:
                    _placed_by_another_agency(pipeline, household)
                else:
                    pipeline.census.move(household, "deregistered")
                    pipeline.tally.add("deregistrations", env.now)
                return "left"
        else:
            result = yield household.outcome
        already_placed, approved_t = False, None
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

    ``take()`` takes a free place at once (and returns None), or returns an event that fires when
    a finished household's place is handed over (``hand_over()``), in order of asking.  This is a
    simpy ``Resource`` without its release events.  With no places (no social workers) an
    assessment never starts.  ``resize()`` follows a change in
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
        """None if a place is free now (it is taken), else an event that fires when one is handed over."""
        if self.free > 0:
            self.free -= 1
            return None
        event = self.env.event()
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
