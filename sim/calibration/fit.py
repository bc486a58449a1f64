"""Calibration: set a scenario's parameters from one agency's report figures.

Three steps, all driven by a targets file (``calibration/targets/*.toml``, read by
:func:`sim.calibration.targets.load_targets`), planned by :func:`plan_agency` and run by :func:`fit_agency`:

1. **Inputs.**  Parameters the file's ``[inputs]`` table gives (social workers, panels, fees,
   ...) are set as they are and neither estimated nor fitted.
2. **Direct estimates and the agency's size.**  What one or two figures pin down on their own
   is set from them: enquiries a month from the year's enquiries, the registration share from
   registrations over enquiries, the share of plans granted an order from orders against plans
   declined, the VAA share of interagency placements, and the children entering the adoption
   track each year from the plans for adoption.  Where the file gives no enquiries (or no
   plans), the most direct count or stock it gives on that side sets the inflow through the
   pipeline's shares and durations (:mod:`sim.calibration.agency_size`): an informed prior centre, fitted
   with the rest; a side with no figure at all is scaled with the other.  The assessing social
   workers and panels then scale with the agency's volume.
3. **Fit by simulation.**  The remaining candidate parameters that some used figure informs
   (:data:`CANDIDATES`) are fitted with SciPy's ``least_squares`` on standardised residuals,
   (simulated year-1 mean - observed) / sd, using each target's sd.  Every evaluation runs
   the same replications with the same seed (common random numbers), so the objective moves
   smoothly with the parameters.  Each fitted parameter also has a prior residual,
   (value - prior centre) / prior sd on a log (durations, rates) or logit (shares) scale, which
   keeps parameters the figures do not pin down near their baseline values (or the centre the
   agency's own figures give).

Year 1 of the simulation is the report's financial year (``scenario.start_year`` from the
targets file), after the default warm-up; counts are the year's, stocks are at 31 March and
times are means over the children adopted in the year, as in the reports.  The run starts from
the steady level of every stock (:mod:`sim.model.initial_state`), and where the file gives the
children waiting at the start of the report's year too (:func:`opening_targets`), from that opening
stock on the year's first day.

The covariance of the fitted parameters (from the Jacobian of all residuals, priors included) is
the proposal from which :mod:`sim.calibration.posterior` draws the plausible parameter sets
(:mod:`sim.scenario.parameter_sets`) from the posterior given the figures, and the fit report
(:mod:`sim.calibration.fit_report`) compares every target with the calibrated model.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from sim.calibration import agency_size as size
from sim.calibration.agency_priors import OPEN_NOTE, CalibratedAgency, PooledPrior, calibrated_agencies, pooled_priors
from sim.calibration.targets import Target, TargetSet
from sim.model.kpis import KPI_NAMES
from sim.model.pipeline import run_replication
from sim.run.process_pool import default_workers
from sim.scenario.calendar import financial_year_label
from sim.scenario.parameter_sets import PROJECT_DIR, TREND_PREFIX, trend_factor, with_parameters
from sim.scenario.parameters import SECTIONS, Scenario, field_info

LOG, LOGIT = "log", "logit"
#: Robust loss: a residual of z sd costs 2 (sqrt(1 + z^2) - 1), about z^2 when small and 2|z| when
#: large, so a figure the model cannot reach (two figures of a report that no steady state
#: reconciles) does not drag every other figure away from its value.
LOSS = "soft_l1"


@dataclass(frozen=True)
class FitParameter:
    """A parameter the fit may set: scale, prior, bounds and the figures that move it."""

    key: str  # "section.name"
    transform: str  # LOG for durations and rates, LOGIT for shares
    prior_sd: float  # on the transformed scale: 0.5 on a log scale is a factor of about 1.65
    lo: float  # bounds of the search, in the parameter's own unit
    hi: float
    informs: tuple[str, ...]  # KPIs it moves; fitted only if one of them is a used target
    needs: tuple[str, ...] = ()  # if given, considered only when one of these is a used target

    @property
    def section(self) -> str:
        return self.key.partition(".")[0]

    @property
    def name(self) -> str:
        return self.key.partition(".")[2]

    @property
    def is_trend(self) -> bool:
        """A trend's yearly growth factor (key "trend.section.name"), not a parameter's value."""
        return self.key.startswith(TREND_PREFIX)

    def value_of(self, scenario: Scenario) -> float:
        if self.is_trend:
            return trend_factor(scenario, self.key.removeprefix(TREND_PREFIX))
        return float(getattr(getattr(scenario, self.section), self.name))

    def to_theta(self, value: float) -> float:
        v = min(max(value, self.lo), self.hi)
        return math.log(v) if self.transform == LOG else math.log(v / (1.0 - v))

    def from_theta(self, theta: float) -> float:
        return math.exp(theta) if self.transform == LOG else 1.0 / (1.0 + math.exp(-theta))

    @property
    def step(self) -> float:
        """Finite-difference step on the transformed scale (about 10% of a duration)."""
        return 0.25 if self.transform == LOG else 0.4


def _fp(key, transform, prior_sd, lo, hi, *informs, needs: tuple[str, ...] = ()) -> FitParameter:
    return FitParameter(key, transform, prior_sd, lo, hi, tuple(informs), needs)


#: Groups of KPIs that move together, used to say which figures each parameter moves.
TIMES_AFTER_ORDER = ("a1_days", "a2_days", "a3_pct", "a10_days", "non_ep_care_to_order_days")
CARE_TO_ORDER = ("ep_care_to_order_days", "non_ep_care_to_order_days")
INTERAGENCY = ("inhouse_placements", "interagency_placements", "interagency_placements_vaa",
               "interagency_placements_la", "inhouse_share_pct", "interagency_fees_gbp")
#: The children with an order waiting: how many, and who they are.
WAITING = ("children_waiting_with_po", "children_not_placed_with_po", "waiting_in_sibling_groups_pct",
           "waiting_aged_5_plus_pct", "waiting_days_since_order")
#: Figures that tell the children who wait apart from the others (the make-up of the waiting list, or how
#: long it has waited so far: long waiters stand out): the
#: parameters that only they can tell apart from the rest (who no family comes forward for, the
#: adopters' openness) are considered only when one of them is used.
WHO_WAITS = ("waiting_in_sibling_groups_pct", "waiting_aged_5_plus_pct", "waiting_days_since_order")
#: Approved adopters available in-house: more or fewer change who is placed where, and how soon.
SUPPLY = ("adopters_waiting", "families_matched", "deregistrations", "external_placements", *INTERAGENCY,
          "a2_days", *WAITING)
#: Children flowing on after the placement order.
CHILD_FLOWS = ("plan_changes", "matches", "families_matched", "placements", "sibling_group_placements",
               "adoption_orders", *WAITING, "children_matched", "children_placed_awaiting_order",
               "children_waiting_over_18_months", *INTERAGENCY, "a2_days")

#: Figures that move with the adopters' inflow (enquiries) and with the children's (entering care).
ADOPTER_FLOWS = ("enquiries", "registrations", "stage2_starts", "approvals", "households_stage1",
                 "households_stage2", "adopters_waiting", "withdrawals")
CHILD_INFLOWS = ("plans_for_adoption", "placement_orders", "plans_declined", "children_with_plan", "matches",
                 "families_matched", "placements", "adoption_orders", *WAITING,
                 "interagency_placements", "inhouse_placements")

#: Every parameter the fit may set: scale, prior sd (on that scale) and search bounds, and the
#: figures it moves.  Prior means are the defaults of :mod:`sim.scenario.parameters` (values from the reports before fitting).
#: Priors are wide (1 on a log scale, a factor of 2.7) where the baseline value is an
#: assumption, and narrower (0.4-0.5) where a report gives it.  A parameter is fitted when a
#: used figure is among those it moves; the Jacobian keeps only those figures, so that noise
#: in figures a parameter does not move cannot steer the fit or feign identification.
CANDIDATES: tuple[FitParameter, ...] = (
    _fp("adopters.stage1_days", LOG, 0.5, 20, 400, "households_stage1", "stage2_starts",
        "stage1_within_2_months_pct", "roi_to_approval_days"),
    _fp("adopters.stage1_cv", LOG, 0.5, 0.05, 1.5, "stage1_within_2_months_pct"),
    _fp("adopters.stage1_withdrawal", LOGIT, 1.0, 0.02, 0.8, "stage2_starts", "withdrawals", "approvals",
        "households_stage1", "households_stage2", *SUPPLY),
    _fp("adopters.stage2_days", LOG, 0.5, 30, 400, "households_stage2", "stage2_mean_days",
        "stage2_within_4_months_pct", "roi_to_approval_days"),
    _fp("adopters.stage2_cv", LOG, 0.5, 0.05, 1.5, "stage2_within_4_months_pct"),
    _fp("adopters.stage2_withdrawal", LOGIT, 1.0, 0.01, 0.6, "approvals", "withdrawals", "households_stage2",
        *SUPPLY),
    _fp("adopters.deregistration_per_year", LOG, 0.7, 0.02, 3.0, "deregistrations", *SUPPLY),
    _fp("adopters.external_placement_per_year", LOG, 0.7, 0.02, 3.0, "external_placements",
        "interagency_income_gbp", *SUPPLY),
    _fp("matching.adopter_ready_days", LOG, 1.0, 7, 540, *SUPPLY),
    _fp("adopters.open_to_siblings_share", LOGIT, 1.0, 0.05, 0.9, *SUPPLY, "sibling_group_placements",
        needs=WHO_WAITS),
    _fp("adopters.open_to_older_share", LOGIT, 1.0, 0.05, 0.9, *SUPPLY, needs=WHO_WAITS),
    _fp("adopters.dual_approved_share", LOGIT, 1.0, 0.02, 0.95, "early_permanence_placements", "a10_days",
        *CARE_TO_ORDER, *SUPPLY),
    _fp("children.proceedings_weeks", LOG, 0.4, 10, 150, "a20_days", "a1_days", "a3_pct", "a10_days",
        *CARE_TO_ORDER, "early_permanence_placements"),
    _fp("children.plan_before_order_days", LOG, 1.0, 7, 365, "children_with_plan"),
    _fp("children.plan_change_per_year", LOG, 1.5, 0.005, 3.0, *CHILD_FLOWS),
    _fp("children.no_family_share", LOGIT, 1.0, 0.01, 0.9, *CHILD_FLOWS, needs=WHO_WAITS),
    _fp("children.early_permanence_share", LOGIT, 1.0, 0.02, 0.95, "early_permanence_placements", "a10_days",
        *CARE_TO_ORDER, *SUPPLY),
    _fp("children.early_permanence_window_days", LOG, 1.0, 14, 365, "early_permanence_placements", "a10_days",
        *CARE_TO_ORDER),
    _fp("matching.family_finding_days", LOG, 1.0, 5, 540, *TIMES_AFTER_ORDER, *INTERAGENCY,
        *WAITING, "children_matched"),
    _fp("matching.inhouse_search_days", LOG, 1.0, 10, 730, *TIMES_AFTER_ORDER, *INTERAGENCY,
        *WAITING, "children_matched"),
    _fp("matching.interagency_find_days", LOG, 0.7, 10, 730, *TIMES_AFTER_ORDER, *INTERAGENCY,
        *WAITING, "children_matched"),
    _fp("matching.harder_to_place_factor", LOG, 0.5, 1.0, 10.0, *TIMES_AFTER_ORDER, *INTERAGENCY,
        *WAITING, "children_waiting_over_18_months"),
    _fp("matching.link_to_panel_days", LOG, 0.7, 7, 180, "children_matched", *TIMES_AFTER_ORDER),
    _fp("placement.order_days", LOG, 0.4, 60, 900, "adoption_orders", "orders_within_12_months_pct",
        "children_placed_awaiting_order", *CARE_TO_ORDER, "interagency_fees_gbp"),
    _fp("placement.disruption_share", LOGIT, 1.0, 0.002, 0.3, "disruptions"),
    # The agency's size: fitted when no figure sets it directly (enquiries, plans for adoption), with
    # the prior centred where the file's most direct figure puts it through the pipeline's shares
    # (:mod:`sim.calibration.agency_size`); sd 0.4 on the log scale, as conversion and survival shares differ
    # that much between agencies.  The bounds are set around that centre (:data:`SIZE_BOUND`).
    _fp("adopters.enquiries_per_month", LOG, 0.4, 0.01, 100_000, *ADOPTER_FLOWS, *SUPPLY),
    _fp("children.entering_per_year", LOG, 0.4, 0.01, 500_000, *CHILD_INFLOWS, *CHILD_FLOWS,
        "early_permanence_placements", "children_placed_awaiting_order", "deregistrations", "external_placements",
        "a1_days", "a10_days"),
)
#: The size parameters' search bounds: their prior centre divided or multiplied by this.
SIZE_BOUND = 5.0
#: Trends the fit may set where a targets file gives figures for earlier years: the yearly growth
#: factor (1 = level) of the adopters' and the children's inflow, fitted with the levels.  The
#: prior (sd 0.25 on the log scale, centred on no trend) lets the figures show a trend of a
#: few tens of percent a year; the bounds, a halving to a 2.5-fold rise a year.
TREND_CANDIDATES = (
    _fp(TREND_PREFIX + "adopters.enquiries_per_month", LOG, 0.25, 0.5, 2.5, *ADOPTER_FLOWS),
    _fp(TREND_PREFIX + "children.entering_per_year", LOG, 0.25, 0.5, 2.5, *CHILD_INFLOWS),
)
CANDIDATE_BY_KEY = {c.key: c for c in CANDIDATES + TREND_CANDIDATES}

#: Figures held out of the fit as checks: relationships the reports state that the calibrated
#: model should reproduce without being fitted to them (see :mod:`sim.calibration.fit_report`): early
#: permanence children adopted sooner after entering care than others (Rotherham 2017/18 §7.3;
#: the fit sees only the other children's time, which is most children's), orders within 12
#: months of placement (Cambridgeshire 2017/18 §2.7.1) and the in-house share (C&P 2022/23 §4.2).
CHECK_FIGURES = ("ep_care_to_order_days", "orders_within_12_months_pct", "inhouse_share_pct")


#: Stocks a report gives at the start of its year as well as at its end, from which the forecast
#: starts: the figure, and the ``[initial_state]`` field that holds its opening value.
OPENING_FIGURES = {"children_waiting_with_po": "opening_children_waiting_with_po"}


def fit_targets(ts: TargetSet) -> list[Target]:
    """The targets the fit uses: the file's used targets less the figures held out as checks and the
    opening stocks (which the run starts from instead)."""
    opening = {id(t) for t in opening_targets(ts)}
    return [t for t in ts.used_targets() if t.figure not in CHECK_FIGURES and id(t) not in opening]


def opening_targets(ts: TargetSet) -> list[Target]:
    """Used targets that are a stock at the start of the report's year (the 31 March before it, given as
    the year before's figure) beside the same stock at its end: the run starts from the first, on the
    report year's first day, and the fit honours the second (:mod:`sim.model.initial_state`)."""
    before = financial_year_label(ts.start_year - 1)
    own = {t.figure for t in ts.used_targets() if t.year is None}
    return [t for t in ts.used_targets() if t.figure in OPENING_FIGURES and t.year == before and t.figure in own]


