"""Parameters that move during a run: dated changes and trends applied month by month.

:func:`sim.scenario.changes.monthly_values` gives each moving parameter's value in every month.  The
timeline turns them into the scenario in force in each month (a new scenario object only in
months where something moves) and, as each such month begins, makes it the pipeline's
current scenario: every process reads its parameters from ``p.scenario`` when it draws, so
what is drawn from then on follows the change.  Capacities that are built once (the stage 2
caseload, the panel's sittings, the matching interval) are resized at that moment.

What has already been drawn is not redrawn: a household already in stage 2 keeps the length
drawn when it started, and a fee booked at placement is the fee of that month.  Nothing is
drawn differently before the first change, so a scenario's history is the baseline's, figure
for figure.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from sim.model.panel import capacity
from sim.scenario.calendar import MONTH_DAYS
from sim.scenario.changes import monthly_values
from sim.scenario.parameters import Scenario, run_months


class Timeline:
    """The scenario in force at each moment of one replication."""

    __slots__ = ("months", "starts", "scenarios")

    def __init__(self, scenario: Scenario):
        months = run_months(scenario)
        paths = monthly_values(scenario, months)
        self.months: list[int] = [0]  # month each scenario comes into force
        self.starts: list[float] = [0.0]  # and its first day
        self.scenarios: list[Scenario] = []
        previous = None
        for m in range(months):
            values = {key: path[m] for key, path in paths.items()}
            if values == previous:
                continue
            current = self.scenarios[-1] if self.scenarios else scenario
            sections: dict[str, dict] = {}
            for (section, name), value in values.items():
                if previous is None or previous[(section, name)] != value:
                    sections.setdefault(section, {})[name] = value
            updated = current.model_copy(update={
                section: getattr(current, section).model_copy(update=names) for section, names in sections.items()})
            if self.scenarios:
                self.months.append(m)
                self.starts.append(m * MONTH_DAYS)
            self.scenarios.append(updated)
            previous = values

    @property
    def moves(self) -> bool:
        """Whether anything changes after the start."""
        return len(self.scenarios) > 1

    def at(self, t: float) -> Scenario:
        """The scenario in force on day ``t``."""
        return self.scenarios[max(0, bisect_right(self.starts, t) - 1)]  # before the start: the first

    def in_month(self, m: int) -> Scenario:
        """The scenario in force in month ``m`` (0 = the first month of the run)."""
        return self.scenarios[bisect_right(self.months, m) - 1]

    def next_start(self, t: float) -> float:
        """The first day after ``t`` on which the scenario changes (infinity if none)."""
        i = bisect_right(self.starts, t)
        return self.starts[i] if i < len(self.starts) else float("inf")

    def first_start_from(self, t: float) -> float:
        """The first day on or after ``t`` on which the scenario changes (infinity if none)."""
        i = bisect_left(self.starts, t)
        return self.starts[i] if i < len(self.starts) else float("inf")

    def with_start(self, t: float) -> Timeline:
        """This timeline with a start on day ``t`` (a month's first day) that changes nothing, if
        it has none then: a run that is to stop on that day then waits for it as a scenario with
        a change that day would (:mod:`sim.model.history`)."""
        if t in self.starts:
            return self
        copy = Timeline.__new__(Timeline)
        i = bisect_left(self.starts, t)
        copy.starts = self.starts[:i] + [t] + self.starts[i:]
        copy.months = self.months[:i] + [round(t / MONTH_DAYS)] + self.months[i:]
        copy.scenarios = self.scenarios[:i] + [self.scenarios[i - 1]] + self.scenarios[i:]
        return copy


def apply_changes(p):
    """The process that puts each month's scenario in force and resizes fixed capacities.

    It reads the pipeline's timeline afresh at each step, and keeps the wait for the next
    change in ``p.next_change``: a shared history continued as another scenario
    (:mod:`sim.model.history`) swaps the timeline and moves that wait, and the run goes on as
    that scenario's own run would have.
    """
    env = p.env
    while True:
        day = p.timeline.next_start(env.now)
        if day == float("inf"):
            return
        p.next_change_from = env.now
        p.next_change = env.timeout(day - env.now)
        yield p.next_change
        put_in_force(p, p.timeline.at(env.now))


def put_in_force(p, scenario: Scenario) -> None:
    """Make ``scenario`` the pipeline's current scenario and resize what was built from the old one."""
    before, p.scenario = p.scenario, scenario
    if before.adopters.assessing_social_workers != scenario.adopters.assessing_social_workers or \
            before.adopters.cases_per_social_worker != scenario.adopters.cases_per_social_worker:
        p.assessors.resize(scenario.adopters)
    if before.panel != scenario.panel:
        p.panel.set_capacity(**capacity(scenario.panel))
    p.matcher.interval = scenario.matching.interval_days
