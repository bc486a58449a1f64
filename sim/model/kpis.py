"""The catalogue of measures the model reports, one row per key performance indicator.

Every figure a run produces, every calibration target and every column the app shows is
named here once, with its unit, how it is measured within a financial year, and what it
means to a planner.  Code elsewhere refers to these names; a name not in the catalogue is
refused wherever a user can type one (targets files, the command line).
"""

from __future__ import annotations

from dataclasses import dataclass

#: How a KPI is measured within a financial year.
COUNT = "count"  # events counted in the year
STOCK = "stock"  # state at the year end (31 March)
MEAN_DAYS = "mean_days"  # average over the entities the definition names, in days
PERCENT = "percent"  # a share, 0-100
MONEY = "gbp"  # pounds sterling in the year


@dataclass(frozen=True)
class Kpi:
    name: str
    kind: str
    unit: str
    label: str
    description: str


def _k(name: str, kind: str, unit: str, label: str, description: str) -> Kpi:
    return Kpi(name, kind, unit, label, description)


KPIS: tuple[Kpi, ...] = (
    # --- adopter households: flows ---------------------------------------------------
    _k("enquiries", COUNT, "households", "Enquiries", "Households enquiring about adoption."),
    _k("registrations", COUNT, "households", "Registrations of interest",
       "Registrations of interest accepted; each starts stage 1."),
    _k("stage2_starts", COUNT, "households", "Stage 2 starts",
       "Households starting stage 2 assessment (including second-time adopters)."),
    _k("approvals", COUNT, "households", "Approvals", "Households approved by the agency decision maker."),
    _k("withdrawals", COUNT, "households", "Withdrawals in assessment",
       "Households withdrawing or counselled out in stage 1, the break or stage 2, or not approved."),
    _k("deregistrations", COUNT, "households", "De-registrations",
       "Approved households resigning or de-registered while waiting."),
    _k("external_placements", COUNT, "households", "Own adopters placed by other agencies",
       "Approved households who take another agency's child (the agency receives a fee)."),
    # --- adopter households: stocks --------------------------------------------------
    _k("households_stage1", STOCK, "households", "In stage 1 at year end", "Households in stage 1 at 31 March."),
    _k("households_stage2", STOCK, "households", "In stage 2 at year end",
       "Households in the break between stages or in stage 2 at 31 March."),
    _k("adopters_waiting", STOCK, "households", "Approved adopters waiting",
       "Approved households not yet linked with a child at 31 March."),
    # --- children: flows -------------------------------------------------------------
    _k("plans_for_adoption", COUNT, "children", "Plans for adoption (SHOBPA)",
       "Agency decision maker decisions that a child should be placed for adoption."),
    _k("placement_orders", COUNT, "children", "Placement orders", "Placement orders granted by the court."),
    _k("plans_declined", COUNT, "children", "Plans declined by the court",
       "Children whose plan for adoption the court did not endorse (no placement order)."),
    _k("plan_changes", COUNT, "children", "Plans changed after the order",
       "Children with a placement order whose plan changed (returned home, relatives, long-term fostering)."),
    _k("matches", COUNT, "children", "Children matched", "Children whose match the agency decision maker approved."),
    _k("families_matched", COUNT, "households", "Families matched",
       "Households (or interagency families) whose match was approved."),
    _k("placements", COUNT, "children", "Children placed for adoption",
       "Children placed with adopters as an adoptive placement (early permanence children when the placement "
       "becomes adoptive)."),
    _k("early_permanence_placements", COUNT, "children", "Early permanence placements",
       "Children placed with dual-approved carers before the placement order."),
    _k("inhouse_placements", COUNT, "children", "Placed with own adopters", "Children placed with the agency's own adopters."),
    _k("interagency_placements", COUNT, "children", "Interagency placements",
       "Children placed with adopters from another LA/RAA or a voluntary adoption agency."),
    _k("interagency_placements_vaa", COUNT, "children", "Interagency placements (VAA)",
       "Children placed with voluntary adoption agency adopters."),
    _k("interagency_placements_la", COUNT, "children", "Interagency placements (LA/RAA)",
       "Children placed with another local authority's or RAA's adopters."),
    _k("sibling_group_placements", COUNT, "groups", "Sibling groups placed", "Sibling groups placed together."),
    _k("adoption_orders", COUNT, "children", "Adoption orders", "Adoption orders granted."),
    _k("disruptions", COUNT, "placements", "Disruptions", "Placements ending before the adoption order."),
    # --- children: stocks ------------------------------------------------------------
    _k("children_with_plan", STOCK, "children", "Children with a plan awaiting the order",
       "Children with a plan for adoption, not yet placed, awaiting the placement order at 31 March."),
    _k("children_waiting_with_po", STOCK, "children", "Children with an order waiting",
       "Children with a placement order not yet linked with adopters at 31 March."),
    _k("children_matched", STOCK, "children", "Children linked or matched, not yet placed",
       "Children linked or matched with adopters, not yet placed, at 31 March."),
    _k("children_not_placed_with_po", STOCK, "children", "Children with an order not yet placed",
       "Children with a placement order not yet placed with adopters at 31 March: waiting, linked or matched "
       "(the ASGLB's count of children waiting)."),
    _k("children_placed_awaiting_order", STOCK, "children", "Placed awaiting adoption order",
       "Children placed (or in early permanence placements) without an adoption order at 31 March."),
    _k("children_waiting_over_18_months", STOCK, "children", "Waiting over 18 months since the order",
       "Children with a placement order, not placed, whose order is more than 18 months old at 31 March."),
    _k("waiting_in_sibling_groups_pct", STOCK, "%", "Waiting children in sibling groups",
       "Share of the children with an order waiting at 31 March who wait with brothers or sisters."),
    _k("waiting_aged_5_plus_pct", STOCK, "%", "Waiting children aged 5 and over",
       "Share of the children with an order waiting at 31 March who are aged 5 or over."),
    _k("waiting_days_since_order", STOCK, "days", "Days since the order, children waiting",
       "Mean days since the placement order of the children with an order waiting (not linked) at 31 March: "
       "how long the waiting list has waited so far."),
    _k("adopter_gap", STOCK, "%", "Adopter gap",
       "(approved adopters waiting - children with an order waiting) / children with an order waiting, as a "
       "percentage at 31 March; positive means more adopters than children, -50% one household for every two "
       "children (ASGLB working definition). Over replications it is read as ASGLB reads it from totals: the gap "
       "of the mean counts; its interval is the spread of each replication's own gap."),
    # --- times ------------------------------------------------------------------------
    _k("a1_days", MEAN_DAYS, "days", "A1: care to moving in",
       "Average days from entering care to moving in with the adoptive family, children adopted in the year."),
    _k("a10_days", MEAN_DAYS, "days", "A10: care to moving in (foster-carer adjusted)",
       "A1 with early permanence children's date of moving in with their carers, children adopted in the year."),
    _k("a2_days", MEAN_DAYS, "days", "A2: order to match",
       "Average days from the placement order to the match decision, children adopted in the year."),
    _k("a20_days", MEAN_DAYS, "days", "A20: care to order",
       "Average days from entering care to the placement order, children adopted in the year."),
    _k("a3_pct", PERCENT, "%", "A3: moved in within 14 months",
       "Share of children adopted in the year who moved in within 426 days of entering care."),
    _k("roi_to_approval_days", MEAN_DAYS, "days", "Registration to approval",
       "Average days from registration of interest to approval, households approved in the year."),
    _k("stage1_within_2_months_pct", PERCENT, "%", "Stage 1 within 2 months",
       "Share of stage 1 completions in the year that took 61 days or fewer."),
    _k("stage2_within_4_months_pct", PERCENT, "%", "Stage 2 within 4 months",
       "Share of stage 2 completions in the year that took 122 days or fewer."),
    _k("stage2_mean_days", MEAN_DAYS, "days", "Stage 2 length",
       "Average days in stage 2, households completing stage 2 in the year."),
    _k("orders_within_12_months_pct", PERCENT, "%", "Orders within 12 months of placement",
       "Share of adoption orders in the year made within 365 days of the adoptive placement."),
    _k("ep_care_to_order_days", MEAN_DAYS, "days", "Care to adoption order (early permanence)",
       "Average days from entering care to the adoption order, early permanence children adopted in the year."),
    _k("non_ep_care_to_order_days", MEAN_DAYS, "days", "Care to adoption order (others)",
       "Average days from entering care to the adoption order, other children adopted in the year."),
    _k("inhouse_share_pct", PERCENT, "%", "Placed with own adopters",
       "Share of children placed in the year who were placed with the agency's own adopters."),
    # --- money ------------------------------------------------------------------------
    _k("interagency_fees_gbp", MONEY, "£", "Interagency fees paid",
       "Interagency fees paid in the year: fees at placement plus monthly fees after 12 months without an order."),
    _k("interagency_income_gbp", MONEY, "£", "Interagency fees received",
       "Fees received when the agency's own adopters take another agency's child."),
    _k("interagency_net_gbp", MONEY, "£", "Net interagency spend", "Fees paid minus fees received."),
)

