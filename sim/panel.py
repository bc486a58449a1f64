"""The adoption panel: approvals and matches are heard on panel dates, first come first served.

Panels sit at regular intervals (``panels_per_month``), the first half an interval after
the start; each hears at most ``cases_per_panel`` cases and the rest wait for the next
date.  With no panels, or no places on them, nothing is ever heard: no approvals and no
matches.  The agency decision maker's lag after panel is applied by the caller.
"""

from __future__ import annotations

from collections import deque

from sim.tally import MONTH_DAYS


class AdoptionPanel:
    """A first-come, first-served queue cleared on panel dates."""

    def __init__(self, env, panels_per_month: float, cases_per_panel: int):
        self.env = env
        self.queue: deque = deque()
        self.capacity = cases_per_panel
        if panels_per_month > 0 and cases_per_panel > 0:
            self.interval = MONTH_DAYS / panels_per_month
            env.process(self._sit())

    def hear(self):
        """An event that fires on the date of the panel that hears this case."""
        event = self.env.event()
        self.queue.append(event)
        return event

    def _sit(self):
        env, queue = self.env, self.queue
        yield env.timeout(self.interval / 2)
        while True:
            for _ in range(min(self.capacity, len(queue))):
                queue.popleft().succeed()
            yield env.timeout(self.interval)
