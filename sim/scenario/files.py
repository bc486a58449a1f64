"""Scenario files: TOML in ``scenarios/``, validated on load, saved without overwriting.

A file sets any parameters it wants; the rest keep their defaults, the values taken from the
reports before any fitting (``sim.scenario.parameters``).  A file may start from another scenario with a
top-level ``extends = "NAME"`` (a file name in the same folder or in ``scenarios/``, without
``.toml``; a path with a folder, such as ``helpers/x``, is relative to the file; "baseline" is the
built-in baseline) and change only what differs: this is how the worked what-ifs are written, on
the calibrated baseline.  A chain of ``extends`` is at most :data:`MAX_EXTENDS` files long.  A
parameter a file changes is no longer its parent's fitted value, so its record in
``[calibration] fitted`` is dropped.

The built-in baseline (``python -m sim run`` with no scenario, and the app's starting point) is
the calibrated Cambridgeshire & Peterborough 2022/23 scenario, ``scenarios/BUILT_IN_FILE.toml``.

Every problem becomes a :class:`ScenarioError` naming the file, the field and what is
allowed, never a traceback: text that is not UTF-8 or not TOML, a file that sets nothing,
tables or arrays nested deeper than any scenario needs, NaN or infinite numbers.  A leading
byte order mark (as some editors write) is accepted, in files and in pasted or uploaded text
alike.  A message lists at most :data:`MAX_PROBLEMS` problems.
"""

from __future__ import annotations

import difflib
import functools
import tomllib
from pathlib import Path
from typing import Any

import tomli_w
from pydantic import ValidationError

from sim.scenario import atomic_write
from sim.scenario.bounded_read import InputFileError, read_input_text
from sim.scenario.changes import Change, Trend
from sim.scenario.messages import cut as _short_text
from sim.scenario.messages import cut_path
from sim.scenario.messages import short_repr as _short
from sim.scenario.parameters import DATED, PARAMETER_SECTIONS, SECTIONS, Scenario, field_info, without_fitted

SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"
BUILT_IN = "baseline"
#: The scenario file the built-in baseline stands for: the calibrated agency whose report is the newest.
BUILT_IN_FILE = "cambridgeshire-peterborough-2022-23"
#: Longest chain of ``extends`` (a file, its parent, its parent's parent ...).
MAX_EXTENDS = 20
#: Deepest nesting of tables and arrays accepted (a scenario needs 3: ``[calibration] fitted``).
MAX_DEPTH = 10
#: Largest scenario file or text accepted (a complete calibrated scenario is about 11 kB).
MAX_BYTES = 200_000
#: Problems listed in one message; the rest are counted.
MAX_PROBLEMS = 10


class ScenarioError(ValueError):
    """A scenario file or setting that cannot be used, with a message for the user."""


def scenario_names(folder: Path = SCENARIO_DIR) -> list[str]:
    """Names of the scenario files shipped in ``scenarios/``."""
    return sorted(p.stem for p in folder.glob("*.toml"))


def resolve(name_or_path: str | Path, near: Path | None = None) -> Path:
    """Find a scenario file from a path or a name in ``scenarios/``.

    "baseline" is the built-in baseline's file.  With ``near`` (the folder of a file whose
    ``extends`` names this one) a relative name is looked for there first, folders and all
    (``helpers/x`` is ``near/helpers/x.toml``), and the file found is given as an absolute
    path with ``..`` and links resolved, so that a chain of ``extends`` returning to a file
    is recognised however the path to it is written.
    """
    if str(name_or_path) == BUILT_IN:
        path = SCENARIO_DIR / f"{BUILT_IN_FILE}.toml"
        if not _is_file(path):
            raise ScenarioError(f"{path}: the built-in baseline's file is missing; restore it from the repository "
                                "(git checkout scenarios/)")
        return path
    candidate = Path(name_or_path)
    options = [candidate]
    if near is not None and not candidate.is_absolute():
        options.insert(0, near / candidate)  # named relative to the file that extends it
    if candidate.suffix != ".toml":
        named = Path(f"{candidate}.toml")
        options += [d / named for d in ([near] if near else []) + [SCENARIO_DIR]]
    for option in options:
        if _is_file(option):
            return option.resolve() if near is not None else option
    known = ", ".join(scenario_names()) or "none"
    raise ScenarioError(f"{cut_path(str(name_or_path))}: no such scenario file (scenarios available: {known}; "
                        f"or '{BUILT_IN}', the built-in baseline)")


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a regular file (a name too long for the system, or with a NUL, is not)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def load_scenario(name_or_path: str | Path | None = None) -> Scenario:
    """Load and validate a scenario; ``None`` or "baseline" gives the built-in baseline."""
    if name_or_path is None or str(name_or_path) == BUILT_IN:
        return built_in_baseline().model_copy(deep=True)
    path = resolve(name_or_path)
    return scenario_from_dict(_read_with_parents(path, []), str(path))


