"""Year-by-year tallies of one replication: counts, averages and year-end stocks.

Time runs in days from the start of the warm-up.  Financial year ``y`` (0 = the first
reported year, April to March) covers days ``[(warm_up + y) * YEAR_DAYS, (warm_up + y + 1) *
YEAR_DAYS)``; anything in the warm-up or beyond the horizon is not tallied.
"""

from __future__ import annotations

import math

from sim.model.kpis import COUNT, KPIS, MONEY, STOCK
from sim.scenario.calendar import YEAR_DAYS


class Tally:
    """Accumulates one replication's KPIs by reported financial year."""

    __slots__ = ("years", "offset", "totals", "sums", "weights", "stocks")

    def __init__(self, years: int, warm_up_years: int):
        self.years = years
        self.offset = warm_up_years
        self.totals = {k.name: [0.0] * years for k in KPIS if k.kind in (COUNT, MONEY)}
        self.sums = {k.name: [0.0] * years for k in KPIS if k.kind not in (COUNT, MONEY, STOCK)}
        self.weights = {name: [0.0] * years for name in self.sums}
        self.stocks = {k.name: [math.nan] * years for k in KPIS if k.kind == STOCK}

    def year_of(self, t: float) -> int:
        """Reported year index of day ``t``, or -1 outside the reported horizon."""
        y = int(t // YEAR_DAYS) - self.offset
        return y if 0 <= y < self.years else -1

    # ``add`` and ``observe`` run on most events, so they work out the year themselves
    # (as ``year_of`` does) rather than call it.

    def add(self, name: str, t: float, amount: float = 1.0) -> None:
        """Count ``amount`` (events, children or pounds) in the year of day ``t``."""
        y = int(t // YEAR_DAYS) - self.offset
        if 0 <= y < self.years:
            self.totals[name][y] += amount

    def observe(self, name: str, t: float, value: float, weight: float = 1.0) -> None:
        """Add an observation to a yearly average (days, or 0/100 for a percentage)."""
        y = int(t // YEAR_DAYS) - self.offset
        if 0 <= y < self.years:
            self.sums[name][y] += value * weight
            self.weights[name][y] += weight

    def set_stock(self, name: str, year: int, value: float) -> None:
        """Record a year-end stock."""
        self.stocks[name][year] = value

    def results(self) -> dict[str, list[float]]:
        """Every KPI by year; an average with no observations is NaN."""
        out: dict[str, list[float]] = {}
        out.update(self.totals)
        for name, sums in self.sums.items():
            w = self.weights[name]
            out[name] = [s / n if n > 0 else math.nan for s, n in zip(sums, w)]
        out.update(self.stocks)
        fees, income = out["interagency_fees_gbp"], out["interagency_income_gbp"]
        out["interagency_net_gbp"] = [f - i for f, i in zip(fees, income)]
        return out
