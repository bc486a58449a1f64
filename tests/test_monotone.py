"""Monotone responses: pushing a lever the right way never makes the average worse.

Runs share random numbers (same seed, streams per activity), so the comparisons are paired.
"""

import numpy as np

from sim.run.runner import run_scenario
from tests.conftest import small


def _mean(results, kpi) -> float:
    reps = results.replications
    return float(np.nanmean(reps.loc[reps["kpi"] == kpi, "value"]))


def test_more_enquiries_never_lengthen_waits():
    means = [_mean(run_scenario(small(reps=16, adopters={"enquiries_per_month": e})), "a2_days")
             for e in (15.0, 25.7, 40.0, 60.0)]
    assert all(later <= earlier * 1.02 for earlier, later in zip(means, means[1:])), means
    assert means[-1] < means[0]


def test_more_approvals_mean_fewer_interagency_placements():
    few = run_scenario(small(reps=16, adopters={"enquiries_per_month": 15.0}))
    many = run_scenario(small(reps=16, adopters={"enquiries_per_month": 50.0}))
    assert _mean(many, "approvals") > _mean(few, "approvals")
    assert _mean(many, "interagency_placements") < _mean(few, "interagency_placements")
    assert _mean(many, "interagency_fees_gbp") < _mean(few, "interagency_fees_gbp")


def test_more_social_workers_never_lengthen_stage2():
    means = [_mean(run_scenario(small(reps=10, adopters={"assessing_social_workers": w,
                                                         "enquiries_per_month": 40.0})), "stage2_mean_days")
             for w in (2.0, 4.0, 8.0)]
    assert means[0] > means[1] >= means[2] * 0.99, means


def test_longer_proceedings_raise_a20():
    means = [_mean(run_scenario(small(reps=8, children={"proceedings_weeks": w})), "a20_days")
             for w in (26.0, 38.0, 52.0)]
    assert means[0] < means[1] < means[2], means
