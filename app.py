"""The planning app: scenarios for service planners, finance and boards, in the browser.

    pip install -e . && streamlit run app.py

Choose a baseline (the built-in one, a scenario file, or a file of your own), move the levers and
run: headline figures against the baseline with their 90% intervals, then a page per view —
charts, scenarios side by side, the recruitment target finder, finance, a region or England as one
market, downloads (the board paper among them) and notes on the model.  Moved levers act from a
date: they become the scenario's dated changes, and history runs on the baseline.  Runs are done in
the background and cached by scenario, so touching a control while a run is going does not lose
it, and returning to a scenario is instant.

This file is the shell: the sidebar, the view every page reads, the headline, and the pages
(``app_pages/``, one module a view).  What is shared lives in :mod:`sim.app`; every figure is
computed in :mod:`sim.planning`.  Settings for tests and small machines are in
:mod:`sim.app.settings`.
"""

from __future__ import annotations

import streamlit as st

from sim.app.access import draw_user, require_login
from sim.app.headline import draw_headline
from sim.app.library import open_linked_comparison
from sim.app.sidebar import draw_sidebar
from sim.app.view import give_back_choices, keep_choices, make_view

st.set_page_config(page_title="Adoption pipeline planner", layout="wide")

PAGES = [st.Page("app_pages/charts.py", title="Charts", default=True),
         st.Page("app_pages/compare.py", title="Compare scenarios"),
         st.Page("app_pages/recruitment_target.py", title="Recruitment target"),
         st.Page("app_pages/finance.py", title="Finance"),
         st.Page("app_pages/market.py", title="Market"),
         st.Page("app_pages/downloads.py", title="Downloads"),
         st.Page("app_pages/library.py", title="Library"),
         st.Page("app_pages/model_notes.py", title="Model notes")]
require_login()  # on a shared server, nothing shows until the person has logged in
page = st.navigation(PAGES, position="top")

st.title("Adoption pipeline planner")
st.caption("A discrete-event model of the adoption pipeline, from adopter enquiries to adoption orders. "
           "Every figure is a mean over replications with its 90% interval (5th to 95th percentile); "
           "changes against the baseline are paired, replication by replication, on common random numbers.")
view = make_view(*draw_sidebar())
draw_user()
open_linked_comparison()
draw_headline(view)
give_back_choices()
page.run()
keep_choices()
