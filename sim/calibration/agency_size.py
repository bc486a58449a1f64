"""An agency's size from the few figures it publishes: its inflows and its capacity.

Most agencies publish a handful of counts (approvals, placement orders, placements, adoption
orders) and perhaps a stock (adopters waiting).  Each such figure says how large the agency
is, through the pipeline's shares and durations: at steady state every yearly count is the
inflow times the share of the inflow that reaches it, and every year-end stock is the flow
through it times the time spent in it (Little's law).  So

* **enquiries a month** (the adopters' inflow) = a figure on the adopters' side / what one
  enquiry a month gives of it, e.g. approvals / (12 x registration share x (1 - stage 1
  withdrawal) x (1 - stage 2 withdrawal) x (1 - not approved), with second-time adopters);
* **children entering a year** (the children's inflow) = a figure on the children's side /
  the share of children entering who reach it, e.g. placement orders / order granted share,
  placements / (order granted share x no plan change), or a stock / its stay;

with the shares and durations of the scenario before fitting (the defaults, the file's
inputs and what its figures set directly).  :func:`figure_per_inflow` gives, for every
figure, what one unit of its side's inflow yields and how; :func:`size_of_side` picks the
most direct figure a file gives (counts before stocks, the nearest to the inflow first).

Capacity scales with volume (:func:`capacity`): the assessing social workers with the
households entering stage 2, and panels with the panel's business (approvals and families
matched), each against the volume the defaults (C&P 2022/23) are sized for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from sim.calibration.targets import Target
from sim.scenario.calendar import YEAR_DAYS
from sim.scenario.parameters import Scenario

ADOPTERS, CHILDREN = "adopters", "children"
SIDE_NAME = {ADOPTERS: "adopters'", CHILDREN: "children's"}
#: The inflow parameter of each side.
INFLOW = {ADOPTERS: "adopters.enquiries_per_month", CHILDREN: "children.entering_per_year"}
#: Figures that set each side's size, most direct first: counts from the inflow downstream,
#: then stocks (which need a duration as well as shares).
SIZE_FIGURES = {
    ADOPTERS: ("enquiries", "registrations", "stage2_starts", "approvals", "withdrawals", "households_stage1",
               "households_stage2", "adopters_waiting"),
    CHILDREN: ("plans_for_adoption", "placement_orders", "matches", "families_matched", "placements",
               "adoption_orders", "plans_declined", "children_with_plan", "children_waiting_with_po",
               "children_placed_awaiting_order"),
}
#: What to tell a user whose file sets neither side's size.
WHAT_TO_ADD = ("add approvals, registrations or enquiries for the adopters' side; placement orders, placements, "
               "matches, adoption orders or plans for adoption for the children's side")
#: For capacity: the figures nearest the assessment (stage 2) and the panel's business.
NEAR_STAGE2 = ("stage2_starts", "approvals", "registrations", "enquiries", "withdrawals", "households_stage2",
               "households_stage1", "adopters_waiting")
NEAR_APPROVALS = ("approvals", "stage2_starts", "registrations", "enquiries", "withdrawals", "households_stage2",
                  "households_stage1", "adopters_waiting")
NEAR_MATCHES = ("families_matched", "matches", "placements", "adoption_orders", "placement_orders",
                "plans_for_adoption", "plans_declined", "children_waiting_with_po", "children_placed_awaiting_order",
                "children_with_plan")


@dataclass(frozen=True)
class PerInflow:
    """What one unit of a side's inflow (an enquiry a month; a child entering a year) gives of a figure."""

    side: str
    value: float
    how: str  # the shares and durations behind it


def _g(x: float) -> str:
    return f"{x:.3g}"


