"""Dated changes and trends: how a parameter moves over time.

A planner's scenario is a baseline plus changes that begin on a date.  Scenario files write
them as arrays of tables::

    [[change]]                                   # a step: from April 2025, 33.4 enquiries a month
    parameter = "adopters.enquiries_per_month"
    start = "2025-26"                            # a financial year (its April) or a month "2025-04"
    value = 33.4

    [[change]]                                   # a time-limited campaign: +40% for six months
    parameter = "adopters.enquiries_per_month"
    start = "2026-04"
    end = "2026-09"                              # last month affected (inclusive)
    percent = 40.0

    [[change]]                                   # two more social workers, phased in over a year
    parameter = "adopters.assessing_social_workers"
    start = "2025-04"
    add = 2.0
    ramp_months = 12

    [[trend]]                                    # children entering grow 20% a year, up to the report year
    parameter = "children.entering_per_year"
    percent_per_year = 20.0

    [[trend]]                                    # or a value for each financial year
    parameter = "children.entering_per_year"
    by_year = { "2016-17" = 53.0, "2017-18" = 61.0 }

Rules (checked on load, with the file, the entry and what is allowed):

* **Changes begin after the base year.**  Year 1 of a scenario (``start_year``) is its base
  year, for a calibrated baseline the report's year; history (the warm-up and year 1) always
  runs on the baseline, so a change may start in April of the year after, or later.
* **One kind of change each**: ``value`` (the new value), ``percent`` (a change in percent of
  the value it acts on; for a parameter that is itself a percentage, ``change_unit = "points"``
  adds percentage points instead) or ``add`` (an amount in the parameter's unit).
* **A percent change of a share acts on its odds.**  For a share or probability (a parameter
  whose range is 0 to at most 1), ``percent`` multiplies the odds of where the value sits in its
  range, ``(v - lo) / (hi - v)``: +100% doubles the odds, so 0.6 becomes 0.75 and 0.9 becomes
  0.947, and no change in percent can take a share outside its range, whatever value it acts
  on (a calibrated scenario's replications each act on their own plausible value).  For a
  small share this is close to plain percent: +100% of 0.05 gives 0.095.  ``value`` and ``add``
  act on the share itself.
* **Order.**  Changes to one parameter act in order of their start, each on the value the
  parameter would have without it (the baseline, its trend, and the changes that began
  earlier).  A change without ``end`` lasts to the end of the run; one with ``end`` stops
  after that month and the parameter returns to that value.  ``ramp_months`` moves there in
  equal monthly steps.  Two changes to one parameter may not start in the same month, and a
  change may not start while another change to the same parameter is ramping or time-limited:
  those are the overlaps refused, because their meaning would be ambiguous.
* **Trends** apply to the baseline itself, history included.  ``percent_per_year`` grows (or,
  negative, shrinks) the parameter by that much a year, compounding monthly, so that its
  average over the ``anchor`` financial year (default: year 1) is the parameter's value; from
  ``start`` (default: the start of the run) to ``until`` (default: the end of the anchor
  year), the value held before and after.  ``by_year`` gives the value for each financial
  year listed instead, the first held before and the last after.  One trend per parameter.
* Every value a parameter takes must lie in its valid range.

Only parameters of the model's sections can change (``[adopters]``, ``[children]``,
``[panel]``, ``[matching]``, ``[placement]``, ``[fees]``); a count is rounded to a whole
number.  :func:`monthly_values` turns all this into a value for every month of the run, which
the model applies at the start of each month (:mod:`sim.model.timeline`).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.scenario.calendar import end_month, financial_year_label, month_label, parse_date, start_month

#: Sections whose parameters a dated change or a trend may move.
CHANGEABLE_SECTIONS = ("adopters", "children", "panel", "matching", "placement", "fees")
CHANGE_UNITS = ("percent", "points")


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    parameter: str = Field(description="The parameter that changes, as 'section.name'.")
    note: str = Field("", description="Why: the decision or the source behind it.")

    @field_validator("parameter")
    @classmethod
    def _known_parameter(cls, v: str) -> str:
        from sim.scenario.parameters import SECTIONS  # the parameter table is defined after this module

        section, _, name = v.partition(".")
        if section not in CHANGEABLE_SECTIONS:
            raise ValueError(f"{v!r}: write 'section.name' with a section among "
                             f"{', '.join(CHANGEABLE_SECTIONS)} (history and run settings cannot change "
                             "part-way through a run)")
        if name not in SECTIONS[section].model_fields:
            import difflib

            close = difflib.get_close_matches(name, list(SECTIONS[section].model_fields), n=1)
            hint = f" (did you mean '{section}.{close[0]}'?)" if close else ""
            raise ValueError(f"{v!r}: no parameter '{name}' in [{section}]{hint}")
        return v

    @property
    def section(self) -> str:
        return self.parameter.partition(".")[0]

    @property
    def name(self) -> str:
        return self.parameter.partition(".")[2]


def _check_date(v: str | None) -> str | None:
    if v is not None:
        parse_date(v)
    return v


class Change(_Entry):
    """A change to one parameter from a date: a step, a ramp or a time-limited change."""

    start: str = Field(description="First month affected: 'YYYY-MM', or a financial year 'YYYY-YY' (its April).")
    end: str | None = Field(None, description="Last month affected (inclusive), or a financial year (its March); "
                                              "none: to the end of the run.")
    value: float | int | bool | list[float] | None = Field(None, description="The new value.")
    percent: float | None = Field(None, description="A change in percent of the value it acts on (+40 = 40% more).")
    add: float | None = Field(None, description="An amount added, in the parameter's unit (negative to reduce).")
    change_unit: str = Field("percent", description="For 'percent' on a parameter that is a percentage: 'percent' "
                                                    "(relative) or 'points' (percentage points).")
    ramp_months: int = Field(0, ge=0, le=600, description="Months over which the change phases in (0: at once).")

    _dates = field_validator("start", "end")(_check_date)

    @field_validator("value", mode="before")
    @classmethod
    def _ints_as_floats(cls, v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            if abs(v) > 2**1023:  # too large for a float: refused as a value error, not an OverflowError
                raise ValueError(f"a number of about {int(v.bit_length() * 0.30103) + 1} digits, too large for "
                                 "any parameter")
            return float(v)
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> "Change":
        kinds = [k for k in ("value", "percent", "add") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of 'value' (the new value), 'percent' (a change in percent) or "
                             f"'add' (an amount to add); got {', '.join(kinds) or 'none'}")
        if self.change_unit not in CHANGE_UNITS:
            raise ValueError(f"change_unit must be one of {', '.join(CHANGE_UNITS)}, got {self.change_unit!r}")
        if self.ramp_months and self.value is not None and not isinstance(self.value, float):
            raise ValueError("ramp_months needs a number to move towards; a list or yes/no changes at once")
        return self

    def describe(self) -> str:
        """The change in a planner's words: 'adopters.enquiries_per_month +40% from 2026-04 to 2026-09'."""
        if self.value is not None:
            what = f"= {self.value}"
        elif self.percent is not None:
            what = f"{self.percent:+g}{' points' if self.change_unit == 'points' else '%'}"
        else:
            what = f"{self.add:+g}"
        when = f"from {self.start}" + (f" to {self.end}" if self.end else "")
        ramp = f", phased in over {self.ramp_months} months" if self.ramp_months else ""
        return f"{self.parameter} {what} {when}{ramp}"


