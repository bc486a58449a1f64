"""The Market page: a region or England run as one market of agencies, each agency's figures, the fees
between them, and a what-if market against its base."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from sim import HORIZON_YEARS, ScenarioError
from sim.app.runs import run_market_file
from sim.app.settings import engine, fixed_years
from sim.app.view import current_view
from sim.planning import charts, comparison, run_limits

state = st.session_state
v = current_view()



def draw_market() -> None:
    """Many agencies in one run: a region or England, each agency's figures and the fees between them,
    the market's totals charted as one agency's are, its money by year, and a what-if market against
    its base.  The last run's choice is kept in the session (its results in the cache), so that
    moving a widget does not take the tables away."""
    from sim import market_names, market_title
    from sim.planning.market_tables import (
        AGENCY_KPIS,
        agency_display,
        fee_flows,
        market_finance_by_year,
        sufficiency_by_year,
    )

    st.markdown("Run a region or England as one market: every agency's adopters are open to other agencies' "
                "children after its in-house search, and every interagency fee is one agency's spend and "
                "another's income (docs/guides/markets.md).")
    names = market_names()
    c1, c2, c3, c4 = st.columns([2, 2, 1, 1])
    titles = {n: market_title(n) for n in names}
    name = c1.selectbox("Market", names, index=names.index("east-of-england") if "east-of-england" in names else 0,
                        key="market:file", format_func=titles.get)
    against = c2.selectbox("Against (its base market, to compare)", [NO_MARKET] + names, key="market:against",
                           format_func=lambda n: titles.get(n, n),
                           help="A what-if market is compared with its base replication by replication: "
                                "both need the same seed and years (a what-if file extends its base).")
    reps = c3.number_input("Replications", 2, 200, 10, key="market:reps")
    years = c4.number_input("Years", 1, 20, int(fixed_years() or HORIZON_YEARS), key="market:years")
    choice = (name, int(reps), int(years), against)
    if st.button("Run the market", key="market:run"):
        st.session_state["market:shown"] = choice
    shown = st.session_state.get("market:shown")
    if shown is None:
        st.caption("England (61 agencies) takes about half a minute of computing a replication; a region a few "
                   "seconds.")
        return
    if shown != choice:
        what = f"{shown[0]}" + (f" against {shown[3]}" if shown[3] != NO_MARKET else "")
        st.caption(f"Showing the last run ({what}, {shown[1]} replications, {shown[2]} years): press "
                   "*Run the market* for the choice above.")
    name, reps, years, against = shown
    refused = next((why for market in (name, against) if market != NO_MARKET
                    and (why := run_limits.market_refusal(market, reps, years, engine=engine()))), None)
    if refused:
        st.error(f"Not run: {refused}")
        return
    with st.spinner(f"Running {name} ..."):
        try:
            results = run_market_file(name, reps, years)
            base = run_market_file(against, reps, years) if against not in (NO_MARKET, name) else None
        except ScenarioError as exc:
            st.error(str(exc))
            return
    runs = {results.market.name: results} if base is None else {base.market.name: base,
                                                                 results.market.name: results}
    agencies = results.market.agencies
    st.markdown(f"**{results.market.name}**: {len(agencies)} agencies; each agency's yearly average over the "
                "horizon, mean [90% interval]")
    st.dataframe(agency_display(results, AGENCY_KPIS), hide_index=True, width="stretch")
    if base is not None:
        draw_market_changes(base, results)
    draw_market_charts(runs)
    st.markdown("**Interagency money by year** (the market's totals, mean and 90% interval): every fee is paid "
                "by a local authority or RAA, to another one or to a VAA")
    for label, run in runs.items():
        money = market_finance_by_year(run)
        if len(runs) > 1:
            st.caption(label)
        money["cell"] = [comparison.format_estimate(m, lo, hi, "£")
                         for m, lo, hi in zip(money["mean"], money["p5"], money["p95"])]
        st.dataframe(money.pivot(index="flow", columns="financial_year", values="cell").reindex(
            money["flow"].unique()), width="stretch")
    flows = fee_flows(results, by_region=len(agencies) > 15)
    if flows.empty:
        st.info("No interagency placement between the market's agencies in the years reported.")
    else:
        st.vega_lite_chart(spec=charts.fee_flow_chart(flows), width="stretch")
    st.markdown("**Interagency families available**: approved adopters waiting anywhere in the market per child "
                "waiting with a placement order, and as an index of the first year's. A single agency's "
                "*national sufficiency* lever stands for this index: 1 is the market it was calibrated in.")
    table = sufficiency_by_year(results)
    st.dataframe(pd.DataFrame({
        "Financial year": table["financial_year"],
        "Approved adopters waiting anywhere (households, mean)": table["adopters_waiting"].round(0),
        "Children waiting with an order (children, mean)": table["children_waiting"].round(0),
        "Families available per child waiting (mean [90% interval])": [
            f"{m:.2f} [{lo:.2f} to {hi:.2f}]" for m, lo, hi in zip(table["ratio_mean"], table["ratio_p5"],
                                                                   table["ratio_p95"])],
        "Sufficiency index (first year = 1; mean [90% interval])": [
            f"{m:.2f} [{lo:.2f} to {hi:.2f}]" for m, lo, hi in zip(table["index_mean"], table["index_p5"],
                                                                   table["index_p95"])],
    }), hide_index=True, width="stretch")


NO_MARKET = "(none)"


def draw_market_changes(base, results) -> None:
    """The what-if market against its base: the change in the market's totals, paired by replication."""
    from sim.planning.market_tables import market_changes, market_changes_display

    try:
        changes = market_changes(base, results)
    except ValueError as exc:  # another seed or other years: not a what-if of that base
        st.warning(f"{results.market.name} cannot be compared with {base.market.name}: {exc}.")
        return
    st.markdown(f"**Change against {base.market.name}** (same seed, paired by replication): yearly average of "
                "the market's totals over the horizon, mean [90% interval]")
    st.dataframe(market_changes_display(changes), hide_index=True, width="stretch")


def draw_market_charts(runs: dict) -> None:
    """The market's totals drawn as the Charts view draws one agency: the adopter gap, the scorecard
    waits and the fees the local authorities and RAAs pay, each with its 90% interval."""
    from sim.planning.market_tables import market_band_frame, market_change_marks

    marks = market_change_marks(runs)
    gap = market_band_frame(runs, charts.GAP_KPIS)
    st.vega_lite_chart(spec=charts.band_chart(gap, "The market: adopters waiting and children waiting at 31 March",
                                              "households / children", changes=marks), width="stretch")
    waits = charts.with_marks(market_band_frame(runs, charts.WAIT_KPIS), marks)
    st.vega_lite_chart(spec=charts.facet_chart(waits, "The market: children's waits against the scorecard "
                                                      "thresholds (days)", columns=2, height=220))
    fees = market_band_frame(runs, ["interagency_fees_gbp"], kinds=("la", "raa"),
                             labels={"interagency_fees_gbp": "Fees paid by LAs and RAAs"})
    st.vega_lite_chart(spec=charts.band_chart(fees, "The market: interagency fees paid a year", "£", changes=marks),
                       width="stretch")


draw_market()
