"""The folders of `sim` are layers: a module imports only its own layer and those beneath it, so a
newcomer can read the model without the app, and a scenario can be checked without the model."""

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[1] / "sim"
# each layer and the layers it may import (besides itself)
BENEATH = {
    "scenario": set(),
    "model": {"scenario"},
    "run": {"scenario", "model"},
    "calibration": {"scenario", "model", "run"},
    "planning": {"scenario", "model", "run"},
    "library": {"scenario", "model", "run", "planning"},  # what planners save (scenarios, results, comparisons) and papers made from it
    "app": {"scenario", "model", "run", "planning", "library"},  # the app's page code (Streamlit), over every layer but calibration
}
ROOT = SIM.parent


def sim_imports(path: Path) -> set[str]:
    """The `sim` layers a module imports, wherever in the module the import stands."""
    layers = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "sim" and len(parts) > 1 and parts[1] in BENEATH:
                layers.add(parts[1])
    return layers


@pytest.mark.parametrize("layer", sorted(BENEATH))
def test_a_layer_imports_only_the_layers_beneath_it(layer):
    for module in sorted((SIM / layer).glob("*.py")):
        above = sim_imports(module) - BENEATH[layer] - {layer}
        assert not above, f"{module.relative_to(SIM.parent)} imports {sorted(above)}, above its layer {layer!r}"


def test_every_module_lives_in_a_layer():
    loose = sorted(p.name for p in SIM.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "cli.py"], loose


def test_the_app_s_pages_use_the_planning_layer_and_the_public_api_and_its_shell_only_lays_them_out():
    """A page draws what sim/planning computes: it imports sim/planning, the app's shared page code
    (sim/app) and the public API (``from sim import ...``), never the model, the runs or the scenario
    files directly."""
    for page in sorted((ROOT / "app_pages").glob("*.py")):
        beneath = sim_imports(page) - {"app", "planning"}
        assert not beneath, f"{page.relative_to(ROOT)} imports {sorted(beneath)} past sim/planning and the public API"
    assert sim_imports(ROOT / "app.py") == {"app"}, "app.py lays out the pages: it imports sim.app only"
    assert len((ROOT / "app.py").read_text(encoding="utf-8").splitlines()) <= 60
