"""Scenario parameters: every lever of the model with its unit, valid range and source.

A scenario is a tree of sections (``[adopters]``, ``[children]`` ...).  Each parameter is
declared once here with :func:`param`, which records the unit, the allowed range and where
the default value comes from (a report in ``shared/seeds`` and its section, or
"assumption" with the reason).  The defaults are taken from the Cambridgeshire & Peterborough
Adoption annual report 2022/23 (``001_ef741affdb884314.txt``) and, where that report is
silent, from the Cambridgeshire and Rotherham 2017/18 reports; they are the starting point of
calibration.  The built-in baseline is the calibrated scenario file built on them
(:mod:`sim.scenario.files`).

Validation refuses unknown names, wrong types and out-of-range values (pydantic, strict
mode); :mod:`sim.scenario.files` turns its errors into messages naming the file and field.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.scenario.calendar import financial_year_label, parse_date
from sim.scenario.changes import Change, Trend, check_dates, monthly_values

C_P = "001_ef741affdb884314.txt"  # Cambridgeshire & Peterborough Adoption 2022/23
CAMBS = "000_3308d4f1cd971e43.txt"  # Cambridgeshire (Coram Cambridgeshire Adoption) 2017/18
ROTH = "002_f60beec63e9d6bc7.txt"  # Rotherham 2017/18
#: Top-level arrays of tables in a scenario file: dated changes and trends (not sections of parameters).
DATED = ("change", "trend")
PUBLIC_FEES = "public interagency fee notes (shared/DOMAIN.md, 'Public facts on the fee')"


def param(default: Any, lo: float | None, hi: float | None, unit: str, source: str, help: str) -> Any:
    """Declare one parameter: default, inclusive range [lo, hi], unit, source and meaning."""
    return Field(
        default,
        ge=lo,
        le=hi,
        description=help,
        json_schema_extra={"unit": unit, "source": source},
    )


class Section(BaseModel):
    """A block of parameters; unknown names, wrong types and numbers that are NaN or infinite
    are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, validate_assignment=True, allow_inf_nan=False)


def _check_probabilities(values: list[float], what: str) -> None:
    if not all(0 <= v <= 1 for v in values):  # written so that NaN fails too
        raise ValueError(f"{what}: every probability must lie in [0, 1], got {values}")
    if abs(sum(values) - 1.0) > 1e-6:
        raise ValueError(f"{what}: probabilities must add up to 1, they add up to {sum(values):.6g}")


#: The horizon the app and the command line show unless asked for another: financial years reported.
HORIZON_YEARS = 5


class RunSettings(Section):
    """What to simulate: identity, horizon, replications and the random seed."""

    name: str = param("Unnamed scenario", None, None, "text",
                      "assumption: label only", "Scenario name shown in tables and charts.")
    description: str = param("", None, None, "text", "assumption: label only", "Free text describing the scenario.")
    start_year: int = param(2022, 2000, 2100, "calendar year", f"{C_P} title (year 1 = 2022/23)",
                            "Calendar year in which the first simulated financial year (April-March) starts.")
    years: int = param(HORIZON_YEARS, 1, 50, "financial years",
                       "assumption: planning horizon of five financial years (a medium-term plan)",
                       "Number of financial years reported.")
    warm_up_years: int = param(3, 0, 10, "financial years",
                               "python -m sim warmup on the calibrated baselines (docs/background/model.md, 'Start and warm-up'): "
                               "from the steady-level start, the measures settle within 10% after three years",
                               "Years simulated before year 1 and not reported.")
    replications: int = param(100, 1, 10000, "runs", "assumption: enough for stable 90% intervals",
                              "Independent replications; intervals are taken over them.")
    seed: int = param(20221, 0, 2**63 - 1, "integer", "assumption: any fixed number",
                      "Root seed; every random stream is spawned from it.")


