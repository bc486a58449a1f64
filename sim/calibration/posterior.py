"""Plausible parameter sets that the report's figures allow: the posterior, through an emulator.

A calibrated scenario runs each replication with one plausible parameter set, so its intervals carry
what the figures leave uncertain as well as chance.  Those sets must be ones the figures allow: a set
drawn from the fit's normal approximation alone, or a parameter no figure pins down drawn from its
prior, can sit where the model answers the report's year quite differently (a waiting list far above
the report's, an early permanence share the figures rule out), and the mean over replications then
moves away from the figures the model was fitted to.  Uncertainty must widen the intervals, not move
the means.

So the sets are drawn from the posterior given the used figures, with an emulator (as in history
matching), and then balanced on the fit's means by simulation:

1. **Design.**  Candidate sets are drawn from the fit's normal approximation (mean and covariance on
   the fit's log / logit scale, widened by :data:`WIDEN`), with a share :data:`DEFENSIVE` drawn from
   the priors themselves; a parameter no used figure informs has its prior as its proposal.  Each
   runs the fit's window (the report's year, and earlier years a targets file gives) over the same
   few replications (common random numbers).
2. **Emulator.**  Each used figure's simulated mean is regressed on the parameters (a quadratic in
   each, on the transformed scale, by ridge least squares): a smooth stand-in for the simulation.
   Its misfit beyond simulation noise is added to the figure's variance, so the posterior is no
   surer than the emulator is right.
3. **Posterior.**  The posterior (the fit's priors times the likelihood of the figures under the
   fit's own robust soft-L1 objective) is sampled on the emulator with ``emcee``'s affine-invariant
   ensemble sampler.  A second wave simulates sets from it, refits the emulator where the posterior
   lies, and reweights the sample to the refitted posterior.
4. **Balance.**  A posterior is honest about what the figures allow, but its mean forecast need not
   be the fit's (a wait that rises steeply with a parameter averages higher than it is at the fitted
   value).  So ``candidates`` sets from the posterior, tilted by the emulator towards the fit's
   means, are simulated over replications of their own, and weighted as little away from equal as
   possible (entropy balancing) so that their mean year-1 figures equal the central fit's, simulated
   over many replications, and so do their headline figures :data:`PROJECTION_YEARS` years on with no
   change (a set the figures allow can still take a forecast elsewhere later, a backlog building where
   the central values hold it).  The saved sets are a systematic resample by those weights.

Why this: importance weights over a broad proposal collapse onto a handful of sets with twenty-odd
parameters and figures (tried: an effective sample size of 3 in 450 simulated candidates for
Cambridgeshire & Peterborough), and ABC-SMC (pyabc, ELFI) needs thousands of simulations where each of
England's costs seconds; an emulator uses every simulation and smooths the noise of few
replications, and the balance settles by simulation what the emulator only approximates.  A
calibration costs :attr:`Posterior.simulations` replications of the report's year (about 8,000 for an
agency).  The fit report then checks the sets by simulation: with parameter uncertainty the year-1
mean of each used figure beside the chance-alone mean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import emcee
import numpy as np
from scipy.optimize import minimize

from sim.calibration.fit import KPI_INDEX, AgencyFit, Simulator, _round, columns, simulated_means, years_before
from sim.calibration.fit_report import PROJECTION_KPIS
from sim.calibration.targets import Target, TargetSet
from sim.model.kpis import KPI_NAMES
from sim.scenario.parameter_sets import with_parameters
from sim.scenario.parameters import Scenario

#: The fit's covariance is widened by this factor on the sd scale for the design: a normal
#: approximation is often too narrow in the tails the posterior reaches.
WIDEN = 1.5
#: Share of the design drawn from the priors (the defensive component).
DEFENSIVE = 0.1
#: Ridge penalty of the emulator's regression, on standardised features.
RIDGE = 1e-3
#: The ensemble sampler's walkers per parameter and steps (half of them burn-in).
WALKERS_PER_PARAMETER = 4
STEPS = 1500
#: The balance holds the headline figures of a no-change forecast this many years after year 1 too.
PROJECTION_YEARS = 4


@dataclass(frozen=True)
class Problem:
    """What the posterior needs: parameters (fitted and open) with their priors and the proposal's
    centre, the figures and where each lies in a simulated window."""

    scenario: Scenario  # the calibrated scenario: every parameter at its central value
    parameters: Sequence  # FitParameter: transform, bounds, prior sd
    prior_centre: np.ndarray  # on the transformed scale
    centre: np.ndarray  # the proposal's centre (the fit), transformed scale
    cov: np.ndarray  # the proposal's covariance (the fit's, with the open parameters' prior variances)
    targets: Sequence[Target]
    columns: Sequence[int]  # each target's column in a simulated window
    before: int = 0  # years of the window before year 1

    @property
    def prior_sd(self) -> np.ndarray:
        return np.array([p.prior_sd for p in self.parameters])

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.array([p.to_theta(p.lo) for p in self.parameters]),
                np.array([p.to_theta(p.hi) for p in self.parameters]))


@dataclass
class Posterior:
    """The sets taken from the posterior and what they cost."""

    sets: list[dict[str, float]]
    design: int  # sets simulated to fit the emulator (both waves)
    replications: int  # replications of each design set and each candidate
    candidates: int  # sets from the emulated posterior simulated to balance
    central_replications: int  # replications of the central values, the balance's target
    acceptance: float  # the sampler's mean acceptance fraction
    emulator_r2: dict[str, float]  # per target key: share of the design's variance the emulator explains
    ess: float  # effective sample size of the balancing weights over the candidates
    central_mean: np.ndarray  # each balanced figure's simulated mean at the central values
    balanced_mean: np.ndarray  # the candidates' simulated mean with their balancing weights
    posterior_mean: np.ndarray  # the candidates' simulated mean unweighted
    balanced: Sequence[str] = ()  # what each of those means is: a target key, or a KPI in the last year projected

    @property
    def simulations(self) -> int:
        """Replications of the fit's window run in all."""
        return (self.design + self.candidates) * self.replications + self.central_replications

    def describe(self) -> str:
        return (f"{len(self.sets)} sets from the posterior given the used figures: an emulator of the report's year "
                f"fitted to {self.design} simulated sets, its posterior sampled with emcee (acceptance "
                f"{self.acceptance:.2f}), then {self.candidates} sets from it simulated and weighted so that their "
                f"mean year-1 figures, and headline figures {PROJECTION_YEARS} years on, are the fit's (effective "
                f"sample size {self.ess:.0f}); {self.replications} replications a set, {self.simulations} "
                f"replications of the report's year in all")


