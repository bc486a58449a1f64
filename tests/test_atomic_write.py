"""Output files appear whole or not at all, and a place that cannot be written is named before a run."""

import ast
import os
from pathlib import Path

import pytest

from sim.scenario import atomic_write
from sim.scenario.files import save_scenario
from sim.scenario.parameter_sets import save_parameter_sets
from sim.scenario.parameters import Scenario

ROOT = Path(__file__).resolve().parents[1]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def test_a_file_is_written_whole_and_no_temporary_file_is_left(tmp_path):
    atomic_write.write_text(tmp_path / "a.json", "{}")
    assert (tmp_path / "a.json").read_text() == "{}"
    assert _leftovers(tmp_path) == []


def test_a_set_of_files_appears_whole_or_not_at_all(tmp_path):
    (tmp_path / "summary.csv").write_text("saved before")

    def fails(path):
        path.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError) as caught:
        atomic_write.write_files({tmp_path / "summary.csv": lambda p: p.write_text("new"),
                                  tmp_path / "replications.csv": fails})
    assert caught.value.filename == str(tmp_path / "replications.csv")
    assert (tmp_path / "summary.csv").read_text() == "saved before"  # not replaced: the set failed
    assert not (tmp_path / "replications.csv").exists()
    assert _leftovers(tmp_path) == []


def test_an_interrupt_while_writing_leaves_nothing_behind(tmp_path):
    def interrupted(path):
        path.write_text("part")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write.write_files({tmp_path / "a.csv": lambda p: p.write_text("a"), tmp_path / "b.csv": interrupted})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_failed_write_to_a_device_names_the_file():
    with pytest.raises(OSError) as caught:
        atomic_write.write_text("/dev/full", "x" * 100_000)
    assert caught.value.filename == "/dev/full" and caught.value.strerror


def test_a_device_is_written_in_place():
    atomic_write.write_text(os.devnull, "results")  # not replaced by a regular file
    assert not Path(os.devnull).is_file()


def test_scenario_and_parameter_sets_are_written_through_a_temporary_name(tmp_path, monkeypatch):
    def no_rename(source, target):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(atomic_write.os, "replace", no_rename)
    with pytest.raises(OSError):
        save_scenario(Scenario(), tmp_path / "s.toml")
    with pytest.raises(OSError):
        save_parameter_sets({"adopters.stage1_days": 90.0}, [], tmp_path / "sets.csv")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path, folder, fragment", [
    ("", False, "an empty path"),
    ("a\0b", False, "NUL"),
    ("missing/results.json", False, "does not exist"),
    (".", False, "is a folder"),
    ("file.txt/results.json", False, "is a file, not a folder"),
    ("file.txt", True, "is a file, not a folder"),
    ("file.txt/out", True, "is a file, so no folder can be made under it"),
    ("x" * 5000, False, "too long"),
])
def test_places_that_cannot_be_written_are_named(tmp_path, monkeypatch, path, folder, fragment):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file.txt").write_text("")
    problem = atomic_write.output_problem(path, "--json", folder=folder)
    assert problem and problem.startswith("--json") and fragment in problem, problem


def test_writable_places_pass(tmp_path):
    assert atomic_write.output_problem(tmp_path / "r.json", "--json") is None
    assert atomic_write.output_problem(tmp_path / "new" / "tables", "--csv", folder=True) is None
    assert atomic_write.output_problem(os.devnull, "--json") is None


WRITES = {"write_text", "write_bytes", "to_csv", "to_excel", "to_json", "to_parquet"}


def _direct_writes(path: Path) -> list[str]:
    """Calls in a module that write a file directly (not inside a lambda handed to the atomic writer)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside_lambda = {id(n) for lam in ast.walk(tree) if isinstance(lam, ast.Lambda) for n in ast.walk(lam.body)}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in inside_lambda:
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "atomic_write":
            continue
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        in_memory = node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in ("writer", "buffer")
        to_file = (node.args and not in_memory) or any(k.arg in ("path_or_buf", "excel_writer") for k in node.keywords)
        mode = [a.value for a in node.args[1:2] if isinstance(a, ast.Constant)] + \
               [k.value.value for k in node.keywords if k.arg == "mode" and isinstance(k.value, ast.Constant)]
        if (name in WRITES and to_file) or (name == "open" and any("w" in str(m) or "a" in str(m) for m in mode)):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    return found


def test_every_output_goes_through_the_atomic_writer():
    modules = [p for p in (ROOT / "sim").rglob("*.py") if p.name != "atomic_write.py"] + [ROOT / "app.py"]
    direct = [w for module in modules for w in _direct_writes(module)]
    assert direct == [], direct


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="needs a user that permissions bind")
def test_a_folder_that_cannot_be_written_is_named(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert "permission denied" in atomic_write.output_problem(locked / "r.json", "--json").lower()
        assert "permission denied" in atomic_write.output_problem(locked / "tables", "--csv", folder=True).lower()
    finally:
        locked.chmod(0o700)


@pytest.mark.skipif(not hasattr(__import__("signal"), "pthread_sigmask"), reason="no signal masks (Windows)")
def test_a_signal_during_the_renames_arrives_after_them(tmp_path, monkeypatch):
    import signal

    renamed = []
    real_replace = os.replace

    def replace_then_signal(source, target):
        real_replace(source, target)
        renamed.append(Path(target).name)
        if len(renamed) == 1:
            signal.raise_signal(signal.SIGINT)  # held back until both are in place

    monkeypatch.setattr(atomic_write.os, "replace", replace_then_signal)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, whatever ran before
    try:
        with pytest.raises(KeyboardInterrupt):
            atomic_write.write_files({tmp_path / "a.csv": lambda p: p.write_text("a"),
                                      tmp_path / "b.csv": lambda p: p.write_text("b")})
    finally:
        signal.signal(signal.SIGINT, previous)
    assert renamed == ["a.csv", "b.csv"] and _leftovers(tmp_path) == []