def built_in_baseline() -> Scenario:
    """The built-in baseline (read once, and again only if its file changes).

    Callers must not change the object returned; they copy it (``model_dump`` or ``model_copy``).
    """
    path = SCENARIO_DIR / f"{BUILT_IN_FILE}.toml"
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        raise ScenarioError(f"{path}: the built-in baseline's file is missing; restore it from the repository "
                            "(git checkout scenarios/)") from None
    return _built_in(stamp)


@functools.lru_cache(maxsize=1)
def _built_in(_stamp: int) -> Scenario:
    return load_scenario(SCENARIO_DIR / f"{BUILT_IN_FILE}.toml")


def parse_scenario(text: str, source: str, confined: bool = False, uploads: dict[str, str] | None = None) -> Scenario:
    """Validate scenario TOML given as text (an upload in the app); ``source`` names it.

    ``confined`` (text from the browser): the file may extend only a shipped scenario, by name, or a
    file uploaded in the same session (``uploads``: its name to its text), and may name only the
    shipped calibrations' parameter sets and targets files; no other file on the server is read, so
    no message can tell anything about one."""
    data = _toml(text, source)
    if "extends" in data:
        data = _with_parent(data, source, None, [source], confined, uploads or {})
    if confined:
        _check_confined_files(data, source)
    return scenario_from_dict(data, source)


#: The files a scenario from the browser may name in ``[calibration]``: those the project ships.
SHIPPED_FILES = {"parameter_sets": ("calibration/fits", "*-parameter-sets.csv"),
                 "targets_file": ("calibration/targets", "*.toml")}


def shipped_files(field: str) -> list[str]:
    """The shipped files a confined scenario may name in ``[calibration] field``, as the project names them."""
    folder, pattern = SHIPPED_FILES[field]
    root = SCENARIO_DIR.parent
    return sorted(p.relative_to(root).as_posix() for p in (root / folder).glob(pattern))


def _check_confined_files(data: dict[str, Any], source: str) -> None:
    calibration = data.get("calibration")
    if not isinstance(calibration, dict):
        return
    for field in SHIPPED_FILES:
        value = calibration.get(field)
        if value in (None, "") or not isinstance(value, str):
            continue  # absent, or refused with its type by the validation
        allowed = shipped_files(field)
        if value not in allowed:
            raise ScenarioError(f"{source}: field 'calibration.{field}': a scenario loaded in the browser may name "
                                f"only a file the project ships, got {_short(value)}; allowed: "
                                f"{', '.join(allowed) or 'none'}")


_EXAMPLE = "for example a line '[adopters]' and under it 'enquiries_per_month = 30.0'"


def _toml(text: str, source: str) -> dict[str, Any]:
    """Scenario TOML as nested dictionaries.  A leading byte order mark is dropped.  A file that
    sets nothing (empty, or only comments and table headers) is refused: it is almost always a
    mistake, and would silently run the defaults."""
    text = text.removeprefix("\ufeff")
    if len(text) > MAX_BYTES:
        raise ScenarioError(f"{source}: too large for a scenario file ({len(text):,} characters; at most "
                            f"{MAX_BYTES:,})")
    if not text.strip():
        raise ScenarioError(f"{source}: the file is empty; a scenario is TOML text, {_EXAMPLE}")
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ScenarioError(_too_deep(source)) from None
    except ValueError as exc:  # TOMLDecodeError, or an integer with thousands of digits
        raise ScenarioError(f"{source}: not valid TOML ({_short_text(str(exc), 300)})") from None
    depth, values = _shape(data)
    if depth > MAX_DEPTH:
        raise ScenarioError(_too_deep(source))
    if not values:
        raise ScenarioError(f"{source}: sets nothing (only comments or empty tables); a scenario sets at least "
                            f"one value, {_EXAMPLE}")
    return data


def _too_deep(source: str) -> str:
    return (f"{source}: tables or arrays nested more than {MAX_DEPTH} levels deep; allowed: sections of "
            "values, as '[adopters]' and under it 'stage1_days = 90.0' (a scenario needs 3 levels at most)")


def _shape(data: dict[str, Any]) -> tuple[int, int]:
    """How deep tables and arrays are nested in ``data``, and how many values (not tables) it
    holds, found without recursion (so any depth is measured safely)."""
    depth, values, stack = 0, 0, [(data, 1)]
    while stack:
        node, level = stack.pop()
        depth = max(depth, level)
        if depth > MAX_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, (dict, list)):
                if isinstance(child, list):
                    values += 1
                stack.append((child, level + 1))
            else:
                values += 1
    return depth, values