#: Draws kept from the emulated posterior, from which the sets are balanced and resampled.
SAMPLE = 4000


def posterior_sets(problem: Problem, window: Callable[[list[Scenario], int, int], list[np.ndarray]],
                   n_sets: int = 100, design: int = 600, replications: int = 8, candidates: int = 300,
                   central_replications: int = 200, seed: int = 0,
                   say: Callable[[str], None] = lambda s: None) -> Posterior:
    """``n_sets`` parameter sets from the posterior of ``problem`` given its figures, balanced so
    that their mean year-1 figures are the central fit's.

    ``window(scenarios, replications, before, after)`` simulates the fit's window (as
    :meth:`sim.calibration.fit.Simulator.window`) for the ``design``."""
    params = list(problem.parameters)
    if not params:
        empty = np.array([])
        return Posterior([{} for _ in range(n_sets)], 0, 0, 0, 0, 0.0, {}, float(n_sets), empty, empty, empty)
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(7_919,)))
    lo, hi = problem.bounds
    observed = np.array([t.value for t in problem.targets])
    sds = np.array([t.sd for t in problem.targets])
    cols = list(problem.columns)

    def simulate(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        runs = window([_scenario_at(problem, params, th) for th in points], replications, problem.before)
        return (np.array([simulated_means(v, cols) for v in runs]),
                np.array([_variances(v[:, cols]) for v in runs]))

    thetas = _design(rng, problem, design, lo, hi)
    means, variances = simulate(thetas)
    say(f"  posterior: {len(thetas)} candidate sets simulated; sampling the emulated posterior")
    emulator = Emulator.fit(thetas, means, _noise(variances, replications))
    sample, log_p, acceptance = _sample(rng, problem, emulator, thetas, observed, sds, SAMPLE, lo, hi)
    first = sample[_systematic_resample(rng, _balance(emulator, sample, np.zeros(len(sample)), problem, sds), n_sets)]
    # second wave: the first sets simulated too, the emulator refitted where the posterior lies, and the
    # sample reweighted from the first emulator's posterior to the second's
    wave_means, wave_vars = simulate(first)
    thetas, means, variances = np.vstack([thetas, first]), np.vstack([means, wave_means]), np.vstack([variances, wave_vars])
    say(f"  posterior: second wave, {len(thetas)} candidate sets; reweighting")
    emulator = Emulator.fit(thetas, means, _noise(variances, replications))
    log_base = _log_posterior(emulator, problem, observed, sds, lo, hi)(sample) - log_p
    tilted = _balance(emulator, sample, log_base, problem, sds)
    # the balance is settled by simulation, not the emulator: candidates from the tilted posterior, each
    # simulated over replications of its own (independent chance, which averages out across candidates),
    # against the central values' mean over many
    chosen = sample[_systematic_resample(rng, tilted, candidates)]
    say(f"  posterior: {candidates} candidates simulated to balance their mean on the fit's, "
        f"{PROJECTION_YEARS} years on too")
    seed0 = problem.scenario.scenario.seed
    last = (problem.before + PROJECTION_YEARS) * len(KPI_NAMES)
    balanced = cols + [last + KPI_INDEX[k] for k in PROJECTION_KPIS]
    runs = window([_scenario_at(problem, params, th, seed0 + 1 + i) for i, th in enumerate(chosen)], replications,
                  problem.before, PROJECTION_YEARS)
    candidate_means = np.array([simulated_means(v, balanced) for v in runs])
    central = simulated_means(window([_scenario_at(problem, params, problem.centre)], central_replications,
                                     problem.before, PROJECTION_YEARS)[0], balanced)
    # a projected figure is held to within a tenth of its level (or 2), the band of a level held
    scale = np.concatenate([sds, np.maximum(0.1 * np.abs(central[len(cols):]), 2.0)])
    weights = balancing_weights(candidate_means, central, scale, BALANCE_RIDGE)
    picked = _systematic_resample(rng, weights, n_sets)
    sets = [{p.key: _round(p.from_theta(float(x))) for p, x in zip(params, chosen[i])} for i in picked]
    return Posterior(sets=sets, design=len(thetas), replications=replications, candidates=candidates,
                     central_replications=central_replications, acceptance=acceptance,
                     emulator_r2={t.key: float(v) for t, v in zip(problem.targets, emulator.r2)},
                     ess=1.0 / float(np.sum(weights ** 2)), central_mean=central,
                     balanced_mean=weights @ np.nan_to_num(candidate_means), posterior_mean=np.nanmean(candidate_means, axis=0),
                     balanced=[t.key for t in problem.targets] + [f"{k} +{PROJECTION_YEARS}y" for k in PROJECTION_KPIS])


#: Balancing leaves a gap of up to about this ridge times its multiplier (in sd) rather than resting the
#: whole sample on a few draws: a few hundredths of an sd.
BALANCE_RIDGE = 0.02


def _balance(emulator: "Emulator", sample: np.ndarray, log_base: np.ndarray, problem: Problem, sds: np.ndarray
             ) -> np.ndarray:
    """Weights over the posterior sample whose emulated mean figures are the central values'."""
    return balancing_weights(emulator.predict(sample), emulator.predict(problem.centre)[0], sds, BALANCE_RIDGE,
                             log_base)


def _noise(variances: np.ndarray, replications: int) -> np.ndarray:
    """Each figure's variance of a mean over the design's few replications."""
    return np.nan_to_num(np.nanmedian(variances, axis=0)) / replications


def balancing_weights(values: np.ndarray, target: np.ndarray, scale: np.ndarray, ridge: float = 1e-3,
                      log_base: np.ndarray | None = None) -> np.ndarray:
    """Weights over candidates, as close as possible to the base weights (least relative entropy;
    ``log_base`` unnormalised, default equal), whose
    weighted mean of each column is ``target`` (entropy balancing, Hainmueller 2012).

    Solved through its convex dual: weights ``w_i ~ exp(u_i . lam)`` with ``u`` the values less the
    target in units of ``scale``; a small ``ridge`` on ``lam`` leaves a gap of ``ridge * lam`` sd where
    no weights reach the target exactly, rather than weights on one candidate.  A column with no value
    for a candidate counts as on target for it."""
    u = (np.where(np.isnan(values), target, values) - target) / scale
    u = u[:, np.std(u, axis=0) > 0] if len(u) else u
    base = np.zeros(len(u)) if log_base is None else np.asarray(log_base, dtype=float)

    def dual(lam: np.ndarray) -> tuple[float, np.ndarray]:
        a = base + u @ lam
        m = a.max()
        e = np.exp(a - m)
        w = e / e.sum()
        return float(m + np.log(e.sum()) + 0.5 * ridge * lam @ lam), u.T @ w + ridge * lam

    lam = minimize(dual, np.zeros(u.shape[1]), jac=True, method="BFGS", options={"gtol": 1e-8, "maxiter": 2000}).x
    a = base + u @ lam
    w = np.exp(a - a.max())
    return w / w.sum()


def _systematic_resample(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """Indices of ``n`` draws in proportion to ``weights``, with the least resampling noise."""
    positions = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(weights), positions), len(weights) - 1)


