"""Calibrating any agency from the few figures it publishes: its size from any count or stock,
capacity that scales with it, known inputs, and honest results.

Synthetic agencies of known size (the defaults with inflows and capacity scaled x0.1, x4 and
x100) are simulated; their year-1 approvals and placement orders are the only figures of a
targets file; the calibration must recover their enquiries and children entering and reproduce
both figures.  Fits are short (few replications and iterations) to keep each test quick."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.calibration import agency_size as size
from sim.calibration import fit as cal
from sim.calibration.fit import KPI_INDEX, Simulator, fit_agency, plan_agency
from sim.calibration.fit_report import FAILED_FIT_STATUS, verdict
from sim.calibration.targets import load_targets
from sim.scenario.files import load_scenario
from sim.scenario.parameter_sets import with_parameters
from sim.scenario.parameters import Scenario

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ("approvals", "placement_orders")
AGENCY = """\
[agency]
name = "{name}"
financial_year = "2022-23"
start_year = 2022
report = "synthetic.txt"
timing_only = false
"""


def target(figure: str, value: float, sd: float | None = None, kind: str | None = None) -> str:
    sd = sd if sd is not None else max(math.sqrt(value), 2.0)
    kind_line = f'kind = "{kind}"\n' if kind else ""  # left out: the KPI's kind
    return (f'\n[[target]]\nfigure = "{figure}"\nvalue = {value:.2f}\n{kind_line}source = "synthetic.txt §1"\n'
            f"sd = {sd:.3f}\nuse = true\n")


def write(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(AGENCY.format(name=name) + body, encoding="utf-8")
    return path


def scaled(k: float, warm_up: int = 3, seed: int = 99) -> Scenario:
    """The defaults with inflows, social workers and panels scaled by k (one panel a month at least)."""
    b = Scenario()
    s = with_parameters(b, {"adopters.enquiries_per_month": b.adopters.enquiries_per_month * k,
                            "children.entering_per_year": b.children.entering_per_year * k,
                            "adopters.assessing_social_workers": b.adopters.assessing_social_workers * k,
                            "panel.panels_per_month": max(1.0, b.panel.panels_per_month * k)})
    data = s.model_dump()
    data["scenario"].update(years=1, warm_up_years=warm_up, seed=seed)
    return Scenario.model_validate(data)


def year1(sim: Simulator, scenario: Scenario, reps: int) -> np.ndarray:
    return sim.window([scenario], reps)[0]


def means(values: np.ndarray) -> dict[str, float]:
    return {f: float(np.nanmean(values[:, KPI_INDEX[f]])) for f in FIGURES}


@pytest.mark.parametrize("k,truth_reps,reps", [(0.1, 120, 16), (4.0, 6, 4)])
def test_two_figures_fit_an_agency_of_known_size(tmp_path, k, truth_reps, reps):
    """Approvals and placement orders alone recover enquiries and children entering within 25% and
    the fitted agency reproduces both figures inside its 90% interval."""
    truth = scaled(k)
    with Simulator(workers=2) as sim:
        observed = means(year1(sim, truth, truth_reps))
        path = write(tmp_path, f"synthetic-x{k:g}", "".join(target(f, v) for f, v in observed.items()))
        ts = load_targets(path)
        fitted = fit_agency(ts, sim, replications=reps, max_iterations=2)
        scenario = fitted.scenario
        check = year1(sim, scenario, 24)
    assert scenario.adopters.enquiries_per_month == pytest.approx(truth.adopters.enquiries_per_month, rel=0.25)
    assert scenario.children.entering_per_year == pytest.approx(truth.children.entering_per_year, rel=0.25)
    for f, value in observed.items():
        p5, p95 = np.nanpercentile(check[:, KPI_INDEX[f]], [5, 95])
        assert p5 <= value <= p95, (f, value, p5, p95)
    # capacity scales with the agency (x0.1 keeps more than a tenth: a small caseload needs a margin)
    workers = scenario.adopters.assessing_social_workers
    assert workers == pytest.approx(5.0 * k, rel=0.25) if k >= 1 else 5.0 * k < workers < 5.0 * k * 3
    assert scenario.panel.panels_per_month == pytest.approx(max(1.0, 3.0 * k), rel=0.25)
    notes = {**{e.key: e.note for e in fitted.estimates}, **{e.key: e.note for e in fitted.priors}}
    assert "approvals" in notes["adopters.enquiries_per_month"] and "synthetic.txt §1" in \
        notes["adopters.enquiries_per_month"]
    assert "placement_orders" in notes["children.entering_per_year"]
    assert {p.key for p in fitted.result.parameters} >= set(size.INFLOW.values())


def test_an_agency_a_hundred_times_the_defaults(tmp_path):
    """England-sized: the direct-estimate step from one short simulation's approvals and placement
    orders, and one short simulation of the scenario it gives."""
    truth = scaled(100.0, warm_up=1)
    with Simulator(workers=1) as sim:
        observed = means(year1(sim, truth, 1))
        ts = load_targets(write(tmp_path, "england", "".join(target(f, v) for f, v in observed.items())))
        plan = plan_agency(ts)
        start = plan.start
        assert start.adopters.enquiries_per_month == pytest.approx(truth.adopters.enquiries_per_month, rel=0.25)
        assert start.children.entering_per_year == pytest.approx(truth.children.entering_per_year, rel=0.25)
        assert start.adopters.assessing_social_workers == pytest.approx(500.0, rel=0.25)
        assert start.panel.panels_per_month == pytest.approx(300.0, rel=0.25)
        data = start.model_dump()
        data["scenario"].update(years=1, warm_up_years=1)
        again = means(year1(sim, Scenario.model_validate(data), 1))
    for f in FIGURES:
        assert again[f] == pytest.approx(observed[f], rel=0.1), (f, again, observed)


def test_each_figure_sets_the_size_through_the_shares():
    """Every count or stock on a side gives the same inflow when it is the value the defaults give."""
    base = Scenario()
    per = size.figure_per_inflow(base)
    for side, figures in size.SIZE_FIGURES.items():
        inflow = cal._value(base, size.INFLOW[side])
        for figure in figures:
            from sim.calibration.targets import Target
            t = Target(figure=figure, value=inflow * per[figure].value, kind="count", source="x §1", sd=2.0, use=True)
            found = size.size_of_side(side, {figure: t}, per)
            assert found is not None and found.inflow == pytest.approx(inflow), figure
    # the most direct figure wins: registrations over approvals for the adopters' side
    from sim.calibration.targets import Target
    used = {f: Target(figure=f, value=v, kind="count", source="x §1", sd=2.0, use=True)
            for f, v in (("approvals", 100.0), ("registrations", 44.0))}
    assert size.size_of_side(size.ADOPTERS, used, per).figure.figure == "registrations"


def test_defaults_give_about_the_flows_the_model_simulates():
    """The shares and durations behind the size estimates match a simulation of the defaults."""
    per = size.figure_per_inflow(Scenario())
    base = Scenario()
    data = base.model_dump()
    data["scenario"].update(years=1, seed=3)
    with Simulator(workers=2) as sim:
        values = year1(sim, Scenario.model_validate(data), 40)
    for figure in ("registrations", "stage2_starts", "approvals", "placement_orders", "placements",
                   "adoption_orders", "households_stage1", "adopters_waiting"):
        inflow = cal._value(base, size.INFLOW[per[figure].side])
        simulated = float(np.nanmean(values[:, KPI_INDEX[figure]]))
        assert inflow * per[figure].value == pytest.approx(simulated, rel=0.15), figure


# --- the command line: files that fit, files that cannot, fits that fail -------------------------

def _sim(*args):
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)


def _repository_outputs() -> dict[str, float]:
    folders = [ROOT / "calibration" / "reports", ROOT / "calibration" / "fits", ROOT / "scenarios"]
    return {str(p): p.stat().st_mtime_ns for d in folders for p in d.rglob("*") if p.is_file()}


QUICK = ("--reps", "4", "--report-reps", "20", "--max-iterations", "2", "--workers", "2", "--design", "60",
         "--candidates", "100")


def test_placement_orders_alone_fit_the_childrens_side_and_inputs_are_set(tmp_path):
    """One figure (placement orders, 24) fixes the children's side; the adopters' side scales with it;
    a known input is set as given; written beside --out, nothing in the repository."""
    body = target("placement_orders", 24.0) + '\n[inputs]\n"adopters.assessing_social_workers" = 3.5\n'
    path = write(tmp_path, "smallshire", body)
    before = _repository_outputs()
    out = _sim("calibrate", str(path), "--out", str(tmp_path / "fit" / "smallshire.toml"), *QUICK)
    assert out.returncode == 0, out.stderr
    assert _repository_outputs() == before
    for name in ("smallshire.toml", "smallshire.md", "smallshire.csv", "smallshire-parameters.csv",
                 "smallshire-checks.csv", "smallshire-parameter-sets.csv"):
        assert (tmp_path / "fit" / name).is_file(), name
    assert "1 of 1 used targets inside" in out.stdout and "the fit holds" in out.stdout
    scenario = load_scenario(str(tmp_path / "fit" / "smallshire.toml"))
    entering = scenario.children.entering_per_year
    assert entering == pytest.approx(24.0 / 0.87, rel=0.25)
    assert scenario.adopters.enquiries_per_month == pytest.approx(25.7 * 24.0 / (65 * 0.87), rel=0.1)
    assert scenario.adopters.assessing_social_workers == 3.5
    fitted = scenario.calibration.fitted
    assert fitted["adopters.assessing_social_workers"].startswith("given in the targets file")
    assert "placement_orders 24" in fitted["children.entering_per_year"]
    assert "scaled with the children's side" in fitted["adopters.enquiries_per_month"]
    assert str(tmp_path / "fit" / "smallshire.md") in scenario.scenario.description


def test_a_file_that_cannot_set_the_size_says_what_to_add(tmp_path):
    path = write(tmp_path, "timesonly", target("a2_days", 200.0, sd=30.0))
    out = _sim("calibrate", str(path), "--out", str(tmp_path / "fit" / "timesonly.toml"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "no used figure sets the agency's size" in out.stderr
    assert "approvals, registrations or enquiries for the adopters' side" in out.stderr
    assert "placement orders, placements, matches, adoption orders or plans for adoption" in out.stderr
    assert not (tmp_path / "fit").exists()


def test_a_failing_fit_exits_non_zero_and_names_its_misses(tmp_path):
    """Plans for adoption set the children entering; three times as many placement orders cannot be
    reached: the fit is written, its miss named with why, and the command exits with status 3."""
    body = target("plans_for_adoption", 20.0) + target("placement_orders", 60.0) + target("approvals", 10.0)
    path = write(tmp_path, "contrary", body)
    out = _sim("calibrate", str(path), "--out", str(tmp_path / "fit" / "contrary.toml"), *QUICK)
    assert out.returncode == FAILED_FIT_STATUS, (out.stdout, out.stderr)
    assert "miss placement_orders" in out.stdout and "the fit FAILS" in out.stdout
    assert "held by children.entering_per_year" in out.stdout  # why: set directly from the plans
    assert (tmp_path / "fit" / "contrary.md").is_file()
    assert "the fit FAILS" in (tmp_path / "fit" / "contrary.md").read_text(encoding="utf-8")


def test_the_verdict():
    import pandas as pd

    def table(inside: int, n: int, distances=None):
        distances = distances or [0.5] * n
        return pd.DataFrame({"figure": [f"f{i}" for i in range(n)], "year": ["2022-23"] * n, "used": [True] * n,
                             "miss": [i >= inside for i in range(n)], "distance": distances})
    assert verdict(table(24, 24)).ok and verdict(table(21, 24)).ok and verdict(table(1, 2)).ok
    assert not verdict(table(18, 24)).ok  # 75%: p = 0.03
    assert not verdict(table(2, 4)).ok  # under 75% of at least 4
    assert not verdict(table(0, 2)).ok
    far = verdict(table(2, 2, [0.1, -3.4]))
    assert not far.ok and far.far == (("f1", -3.4),) and "f1 (-3.4 sd)" in far.summary()
    # national figures are estimates: a figure outside the narrow chance-alone interval is still
    # reproduced when the simulated mean lies within its own 90% interval (1.645 sd)
    national = table(2, 4, [0.5, -1.2, 1.6, -2.0])
    assert not verdict(national).ok
    held = verdict(national, own_interval=True)
    assert held.inside == 3 and held.misses == ("f3",) and "own 90% interval" in held.summary()
