"""A discrete-event model of the adoption pipeline in England.

Adopter households (enquiry to approval and placement) and children (care proceedings to
adoption order) meet at matching; the model projects adopter gaps, children's waits and
interagency fees by financial year, with intervals over replications.
"""

from sim.run.runner import Results, run_scenario
from sim.scenario.files import ScenarioError, load_scenario, save_scenario
from sim.scenario.parameters import Scenario

__all__ = ["Scenario", "Results", "run_scenario", "load_scenario", "save_scenario", "ScenarioError"]
