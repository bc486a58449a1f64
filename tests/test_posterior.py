"""Parameter sets from the posterior given the figures: uncertainty widens intervals, never moves means.

A toy simulation stands in for the model's window so that the method's promises can be checked
exactly and fast: a figure that responds to a parameter nonlinearly (so the posterior mean of the
figure is not the figure at the fitted value), a parameter no figure informs (its prior must be
kept), and the same sets from the same seed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.calibration import fit as cal
from sim.calibration.fit import KPI_INDEX
from sim.calibration.posterior import Problem, balancing_weights, posterior_sets
from sim.calibration.targets import Target
from sim.model.kpis import KPI_NAMES
from sim.scenario.parameters import Scenario

STAGE1 = cal.CANDIDATE_BY_KEY["adopters.stage1_days"]  # informed by the toy figure, log scale
OPEN = cal.CANDIDATE_BY_KEY["adopters.deregistration_per_year"]  # no toy figure moves it


def toy_figure(stage1_days: float) -> float:
    """A figure convex in the parameter: a mean over the posterior's spread exceeds its value at the fit."""
    return 4000.0 / stage1_days


def toy_projected(deregistration: float) -> float:
    """A headline figure years on, convex in the parameter no year-1 figure informs: drawn from its
    prior, the sets would move it far from its value at the central one."""
    return 50.0 * np.exp(8.0 * deregistration)


def toy_window(scenarios, replications, before, after=0, projected=toy_projected):
    """The toy's 'simulation', shaped like the model's window (years x KPIs): the figure in the first
    column and, in the last year, the ``projected`` figure as adoption orders, with chance noise drawn
    from the scenario's seed (the same for scenarios with one seed: common random numbers)."""
    width = (before + 1 + after) * len(KPI_NAMES)
    out = []
    for s in scenarios:
        values = np.zeros((replications, width))
        noise = np.random.default_rng(s.scenario.seed).normal(0.0, 2.0, size=(replications, 2))
        values[:, 0] = toy_figure(s.adopters.stage1_days) + noise[:, 0]
        values[:, (before + after) * len(KPI_NAMES) + KPI_INDEX["adoption_orders"]] = (
            projected(s.adopters.deregistration_per_year) + noise[:, 1])
        out.append(values)
    return out


def toy_problem(observed: float = 40.0, sd: float = 4.0) -> Problem:
    fitted = 4000.0 / observed
    scenario = Scenario.model_validate({**Scenario().model_dump(), "adopters": {
        **Scenario().adopters.model_dump(), "stage1_days": fitted}})
    centre = np.array([STAGE1.to_theta(fitted), OPEN.to_theta(0.2)])
    return Problem(scenario=scenario, parameters=[STAGE1, OPEN], prior_centre=centre.copy(), centre=centre,
                   cov=np.diag([0.1 ** 2, OPEN.prior_sd ** 2]),
                   targets=[Target("households_stage1", observed, "count", "toy", sd, True)], columns=[0])


def test_the_sets_mean_figure_is_the_fit_s_while_the_sets_spread():
    problem = toy_problem()
    post = posterior_sets(problem, toy_window, n_sets=200, design=120, replications=4, seed=3)
    values = np.array([toy_figure(s["adopters.stage1_days"]) for s in post.sets])
    central = toy_figure(problem.scenario.adopters.stage1_days)
    assert values.std() > 1.0, "the sets carry the figure's uncertainty"
    assert abs(values.mean() - central) < 0.1 * 4.0, "the sets' mean figure stays at the fit's"
    assert post.balanced_mean[0] == pytest.approx(post.central_mean[0], abs=0.1 * 4.0)


def test_the_sets_hold_a_no_change_forecast_where_the_central_values_take_it():
    """A parameter no year-1 figure informs, drawn over its prior, would carry a headline figure years on
    away from the central values' forecast; the balance holds that figure too (within its band, a
    tenth of its level), while year 1 stays on the fit's mean."""
    post = posterior_sets(toy_problem(), toy_window, n_sets=200, design=120, replications=4, seed=5)
    projected = np.array([toy_projected(s[OPEN.key]) for s in post.sets])
    central = toy_projected(0.2)
    assert projected.mean() == pytest.approx(central, rel=0.05)
    assert projected.std() > 0.05 * central, "the sets still differ in what the figures leave open"
    at = post.balanced.index("adoption_orders +4y")
    assert post.balanced_mean[at] == pytest.approx(post.central_mean[at], rel=0.05)
    assert post.balanced_mean[0] == pytest.approx(post.central_mean[0], abs=0.1 * 4.0)


def flat_window(scenarios, replications, before, after=0):
    """The toy with a forecast that no parameter moves years on."""
    return toy_window(scenarios, replications, before, after, projected=lambda d: 50.0)


def test_a_parameter_no_figure_informs_keeps_its_prior():
    post = posterior_sets(toy_problem(), flat_window, n_sets=400, design=120, replications=4, seed=4)
    thetas = np.array([OPEN.to_theta(s[OPEN.key]) for s in post.sets])
    assert np.median(thetas) == pytest.approx(OPEN.to_theta(0.2), abs=0.25)
    assert np.std(thetas) == pytest.approx(OPEN.prior_sd, rel=0.3)


def test_same_seed_same_sets_and_another_seed_other_sets():
    options = dict(n_sets=50, design=80, replications=2, candidates=60, central_replications=30)
    a = posterior_sets(toy_problem(), toy_window, seed=11, **options)
    b = posterior_sets(toy_problem(), toy_window, seed=11, **options)
    c = posterior_sets(toy_problem(), toy_window, seed=12, **options)
    assert a.sets == b.sets
    assert a.sets != c.sets
    # the design and its second wave of as many as the sets, the candidates, and the central values
    assert a.simulations == (80 + 50 + 60) * 2 + 30 == a.replications * (a.design + a.candidates) + 30


def test_sets_stay_inside_every_parameter_s_range():
    post = posterior_sets(toy_problem(), toy_window, n_sets=100, design=80, replications=2, seed=1)
    for s in post.sets:
        assert STAGE1.lo <= s[STAGE1.key] <= STAGE1.hi
        assert OPEN.lo <= s[OPEN.key] <= OPEN.hi


@settings(max_examples=40, deadline=None)
@given(st.integers(20, 300), st.integers(1, 5), st.integers(0, 2 ** 31))
def test_balancing_reaches_any_target_inside_the_sample(n, k, seed):
    """Entropy balancing: the weighted means equal a target inside the sample's range (up to the ridge's
    small gap), the weights are a distribution, and a target at the sample mean needs no tilt."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, k)) * rng.uniform(0.5, 3.0, size=k)
    scale = np.ones(k)
    even = balancing_weights(values, values.mean(axis=0), scale, ridge=1e-6)
    assert even == pytest.approx(np.full(n, 1.0 / n), abs=1e-6)
    target = values.mean(axis=0) + 0.3 * values.std(axis=0)
    w = balancing_weights(values, target, scale, ridge=1e-4)
    assert w.min() >= 0 and w.sum() == pytest.approx(1.0)
    assert w @ values == pytest.approx(target, abs=0.02)
