"""The planning app's page code (Streamlit): what every page shares (settings, background runs,
the sidebar, the state of the view, the headline) and the choices pages share.  Each page is a
module of ``app_pages/``; ``app.py`` is the shell that lays them out.  The computations behind
every figure live in :mod:`sim.planning`."""