class Trend(_Entry):
    """A trend in one parameter: a yearly percentage change, or a value for each financial year."""

    percent_per_year: float | None = Field(None, ge=-90, le=500,
                                           description="Yearly change in percent, compounding monthly.")
    by_year: dict[str, float] | None = Field(None, description="The value in each financial year listed, "
                                                               "'YYYY-YY' = value.")
    anchor: str | None = Field(None, description="Financial year whose average is the parameter's value "
                                                 "(default: year 1).")
    start: str | None = Field(None, description="When the trend starts (default: the start of the run).")
    until: str | None = Field(None, description="Last month or financial year of the trend (default: the end of "
                                                "the anchor year); the value is held after it.")

    _dates = field_validator("anchor", "start", "until")(_check_date)

    @field_validator("by_year")
    @classmethod
    def _years(cls, v: dict[str, float] | None) -> dict[str, float] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("by_year: give at least one financial year, e.g. { \"2022-23\" = 60.0 }")
        for label in v:
            if not parse_date(label)[2]:
                raise ValueError(f"by_year: {label!r} is a month; give financial years 'YYYY-YY'")
        return v

    @model_validator(mode="after")
    def _one_kind(self) -> "Trend":
        if (self.percent_per_year is None) == (self.by_year is None):
            raise ValueError("give exactly one of 'percent_per_year' or 'by_year'")
        if self.by_year is not None and (self.anchor or self.start or self.until):
            raise ValueError("'anchor', 'start' and 'until' go with 'percent_per_year', not with 'by_year'")
        return self

    def describe(self) -> str:
        if self.by_year is not None:
            return f"{self.parameter} by year: " + ", ".join(f"{k} {v:g}" for k, v in self.by_year.items())
        span = f" from {self.start}" if self.start else ""
        span += f" until {self.until}" if self.until else ""
        return f"{self.parameter} {self.percent_per_year:+g}% a year{span}"