class CalibrationError(ValueError):
    """A calibration that cannot be run as asked."""


# --- direct estimates -----------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    """A parameter set directly from one or two figures."""

    key: str
    value: float
    note: str
    figures: tuple[str, ...] = ()  # the figures (KPI names) it comes from


def _trends_to_fit(ts: TargetSet) -> list[dict]:
    """A trend (at no change yet) for each inflow whose trend the fit will set, running to the end of
    the report's year and anchored on the year of the figure that sets the inflow's level (see
    :func:`level_figures`): the report's, or, where the file uses only earlier years of that figure, the
    latest of them."""
    fitting, _ = select_parameters(ts)
    levels = level_figures(ts)
    out = []
    for c in fitting:
        if not c.is_trend:
            continue
        parameter = c.key.removeprefix(TREND_PREFIX)
        level = levels.get(parameter)
        anchor = level.year if level is not None and level.year else ts.financial_year
        out.append({"parameter": parameter, "percent_per_year": 0.0, "anchor": anchor, "until": ts.financial_year})
    return out


def level_figures(ts: TargetSet, base: Scenario | None = None) -> dict[str, Target]:
    """For each inflow ("adopters.enquiries_per_month", "children.entering_per_year"), the figure
    that sets its level: the most direct the file gives (see :mod:`sim.calibration.agency_size`)."""
    used = latest_by_figure(ts.used_targets(), ts.start_year)
    per = size.figure_per_inflow(base or Scenario())
    out = {}
    for side, key in size.INFLOW.items():
        found = size.size_of_side(side, used, per)
        if found is not None:
            out[key] = found.figure
    return out


