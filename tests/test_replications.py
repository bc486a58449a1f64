"""Replications chosen to a stated precision: the stopping rule on fixed sequences, and a run
that stops where the rule says, with results equal to a run of that many replications."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.run.replications import (
    Precision,
    check,
    next_count,
    run_to_precision,
    stopping_point,
    t_quantile,
    why,
)
from sim.run.runner import run_scenario
from sim.scenario.parameters import Scenario


@pytest.mark.parametrize("p, df, exact", [(0.95, 19, 1.729133), (0.975, 19, 2.093024), (0.95, 9, 1.833113),
                                          (0.975, 49, 2.009575), (0.95, 199, 1.652547)])
def test_t_quantile_matches_the_tables(p, df, exact):
    assert t_quantile(p, df) == pytest.approx(exact, rel=1e-4)


def test_the_rule_stops_at_the_first_check_where_the_interval_is_within_the_precision():
    # alternating 90 and 110: mean 100, sd about 10.3; the 90% half-width t * sd / sqrt(n) is
    # within 5% of the mean (5.0) from n = 14 on, within 2% (2.0) from n = 71 on
    values = np.tile([90.0, 110.0], 100).reshape(-1, 1)
    rule = Precision(percent=5.0, minimum=4, maximum=200, batch=4)
    assert not check(values[:13], ["x"], rule).precise and check(values[:14], ["x"], rule).precise
    stop = stopping_point(values, ["x"], rule)  # checks at 4, 8 (doubling), 16 (projection 16.4 -> 4 batches)
    assert stop.precise and stop.replications == 16
    precise = Precision(percent=2.0, minimum=10, maximum=200, batch=10)
    stop = stopping_point(values, ["x"], precise)  # 10, 20, 40 (doubling), 80 (projection 73 in whole batches)
    assert stop.precise and stop.replications == 80
    for n in (10, 20, 40, 70):
        assert not check(values[:n], ["x"], precise).precise


def test_the_rule_stops_at_the_maximum_and_says_which_figure_fell_short():
    rng = np.random.default_rng(1)
    values = np.column_stack([np.full(300, 5.0), rng.normal(1.0, 10.0, 300)])  # the second has mean near 0
    stop = stopping_point(values, ["steady", "noisy"], Precision(percent=10, minimum=20, maximum=60, batch=20))
    assert stop.replications == 60 and not stop.precise
    assert stop.worst == "noisy" and stop.worst_percent > 10


def test_every_figure_must_be_precise_and_figures_without_spread_or_data_are():
    values = np.column_stack([np.full(40, 3.0), np.zeros(40), np.full(40, np.nan), np.tile([9.0, 11.0], 20)])
    state = check(values, ["const", "zero", "undefined", "varies"], Precision(percent=1.0, minimum=2))
    assert not state.precise and state.worst == "varies"
    assert check(values[:, :3], ["const", "zero", "undefined"], Precision(minimum=2)).precise


def test_the_next_batch_is_the_projection_in_whole_batches_at_most_doubling_and_within_the_maximum():
    rule = Precision(minimum=20, maximum=100, batch=10)
    assert next_count(check(np.tile([90.0, 110.0], 10).reshape(-1, 1), ["x"], Precision(percent=1.0)),
                      rule) == 40  # needs hundreds: doubles
    short = check(np.tile([95.0, 105.0, 100.0], 10)[:20].reshape(-1, 1), ["x"], Precision(percent=1.5))
    assert not short.precise and short.needed == 25
    assert next_count(short, rule) == 30
    assert next_count(check(np.tile([90.0, 110.0], 45).reshape(-1, 1), ["x"], Precision(percent=0.5)), rule) == 100


def test_bad_precision_settings_are_refused_with_what_is_allowed():
    with pytest.raises(ValueError, match="percentage"):
        Precision(percent=0)
    with pytest.raises(ValueError, match="minimum"):
        Precision(minimum=50, maximum=20)
    with pytest.raises(ValueError, match="unknown measure"):
        Precision(kpis=("nonsense",))


def test_a_run_to_precision_equals_a_run_of_that_many_replications():
    small = Scenario.model_validate({"scenario": {"years": 2, "warm_up_years": 1, "seed": 3}})
    rule = Precision(percent=15.0, minimum=4, maximum=24, batch=4)
    steps = []
    chosen = run_to_precision(small, rule, progress=lambda done, total: steps.append((done, total)))
    n = chosen.scenario.scenario.replications
    assert 4 <= n <= 24 and chosen.choice.replications == n
    assert steps[-1][0] == n and all(done <= total for done, total in steps)
    direct = run_scenario(small, replications=n)
    pd.testing.assert_frame_equal(chosen.summary, direct.summary)
    pd.testing.assert_frame_equal(chosen.replications, direct.replications)
    assert why(chosen).startswith(f"{n} replications") and "15%" in why(chosen)
    assert why(direct) == f"{n} replications, as asked"


def test_a_paired_run_is_asked_for_at_least_its_reference_s_count_within_the_maximum():
    from sim.run.replications import DEFAULT_PRECISION, at_least

    assert at_least(0) == DEFAULT_PRECISION
    assert at_least(DEFAULT_PRECISION.minimum + 7).minimum == DEFAULT_PRECISION.minimum + 7
    assert at_least(10**9).minimum == DEFAULT_PRECISION.maximum