class Adopters(Section):
    """Adopter households from enquiry to approval, and while approved and waiting."""

    enquiries_per_month: float = param(25.7, 0, 100_000, "households/month", f"{C_P} §4.6 (308 enquiries a year)",
                                       "Average enquiries a month (Poisson).")
    seasonality: float = param(0.0, 0, 1, "fraction", "assumption: reports give annual totals only",
                               "Amplitude of a yearly cycle in enquiries (0 = none, 0.3 = ±30%).")
    peak_month: int = param(1, 1, 12, "month of the financial year (1 = April)", "assumption: only used with seasonality",
                            "Month in which enquiries peak.")
    registration_share: float = param(0.143, 0, 1, "probability", f"{C_P} §4.6 (44 of 308; 14.2% conversion)",
                                      "Share of enquiries that become a registration of interest.")
    enquiry_to_registration_days: float = param(45.0, 0, 365, "days",
                                                "assumption: an information session and initial visit",
                                                "Days from enquiry to registration of interest.")
    stage1_days: float = param(95.0, 1, 730, "days", f"{C_P} §4.6 (no stage 1 within 60 days)",
                               "Average length of stage 1 (target 61 days).")
    stage1_cv: float = param(0.35, 0, 3, "coefficient of variation", "assumption: spread of adopter-led checks",
                             "Spread of stage 1 lengths (0 = every household takes exactly the average).")
    stage1_withdrawal: float = param(0.2, 0, 1, "probability", f"{CAMBS} §3.1.3 (10 of 47 did not proceed)",
                                     "Share of households withdrawing or counselled out in stage 1.")
    break_share: float = param(0.14, 0, 1, "probability", f"{ROTH} §4.4.1 (2 of 14 approved took a break)",
                               "Share of households taking a break between stages.")
    break_days: float = param(90.0, 0, 183, "days", "assumption: regulations allow up to 6 months",
                              "Average length of a break (capped at 183 days).")
    stage2_days: float = param(140.0, 1, 730, "days",
                               f"{C_P} §4.6 (average 150 days including waits for a social worker)",
                               "Average assessment time in stage 2 once a social worker is allocated.")
    stage2_cv: float = param(0.3, 0, 3, "coefficient of variation", f"{C_P} §4.6 (26% within 4 months)",
                             "Spread of stage 2 lengths.")
    stage2_withdrawal: float = param(0.08, 0, 1, "probability",
                                     f"{ROTH} §4.3.2 (9 counselled out in stage 1 or 2 of ~30 a year)",
                                     "Share of households withdrawing or counselled out in stage 2.")
    assessing_social_workers: float = param(5.0, 0, 20_000, "FTE social workers",
                                            "assumption: part of the recruitment and assessment team",
                                            "Social workers assessing in stage 2.")
    cases_per_social_worker: float = param(4.0, 0, 20, "households each", "assumption: typical caseload",
                                           "Stage 2 assessments a social worker carries at once.")
    not_approved_share: float = param(0.02, 0, 1, "probability",
                                      f"{C_P} Appendix D (all but one application positive)",
                                      "Share of households whose approval is not recommended or not agreed.")
    deregistration_per_year: float = param(0.2, 0, 10, "per household-year",
                                           f"{CAMBS} §1.4.2 (3 resignations among ~15 waiting)",
                                           "Rate at which approved waiting households resign.")
    external_placement_per_year: float = param(0.2, 0, 10, "per household-year",
                                               f"{C_P} §4.6 (own adopters took 4 placements of other LAs' children)",
                                               "Rate at which waiting households take another agency's child.")
    return_share: float = param(0.1, 0, 1, "probability", "assumption: second-time adopters are a minority",
                                "Share of households returning to adopt again after an adoption order.")
    return_after_days: float = param(1095.0, 0, 3650, "days", "assumption: about three years",
                                     "Days from the adoption order to a second-time adopter's stage 2.")
    open_to_siblings_share: float = param(0.3, 0, 1, "probability",
                                          f"{C_P} Appendix D (8 sibling groups among 35 families matched)",
                                          "Share of approved households who will take a sibling pair.")
    open_to_three_siblings_share: float = param(0.15, 0, 1, "probability of those open to siblings",
                                                "assumption: trios are rare", "Of those, the share who will take three.")
    open_to_older_share: float = param(0.25, 0, 1, "probability", f"{C_P} §4.3 (25% of children adopted over 5)",
                                       "Share of approved households open to a child aged 5 or over.")
    open_to_complex_share: float = param(0.3, 0, 1, "probability", "assumption: no report gives it",
                                         "Share of approved households open to a child with complex needs.")
    dual_approved_share: float = param(0.3, 0, 1, "probability",
                                       f"{C_P} §4.4 (16 early permanence placements, 36 approvals)",
                                       "Share of approved households dual approved for early permanence.")


