"""The Compare page: scenarios side by side (the baseline, those run in the session, the files
shipped), each figure over the replications all share, and the paired change against a reference;
charts with a colour per scenario."""

from __future__ import annotations

import streamlit as st

from sim.app.choices import (
    compare_choice,
    compare_default_year,
    compare_marker,
    compare_options,
    compared_runs,
)
from sim.app.headline import period_choice
from sim.app.library import flag_older_figures, renew_comparison
from sim.app.settings import TABLE_KPIS
from sim.app.view import current_view, remember, set_choice
from sim.planning import board_pack, charts, comparison

state = st.session_state
v = current_view()


def draw_compare() -> None:
    count = f"{v.reps} replications" if v.reps else "replications chosen for precision"
    st.write("Scenarios run in this session, and the scenario files shipped with the app, side by side "
             f"({count} × {v.years} years each). Changes are against the reference scenario, paired "
             "replication by replication.")
    options = compare_options(v)
    set_choice("compare_choice", compare_choice(v, options))
    chosen = st.multiselect("Scenarios (in the order to show them)", list(options), key="compare_choice",
                            on_change=remember, args=("compare_choice",))
    if not chosen:
        return
    compared = compared_runs(v, options, chosen)
    if not compared:
        return
    flag_older_figures({name: options[name] for name in chosen}, v.reps, v.years)
    renew_comparison(compared)
    c1, c2 = st.columns(2)
    if state.get("compare_reference") not in compared:
        set_choice("compare_reference", chosen[0])
    reference = c1.selectbox("Reference", list(compared), key="compare_reference",
                             on_change=remember, args=("compare_reference",))
    with c2:
        cyear = period_choice(compared[reference], "compare_period", compare_default_year(compared, reference),
                              marker=compare_marker(v, compared, reference))
    side = comparison.side_by_side(compared, TABLE_KPIS, cyear, reference)
    state["compare_table"] = side
    wide, wide_change = board_pack.headline_table(compared, cyear, reference, TABLE_KPIS)  # as the board pack
    state["compare_wide"] = wide
    # a static table: every measure and every scenario's full title show, the cells wrapping to fit
    st.table(wide.reset_index().rename(columns={"measure": "Measure"}).set_index("Measure"))
    st.caption("Each cell: mean [90% interval]. " + comparison.GAP_DEFINITION)
    if len(wide_change):
        st.markdown(f"**Change against {reference}** (mean [90% interval], paired)")
        st.table(wide_change.reset_index().rename(columns={"measure": "Measure"}).set_index("Measure"))
    for name in compared:
        for text in comparison.comparability_warnings(reference, compared[reference], name, compared[name]):
            st.warning(text)
    unpaired = [n for n in compared if not comparison.is_paired(compared[reference], compared[n])]
    if unpaired:
        st.warning(f"Not paired with {reference} (a different seed), so their intervals are wider: "
                   + ", ".join(unpaired))
    st.vega_lite_chart(spec=charts.gap_chart(compared), width="stretch")
    st.vega_lite_chart(spec=charts.waits_chart(compared))
    st.vega_lite_chart(spec=charts.spend_chart(compared, cumulative=True), width="stretch")
    st.vega_lite_chart(spec=charts.flows_chart(compared))


draw_compare()
