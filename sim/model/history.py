"""A shared history: simulate a replication once up to the first day a change may start, then
continue it as any scenario that shares it, exactly as that scenario's own run would go.

Dated changes start no earlier than April of the year after year 1
(:func:`sim.scenario.changes.first_change_month`): until then every what-if of a baseline is
the baseline, drawn for drawn, since each activity draws from its own seeded stream and no
process reads a change before it starts.  Scenarios that differ only in their dated changes
(the same parameters, trends, seed, warm-up and years: the same :func:`history_key`) have
the same replication up to that day, the **branch day**.  The app's what-ifs of one baseline
are such scenarios, so each needs to simulate only from the branch day on: about half of
the default run.

Why the continuation is exact, not merely close: simpy processes events in order of (time,
priority, the order they were scheduled in).  The history stops before any event of the
branch day is processed (``run(until=day)`` puts its stop ahead of them), so what has
happened is what happened in every scenario sharing it.  The one pending event that may
differ is the wait of the process of dated changes (:func:`sim.model.timeline.apply_changes`)
for the next change.  In the history it waits for the branch day whether or not a change
starts then (:meth:`sim.model.timeline.Timeline.with_start`); it was scheduled at the last
change before the branch day, where every such scenario's own run schedules its wait for its
first change on or after that day.  Continuing as a scenario moves that one wait to that
scenario's first change (or drops it, if none comes) and keeps its place in the order among
events of the same time (the day reached by the same floating-point sum as the own run's timeout
from the day it was scheduled, so that no later time differs in its last bit); every other event
keeps its time and order.  The tests check the
continuation against the scenario's own run, figure for figure.
"""

from __future__ import annotations

import hashlib
import heapq
import json

from sim.model.pipeline import Pipeline, ReplicationResult, collector_paused, end_time, replication_result, start
from sim.model.timeline import Timeline
from sim.scenario.calendar import MONTH_DAYS
from sim.scenario.changes import first_change_month
from sim.scenario.parameter_sets import replication_scenario
from sim.scenario.parameters import Scenario


def branch_day(scenario: Scenario) -> float:
    """The first day a dated change may start: the end of the history scenarios can share."""
    return first_change_month(scenario.scenario) * MONTH_DAYS


def history_key(scenario: Scenario) -> str:
    """What a replication's history depends on: the scenario less its dated changes, its name,
    description and count of replications (the same key, the same history)."""
    data = scenario.model_dump(mode="json")
    data.pop("change", None)
    for name in ("name", "description", "replications"):
        data["scenario"].pop(name, None)
    return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()


def simulate_history(scenario: Scenario, replication: int) -> Pipeline:
    """Replication ``replication`` of ``scenario`` run to the branch day, paused there."""
    scenario = replication_scenario(scenario, replication)
    day = branch_day(scenario)
    with collector_paused():
        p = start(scenario, replication, history_to=day)
        p.env.run(until=day)
    return p


def continue_as(p: Pipeline, scenario: Scenario, replication: int) -> ReplicationResult:
    """Run the history ``p`` (of ``scenario``'s :func:`history_key`) to the end as ``scenario``.

    ``p`` is used up: continue a copy (a forked process's) to keep the history for others.
    """
    scenario = replication_scenario(scenario, replication)
    timeline = Timeline(scenario) if scenario.change or scenario.trend else None
    p.timeline = timeline
    first = timeline.first_start_from(p.env.now) if timeline is not None else float("inf")
    # the own run schedules that wait as a timeout of (first - from) on the day ``from``: the same
    # sum, so the same day to the last bit
    _move(p.env, p.next_change, p.next_change_from + (first - p.next_change_from))
    with collector_paused():
        p.env.run(until=end_time(scenario))
    return replication_result(p, replication)


def _move(env, event, day: float) -> None:
    """Reschedule the pending ``event`` to ``day`` in its place among that day's events, or
    drop it if ``day`` is infinite."""
    queue = env._queue  # (time, priority, order scheduled, event)
    i = next(i for i, item in enumerate(queue) if item[3] is event)
    _, priority, order, _ = queue[i]
    if day == float("inf"):
        queue[i] = queue[-1]
        queue.pop()
    else:
        queue[i] = (day, priority, order, event)
    heapq.heapify(queue)