def _read_with_parents(path: Path, chain: list[str]) -> dict[str, Any]:
    """Read a file and the scenarios it extends, children overriding parents.  ``chain`` holds
    the files (absolute, resolved) that led here, to catch a circle and a chain too long."""
    try:
        key = str(path.resolve())
    except (OSError, RuntimeError, ValueError):
        key = str(path)
    if key in chain:
        raise ScenarioError(f"{path}: 'extends' goes round in a circle ({' -> '.join(chain + [key])})")
    if len(chain) >= MAX_EXTENDS:
        shown = chain[:2] + ["..."] + chain[-2:] if len(chain) > 4 else chain
        raise ScenarioError(f"{chain[-1]}: field 'extends': a chain of more than {MAX_EXTENDS} scenario files "
                            f"({' -> '.join(shown + [key])}); allowed: at most {MAX_EXTENDS} files, each "
                            "extending the next")
    try:
        text = read_input_text(path, "scenario file")
    except InputFileError as exc:
        raise ScenarioError(str(exc)) from None
    data = _toml(text, str(path))
    if "extends" not in data:
        return data
    return _with_parent(data, str(path), path.parent, chain + [key])


def _with_parent(data: dict[str, Any], source: str, near: Path | None, chain: list[str], confined: bool = False,
                 uploads: dict[str, str] | None = None) -> dict[str, Any]:
    """``data`` (from ``source``, which names its parent in ``extends``) over that parent.

    The parent is checked on its own first, so that a mistake in it is reported against its
    own file, not the one that extends it.  ``chain`` ends with ``source``.  ``confined``: the
    parent must be a shipped scenario named as such, or one of ``uploads`` (see :func:`parse_scenario`).
    """
    parent_name = data.pop("extends")
    if not isinstance(parent_name, str):
        raise ScenarioError(f"{source}: field 'extends' must be a scenario name (text), got "
                            f"{_short(parent_name)}")
    _check_sections(data, source)  # before merging, which would hide a section that is not a table
    if confined and parent_name in (uploads or {}):
        if parent_name in chain:
            raise ScenarioError(f"{source}: 'extends' goes round in a circle ({' -> '.join(chain + [parent_name])})")
        parent = _toml(uploads[parent_name], parent_name)
        if "extends" in parent:
            parent = _with_parent(parent, parent_name, None, chain + [parent_name], confined, uploads)
        parent_path = Path(parent_name)
    else:
        if confined and parent_name not in {BUILT_IN, *scenario_names()}:
            raise ScenarioError(f"{source}: field 'extends': {_short(parent_name)} is not a shipped scenario or a file "
                                f"uploaded in this session; allowed: {', '.join([BUILT_IN, *scenario_names(), *(uploads or {})])}")
        try:
            parent_path = resolve(parent_name, near)
        except ScenarioError as exc:
            raise ScenarioError(f"{source}: field 'extends': {exc}") from None
        parent = _read_with_parents(parent_path, chain)
    parent_name = scenario_from_dict(parent, str(parent_path)).scenario.name
    return _extend(parent, data, f"{Path(source).stem} (changes '{parent_name}')")


def _extend(parent: dict, child: dict, label: str) -> dict:
    """``child`` over ``parent``; parameters the child changes lose their fitted record.  A child
    that gives itself no name is called ``label``, never by its parent's name."""
    changed = [f"{section}.{name}" for section, values in child.items()
               if section in PARAMETER_SECTIONS and isinstance(values, dict)
               for name, value in values.items()
               if not isinstance(parent.get(section), dict) or parent[section].get(name) != value]
    merged = without_fitted(_merge(parent, child), changed)
    if not isinstance(child.get("scenario"), dict) or "name" not in child["scenario"]:
        merged = _merge(merged, {"scenario": {"name": label}})
    return merged


def _merge(base: dict, override: dict) -> dict:
    """``override`` over ``base``, table by table; dated changes and trends add to the parent's."""
    out = dict(base)
    for key, value in override.items():
        if key in DATED and isinstance(value, list) and isinstance(out.get(key), list):
            out[key] = out[key] + value
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def scenario_from_dict(data: dict[str, Any], source: str) -> Scenario:
    """Validate a scenario given as nested dictionaries."""
    from sim.scenario.parameter_sets import check_under_every_set  # it reads files with this module's errors

    _check_sections(data, source)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_explain(exc, source)) from None
    check_under_every_set(scenario, source)
    return scenario


def _check_sections(data: dict[str, Any], source: str) -> None:
    """Every top-level name a section (a table of parameters) or an array of dated changes or trends."""
    for section, values in data.items():
        if section in DATED:
            if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
                raise ScenarioError(f"{source}: '{section}' must be an array of tables, each written "
                                    f"'[[{section}]]' followed by its fields")
            continue
        if section not in SECTIONS:
            name = _short_text(section)
            raise ScenarioError(f"{source}: unknown section [{name}]{_suggest(name, [*SECTIONS, *DATED])}; "
                                f"sections are {', '.join('[' + s + ']' for s in SECTIONS)}, and the arrays "
                                "[[change]] and [[trend]]")
        if not isinstance(values, dict):
            raise ScenarioError(f"{source}: [{section}] must be a table of parameters, got {_short(values)}")


