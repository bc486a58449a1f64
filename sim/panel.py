"""The adoption panel: approvals and matches are heard on panel dates, first come first served.

Panels sit at regular intervals (``panels_per_month``), the first half an interval after
the start; each hears at most ``cases_per_panel`` cases and the rest wait for the next
date.  With no panels, or no places on them, nothing is ever heard: no approvals and no
matches.  The agency decision maker's lag after panel is applied by the caller.
"""

from __future__ import annotations

from collections import deque

from sim.calendar import MONTH_DAYS


class AdoptionPanel:
    """A first-come, first-served queue cleared on panel dates."""

    def __init__(self, env, panel):
        self.env = env
        self.queue: deque = deque()
        self.sitting = False
        self.set_capacity(panel)

    def set_capacity(self, panel) -> None:
        """Sittings and places from the ``[panel]`` section given, from the next sitting on."""
        self.capacity = panel.cases_per_panel
        self.interval = MONTH_DAYS / panel.panels_per_month if panel.panels_per_month > 0 else None
        if self.interval is not None and self.capacity > 0 and not self.sitting:
            self.sitting = True
            self.env.process(self._sit())

    def hear(self):
        """An event that fires on the date of the panel that hears this case."""
        event = self.env.event()
        self.queue.append(event)
        return event

    def _sit(self):
        env, queue = self.env, self.queue
        yield env.timeout(self.interval / 2)
        while self.interval is not None and self.capacity > 0:
            for _ in range(min(self.capacity, len(queue))):
                queue.popleft().succeed()
            yield env.timeout(self.interval)
        self.sitting = False