class Children(Section):
    """Children on an adoption track, from entering care to the placement order."""

    entering_per_year: float = param(65.0, 0, 500_000, "children/year", f"{C_P} §4.1 (65 plans for adoption, ASGLB)",
                                     "Children entering care who will receive a plan for adoption.")
    sibling_group_probs: list[float] = param([0.76, 0.2, 0.04], None, None, "probabilities of 1, 2, 3",
                                             f"{C_P} §4.3 (40% adopted in sibling groups)",
                                             "Share of arrivals (units) that are one child, a pair, a trio.")
    age_band_probs: list[float] = param([0.45, 0.2, 0.23, 0.12], None, None,
                                        "probabilities of <1, 1, 2-4, 5+ years",
                                        f"{CAMBS} §2.5.1 (ages at placement: 13, 6, 15, 5 of 39)",
                                        "Age at entering care.")
    complex_needs_share: float = param(0.15, 0, 1, "probability", "assumption: no report gives it",
                                       "Share of children with complex needs or disability.")
    proceedings_weeks: float = param(38.0, 1, 260, "weeks",
                                     f"{C_P} §4.3 (A10 510/400 less A2 238/153); {CAMBS} §2.1.0 (29 weeks)",
                                     "Average weeks from entering care to the placement order (A20).")
    proceedings_cv: float = param(0.35, 0, 3, "coefficient of variation",
                                  f"{CAMBS} §2.1.0 (59% of proceedings over 26 weeks)",
                                  "Spread of care-proceedings lengths.")
    plan_before_order_days: float = param(75.0, 0, 730, "days",
                                          "assumption: the ADM decision precedes the final hearing",
                                          "Days between the plan for adoption (SHOBPA) and the placement order.")
    order_granted_share: float = param(0.87, 0, 1, "probability", f"{CAMBS} §2.1.0-2.1.1 (58 orders, 9 declined)",
                                       "Share of plans for which the court grants a placement order.")
    plan_change_per_year: float = param(0.05, 0, 10, "per child-year",
                                        f"{ROTH} §4.2.2 (5 of 61 plans revoked)",
                                        "Rate at which a waiting child's plan changes, first 18 months after the order.")
    plan_change_per_year_after_18_months: float = param(0.3, 0, 10, "per child-year",
                                                        "assumption: plans are reviewed after 18 months waiting",
                                                        "Rate of plan change once the order is over 18 months old.")
    no_family_share: float = param(0.0, 0, 0.95, "probability",
                                   "assumption: none for an agency, whose own figures cannot tell these children "
                                   "apart; a national fit sets it from the make-up of the children waiting (ASGLB, "
                                   "31 December 2018: 57% in sibling groups, 28% over five)",
                                   "Share of harder-to-place children (sibling groups, complex needs, 5 and over at "
                                   "the order) with a placement order for whom no adoptive family comes forward: "
                                   "set apart from matching, they wait until their plan changes or the group is split.")
    early_permanence_share: float = param(0.35, 0, 1, "probability",
                                          f"{C_P} §4.2 (22 of 49 placed had been in early permanence)",
                                          "Share of children considered for early permanence on entering care.")
    early_permanence_window_days: float = param(60.0, 0, 730, "days",
                                                "assumption: carers are sought in the first weeks in care",
                                                "Days after entering care during which an early permanence "
                                                "household is sought.")

    @model_validator(mode="after")
    def _distributions(self) -> "Children":
        if len(self.sibling_group_probs) != 3:
            raise ValueError("sibling_group_probs: give three probabilities (one child, a pair, a trio)")
        _check_probabilities(self.sibling_group_probs, "sibling_group_probs")
        if len(self.age_band_probs) != 4:
            raise ValueError("age_band_probs: give four probabilities (under 1, 1, 2-4, 5 and over)")
        _check_probabilities(self.age_band_probs, "age_band_probs")
        return self