def _suggest(name: str, options) -> str:
    close = difflib.get_close_matches(name, list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _explain(exc: ValidationError, source: str) -> str:
    """One line per problem: file, field, what was wrong, what is allowed; at most
    :data:`MAX_PROBLEMS` lines, then how many more there are."""
    errors = exc.errors()
    lines = []
    for err in errors[:MAX_PROBLEMS]:
        if not err["loc"]:  # a check across the scenario (dated changes and trends) says where itself
            lines.append(f"{source}: {_short_text(err['msg'].removeprefix('Value error, '), 300)}")
            continue
        if err["loc"][0] in DATED:
            lines.append(_explain_dated(err, source))
            continue
        loc = [_short_text(str(x)) for x in err["loc"]]
        section = loc[0] if loc else ""
        name = loc[1] if len(loc) > 1 else ""
        where = ".".join(loc[:2]) or "(top level)"
        if err["type"] == "extra_forbidden":
            known = SECTIONS[section].model_fields if section in SECTIONS else {}
            lines.append(f"{source}: unknown field '{where}'{_suggest(name, known)}; "
                         f"fields in [{section}] are {', '.join(known)}")
            continue
        message = _short_text(err["msg"].removeprefix("Value error, "), 300)
        detail = ""
        if section in SECTIONS and name in SECTIONS[section].model_fields:
            allowed = _allowed(_field_info(section, name))
            detail = f" (allowed: {allowed})" if allowed else ""
            message = f"{message}, got {_short(err.get('input'))}"
        lines.append(f"{source}: field '{where}': {message}{detail}")
    if len(errors) > MAX_PROBLEMS:
        lines.append(f"{source}: ... and {len(errors) - MAX_PROBLEMS:,} more problems")
    return "\n".join(lines)


def _explain_dated(err: dict, source: str) -> str:
    """A problem in a ``[[change]]`` or ``[[trend]]`` entry: which entry (counted from 1), which field."""
    kind, *rest = err["loc"]
    message = _short_text(err["msg"].removeprefix("Value error, "), 300)
    if not rest:
        return f"{source}: {kind}: {message}"
    entry = f"{kind} {int(rest[0]) + 1}"
    field = _short_text(str(rest[1])) if len(rest) > 1 else None
    if err["type"] == "extra_forbidden":
        model = Change if kind == "change" else Trend
        return (f"{source}: {entry}: unknown field '{field}'{_suggest(str(field), model.model_fields)}; "
                f"fields are {', '.join(model.model_fields)}")
    where = f"{entry}, field '{field}'" if field else entry
    got = f", got {_short(err.get('input'))}" if field else ""
    return f"{source}: {where}: {message}{got}"


def _field_info(section: str, name: str) -> dict:
    """Unit, range and default of a field: the parameter table's row, or for a field that is not
    a model parameter (``[calibration]``) what its declaration says."""
    if section in PARAMETER_SECTIONS:
        return field_info(section, name)
    field = SECTIONS[section].model_fields[name]
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    default = field.get_default(call_default_factory=True)
    return {"unit": extra.get("unit", ""), "min": None, "max": None, "default": default}


def _allowed(info: dict) -> str:
    unit = info["unit"]
    if info["min"] is not None and info["max"] is not None:
        return f"{info['min']:g} to {info['max']:g} {unit}".strip()
    if isinstance(info["default"], bool):
        return "true or false"
    if isinstance(info["default"], list):
        return f"a list of {unit}"
    if isinstance(info["default"], dict):
        return f"a table: {unit}"
    if isinstance(info["default"], str):
        return f"text ({unit})" if unit and unit != "text" else "text"
    return unit


def to_toml(scenario: Scenario) -> str:
    """The complete scenario as TOML text (every parameter written out)."""
    return tomli_w.dumps(scenario.model_dump(exclude_none=True))


def save_scenario(scenario: Scenario, path: str | Path, overwrite: bool = False) -> Path:
    """Write a scenario file; an existing file is kept unless ``overwrite`` is set."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise ScenarioError(f"{path}: already exists; choose another name or confirm overwriting it")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write.write_text(path, to_toml(scenario))
    return path


def run_text(scenario: Scenario) -> str:
    """What a run depends on: the scenario as TOML, less its name and description (two scenarios that
    differ only in those run alike)."""
    data = scenario.model_dump()
    data["scenario"]["name"] = ""
    data["scenario"]["description"] = ""
    return to_toml(Scenario.model_validate(data))
