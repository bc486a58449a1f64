"""Matching: the documented rule that links waiting children with approved adopters.

Rule, applied every ``matching.interval_days`` whenever the pool or the waiting list has
changed since the last round:

1. Early permanence first: children still in their early permanence window, in order of
   entering care, each take the longest-waiting compatible *dual-approved* household.
2. Then children with a placement order, longest-waiting first (date of the order), each
   take the longest-waiting compatible household among the agency's own approved adopters.

A household is compatible with a group when it will take a group that size, will take a
child of that age (5 and over only if open to older children), and, for a child with
complex needs, is open to complex needs.  Interagency searches run alongside (see
:mod:`sim.model.children`): a child not matched in-house within the search window is placed with
an interagency family found after a random search time, or, in a market of agencies, offered
other agencies' waiting adopters by the market (:mod:`sim.model.market`), which the matcher tells
of every household and child joining its lists.
"""

from __future__ import annotations

import itertools
from heapq import heappop, heappush
from math import inf
from operator import attrgetter

from sim.model.entities import OLDER_AGE
from sim.model.journey import begin

BY_ORDER_DATE = attrgetter("order_t")


def compatible(household, group, t: float) -> bool:
    """Whether ``household`` can offer a home to ``group`` at day ``t``."""
    return first_compatible((household,), group, t) is not None


def first_compatible(households, group, t: float, dual_only: bool = False):
    """The first of ``households`` (the longest waiting) that can offer ``group`` a home at day
    ``t`` and, if ``dual_only``, is dual approved; None if there is none."""
    size, complex_needs, older = group.size, group.complex, group.age(t) >= OLDER_AGE
    for h in households:
        if (size <= h.max_group and (h.complex or not complex_needs) and (h.older or not older)
                and (h.dual or not dual_only)):
            return h
    return None


def link(child, household) -> None:
    """Tell the child's side who its family is; the household, waiting on its outcome, is woken
    only when the placement ends.  Both ``linked`` tokens are let go, which takes the two off every
    list (the market's included) that holds them."""
    child_linked = child.linked
    child.linked = household.linked = None
    child_linked.succeed(household)


class Arrivals:
    """Joins booked ahead: entities that will join a matcher's list on a later day, soonest first.

    Waiting to be ready to link (an approved household, a child after the first weeks of family
    finding, a child entering care who looks for early permanence carers) is a stretch nothing else
    can change, so it is not an event: the join is booked for its day and made, in the order of the
    days, before anything reads or changes a list (a round, a join made now, a give-up, a link in
    the market).  The lists are then at every moment what they would be had each join been an
    event of its own.  A market's agencies share one ``Arrivals``, so joins across agencies are
    made in the order of their days too.
    """

    __slots__ = ("env", "heap", "_order", "_busy")

    def __init__(self, env):
        self.env = env
        self.heap: list[tuple] = []  # (day, order booked, matcher, entity, list)
        self._order = itertools.count()
        self._busy = False  # a join being made may ask again (a market's offer): the first asking goes on

    def book(self, day: float, matcher, entity, where: list) -> None:
        heappush(self.heap, (day, next(self._order), matcher, entity, where))

    def catch_up(self) -> None:
        """Make every join booked for now or earlier, in the order of their days."""
        heap, now = self.heap, self.env.now
        if self._busy or not heap or heap[0][0] > now:
            return
        self._busy = True
        try:
            while heap and heap[0][0] <= now:
                day, _, matcher, entity, where = heappop(heap)
                matcher.enter(entity, where, day)
        finally:
            self._busy = False


