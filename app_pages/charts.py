"""The Charts page: the adopter gap, the scorecard waits, interagency spend and the flows through each
stage, by year, with their 90% intervals."""

from __future__ import annotations

import streamlit as st

from sim.app.view import current_view
from sim.planning import charts

state = st.session_state
v = current_view()


def draw_charts() -> None:
    st.vega_lite_chart(spec=charts.gap_chart(v.both), width="stretch")
    st.caption("The adopter gap: approved adopters waiting against children with a placement order waiting, "
               "at each 31 March. Lines are means, bands the 90% interval.")
    st.vega_lite_chart(spec=charts.waits_chart(v.both))
    c1, c2 = st.columns(2)
    c1.vega_lite_chart(spec=charts.spend_chart(v.both), width="stretch")
    c2.vega_lite_chart(spec=charts.spend_chart(v.both, cumulative=True), width="stretch")
    st.vega_lite_chart(spec=charts.flows_chart(v.both))


draw_charts()
