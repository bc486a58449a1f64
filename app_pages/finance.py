"""The Finance page: interagency fees paid and received and net spend over the finance window and by
year, baseline beside scenario with the paired saving, each with its 90% interval; fees by provider;
the fee schedule."""

from __future__ import annotations

import streamlit as st

from sim.app.choices import (
    finance_window,
)
from sim.app.view import current_view, remember
from sim.planning import charts, comparison, finance
from sim.planning.model_notes import calibration_report

state = st.session_state
v = current_view()
first_change = comparison.first_change(v.scenario, None if v.same else v.baseline)


def money_columns(columns: dict[str, str]) -> dict:
    """Column settings for a table of pounds: labels with their unit, thousands separated."""
    return {key: st.column_config.NumberColumn(v.label, format="localized") for key, v.label in columns.items()}


def draw_finance() -> None:
    st.markdown(f"**Interagency spend: {v.label}" + ("" if v.same else f" against {v.baseline_label}") + "**")
    year_labels = list(v.scen_res.years)
    finance_window(v)
    c1, c2, _ = st.columns([1, 1, 2])
    c1.selectbox("From financial year", year_labels, key="finance_from", on_change=remember, args=("finance_from",),
                 help="The first year of the period to total (a budget paper's window).")
    c2.selectbox("To financial year", year_labels, key="finance_to", on_change=remember, args=("finance_to",), help="The last year of the period, included.")
    window = finance.window_years(v.scen_res, state["finance_from"], state["finance_to"])
    table = finance.spend_table(v.base_res, v.scen_res, window)
    state["finance_table"] = table
    names = {"period": "Financial year", "measure": "Measure",
             "baseline": f"{v.baseline_label} (£, mean [90% interval])",
             "scenario": f"{v.label} (£, mean [90% interval])", "saving": "Saving (£, paired, mean [90% interval])"}
    shown = finance.spend_text(table)
    columns = ["measure", "baseline"] if v.same else ["measure", "baseline", "scenario", "saving"]
    totals = shown[shown["period"].str.startswith("total") | (len(window) == 1)]
    st.markdown(f"**{state['finance_from']} to {state['finance_to']}: totals**")
    # static tables: every column shows, the cells wrapping to fit
    st.table(totals[columns].rename(columns=names).set_index("Measure"))
    st.caption("Each figure: the mean over the replications both runs share, with its 90% interval (5th to 95th "
               "percentile). Saving: less paid, or more received, than the baseline, from the difference in each "
               "replication (scenario and baseline share their random numbers); a negative saving is a cost. "
               "Totals add each replication's years before the mean and interval are taken. Pounds are rounded to "
               "three significant figures of each interval's width, the same in the spreadsheet and the board paper.")
    for note in finance.fit_notes(calibration_report(v.baseline.calibration.targets_file).get("csv")):
        st.warning("**Baseline against the report.** " + note)
    st.markdown("**By financial year**")
    years_only = shown[~shown["period"].str.startswith("total")]
    st.table(years_only[["period", *columns]].rename(columns=names).set_index(["Financial year", "Measure"]))
    c1, c2 = st.columns(2)
    c1.vega_lite_chart(spec=charts.spend_chart(v.both), width="stretch")
    c2.vega_lite_chart(spec=charts.spend_chart(v.both, cumulative=True), width="stretch")
    if not v.same:
        state["savings_table"] = finance.savings(v.base_res, v.scen_res)
        if first_change is not None:
            st.caption(f"Changes start {first_change.start}: in the years before, the scenario is the baseline, "
                       "replication by replication, so it saves nothing there (0, interval [0, 0]).")
    with st.expander(f"Placements and fees by provider: {v.label}"):
        spend = finance.spend_by_year(v.scen_res)
        st.dataframe(spend[["financial_year", "placements_vaa", "placements_la", "fees_paid_gbp",
                            "fees_paid_vaa_gbp_est", "fees_paid_la_gbp_est"]].round(1), hide_index=True,
                     width="stretch", column_config={
                         "financial_year": st.column_config.TextColumn("Financial year"),
                         "placements_vaa": st.column_config.NumberColumn("VAA placements (children, mean)",
                                                                         format="%.1f"),
                         "placements_la": st.column_config.NumberColumn("LA/RAA placements (children, mean)",
                                                                        format="%.1f"),
                         **money_columns({"fees_paid_gbp": "Fees paid (£, mean)",
                                          "fees_paid_vaa_gbp_est": "of which VAA (£, estimate)",
                                          "fees_paid_la_gbp_est": "of which LA/RAA (£, estimate)"})})
        st.caption("The split of fees paid by provider is an estimate (each year's fees shared by placements with "
                   "each provider, weighted by its one-child fee); fees received are the LA/RAA fee for the agency's "
                   "own adopters taken by other agencies.")
    with st.expander("Fee schedule (by provider and financial year; a fee lever acts from its date)"):
        schedule = finance.schedule_table(v.scen_res)
        st.dataframe(schedule[["financial_year", "provider", "one_child_gbp", "two_siblings_gbp", "three_siblings_gbp",
                               "monthly_fee_gbp"]], hide_index=True, width="stretch", column_config={
            "financial_year": st.column_config.TextColumn("Financial year"),
            "provider": st.column_config.TextColumn("Provider"),
            **money_columns({"one_child_gbp": "One child (£)", "two_siblings_gbp": "Two siblings (£)",
                             "three_siblings_gbp": "Three siblings (£)",
                             "monthly_fee_gbp": "Monthly fee after 12 months (£)"})})


draw_finance()
