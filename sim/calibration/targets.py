"""Calibration targets: load and check the figures transcribed from the agencies' reports.

Each file in ``calibration/targets/`` holds one agency's figures for one financial year,
written by hand from a seed report.  A figure the model reports is a ``[[target]]`` naming a
KPI from :mod:`sim.model.kpis`, with the uncertainty the fit should allow; a figure the model has
no KPI for is kept as ``[[unmodelled]]`` so that the transcription stays complete.  Hand-typed
files go wrong in quiet ways (a misspelt KPI name is silently never fitted, a percentage typed
as a fraction fits the wrong thing), so :func:`load_targets` refuses anything it cannot vouch
for, and says in which file, entry and field the problem is and what would be accepted.

A target's ``kind`` (count, stock, mean_days, percent, gbp) may be left out: it is the KPI's.
Beside its figures a file may give known inputs, ``[inputs]`` with ``"section.name" = value``
for parameters of the scenario (``"adopters.assessing_social_workers" = 10.5``, ``"panel.panels_per_month"
= 2.0``, fees): the calibration sets them as they are instead of estimating or fitting them.

Whatever the file holds (bytes that are not UTF-8, tables nested hundreds deep, a number of
400 digits, NaN, a figure of 1e308 or an sd of 1e-300) ends in a :class:`TargetsError`,
never a traceback; a leading byte order mark is accepted, as in scenario files.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.model.kpis import COUNT, KPI_BY_NAME, KPI_NAMES, MEAN_DAYS, MONEY, PERCENT, STOCK
from sim.scenario.bounded_read import InputFileError, read_input_text
from sim.scenario.calendar import financial_year_label
from sim.scenario.messages import cut as _cut
from sim.scenario.messages import short_repr as _short
from sim.scenario.parameters import PARAMETER_SECTIONS, SECTIONS, field_info

#: Keys allowed in each part of a targets file, and which of them must be present.
_AGENCY_KEYS = {"name", "financial_year", "start_year", "report", "timing_only", "note", "level"}
#: What a targets file describes: one agency (LA, RAA), or England as a whole (the sum of every
#: agency: fitted like one, but no evidence for an agency's priors; see
#: :mod:`sim.calibration.agency_priors`).
LEVELS = ("agency", "national")
_AGENCY_REQUIRED = ("name", "financial_year", "start_year", "report", "timing_only")
_TARGET_KEYS = {"figure", "value", "kind", "source", "sd", "use", "note", "year"}
#: How many financial years before the report's own a target may be for (reports set the year
#: before beside the year; the fit's warm-up must cover the earliest).
EARLIER_YEARS = 3
_TARGET_REQUIRED = ("figure", "value", "source", "sd", "use")  # kind: the KPI's when left out
_UNMODELLED_KEYS = {"description", "value", "source", "note"}
_TOP_LEVEL = {"agency": "table", "target": "array of tables", "unmodelled": "array of tables", "inputs": "table"}
#: Sections of the scenario whose parameters an [inputs] table may give.
INPUT_SECTIONS = tuple(s for s in PARAMETER_SECTIONS if s != "scenario")

#: Kinds a timing-only file (a scorecard with no volumes) may fit.
_TIMING_KINDS = (MEAN_DAYS, PERCENT)

#: The largest figure of each kind a report can give (far above England as a whole: a year's
#: events or a year-end stock of 10 million, a mean of 100 years, £100 billion); a signed
#: percentage (the adopter gap) up to 1,000,000%.
_MAX_VALUE = {COUNT: 1e7, STOCK: 1e7, MEAN_DAYS: 36_500.0, PERCENT: 100.0, MONEY: 1e11}
_MAX_SIGNED_PERCENT = 1_000_000.0
#: The smallest sd accepted, in the figure's own units: a smaller one would make the fit's
#: standardised residuals overflow, and no transcribed figure is that certain.
_MIN_SD = 0.001


class TargetsError(Exception):
    """A targets file that cannot be used; the message names file, entry, field and what is allowed."""


@dataclass(frozen=True)
class Target:
    """One reported figure the fit can compare with the model's KPI of the same name."""

    figure: str
    value: float
    kind: str
    source: str
    sd: float
    use: bool
    note: str | None = None
    year: str | None = None  # an earlier financial year "YYYY-YY"; None for the report's own year

    @property
    def key(self) -> str:
        """The figure, with its year when that is not the report's: "placement_orders 2016-17"."""
        return self.figure if self.year is None else f"{self.figure} {self.year}"

    def year_start(self, report_start: int) -> int:
        """Calendar year in which the target's financial year starts."""
        return report_start if self.year is None else int(self.year[:4])


@dataclass(frozen=True)
class Unmodelled:
    """A reported figure with no KPI in the model: recorded for completeness, never fitted."""

    description: str
    value: float
    source: str
    note: str