class Matcher:
    """The pool of approved adopters, the children waiting, and the matching rounds."""

    def __init__(self, env, census, interval_days: float):
        self.env = env
        self.census = census
        self.pool: list = []  # approved households waiting, in order of joining
        self.waiting: list = []  # children with an order waiting
        self.ep_seekers: list = []  # children in their early permanence window
        self.newcomers: set = set()  # entities added since the last round (a round is held only if any)
        self.interval = interval_days
        self.market = None  # in a market of agencies, the market this agency's lists are offered to
        self.arrivals = Arrivals(env)  # joins booked ahead (shared by a market's agencies)
        self.deadlines: list[tuple] = []  # (day, order, entity, its token, its list): who gives up when
        self._order = itertools.count()
        self.alarms: list[float] = []  # the days alarms are set for (a heap)
        begin(self._rounds())

    # Each ``add_*`` puts an entity on a list on day ``at`` (now, or booked for later) and returns the
    # event it waits on: a child's fires with its family when a round links it; a household's is its
    # ``outcome``, which fires when the placement ends; each fires with None on day ``until``, when
    # the entity comes off the list unlinked.  The days entities give up are kept in one heap, with
    # one alarm for the soonest that is still waiting: an entity linked before its day costs no event.

    def add_household(self, h, at: float | None = None, until: float = inf):
        """An approved household joins the pool; it waits on its ``outcome``."""
        return self._join(h, self.pool, at, until, h.outcome)

    def add_child(self, c, at: float | None = None, until: float = inf):
        """A child with a placement order joins the waiting list."""
        return self._join(c, self.waiting, at, until)

    def add_ep_seeker(self, c, at: float | None = None, until: float = inf):
        """A child in the early permanence window looks for dual-approved carers."""
        return self._join(c, self.ep_seekers, at, until)

    def withdraw_child(self, c) -> None:
        """Take a waiting child out of this agency's matching (linked elsewhere, by the market)."""
        self.waiting.remove(c)
        self.newcomers.discard(c)

    def withdraw_household(self, h) -> None:
        """Take an approved household out of this agency's pool (linked elsewhere, by the market)."""
        self.pool.remove(h)
        self.newcomers.discard(h)

    def _join(self, entity, where: list, at: float | None, until: float, event=None):
        now = self.env.now
        entity.linked = linked = self.env.event() if event is None else event
        if until < inf:
            heappush(self.deadlines, (until, next(self._order), entity, linked, where))
            if not self.alarms or until < self.alarms[0]:
                self._set_alarm(until)
        if at is None or at <= now:
            self.arrivals.catch_up()  # joins booked for earlier days come first
            self.enter(entity, where, now)
        else:
            self.arrivals.book(at, self, entity, where)
        return linked

    def enter(self, entity, where: list, day: float) -> None:
        """Put ``entity`` on its list (it joined on ``day``) and, in a market, tell the market."""
        where.append(entity)
        self.newcomers.add(entity)
        if self.market is not None:
            if where is self.pool:
                self.market.household_waiting(self, entity, day)
            elif where is self.waiting:
                self.market.child_waiting(self, entity, day)

    def _set_alarm(self, day: float) -> None:
        heappush(self.alarms, day)
        self.env.timeout(day - self.env.now).callbacks.append(self._ring)

    def _ring(self, _event) -> None:
        """Let go, unlinked, everyone whose day has come; set the alarm for the next still waiting.
        (An alarm set for an entity linked meanwhile, or overtaken by an earlier one, finds no one.)"""
        self.arrivals.catch_up()
        now, deadlines = self.env.now, self.deadlines
        heappop(self.alarms)  # this alarm: alarms ring in the order of their days
        while deadlines and (deadlines[0][0] <= now + 1e-9 or deadlines[0][2].linked is not deadlines[0][3]):
            _, _, entity, linked, where = heappop(deadlines)
            if entity.linked is linked and not linked.triggered:  # still on its list
                where.remove(entity)
                linked.succeed(None)
        if deadlines and (not self.alarms or deadlines[0][0] < self.alarms[0]):
            self._set_alarm(deadlines[0][0])

    def _rounds(self):
        env = self.env
        while True:
            yield env.timeout(self.interval)
            self.arrivals.catch_up()
            if self.newcomers:
                self.match_round(env.now)

    def match_round(self, t: float) -> None:
        """One matching round at day ``t`` (the rule in the module docstring).

        After a round no child left waiting can take any household left in the pool, and a
        pair that cannot be matched now cannot be matched later (children only grow older).
        So a child who waited through the last round is offered only the households that
        joined since: the same links as offering every household, in time that grows with
        the size of the agency rather than with its square.
        """
        census, pool = self.census, self.pool
        newcomers, self.newcomers = self.newcomers, set()
        joined = [h for h in pool if h in newcomers]  # households new since the last round, in pool order
        for c in list(self.ep_seekers):
            offered = pool if c in newcomers else joined
            h = first_compatible(offered, c, t, dual_only=True) if offered else None
            if h is not None:
                self.ep_seekers.remove(c)
                self._leave_pool(h, joined)
                census.move(c, "ep_placed")
                census.move(h, "placed")
                c.household = h
                link(c, h)
        if not pool or not self.waiting:
            return
        self.waiting.sort(key=BY_ORDER_DATE)
        for c in list(self.waiting):
            offered = pool if c in newcomers else joined
            h = first_compatible(offered, c, t) if offered else None
            if h is not None:
                self.waiting.remove(c)
                self._leave_pool(h, joined)
                census.move(c, "linked")
                census.move(h, "linked")
                link(c, h)
                if not pool:
                    return

    def _leave_pool(self, h, joined: list) -> None:
        self.pool.remove(h)
        if h in joined:
            joined.remove(h)
