"""How large a run the app takes, and a plain refusal, with what it would take, of a larger one.

The app's controls go up to :data:`MAX_YEARS` financial years and :data:`MAX_REPLICATIONS`
replications; a scenario file may ask for more (up to 50 years and 10,000 replications, as
the command line allows).  Such a file is refused with the estimate of what it would take
(:mod:`sim.run.cost`) instead of being quietly cut down, and so is any run beyond the command
line's size limit (a very large agency at the app's maximum).  The command line runs it with
``--force``.
"""

from __future__ import annotations

from sim.run.cost import estimate, limit_text
from sim.scenario.files import scenario_from_dict
from sim.scenario.parameters import Scenario

MAX_YEARS = 30  # assumption: a planning horizon beyond 30 years is not a question the app is for
MAX_REPLICATIONS = 2000  # assumption: 2,000 replications pin the 90% interval's ends within about 1%


def refusal(scenario: Scenario, replications: int, years: int, engine: str = "processes") -> str | None:
    """Why the app will not run ``scenario`` for ``replications`` x ``years``, with what it would
    take, or None when it will."""
    data = scenario.model_dump()
    data["scenario"].update(replications=replications, years=years)
    cost = estimate(scenario_from_dict(data, "run size"), engine=engine)
    if years <= MAX_YEARS and replications <= MAX_REPLICATIONS and not cost.beyond_limit():
        return None
    return (f"{cost.describe()}. The app runs at most {MAX_YEARS} years and {MAX_REPLICATIONS:,} replications, "
            f"and no run beyond {limit_text()}; for a larger run use the command line: "
            f"python -m sim run FILE --force")


def market_refusal(name: str, replications: int, years: int, engine: str = "processes") -> str | None:
    """Why the app will not run the market file ``name`` for ``replications`` x ``years``, with what it
    would take, or None when it will: markets have the same limit as any run."""
    from sim.run.cost import estimate_market
    from sim.scenario.market_file import load_market

    cost = estimate_market(load_market(name).with_run(years=years, replications=replications), engine=engine)
    if not cost.beyond_limit():
        return None
    return (f"{cost.describe()}, beyond the limit of {limit_text()} for one run in the app; ask for fewer "
            f"replications or years, or use the command line: python -m sim market {name} --force")