@dataclass(frozen=True)
class TargetSet:
    """Everything one targets file says about one agency in one financial year."""

    path: Path
    name: str
    financial_year: str
    start_year: int
    report: str
    timing_only: bool
    note: str | None = None
    level: str = "agency"  # one of LEVELS
    targets: list[Target] = field(default_factory=list)
    unmodelled: list[Unmodelled] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)  # "section.name": value, set as given

    def used_targets(self) -> list[Target]:
        """The targets the fit should use (``use = true``), in file order."""
        return [t for t in self.targets if t.use]


def load_targets(path: str | Path) -> TargetSet:
    """Read and check one targets file; raise :class:`TargetsError` on the first problem found."""
    path = Path(path)
    fname = path.name
    try:
        text = read_input_text(path, "targets file")  # a leading byte order mark is dropped
    except InputFileError as exc:
        raise TargetsError(f"{fname}: cannot read the file: {str(exc).removeprefix(str(path) + ': ')}") from None
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise TargetsError(f"{fname}: not valid for a targets file: tables or arrays nested hundreds of levels "
                           f"deep; allowed: [agency], [[target]] and [[unmodelled]] tables of values") from None
    except ValueError as exc:  # TOMLDecodeError, or an integer of thousands of digits
        # tomllib's message ends with "(at line N, column M)".
        raise TargetsError(f"{fname}: not valid TOML: {_cut(str(exc), 300)}") from None

    for key in data:
        if key not in _TOP_LEVEL:
            raise TargetsError(
                f"{fname}: top level: unknown table or key {_short(key)}; allowed: [agency], [[target]], "
                f"[[unmodelled]], [inputs]"
            )
    if not isinstance(data.get("agency"), dict):
        raise TargetsError(f"{fname}: top level: the [agency] table is missing or not a table; it is required")
    for key in ("target", "unmodelled"):
        if key in data and not (isinstance(data[key], list) and all(isinstance(e, dict) for e in data[key])):
            raise TargetsError(f"{fname}: top level: {key!r} must be an {_TOP_LEVEL[key]}, written [[{key}]]")

    agency = _agency(fname, data["agency"])
    targets = [_target(fname, i, entry, agency) for i, entry in enumerate(data.get("target", []), start=1)]
    unmodelled = [_unmodelled(fname, i, entry, agency) for i, entry in enumerate(data.get("unmodelled", []), start=1)]
    _one_used_entry_per_figure(fname, targets)
    if "inputs" in data and not isinstance(data["inputs"], dict):
        raise TargetsError(f"{fname}: top level: 'inputs' must be a table, written [inputs]")
    inputs = _inputs(fname, data.get("inputs", {}))
    return TargetSet(path=path, targets=targets, unmodelled=unmodelled, inputs=inputs, **agency)


