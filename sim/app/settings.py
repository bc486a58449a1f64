"""The app's settings: defaults a test or a small machine changes through the environment, and
the measures the headline and the tables show.  The environment is read at each use, so a test can
set it before a run.

``ADOPTION_APP_REPS`` (a fixed count of replications; by default chosen for precision),
``ADOPTION_APP_YEARS`` (a fixed horizon; by default each baseline's run reaches the end of the next
three financial years) and ``ADOPTION_APP_ENGINE`` (``processes`` or ``serial``)."""

from __future__ import annotations

import os

from sim.planning import report_table


def default_reps() -> int:
    """The replications a run opens with where the user gives a count."""
    return int(os.environ.get("ADOPTION_APP_REPS", "100"))


def auto_reps() -> bool:
    """Whether replications are chosen for precision by default (unless a count is set)."""
    return "ADOPTION_APP_REPS" not in os.environ


def fixed_years() -> str | None:
    """A fixed horizon, or None: each baseline's run reaches the end of the budget window."""
    return os.environ.get("ADOPTION_APP_YEARS")


def engine() -> str:
    """Where replications run: ``processes`` (the default) or ``serial``."""
    return os.environ.get("ADOPTION_APP_ENGINE", "processes")

BUILT_IN = "Built-in baseline"
HORIZON = "Average over the horizon"
EVERY_YEAR = "every year from"
FINAL_YEAR = "the final year"
SESSION_RESULTS = 40  # results kept in a session (older ones are rerun, or come from the cache)

HEADLINE = [
    # kpi, short label, lower is better
    ("approvals", "Approvals", False),
    ("children_waiting_with_po", "Children waiting", True),
    ("a10_days", "A10 (days)", True),
    ("a2_days", "A2 (days)", True),
    ("adopter_gap", "Adopter gap", False),  # comparison.GAP_DEFINITION
    ("interagency_fees_gbp", "Interagency fees", True),
]
TABLE_KPIS = report_table.TABLE_KPIS  # the app's tables and board paper show what the command line's does
