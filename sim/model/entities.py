"""The two kinds of entity the model follows: adopter households and groups of children.

A sibling group moves through the pipeline as one entity with ``size`` children (a single
child is a group of one).  Households record what they can offer a child once approved.
"""

from __future__ import annotations

from sim.model.census import CHILD, HOUSEHOLD
from sim.scenario.calendar import YEAR_DAYS

OLDER_AGE = 5.0  # years: children aged 5 and over are harder to place (DOMAIN primer)


class Household:
    """An adopter household (or a batch of closed enquiries, with ``size`` > 1)."""

    kind = HOUSEHOLD
    __slots__ = ("id", "size", "state", "registered_t", "max_group", "older", "complex", "dual",
                 "linked", "outcome", "agency")

    def __init__(self, hid: int, size: int = 1):
        self.id = hid
        self.size = size
        self.state = None
        self.registered_t = None
        self.max_group = 1
        self.older = False
        self.complex = False
        self.dual = False
        self.linked = None
        self.outcome = None
        self.agency = None  # in a market, the number of the agency that approved it (else None)


class ChildGroup:
    """A child, or a sibling group placed together."""

    kind = CHILD
    __slots__ = ("id", "size", "state", "age_at_entry", "complex", "ep_candidate", "entry_t", "order_t",
                 "ep_t", "match_t", "placed_t", "linked", "household", "no_family")

    def __init__(self, cid: int, size: int, age_at_entry: float, complex_needs: bool, ep_candidate: bool,
                 entry_t: float):
        self.id = cid
        self.size = size
        self.state = None
        self.age_at_entry = age_at_entry
        self.complex = complex_needs
        self.ep_candidate = ep_candidate
        self.entry_t = entry_t
        self.order_t = None
        self.ep_t = None
        self.match_t = None
        self.placed_t = None
        self.linked = None
        self.household = None
        self.no_family = None  # drawn at the first search: True if no adoptive family will come forward

    def age(self, t: float) -> float:
        """Age in years at day ``t`` (the youngest-entered age for a group)."""
        return self.age_at_entry + (t - self.entry_t) / YEAR_DAYS

    def harder_to_place(self, t: float) -> bool:
        """Sibling group, complex needs, or aged 5 or over at ``t``."""
        return self.size > 1 or self.complex or self.age(t) >= OLDER_AGE