class Panel(Section):
    """Adoption panel and the agency decision maker (approvals and matches)."""

    panels_per_month: float = param(3.0, 0, 2000, "panels/month", f"{C_P} §Panel (35 panels in the year)",
                                    "Adoption panels held a month (regular dates).")
    cases_per_panel: int = param(6, 0, 50, "cases", "assumption: a panel hears a full morning's business",
                                 "Approvals and matches one panel can hear (a large agency holds more panels).")
    extra_panels_per_month: int = param(1, 0, 2000, "panels/month",
                                        "assumption: agencies convene additional panels when business backs up "
                                        "(RAA panel procedures), so that no approval or match waits months for a "
                                        "date; one a month",
                                        "Most extra panels a month: a panel that leaves cases waiting is followed "
                                        "by an extra one midway to the next date.")
    approval_share: float = param(0.44, 0, 1, "share of each panel's places",
                                  f"assumption: places kept in proportion to the usual business; {C_P} §Panel "
                                  "(34 approvals and 44 matches heard: 44% approvals)",
                                  "Places of each panel reserved for approvals, the rest for matches; places "
                                  "one kind leaves unused go to the other.")
    decision_days: float = param(10.0, 0, 90, "days", "DOMAIN primer: ADM decides within 7 working days",
                                 "Days from panel to the agency decision maker's decision.")


class Matching(Section):
    """Family finding: how children and adopters are linked, in-house first then interagency."""

    interval_days: float = param(7.0, 1, 90, "days", "assumption: a weekly family-finding meeting",
                                 "Days between matching rounds.")
    inhouse_search_days: float = param(90.0, 0, 1095, "days", "assumption: in-house adopters are tried first",
                                       "Days after the order during which only the agency's own adopters are sought.")
    interagency_find_days: float = param(90.0, 1, 1095, "days",
                                         f"{C_P} §4.2 (71% placed with own adopters)",
                                         "Average days to find an interagency family once searching.")
    harder_to_place_factor: float = param(2.0, 1, 10, "multiplier", "DOMAIN primer: harder-to-place children wait longest",
                                          "How much longer an interagency search takes for a harder-to-place child.")
    vaa_share: float = param(0.8, 0, 1, "probability", f"{ROTH} §6.5 (16 of 22 interagency children with VAAs)",
                             "Share of interagency placements made with voluntary adoption agencies.")
    interagency_sufficiency: float = param(
        1.0, 0, 10, "multiplier (1 = today's market)",
        "1 is the market the agency's own figures were fitted in; a market run gives the index by year "
        "(python -m sim market: adopters waiting anywhere per child waiting, on its first year's). The England "
        "market (scenarios/markets/england.toml, 6 replications, 2018-19 to 2022-23) does not yet hold England's "
        "children waiting (4,287 against 2,800) and its index drifts from 1.00 to 1.45 as it settles, so it "
        "cannot set the default yet (docs/guides/markets.md)",
        "National sufficiency of interagency families: scales how soon one is found (2: twice as soon; "
        "0.5: half as soon; 0: none is found). In a market run the market itself decides instead.")
    family_finding_days: float = param(60.0, 0, 1095, "days",
                                       "assumption: profiling and family-finding work before a link; fitted",
                                       "Average days after the order before a child can be linked in-house.")
    adopter_ready_days: float = param(90.0, 0, 1095, "days",
                                      f"assumption: matching training and profiles; fitted to {C_P} §4.7",
                                      "Average days after approval before a household is considered for links.")
    link_to_panel_days: float = param(42.0, 0, 365, "days", "assumption: matching report and visits",
                                      "Days from a link to the match being ready for panel.")
    match_to_placement_days: float = param(21.0, 0, 365, "days", "assumption: introductions of two to three weeks",
                                           "Days from the match decision to the child moving in.")
    split_sibling_groups: bool = param(False, None, None, "yes/no", "assumption: siblings are placed together",
                                       "Whether a sibling group waiting too long is placed separately.")
    split_after_days: float = param(548.0, 0, 3650, "days", "DOMAIN primer: over 18 months is harder to place",
                                    "Days after the order after which a group may be split (if allowed).")