def latest_by_figure(targets: Sequence[Target], report_start: int) -> dict[str, Target]:
    """Each figure's target for the latest year given (the report's own, where it is used)."""
    out: dict[str, Target] = {}
    for t in sorted(targets, key=lambda t: t.year_start(report_start)):
        out[t.figure] = t
    return out


def direct_estimates(ts: TargetSet) -> list[Estimate]:
    """Parameters the report's figures pin down on their own (used targets only)."""
    used = latest_by_figure(ts.used_targets(), ts.start_year)
    fname = ts.path.name
    out: list[Estimate] = []

    def cite(*names: str) -> str:
        return "; ".join(f"{n} {_fmt(used[n].value)} ({used[n].source})" for n in names)

    if "enquiries" in used:
        out.append(Estimate("adopters.enquiries_per_month", used["enquiries"].value / 12,
                            f"estimated from {fname}: enquiries / 12 months; {cite('enquiries')}", ("enquiries",)))
    if "enquiries" in used and "registrations" in used and used["enquiries"].value > 0:
        out.append(Estimate("adopters.registration_share",
                            min(1.0, used["registrations"].value / used["enquiries"].value),
                            f"estimated from {fname}: registrations / enquiries; {cite('registrations', 'enquiries')}",
                            ("registrations", "enquiries")))
    if "placement_orders" in used and "plans_declined" in used:
        po, declined = used["placement_orders"].value, used["plans_declined"].value
        if po + declined > 0:
            out.append(Estimate("children.order_granted_share", _share(po, po + declined),
                                f"estimated from {fname}: orders / (orders + plans declined); "
                                f"{cite('placement_orders', 'plans_declined')}",
                                ("placement_orders", "plans_declined")))
    if "plans_for_adoption" in used:
        out.append(Estimate("children.entering_per_year", used["plans_for_adoption"].value,
                            f"estimated from {fname}: every child on the adoption track receives a plan; "
                            f"{cite('plans_for_adoption')}", ("plans_for_adoption",)))
    vaa = used.get("interagency_placements_vaa")
    la = used.get("interagency_placements_la")
    if vaa is not None and la is not None and vaa.value + la.value > 0:
        out.append(Estimate("matching.vaa_share", _share(vaa.value, vaa.value + la.value),
                            f"estimated from {fname}: VAA / (VAA + LA) interagency placements; "
                            f"{cite('interagency_placements_vaa', 'interagency_placements_la')}",
                            ("interagency_placements_vaa", "interagency_placements_la")))
    else:
        vaa_any = next((t for t in ts.targets if t.figure == "interagency_placements_vaa"), None)
        total = used.get("interagency_placements")
        if vaa_any is not None and total is not None and total.value > 0:
            out.append(Estimate("matching.vaa_share", _share(vaa_any.value, total.value),
                                f"estimated from {fname}: VAA / all interagency placements, with the figure for "
                                f"VAA (not used in the fit: it may count matches rather than placements) standing in "
                                f"for VAA placements, as the report gives no other split; interagency_placements_vaa "
                                f"{_fmt(vaa_any.value)} ({vaa_any.source}); {cite('interagency_placements')}",
                                ("interagency_placements_vaa", "interagency_placements")))
    return out


#: Where the prior of ``children.no_family_share`` is centred when the waiting list's make-up is fitted.
NO_FAMILY_PRIOR_CENTRE = 0.2


