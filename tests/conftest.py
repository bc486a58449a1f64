"""Shared helpers: small, fast scenarios built from the baseline."""

from __future__ import annotations

import pytest

from sim.scenario.parameters import Scenario


def scenario(**sections) -> Scenario:
    """The baseline with some parameters changed: scenario(adopters={"stage1_days": 80})."""
    base = Scenario().model_dump()
    for section, values in sections.items():
        base[section].update(values)
    return Scenario.model_validate(base)


def small(years: int = 3, reps: int = 8, warm_up: int = 1, seed: int = 7, **sections) -> Scenario:
    """A short run: few years and replications, for tests that must stay quick."""
    run = {"years": years, "replications": reps, "warm_up_years": warm_up, "seed": seed}
    run.update(sections.pop("scenario", {}))
    return scenario(scenario=run, **sections)


@pytest.fixture
def small_scenario() -> Scenario:
    return small()
