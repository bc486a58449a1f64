"""One replication of the adoption pipeline: build the simulation, run it, return its KPIs.

The pipeline object holds what every process shares: the simpy environment, the
scenario, the random streams, the census of states, the year-by-year tally, the adoption
panel, the stage 2 caseload and the matcher.  ``run_replication`` is a pure function of
(scenario, replication number): the same inputs give the same outputs in any process.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass

import simpy

from sim.model import children, households
from sim.model.census import CHILD, HOUSEHOLD, Census
from sim.model.entities import OLDER_AGE, Household
from sim.model.initial_state import seed_initial_state
from sim.model.journey import begin
from sim.model.matching import Matcher
from sim.model.panel import AdoptionPanel, capacity
from sim.model.streams import replication_streams
from sim.model.tally import Tally
from sim.model.timeline import Timeline, apply_changes
from sim.scenario.calendar import YEAR_DAYS
from sim.scenario.parameter_sets import replication_scenario
from sim.scenario.parameters import Scenario

EIGHTEEN_MONTHS_DAYS = children.EIGHTEEN_MONTHS_DAYS


class Pipeline:
    """Shared state of one replication."""

    def __init__(self, scenario: Scenario, replication: int, event_log: bool = False, env=None, streams=None):
        run = scenario.scenario
        self.timeline = Timeline(scenario) if scenario.change or scenario.trend else None
        self.scenario = scenario = self.timeline.scenarios[0] if self.timeline else scenario
        self.env = simpy.Environment() if env is None else env  # a market runs its agencies in one environment
        self.streams = replication_streams(run.seed, replication) if streams is None else streams
        self.next_change = None  # the wait for the next dated change (sim.model.timeline.apply_changes)
        self.next_change_from = 0.0  # and the day it was scheduled on
        self.market = None  # the market of agencies this one trades in, if any (sim.model.market)
        self.agency = None  # and its number there
        self.census = Census(self.env, event_log)
        self.tally = Tally(run.years, run.warm_up_years)
        self.panel = AdoptionPanel(self.env, **capacity(scenario.panel))
        self.assessors = households.assessors(self.env, scenario.adopters)
        self.matcher = Matcher(self.env, self.census, scenario.matching.interval_days)
        self.searching: dict = {}  # children with an order waiting (not linked), in order of starting the search
        self.first_year = run.start_year - run.warm_up_years
        self._ids = 0

    def scenario_at(self, t: float) -> Scenario:
        """The scenario in force on day ``t`` (it differs from ``scenario`` only with dated changes or trends)."""
        return self.timeline.at(t) if self.timeline else self.scenario

    def new_household(self) -> Household:
        self._ids += 1
        return Household(self._ids)

    def new_child_id(self) -> int:
        self._ids += 1
        return self._ids

    def financial_year(self, t: float) -> int:
        """Calendar year in which the financial year containing day ``t`` starts."""
        return self.first_year + int(t // YEAR_DAYS)

    def year_ends(self):
        """Record the stocks at each reported 31 March."""
        run, env, census, tally = self.scenario.scenario, self.env, self.census, self.tally
        for year in range(run.years):
            yield env.timeout((run.warm_up_years + year + 1) * YEAR_DAYS - env.now)
            waiting = census.count(CHILD, "waiting")
            adopters = census.count(HOUSEHOLD, "approved_waiting")
            linked = census.count(CHILD, "linked", "matched")
            now, searching = env.now, self.searching
            stocks = {
                "households_stage1": census.count(HOUSEHOLD, "stage1"),
                "households_stage2": census.count(HOUSEHOLD, "break", "stage2", "awaiting_decision"),
                "adopters_waiting": adopters,
                "children_with_plan": census.count(CHILD, "plan"),
                "children_waiting_with_po": waiting,
                "children_matched": linked,
                "children_not_placed_with_po": waiting + linked,
                "children_placed_awaiting_order": census.count(CHILD, "placed", "ep_placed"),
                "children_waiting_over_18_months": sum(
                    g.size for g in searching if now - g.order_t > EIGHTEEN_MONTHS_DAYS),
                "waiting_in_sibling_groups_pct": _percent(sum(g.size for g in searching if g.size > 1), waiting),
                "waiting_aged_5_plus_pct": _percent(sum(g.size for g in searching if g.age(now) >= OLDER_AGE),
                                                    waiting),
                "waiting_days_since_order": (sum(g.size * (now - g.order_t) for g in searching) / waiting
                                             if waiting else float("nan")),
                "adopter_gap": _percent(adopters - waiting, waiting),
            }
            for name, value in stocks.items():
                tally.set_stock(name, year, value)


def _percent(part: int, whole: int) -> float:
    """``part`` as a percentage of ``whole``; NaN when there is no whole."""
    return 100.0 * part / whole if whole else float("nan")


@dataclass
class ReplicationResult:
    """KPIs by year of one replication, and what it cost to compute them."""

    replication: int
    kpis: dict[str, list[float]]
    events: int
    census: dict[tuple[str, str], int]
    entered: dict[str, int]
    log: list[tuple] | None = None


def processed_events(env: simpy.Environment) -> int:
    """How many events ``env`` has processed so far.

    simpy numbers every event it schedules from one counter and takes each event off its
    queue to process it, so the events processed are those numbered less those still queued
    (an event rescheduled by ``run(until=...)`` when it stops is numbered twice and queued
    once, so it counts once, as processed).  This counts exactly what counting each call of
    ``Environment.step`` would count, at no cost per event.
    """
    return next(env._eid) - len(env._queue)


@contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector while a replication runs.

    The model's objects are freed by reference counting as the run goes (it leaves no
    reference cycles behind; a test checks this), so the collector's passes over the live
    processes and events would find nothing to free.  Once the run is over and its objects
    let go, the first pass after it collects them.  This saves a fifth of the time of a replication,
    and more for larger agencies, whose many live objects each pass would go over.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def run_replication(scenario: Scenario, replication: int, event_log: bool = False,
                    count_events: bool = False) -> ReplicationResult:
    """Simulate one replication over the warm-up and the reported years.

    With ``count_events`` the result says how many simpy events were processed (else 0).
    """
    scenario = replication_scenario(scenario, replication)  # a plausible parameter set, if asked for
    with collector_paused():  # the simulation's objects are all let go before it resumes
        return _simulate(scenario, replication, event_log, count_events)


def start(scenario: Scenario, replication: int, event_log: bool = False, env=None, streams=None,
          history_to: float | None = None, market=None, agency: int | None = None) -> Pipeline:
    """A replication ready to run: its initial state seeded and its driving processes (enquiries,
    children entering, year ends, dated changes) started.  A market passes its shared ``env``,
    each agency's ``streams``, itself and the agency's number (in force before the first journey
    begins, since a journey's first steps are taken as it is seeded).  ``history_to`` (a month's
    first day) marks a shared history that will stop on that day (:mod:`sim.model.history`): its
    process of dated changes then waits for that day whatever the scenario's own changes, as any
    scenario continuing it may have a change that day."""
    p = Pipeline(scenario, replication, event_log, env, streams)
    if market is not None:
        p.market = p.matcher.market = market
        p.agency = agency
        market.admit(p)
    if history_to is not None:
        p.timeline = (p.timeline or Timeline(p.scenario)).with_start(history_to)
    seed_initial_state(p)
    for process in (households.enquiries(p), children.arrivals(p), p.year_ends()):
        begin(process)
    if p.timeline is not None and p.timeline.moves:
        begin(apply_changes(p))
    return p


def end_time(scenario: Scenario) -> float:
    """The simulated day a replication stops: after the warm-up and the reported years."""
    run = scenario.scenario
    return (run.warm_up_years + run.years) * YEAR_DAYS + 1e-6


def _simulate(scenario: Scenario, replication: int, event_log: bool, count_events: bool) -> ReplicationResult:
    p = start(scenario, replication, event_log)
    p.env.run(until=end_time(scenario))
    return replication_result(p, replication, count_events)


def replication_result(p: Pipeline, replication: int, count_events: bool = False) -> ReplicationResult:
    """What a finished replication reports."""
    return ReplicationResult(
        replication=replication,
        kpis=p.tally.results(),
        events=processed_events(p.env) if count_events else 0,
        census=dict(p.census.counts),
        entered=dict(p.census.entered),
        log=p.census.log,
    )
