"""A discrete-event model of the adoption pipeline in England.

Adopter households (enquiry to approval and placement) and children (care proceedings to
adoption order) meet at matching; the model projects adopter gaps, children's waits and
interagency fees by financial year, with intervals over replications.
"""

from sim.library.database import LibraryError
from sim.model.kpis import KPI_BY_NAME, KPIS, THRESHOLDS_DAYS
from sim.run.market_runner import run_market
from sim.run.options import RunOptions
from sim.run.replications import DEFAULT_PRECISION, run_to_precision
from sim.run.runner import Results, run_scenario
from sim.scenario.files import ScenarioError, load_scenario, parse_scenario, run_text, save_scenario
from sim.scenario.market_file import load_market, market_names, market_title
from sim.scenario.parameters import HORIZON_YEARS, Scenario, parameter_table

__all__ = ["Scenario", "Results", "RunOptions", "run_scenario", "run_to_precision", "DEFAULT_PRECISION",
           "load_scenario", "parse_scenario", "run_text", "save_scenario", "ScenarioError", "parameter_table", "HORIZON_YEARS",
           "KPIS", "KPI_BY_NAME", "THRESHOLDS_DAYS", "load_market", "market_names", "market_title", "run_market", "LibraryError"]
