"""Market files: many agencies run together, read from TOML and checked entry by entry.

A market file lists the agencies of a region or of England, each a calibrated scenario as it is
(``scenario = "NAME"``) or a calibrated scenario scaled as an archetype of another agency's size
(``archetype = "NAME"`` and ``scale``: inflows and capacity multiplied), of a kind ``la``, ``raa``
or ``vaa`` (a voluntary adoption agency recruits and approves adopters but has no children), in a
region::

    [market]
    name = "East of England"
    years = 5
    replications = 20
    seed = 2022
    start_year = 2022

    [[agency]]
    name = "Cambridgeshire & Peterborough Adoption"
    region = "East of England"
    kind = "raa"
    scenario = "cambridgeshire-peterborough-2022-23"

    [[agency]]
    name = "Coastal RAA"            # count = 3 gives "Coastal RAA 1" ... "Coastal RAA 3"
    region = "East of England"
    kind = "raa"
    archetype = "cambridgeshire-peterborough-2022-23"
    scale = 1.5

A what-if ``extends`` another market file (its name in the same folder, without ``.toml``, or a
path) and adds ``[[change]]`` entries, each a dated change as in a scenario file (``parameter``,
``start``, one of ``value``/``percent``/``add`` ...) applied to every agency, or only to those of
the ``kinds`` and ``regions`` it lists; ``[market]`` values override the parent's.
``pooled_regions = ["East of England"]`` in ``[market]`` makes a region pool its adopters
(:mod:`sim.model.market`).  Every agency
runs over the market's start year, warm-up and years.  Market files live in ``scenarios/markets/``,
out of the way of the scenario lists (which read ``scenarios/*.toml`` only).

Every problem is a :class:`MarketError` naming the file, the entry and what is allowed.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.scenario.bounded_read import InputFileError, read_input_text
from sim.scenario.files import SCENARIO_DIR, ScenarioError, load_scenario, resolve, scenario_from_dict
from sim.scenario.messages import cut, cut_path, short_repr
from sim.scenario.parameters import Scenario, without_fitted

MARKET_DIR = SCENARIO_DIR / "markets"
KINDS = ("la", "raa", "vaa")
MAX_AGENCIES = 500  # England has about 150 LAs in some 30 RAAs, and some 30 VAAs (shared/DOMAIN.md)
MAX_SCALE = 200.0
MAX_EXTENDS = 20
MAX_BYTES = 200_000
#: [market] fields: name -> (type, lower bound, upper bound, meaning)
MARKET_FIELDS: dict[str, tuple[type, Any, Any, str]] = {
    "name": (str, None, None, "the market's name"),
    "description": (str, None, None, "what the market is and where its figures come from"),
    "seed": (int, 0, 2**63 - 1, "root seed of every agency's streams"),
    "start_year": (int, 2000, 2100, "calendar year in which year 1 starts"),
    "years": (int, 1, 50, "financial years reported"),
    "warm_up_years": (int, 0, 10, "years simulated before year 1"),
    "replications": (int, 1, 10000, "independent replications"),
    "pooled_regions": (list, None, None, "regions whose agencies pool their adopters"),
}
AGENCY_FIELDS = ("name", "region", "kind", "scenario", "archetype", "scale", "count")
CHANGE_FILTERS = ("kinds", "regions")
#: Parameters an archetype's scale multiplies: the inflows and the capacity that serves them.
SCALED = (("adopters", "enquiries_per_month"), ("adopters", "assessing_social_workers"),
          ("children", "entering_per_year"), ("panel", "panels_per_month"))


class MarketError(ScenarioError):
    """A market file that cannot be used, with the file, the entry and what is allowed (a kind of
    scenario error, so every face that reports one reports the other)."""


@dataclass(frozen=True)
class Agency:
    """One agency of a market: its name, region, kind (``la``, ``raa`` or ``vaa``) and scenario
    (over the market's years, with any changes the market makes)."""

    name: str
    region: str
    kind: str
    scenario: Scenario


@dataclass(frozen=True)
class MarketSpec:
    """A market read from a file: its settings and agencies, in the file's order."""

    name: str
    description: str
    seed: int
    start_year: int
    years: int
    warm_up_years: int
    replications: int
    agencies: tuple[Agency, ...]
    source: str
    pooled_regions: tuple[str, ...] = ()

    def regions(self) -> list[str]:
        """The regions, in order of first appearance."""
        return list(dict.fromkeys(a.region for a in self.agencies))

    def with_run(self, years: int | None = None, replications: int | None = None,
                 seed: int | None = None) -> "MarketSpec":
        """The market over other years, replications or seed (each agency's scenario follows)."""
        years = self.years if years is None else years
        agencies = tuple(Agency(a.name, a.region, a.kind, _run_over(a.scenario, self.start_year, years,
                                                                       self.warm_up_years, self.source, a.name))
                         for a in self.agencies)
        return MarketSpec(self.name, self.description, self.seed if seed is None else seed, self.start_year, years,
                          self.warm_up_years, self.replications if replications is None else replications,
                          agencies, self.source, self.pooled_regions)


def market_names(folder: Path = MARKET_DIR) -> list[str]:
    """Names of the market files shipped in ``scenarios/markets/``."""
    return sorted(p.stem for p in folder.glob("*.toml"))


def market_title(name: str, folder: Path = MARKET_DIR) -> str:
    """A shipped market file's title (its ``[market] name``), read without building its agencies; the
    file name where it has none or cannot be read."""
    try:
        return str(tomllib.loads((folder / f"{name}.toml").read_text(encoding="utf-8")).get("market", {}).get(
            "name") or name)
    except (OSError, ValueError, AttributeError):
        return name


def resolve_market(name_or_path: str | Path, near: Path | None = None) -> Path:
    """A market file from a path, or a name in ``near`` or ``scenarios/markets/``."""
    candidate = Path(name_or_path)
    options = ([near / candidate] if near is not None and not candidate.is_absolute() else []) + [candidate]
    if candidate.suffix != ".toml":
        options += [d / f"{candidate}.toml" for d in ([near] if near else []) + [MARKET_DIR]]
    for option in options:
        try:
            if option.is_file():
                return option
        except (OSError, ValueError):
            continue
    known = ", ".join(market_names()) or "none"
    raise MarketError(f"{cut_path(str(name_or_path))}: no such market file (markets available: {known})")


def load_market(name_or_path: str | Path) -> MarketSpec:
    """Read, check and build a market: its agencies' scenarios loaded, scaled and changed."""
    path = resolve_market(name_or_path)
    data = _read_with_parents(path, [])
    return _build(data, str(path), path.parent)


def _read(path: Path) -> dict[str, Any]:
    source = str(path)
    try:
        text = read_input_text(path, "market file")
    except InputFileError as exc:
        raise MarketError(str(exc)) from None
    try:
        data = tomllib.loads(text)
    except (ValueError, RecursionError) as exc:
        raise MarketError(f"{source}: not valid TOML ({cut(str(exc), 300)})") from None
    allowed = ("extends", "market", "agency", "change")
    for key in data:
        if key not in allowed:
            raise MarketError(f"{source}: unknown entry {_name(key)}{_suggest(key, allowed)}; a market file has "
                              "'extends', [market], [[agency]] and [[change]]")
    for key in ("agency", "change"):
        if key in data and not (isinstance(data[key], list) and all(isinstance(e, dict) for e in data[key])):
            raise MarketError(f"{source}: '{key}' must be an array of tables, each written '[[{key}]]' followed "
                              "by its fields")
    if "market" in data and not isinstance(data["market"], dict):
        raise MarketError(f"{source}: [market] must be a table of settings, got {short_repr(data['market'])}")
    for j, change in enumerate(data.get("change", []), 1):
        if "_file" in change:  # the name the reader keeps a change's file under: never the file's own
            raise MarketError(f"{source}: change {j}: unknown field '_file'; fields are those of a scenario's "
                              f"[[change]] and {', '.join(CHANGE_FILTERS)}")
    return data


def _read_with_parents(path: Path, chain: list[str]) -> dict[str, Any]:
    """A file over the market it extends: its [market] values override, its agencies (if it lists
    any) replace, its changes add to the parent's."""
    key = str(path.resolve())
    if key in chain or len(chain) >= MAX_EXTENDS:
        raise MarketError(f"{path}: 'extends' goes round in a circle or is longer than {MAX_EXTENDS} files "
                          f"({' -> '.join(chain + [key])})")
    data = _read(path)
    if "extends" not in data:
        if "agency" not in data:
            raise MarketError(f"{path}: lists no agency; add [[agency]] entries (name, region, kind, and "
                              "scenario or archetype with scale) or 'extends' another market file")
        return data
    parent_name = data.pop("extends")
    if not isinstance(parent_name, str):
        raise MarketError(f"{path}: field 'extends' must be a market file's name (text), got "
                          f"{short_repr(parent_name)}")
    try:
        parent_path = resolve_market(parent_name, path.parent)
    except MarketError as exc:
        raise MarketError(f"{path}: field 'extends': {exc}") from None
    parent = _read_with_parents(parent_path, chain + [key])
    merged = dict(parent)
    merged["market"] = {**parent.get("market", {}), **data.get("market", {})}
    if "agency" in data:
        merged["agency"] = data["agency"]
    merged["change"] = [_located(c, str(parent_path)) for c in parent.get("change", [])] + \
        [_located(c, str(path)) for c in data.get("change", [])]
    return merged


def _located(change: dict, source: str) -> dict:
    """A change remembering the file it came from (for messages)."""
    return change if "_file" in change else {**change, "_file": source}


def _build(data: dict[str, Any], source: str, near: Path) -> MarketSpec:
    settings = _market_settings(data.get("market", {}), source)
    agencies = data.get("agency", [])
    if not agencies:
        raise MarketError(f"{source}: lists no agency; add [[agency]] entries")
    built: list[Agency] = []
    for i, entry in enumerate(agencies, 1):
        built += _agencies(entry, i, source, near, settings)
    if len(built) > MAX_AGENCIES:
        raise MarketError(f"{source}: {len(built)} agencies; allowed: at most {MAX_AGENCIES}")
    names = [a.name for a in built]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise MarketError(f"{source}: agency names must differ; repeated: {', '.join(twice)}")
    if not any(a.kind != "vaa" for a in built):
        raise MarketError(f"{source}: every agency is a VAA; a market needs at least one LA or RAA with children")
    for j, change in enumerate(data.get("change", []), 1):
        built = _apply_change(built, change, j, source)
    regions = sorted({a.region for a in built})
    unknown = [r for r in settings["pooled_regions"] if r not in regions]
    if unknown:
        raise MarketError(f"{source}: field 'market.pooled_regions': no agency in {', '.join(map(str, unknown))}; "
                          f"regions of this market: {', '.join(regions)}")
    return MarketSpec(settings["name"], settings["description"], settings["seed"], settings["start_year"],
                      settings["years"], settings["warm_up_years"], settings["replications"], tuple(built), source,
                      tuple(settings["pooled_regions"]))


def _market_settings(values: dict[str, Any], source: str) -> dict[str, Any]:
    out = {"name": Path(source).stem, "description": "", "seed": 2022, "start_year": 2022, "years": 5,
           "warm_up_years": 3, "replications": 20, "pooled_regions": []}
    for key, value in values.items():
        if key not in MARKET_FIELDS:
            raise MarketError(f"{source}: unknown field 'market.{cut(key)}'{_suggest(key, MARKET_FIELDS)}; fields in "
                              f"[market] are {', '.join(MARKET_FIELDS)}")
        kind, lo, hi, meaning = MARKET_FIELDS[key]
        if kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise MarketError(f"{source}: field 'market.{key}' ({meaning}): got {short_repr(value)}; allowed: a "
                                  "list of region names, e.g. [\"East of England\"]")
            out[key] = value
            continue
        if not isinstance(value, kind) or isinstance(value, bool) or (lo is not None and not lo <= value <= hi):
            allowed = "text" if kind is str else f"a whole number from {lo} to {hi}"
            raise MarketError(f"{source}: field 'market.{key}' ({meaning}): got {short_repr(value)}; allowed: {allowed}")
        out[key] = value
    return out


def _agencies(entry: dict, i: int, source: str, near: Path, settings: dict) -> list[Agency]:
    """The agencies one [[agency]] entry stands for (``count`` alike)."""
    where = f"{source}: agency {i}" + (f" ({cut(entry['name'])!r})" if isinstance(entry.get("name"), str) else "")
    for key in entry:
        if key not in AGENCY_FIELDS:
            raise MarketError(f"{where}: unknown field {_name(key)}{_suggest(key, AGENCY_FIELDS)}; fields of an "
                              f"agency are {', '.join(AGENCY_FIELDS)}")
    for key in ("name", "region", "kind"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise MarketError(f"{where}: field '{key}' is required, as text" +
                              (f" (one of {', '.join(KINDS)})" if key == "kind" else ""))
    if entry["kind"] not in KINDS:
        raise MarketError(f"{where}: field 'kind': got {short_repr(entry['kind'])}; allowed: {', '.join(KINDS)} "
                          "(a local authority, a regional adoption agency, a voluntary adoption agency)")
    given = [k for k in ("scenario", "archetype") if k in entry]
    if len(given) != 1:
        raise MarketError(f"{where}: give exactly one of 'scenario' (a calibrated scenario as it is) or "
                          "'archetype' with 'scale' (a calibrated scenario scaled to this agency's size); got "
                          f"{' and '.join(given) or 'neither'}")
    scale = entry.get("scale", 1.0)
    if "scale" in entry and "archetype" not in entry:
        raise MarketError(f"{where}: field 'scale' needs 'archetype' (a scenario as it is is not scaled)")
    if not isinstance(scale, (int, float)) or isinstance(scale, bool) or not 0 < scale <= MAX_SCALE:
        raise MarketError(f"{where}: field 'scale': got {short_repr(scale)}; allowed: a number above 0 and at most "
                          f"{MAX_SCALE:g} (1 = the archetype's own size)")
    count = entry.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_AGENCIES:
        raise MarketError(f"{where}: field 'count': got {short_repr(count)}; allowed: a whole number from 1 to "
                          f"{MAX_AGENCIES} (that many agencies alike)")
    name = entry[given[0]]
    if not isinstance(name, str):
        raise MarketError(f"{where}: field '{given[0]}' must be a scenario's name or path (text)")
    try:
        scenario = load_scenario(resolve(name, near))
    except ScenarioError as exc:
        raise MarketError(f"{where}: field '{given[0]}': {exc}") from None
    scenario = _run_over(scaled(scenario, float(scale), entry["kind"] == "vaa"), settings["start_year"],
                         settings["years"], settings["warm_up_years"], where, entry["name"])
    names = [entry["name"]] if count == 1 else [f"{entry['name']} {n}" for n in range(1, count + 1)]
    return [Agency(n, entry["region"], entry["kind"], scenario) for n in names]


def scaled(scenario: Scenario, factor: float, adopters_only: bool = False) -> Scenario:
    """``scenario`` as an agency ``factor`` times its size: enquiries, children entering, social workers
    and panels multiplied (the shares and durations are the archetype's own, and the scaled values
    lose their record as fitted); with ``adopters_only`` (a voluntary adoption agency), no children."""
    data = scenario.model_dump()
    for section, name in SCALED:
        data[section][name] = data[section][name] * factor
    if adopters_only:
        data["children"]["entering_per_year"] = 0.0
    if factor != 1.0 or adopters_only:  # a scaled value is no longer the fitted one
        data = without_fitted(data, [f"{section}.{name}" for section, name in SCALED])
    data["initial_state"] = {k: (None if v is None else int(round(v * factor)))
                             for k, v in data["initial_state"].items()}
    return scenario_from_dict(data, scenario.scenario.name)


def _run_over(scenario: Scenario, start_year: int, years: int, warm_up_years: int, where: str,
              name: str) -> Scenario:
    data = scenario.model_dump()
    data["scenario"].update(start_year=start_year, years=years, warm_up_years=warm_up_years, name=name)
    try:
        return scenario_from_dict(data, where)
    except ScenarioError as exc:
        raise MarketError(f"{where}: cannot run over the market's years from {start_year}: {exc}") from None


def _apply_change(agencies: list[Agency], change: dict, j: int, source: str) -> list[Agency]:
    """Add one [[change]] to the agencies it names (every agency unless it lists kinds or regions)."""
    change = dict(change)
    where = f"{change.pop('_file', source)}: change {j}"
    filters = {}
    for key in CHANGE_FILTERS:
        if key in change:
            value = change.pop(key)
            if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
                raise MarketError(f"{where}: field '{key}' must be a list of names, e.g. {key} = [\"...\"]")
            filters[key] = value
    bad_kinds = sorted(set(filters.get("kinds", [])) - set(KINDS))
    if bad_kinds:
        raise MarketError(f"{where}: field 'kinds': unknown {', '.join(bad_kinds)}; allowed: {', '.join(KINDS)}")
    regions = {a.region for a in agencies}
    bad_regions = sorted(set(filters.get("regions", [])) - regions)
    if bad_regions:
        raise MarketError(f"{where}: field 'regions': no agency in {', '.join(bad_regions)}; regions of this "
                          f"market: {', '.join(sorted(regions))}")
    out, hit = [], 0
    for a in agencies:
        if a.kind in filters.get("kinds", KINDS) and a.region in filters.get("regions", regions):
            data = a.scenario.model_dump()
            data["change"] = data["change"] + [change]
            try:
                a = Agency(a.name, a.region, a.kind, scenario_from_dict(data, where))
            except ScenarioError as exc:
                raise MarketError(f"{exc} (for agency {a.name!r})") from None
            hit += 1
        out.append(a)
    if not hit:
        raise MarketError(f"{where}: applies to no agency (kinds {filters.get('kinds')}, regions "
                          f"{filters.get('regions')})")
    return out


def _name(key: Any) -> str:
    return repr(cut(str(key)))


def _suggest(name: str, options) -> str:
    close = difflib.get_close_matches(str(name), list(options), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
