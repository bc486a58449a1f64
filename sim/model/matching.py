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
        self.deadlines: list[tuple] = []  # (day, order, entity, its token, its list): who gives up when
        self._order = itertools.count()
        self.alarms: list[float] = []  # the days alarms are set for (a heap)
        begin(self._rounds())

    # Each ``add_*`` puts an entity on a list and returns the event it waits on: a child's fires
    # with its family when a round links it; a household's is its ``outcome``, which fires when
    # the placement ends; each fires with None once ``patience`` days have passed, when the
    # entity comes off the list unlinked.  The days entities give up are kept in one heap, with
    # one alarm for the soonest that is still waiting: an entity linked before its day costs no
    # event.

    def add_household(self, h, patience: float = inf):
        """An approved household joins the pool; it waits on its ``outcome``."""
        self.pool.append(h)
        self.newcomers.add(h)
        linked = self._link_or_give_up(h, self.pool, patience, h.outcome)
        if self.market is not None:
            self.market.household_waiting(self, h)
        return linked

    def add_child(self, c, patience: float = inf):
        """A child with a placement order joins the waiting list."""
        self.waiting.append(c)
        self.newcomers.add(c)
        linked = self._link_or_give_up(c, self.waiting, patience)
        if self.market is not None:
            self.market.child_waiting(self, c)
        return linked

    def add_ep_seeker(self, c, patience: float = inf):
        """A child in the early permanence window looks for dual-approved carers."""
        self.ep_seekers.append(c)
        self.newcomers.add(c)
        return self._link_or_give_up(c, self.ep_seekers, patience)

    def withdraw_child(self, c) -> None:
        """Take a waiting child out of this agency's matching (linked elsewhere, by the market)."""
        self.waiting.remove(c)
        self.newcomers.discard(c)

    def withdraw_household(self, h) -> None:
        """Take an approved household out of this agency's pool (linked elsewhere, by the market)."""
        self.pool.remove(h)
        self.newcomers.discard(h)

    def _link_or_give_up(self, entity, where: list, patience: float, event=None):
        entity.linked = linked = self.env.event() if event is None else event
        if patience < inf:
            day = self.env.now + patience
            heappush(self.deadlines, (day, next(self._order), entity, linked, where))
            if not self.alarms or day < self.alarms[0]:
                self._set_alarm(day)
        return linked

    def _set_alarm(self, day: float) -> None:
        heappush(self.alarms, day)
        self.env.timeout(day - self.env.now).callbacks.append(self._ring)

    def _ring(self, _event) -> None:
        """Let go, unlinked, everyone whose day has come; set the alarm for the next still waiting.
        (An alarm set for an entity linked meanwhile, or overtaken by an earlier one, finds no one.)"""
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
