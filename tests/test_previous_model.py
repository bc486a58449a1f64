"""The model after a change to how it is simulated (fewer events: a stretch of a journey that
nothing else can change is one wait) against the model before it: the same in distribution.

``tests/data/previous_model/`` holds every replication's yearly figures of release 0.3.0 (300
replications x 5 years, seed 20261207) for C&P 2022-23 (in balance) and Rotherham 2017-18 (a
baseline that moves), made with ``python -m sim run NAME --reps 300 --years 5 --seed 20261207
--csv DIR``.  This model's run of the same with another seed (an independent sample: with the
same seed the two share their common random numbers, which would hide a difference) is compared KPI by KPI and year by year: Welch's t-test on the replication
means and the Kolmogorov-Smirnov test on the whole spread (so the yearly 90% intervals too), with
Holm's correction over all the tests of a baseline at a family-wise level of 1%.  The same test
sees a real change (stage 1 a tenth longer), so it can fail."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.run.runner import run_scenario
from sim.scenario.files import load_scenario

DATA = Path(__file__).resolve().parent / "data" / "previous_model"
BASELINES = ("cambridgeshire-peterborough-2022-23", "rotherham-2017-18")
REPS, YEARS, SEED, LEVEL = 300, 5, 20261207, 0.01


def _previous(name: str) -> pd.DataFrame:
    with gzip.open(DATA / f"{name}.csv.gz", "rt") as f:
        return pd.read_csv(f)


def _now(scenario) -> pd.DataFrame:
    run = run_scenario(scenario, replications=REPS, years=YEARS, seed=SEED + 1, engine="processes")
    return run.replications[["kpi", "year", "replication", "value"]]


def _tests(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """One row per KPI and year with both tests' p-values (figures that are constant, or NaN in
    every replication, have nothing to test)."""
    rows = []
    b, a = before.groupby(["kpi", "year"])["value"], after.groupby(["kpi", "year"])["value"]
    for key, x in b:
        y = a.get_group(key).dropna().to_numpy()
        x = x.dropna().to_numpy()
        if len(x) < 30 or len(y) < 30 or (np.ptp(x) == 0 and np.ptp(y) == 0):
            continue
        rows.append({"kpi": key[0], "year": key[1], "mean_before": x.mean(), "mean_after": y.mean(),
                     "t": stats.ttest_ind(x, y, equal_var=False).pvalue, "ks": stats.ks_2samp(x, y).pvalue})
    return pd.DataFrame(rows)


def _holm_rejects(p: np.ndarray, level: float) -> np.ndarray:
    order = np.argsort(p)
    limits = level / (len(p) - np.arange(len(p)))
    passed = np.cumprod(p[order] <= limits).astype(bool)  # Holm stops at the first it cannot reject
    rejects = np.zeros(len(p), dtype=bool)
    rejects[order] = passed
    return rejects


def _rejected(table: pd.DataFrame) -> pd.DataFrame:
    p = np.concatenate([table["t"].to_numpy(), table["ks"].to_numpy()])
    rejects = _holm_rejects(p, LEVEL)
    n = len(table)
    return table[rejects[:n] | rejects[n:]]


@pytest.mark.slow
@pytest.mark.parametrize("name", BASELINES)
def test_the_model_is_the_same_in_distribution_as_before(name):
    table = _tests(_previous(name), _now(load_scenario(name)))
    assert len(table) > 150  # every KPI that varies, in every year
    differ = _rejected(table)
    assert differ.empty, f"{name}: figures that differ from the previous model:\n{differ.to_string()}"


@pytest.mark.slow
def test_the_same_test_sees_a_real_change():
    name = BASELINES[0]
    scenario = load_scenario(name)
    data = scenario.model_dump()
    data["adopters"]["stage1_days"] *= 1.1
    changed = type(scenario).model_validate(data)
    differ = _rejected(_tests(_previous(name), _now(changed)))
    assert {"households_stage1", "roi_to_approval_days"} <= set(differ["kpi"])
