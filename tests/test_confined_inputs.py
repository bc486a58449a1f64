"""What a user of the deployed app can make the server read: only what ships and what they gave.

A scenario from the browser may extend a shipped scenario (by name) or a file uploaded in the same
session, and may name only the shipped calibrations' files; every input file the program reads is
a regular file within a size limit.  Each line of the README's threat model has a test here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.calibration.targets import TargetsError, load_targets
from sim.scenario import bounded_read
from sim.scenario.bounded_read import InputFileError, read_input
from sim.scenario.files import BUILT_IN, ScenarioError, load_scenario, scenario_names, shipped_files
from sim.scenario.market_file import MarketError, load_market
from sim.scenario.market_file import _read as _read_market
from sim.scenario.parameter_sets import load_parameter_sets
from sim.scenario.upload import read_scenario_text

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = {BUILT_IN, *scenario_names()}


@pytest.fixture
def no_file_read(monkeypatch):
    """Fail if anything is read from disk through the input reader."""
    def refuse(path, kind):
        raise AssertionError(f"read {path} ({kind})")
    monkeypatch.setattr(bounded_read, "read_input", refuse)
    monkeypatch.setattr(bounded_read, "read_input_text", refuse)
    import sim.scenario.files as files
    monkeypatch.setattr(files, "read_input_text", refuse)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(min_size=1, max_size=80),
                 st.sampled_from([".streamlit/secrets.toml", "/etc/passwd", "../../etc/hostname", "pyproject",
                                  "scenarios/cambridgeshire-2017-18.toml", "/dev/zero", "README.md", "~/.ssh/id_rsa",
                                  "cambridgeshire-2017-18.toml", "./baseline"])))
def test_a_browser_scenario_extends_nothing_but_what_ships(name):
    text = f"extends = {name!r}\n".replace("'", '"') if '"' not in name and "\\" not in name else None
    if text is None or name in SHIPPED:
        return
    try:
        read_scenario_text(text, "upload.toml")
    except ScenarioError as exc:
        message = str(exc)
        assert "upload.toml" in message
        assert "not a shipped scenario or a file uploaded in this session" in message or "TOML" in message \
            or "not valid" in message or "extends" in message
        assert "Traceback" not in message
    else:
        pytest.fail(f"extends = {name!r} was accepted")


def test_a_refused_extends_reads_no_file_and_says_nothing_of_one(no_file_read):
    for name in (".streamlit/secrets.toml", "/etc/passwd", "/nonexistent/x.toml"):
        with pytest.raises(ScenarioError) as caught:
            read_scenario_text(f'extends = "{name}"\n', "paste")
        assert "exists" not in str(caught.value) and "no such" not in str(caught.value)


@pytest.mark.parametrize("field,value", [("parameter_sets", "/dev/zero"), ("parameter_sets", "/etc/passwd"),
                                         ("parameter_sets", "calibration/fits/../../pyproject.toml"),
                                         ("targets_file", ".streamlit/secrets.toml")])
def test_a_browser_scenario_names_only_shipped_calibration_files(field, value):
    text = f'[calibration]\n{field} = "{value}"\n'
    with pytest.raises(ScenarioError, match=f"calibration.{field}.*only a file the project ships"):
        read_scenario_text(text, "paste")


def test_shipped_scenarios_and_session_uploads_are_allowed():
    assert shipped_files("parameter_sets") and shipped_files("targets_file")
    mine = read_scenario_text('extends = "cambridgeshire-peterborough-2022-23"\n[adopters]\nstage1_days = 90.0\n',
                              "mine.toml")
    from sim.scenario.files import to_toml
    again = read_scenario_text('extends = "mine"\n[adopters]\nstage2_days = 120.0\n', "again.toml",
                               uploads={"mine": to_toml(mine)})
    assert again.adopters.stage1_days == 90.0 and again.adopters.stage2_days == 120.0
    assert again.calibration.parameter_sets in shipped_files("parameter_sets")


@pytest.mark.parametrize("kind", sorted(bounded_read.LIMITS))
def test_devices_pipes_and_folders_are_refused_before_reading(tmp_path, kind):
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    for path, what in (("/dev/zero", "a device"), (pipe, "a named pipe"), (tmp_path, "a folder")):
        with pytest.raises(InputFileError, match=f"not a regular file \\({what}\\)"):
            read_input(path, kind)


def test_an_input_over_its_limit_is_refused(tmp_path):
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (bounded_read.LIMITS["parameter sets file"] + 1))
    with pytest.raises(InputFileError, match="too large for a parameter sets file"):
        read_input(big, "parameter sets file")


def test_every_kind_of_input_file_goes_through_the_bounded_reader(tmp_path):
    """Scenario, targets, parameter sets and market files: /dev/zero and a pipe refused with a message."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    for path in ("/dev/zero", str(pipe)):
        with pytest.raises(ScenarioError, match="not a regular file"):
            load_scenario(path) if Path(path).suffix == ".toml" else _scenario_from(path)
        with pytest.raises(TargetsError, match="not a regular file"):
            load_targets(path)
        with pytest.raises(ScenarioError, match="not a regular file"):
            load_parameter_sets(path)
        with pytest.raises(MarketError, match="not a regular file"):
            _read_market(Path(path))
        with pytest.raises(MarketError, match="no such market file"):  # not even looked for as a market
            load_market(path)


def _scenario_from(path: str):
    from sim.scenario.files import _read_with_parents
    return _read_with_parents(Path(path), [])