def _inputs(fname: str, table: dict[str, Any]) -> dict[str, Any]:
    """Known inputs: ``"section.name" = value`` (or ``[inputs.section]`` with ``name = value``), each
    a parameter of the scenario with a value its section accepts."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict) and "." not in key:  # [inputs.adopters] name = value
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    out: dict[str, Any] = {}
    for key, value in flat.items():
        where = f"{fname}: [inputs] {key!r}"
        section, _, name = key.partition(".")
        if section not in INPUT_SECTIONS:
            raise TargetsError(f"{where}: unknown section {section!r}; allowed: 'section.name' with section one of "
                               f"{', '.join(INPUT_SECTIONS)} (e.g. \"adopters.assessing_social_workers\" = 10.5)")
        fields = SECTIONS[section].model_fields
        if name not in fields:
            close = difflib.get_close_matches(name, list(fields), n=3, cutoff=0.5)
            hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
            raise TargetsError(f"{where}: unknown parameter {name!r} in [{section}]{hint}; allowed: "
                               f"{', '.join(fields)}")
        try:
            SECTIONS[section].model_validate({name: value})
        except ValidationError as exc:
            err = exc.errors()[0]
            meta = fields[name].json_schema_extra or {}
            lo = hi = None
            for m in fields[name].metadata:
                lo, hi = getattr(m, "ge", lo), getattr(m, "le", hi)
            allowed = f"{lo:g} to {hi:g} {meta.get('unit', '')}".strip() if lo is not None and hi is not None \
                else meta.get("unit", "a value of the parameter's type")
            raise TargetsError(f"{where}: {err['msg']}, got {value!r} (allowed: {allowed})") from None
        out[key] = value
    return out


def _agency(fname: str, table: dict[str, Any]) -> dict[str, Any]:
    where = f"{fname}: [agency]"
    _check_keys(where, table, _AGENCY_KEYS, _AGENCY_REQUIRED)
    name = _string(where, table, "name")
    report = _string(where, table, "report")
    financial_year = _string(where, table, "financial_year")
    start_year = table["start_year"]
    if not isinstance(start_year, int) or isinstance(start_year, bool):
        raise TargetsError(f'{where}: field "start_year" must be a whole year such as 2022, not {_short(start_year)}')
    lo, hi = (field_info("scenario", "start_year")[k] for k in ("min", "max"))
    if not lo <= start_year <= hi:
        raise TargetsError(f'{where}: field "start_year" is {_short(start_year)}; allowed: a year from {lo} to {hi} '
                           f"(the years a scenario can start in)")
    expected = financial_year_label(start_year)
    if financial_year != expected:
        # The financial year runs April to March, so it starts in start_year.
        raise TargetsError(
            f'{where}: field "financial_year" is {financial_year!r} but start_year {start_year} '
            f'means {expected!r}; allowed: "YYYY-YY" starting in start_year'
        )
    timing_only = _boolean(where, table, "timing_only")
    note = _string(where, table, "note") if "note" in table else None
    level = _string(where, table, "level") if "level" in table else "agency"
    if level not in LEVELS:
        raise TargetsError(f'{where}: field "level" is {_short(level)}; allowed: {" or ".join(map(repr, LEVELS))}')
    return dict(name=name, financial_year=financial_year, start_year=start_year, report=report,
                timing_only=timing_only, note=note, level=level)


def _target(fname: str, index: int, entry: dict[str, Any], agency: dict[str, Any]) -> Target:
    figure = entry.get("figure")
    where = (f'{fname}: target {index} (figure "{_cut(figure)}")' if isinstance(figure, str)
             else f"{fname}: target {index}")
    _check_keys(where, entry, _TARGET_KEYS, _TARGET_REQUIRED)
    figure = _string(where, entry, "figure")
    kpi = KPI_BY_NAME.get(figure)
    if kpi is None:
        close = difflib.get_close_matches(figure, KPI_NAMES, n=3, cutoff=0.5)
        hint = "close names: " + ", ".join(f'"{c}"' for c in close) if close else "no close names"
        raise TargetsError(f'{where}: field "figure": unknown KPI {_short(figure)}; {hint}; allowed: a name in '
                           f"sim/model/kpis.py")
    kind = _string(where, entry, "kind") if "kind" in entry else kpi.kind
    if kind != kpi.kind:
        raise TargetsError(f'{where}: field "kind" is "{_cut(kind)}" but KPI "{figure}" is measured as "{kpi.kind}"; '
                           f'allowed: "{kpi.kind}"')
    value = _number(where, entry, "value")
    _check_range(where, value, kpi)
    source = _source(where, entry, agency["report"])
    sd = _number(where, entry, "sd")
    top = _most(kpi)
    if sd <= 0:
        raise TargetsError(f'{where}: field "sd" is {sd}; allowed: a positive uncertainty in the figure\'s units, '
                           f"from {_MIN_SD:g} to {top:,.0f}")
    if not _MIN_SD <= sd <= top:
        raise TargetsError(f'{where}: field "sd" is {sd:g}; allowed: an uncertainty in the figure\'s units from '
                           f"{_MIN_SD:g} to {top:,.0f}")
    use = _boolean(where, entry, "use")
    note = _string(where, entry, "note") if "note" in entry else None
    year = _year(where, entry, agency) if "year" in entry else None
    if not use and note is None:
        raise TargetsError(f'{where}: field "note" is missing; required when use = false, to say why it is not fitted')
    if use and agency["timing_only"] and kind not in _TIMING_KINDS:
        raise TargetsError(f'{where}: field "use": the file is timing_only, so only kinds '
                           f'{" and ".join(_TIMING_KINDS)} may be fitted; allowed: use = false for a {kind}')
    return Target(figure=figure, value=value, kind=kind, source=source, sd=sd, use=use, note=note, year=year)


def _year(where: str, entry: dict[str, Any], agency: dict[str, Any]) -> str | None:
    """An earlier financial year the figure is for ("2016-17"); the report's own year is None."""
    text = _string(where, entry, "year")
    start = agency["start_year"]
    # the fit simulates the earlier years as years of a scenario, which cannot start before 2000
    earliest = max(start - EARLIER_YEARS, field_info("scenario", "start_year")["min"])
    allowed = (f'a financial year "YYYY-YY" from {financial_year_label(earliest)} to the report\'s '
               f'{agency["financial_year"]}')
    digits = text[:4] + text[5:]
    if len(text) != 7 or text[4] != "-" or not (digits.isascii() and digits.isdigit()) or \
            int(text[5:]) != (int(text[:4]) + 1) % 100:
        raise TargetsError(f'{where}: field "year" is {_short(text)}; allowed: {allowed}')
    if not earliest <= int(text[:4]) <= start:
        raise TargetsError(f'{where}: field "year" is {text!r}; allowed: {allowed} (the fit simulates at most '
                           f"{EARLIER_YEARS} years before the report's, and none before 2000)")
    return None if int(text[:4]) == start else text