def figure_per_inflow(s: Scenario) -> dict[str, PerInflow]:
    """For each size figure, its steady yearly count (or year-end stock) per unit of its side's
    inflow, at the scenario's shares and durations."""
    a, c, m, pl = s.adopters, s.children, s.matching, s.placement
    out: dict[str, PerInflow] = {}
    # --- adopters: per enquiry a month -----------------------------------------------------
    reg = 12.0 * a.registration_share
    into2 = reg * (1.0 - a.stage1_withdrawal)
    q = (1.0 - a.stage2_withdrawal) * (1.0 - a.not_approved_share)
    again = 1.0 / (1.0 - a.return_share * q) if a.return_share * q < 1 else 1.0  # second-time adopters
    stage2 = into2 * again
    approvals = stage2 * q
    shares = (f"12 months x registration_share {_g(a.registration_share)} x (1 - stage1_withdrawal "
              f"{_g(a.stage1_withdrawal)})")
    returns = f", x {again:.3f} for second-time adopters (return_share {_g(a.return_share)} of those approved)"
    out["enquiries"] = PerInflow(ADOPTERS, 12.0, "12 months")
    out["registrations"] = PerInflow(ADOPTERS, reg, f"12 months x registration_share {_g(a.registration_share)}")
    out["stage2_starts"] = PerInflow(ADOPTERS, stage2, shares + returns)
    out["approvals"] = PerInflow(ADOPTERS, approvals, f"{shares} x (1 - stage2_withdrawal {_g(a.stage2_withdrawal)})"
                                 f" x (1 - not_approved_share {_g(a.not_approved_share)}){returns}")
    out["withdrawals"] = PerInflow(ADOPTERS, reg * a.stage1_withdrawal + stage2 * (1.0 - q),
                                   "registrations x stage1_withdrawal + stage 2 starts x (stage 2 withdrawal or "
                                   "not approved)")
    out["households_stage1"] = PerInflow(
        ADOPTERS, reg * a.stage1_days * (1.0 - a.stage1_withdrawal / 2) / YEAR_DAYS,
        f"registrations x stage1_days {_g(a.stage1_days)} / 365 (those withdrawing leave half-way)")
    brk = into2 * a.break_share * min(a.break_days, 183.0)
    out["households_stage2"] = PerInflow(
        ADOPTERS, (stage2 * a.stage2_days * (1.0 - a.stage2_withdrawal / 2) + brk) / YEAR_DAYS,
        f"stage 2 starts x stage2_days {_g(a.stage2_days)} / 365, and those on a break")
    leave = a.deregistration_per_year + a.external_placement_per_year
    wait = m.adopter_ready_days + m.interval_days
    if leave > 0:
        wait = min(wait, YEAR_DAYS / leave)
    out["adopters_waiting"] = PerInflow(ADOPTERS, approvals * wait / YEAR_DAYS,
                                        f"approvals x {wait:.0f} days before a household is linked or leaves / 365")
    # --- children: per child entering a year -----------------------------------------------
    g = c.order_granted_share
    to_link = m.family_finding_days + 0.5 * (m.inhouse_search_days + m.interagency_find_days)
    kept = math.exp(-c.plan_change_per_year * to_link / YEAR_DAYS)  # no plan change before a link
    again_c = 1.0 + pl.disruption_share  # a disrupted placement is matched and placed again
    mean_size = sum((i + 1) * p for i, p in enumerate(c.sibling_group_probs))
    granted = f"order_granted_share {_g(g)}"
    no_change = f"{kept:.3f} with no plan change in about {to_link:.0f} days of family finding"
    out["plans_for_adoption"] = PerInflow(CHILDREN, 1.0, "every child on the adoption track receives a plan")
    out["placement_orders"] = PerInflow(CHILDREN, g, granted)
    out["plans_declined"] = PerInflow(CHILDREN, 1.0 - g, f"1 - {granted}")
    for fig in ("matches", "placements"):
        out[fig] = PerInflow(CHILDREN, g * kept * again_c, f"{granted} x {no_change}, x {again_c:g} for placements "
                                                           f"that disrupt and are made again")
    out["families_matched"] = PerInflow(CHILDREN, g * kept * again_c / mean_size,
                                        f"matches / {mean_size:.2f} children a family ({granted} x {no_change})")
    out["adoption_orders"] = PerInflow(CHILDREN, g * kept, f"{granted} x {no_change}")
    out["children_with_plan"] = PerInflow(CHILDREN, c.plan_before_order_days / YEAR_DAYS,
                                          f"plans x plan_before_order_days {_g(c.plan_before_order_days)} / 365")
    out["children_waiting_with_po"] = PerInflow(CHILDREN, g * to_link / YEAR_DAYS,
                                                f"placement orders ({granted}) x {to_link:.0f} days from the order to a "
                                                f"link / 365")
    stay = pl.order_days + pl.challenge_share * pl.challenge_delay_days
    out["children_placed_awaiting_order"] = PerInflow(CHILDREN, g * kept * stay / YEAR_DAYS,
                                                      f"placements x {stay:.0f} days from placement to the order / 365")
    return out