def informed_priors(ts: TargetSet, base: Scenario | None = None) -> list[Estimate]:
    """Prior centres (and starting values) for fitted parameters that two figures nearly pin down.

    Instead of the default (often another agency's figure), the prior is centred where the
    agency's own figures put the parameter; the fit still moves it to fit every figure.

    - care proceedings: A20 if given, else A1 - A2 - introductions (A1 = A20 + A2 + the days
      from the match decision to moving in, for children not in early permanence);
    - placement to adoption order: other children's care-to-order days less A1, less the mean
      delay of a parental challenge.
    """
    base = base or Scenario()
    used = latest_by_figure(fit_targets(ts), ts.start_year)
    fname = ts.path.name
    out: list[Estimate] = []
    intro = base.matching.match_to_placement_days
    if "a20_days" in used:
        a20 = used["a20_days"]
        out.append(Estimate("children.proceedings_weeks", a20.value / 7,
                            f"prior centred on A20 from {fname}: {a20.value:g} days ({a20.source})", ("a20_days",)))
    elif "a1_days" in used and "a2_days" in used and used["a1_days"].value - used["a2_days"].value > intro + 7:
        a1, a2 = used["a1_days"], used["a2_days"]
        out.append(Estimate("children.proceedings_weeks", (a1.value - a2.value - intro) / 7,
                            f"prior centred on A1 - A2 - {intro:g} days of introductions from {fname}: "
                            f"{a1.value:g} ({a1.source}) - {a2.value:g} ({a2.source})", ("a1_days", "a2_days")))
    if "non_ep_care_to_order_days" in used and "a1_days" in used:
        ne, a1 = used["non_ep_care_to_order_days"], used["a1_days"]
        challenge = base.placement.challenge_share * base.placement.challenge_delay_days
        if ne.value - a1.value - challenge > 60:
            out.append(Estimate("placement.order_days", ne.value - a1.value - challenge,
                                f"prior centred on care-to-order days less A1 less {challenge:g} days of challenges "
                                f"from {fname}: {ne.value:g} ({ne.source}) - {a1.value:g} ({a1.source})",
                                ("non_ep_care_to_order_days", "a1_days")))
    who_waits = [f for f in WHO_WAITS if f in used]
    if who_waits and base.children.no_family_share == 0:
        out.append(Estimate("children.no_family_share", NO_FAMILY_PRIOR_CENTRE,
                            f"prior centred on {NO_FAMILY_PRIOR_CENTRE:g} (assumption: some harder-to-place children "
                            f"wait until their plan changes; the default 0 cannot centre a share's prior), fitted to "
                            f"the make-up of the children waiting in {fname}", tuple(who_waits)))
    out = [Estimate(e.key, _round(e.value), e.note, e.figures) for e in out]
    _check_in_range(ts, out, "the prior centre of")
    return out


def _share(k: float, n: float) -> float:
    """k of n, kept off 0 and 1 (Jeffreys: (k + 0.5) / (n + 1)) when the report gives all or none."""
    return (k + 0.5) / (n + 1.0) if k <= 0 or k >= n else k / n


def _fmt(x: float) -> str:
    return f"{x:g}"


def select_parameters(ts: TargetSet, fixed: Sequence[str] = ()) -> tuple[list[FitParameter], list[FitParameter]]:
    """Candidates some used figure informs (to fit), and the rest (left at their baseline); ``fixed``
    (parameters set directly or given as inputs) are neither."""
    figures = {t.figure for t in fit_targets(ts)}
    earlier = {t.figure for t in fit_targets(ts) if t.year is not None}
    fit, left = [], []
    for c in CANDIDATES:
        if c.key in fixed or (c.needs and not figures & set(c.needs)):
            continue  # set directly, given, or not told apart by these figures: neither fitted nor left
        (fit if figures & set(c.informs) else left).append(c)
    for c in TREND_CANDIDATES:  # a trend needs the same figure in two years; no trend is no candidate left out
        if earlier & set(c.informs) and c.key not in fixed:
            fit.append(c)
    return fit, left


@dataclass
class AgencyPlan:
    """What a targets file sets before the fit: its inputs, the direct estimates (the capacity and
    any inflow scaled with the other side included), the informed prior centres, and the scenario
    the fit starts from."""

    start: Scenario  # the defaults with year 1, the inputs, the direct estimates and the prior centres
    estimates: list[Estimate]
    priors: list[Estimate]  # informed prior centres of fitted parameters (size and timing)
    sizes: dict[str, size.SideSize | None]  # each side's size as its most direct figure sets it
    inputs: dict[str, Any]
    opening: dict[str, str] = field(default_factory=dict)  # "initial_state.name": how its opening stock was set


