"""Who is where: the state of every household and child at every moment.

Every entity (an adopter household, or a group of children who move together) is in
exactly one state.  ``move`` is the only way a state changes, so the counts by state
always add up to everyone who has entered, which the conservation tests check.  Children
are counted as children (a sibling pair counts two); households as one each.  An optional
event log records every change for audit.

A stretch of a journey that nothing else can change (stage 1 and the break, say) is simulated as
one wait, and the changes of state within it are booked ahead with ``move_at``: each is made at
its own time, before anything later is counted, moved or logged, so the counts, the states and
the log are at every moment as if each change had been an event of its own.
"""

from __future__ import annotations

import itertools
from collections import Counter
from heapq import heappop, heappush

HOUSEHOLD = "household"
CHILD = "child"

HOUSEHOLD_STATES = (
    "enquiry", "stage1", "break", "stage2", "awaiting_decision", "approved_waiting", "linked", "placed",
    "between_adoptions",
    # exits
    "enquiry_closed", "withdrawn", "not_approved", "deregistered", "placed_elsewhere", "adopted_left",
    "disrupted_left",
)
CHILD_STATES = (
    "in_proceedings", "plan", "ep_placed", "waiting", "linked", "matched", "placed",
    # exits
    "adopted", "plan_declined", "plan_changed",
)
STATES = {HOUSEHOLD: HOUSEHOLD_STATES, CHILD: CHILD_STATES}


class Census:
    """Counts by state, kept in step with each entity's ``state`` attribute.

    Counts are kept in one dictionary per kind, keyed by state, because ``move`` runs on
    almost every event; ``counts`` gives them keyed by (kind, state).
    """

    __slots__ = ("env", "by_kind", "log", "entered", "booked", "_order")

    def __init__(self, env, event_log: bool = False):
        self.env = env
        self.by_kind: dict[str, dict[str, int]] = {kind: dict.fromkeys(states, 0) for kind, states in STATES.items()}
        self.entered: Counter = Counter()
        self.log: list[tuple] | None = [] if event_log else None
        self.booked: list[tuple] = []  # moves booked ahead: (time, order booked, entity, state, enters), soonest first
        self._order = itertools.count()

    @property
    def counts(self) -> dict[tuple[str, str], int]:
        """How many households or children are in each (kind, state)."""
        if self.booked and self.booked[0][0] <= self.env.now:  # a booked move is due
            self.catch_up()
        return {(kind, state): n for kind, counts in self.by_kind.items() for state, n in counts.items()}

    def enter(self, entity, state: str) -> None:
        """A new entity (or batch of closed enquiries, with ``size``) joins in ``state``."""
        if self.booked and self.booked[0][0] <= self.env.now:  # a booked move is due
            self.catch_up()
        self._enter(entity, state, self.env.now)

    def enter_at(self, entity, state: str, t: float) -> None:
        """A new entity joins in ``state`` on day ``t`` (now or later), without an event of its own."""
        self._book(entity, state, t, True)

    def _enter(self, entity, state: str, t: float) -> None:
        entity.state = state
        self.by_kind[entity.kind][state] += entity.size
        self.entered[entity.kind] += entity.size
        if self.log is not None:
            self.log.append((t, entity.kind, entity.id, entity.size, None, state))

    def move(self, entity, state: str) -> None:
        """Move an entity to ``state``."""
        if self.booked and self.booked[0][0] <= self.env.now:  # a booked move is due
            self.catch_up()
        self._move(entity, state, self.env.now)

    def move_at(self, entity, state: str, t: float) -> None:
        """Move an entity to ``state`` on day ``t`` (now or later), without an event of its own."""
        self._book(entity, state, t, False)

    def _book(self, entity, state: str, t: float, enters: bool) -> None:
        if t <= self.env.now:
            (self.enter if enters else self.move)(entity, state)
        else:
            heappush(self.booked, (t, next(self._order), entity, state, enters))

    def catch_up(self) -> None:
        """Make the moves booked for now or earlier, in the order of their times."""
        booked, now = self.booked, self.env.now
        while booked and booked[0][0] <= now:
            t, _, entity, state, enters = heappop(booked)
            (self._enter if enters else self._move)(entity, state, t)

    def _move(self, entity, state: str, t: float) -> None:
        old, n = entity.state, entity.size
        counts = self.by_kind[entity.kind]
        counts[old] -= n
        counts[state] += n
        entity.state = state
        if self.log is not None:
            self.log.append((t, entity.kind, entity.id, n, old, state))

    def retire(self, entity, reason: str) -> None:
        """Take a group out of the census because it is replaced by others (a split sibling group)."""
        if self.booked and self.booked[0][0] <= self.env.now:  # a booked move is due
            self.catch_up()
        self.by_kind[entity.kind][entity.state] -= entity.size
        self.entered[entity.kind] -= entity.size
        if self.log is not None:
            self.log.append((self.env.now, entity.kind, entity.id, entity.size, entity.state, reason))
        entity.state = reason

    def count(self, kind: str, *states: str) -> int:
        """How many households or children are in any of ``states`` now."""
        if self.booked and self.booked[0][0] <= self.env.now:  # a booked move is due
            self.catch_up()
        counts = self.by_kind[kind]
        return sum(counts[s] for s in states)

    def total(self, kind: str) -> int:
        """Everyone of ``kind`` counted in some state (equals ``entered`` when conserved)."""
        if self.booked and self.booked[0][0] <= self.env.now:  # a booked move is due
            self.catch_up()
        return sum(self.by_kind[kind].values())
