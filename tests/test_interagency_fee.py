"""The fee schedule: provider, sibling-group size, year and uprating."""

import pytest

from sim.model.interagency_fee import LA, VAA, fee_schedule, monthly_fee, placement_fee
from sim.scenario.parameters import Fees


def test_schedule_from_reports():
    f = Fees()
    # Rotherham 2017/18 §6.4: from 1 April 2018, VAA £31,000 / £50,000 / £68,000
    assert [placement_fee(f, VAA, n, 2018) for n in (1, 2, 3)] == [31000, 50000, 68000]
    # LA/RAA fees unchanged since 2011
    assert placement_fee(f, LA, 1, 2030) == 27000
    assert placement_fee(f, LA, 4, 2020) == placement_fee(f, LA, 3, 2020)


def test_uprating_compounds_each_year():
    f = Fees(vaa_uprating_pct=5.0)
    assert placement_fee(f, VAA, 1, 2020) == pytest.approx(31000 * 1.05 ** 2)
    assert monthly_fee(f, 2023) == pytest.approx(939 * 1.05)


def test_baseline_uprating_matches_cp_budget():
    # C&P 2022/23 Appendix C: £355,650 for 10 VAA placements in 2023/24, about £35,565 each
    assert placement_fee(Fees(), VAA, 1, 2023) == pytest.approx(35565, rel=0.02)


def test_unknown_provider_refused():
    with pytest.raises(ValueError, match="unknown provider"):
        placement_fee(Fees(), "private", 1, 2020)


def test_schedule_table():
    rows = fee_schedule(Fees(), range(2022, 2024))
    assert len(rows) == 4 and rows[0]["financial_year"] == "2022-23"