def with_inputs(scenario: Scenario, inputs: dict[str, Any]) -> Scenario:
    """The scenario with the targets file's known inputs set as they are."""
    if not inputs:
        return scenario
    data = scenario.model_dump()
    for key, value in inputs.items():
        section, _, name = key.partition(".")
        if isinstance(data[section][name], float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        data[section][name] = value
    return Scenario.model_validate(data)


def plan_agency(ts: TargetSet, base: Scenario | None = None) -> AgencyPlan:
    """Inputs, direct estimates, the agency's size and capacity, and informed prior centres.

    Each side's inflow (enquiries a month; children entering a year) comes from the most direct
    figure the file gives on that side (:mod:`sim.calibration.agency_size`): set directly from enquiries or
    plans for adoption, otherwise a prior centre that the fit corrects.  A side with no figure at all
    is scaled with the other, as the defaults balance them; a file with neither is refused (unless it
    is timing only, when the agency keeps the defaults' size).  The assessing social workers and
    panels then scale with the volume, unless the file's [inputs] give them.
    """
    base = base or Scenario()
    fname = ts.path.name
    data = base.model_dump()
    data["scenario"]["start_year"] = ts.start_year
    if years_before(ts) > data["scenario"]["warm_up_years"]:
        data["scenario"]["warm_up_years"] = years_before(ts)
    data["trend"] = _trends_to_fit(ts)
    opening = {}
    for t in opening_targets(ts):
        name = OPENING_FIGURES[t.figure]
        data["initial_state"].update({name: int(round(t.value)), "opening_year": ts.financial_year})
        opening[f"initial_state.{name}"] = (f"set from {relative_to_project(ts.path)}: {t.figure} {_fmt(t.value)} at 31 "
                                            f"March {ts.start_year}, the opening stock of {ts.financial_year} "
                                            f"({t.source})")
    scenario = with_inputs(Scenario.model_validate(data), ts.inputs)
    estimates = [Estimate(e.key, _round(e.value), e.note, e.figures) for e in direct_estimates(ts)
                 if e.key not in ts.inputs]
    _check_in_range(ts, estimates, "the direct estimate of")
    scenario = with_parameters(scenario, {e.key: e.value for e in estimates})
    direct = {e.key for e in estimates}

    used = latest_by_figure(ts.used_targets(), ts.start_year)
    per = size.figure_per_inflow(scenario)
    sizes = {side: size.size_of_side(side, used, per) for side in size.INFLOW}
    priors: list[Estimate] = []
    known: dict[str, tuple[float, str]] = {}  # side: its inflow and where it comes from
    for side, key in size.INFLOW.items():
        found = sizes[side]
        if key in ts.inputs:
            known[side] = (float(ts.inputs[key]), f"{key} {ts.inputs[key]:g} given in the targets file")
        elif key in direct:
            known[side] = (_value(scenario, key), found.describe() if found else key)
        elif found is not None:
            parts = ("inhouse_placements", "interagency_placements", "interagency_placements_vaa",
                     "interagency_placements_la")  # a composite placements figure comes from these
            priors.append(Estimate(key, _round(found.inflow),
                                   f"prior centred on the agency's size from {fname}: {found.describe()}",
                                   (found.figure.figure,) if found.figure.figure in used else parts))
            known[side] = (found.inflow, found.describe())
    if not known and not ts.timing_only:
        raise CalibrationError(f"{fname}: no used figure sets the agency's size: {size.WHAT_TO_ADD} (the model "
                               f"would otherwise keep the defaults' size, Cambridgeshire & Peterborough 2022/23's)")
    for side, key in size.INFLOW.items():
        if side in known or not known:
            continue
        other = next(iter(known))
        inflow, how = known[other]
        k = inflow / _value(base, size.INFLOW[other]) if _value(base, size.INFLOW[other]) > 0 else 1.0
        estimates.append(Estimate(key, _round(_value(base, key) * k),
                                  f"estimated from {fname}: no figure on the {size.SIDE_NAME[side]} side, so scaled "
                                  f"with the {size.SIDE_NAME[other]} side as the defaults balance them (x {k:.3g} the defaults' "
                                  f"{_value(base, key):g}): {how}"))
    _check_in_range(ts, estimates + priors, "the estimate of")
    sized = with_parameters(scenario, {e.key: e.value for e in estimates + priors})
    for c in size.capacity(scenario, base, size.composite_figures(used), sized):
        if c.key not in ts.inputs and known:
            estimates.append(Estimate(c.key, _round(c.value), f"estimated from {fname}: {c.note}"))
    priors += [e for e in informed_priors(ts, base) if e.key not in ts.inputs]
    _check_in_range(ts, estimates + priors, "the estimate of")
    start = with_parameters(scenario, {e.key: e.value for e in estimates + priors})
    return AgencyPlan(start, estimates, priors, sizes, dict(ts.inputs), opening)


def _value(scenario: Scenario, key: str) -> float:
    section, _, name = key.partition(".")
    return float(getattr(getattr(scenario, section), name))


def starting_scenario(ts: TargetSet, base: Scenario | None = None) -> tuple[Scenario, list[Estimate]]:
    """The baseline with year 1 set to the report's year, the file's inputs, the direct estimates
    (the agency's size and capacity included) and the informed prior centres (see :func:`plan_agency`).

    The run starts from the steady level of every stock (:mod:`sim.model.initial_state`), not from the
    report's year-end stocks: those are the state at the end of year 1, which the fit compares
    with the simulated year end like any other figure."""
    plan = plan_agency(ts, base)
    return plan.start, plan.estimates


def _check_in_range(ts: TargetSet, estimates: Sequence[Estimate], what: str) -> None:
    """Refuse a parameter set from the figures outside the range a scenario allows, naming the
    targets file, the entries and the figures it comes from."""
    for e in estimates:
        info = field_info(*e.key.split(".", 1))
        lo, hi = info["min"], info["max"]
        if lo <= e.value <= hi:
            continue
        behind = [t for f, t in latest_by_figure(ts.used_targets(), ts.start_year).items() if f in e.figures]
        entries = [(i, t) for i, t in enumerate(ts.targets, 1) if any(t is b for b in behind)]
        allowed = f"allowed: figures giving {_num(lo)} to {_num(hi)} {info['unit']} (check the figures and their units)"
        if not entries:  # set from the agency's size or capacity: the note says from which figures
            raise CalibrationError(f"{ts.path.name}: {what} {e.key} = {_num(e.value)} is outside its range "
                                   f"({e.note}); {allowed}")
        where = " and ".join(f'target {i} (figure "{t.figure}")' for i, t in entries)
        values = ", ".join(f"{t.figure} {_num(t.value)}" for _, t in entries)
        raise CalibrationError(
            f'{ts.path.name}: {where}: field "value" ({values}) gives {what} {e.key} = {_num(e.value)}, outside '
            f"its range; {allowed}")


def _num(x: float) -> str:
    """A figure as a reader writes it: 416,700, 428.6, 0.4286."""
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


# --- simulation of year 1 -------------------------------------------------------------------

def years_before(ts: TargetSet) -> int:
    """How many financial years before the report's the targets go back (0: the report's year only)."""
    return max(0, max((ts.start_year - t.year_start(ts.start_year) for t in ts.targets), default=0))


def columns(ts: TargetSet) -> dict[str, int]:
    """Where each target's figure lies in a replication's simulated values: the KPIs of each year of
    the fit's window (the earlier years of the targets, then the report's), by target key."""
    first = ts.start_year - years_before(ts)
    out = {name: years_before(ts) * len(KPI_NAMES) + i for i, name in enumerate(KPI_NAMES)}
    for t in ts.targets:
        out[t.key] = (t.year_start(ts.start_year) - first) * len(KPI_NAMES) + KPI_INDEX[t.figure]
    return out


def _window_chunk(args: tuple[Scenario, list[int]]) -> np.ndarray:
    scenario, reps = args
    years = scenario.scenario.years
    out = np.empty((len(reps), years * len(KPI_NAMES)))
    for i, r in enumerate(reps):
        kpis = run_replication(scenario, r).kpis
        out[i] = [kpis[name][y] for y in range(years) for name in KPI_NAMES]
    return out


class Simulator:
    """Runs the fit's window (the report's year, and earlier years a targets file gives) of many
    scenarios over the same replications, spread over processes."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or default_workers()
        self._pool = ProcessPoolExecutor(self.workers) if self.workers > 1 else None
        self.runs = 0

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> "Simulator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def window(self, scenarios: Sequence[Scenario], replications: int, before: int = 0, after: int = 0
               ) -> list[np.ndarray]:
        """For each scenario, a (replications x (years x KPI)) array: the KPIs (order of sim.model.kpis) of
        the ``before`` years before year 1, of year 1 and of the ``after`` years after it, year by year."""
        windowed = [fit_window(s, before, after) for s in scenarios]
        self.runs += len(scenarios)
        if self._pool is None:
            return [_window_chunk((s, list(range(replications)))) for s in windowed]
        n_chunks = max(1, min(replications, self.workers))
        chunks = [list(range(replications))[i::n_chunks] for i in range(n_chunks)]
        tasks = [(s, c) for s in windowed for c in chunks]
        parts = list(self._pool.map(_window_chunk, tasks))
        out = []
        for k in range(len(windowed)):
            block = parts[k * n_chunks:(k + 1) * n_chunks]
            order = np.argsort(np.concatenate(chunks))
            out.append(np.concatenate(block)[order])
        return out


def fit_window(scenario: Scenario, before: int = 0, after: int = 0) -> Scenario:
    """The scenario reporting the ``before`` years before its year 1, year 1 itself and ``after`` years
    of projection: the same run (its first day unchanged), with ``before`` warm-up years reported."""
    run = scenario.scenario
    if run.years == before + 1 + after and before == 0:
        return scenario
    if before > run.warm_up_years:
        raise CalibrationError(f"targets go back {before} years before year 1, more than the "
                               f"{run.warm_up_years} warm-up years")
    data = scenario.model_dump()
    data["scenario"].update(start_year=run.start_year - before, warm_up_years=run.warm_up_years - before,
                            years=before + 1 + after)
    for trend in data.get("trend", []):  # a trend is anchored on the report's year, not the window's first
        trend["anchor"] = trend.get("anchor") or financial_year_label(run.start_year)
    if scenario.initial_state.opening_children_waiting_with_po is not None:  # so is an opening stock
        data["initial_state"]["opening_year"] = (scenario.initial_state.opening_year
                                                 or financial_year_label(run.start_year))
    return Scenario.model_validate(data)


KPI_INDEX = {name: i for i, name in enumerate(KPI_NAMES)}


def simulated_means(values: np.ndarray, cols: Sequence[int]) -> np.ndarray:
    """Mean over replications of each column (replications with no value left out; none at all gives 0)."""
    cols = values[:, list(cols)]
    ok = ~np.isnan(cols)
    n = ok.sum(axis=0)
    sums = np.where(ok, cols, 0.0).sum(axis=0)
    return np.where(n > 0, sums / np.maximum(n, 1), 0.0)


# --- the fit --------------------------------------------------------------------------------

@dataclass
class FitResult:
    """What the fit found, and how well the figures pin each parameter down."""

    parameters: list[FitParameter]
    targets: list[Target]
    theta0: np.ndarray  # prior means (baseline), transformed scale
    theta_start: np.ndarray
    theta: np.ndarray  # fitted, transformed scale
    values: dict[str, float]  # fitted, natural units
    residuals: np.ndarray  # data residuals at the fit (standardised)
    jac_data: np.ndarray  # d data residual / d theta
    jac: np.ndarray  # with the prior rows
    cov: np.ndarray  # covariance of theta (Laplace approximation)
    objective: float  # sum of the robust losses of every residual, priors included (see :func:`loss`)
    objective_start: float
    evaluations: int
    seconds: float
    message: str
    replications: int
    history: list[tuple[int, float]] = field(default_factory=list)

    def prior_mean(self, parameter: FitParameter) -> float:
        """The value the parameter's prior is centred on (its baseline, or an informed centre)."""
        return parameter.from_theta(self.theta0[self.parameters.index(parameter)])

    @property
    def posterior_sd(self) -> np.ndarray:
        return np.sqrt(np.diag(self.cov))

    def identification(self) -> list[dict]:
        """Per parameter: Jacobian column norm, posterior / prior sd, and a verdict."""
        rows = []
        norms = np.linalg.norm(self.jac_data, axis=0)
        post = self.posterior_sd
        for j, p in enumerate(self.parameters):
            ratio = post[j] / p.prior_sd
            if norms[j] < 0.05:
                verdict = "unidentified: no used figure responds to it (Jacobian column ~0)"
            elif ratio > 0.8:
                verdict = f"weakly identified: the figures narrow its prior only to {ratio:.0%}"
            else:
                verdict = "identified"
            rows.append({"parameter": p.key, "jacobian_norm": float(norms[j]), "prior_sd": p.prior_sd,
                         "posterior_sd": float(post[j]), "sd_ratio": float(ratio), "verdict": verdict})
        return rows

    def correlated_pairs(self, threshold: float = 0.85) -> list[tuple[str, str, float]]:
        """Pairs of fitted parameters the figures only pin down together."""
        sd = self.posterior_sd
        corr = self.cov / np.outer(sd, sd)
        out = []
        for i in range(len(self.parameters)):
            for j in range(i + 1, len(self.parameters)):
                if abs(corr[i, j]) >= threshold:
                    out.append((self.parameters[i].key, self.parameters[j].key, float(corr[i, j])))
        return out


def fit(targets: Sequence[Target], start: Scenario, parameters: Sequence[FitParameter], *,
        replications: int = 40, prior_means: dict[str, float] | None = None, workers: int | None = None,
        simulator: Simulator | None = None, max_iterations: int = 40, restarts: int = 2,
        max_simulations: float = 500, columns: dict[str, int] | None = None, before: int = 0,
        progress: Callable[[int, float], None] | None = None) -> FitResult:
    """Least-squares fit of ``parameters`` to ``targets`` by simulating year 1 of ``start``.

    The residuals are (simulated mean - observed) / sd for each target, plus
    (theta - prior mean) / prior sd for each parameter on its transformed scale; the prior
    means are the parameters' values in ``prior_means`` (default: the defaults of :mod:`sim.scenario.parameters`).
    Every evaluation uses replications 0..R-1 with the scenario's seed.  ``columns`` (from
    :func:`columns`) says where each target's figure lies when the targets go back ``before``
    years before year 1; by default every target is for year 1.
    """
    problem = LeastSquaresFit(targets, start, parameters, replications=replications, prior_means=prior_means,
                              max_simulations=max_simulations, columns=columns, before=before, progress=progress)
    own = simulator is None
    sim = simulator or Simulator(workers)
    try:
        return problem.solve(sim, max_iterations, restarts)
    finally:
        if own:
            sim.close()


class LeastSquaresFit:
    """One least-squares fit (:func:`fit`), step by step: the residuals of a parameter point (each
    figure's simulated mean less its value, in sd, and each parameter's distance from its prior),
    their Jacobian by finite differences on common random numbers, the trust-region solve with
    restarts, and the Laplace approximation of the posterior at the answer."""

    def __init__(self, targets: Sequence[Target], start: Scenario, parameters: Sequence[FitParameter], *,
                 replications: int, prior_means: dict[str, float] | None, max_simulations: float,
                 columns: dict[str, int] | None, before: int, progress: Callable[[int, float], None] | None):
        self.parameters, self.targets = list(parameters), list(targets)
        if not self.targets:
            raise CalibrationError("no used targets to fit")
        baseline = Scenario()
        prior_means = prior_means or {}
        self.start, self.replications, self.before, self.progress = start, replications, before, progress
        self.max_simulations = max_simulations
        self.theta0 = np.array([p.to_theta(prior_means.get(p.key, p.value_of(baseline))) for p in self.parameters])
        self.sigma = np.array([p.prior_sd for p in self.parameters])
        self.lo = np.array([p.to_theta(p.lo) for p in self.parameters])
        self.hi = np.array([p.to_theta(p.hi) for p in self.parameters])
        self.start_theta = np.clip([p.to_theta(p.value_of(start)) for p in self.parameters], self.lo + 1e-9,
                                   self.hi - 1e-9)
        columns = columns or KPI_INDEX
        self.cols = [columns[t.key] for t in self.targets]
        self.observed = np.array([t.value for t in self.targets])
        self.sds = np.array([t.sd for t in self.targets])
        self.h = np.array([p.step for p in self.parameters])
        self.mask = np.array([[not p.informs or t.figure in p.informs for p in self.parameters] for t in self.targets])
        self.cache: dict[tuple, np.ndarray] = {}
        self.history: list[tuple[int, float]] = []
        self.best_seen: list = [math.inf, self.start_theta]
        self.sim: Simulator | None = None

    def scenario_at(self, theta: np.ndarray) -> Scenario:
        """The scenario with the parameters at ``theta`` (their transformed scale)."""
        return with_parameters(self.start, {p.key: _round(p.from_theta(x)) for p, x in zip(self.parameters, theta)})

    def data_residuals(self, thetas: list[np.ndarray]) -> list[np.ndarray]:
        """Each point's figures less their values, in sd (simulated once a point, together)."""
        todo = [th for th in thetas if _key(th) not in self.cache]
        if todo:
            runs = self.sim.window([self.scenario_at(th) for th in todo], self.replications, self.before)
            for th, values in zip(todo, runs):
                self.cache[_key(th)] = (simulated_means(values, self.cols) - self.observed) / self.sds
        return [self.cache[_key(th)] for th in thetas]

    def residuals(self, theta: np.ndarray) -> np.ndarray:
        """The figures' residuals and the priors', at ``theta``; the best point seen is kept."""
        if len(self.cache) >= self.max_simulations:
            raise _Budget
        r = np.concatenate([self.data_residuals([theta])[0], (theta - self.theta0) / self.sigma])
        objective = loss(r)
        self.history.append((len(self.cache), objective))
        if objective < self.best_seen[0]:
            self.best_seen[:] = [objective, theta.copy()]
        if self.progress and (len(self.history) == 1 or len(self.cache) > self.history[-2][0]):
            self.progress(len(self.cache), objective)
        return r

    def jacobian(self, theta: np.ndarray) -> np.ndarray:
        """Finite differences of the figures' residuals (only where a parameter informs a figure),
        and the priors' own."""
        if not self.parameters:
            return np.zeros((len(self.targets), 0))
        steps = np.where(theta + self.h <= self.hi, self.h, -self.h)
        points = [theta.copy() for _ in self.parameters]
        for j, pt in enumerate(points):
            pt[j] += steps[j]
        base, *moved = self.data_residuals([theta, *points])
        jd = np.column_stack([(m - base) / s for m, s in zip(moved, steps)]) * self.mask
        return np.vstack([jd, np.diag(1.0 / self.sigma)])

    def solve(self, sim: Simulator, max_iterations: int, restarts: int) -> FitResult:
        """The fit on ``sim``: a trust-region solve from the start, restarted from the best point
        while that still gains more than 2% (the objective is smooth only up to the simulation's
        granularity, so a trust region can shrink on noise)."""
        self.sim, t0 = sim, time.perf_counter()
        r_start = self.residuals(self.start_theta)
        theta, best, message, budget = self.start_theta, loss(r_start), "", max_iterations
        if not self.parameters:  # everything was set directly: nothing to fit
            restarts, message = -1, "nothing to fit: every parameter the figures inform was set directly"
        for _ in range(restarts + 1):
            try:
                result = least_squares(self.residuals, theta, jac=self.jacobian, bounds=(self.lo, self.hi),
                                       method="trf", loss=LOSS, f_scale=1.0, x_scale=1.0, ftol=5e-3, xtol=1e-4,
                                       gtol=1e-6, max_nfev=budget)
            except _Budget:
                theta, message = self.best_seen[1], f"stopped after {len(self.cache)} simulations (the limit)"
                break
            budget -= result.nfev
            gain = best - 2 * result.cost
            if 2 * result.cost < best:
                theta, best, message = result.x, 2 * result.cost, str(result.message)
            if gain < 0.02 * best or budget <= 0:
                break
        self.max_simulations = math.inf  # the final Jacobian and residuals are always computed
        jac = self.jacobian(theta)
        r_end = self.residuals(theta)
        n_data = len(self.targets)
        return FitResult(
            parameters=self.parameters, targets=self.targets, theta0=self.theta0, theta_start=self.start_theta,
            theta=theta, values={p.key: _round(p.from_theta(x)) for p, x in zip(self.parameters, theta)},
            residuals=r_end[:n_data], jac_data=jac[:n_data], jac=jac, cov=self.laplace_covariance(jac, r_end),
            objective=loss(r_end), objective_start=loss(r_start), evaluations=len(self.cache),
            seconds=time.perf_counter() - t0, message=message, replications=self.replications,
            history=self.history,
        )

    def laplace_covariance(self, jac: np.ndarray, r_end: np.ndarray) -> np.ndarray:
        """The Laplace approximation at the fit: each figure's residual weighted as the robust loss
        weighs it there; the priors are Gaussian."""
        if not self.parameters:
            return np.zeros((0, 0))
        n_data = len(self.targets)
        weights = np.ones(len(r_end))
        weights[:n_data] = 1.0 / np.sqrt(np.sqrt(1.0 + r_end[:n_data] ** 2))
        return np.linalg.pinv((jac * weights[:, None]).T @ (jac * weights[:, None]))


def loss(residuals: np.ndarray) -> float:
    """The objective: the soft-L1 loss summed over residuals (2 x SciPy's ``cost``)."""
    return float(np.sum(2.0 * (np.sqrt(1.0 + residuals ** 2) - 1.0)))


class _Budget(Exception):
    """The fit has used its simulations."""


def _key(theta: np.ndarray) -> tuple:
    return tuple(np.round(theta, 12))


def _round(x: float) -> float:
    """Four significant figures: what the scenario file records and every run uses."""
    return float(f"{x:.4g}")


def relative_to_project(path: Path) -> str:
    """A path as the scenario records it: relative to the project folder when inside it."""
    path = Path(path).resolve()
    try:
        return path.relative_to(PROJECT_DIR).as_posix()
    except ValueError:
        return str(path)


def responding_figures(result: FitResult, parameter: FitParameter, limit: int = 6) -> list[Target]:
    """The used figures that respond most to a fitted parameter (largest Jacobian entries)."""
    j = result.parameters.index(parameter)
    col = np.abs(result.jac_data[:, j])
    order = [i for i in np.argsort(-col, kind="stable") if col[i] >= 0.25][:limit]
    if not order:  # nothing responds much: name the figures it moves
        return [t for t in result.targets if t.figure in parameter.informs][:limit]
    return [result.targets[i] for i in order]


def fitted_notes(ts: TargetSet, result: FitResult, estimates: Sequence[Estimate],
                 priors: Sequence[Estimate] = (), left: Sequence[FitParameter] = (),
                 pooled: dict[str, PooledPrior] | None = None, opening: dict[str, str] | None = None) -> dict[str, str]:
    """The [calibration] fitted table: for each parameter, how it was set and from which figures;
    for each one no used figure informs (``left``), where its value and spread come from."""
    fname = relative_to_project(ts.path)
    notes = {key: f"given in the targets file {fname} ([inputs]: {value!r})" for key, value in ts.inputs.items()}
    notes.update(opening or {})
    notes.update({e.key: e.note.replace(ts.path.name, fname, 1) for e in estimates})
    centres = {e.key: e for e in priors}
    for p in result.parameters:
        if p.is_trend:
            continue
        figs = responding_figures(result, p)
        notes[p.key] = f"fitted to {fname}: " + ", ".join(f"{t.figure} ({t.source})" for t in figs)
        if p.key in centres:
            notes[p.key] += f"; {centres[p.key].note.replace(ts.path.name + ': ', '', 1)}"
        elif pooled and p.key in pooled and pooled[p.key].agencies:
            notes[p.key] += f"; prior {pooled[p.key].describe()}"
    for p in left:
        how = pooled[p.key].describe() if pooled and p.key in pooled else "the default value and prior"
        notes[p.key] = f"{OPEN_NOTE} no figure in {fname} informs it; centre and spread {how}, drawn per replication"
    return notes


@dataclass
class AgencyFit:
    """An agency fitted to its targets: the starting scenario, how each parameter was set, the fit."""

    start: Scenario  # the baseline with year 1, the direct estimates and the prior centres
    estimates: list[Estimate]
    priors: list[Estimate]
    left: list[FitParameter]  # candidates no used figure informs: at their prior centre, with its sd
    result: FitResult
    inputs: dict[str, Any] = field(default_factory=dict)  # given in the targets file, set as they are
    pooled: dict[str, PooledPrior] = field(default_factory=dict)  # priors from the calibrated agencies
    opening: dict[str, str] = field(default_factory=dict)  # opening stocks set from the file, with how

    @property
    def scenario(self) -> Scenario:
        """The fitted scenario (before its name, description and calibration record are written)."""
        return with_parameters(self.start, self.result.values)


@dataclass
class AgencyProblem:
    """What the fit of one targets file starts from: the plan, the parameters to fit (with their priors'
    centres and spreads), those no used figure informs, and the pooled priors."""

    plan: AgencyPlan
    start: Scenario  # the plan's scenario with every pooled prior centre set
    params: list[FitParameter]
    left: list[FitParameter]
    centres: dict[str, float]
    pooled: dict[str, PooledPrior]


def agency_problem(ts: TargetSet, agencies: Sequence[CalibratedAgency] | None = None) -> AgencyProblem:
    """Inputs, direct estimates, the agency's size and capacity, and the priors, for one targets file.

    A parameter the file's figures do not set directly has its prior from the calibrated agencies
    other than this one (``agencies``, default every calibrated scenario in ``scenarios/``; see
    :mod:`sim.calibration.agency_priors`) unless the file informs its centre; one no used figure
    informs is left at that centre and drawn from that prior in the parameter sets."""
    plan = plan_agency(ts)
    inflows = set(size.INFLOW.values())
    agencies = calibrated_agencies() if agencies is None else agencies
    pooled = pooled_priors([c for c in CANDIDATES if c.key not in inflows], agencies, exclude=ts.path)
    informed = {e.key for e in plan.priors}
    centres = {k: v.centre for k, v in pooled.items() if k not in informed}
    fixed = [*ts.inputs, *(e.key for e in plan.estimates)]
    params, left = select_parameters(ts, fixed)
    start = with_parameters(plan.start, {p.key: _round(centres[p.key]) for p in params + left if p.key in centres})
    centres.update({e.key: e.value for e in plan.priors})

    def with_pooled_sd(p: FitParameter) -> FitParameter:
        return replace(p, prior_sd=pooled[p.key].sd) if p.key in pooled and p.key not in informed else p

    # an inflow is fitted only around the centre a figure on its side gives (a timing-only file keeps
    # the defaults' size), within a factor SIZE_BOUND of it
    params = [replace(p, lo=max(p.lo, centres[p.key] / SIZE_BOUND), hi=min(p.hi, centres[p.key] * SIZE_BOUND))
              if p.key in inflows else with_pooled_sd(p)
              for p in params if p.key not in inflows or p.key in centres]
    left = [with_pooled_sd(p) for p in left if p.key not in inflows]
    return AgencyProblem(plan, start, params, left, centres, pooled)


def fit_agency(ts: TargetSet, simulator: Simulator, replications: int = 40, max_iterations: int = 40,
               progress: Callable[[int, float], None] | None = None,
               agencies: Sequence[CalibratedAgency] | None = None, start_from: Scenario | None = None) -> AgencyFit:
    """The agency's problem (:func:`agency_problem`) and the fit by simulation, for one targets file.

    ``start_from``, a scenario calibrated to the same file before, starts the search at its values of
    the parameters to fit (a refit after a change to the model costs a few simulations); the priors
    are the problem's own either way."""
    problem = agency_problem(ts, agencies)
    search_start = problem.start
    if start_from is not None:
        search_start = with_parameters(problem.start, {p.key: p.value_of(start_from) for p in problem.params})
    result = fit(fit_targets(ts), search_start, problem.params, replications=replications, simulator=simulator,
                 prior_means=problem.centres, columns=columns(ts), before=years_before(ts),
                 max_iterations=max_iterations, progress=progress)
    return AgencyFit(problem.start, problem.plan.estimates, problem.plan.priors, problem.left, result,
                     problem.plan.inputs, problem.pooled, problem.plan.opening)


def trend_notes(ts: TargetSet, result: FitResult) -> dict[str, str]:
    """For each fitted trend, the note its ``[[trend]]`` entry carries: the figures it was fitted to."""
    fname = relative_to_project(ts.path)
    return {p.key.removeprefix(TREND_PREFIX): f"fitted to {fname}: " + ", ".join(
        f"{t.key} ({t.source})" for t in responding_figures(result, p)) for p in result.parameters if p.is_trend}


def check_parameter_keys(keys: Sequence[str]) -> None:
    for key in keys:
        section, _, name = key.partition(".")
        if section not in SECTIONS or name not in SECTIONS[section].model_fields:
            raise CalibrationError(f"unknown parameter {key!r}")
