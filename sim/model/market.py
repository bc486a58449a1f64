"""A market of agencies: many agencies in one simulation, matching across them, and the ledger of fees.

Each agency (a local authority or regional adoption agency with its children and adopters, or a
voluntary adoption agency with adopters only) is an ordinary pipeline (:mod:`sim.model.pipeline`)
with its own random streams, all in one simpy environment.  The market links them:

* **Adopters offered to the market.**  An agency's approved household waiting in its pool is
  offered to other agencies' children once the agency's own in-house search window
  (``matching.inhouse_search_days``, in force when it joins the pool) has passed without an
  in-house link; a voluntary adoption agency has no children of its own, so it offers its
  households at once.  A household stays in its own agency's pool meanwhile, so its agency can
  still link it in-house.
* **Children seeking an interagency family.**  A child waiting with a placement order is offered
  the market's households once its own agency's in-house search window has passed since the
  order (while its agency goes on searching in-house).
* **The rule.**  Every ``round_days`` (weekly), if anything was offered since the last round,
  children seeking, longest-waiting first (date of the order), each take the longest-offered
  compatible household of *another* agency in the child's region; if there is none, the
  longest-offered one anywhere in England.  Compatible is as in-house
  (:func:`sim.model.matching.first_compatible`): a group that size, a child that age, complex needs.
* **Pooled regions.**  In a region that pools its adopters, its agencies' households are offered to
  the region's other agencies' children from the day they join their own pool, and the region's
  children seek in the region from the day they join their waiting list; England still sees
  them only after the agency's window.  Placements between the region's agencies still pay the
  fee (pooling shares families, not budgets).
* **Fees.**  Each interagency placement books the fee, by the placing agency's schedule for the
  provider's kind (VAA or LA/RAA), group size and financial year, from the placing agency to the
  provider, with any monthly fees after 12 months without an order: the payer's
  ``interagency_fees_gbp`` and the provider's ``interagency_income_gbp``, and one ledger row.
  Households are no longer taken away by other agencies at a fixed rate
  (``adopters.external_placement_per_year``): in a market, that is what the market does.

Waiting households are indexed by region and by compatibility class (largest group taken, open to
older children, open to complex needs: 12 classes), so a child looks at the head of at most 12
lists in its region and 12 in England, never at every household: the work of a round grows with
the number of children seeking, not with the number of agencies or households.  A child who
waited through the last round is offered only the classes that households joined since (after a
round no child left seeking can take any household left on offer, and children only grow older).  Entries whose household or child has been linked, has left, or has
rejoined since are dropped when met.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import count

from sim.model.children import INHOUSE
from sim.model.entities import OLDER_AGE
from sim.model.interagency_fee import LA, VAA
from sim.model.journey import begin
from sim.model.matching import Arrivals, link
from sim.model.pipeline import (
    ReplicationResult,
    collector_paused,
    end_time,
    processed_events,
    replication_result,
    start,
)
from sim.model.streams import agency_streams
from sim.scenario.market_file import Agency
from sim.scenario.parameter_sets import replication_scenario
from sim.scenario.parameters import Scenario

#: The fee schedule each kind of provider charges (sim.model.interagency_fee).
FEE_SCHEDULE = {"la": LA, "raa": LA, "vaa": VAA}
ROUND_DAYS = 7.0  # assumption: a weekly national matching round, as agencies' own family-finding meetings
ENGLAND = "England"


@dataclass
class MarketReplication:
    """One replication of a market: every agency's KPIs by year, in the agencies' order, and the
    ledger ``{(payer, provider, year): [children placed, fees £]}`` (agency numbers, year 0 = the
    first reported year)."""

    replication: int
    agencies: list[ReplicationResult]
    ledger: dict[tuple[int, int, int], list[float]] = field(default_factory=dict)
    events: int = 0


def household_class(h) -> int:
    """A household's compatibility class (0-11): largest group, older children, complex needs."""
    return (h.max_group - 1) * 4 + 2 * h.older + h.complex


def _classes_taking(size: int, older: bool, complex_needs: bool) -> tuple[int, ...]:
    return tuple((g - 1) * 4 + 2 * o + x for g in (1, 2, 3) for o in (0, 1) for x in (0, 1)
                 if size <= g and (o or not older) and (x or not complex_needs))


#: The classes that can take a child, by (group size up to 4, older, complex needs).
CLASSES_TAKING = {(s, o, x): _classes_taking(s, o, x) for s in (1, 2, 3, 4) for o in (False, True)
                  for x in (False, True)}