class DatedChangeError(ValueError):
    """A change or trend that does not fit the scenario (its dates, its overlaps, its values)."""


def _label(kind: str, i: int, entry: _Entry) -> str:
    return f"{kind} {i + 1} ({entry.parameter})"


def first_change_month(run) -> int:
    """The earliest month a change may start: April of the year after year 1, from the run's start."""
    return (run.warm_up_years + 1) * 12


def check_dates(changes: list[Change], trends: list[Trend], run) -> None:
    """Refuse a change before the first forecast year, an end before its start, overlaps, two
    trends of one parameter."""
    first_year = run.start_year - run.warm_up_years
    earliest = first_change_month(run)
    for i, c in enumerate(changes):
        m = start_month(c.start, first_year)
        if m < earliest:
            raise DatedChangeError(
                f"{_label('change', i, c)}: starts {c.start}, before the first forecast year: history (the warm-up "
                f"and year 1, {financial_year_label(run.start_year)}) runs on the baseline; start it in "
                f"{month_label(earliest, first_year)} ({financial_year_label(run.start_year + 1)}) or later")
        if c.end is not None and end_month(c.end, first_year) < m:
            raise DatedChangeError(f"{_label('change', i, c)}: ends {c.end}, before it starts ({c.start})")
    order = sorted(range(len(changes)), key=lambda i: (changes[i].parameter, start_month(changes[i].start,
                                                                                          first_year)))
    for a, b in zip(order, order[1:]):
        ca, cb = changes[a], changes[b]
        if ca.parameter != cb.parameter:
            continue
        sa, sb = start_month(ca.start, first_year), start_month(cb.start, first_year)
        busy_until = max(sa + ca.ramp_months - 1,
                         end_month(ca.end, first_year) if ca.end is not None else sa)
        if sb == sa or sb <= busy_until:
            why = "starts in the same month" if sb == sa else (
                f"starts while {_label('change', a, ca)} is still {'ramping' if ca.ramp_months else 'running'} "
                f"(to {month_label(busy_until, first_year)})")
            raise DatedChangeError(f"{_label('change', b, cb)}: overlaps: it {why}; changes to one parameter must "
                                   "follow one another (start the later one after the earlier ends)")
    seen: dict[str, int] = {}
    for i, t in enumerate(trends):
        if t.parameter in seen:
            raise DatedChangeError(f"{_label('trend', i, t)}: trend {seen[t.parameter] + 1} already moves this "
                                   "parameter; give one trend per parameter")
        seen[t.parameter] = i