def _unmodelled(fname: str, index: int, entry: dict[str, Any], agency: dict[str, Any]) -> Unmodelled:
    where = f"{fname}: unmodelled {index}"
    _check_keys(where, entry, _UNMODELLED_KEYS, ("description", "value", "source", "note"))
    return Unmodelled(description=_string(where, entry, "description"), value=_number(where, entry, "value"),
                      source=_source(where, entry, agency["report"]), note=_string(where, entry, "note"))


def _source(where: str, entry: dict[str, Any], report: str) -> str:
    """Every figure must be traceable: its source names the agency's report and then the section."""
    source = _string(where, entry, "source")
    if not source.startswith(report + " "):
        raise TargetsError(f'{where}: field "source" is {_short(source)}; allowed: the report file "{report}" '
                           f'followed by the section, e.g. "{report} §4.6"')
    return source


def _check_range(where: str, value: float, kpi: Any) -> None:
    """Refuse values outside what the KPI can take: shares are 0-100, the adopter gap is a signed
    percentage no lower than -100 (no adopters at all), everything else is non-negative."""
    if kpi.kind == PERCENT:
        if not 0 <= value <= 100:
            raise TargetsError(f'{where}: field "value" is {value}; allowed: a percentage from 0 to 100 '
                               f"(write 80% as 80.0, not 0.8)")
        if 0 < value < 1:  # a share typed as a fraction; reports give these measures in whole percentages
            raise TargetsError(f'{where}: field "value" is {value}, which looks like a fraction; allowed: a '
                               f"percentage from 0 to 100 (write 26% as 26.0, not 0.26; a figure under 1% as 0 or 1)")
    elif kpi.unit == "%":
        if not -100 <= value <= _MAX_SIGNED_PERCENT:
            raise TargetsError(f'{where}: field "value" is {value:g}; allowed: a percentage of at least -100 '
                               f"(and at most {_MAX_SIGNED_PERCENT:,.0f})")
    elif value < 0:
        raise TargetsError(f'{where}: field "value" is {value}; allowed: a number of at least 0 for a {kpi.kind}')
    elif value > _MAX_VALUE[kpi.kind]:
        raise TargetsError(f'{where}: field "value" is {value:g}; allowed: a number from 0 to '
                           f"{_MAX_VALUE[kpi.kind]:,.0f} for a {kpi.kind}")


def _most(kpi: Any) -> float:
    """The largest value (and sd) a figure of this KPI may have."""
    return _MAX_SIGNED_PERCENT if kpi.kind != PERCENT and kpi.unit == "%" else _MAX_VALUE[kpi.kind]


def _check_keys(where: str, table: dict[str, Any], allowed: set[str], required: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            raise TargetsError(f"{where}: unknown field {_short(key)}; allowed: {', '.join(sorted(allowed))}")
    for key in required:
        if key not in table:
            raise TargetsError(f'{where}: field "{key}" is missing; required: {", ".join(required)}')


def _string(where: str, table: dict[str, Any], key: str) -> str:
    value = table[key]
    if not isinstance(value, str) or not value.strip():
        raise TargetsError(f'{where}: field "{key}" must be a non-empty string, not {_short(value)}')
    return value


def _number(where: str, table: dict[str, Any], key: str) -> float:
    value = table[key]
    try:
        number = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan
    except OverflowError:  # an integer too large for a float (hundreds of digits)
        number = math.nan
    if not math.isfinite(number):
        raise TargetsError(f'{where}: field "{key}" must be a finite number, not {_short(value)}')
    return number


def _boolean(where: str, table: dict[str, Any], key: str) -> bool:
    value = table[key]
    if not isinstance(value, bool):
        raise TargetsError(f'{where}: field "{key}" must be true or false, not {_short(value)}')
    return value


def _one_used_entry_per_figure(fname: str, targets: list[Target]) -> None:
    """Two used entries for one figure would fit the same thing twice; contradicting counts in a
    report are both recorded, but only one of them may be used."""
    first: dict[str, int] = {}
    for index, target in enumerate(targets, start=1):
        if not target.use:
            continue
        if target.key in first:
            raise TargetsError(
                f'{fname}: target {index} (figure "{target.figure}"): field "use": target {first[target.key]} '
                f"already uses this figure for this year; allowed: one entry with use = true per figure and year, "
                f"the others use = false with a note"
            )
        first[target.key] = index
