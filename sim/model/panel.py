"""The adoption panel: approvals and matches heard on panel dates, as agencies run their panels.

Every case that goes to panel is either an **approval** (a household at the end of stage 2)
or a **match** (a child or sibling group and a family); each waits in its own queue, first
come first served.  The rule:

1. **Regular sittings.**  Panels sit every ``1 / panels_per_month`` of a month, the first half
   an interval after the start, and each hears at most ``cases_per_panel`` cases.
2. **Places shared between the two kinds.**  Each sitting reserves ``approval_share`` of its
   places for approvals and the rest for matches.  A share that is not a whole number of
   places is rounded to the nearest place and the rounding carried to the next sitting, so
   that over sittings approvals are reserved exactly ``approval_share`` of all places (a
   share of 0.44 of 6 places reserves 3, 2, 3, 3, 2 ... places).  Places one kind leaves
   unused go to the other kind's waiting cases, so a sitting is never left with an empty
   place while a case of either kind waits.  When both kinds have more cases waiting than
   their reserve, neither can crowd out the other: a backlog of matches no longer stops
   approvals, nor a backlog of approvals matches.
3. **Extra sittings when busy.**  A regular sitting that leaves cases waiting is followed by
   an extra sitting half an interval later (midway to the next regular date), heard by the
   same rule, as long as fewer than ``extra_panels_per_month`` extra sittings have been held
   in that month (months of the simulation clock, counted on the extra sitting's date).  At
   most one extra sitting falls between two regular dates, so extra sittings at most double
   the regular ones.  An extra sitting is never convened when no cases would be left waiting.

Why this rule: agencies hold panels on planned dates and add dates when business backs up
(C&P 2022/23, Appendix D §3.0: panels ran on the dates planned and no case was delayed;
Cambridgeshire 2017/18 §1.2.5: "approximately 2-3 times a month"), because neither kind may
wait months: an approval is due within the four months of stage 2, and a match decision
counts towards A2 (121 days).  An agency keeps room for both kinds of business rather than
hearing whichever arrived first, so the reserve follows the usual mix of cases (C&P 2022/23:
34 approvals and 44 matches).  One queue first come first served let a backlog of one kind
fill every sitting and starve the other.

The cases heard at a sitting are released in the order they arrived, whatever their kind.
While the panel has room for every case waiting, the rule is exactly first come, first
served.  With no panels, or no places on them, nothing is ever heard: no approvals and no
matches.  The agency decision maker's lag after panel is applied by the caller.

:meth:`AdoptionPanel.set_capacity` changes the panel part-way through a run, from the next
sitting: a sitting already scheduled (regular, or extra and already convened) keeps its date
and sits with the new places and share; the regular dates after it follow the new number of
panels a month.  A change to no panels cancels the sittings still to come (cases wait until
panels resume); a change from no panels to some starts sittings again, the first half a new
interval after the change.

Cost: the queues are heaps ordered by the day a case is ready, so booking a case, putting it in
its queue when it is ready and hearing it each take time in the logarithm of the queue's length; a
sitting costs that for each case it hears (and each booked case that became ready), never time in
proportion to the whole length of the queues.
"""

from __future__ import annotations

import itertools
from heapq import heappop, heappush

from simpy.events import Event

from sim.model.journey import begin
from sim.scenario.calendar import MONTH_DAYS

APPROVAL, MATCH = "approval", "match"
KINDS = (APPROVAL, MATCH)


def capacity(panel) -> dict:
    """The arguments of :class:`AdoptionPanel` and :meth:`AdoptionPanel.set_capacity` from a
    ``[panel]`` section: ``AdoptionPanel(env, **capacity(scenario.panel))``."""
    return {"panels_per_month": panel.panels_per_month, "cases_per_panel": panel.cases_per_panel,
            "extra_panels_per_month": panel.extra_panels_per_month, "approval_share": panel.approval_share}