def _trend_path(t: Trend, base: float, months: int, run) -> list[float]:
    """The parameter's value in each month under a trend (before any change)."""
    first_year = run.start_year - run.warm_up_years
    if t.by_year is not None:
        years = sorted((parse_date(k)[0], v) for k, v in t.by_year.items())
        out = []
        for m in range(months):
            fy = first_year + m // 12
            value = years[0][1]
            for y, v in years:
                if y <= fy:
                    value = v
            out.append(value)
        return out
    anchor_year = parse_date(t.anchor)[0] if t.anchor else run.start_year
    anchor = month_index_mid(anchor_year, first_year)
    lo = start_month(t.start, first_year) if t.start else 0
    hi = end_month(t.until, first_year) if t.until else (anchor_year - first_year) * 12 + 11
    growth = 1.0 + t.percent_per_year / 100.0
    # mean of growth**((m + 0.5 - anchor) / 12) over the anchor year's months is 1: divide by it
    norm = sum(growth ** ((k + 0.5 - 6.0) / 12.0) for k in range(12)) / 12.0
    return [_grown(base, growth, (min(max(m, lo), hi) + 0.5 - anchor) / 12.0) / norm for m in range(months)]


def _grown(base: float, growth: float, years: float) -> float:
    """``base * growth ** years``; infinite where that overflows (an anchor thousands of years
    from the run), so that the range check refuses it."""
    if base == 0:
        return 0.0
    try:
        return base * growth ** years
    except OverflowError:
        return math.copysign(math.inf, base)


def month_index_mid(year: int, first_year: int) -> float:
    """The middle of financial year ``year`` in months from the start of the run."""
    return (year - first_year) * 12 + 6.0


#: Units of the parameters that are shares or probabilities (range 0 to at most 1), on which a percent
#: change acts on the odds.
SHARE_UNITS = ("fraction", "probability", "probability of those open to siblings", "share of each panel's places")


def share_range(info: dict) -> tuple[float, float] | None:
    """The range of a share or probability parameter (from :func:`sim.scenario.parameters.field_info`), or
    None for any other parameter."""
    if info["unit"] in SHARE_UNITS and info["min"] is not None and info["max"] is not None:
        return float(info["min"]), float(info["max"])
    return None


def odds_percent(value: float, percent: float, lo: float, hi: float) -> float:
    """A share moved by ``percent`` on the odds of where it sits in ``[lo, hi]``: never outside it.

    >>> round(odds_percent(0.6, 100.0, 0.0, 1.0), 6)
    0.75
    >>> odds_percent(1.0, 50.0, 0.0, 1.0), odds_percent(0.0, 50.0, 0.0, 1.0)
    (1.0, 0.0)
    """
    if not lo < value < hi or percent <= -100.0:
        return min(max(value, lo), hi) if percent > -100.0 else lo
    odds = (value - lo) / (hi - value) * (1.0 + percent / 100.0)
    return lo + (hi - lo) * odds / (1.0 + odds)


def _apply(c: Change, under: Any, fraction: float, is_pct_param: bool,
           share: tuple[float, float] | None = None) -> Any:
    """What change ``c`` makes of ``under`` (the value without it), ``fraction`` of the way in;
    ``share`` is the range of a share parameter, whose percent changes act on the odds."""
    if c.value is not None:
        if not isinstance(c.value, float) or isinstance(under, (bool, list)):
            return c.value
        target = c.value
    elif c.percent is not None:
        if is_pct_param and c.change_unit == "points":
            target = under + c.percent
        elif share is not None:
            target = odds_percent(under, c.percent, *share)
        else:
            target = under * (1.0 + c.percent / 100.0)
    else:
        target = under + c.add
    return under + (target - under) * fraction


