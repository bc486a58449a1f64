"""Interagency fees: the schedule by provider, sibling-group size and financial year.

A placing agency pays the fee in full at placement; if no adoption order is made within
12 months a monthly fee follows until the order (public fee notes in shared/DOMAIN.md).
Fees between local authorities / RAAs (LA) and those of voluntary adoption agencies (VAA)
have separate base years and uprating rules; groups of three or more pay the three-sibling
rate.  The same LA schedule prices the income received when the agency's own adopters take
another agency's child (Rotherham 2017/18, 002_f60beec63e9d6bc7.txt §6.4: 3 families,
£81,000 received).
"""

from __future__ import annotations

from sim.scenario.calendar import financial_year_label
from sim.scenario.parameters import Fees

LA = "la"
VAA = "vaa"
PROVIDERS = (LA, VAA)


def _uprate(value: float, pct: float, base_year: int, year: int) -> float:
    return value * (1.0 + pct / 100.0) ** (year - base_year)


def placement_fee(fees: Fees, provider: str, group_size: int, financial_year: int) -> float:
    """Fee (£) for placing a group of ``group_size`` children in the financial year starting
    in April of ``financial_year``."""
    if provider == LA:
        table = (fees.la_one_child_gbp, fees.la_two_siblings_gbp, fees.la_three_siblings_gbp)
        return _uprate(table[min(group_size, 3) - 1], fees.la_uprating_pct, fees.la_base_year, financial_year)
    if provider == VAA:
        table = (fees.vaa_one_child_gbp, fees.vaa_two_siblings_gbp, fees.vaa_three_siblings_gbp)
        return _uprate(table[min(group_size, 3) - 1], fees.vaa_uprating_pct, fees.vaa_base_year, financial_year)
    raise ValueError(f"unknown provider {provider!r}; expected one of {PROVIDERS}")


def monthly_fee(fees: Fees, financial_year: int) -> float:
    """Monthly fee (£) due in that financial year for a placement without an order after 12 months."""
    return _uprate(fees.monthly_fee_gbp, fees.vaa_uprating_pct, fees.monthly_fee_year, financial_year)


def fee_schedule(fees: Fees, years: range) -> list[dict]:
    """The schedule as a table: one row per financial year and provider (for the app and reports)."""
    rows = []
    for year in years:
        for provider in PROVIDERS:
            rows.append({
                "financial_year": financial_year_label(year),
                "provider": provider.upper(),
                "one_child_gbp": round(placement_fee(fees, provider, 1, year), 2),
                "two_siblings_gbp": round(placement_fee(fees, provider, 2, year), 2),
                "three_siblings_gbp": round(placement_fee(fees, provider, 3, year), 2),
                "monthly_fee_gbp": round(monthly_fee(fees, year), 2),
            })
    return rows
