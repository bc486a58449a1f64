"""Journeys: the model's processes, run on simpy events at the cost of the events they wait on.

A household's or a child's journey is a generator that yields the simpy events it waits on
(timeouts, a panel hearing, a link), as a simpy process would.  ``begin`` runs one:

* it takes its first steps at once, in the call that begins it, where ``env.process`` would
  schedule an event to start it (every journey begins from a step of another process or from
  the set-up, at the day it begins, so nothing else can come between);
* when it ends, nothing is scheduled, where a simpy process schedules an event of its own
  ending, which nothing in the model waits on.

So a journey costs no events beyond the ones it waits on: two fewer than a simpy process for
each household and child, about a fifth of all the events of a replication.  The model's
journeys never wait on one another's ending and are never interrupted, and the events they
wait on never fail; an error raised in a journey stops the run, as in a simpy process.
"""

from __future__ import annotations

from collections.abc import Generator

from simpy.events import Event


class _Journey:
    """A generator resumed by the events it yields (held only by the callback of its next event)."""

    __slots__ = ("send",)

    def __init__(self, generator: Generator):
        self.send = generator.send

    def resume(self, event: Event | None) -> None:
        """Send ``event``'s value on; go on at once past events already processed."""
        value = None if event is None else event._value
        send = self.send
        while True:
            try:
                target = send(value)
            except StopIteration:
                return
            callbacks = target.callbacks
            if callbacks is not None:  # still to be processed: resume when it is
                callbacks.append(self.resume)
                return
            value = target._value


def begin(generator: Generator) -> None:
    """Run a journey from now: its first steps now, the rest as the events it yields are processed."""
    _Journey(generator).resume(None)