def composite_figures(used: Mapping[str, Target]) -> dict[str, Target]:
    """The file's used figures, with placements added as in-house + interagency placements where
    the file gives the parts and not the whole."""
    out = dict(used)
    if "placements" not in out and "inhouse_placements" in out:
        parts = [out["inhouse_placements"]]
        if "interagency_placements" in out:
            parts.append(out["interagency_placements"])
        elif "interagency_placements_vaa" in out and "interagency_placements_la" in out:
            parts += [out["interagency_placements_vaa"], out["interagency_placements_la"]]
        if len(parts) > 1:
            out["placements"] = Target(figure="placements", value=sum(t.value for t in parts), kind="count",
                                       source="; ".join(f"{t.figure} {t.value:g} ({t.source})" for t in parts),
                                       sd=math.sqrt(sum(t.sd ** 2 for t in parts)), use=True,
                                       note="in-house + interagency placements", year=parts[0].year)
    return out


@dataclass(frozen=True)
class SideSize:
    """One side's inflow as a figure sets it."""

    side: str
    figure: Target  # the figure it comes from
    per_inflow: PerInflow
    inflow: float  # enquiries a month, or children entering a year

    def scale(self, reference: float) -> float:
        return self.inflow / reference if reference > 0 else 1.0

    def describe(self) -> str:
        f = self.figure
        unit = "enquiries a month" if self.side == ADOPTERS else "children entering a year"
        if self.per_inflow.value == 1.0:
            return f"{f.figure} {f.value:g} ({f.source}): {self.per_inflow.how}"
        return (f"{f.figure} {f.value:g} ({f.source}) / {self.per_inflow.value:.4g} per unit of inflow "
                f"({self.per_inflow.how}) = {self.inflow:.4g} {unit}")


def size_of_side(side: str, used: Mapping[str, Target], per: Mapping[str, PerInflow],
                 order: tuple[str, ...] | None = None) -> SideSize | None:
    """The side's inflow from the first figure in ``order`` (default: the most direct) that the
    file gives with a positive value, or None."""
    figures = composite_figures(used)
    for name in order or SIZE_FIGURES[side]:
        t = figures.get(name)
        if t is not None and t.value > 0 and per[name].side == side and per[name].value > 0:
            return SideSize(side, t, per[name], t.value / per[name].value)
    return None


@dataclass(frozen=True)
class Capacity:
    """A capacity parameter scaled with the agency's volume."""

    key: str
    value: float
    note: str