class AdoptionPanel:
    """Approvals and matches heard on panel dates, each kind with its share of the places."""

    def __init__(self, env, panels_per_month: float, cases_per_panel: int,
                 extra_panels_per_month: int = 0, approval_share: float = 0.5):
        self.env = env
        self.approvals: list = []  # (day ready, arrival number, event): a heap, oldest first
        self.matches: list = []
        self._queues = {APPROVAL: self.approvals, MATCH: self.matches}
        self._booked: list = []  # cases ready on a later day: (day, arrival number, event, its queue), a heap
        self._arrivals = itertools.count()
        self._credit = 0.0  # approval places owed by the rounding of earlier sittings' reserves
        self._generation = 0  # sittings of an older generation are cancelled
        self._extra_month, self._extra_held = -1, 0
        self.regular_sittings = self.extra_sittings = 0
        self.panels_per_month = 0.0
        self.interval = 0.0
        self.set_capacity(panels_per_month, cases_per_panel, extra_panels_per_month, approval_share)

    def set_capacity(self, panels_per_month: float, cases_per_panel: int,
                     extra_panels_per_month: int | None = None, approval_share: float | None = None) -> None:
        """Change the panel from the next sitting on (``None`` keeps a value as it is).

        Places, extra sittings and the approvals' share apply from the next sitting; the
        regular dates after it follow ``panels_per_month``.  From no panels to some, the first
        sitting is half a new interval after now; to no panels, the sittings to come are cancelled.
        """
        extra = self.extra_panels_per_month if extra_panels_per_month is None else extra_panels_per_month
        share = self.approval_share if approval_share is None else approval_share
        if panels_per_month < 0 or cases_per_panel < 0 or extra < 0:
            raise ValueError("panels a month, cases a panel and extra panels a month cannot be negative")
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"approval_share must lie in [0, 1], got {share}")
        self.cases_per_panel = int(cases_per_panel)
        self.extra_panels_per_month = int(extra)
        self.approval_share = float(share)
        was_sitting = self.panels_per_month > 0
        self.panels_per_month = float(panels_per_month)
        if self.panels_per_month > 0:
            self.interval = MONTH_DAYS / self.panels_per_month
            if not was_sitting:
                self._generation += 1
                begin(self._sittings(self._generation))
        else:
            self._generation += 1  # cancels the sittings scheduled

    def hear(self, kind: str, at: float | None = None) -> Event:
        """An event that fires on the date of the sitting that hears this case ("approval" or "match"),
        ready to be heard now or from day ``at``.  A case ready on a later day (a match whose
        paperwork takes ``link_to_panel_days``) is booked: it joins the queue in its place among
        the others, by the day it is ready, without an event of its own."""
        try:
            queue = self._queues[kind]
        except KeyError:
            raise ValueError(f"a panel hears an {APPROVAL!r} or a {MATCH!r}, not {kind!r}") from None
        event = Event(self.env)
        now = self.env.now
        if at is None or at <= now:
            heappush(queue, (now, next(self._arrivals), event))
        else:
            heappush(self._booked, (at, next(self._arrivals), event, queue))
        return event

    def waiting(self, kind: str) -> int:
        """Cases of ``kind`` waiting for a sitting (ready by now)."""
        self._catch_up()
        return len(self._queues[kind])

    def _catch_up(self) -> None:
        """Put the cases booked to be ready by now in their queues."""
        booked, now = self._booked, self.env.now
        while booked and booked[0][0] <= now:
            day, number, event, queue = heappop(booked)
            heappush(queue, (day, number, event))

    def _sittings(self, generation: int):
        env = self.env
        yield env.timeout(self.interval / 2)
        while generation == self._generation:
            left_waiting = self._sit()
            self.regular_sittings += 1
            next_regular = env.now + self.interval
            extra_t = env.now + self.interval / 2
            if left_waiting and self._extra_allowed(extra_t):
                yield env.timeout(extra_t - env.now)
                if generation != self._generation:
                    return
                self._sit()
                self._count_extra(extra_t)
                yield env.timeout(max(0.0, next_regular - env.now))
            else:
                yield env.timeout(self.interval)

    def _extra_allowed(self, t: float) -> bool:
        if self.extra_panels_per_month <= 0 or self.cases_per_panel <= 0:
            return False
        held = self._extra_held if int(t // MONTH_DAYS) == self._extra_month else 0
        return held < self.extra_panels_per_month

    def _count_extra(self, t: float) -> None:
        month = int(t // MONTH_DAYS)
        if month != self._extra_month:
            self._extra_month, self._extra_held = month, 0
        self._extra_held += 1
        self.extra_sittings += 1

    def _sit(self) -> bool:
        """Hear the cases this sitting has places for; True if cases are left waiting."""
        self._catch_up()
        places = self.cases_per_panel
        approvals, matches = self.approvals, self.matches
        n_a, n_m = len(approvals), len(matches)
        credit = self._credit + self.approval_share * places
        reserved = min(places, int(credit + 0.5))  # credit + 0.5 >= 0, so int() rounds down
        self._credit = credit - reserved
        if n_a + n_m <= places:  # room for everyone waiting
            heard_a, heard_m = n_a, n_m
        else:
            heard_a, heard_m = min(n_a, reserved), min(n_m, places - reserved)
            spare = places - heard_a - heard_m  # a reserve one kind leaves unused goes to the other
            if spare:
                more = min(n_a - heard_a, spare)
                heard_a += more
                heard_m += min(n_m - heard_m, spare - more)
        if heard_a and heard_m:  # release in order of arrival
            heard = [heappop(approvals) for _ in range(heard_a)] + [heappop(matches) for _ in range(heard_m)]
            heard.sort()  # by day ready and arrival number, which is unique
            for _, _, event in heard:
                event.succeed()
        else:
            queue = approvals if heard_a else matches
            for _ in range(heard_a or heard_m):
                heappop(queue)[2].succeed()
        return n_a + n_m > places