class Placement(Section):
    """From placement to adoption order, and disruption."""

    order_days: float = param(270.0, 1, 1825, "days", f"{CAMBS} §2.7.1 (34 of 39 orders within 12 months)",
                              "Average days from placement to the adoption order.")
    order_cv: float = param(0.35, 0, 3, "coefficient of variation", f"{CAMBS} §2.7.1",
                            "Spread of placement-to-order times.")
    challenge_share: float = param(0.1, 0, 1, "probability", "assumption: some parents apply for leave to oppose",
                                   "Share of adoption orders delayed by a parental challenge.")
    challenge_delay_days: float = param(90.0, 0, 730, "days", "assumption", "Delay a challenge adds.")
    disruption_share: float = param(0.03, 0, 1, "probability", f"{ROTH} §12.6 (2 of ~40 placements)",
                                    "Share of placements ending before the adoption order.")


class Fees(Section):
    """Interagency fee schedule by provider, sibling-group size and financial year."""

    la_base_year: int = param(2011, 2000, 2100, "financial year start", PUBLIC_FEES,
                              "Year in which the LA/RAA fees below applied.")
    la_one_child_gbp: float = param(27000.0, 0, 500000, "£", f"{ROTH} §6.4", "LA/RAA fee, one child.")
    la_two_siblings_gbp: float = param(43000.0, 0, 500000, "£", f"{ROTH} §6.4", "LA/RAA fee, two siblings.")
    la_three_siblings_gbp: float = param(54000.0, 0, 500000, "£", f"{ROTH} §6.4", "LA/RAA fee, three siblings.")
    la_uprating_pct: float = param(0.0, -10, 50, "% a year", PUBLIC_FEES + ": unchanged since 2011",
                                   "Yearly uprating of LA/RAA fees.")
    vaa_base_year: int = param(2018, 2000, 2100, "financial year start", f"{ROTH} §6.4 (from 1 April 2018)",
                               "Year in which the VAA fees below applied.")
    vaa_one_child_gbp: float = param(31000.0, 0, 500000, "£", f"{ROTH} §6.4", "VAA fee, one child.")
    vaa_two_siblings_gbp: float = param(50000.0, 0, 500000, "£", f"{ROTH} §6.4", "VAA fee, two siblings.")
    vaa_three_siblings_gbp: float = param(68000.0, 0, 500000, "£", f"{ROTH} §6.4", "VAA fee, three siblings.")
    vaa_uprating_pct: float = param(3.0, -10, 50, "% a year",
                                    PUBLIC_FEES + ": CPIH uprating, assumed 3% a year (one child £35,938 in "
                                    f"2023/24 from £31,000 in 2018/19; {C_P} Appendix C budgets £35,565 a VAA "
                                    "placement for 2023/24, which about 2.8% a year would give)",
                                    "Yearly uprating of VAA fees (previous year's CPIH).")
    monthly_fee_year: int = param(2022, 2000, 2100, "financial year start", PUBLIC_FEES,
                                  "Year in which the monthly fee below applied.")
    monthly_fee_gbp: float = param(939.0, 0, 20000, "£/month", PUBLIC_FEES + " (£939 from April 2022)",
                                   "Monthly fee for an interagency placement without an order after 12 months "
                                   "(uprated like VAA fees).")


class InitialState(Section):
    """Stocks at the start of the simulation (before any warm-up); a stock left out starts at its steady level."""

    households_stage1: int | None = param(None, 0, 1_000_000, "households",
                                          "assumption: steady level from the scenario's rates when not given",
                                          "Households in stage 1.")
    households_stage2: int | None = param(None, 0, 1_000_000, "households", "assumption: steady level when not given",
                                          "Households in stage 2.")
    adopters_waiting: int | None = param(None, 0, 1_000_000, "households", "assumption: steady level when not given",
                                         "Approved households waiting.")
    children_with_plan: int | None = param(None, 0, 1_000_000, "children", "assumption: steady level when not given",
                                           "Children with a plan awaiting the placement order.")
    children_waiting_with_po: int | None = param(None, 0, 1_000_000, "children",
                                                 "assumption: steady level when not given",
                                                 "Children with a placement order waiting for a match.")
    children_placed_awaiting_order: int | None = param(None, 0, 1_000_000, "children",
                                                       "assumption: steady level when not given",
                                                       "Children placed awaiting the adoption order.")
    opening_children_waiting_with_po: int | None = param(
        None, 0, 1_000_000, "children", "assumption: none; a calibration sets it from a report's opening stock",
        "Children with a placement order waiting for a match at the start of the opening year (the stock at "
        "31 March before it, as a report gives it): children are added then to reach it, each waiting since a "
        "share of a year; none are taken away if more are waiting. So a forecast starts from the agency's real "
        "position, a backlog included, not from the level its rates would settle at.")
    opening_year: str | None = param(None, None, None, "financial year 'YYYY-YY'",
                                     "assumption: year 1 when not given",
                                     "The financial year at whose start the opening stock holds (default: year 1).")