KPI_BY_NAME: dict[str, Kpi] = {k.name: k for k in KPIS}
KPI_NAMES: tuple[str, ...] = tuple(KPI_BY_NAME)

#: Scorecard thresholds (DOMAIN primer; DfE adoption scorecard, current thresholds).
THRESHOLDS_DAYS = {"a1_days": 426, "a10_days": 426, "a2_days": 121}


#: The adopter gap's two counts: over replications its mean is the gap of their means (:func:`gap_of_means`).
GAP_COUNTS = ("adopters_waiting", "children_waiting_with_po")


def gap_of_means(adopters_waiting: float, children_waiting: float) -> float:
    """The adopter gap of two counts (a replication's, or their means over replications, as ASGLB reads
    it from totals): (adopters - children) / children as a percentage; NaN when no child waits.  The
    mean of each replication's percentage would be swayed by the replications with few children
    waiting (a gap of +400% where one child waits), so means are taken of the counts."""
    if not children_waiting > 0:
        return float("nan")
    return 100.0 * (adopters_waiting - children_waiting) / children_waiting


#: How each kind of KPI is measured, in words (for the reference table).
KIND_WORDS = {COUNT: "counted in the year", STOCK: "at 31 March", MEAN_DAYS: "average days", PERCENT: "a share",
              MONEY: "pounds in the year"}


def kpis_markdown() -> str:
    """The catalogue as a Markdown table, for the docs' reference (``docs/reference/kpis.md``)."""
    rows = ["| name | label | unit | measured | what it means |", "|---|---|---|---|---|"]
    rows += [f"| `{k.name}` | {k.label} | {k.unit} | {KIND_WORDS[k.kind]} | {k.description} |" for k in KPIS]
    return "\n".join(rows)
