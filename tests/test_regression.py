"""Back test: the baseline still gives the stored results, figure for figure.

If the model is changed on purpose, regenerate the stored file and review the difference:

    SIM_REGENERATE=1 python -m pytest tests/test_regression.py
"""

import json
import math
import os
from pathlib import Path

import pytest

from sim.run.runner import run_scenario
from tests.conftest import small

STORED = Path(__file__).parent / "data" / "regression_baseline.json"


def _current() -> dict:
    return run_scenario(small(years=3, reps=5, warm_up=1, seed=2024)).to_json_dict()


def _nan(values: list) -> list:
    """JSON writes a figure with nothing to average (NaN) as null; compare it as NaN."""
    return [math.nan if v is None else v for v in values]


def test_baseline_matches_stored_results():
    current = _current()
    if os.environ.get("SIM_REGENERATE"):
        STORED.write_text(json.dumps(current, indent=1, sort_keys=True))
        pytest.skip("stored results regenerated")
    stored = json.loads(STORED.read_text())
    assert current["years"] == stored["years"]
    assert set(current["kpis"]) == set(stored["kpis"])
    for name, figures in stored["kpis"].items():
        for stat, values in figures.items():
            assert _nan(current["kpis"][name][stat]) == pytest.approx(_nan(values), nan_ok=True, rel=1e-9), (name, stat)
