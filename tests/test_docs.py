"""The README and the docs site: short, current with the code, built without a warning, and every
code example in them runs.

The reference tables (parameters, KPIs) are generated from the code; a stale one fails here with
the command that regenerates it.  The site is built by MkDocs in strict mode (a broken link or a
page missing from the navigation is an error).  Each ``python`` block of the README and the docs
runs as written, in a fresh namespace, from the project's folder; a block that needs a cluster or
takes minutes is marked ``<!-- not run: why -->`` on the line before it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.model.kpis import kpis_markdown
from sim.scenario.files import load_scenario
from sim.scenario.parameters import parameters_markdown

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
BLOCK = re.compile(r"(<!-- not run: [^>]+-->\n)?```python\n(.*?)```", re.S)


def _between(text: str, marker: str) -> str:
    start = text.index(f"<!-- {marker}:start -->") + len(f"<!-- {marker}:start -->")
    return text[start:text.index(f"<!-- {marker}:end -->")].strip()


def test_parameter_table_is_current():
    text = (DOCS / "reference" / "parameters.md").read_text(encoding="utf-8")
    assert _between(text, "parameters") == parameters_markdown(load_scenario()).strip(), \
        "docs/reference/parameters.md is stale: regenerate it with `python -m sim params --markdown`"


def test_kpi_table_is_current():
    text = (DOCS / "reference" / "kpis.md").read_text(encoding="utf-8")
    assert _between(text, "kpis") == kpis_markdown().strip(), \
        "docs/reference/kpis.md is stale: regenerate it from sim.model.kpis.kpis_markdown()"


def test_readme_is_short_and_gives_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert 'pip install -e . && streamlit run app.py' in text
    assert 'pip install -e ".[test]" && python -m pytest' in text
    assert len(text.splitlines()) <= 160, "the README is the front door: tutorial and reference go in docs/"
    for link in re.findall(r"\]\((docs/[^)#]+)\)", text):
        assert (ROOT / link).is_file(), f"the README links to {link}, which is not there"


def test_every_page_is_in_the_site_s_navigation():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in PAGES:
        assert str(page.relative_to(DOCS)) in nav, f"{page.relative_to(ROOT)} is not in mkdocs.yml's nav"


def test_the_docs_site_builds_without_a_warning(tmp_path):
    if shutil.which("mkdocs") is None and subprocess.run([sys.executable, "-m", "mkdocs", "--version"],
                                                         capture_output=True).returncode != 0:
        pytest.fail("mkdocs is not installed: pip install -e \".[test]\" installs it")
    out = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                         cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert (tmp_path / "site" / "index.html").is_file()


def _examples() -> list[tuple[str, int, str]]:
    found = []
    for path in [README, *PAGES]:
        text = path.read_text(encoding="utf-8")
        for i, match in enumerate(BLOCK.finditer(text)):
            if not match.group(1):
                found.append((str(path.relative_to(ROOT)), i, match.group(2)))
    return found


@pytest.mark.parametrize("where,index,code", _examples(), ids=lambda v: v if isinstance(v, str) and len(v) < 40 else "")
def test_every_code_example_runs(where, index, code, monkeypatch):
    monkeypatch.chdir(ROOT)
    exec(compile(code, f"{where} (example {index + 1})", "exec"), {"__name__": "__docs__"})
