"""The finance view: interagency spend by year and provider, income, net, and what a
recruitment campaign saves.

The model books each interagency fee when a child is placed (plus monthly fees after 12
months without an order) and counts placements by provider (VAA or another LA/RAA); it
does not keep fees by provider.  The split of the fees paid between VAA and LA/RAA shown
here is therefore an *estimate*: each year's fees shared in proportion to that year's
placements with each provider, weighted by the provider's one-child fee in that year.

Fees follow the scenario's dated changes: the schedule shows the fees in force in each year
(a row more for the part of a year after a change that starts mid-year), as the model
charges them.  Savings against the baseline are paired by year, so they are zero in the
years before a what-if's first change.
"""

from __future__ import annotations

import pandas as pd

from sim.model.interagency_fee import LA, VAA, fee_schedule, placement_fee
from sim.model.timeline import Timeline
from sim.planning.comparison import by_replication, change_by_year, describe, total_change
from sim.run.runner import Results
from sim.scenario.calendar import financial_year_label, month_label
from sim.scenario.parameters import Fees

MONEY_KPIS = ("interagency_fees_gbp", "interagency_income_gbp", "interagency_net_gbp")


def _years(results: Results) -> list[int]:
    run = results.scenario.scenario
    return [run.start_year + i for i in range(run.years)]


def fees_by_month(results: Results) -> list[Fees]:
    """The fees in force in each month of the reported years (after the scenario's dated changes)."""
    scenario = results.scenario
    run = scenario.scenario
    months = range(run.warm_up_years * 12, (run.warm_up_years + run.years) * 12)
    if not (scenario.change or scenario.trend):
        return [scenario.fees for _ in months]
    timeline = Timeline(scenario)
    return [timeline.in_month(m).fees for m in months]


def schedule_table(results: Results) -> pd.DataFrame:
    """The fee schedule over the horizon: one row per financial year and provider, and a row
    more for the part of a year after fees change mid-year ("2024-25 from 2024-10")."""
    run = results.scenario.scenario
    by_month = fees_by_month(results)
    first_year = run.start_year - run.warm_up_years
    rows = []
    for i, year in enumerate(_years(results)):
        previous = None
        for k in range(12):
            fees = by_month[i * 12 + k]
            if fees == previous:
                continue
            label = financial_year_label(year) if k == 0 else \
                f"{financial_year_label(year)} from {month_label((run.warm_up_years + i) * 12 + k, first_year)}"
            rows += [dict(row, financial_year=label) for row in fee_schedule(fees, range(year, year + 1))]
            previous = fees
    return pd.DataFrame(rows)


def spend_by_year(results: Results) -> pd.DataFrame:
    """Per financial year: placements by provider, fees paid (and the estimated split by
    provider), fees received and net spend, each as a mean with its 90% interval."""
    by_month = fees_by_month(results)
    paid = by_replication(results, "interagency_fees_gbp")
    n_vaa = by_replication(results, "interagency_placements_vaa")
    n_la = by_replication(results, "interagency_placements_la")
    labels = dict(zip(results.summary["year"], results.summary["financial_year"]))
    rows = []
    for i, year in enumerate(paid.columns):
        calendar_year = _years(results)[i]
        fees = by_month[i * 12]  # in force at the start of the year
        w_vaa = n_vaa[year] * placement_fee(fees, VAA, 1, calendar_year)
        w_la = n_la[year] * placement_fee(fees, LA, 1, calendar_year)
        weight = (w_vaa + w_la).where(lambda w: w > 0)
        est_vaa = (paid[year] * w_vaa / weight).fillna(0.0)
        est_la = (paid[year] * w_la / weight).fillna(0.0)
        row = {"year": int(year), "financial_year": labels[year]}
        for name, values in (("placements_vaa", n_vaa[year]), ("placements_la", n_la[year]),
                             ("fees_paid_gbp", paid[year]), ("fees_paid_vaa_gbp_est", est_vaa),
                             ("fees_paid_la_gbp_est", est_la),
                             ("fees_received_gbp", by_replication(results, "interagency_income_gbp")[year]),
                             ("net_spend_gbp", by_replication(results, "interagency_net_gbp")[year])):
            d = describe(values)
            row[name] = d["mean"]
            row[f"{name}_p5"] = d["p5"]
            row[f"{name}_p95"] = d["p95"]
        rows.append(row)
    return pd.DataFrame(rows)


def cumulative_spend(results: Results, kpi: str = "interagency_net_gbp") -> pd.DataFrame:
    """Spend cumulated from the first year, mean and 90% interval (per-replication sums)."""
    table = by_replication(results, kpi).cumsum(axis=1)
    labels = dict(zip(results.summary["year"], results.summary["financial_year"]))
    return pd.DataFrame([{"year": int(y), "financial_year": labels[y], **describe(table[y])} for y in table.columns])


def savings(base: Results, scenario: Results) -> pd.DataFrame:
    """What the scenario saves against the baseline, per year and over the horizon: the paired
    change in fees paid, fees received and net spend, as *savings* (baseline minus scenario)."""
    rows = []
    for kpi, what in (("interagency_fees_gbp", "fees paid"), ("interagency_income_gbp", "fees received"),
                      ("interagency_net_gbp", "net spend")):
        sign = -1.0 if kpi != "interagency_income_gbp" else 1.0  # saving = less paid, or more received
        for r in change_by_year(base, scenario, kpi).itertuples():
            rows.append({"measure": what, "financial_year": r.financial_year, "saving_gbp": sign * r.mean,
                         "saving_p5": min(sign * r.p5, sign * r.p95), "saving_p95": max(sign * r.p5, sign * r.p95)})
        t = total_change(base, scenario, kpi)
        rows.append({"measure": what, "financial_year": "whole horizon", "saving_gbp": sign * t["mean"],
                     "saving_p5": min(sign * t["p5"], sign * t["p95"]),
                     "saving_p95": max(sign * t["p5"], sign * t["p95"])})
    return pd.DataFrame(rows)
