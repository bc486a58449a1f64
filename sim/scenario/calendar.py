"""The simulation's calendar: days, months and financial years.

Simulated time is in days from 1 April of the first simulated financial year (the first
warm-up year).  A financial year runs April to March and is written "2025-26"; a month is
written "2025-04".  Months are twelfths of a year of 365.25 days, so month boundaries and
year ends line up exactly with the year-by-year tallies.
"""

from __future__ import annotations

import re

YEAR_DAYS = 365.25
MONTH_DAYS = YEAR_DAYS / 12

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def financial_year_label(year: int) -> str:
    """'2022-23' for the financial year starting in April 2022."""
    return f"{year}-{(year + 1) % 100:02d}"


def parse_date(text: str) -> tuple[int, int, bool]:
    """A month "2025-04" or a financial year "2025-26" as (calendar year, month 1-12, is_year).

    A financial year stands for its first month (April) when a period starts, and for its last
    (March) when a period ends; the caller decides which.  Where both readings are possible
    (years 2000 to 2011: "2008-09"), the text is read as a financial year.  Raises ``ValueError`` with what is
    allowed.
    """
    m = _MONTH.match(text.strip()) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"{text!r} is not a date: write a month as 'YYYY-MM' (e.g. '2025-04') or a financial "
                         "year as 'YYYY-YY' (e.g. '2025-26')")
    year, second = int(m.group(1)), int(m.group(2))
    if second == (year + 1) % 100:  # read as a financial year (so "2011-12" is April 2011 to March 2012)
        return year, 4, True
    if 1 <= second <= 12:
        return year, second, False
    raise ValueError(f"{text!r} is neither a month 'YYYY-MM' (month 01 to 12) nor a financial year 'YYYY-YY' "
                     f"(for April {year} to March {year + 1}: '{financial_year_label(year)}')")


def month_index(year: int, month: int, first_year: int) -> int:
    """Months from the start of simulated time (April of ``first_year``) to the start of a month."""
    return (year - first_year) * 12 + (month - 4)


def start_month(text: str, first_year: int) -> int:
    """The month index at which a period given as a month or a financial year starts."""
    year, month, _ = parse_date(text)
    return month_index(year, month, first_year)


def end_month(text: str, first_year: int) -> int:
    """The month index of the last month of a period ending at a month or a financial year (inclusive)."""
    year, month, is_year = parse_date(text)
    return month_index(year + 1, 3, first_year) if is_year else month_index(year, month, first_year)


def month_label(index: int, first_year: int) -> str:
    """'2025-04' for a month index."""
    months = first_year * 12 + 3 + index  # months since year 0, January = 0
    return f"{months // 12:04d}-{months % 12 + 1:02d}"
