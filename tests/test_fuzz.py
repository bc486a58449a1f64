"""Property-based fuzzing of what users type: scenario files (on disk, pasted, uploaded), targets
files, parameter-sets CSVs and the command line's arguments, and random valid scenarios run
through the model.

Every bad input must end in a valid :class:`Scenario` (or targets set, or parameter sets) or in
the module's own error, whose message names the file, within a time bound; never any other
exception and never a hang; bad arguments to ``python -m sim run`` end in exit status 2 and one
line on standard error before anything runs.  Each valid scenario must keep the model's invariants.

The example counts are small so that the whole file takes well under a minute; raise them for
a long run by hand, with the outcomes counted::

    FUZZ_EXAMPLES=2000 FUZZ_RUN_EXAMPLES=100 FUZZ_COUNTS=counts.json \\
        python -m pytest -q -p no:randomly tests/test_fuzz.py --hypothesis-show-statistics

(``FUZZ_COUNTS`` names a JSON file to write the outcomes to: valid or refused, and why, by test.)
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import json
import math
import os
import signal
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sim.calibration import fit as cal
from sim.calibration.targets import TargetsError, load_targets
from sim.model.census import CHILD, HOUSEHOLD, STATES
from sim.model.kpis import COUNT, KPI_BY_NAME, KPI_NAMES, STOCK
from sim.model.pipeline import run_replication
from sim.model.tally import YEAR_DAYS
from sim.scenario.changes import CHANGEABLE_SECTIONS
from sim.scenario.files import (
    BUILT_IN_FILE,
    SCENARIO_DIR,
    ScenarioError,
    load_scenario,
    parse_scenario,
    to_toml,
)
from sim.scenario.parameter_sets import ParameterSetsError, load_parameter_sets, with_parameters
from sim.scenario.parameters import PARAMETER_SECTIONS, SECTIONS, Scenario, parameter_table
from sim.scenario.upload import read_scenario_text
from tests.test_conservation import _replay

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
RUN_EXAMPLES = int(os.environ.get("FUZZ_RUN_EXAMPLES", "20"))
#: Longer than this for one input is a hang (loading takes milliseconds, a small run a second).
HANG_SECONDS = 30
#: Longest message a person is expected to read.
MAX_MESSAGE = 20_000

INPUT_SETTINGS = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=5),
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
RUN_SETTINGS = settings(max_examples=RUN_EXAMPLES, deadline=timedelta(seconds=30),
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class Hang(Exception):
    """An input took longer than :data:`HANG_SECONDS`."""


@contextlib.contextmanager
def time_limit(seconds: float = HANG_SECONDS):
    """Turn a hang into a failure (Hypothesis's deadline only measures calls that return).  Where
    there is no alarm signal (Windows) or not in the main thread, the deadline alone applies."""
    if not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


REFUSALS = ("not valid TOML", "nested", "too large", "sets nothing", "the file is empty", "cannot read",
            "cannot be read", "not UTF-8", "not a text file", "circle", "a chain of more than", "no such scenario",
            "unknown section", "unknown field", "must be a table", "finite number", "add up to", "probabilities",
            "top level", "[agency]", "gives the", "unmodelled", "target ", "not a parameter",
            "not a numeric model parameter", "values for", "out of range", "is not a number", "parameter sets",
            "change ", "trend ", "field '")
COUNTS: dict[str, dict[str, int]] = {}


def _outcome(test: str, message: str | None) -> None:
    """Count what happened (``--hypothesis-show-statistics``, and ``FUZZ_COUNTS``)."""
    outcome = "valid" if message is None else "refused: " + next((r for r in REFUSALS if r in message), "other")
    event(outcome)
    counts = COUNTS.setdefault(test, {})
    for key in ("cases", outcome, *(("refused",) if message is not None else ())):
        counts[key] = counts.get(key, 0) + 1
    if message is not None:  # one message of each kind, to read
        counts.setdefault("examples", {}).setdefault(outcome, message[:300])


@pytest.fixture(scope="module", autouse=True)
def _write_counts():
    yield
    if os.environ.get("FUZZ_COUNTS"):
        Path(os.environ["FUZZ_COUNTS"]).write_text(json.dumps(COUNTS, indent=1, sort_keys=True), encoding="utf-8")


# --- values a user might type ----------------------------------------------------------------

SPECIAL_NUMBERS = [math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, 0.0, -0.0, -1.0, 1e-300, 2**63, 2**63 - 1,
                   2**64, -(2**63), 10**400, 0, 1, 12, 2100, 1999, 10000, 10001]
scalars = st.one_of(
    st.sampled_from(SPECIAL_NUMBERS),
    st.integers(),
    st.floats(),
    st.floats(min_value=-2, max_value=2),
    st.text(max_size=30),
    st.sampled_from(["", "yes", "baseline", "nan", "1e3", "a" * 3000, "adopters.stage1_days"]),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)
probability_lists = st.lists(st.one_of(st.floats(min_value=0, max_value=1), st.sampled_from(SPECIAL_NUMBERS)),
                             max_size=6)
names = st.one_of(st.text(max_size=20), st.sampled_from(["extends", "scenario", "calibration", "fitted", "change"]))
SECTION_NAMES = list(SECTIONS)
NUMERIC_ROWS = [r for r in parameter_table() if r["section"] != "scenario" and r["min"] is not None]
FIELDS = {section: list(cls.model_fields) for section, cls in SECTIONS.items()}


def _valid_bases() -> list[dict]:
    return [
        {"adopters": {"enquiries_per_month": 30.0}},
        Scenario().model_dump(exclude_none=True),
        load_scenario(BUILT_IN_FILE).model_dump(exclude_none=True),
        {"extends": "baseline", "adopters": {"enquiries_per_month": 30.0}},
        {"extends": BUILT_IN_FILE, "scenario": {"name": "what if"},
         "children": {"sibling_group_probs": [0.5, 0.3, 0.2]}},
    ]


BASES = _valid_bases()


def mutate(data, scenario: dict, extends_options: list[str]) -> None:
    """One change to scenario data: a wrong value, an unknown name, a section that is not a
    table, a broken ``extends``, many unknown keys, probabilities that are not."""
    draw = data.draw
    kind = draw(st.sampled_from(["good", "good", "value", "value", "unknown", "section", "delete", "extends", "many",
                                 "probabilities", "calibration", "change", "change", "trend", "trend"]))
    if kind == "good":  # a value in range, as a user changing a lever would type
        row = draw(st.sampled_from(NUMERIC_ROWS))
        if not isinstance(scenario.get(row["section"]), dict):
            scenario[row["section"]] = {}
        scenario[row["section"]][row["name"]] = draw(_number(row))
    elif kind in ("value", "unknown"):
        section = draw(st.sampled_from(SECTION_NAMES))
        name = draw(st.sampled_from(FIELDS[section])) if kind == "value" else draw(names)
        if not isinstance(scenario.get(section), dict):
            scenario[section] = {}
        scenario[section][name] = draw(values)
    elif kind == "section":
        scenario[draw(st.one_of(st.sampled_from(SECTION_NAMES), names))] = draw(values)
    elif kind == "delete" and scenario:
        scenario.pop(draw(st.sampled_from(sorted(scenario))))
    elif kind == "extends":
        scenario["extends"] = draw(st.one_of(st.sampled_from(extends_options), scalars))
    elif kind == "many":
        scenario[draw(st.sampled_from(SECTION_NAMES))] = {f"k{i}": i for i in range(draw(st.integers(1, 3000)))}
    elif kind == "probabilities":
        if not isinstance(scenario.get("children"), dict):
            scenario["children"] = {}
        scenario["children"][draw(st.sampled_from(["sibling_group_probs", "age_band_probs"]))] = draw(probability_lists)
    elif kind == "calibration":
        scenario["calibration"] = draw(st.dictionaries(st.sampled_from(FIELDS["calibration"] + ["x"]), values,
                                                       max_size=3))
    elif kind in ("change", "trend"):
        entry = draw(change_entries() if kind == "change" else trend_entries())
        if draw(st.integers(0, 9)) == 0:  # now and then, the wrong shape altogether
            scenario[kind] = draw(values)
        elif isinstance(scenario.get(kind), list):
            scenario[kind].append(entry)
        else:
            scenario[kind] = [entry]


CHANGEABLE = [r for r in NUMERIC_ROWS if r["section"] in CHANGEABLE_SECTIONS]
dates = st.one_of(st.sampled_from(["2023-24", "2024-04", "2025-26", "2022-23", "2021-04", "2099-12", "2100-01",
                                   "1999-04", "2023-13", "2023-00", "0000-01", "9999-99", "2008-09", "", "2024"]),
                  st.text(max_size=8))
parameters = st.one_of(st.sampled_from([f"{r['section']}.{r['name']}" for r in CHANGEABLE]),
                       st.sampled_from(["children.sibling_group_probs", "matching.split_sibling_groups",
                                        "scenario.years", "initial_state.adopters_waiting", "adopters.nope", "x"]),
                       st.text(max_size=12))
amounts = st.one_of(st.floats(min_value=-100, max_value=100), st.sampled_from(SPECIAL_NUMBERS), values)


@st.composite
def change_entries(draw) -> dict:
    """A [[change]]: mostly well formed (a parameter, a start, one of value, percent or add),
    sometimes with a wrong field, a second kind, a bad date or a value out of range."""
    entry = {"parameter": draw(parameters), "start": draw(dates)}
    for name in draw(st.lists(st.sampled_from(["value", "percent", "add"]), min_size=1, max_size=2, unique=True)):
        entry[name] = draw(amounts)
    for name, strategy in (("end", dates), ("ramp_months", st.one_of(st.integers(-2, 700), values)),
                           ("change_unit", st.sampled_from(["percent", "points", "x"])), ("note", values),
                           ("x", values)):
        if draw(st.integers(0, 4)) == 0:
            entry[name] = draw(strategy)
    return entry


@st.composite
def trend_entries(draw) -> dict:
    """A [[trend]]: percent_per_year (with anchor, start, until) or by_year, sometimes both or wrong."""
    entry = {"parameter": draw(parameters)}
    if draw(st.booleans()):
        entry["percent_per_year"] = draw(st.one_of(st.floats(min_value=-95, max_value=600), amounts))
        for name in ("anchor", "start", "until"):
            if draw(st.integers(0, 3)) == 0:
                entry[name] = draw(dates)
    if draw(st.booleans()) or "percent_per_year" not in entry:
        entry["by_year"] = draw(st.dictionaries(dates, amounts, max_size=4))
    return entry


def mutate_text(data, content: bytes) -> bytes:
    """One change to the text (as bytes): a byte order mark, random bytes, a cut, a repeated line,
    deep nesting, a number of thousands of digits, everything commented out."""
    draw = data.draw
    kind = draw(st.sampled_from(["bom", "bytes", "cut", "repeat", "deep", "digits", "comment"]))
    at = draw(st.integers(0, len(content)))
    if kind == "bom":
        return b"\xef\xbb\xbf" + content
    if kind == "bytes":
        return content[:at] + draw(st.binary(min_size=1, max_size=8)) + content[at:]
    if kind == "cut":
        return content[:at]
    if kind == "repeat":
        lines = content.splitlines(keepends=True) or [b""]
        i = draw(st.integers(0, len(lines) - 1))
        return b"".join(lines[:i + 1] + lines[i:])
    if kind == "deep":
        n = draw(st.integers(5, 700))
        nested = "[" * n + "]" * n if draw(st.booleans()) else "{a = " * n + "1" + "}" * n
        section = draw(st.sampled_from(["", "[adopters]\n", "[calibration]\n"]))
        return content + f"\n{section}zz = {nested}\n".encode()
    if kind == "digits":
        return content + f"\n[scenario]\nseed = {'7' * draw(st.integers(20, 6000))}\n".encode()
    return b"# only a comment\n" if draw(st.booleans()) else b"\n".join(b"# " + line for line in content.splitlines())


@contextlib.contextmanager
def fuzz_folder():
    """A folder of scenario files an ``extends`` may name: a valid parent, two files extending
    each other, one that extends itself through a growing path, and a sub-folder."""
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        folder = Path(tmp)
        (folder / "sub").mkdir()
        (folder / "parent.toml").write_text("extends = 'baseline'\n[adopters]\nstage1_days = 90.0\n")
        (folder / "sub" / "child.toml").write_text("extends = '../parent'\n[adopters]\nstage2_days = 100.0\n")
        (folder / "loop-a.toml").write_text("extends = 'loop-b'\n")
        (folder / "loop-b.toml").write_text("extends = 'loop-a'\n")
        (folder / "grow.toml").write_text("extends = 'sub/../grow.toml'\n")
        yield folder


def _extends_options(folder: Path) -> list[str]:
    return ["baseline", BUILT_IN_FILE, "rotherham-2017-18", "no-such-scenario", "parent", "sub/child", "sub/../parent",
            "loop-a", "grow", "fuzz-case", "sub/../fuzz-case", str(folder / "parent.toml"), str(folder / "loop-a"),
            str(folder), "/dev/null", "", ".", "..", "a\x00b", "x" * 5000, str(SCENARIO_DIR)]


def _check_scenario_input(test: str, route: str, content: bytes, folder: Path) -> None:
    """Load ``content`` by ``route``; it must give a valid scenario or a ScenarioError naming it."""
    source = {"file": "fuzz-case.toml", "text": "fuzz-pasted", "upload": "fuzz-upload.toml"}[route]
    try:
        with time_limit():
            if route == "file":
                path = folder / source
                path.write_bytes(content)
                result = load_scenario(path)
            elif route == "text":
                result = parse_scenario(content.decode("utf-8", errors="replace"), source)
            else:
                result = read_scenario_text(content, source)
    except ScenarioError as exc:
        message = str(exc)
        assert source in message or str(folder) in message, message[:500]
        assert len(message) <= MAX_MESSAGE, len(message)
        _outcome(test, message)
        return
    assert isinstance(result, Scenario)
    assert Scenario.model_validate(result.model_dump()) == result
    _outcome(test, None)


@INPUT_SETTINGS
@given(base=st.sampled_from(BASES), data=st.data(), route=st.sampled_from(["file", "text", "upload"]))
def test_bad_scenario_files_are_refused_clearly(base, data, route):
    with fuzz_folder() as folder:
        scenario = copy.deepcopy(base)  # the bases are shared by every example
        for _ in range(data.draw(st.integers(0, 4))):
            mutate(data, scenario, _extends_options(folder))
        try:
            content = tomli_w.dumps(scenario).encode("utf-8")
        except (ValueError, TypeError):  # a value TOML cannot hold (tomli_w refuses it): try the base
            content = tomli_w.dumps(base).encode("utf-8")
        for _ in range(data.draw(st.integers(0, 2))):
            content = mutate_text(data, content)
        _check_scenario_input("scenario files", route, content, folder)


@INPUT_SETTINGS
@given(content=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(str.encode)),
       route=st.sampled_from(["file", "text", "upload"]))
def test_random_bytes_are_refused_clearly(content, route):
    with fuzz_folder() as folder:
        _check_scenario_input("random bytes", route, content, folder)


# --- targets files ---------------------------------------------------------------------------

REPORT = "001_ef741affdb884314.txt"
AGENCY = {"name": "Fuzz agency", "financial_year": "2022-23", "start_year": 2022, "report": REPORT,
          "timing_only": False}
DIRECT = ["enquiries", "registrations", "placement_orders", "plans_declined", "plans_for_adoption",
          "interagency_placements_vaa", "interagency_placements_la", "interagency_placements", "a20_days", "a1_days",
          "a2_days", "non_ep_care_to_order_days", "adopters_waiting", "households_stage1", "children_with_plan"]


@st.composite
def target_entries(draw):
    figure = draw(st.one_of(st.sampled_from(DIRECT), st.sampled_from(KPI_NAMES)))
    kpi = KPI_BY_NAME[figure]
    value = draw(st.one_of(st.floats(min_value=0, max_value=100 if kpi.kind == "percent" else 1e5),
                           st.sampled_from([0.0, 1.0, 3.0, 12.0, 6000.0, 20000.0, 50000.0, 99999.0])))
    entry = {"figure": figure, "value": value, "kind": kpi.kind, "source": f"{REPORT} §1",
             "sd": draw(st.floats(min_value=0.001, max_value=1e5)), "use": True}
    if draw(st.integers(0, 2)) == 0:  # a figure for an earlier year (or a year that is not one)
        entry["year"] = draw(st.one_of(st.sampled_from(["2021-22", "2020-21", "2019-20", "2018-19", "1999-00",
                                                        "2001-02", "2022-23", "202²-23", "2021-2"]),
                                       st.text(max_size=8)))
    return entry


def mutate_targets(data, targets: dict) -> None:
    """One change to a targets file: a wrong value in [agency] or an entry, an unknown or missing
    field, a top-level key of the wrong kind, an unmodelled figure."""
    draw = data.draw
    kind = draw(st.sampled_from(["agency", "target", "target", "unknown", "top", "delete", "unmodelled", "year",
                                 "inputs", "inputs"]))
    entries = [e for e in targets["target"] if isinstance(e, dict)] if isinstance(targets.get("target"), list) else []
    if kind == "agency" and isinstance(targets.get("agency"), dict):
        targets["agency"][draw(st.sampled_from([*sorted(AGENCY), "note", "x"]))] = draw(values)
    elif kind == "target" and entries:
        entry = draw(st.sampled_from(entries))
        entry[draw(st.sampled_from(["figure", "value", "kind", "source", "sd", "use", "note"]))] = draw(values)
    elif kind == "unknown" and entries:
        draw(st.sampled_from(entries))[draw(names)] = draw(values)
    elif kind == "top":
        targets[draw(st.sampled_from(["agency", "target", "unmodelled", "x"]))] = draw(values)
    elif kind == "delete" and entries:
        entry = draw(st.sampled_from(entries))
        if entry:
            entry.pop(draw(st.sampled_from(sorted(entry))))
    elif kind == "unmodelled":
        targets["unmodelled"] = [{"description": "x", "value": draw(values), "source": f"{REPORT} §2", "note": "n"}]
    elif kind == "inputs":  # known inputs: a parameter and a value, in range or not
        row = draw(st.sampled_from(NUMERIC_ROWS))
        key = draw(st.one_of(st.just(f"{row['section']}.{row['name']}"), names))
        targets.setdefault("inputs", {})
        if isinstance(targets["inputs"], dict):
            targets["inputs"][key] = draw(st.one_of(_number(row), amounts))
    elif kind == "year" and isinstance(targets.get("agency"), dict):  # another report year, near the limits
        year = draw(st.one_of(st.integers(1998, 2004), st.integers(2097, 2101)))
        targets["agency"].update(start_year=year, financial_year=f"{year}-{(year + 1) % 100:02d}")


@INPUT_SETTINGS
@given(data=st.data())
def test_bad_targets_files_are_refused_clearly(data):
    targets = {"agency": dict(AGENCY), "target": []}
    seen = set()
    for entry in data.draw(st.lists(target_entries(), min_size=1, max_size=8)):
        if entry["figure"] not in seen:  # one used entry per figure, as a valid file has
            seen.add(entry["figure"])
            targets["target"].append(entry)
    for _ in range(data.draw(st.integers(0, 3))):
        mutate_targets(data, targets)
    try:
        content = tomli_w.dumps(targets).encode("utf-8")
    except (ValueError, TypeError):
        content = tomli_w.dumps({"agency": AGENCY, "target": []}).encode("utf-8")
    for _ in range(data.draw(st.integers(0, 2))):
        content = mutate_text(data, content)
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        path = Path(tmp) / "fuzz-targets.toml"
        path.write_bytes(content)
        try:
            with time_limit():
                ts = load_targets(path)  # then what the calibration does before its first simulation
                plan = cal.plan_agency(ts)
                cal.select_parameters(ts, [*ts.inputs, *(e.key for e in plan.estimates)])
                cal.columns(ts)
                assert isinstance(cal.fit_window(plan.start, cal.years_before(ts)), Scenario)
        except (TargetsError, cal.CalibrationError) as exc:
            message = str(exc)
            assert "fuzz-targets.toml" in message, message[:500]
            assert len(message) <= MAX_MESSAGE
            _outcome("targets files", message)
            return
        _outcome("targets files", None)


# --- parameter-sets CSVs ---------------------------------------------------------------------

NUMERIC = [f"{r['section']}.{r['name']}" for r in parameter_table()
           if r["section"] != "scenario" and isinstance(r["default"], (int, float))
           and not isinstance(r["default"], bool)]
RANGES = {f"{r['section']}.{r['name']}": (r["min"], r["max"]) for r in parameter_table()}


def in_range(column: str):
    lo, hi = RANGES.get(column, (0, 1))
    lo, hi = (0.0, 1.0) if lo is None else (float(lo), float(hi))
    return st.floats(min_value=lo, max_value=hi).map(repr)


def cells(column: str):
    return st.one_of(in_range(column), st.sampled_from(SPECIAL_NUMBERS).map(str), st.text(max_size=6), st.just(""))


@INPUT_SETTINGS
@given(data=st.data())
def test_bad_parameter_sets_are_refused_clearly(data):
    good = data.draw(st.booleans())  # a file as the calibration writes it, or anything
    bad_columns = ["children.sibling_group_probs", "matching.split_sibling_groups", "scenario.seed",
                   "initial_state.adopters_waiting", "trend.scenario.seed", "x", ""]
    column_names = st.sampled_from(NUMERIC)
    if not good:
        column_names = st.one_of(column_names, st.sampled_from(bad_columns))
    columns = data.draw(st.lists(column_names, min_size=1, max_size=5, unique=True))
    header = ["set", *columns]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for i in range(data.draw(st.integers(2 if good else 0, 4))):
        writer.writerow(["fit" if i == 0 else i, *(data.draw(in_range(c) if good else cells(c)) for c in columns)])
    content = out.getvalue().encode("utf-8")
    for _ in range(data.draw(st.integers(0, 1))):
        content = mutate_text(data, content)
    with tempfile.TemporaryDirectory(prefix="fuzz-") as tmp:
        path = Path(tmp) / "fuzz-sets.csv"
        path.write_bytes(content)
        try:
            with time_limit():
                sets = load_parameter_sets(path)
        except ParameterSetsError as exc:
            assert "fuzz-sets.csv" in str(exc)
            _outcome("parameter sets", str(exc))
            return
        for draw in sets.draws:  # what a replication will run: always a valid scenario
            assert isinstance(with_parameters(Scenario(), draw), Scenario)
        _outcome("parameter sets", None)


# --- random valid scenarios keep the model's invariants --------------------------------------

#: Upper limits that keep a run short (the model's ranges go far beyond any agency).
RUN_CAPS = {"adopters.enquiries_per_month": 60.0, "children.entering_per_year": 150.0}


def _number(row: dict):
    key = f"{row['section']}.{row['name']}"
    if row["section"] == "initial_state":  # a stock, or none given (its steady level); the opening year: year 1
        if row["min"] is None:
            return st.none()
        return st.one_of(st.none(), st.integers(row["min"], min(row["max"], 30)))
    hi = min(row["max"], RUN_CAPS.get(key, row["max"]))
    if isinstance(row["default"], int):
        return st.integers(row["min"], hi)
    return st.floats(min_value=row["min"], max_value=hi, allow_nan=False)


def _normalised(p: list[float]) -> list[float]:
    p = p if sum(p) > 0 else [1.0, *p[1:]]
    return [x / sum(p) for x in p]


def _probabilities(n: int):
    return st.lists(st.floats(min_value=0, max_value=1), min_size=n, max_size=n).map(_normalised)


@st.composite
def valid_scenarios(draw) -> Scenario:
    data: dict = {section: {} for section in PARAMETER_SECTIONS}
    for row in parameter_table():
        if row["section"] == "scenario":
            continue
        default = row["default"]
        if isinstance(default, bool):
            value = draw(st.booleans())
        elif isinstance(default, list):
            value = draw(_probabilities(len(default)))
        else:
            value = draw(_number(row))
        data[row["section"]][row["name"]] = value
    start_year = draw(st.integers(2000, 2099))
    data["scenario"] = {"years": draw(st.integers(1, 2)), "replications": 2, "warm_up_years": 1,
                        "seed": draw(st.integers(0, 2**63 - 1)), "start_year": start_year}
    if draw(st.booleans()):  # a dated change in year 2, and a trend in the baseline
        row = draw(st.sampled_from(CHANGEABLE))
        data["change"] = [{"parameter": f"{row['section']}.{row['name']}", "value": draw(_number(row)),
                           "start": f"{start_year + 1}-{(start_year + 2) % 100:02d}",
                           "ramp_months": draw(st.integers(0, 6))}]
        row = draw(st.sampled_from(CHANGEABLE))
        data["trend"] = [{"parameter": f"{row['section']}.{row['name']}",
                          "percent_per_year": draw(st.floats(min_value=-20, max_value=50))}]
    try:
        return parse_scenario(to_toml(Scenario.model_validate(data)), "generated")  # through the file format
    except (ScenarioError, ValidationError):  # a trend taking its parameter out of range
        assume(False)


@RUN_SETTINGS
@given(scenario=valid_scenarios())
def test_random_valid_scenarios_keep_the_invariants(scenario):
    for replication in range(scenario.scenario.replications):
        with time_limit():
            r = run_replication(scenario, replication, event_log=True)
        for (kind, state), n in r.census.items():
            assert n >= 0, f"negative count in {kind}/{state}"
            assert state in STATES[kind]
        for kind in (HOUSEHOLD, CHILD):  # every entity in exactly one state
            assert sum(n for (k, _), n in r.census.items() if k == kind) == r.entered.get(kind, 0)
        _replay([e for e in r.log if e[2] != -1])  # each change starts where the entity was
        for name in KPI_NAMES:
            if KPI_BY_NAME[name].kind in (STOCK, COUNT) and name != "adopter_gap":
                if KPI_BY_NAME[name].unit == "%":  # a share of the children waiting: none when none wait
                    assert all(0 <= v <= 100 for v in r.kpis[name] if v == v), (name, r.kpis[name])
                elif KPI_BY_NAME[name].unit == "days":  # how long those waiting have waited: none when none wait
                    assert all(v >= 0 for v in r.kpis[name] if v == v), (name, r.kpis[name])
                else:
                    assert all(v >= 0 for v in r.kpis[name]), (name, r.kpis[name])
        # adoption orders never outnumber placements: over the whole run (initial stock included,
        # as children entering "placed"), and over the reported years with the stock placed then
        children = [e for e in r.log if e[1] == CHILD]
        assert sum(e[3] for e in children if e[5] == "adopted") <= sum(e[3] for e in children if e[5] == "placed")
        t0 = scenario.scenario.warm_up_years * YEAR_DAYS
        where = _replay([e for e in children if e[0] < t0])
        sizes = {(e[1], e[2]): e[3] for e in children}
        placed_at_start = sum(sizes[key] for key, state in where.items() if state in ("placed", "ep_placed"))
        assert sum(r.kpis["adoption_orders"]) <= sum(r.kpis["placements"]) + placed_at_start
    _outcome("valid runs", None)


# --- command-line arguments ------------------------------------------------------------------

def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


def _not_a_scheduler(text: str) -> bool:
    from sim.run.dask_engine import scheduler_problem

    return scheduler_problem(text) is not None


NUMBER_OPTIONS = ["--years", "--reps", "--seed", "--workers"]
#: Options that are fine on their own; the bad ones come after them (argparse keeps the last of each).
GOOD_OPTIONS = [["--years", "1"], ["--reps", "2"], ["--seed", "3"], ["--workers", "1"], ["--engine", "serial"],
                ["--kpis", "approvals,a2_days"], ["--kpis", "all"]]
HUGE = st.integers(min_value=10**5, max_value=10**40).map(str)
BAD_FILES = ["", "\0", "a\0b.json", "no-such-folder/x.json", ".", "README.md/x", "x" * 5000, "scenarios"]
BAD_FOLDERS = ["", "\0", "README.md", "README.md/tables", "x" * 5000 + "/tables"]
bad_options = st.one_of(
    st.tuples(st.sampled_from(NUMBER_OPTIONS), st.one_of(
        st.sampled_from(["", " ", "abc", "1.5", "1e3", "nan", "inf", "0x10", "--", "-x", "-1", "+-1"]),
        st.text(max_size=30).filter(lambda t: not _is_int(t)))).map(list),
    st.tuples(st.sampled_from(["--years", "--reps", "--workers"]), st.integers(max_value=0).map(str)).map(list),
    st.tuples(st.sampled_from(["--years", "--reps", "--workers"]), HUGE).map(list),
    st.integers(max_value=-1).map(lambda n: ["--seed", str(n)]),
    st.integers(min_value=2**63).map(lambda n: ["--seed", str(n)]),
    st.sampled_from(BAD_FILES).map(lambda path: ["--json", path]),
    st.sampled_from(BAD_FOLDERS).map(lambda path: ["--csv", path]),
    st.text(max_size=40).filter(_not_a_scheduler).map(lambda t: ["--engine", "dask", "--scheduler", t]),
    st.text(max_size=20).filter(lambda t: t not in ("serial", "processes", "dask")).map(lambda t: ["--engine", t]),
    st.sampled_from([["--kpis", ","], ["--kpis", "nope"], ["--kpis", ",,a2"], ["--bogus"], ["--replications", "5"],
                     ["-x"], ["no-such-scenario"], ["\0"], ["x" * 300], ["--event-log"], ["--reps"], ["--years"]]),
)


@INPUT_SETTINGS
@given(good=st.lists(st.sampled_from(GOOD_OPTIONS), max_size=3), bad=st.lists(bad_options, min_size=1, max_size=3))
def test_bad_command_line_arguments_are_refused_in_one_line(good, bad):
    """Bad numbers, empty strings, huge values and odd paths for ``run``: exit status 2 and one line on
    standard error, never a traceback, and before anything runs."""
    import sim.cli

    if any(b[0] == "--event-log" for b in bad) and any("--csv" in b for b in bad):
        bad = [b for b in bad if b[0] != "--event-log"] or [["--bogus"]]
    argv = ["run", *(a for option in good for a in option), *(a for option in bad for a in option)]
    err = io.StringIO()
    original = sim.cli.run_scenario

    def no_run(*args, **kwargs):
        raise AssertionError(f"the run started: {argv!r}")

    sim.cli.run_scenario = no_run
    try:
        with time_limit(10), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()) as out:
            try:
                status = sim.cli.main(argv)
            except SystemExit as exit_:  # argparse's refusals
                status = exit_.code
    finally:
        sim.cli.run_scenario = original
    message = err.getvalue()
    assert status == 2, (argv, status, message)
    assert message.startswith("error: ") and message.count("\n") == 1, (argv, message)
    assert "Traceback" not in message and out.getvalue() == "", (argv, message)
    _outcome("command line", message)
