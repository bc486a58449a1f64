"""Back test of a market: a small market of four agencies (a voluntary agency and a region that pools
its adopters among them) still gives the stored figures and ledger, figure for figure, so that a
change to how the market or the matcher is simulated that should change nothing is seen to change
nothing.

If the model is changed on purpose, regenerate the stored file and review the difference:

    SIM_REGENERATE=1 python -m pytest tests/test_market_regression.py
"""

import json
import math
import os
from pathlib import Path

import pytest

from sim.model.market import run_market_replication
from tests.test_market import region_market

STORED = Path(__file__).parent / "data" / "regression_market.json"


def _current() -> list[dict]:
    agencies = region_market()
    out = []
    for r in range(3):
        rep = run_market_replication(agencies, 11, r, pooled_regions=("North",))
        out.append({"kpis": [a.kpis for a in rep.agencies],
                    "ledger": sorted([list(key), value] for key, value in rep.ledger.items())})
    return out


def _nan(values: list) -> list:
    return [math.nan if v is None else v for v in values]


def test_a_market_gives_the_stored_figures_and_ledger():
    current = json.loads(json.dumps(_current()))  # as stored: tuples as lists, NaN as written by json
    if os.environ.get("SIM_REGENERATE"):
        STORED.write_text(json.dumps(current, indent=1, sort_keys=True))
        pytest.skip("stored results regenerated")
    stored = json.loads(STORED.read_text())
    assert len(current) == len(stored)
    for now, then in zip(current, stored):
        assert now["ledger"] == then["ledger"]
        for agency_now, agency_then in zip(now["kpis"], then["kpis"], strict=True):
            assert set(agency_now) == set(agency_then)
            for name, values in agency_then.items():
                assert _nan(agency_now[name]) == pytest.approx(_nan(values), nan_ok=True, rel=1e-9), name
