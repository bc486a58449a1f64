"""Who is where: the state of every household and child at every moment.

Every entity (an adopter household, or a group of children who move together) is in
exactly one state.  ``move`` is the only way a state changes, so the counts by state
always add up to everyone who has entered, which the conservation tests check.  Children
are counted as children (a sibling pair counts two); households as one each.  An optional
event log records every change for audit.
"""

from __future__ import annotations

from collections import Counter

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

    __slots__ = ("env", "by_kind", "log", "entered")

    def __init__(self, env, event_log: bool = False):
        self.env = env
        self.by_kind: dict[str, dict[str, int]] = {kind: dict.fromkeys(states, 0) for kind, states in STATES.items()}
        self.entered: Counter = Counter()
        self.log: list[tuple] | None = [] if event_log else None

    @property
    def counts(self) -> dict[tuple[str, str], int]:
        """How many households or children are in each (kind, state)."""
        return {(kind, state): n for kind, counts in self.by_kind.items() for state, n in counts.items()}

    def enter(self, entity, state: str) -> None:
        """A new entity (or batch of closed enquiries, with ``size``) joins in ``state``."""
        entity.state = state
        self.by_kind[entity.kind][state] += entity.size
        self.entered[entity.kind] += entity.size
        if self.log is not None:
            self.log.append((self.env.now, entity.kind, entity.id, entity.size, None, state))

    def move(self, entity, state: str) -> None:
        """Move an entity to ``state``."""
        old, n = entity.state, entity.size
        counts = self.by_kind[entity.kind]
        counts[old] -= n
        counts[state] += n
        entity.state = state
        if self.log is not None:
            self.log.append((self.env.now, entity.kind, entity.id, n, old, state))

    def retire(self, entity, reason: str) -> None:
        """Take a group out of the census because it is replaced by others (a split sibling group)."""
        self.by_kind[entity.kind][entity.state] -= entity.size
        self.entered[entity.kind] -= entity.size
        if self.log is not None:
            self.log.append((self.env.now, entity.kind, entity.id, entity.size, entity.state, reason))
        entity.state = reason

    def count(self, kind: str, *states: str) -> int:
        """How many households or children are in any of ``states`` now."""
        counts = self.by_kind[kind]
        return sum(counts[s] for s in states)

    def total(self, kind: str) -> int:
        """Everyone of ``kind`` counted in some state (equals ``entered`` when conserved)."""
        return sum(self.by_kind[kind].values())