def monthly_values(scenario, months: int) -> dict[tuple[str, str], list[Any]]:
    """Every changing parameter's value in each of the run's first ``months`` months.

    Keys are (section, name); parameters that never move are left out.  Raises
    :class:`DatedChangeError` if a value leaves its parameter's valid range.
    """
    from sim.scenario.parameters import SECTIONS, field_info

    run = scenario.scenario
    first_year = run.start_year - run.warm_up_years
    changes, trends = scenario.change, scenario.trend
    paths: dict[tuple[str, str], list[Any]] = {}
    for t in trends:
        base = getattr(getattr(scenario, t.section), t.name)
        if isinstance(base, (bool, list)):
            raise DatedChangeError(f"trend ({t.parameter}): only a number can follow a trend")
        paths[(t.section, t.name)] = _trend_path(t, float(base), months, run)
    by_param: dict[tuple[str, str], list[tuple[int, Change]]] = {}
    for i, c in enumerate(changes):
        by_param.setdefault((c.section, c.name), []).append((i, c))
    for key, entries in by_param.items():
        section, name = key
        base = getattr(getattr(scenario, section), name)
        info = field_info(section, name)
        is_pct_param = info["unit"].startswith("%")
        share = share_range(info)
        if isinstance(base, (bool, list)) and any(c.value is None for _, c in entries):
            raise DatedChangeError(f"change ({section}.{name}): this parameter takes a new 'value', not a percent or "
                                   "an amount")
        path = list(paths.get(key, [base] * months))
        for _, c in sorted(entries, key=lambda e: start_month(e[1].start, first_year)):
            lo = start_month(c.start, first_year)
            hi = end_month(c.end, first_year) if c.end is not None else months - 1
            for m in range(max(lo, 0), min(hi, months - 1) + 1):
                fraction = min(1.0, (m - lo + 1) / c.ramp_months) if c.ramp_months else 1.0
                path[m] = _apply(c, path[m], fraction, is_pct_param, share)
        paths[key] = path
    for (section, name), path in paths.items():
        default = SECTIONS[section].model_fields[name].default
        if isinstance(default, int) and not isinstance(default, bool):
            paths[(section, name)] = path = [int(round(v)) if _number(v) and math.isfinite(v) else v for v in path]
        info = field_info(section, name)
        for m, v in enumerate(path):
            if isinstance(v, (int, float)) and not isinstance(v, bool) and (
                    (info["min"] is not None and v < info["min"]) or (info["max"] is not None and v > info["max"])):
                who = [_label("change", i, c) for i, c in enumerate(changes)
                       if (c.section, c.name) == (section, name) and start_month(c.start, first_year) <= m]
                who += [_label("trend", i, t) for i, t in enumerate(trends) if (t.section, t.name) == (section, name)]
                raise DatedChangeError(
                    f"{', '.join(who)}: takes {section}.{name} to {v:.6g} in {month_label(m, first_year)}, "
                    f"outside its valid range {info['min']:g} to {info['max']:g} {info['unit']}")
        _check_values(scenario, section, name, path, changes, trends, first_year)
    return paths


def _number(v: Any) -> bool:
    """Whether ``v`` is a number (a list or yes/no given for a count is refused by the value check)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_values(scenario, section: str, name: str, path: list, changes, trends, first_year: int) -> None:
    """Each distinct value the parameter takes must be one its section accepts (type, and for a
    distribution, probabilities adding up to one)."""
    from pydantic import ValidationError

    from sim.scenario.parameters import SECTIONS

    current = getattr(scenario, section).model_dump()
    seen = set()
    for m, v in enumerate(path):
        if repr(v) in seen:
            continue
        seen.add(repr(v))
        try:
            SECTIONS[section].model_validate({**current, name: v})
        except ValidationError as exc:
            who = [_label("change", i, c) for i, c in enumerate(changes) if (c.section, c.name) == (section, name)]
            who += [_label("trend", i, t) for i, t in enumerate(trends) if (t.section, t.name) == (section, name)]
            why = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            raise DatedChangeError(f"{', '.join(who)}: {section}.{name} = {v!r} in {month_label(m, first_year)} is "
                                   f"not allowed: {why}") from None