class Calibration(Section):
    """How a calibrated baseline was fitted to a report, and the plausible parameter sets a run may draw from."""

    targets_file: str = param("", None, None, "path", "assumption: not calibrated",
                              "Targets file the scenario was calibrated to (calibration/targets/).")
    fitted: dict[str, str] = param({}, None, None, "section.parameter = note", "assumption: not calibrated",
                                   "Parameters set from the targets, each with the figures it was fitted to.")
    parameter_sets: str = param("", None, None, "path", "assumption: not calibrated",
                                "CSV of plausible parameter sets from the fit (calibration/fits/).")
    parameter_uncertainty: bool = param(False, None, None, "yes/no", "assumption: chance alone by default",
                                        "Whether each replication draws one of the plausible parameter sets, so "
                                        "intervals show what the reports leave uncertain as well as chance.")

    @model_validator(mode="after")
    def _known_names(self) -> "Calibration":
        for key in self.fitted:
            section, _, name = key.partition(".")
            if section not in PARAMETER_SECTIONS or name not in SECTIONS[section].model_fields:
                raise ValueError(f"fitted: unknown parameter {key!r}; write 'section.name', e.g. 'adopters.stage1_days'")
        if self.parameter_uncertainty and not self.parameter_sets:
            raise ValueError("parameter_uncertainty needs parameter_sets (a CSV of plausible parameter sets)")
        return self


class Scenario(Section):
    """A complete scenario: every section, each with its defaults.

    The defaults are the values taken from the reports (or stated assumptions) before any
    fitting; they are the starting point and priors of calibration.  The built-in baseline
    is the calibrated scenario file (``sim.scenario.files.BUILT_IN_FILE``), which overrides the
    parameters its report pins down.
    """

    scenario: RunSettings = Field(default_factory=RunSettings)
    adopters: Adopters = Field(default_factory=Adopters)
    children: Children = Field(default_factory=Children)
    panel: Panel = Field(default_factory=Panel)
    matching: Matching = Field(default_factory=Matching)
    placement: Placement = Field(default_factory=Placement)
    fees: Fees = Field(default_factory=Fees)
    initial_state: InitialState = Field(default_factory=InitialState)
    calibration: Calibration = Field(default_factory=Calibration)
    change: list[Change] = Field(default_factory=list,
                                 description="Dated changes: what moves from when (see sim.scenario.changes).")
    trend: list[Trend] = Field(default_factory=list,
                               description="Trends in the baseline, history included (see sim.scenario.changes).")

    @model_validator(mode="after")
    def _dated(self) -> "Scenario":
        opening = self.initial_state.opening_year
        if opening is not None:
            run = self.scenario
            year, _, whole = parse_date(opening)
            first = run.start_year - run.warm_up_years
            if not whole or not first <= year < run.start_year + run.years:
                raise ValueError(f"initial_state.opening_year {opening!r}: give a financial year 'YYYY-YY' of the "
                                 f"run, from {financial_year_label(first)} to "
                                 f"{financial_year_label(run.start_year + run.years - 1)}")
        if self.change or self.trend:
            check_dates(self.change, self.trend, self.scenario)
            monthly_values(self, run_months(self))
        return self


def run_months(scenario: Scenario) -> int:
    """Months simulated: the warm-up and the reported years."""
    run = scenario.scenario
    return (run.warm_up_years + run.years) * 12


SECTIONS: dict[str, type[Section]] = {
    name: field.default_factory().__class__  # type: ignore[union-attr]
    for name, field in Scenario.model_fields.items() if name not in DATED
}
#: Sections holding model parameters (``calibration`` records how they were set).
PARAMETER_SECTIONS: tuple[str, ...] = tuple(s for s in SECTIONS if s != "calibration")