class Market:
    """The agencies of one replication in one environment, the market's offers, rounds and ledger."""

    def __init__(self, agencies: list[Agency], seed: int, replication: int, event_log: bool = False,
                 round_days: float = ROUND_DAYS, pooled_regions=()):
        self.kinds = [a.kind for a in agencies]
        self.regions = [a.region for a in agencies]
        self.pooled = [a.region in pooled_regions for a in agencies]
        self.pipelines: list = []
        self._agency_of: dict[int, int] = {}  # id of an agency's matcher -> the agency's number
        self.offers: dict[tuple[str, int], dict] = defaultdict(dict)  # (region, class) -> {household: (order, token)}
        self.seeking: list = []  # children offered the market: (child, token, agency, day England is searched)
        self.new_children: set = set()  # offered since the last round
        self.fresh: dict = {}  # households offered since the last round: household -> (class, token)
        self.ledger: dict[tuple[int, int, int], list[float]] = {}
        self._order = count()
        self.round_days = round_days
        self.arrivals = None  # the joins the agencies' matchers book ahead, one heap for all (sim.model.matching)
        env = None
        for k, agency in enumerate(agencies):
            scenario = _in_market(replication_scenario(agency.scenario, replication))
            env = start(scenario, replication, event_log, env, agency_streams(seed, replication, k), market=self,
                        agency=k).env
        self.env = env
        begin(self._rounds())

    def admit(self, p) -> None:
        """Agency ``p`` (its number ``p.agency``, the next in order) joins, before its journeys begin."""
        self._agency_of[id(p.matcher)] = p.agency
        self.pipelines.append(p)
        if self.arrivals is None:
            self.arrivals = Arrivals(p.env)
        p.matcher.arrivals = self.arrivals  # joins across agencies are made in the order of their days

    # --- what the agencies' matchers tell the market -------------------------------------

    # A join booked ahead is made (and told here) at the latest when anything next reads or changes
    # a list, the market's included, so each offer is made on its own day, in the order of the days.

    def household_waiting(self, matcher, h, day: float) -> None:
        """A household joined its agency's pool on ``day``: offer it once the agency's search window
        is over."""
        k = self._agency_of[id(matcher)]
        h.agency = k
        p = self.pipelines[k]
        window = 0.0 if self.kinds[k] == "vaa" else p.scenario.matching.inhouse_search_days
        token = h.linked
        if self.pooled[k] and window > 0:  # the region's agencies see it at once, England after the window
            self._offer_household(h, token, k, (self.regions[k],))
            self._on(day + window, lambda _: self._offer_household(h, token, k, (ENGLAND,)))
        else:
            self._on(day + window, lambda _: self._offer_household(h, token, k, (self.regions[k], ENGLAND)))

    def child_waiting(self, matcher, c, day: float) -> None:
        """A child joined its agency's waiting list on ``day``: offer it the market once its agency's
        search window after the order is over."""
        k = self._agency_of[id(matcher)]
        p = self.pipelines[k]
        open_day = max(day, c.order_t + p.scenario.matching.inhouse_search_days)
        token = c.linked
        if self.pooled[k] and open_day > day:  # its region at once, England after the window
            self._seek(c, token, k, open_day)
            self._on(open_day, lambda _: self._look_again(c, token))
        else:
            self._on(open_day, lambda _: self._seek(c, token, k, open_day))

    def _on(self, day: float, act) -> None:
        """Do ``act`` on ``day``: now if the day has come (a join made late), else when it comes."""
        now = self.env.now
        if day <= now:
            act(None)
        else:
            self.env.timeout(day - now).callbacks.append(act)

    def _offer_household(self, h, token, k: int, scopes) -> None:
        self.arrivals.catch_up()  # offers are made in the order of their days
        if h.linked is not token or token.triggered:  # linked in-house, or left, meanwhile
            return
        cls = household_class(h)
        entry = (next(self._order), token)
        for scope in scopes:
            self.offers[(scope, cls)][h] = entry
        self.fresh[h] = (cls, token)

    def _seek(self, c, token, k: int, england_from: float) -> None:
        if c.linked is not token or token.triggered:
            return
        self.seeking.append((c, token, k, england_from))
        self.new_children.add(c)

    def _look_again(self, c, token) -> None:
        """A child of a pooled region whose own window is over: England is searched from the next round."""
        if c.linked is token and not token.triggered:
            self.new_children.add(c)

    # --- the rounds -------------------------------------------------------------------------

    def _rounds(self):
        env = self.env
        while True:
            yield env.timeout(self.round_days)
            self.arrivals.catch_up()
            if self.new_children or self.fresh:
                self.match_round(env.now)

    def match_round(self, t: float) -> None:
        """One round at day ``t`` (the rule in the module docstring)."""
        new_children, self.new_children = self.new_children, set()
        fresh, self.fresh = self.fresh, {}
        # A child who waited through the last round can take only a household offered since: the
        # classes of those still free, and how many of each.
        live: dict[int, int] = {}
        for h, (cls, token) in fresh.items():
            if h.linked is token and not token.triggered:
                live[cls] = live.get(cls, 0) + 1
        seeking = [e for e in self.seeking if e[0].linked is e[1] and not e[1].triggered]
        seeking.sort(key=lambda e: e[0].order_t)
        left = []
        for entry in seeking:
            c, _, k, england_from = entry
            new = c in new_children
            if not new and not live:  # every household offered since the last round is taken
                left.append(entry)
                continue
            classes = CLASSES_TAKING[(min(c.size, 4), c.age(t) >= OLDER_AGE, c.complex)]
            if not new:
                classes = [x for x in classes if x in live]
            if classes:
                h = self._longest_offered(self.regions[k], classes, k)
                if h is None and t >= england_from:
                    h = self._longest_offered(ENGLAND, classes, k)
                if h is not None:
                    self._take(c, k, h)
                    if h in fresh:
                        cls = fresh[h][0]
                        live[cls] -= 1
                        if not live[cls]:
                            del live[cls]
                    continue
            left.append(entry)
        self.seeking = left

    def _longest_offered(self, region: str, classes, k: int):
        """The household offered longest, of a class in ``classes``, in ``region``, not of agency ``k``."""
        best, best_order = None, None
        for cls in classes:
            offered = self.offers.get((region, cls))
            if not offered:
                continue
            gone = []
            for h, (order, token) in offered.items():
                if h.linked is not token or token.triggered:
                    gone.append(h)
                elif h.agency != k:
                    if best_order is None or order < best_order:
                        best, best_order = h, order
                    break
            for h in gone:
                del offered[h]
        return best

    def _take(self, c, k: int, h) -> None:
        """Link child ``c`` of agency ``k`` with household ``h`` of another agency."""
        placing, providing = self.pipelines[k], self.pipelines[h.agency]
        placing.matcher.withdraw_child(c)
        providing.matcher.withdraw_household(h)
        placing.census.move(c, "linked")
        providing.census.move(h, "linked")
        link(c, h)

    # --- what the placing agency's children ask of the market --------------------------------

    def provider(self, p, h) -> str:
        """How agency ``p`` placing a child with ``h`` accounts for it: in-house for its own household,
        else the fee schedule of the provider's kind."""
        return INHOUSE if h.agency is None or h.agency == p.agency else FEE_SCHEDULE[self.kinds[h.agency]]

    def census_of(self, h):
        """The census of the agency that approved ``h``."""
        return self.pipelines[h.agency].census

    def book(self, p, h, t: float, fee: float, children: int) -> None:
        """Agency ``p`` pays ``fee`` (£) at day ``t`` to the agency that approved ``h`` (``children``
        placed with it then, 0 for a monthly fee): the provider's income and the ledger."""
        provider = self.pipelines[h.agency]
        provider.tally.add("interagency_income_gbp", t, fee)
        if children:
            provider.tally.add("external_placements", t)
        year = p.tally.year_of(t)
        if year >= 0:
            row = self.ledger.setdefault((p.agency, h.agency, year), [0.0, 0.0])
            row[0] += children
            row[1] += fee


def _in_market(scenario: Scenario) -> Scenario:
    """The scenario as one agency of a market: no household is taken away at a fixed rate, since
    other agencies' children now reach it through the market."""
    adopters = scenario.adopters.model_copy(update={"external_placement_per_year": 0.0})
    return scenario.model_copy(update={"adopters": adopters})


def run_market_replication(agencies: list[Agency], seed: int, replication: int, event_log: bool = False,
                           count_events: bool = False, round_days: float = ROUND_DAYS,
                           pooled_regions=()) -> MarketReplication:
    """Simulate one replication of a market over the warm-up and the reported years (the agencies'
    scenarios share their start year, warm-up and years); ``pooled_regions`` pool their adopters."""
    with collector_paused():
        market = Market(agencies, seed, replication, event_log, round_days, pooled_regions)
        env = market.env
        env.run(until=end_time(agencies[0].scenario))
        results = [replication_result(p, replication) for p in market.pipelines]
        return MarketReplication(replication, results, market.ledger,
                                 processed_events(env) if count_events else 0)
