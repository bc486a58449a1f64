"""The budget window: the financial years a finance paper totals and a board paper reads.

Finance asks about the coming years ("what do we save over the next three?"), so the finance view
and the board paper open on the next :data:`BUDGET_YEARS` financial years after today's, the app's
default horizon reaches them, and headline figures open on the window's last year, by which a change
begun now has had time to show through the pipeline's lags.
"""

from __future__ import annotations

from datetime import date

from sim.scenario.calendar import financial_year_label
from sim.scenario.parameters import HORIZON_YEARS

#: A budget paper's window: the next this many financial years.
BUDGET_YEARS = 3


def budget_years(today: date | None = None) -> list[int]:
    """The first calendar years of the next :data:`BUDGET_YEARS` financial years after the one
    ``today`` (default: the date now) falls in: on 7 December 2026, 2027-28 to 2029-30."""
    today = today or date.today()
    current = today.year if today.month >= 4 else today.year - 1
    return [current + k for k in range(1, BUDGET_YEARS + 1)]


def horizon_reaching_budget(start_year: int, today: date | None = None) -> int:
    """Financial years to simulate from ``start_year`` so that the run reaches the end of the budget
    window (:func:`budget_years`), and at least the usual horizon."""
    return max(HORIZON_YEARS, budget_years(today)[-1] - start_year + 1)


def default_horizon(start_year: int, years: int, today: date | None = None) -> int:
    """The horizon a run opens on, in the app and on the command line alike: a scenario's own
    ``years``, lengthened to reach the end of the budget window."""
    return max(years, horizon_reaching_budget(start_year, today))


def default_window(year_labels: list[str], today: date | None = None) -> tuple[str, str]:
    """The window a finance view opens on: the budget window's years the run reaches, or, for a run
    that ends before it, the run's last :data:`BUDGET_YEARS` years."""
    wanted = [financial_year_label(y) for y in budget_years(today)]
    inside = [label for label in wanted if label in year_labels]
    chosen = inside or list(year_labels)[-BUDGET_YEARS:]
    return chosen[0], chosen[-1]


def window_end_year(start_year: int, years: int, today: date | None = None) -> int:
    """The year (1 = ``start_year``'s financial year) of the budget window's last year that a run of
    ``years`` reaches; for a run that ends before the window, its last year."""
    return max((y - start_year + 1 for y in budget_years(today) if 1 <= y - start_year + 1 <= years), default=years)


def window_reached(start_year: int, years: int, today: date | None = None) -> bool:
    """Whether a run of ``years`` from ``start_year`` reaches any year of the budget window."""
    return any(1 <= y - start_year + 1 <= years for y in budget_years(today))