def capacity(start: Scenario, reference: Scenario, used: Mapping[str, Target], sized: Scenario) -> list[Capacity]:
    """Assessing social workers and panels scaled with the agency's volume.

    ``reference`` is the scenario the default capacity is sized for (the defaults, C&P 2022/23),
    ``start`` the scenario before the agency's inflows are set (its shares and durations), and
    ``sized`` the scenario with them set.  Social workers: in proportion to the households entering
    stage 2 a year (from the figure nearest stage 2), and, for an agency smaller than the
    defaults', never fewer than keep the defaults' margin of places over the caseload in units of
    its Poisson spread (square-root staffing: a small caseload needs a larger margin for the same
    chance of waiting).  Panels: in proportion to the panel's business, approvals and families
    matched a year, and at least one a month (or the defaults' number, if fewer).
    """
    per_start, per_sized, per_ref = figure_per_inflow(start), figure_per_inflow(sized), figure_per_inflow(reference)
    out: list[Capacity] = []
    ra, rc = reference.adopters, reference.children

    def volume(figure: str, order: tuple[str, ...], side: str) -> tuple[float, str]:
        """The agency's yearly ``figure``: the file's, or through the shares from the nearest it gives,
        or from the inflow the calibration set."""
        t = composite_figures(used).get(figure)
        if t is not None and t.value > 0:
            return t.value, f"{figure} {t.value:g} ({t.source})"
        near = size_of_side(side, used, per_start, order)
        if near is not None:
            v = near.inflow * per_start[figure].value
            return v, f"{figure} {v:.4g} from {near.figure.figure} {near.figure.value:g} through the shares"
        inflow = getattr(getattr(sized, side), INFLOW[side].partition(".")[2])
        v = inflow * per_sized[figure].value
        return v, f"{figure} {v:.4g} from the {INFLOW[side]} set"

    # social workers: the households entering stage 2 a year
    s2, s2_how = volume("stage2_starts", NEAR_STAGE2, ADOPTERS)
    s2_ref = ra.enquiries_per_month * per_ref["stage2_starts"].value
    load_ref = s2_ref * ra.stage2_days * (1.0 - ra.stage2_withdrawal / 2) / YEAR_DAYS  # households in stage 2
    places_ref = ra.assessing_social_workers * ra.cases_per_social_worker
    cases = start.adopters.cases_per_social_worker
    if s2_ref > 0 and cases > 0:
        k = s2 / s2_ref
        margin = max(0.0, (places_ref - load_ref) / math.sqrt(load_ref)) if load_ref > 0 else 0.0
        places = max(k * places_ref, k * load_ref + margin * math.sqrt(k * load_ref))
        rule = (f"x {k:.3g}" if places == k * places_ref else
                f"x {k:.3g} would leave too few places for a small caseload: enough for {k * load_ref:.3g} "
                f"households in stage 2 and a margin of {margin:.2f} x its square root, as the defaults have")
        out.append(Capacity("adopters.assessing_social_workers", places / cases,
                            f"scaled with the households entering stage 2: {s2_how}, against {s2_ref:.3g} a year for "
                            f"the defaults' {ra.assessing_social_workers:g} social workers ({rule}; "
                            f"{cases:g} cases each)"))
    # panels: approvals and families matched a year
    ap, ap_how = volume("approvals", NEAR_APPROVALS, ADOPTERS)
    fm, fm_how = volume("families_matched", NEAR_MATCHES, CHILDREN)
    ref_business = ra.enquiries_per_month * per_ref["approvals"].value + \
        rc.entering_per_year * per_ref["families_matched"].value
    p = reference.panel
    per_panel = start.panel.cases_per_panel
    if ref_business > 0 and per_panel > 0:
        k = (ap + fm) / ref_business
        proportional = k * p.panels_per_month * p.cases_per_panel / per_panel
        panels = max(proportional, min(1.0, p.panels_per_month))
        out.append(Capacity("panel.panels_per_month", panels,
                            f"scaled with the panel's business, approvals and families matched: {ap_how}; {fm_how}; "
                            f"against {ref_business:.3g} a year for the defaults' {p.panels_per_month:g} panels a "
                            f"month of {p.cases_per_panel} cases (x {k:.3g}"
                            + (", at least one a month)" if panels > proportional else ")")))
    return out