def _scenario_at(problem: Problem, params: Sequence, theta: np.ndarray, seed: int | None = None) -> Scenario:
    """The scenario with the parameters at ``theta`` and no set drawn (and another seed, for chance of
    its own)."""
    data = problem.scenario.model_dump()
    data["calibration"]["parameter_uncertainty"] = False
    if seed is not None:
        data["scenario"]["seed"] = seed
    return with_parameters(Scenario.model_validate(data), {p.key: _round(p.from_theta(float(x)))
                                                           for p, x in zip(params, theta)})


def _design(rng: np.random.Generator, problem: Problem, n: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``n`` candidate sets inside the bounds: the widened normal approximation, with a share
    :data:`DEFENSIVE` from the priors; the fit itself first."""
    cov = problem.cov + problem.cov.T
    cov = cov / 2.0 * WIDEN ** 2 + np.eye(len(cov)) * 1e-10
    kept, made = [np.clip(problem.centre, lo, hi)[None, :]], 0
    while sum(len(k) for k in kept) < n and made < 200 * n:
        batch = max(n, 64)
        normal = rng.multivariate_normal(problem.centre, cov, size=batch, method="eigh")
        prior = problem.prior_centre + rng.standard_normal((batch, len(lo))) * problem.prior_sd
        x = np.where((rng.random(batch) < DEFENSIVE)[:, None], prior, normal)
        made += batch
        kept.append(x[np.all((x >= lo) & (x <= hi), axis=1)])
    draws = np.concatenate(kept)
    if len(draws) < n:
        raise ValueError("the parameter bounds leave almost no room for the fit's uncertainty")
    return draws[:n]


@dataclass
class Emulator:
    """Each figure's simulated mean as a quadratic in each parameter (no interactions beyond the
    linear terms' joint fit), by ridge least squares on standardised parameters."""

    centre: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # features x figures
    misfit: np.ndarray  # per figure: variance of the emulator's error beyond simulation noise
    r2: np.ndarray

    @classmethod
    def fit(cls, thetas: np.ndarray, means: np.ndarray, noise: np.ndarray) -> "Emulator":
        centre, scale = thetas.mean(axis=0), thetas.std(axis=0) + 1e-9
        x = _features((thetas - centre) / scale)
        y = np.nan_to_num(means)
        penalty = RIDGE * len(x) * np.eye(x.shape[1])
        penalty[0, 0] = 0.0  # the intercept is not shrunk
        coef = np.linalg.solve(x.T @ x + penalty, x.T @ y)
        resid = y - x @ coef
        dof = max(1, len(x) - x.shape[1])
        resid_var = (resid ** 2).sum(axis=0) / dof
        total = y.var(axis=0)
        r2 = np.where(total > 0, 1.0 - resid_var / np.maximum(total, 1e-12), 1.0)
        return cls(centre, scale, coef, np.maximum(resid_var - noise, 0.0), r2)

    def predict(self, thetas: np.ndarray) -> np.ndarray:
        return _features((np.atleast_2d(thetas) - self.centre) / self.scale) @ self.coef


def _features(u: np.ndarray) -> np.ndarray:
    return np.hstack([np.ones((len(u), 1)), u, u ** 2])


def _log_posterior(emulator: Emulator, problem: Problem, observed: np.ndarray, sds: np.ndarray, lo: np.ndarray,
                   hi: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The emulated log posterior: the fit's priors and its soft-L1 likelihood of the figures, each
    figure's variance widened by the emulator's misfit; minus infinity outside the bounds."""
    scale = np.sqrt(sds ** 2 + emulator.misfit)
    centre, sd = problem.prior_centre, problem.prior_sd

    def log_prob(th: np.ndarray) -> np.ndarray:
        th = np.atleast_2d(th)
        z = (emulator.predict(th) - observed) / scale
        out = -0.5 * np.sum(((th - centre) / sd) ** 2, axis=1) - np.sum(np.sqrt(1.0 + z ** 2) - 1.0, axis=1)
        return np.where(np.all((th >= lo) & (th <= hi), axis=1), out, -np.inf)

    return log_prob


def _sample(rng, problem: Problem, emulator: Emulator, thetas, observed, sds, n: int, lo, hi):
    """``n`` draws from the emulated posterior with emcee, started from the best simulated candidates:
    the draws, their log posterior and the mean acceptance fraction."""
    log_prob = _log_posterior(emulator, problem, observed, sds, lo, hi)
    dim = len(lo)
    walkers = max(2 * dim + 2, WALKERS_PER_PARAMETER * dim)
    start = thetas[np.argsort(-log_prob(thetas))[:walkers]]
    if len(start) < walkers:
        start = np.vstack([start, start[rng.integers(len(start), size=walkers - len(start))]])
    start = np.clip(start + 1e-4 * rng.standard_normal(start.shape), lo, hi)
    sampler = emcee.EnsembleSampler(walkers, dim, log_prob, vectorize=True)
    sampler.random_state = np.random.RandomState(int(rng.integers(2 ** 31))).get_state()  # from the seed
    sampler.run_mcmc(start, STEPS, progress=False)
    chain = sampler.get_chain(discard=STEPS // 2, flat=True)
    draws = chain[np.linspace(0, len(chain) - 1, n).astype(int)]
    return draws, log_prob(draws), float(np.mean(sampler.acceptance_fraction))


def _variances(values: np.ndarray) -> np.ndarray:
    """Each column's variance over replications (NaN where fewer than two have a value)."""
    ok = ~np.isnan(values)
    n = ok.sum(axis=0)
    mean = np.where(ok, values, 0.0).sum(axis=0) / np.maximum(n, 1)
    ss = np.where(ok, (values - mean) ** 2, 0.0).sum(axis=0)
    return np.where(n > 1, ss / np.maximum(n - 1, 1), np.nan)


def fitted_problem(fitted: AgencyFit, ts: TargetSet) -> Problem:
    """The posterior problem of a fitted agency: the fitted parameters with the fit's normal
    approximation as the proposal, and those no used figure informs with their prior as theirs."""
    result, left = fitted.result, list(fitted.left)
    k = len(result.parameters)
    cov = np.zeros((k + len(left), k + len(left)))
    cov[:k, :k] = result.cov
    for j, p in enumerate(left, k):
        cov[j, j] = p.prior_sd ** 2
    open_centres = np.array([p.to_theta(p.value_of(fitted.start)) for p in left])
    cols = columns(ts)
    return Problem(scenario=fitted.scenario, parameters=[*result.parameters, *left],
                   prior_centre=np.concatenate([result.theta0, open_centres]),
                   centre=np.concatenate([result.theta, open_centres]), cov=cov, targets=result.targets,
                   columns=[cols[t.key] for t in result.targets], before=years_before(ts))


def agency_sets(fitted: AgencyFit, ts: TargetSet, simulator: Simulator, n_sets: int = 100,
                say: Callable[[str], None] = lambda s: None, **options) -> tuple[dict[str, float], Posterior]:
    """The central values (fitted, and the open parameters' prior centres) and the posterior sets of a
    fitted agency, seeded by the scenario seed."""
    open_centres = {p.key: _round(p.value_of(fitted.start)) for p in fitted.left}
    central = {**fitted.result.values, **open_centres}
    posterior = posterior_sets(fitted_problem(fitted, ts), simulator.window, n_sets,
                               seed=fitted.start.scenario.seed, say=say, **options)
    return central, posterior