def without_fitted(data: dict[str, Any], keys) -> dict[str, Any]:
    """Scenario data with ``keys`` ("section.name") taken out of ``[calibration] fitted``.

    A scenario that changes a fitted parameter no longer holds the fitted value, so the
    parameter's source is no longer the fit.
    """
    calibration = data.get("calibration")
    fitted = calibration.get("fitted") if isinstance(calibration, dict) else None
    keys = set(keys)
    if not isinstance(fitted, dict) or not keys & set(fitted):
        return data
    calibration = dict(data["calibration"], fitted={k: v for k, v in fitted.items() if k not in keys})
    return dict(data, calibration=calibration)


def parameter_table(scenario: Scenario | None = None) -> list[dict[str, Any]]:
    """One row per parameter: section, name, value, default, unit, range, source, meaning.

    Used by the docs, the command line (``python -m sim params``) and the app, so that
    every lever shows its unit, its baseline value and where that value came from.
    """
    scenario = scenario or Scenario()
    fitted = scenario.calibration.fitted
    rows = []
    for section_name in PARAMETER_SECTIONS:
        section_cls, section = SECTIONS[section_name], getattr(scenario, section_name)
        for name, field in section_cls.model_fields.items():
            extra = field.json_schema_extra or {}
            lo = hi = None
            for meta in field.metadata:
                lo = getattr(meta, "ge", lo)
                hi = getattr(meta, "le", hi)
            rows.append({
                "section": section_name,
                "name": name,
                "value": getattr(section, name),
                "default": field.default,
                "unit": extra.get("unit", ""),
                "min": lo,
                "max": hi,
                "source": fitted.get(f"{section_name}.{name}", extra.get("source", "")),
                "declared_source": extra.get("source", ""),
                "fitted": f"{section_name}.{name}" in fitted,
                "meaning": field.description or "",
            })
    return rows


def field_info(section: str, name: str) -> dict[str, Any]:
    """The declared unit, range, default and source of one parameter (for error messages and
    the app).  The row is shared: read it, do not change it."""
    try:
        return _declared()[(section, name)]
    except KeyError:
        raise KeyError(f"{section}.{name}") from None


@functools.cache
def _declared() -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["section"], row["name"]): row for row in parameter_table(Scenario())}


def parameters_markdown(scenario: Scenario | None = None) -> str:
    """The parameter table as Markdown, one table per section (for docs/reference/parameters.md).

    A parameter set by calibration keeps its note when that names its figures (a direct
    estimate, a stock from the report); one fitted by simulation to many figures says which
    targets file (its fit report lists the figures).  Either way the value before calibration
    follows, with its source.
    """
    out = []
    section = None
    targets = scenario.calibration.targets_file if scenario else ""
    for row in parameter_table(scenario):
        if row["fitted"]:
            how = (f"fitted to `{targets}` (fit report in calibration/reports/)" if row["source"].startswith("fitted")
                   else row["source"])
            row["source"] = f"{how}; before calibration {row['default']}: {row['declared_source']}"
        if row["section"] != section:
            section = row["section"]
            out += ["", f"**[{section}]** {SECTIONS[section].__doc__.strip()}", "",
                    "| parameter | value | unit | range | source | meaning |", "|---|---|---|---|---|---|"]
        rng = f"{_num(row['min'])} – {_num(row['max'])}" if row["min"] is not None and row["max"] is not None else ""
        value = row["value"]
        out.append(f"| `{row['name']}` | {value} | {row['unit']} | {rng} | {row['source']} | {row['meaning']} |")
    if scenario is not None and (scenario.trend or scenario.change):
        out += ["", "**[[trend]] and [[change]]** How parameters above move over time (the value above is "
                "the level in year 1 for a trend, the baseline's for a change).", "",
                "| entry | what | source |", "|---|---|---|"]
        out += [f"| trend | {t.describe()} (anchor {t.anchor or 'year 1'}) | {t.note} |" for t in scenario.trend]
        out += [f"| change | {c.describe()} | {c.note} |" for c in scenario.change]
    return "\n".join(out).strip()


def _num(x: float) -> str:
    return f"{x:,}" if isinstance(x, int) and abs(x) >= 10000 else f"{x:g}"
