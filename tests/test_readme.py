"""The README's parameter table is the one the code declares."""

from pathlib import Path

from sim.scenario.files import load_scenario
from sim.scenario.parameters import parameters_markdown

README = Path(__file__).resolve().parent.parent / "README.md"


def test_parameter_table_is_current():
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- parameters:start -->") + len("<!-- parameters:start -->")
    end = text.index("<!-- parameters:end -->")
    assert text[start:end].strip() == parameters_markdown(load_scenario()).strip(), \
        "README parameter table is stale: regenerate it with `python -m sim params --markdown`"


def test_readme_gives_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert 'pip install -e . && streamlit run app.py' in text
    assert 'pip install -e ".[test]" && python -m pytest' in text
