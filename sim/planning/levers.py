"""The levers a service moves in the app, in its own terms, and how they map onto a scenario.

Most levers are one scenario parameter (enquiries per month, stage 2 length, panels a month
...).  A few are put the way a planner says them and translated here:

* a *recruitment campaign* is "x% more enquiries" on top of the enquiries lever, for a number
  of months or to the end of the run;
* shares of adopters and children are shown as percentages, not probabilities;
* the *children's mix* is the share arriving as sibling groups and the share aged 5 or
  over; the rest of each distribution keeps its baseline proportions, so it still adds up
  to one.

**Levers act from a date.**  History (the warm-up and year 1, the base year) always runs on
the baseline, so a moved lever becomes a dated change (``[[change]]``, :mod:`sim.scenario.changes`)
from its "from" date: a financial year ("2023-24", its April) or a month ("2023-10"), by
default the first year after the base year.  A plain lever sets a new ``value``; the campaign
is a ``percent`` change of enquiries, time-limited when it lasts a number of months; the
children's mix sets the whole distribution.  A moved lever replaces the baseline scenario's
own changes to its parameter from its date on (the form says what runs from then); one of
the scenario's changes still phasing in or time-limited at that date is an overlap, refused
with a message saying from when the lever may start.  Enquiries and the campaign are one
parameter: from the earlier of their dates enquiries follow the form, the enquiries lever with
the campaign on top.

Every lever carries its unit, its value at the start of the forecast (after the baseline's
own dated changes, if it has any) and where that value came from (declared with each
parameter in :mod:`sim.scenario.parameters`, the fit of a calibrated baseline, or the scenario file and
its ``[[change]]``).  A lever left at that value adds nothing, so an unchanged form gives
exactly the baseline (and its cached results).  A moved lever keeps the parameter's fitted
record: the base year still runs on the fitted value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.scenario.calendar import end_month, financial_year_label, month_label, start_month
from sim.scenario.changes import Change, first_change_month, monthly_values
from sim.scenario.files import ScenarioError, built_in_baseline, scenario_from_dict
from sim.scenario.parameters import Scenario, field_info

HAMPSHIRE = "003_67152c9971fde174.txt"


@dataclass(frozen=True)
class Lever:
    key: str  # unique id, also the widget key
    group: str  # heading in the form
    label: str  # what the user reads
    unit: str  # unit as shown (after scaling)
    section: str | None = None  # scenario section, None for a derived lever
    name: str | None = None  # scenario parameter
    scale: float = 1.0  # shown value = parameter value x scale (100 for a share shown in %)
    step: float = 1.0
    lo: float | None = None  # shown range (defaults from the parameter)
    hi: float | None = None
    source: str | None = None  # for derived levers
    meaning: str | None = None  # for derived levers

    @property
    def integer(self) -> bool:
        if self.section is None:
            return False
        default = field_info(self.section, self.name)["default"]
        return isinstance(default, int) and not isinstance(default, bool) and self.scale == 1.0


def _p(key, group, label, section, name, unit=None, scale=1.0, step=1.0) -> Lever:
    info = field_info(section, name)
    return Lever(key=key, group=group, label=label, unit=unit or info["unit"], section=section, name=name,
                 scale=scale, step=step, lo=info["min"] * scale, hi=info["max"] * scale)


RECRUITMENT = "Recruitment"
ASSESSMENT = "Assessment and panel"
TARGETED = "Targeted recruitment: what new adopters are open to"
CHILDREN = "Children entering and their mix"
FAMILY_FINDING = "Family finding"
FEES = "Interagency fee schedule"

LEVERS: tuple[Lever, ...] = (
    _p("enquiries_per_month", RECRUITMENT, "Enquiries per month", "adopters", "enquiries_per_month", step=0.5),
    Lever("campaign_pct", RECRUITMENT, "Recruitment campaign: extra enquiries", "% more enquiries",
          step=5.0, lo=-100.0, hi=300.0,
          source=f"assumption: none in the baseline; Hampshire raised its adopter target from 50 to 65 a year, "
                 f"+30% ({HAMPSHIRE} §3.1.2)",
          meaning="A campaign raising (or a cut lowering) enquiries by this percentage, on top of the "
                  "enquiries a month above, from its date; for a number of months, or to the end of the run."),
    _p("registration_share", RECRUITMENT, "Conversion of enquiries to registration", "adopters",
       "registration_share", unit="% of enquiries", scale=100.0, step=0.5),
    _p("stage1_days", ASSESSMENT, "Stage 1 length", "adopters", "stage1_days", step=5.0),
    _p("stage2_days", ASSESSMENT, "Stage 2 length", "adopters", "stage2_days", step=5.0),
    _p("assessing_social_workers", ASSESSMENT, "Assessing social workers", "adopters", "assessing_social_workers",
       step=0.5),
    _p("panels_per_month", ASSESSMENT, "Adoption panels per month", "panel", "panels_per_month", step=0.5),
    _p("open_to_siblings_share", TARGETED, "Open to a sibling group", "adopters", "open_to_siblings_share",
       unit="% of approved households", scale=100.0, step=5.0),
    _p("open_to_older_share", TARGETED, "Open to a child aged 5 or over", "adopters", "open_to_older_share",
       unit="% of approved households", scale=100.0, step=5.0),
    _p("open_to_complex_share", TARGETED, "Open to a child with complex needs", "adopters", "open_to_complex_share",
       unit="% of approved households", scale=100.0, step=5.0),
    _p("dual_approved_share", TARGETED, "Dual approved for early permanence (an opt-out raises it)", "adopters",
       "dual_approved_share", unit="% of approved households", scale=100.0, step=5.0),
    _p("entering_per_year", CHILDREN, "Children entering care with an adoption plan", "children",
       "entering_per_year", step=1.0),
    Lever("sibling_group_share", CHILDREN, "Arriving as sibling groups", "% of arrivals (pairs and trios)",
          step=1.0, lo=0.0, hi=100.0,
          source=field_info("children", "sibling_group_probs")["source"],
          meaning="Share of arrivals that are a sibling pair or trio; pairs and trios keep their baseline "
                  "proportions."),
    Lever("older_share", CHILDREN, "Aged 5 or over on entering care", "% of arrivals", step=1.0, lo=0.0, hi=100.0,
          source=field_info("children", "age_band_probs")["source"],
          meaning="Share of arrivals aged 5 or over; younger age bands keep their baseline proportions."),
    _p("complex_needs_share", CHILDREN, "Children with complex needs", "children", "complex_needs_share",
       unit="% of arrivals", scale=100.0, step=1.0),
    _p("early_permanence_share", CHILDREN, "Children considered for early permanence", "children",
       "early_permanence_share", unit="% of arrivals", scale=100.0, step=5.0),
    _p("proceedings_weeks", CHILDREN, "Care proceedings: entering care to placement order", "children",
       "proceedings_weeks", step=1.0),
    _p("inhouse_search_days", FAMILY_FINDING, "In-house search before going interagency", "matching",
       "inhouse_search_days", step=15.0),
    _p("interagency_sufficiency", FAMILY_FINDING, "National sufficiency of interagency families (1 = today)",
       "matching", "interagency_sufficiency", step=0.1),
    _p("vaa_one_child_gbp", FEES, "VAA fee, one child (in its base year, see help)", "fees", "vaa_one_child_gbp", step=500.0),
    _p("vaa_two_siblings_gbp", FEES, "VAA fee, two siblings", "fees", "vaa_two_siblings_gbp", step=500.0),
    _p("vaa_three_siblings_gbp", FEES, "VAA fee, three siblings", "fees", "vaa_three_siblings_gbp", step=500.0),
    _p("vaa_uprating_pct", FEES, "VAA fee uprating", "fees", "vaa_uprating_pct", step=0.5),
    _p("la_one_child_gbp", FEES, "LA/RAA fee, one child (in its base year, see help)", "fees", "la_one_child_gbp",
       step=500.0),
    _p("la_two_siblings_gbp", FEES, "LA/RAA fee, two siblings", "fees", "la_two_siblings_gbp", step=500.0),
    _p("la_three_siblings_gbp", FEES, "LA/RAA fee, three siblings", "fees", "la_three_siblings_gbp", step=500.0),
    _p("la_uprating_pct", FEES, "LA/RAA fee uprating", "fees", "la_uprating_pct", step=0.5),
)

LEVER_BY_KEY: dict[str, Lever] = {lever.key: lever for lever in LEVERS}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(lever.group for lever in LEVERS))
ENQUIRIES = "adopters.enquiries_per_month"
CAMPAIGN = "campaign_pct"

_TOLERANCE = 1e-9


class LeverError(ScenarioError):
    """Lever settings that cannot make a scenario: a date that is not one, a change before the
    first forecast year, or an overlap with the baseline's own dated changes."""


# --------------------------------------------------------------------------- dates
def _first_year(scenario: Scenario) -> int:
    """The financial year the run starts in (the first warm-up year): month 0 of the run."""
    return scenario.scenario.start_year - scenario.scenario.warm_up_years


def default_start(scenario: Scenario) -> str:
    """The earliest a lever can act: the first year after the base year ('2023-24' for the
    built-in baseline, whose base year is 2022-23)."""
    return financial_year_label(scenario.scenario.start_year + 1)


def start_index(scenario: Scenario, text: str, what: str = "Levers") -> int:
    """The month of the run (0 = the first warm-up month) a 'from' date stands for; a date that
    is not one, or one before the first forecast year, is refused with what is allowed."""
    try:
        m = start_month(str(text).strip(), _first_year(scenario))
    except ValueError as exc:
        raise LeverError(f"{what}: 'from' {exc}") from None
    earliest = first_change_month(scenario.scenario)
    if m < earliest:
        run = scenario.scenario
        raise LeverError(
            f"{what}: from {text} is before the first forecast year. History (the warm-up and "
            f"{financial_year_label(run.start_year)}, the base year) runs on the baseline; a lever can act from "
            f"{default_start(scenario)} ({month_label(earliest, _first_year(scenario))}) or later")
    return m


def _date(m: int, first_year: int) -> str:
    """A start month as a planner writes it: the financial year for an April, else the month."""
    return financial_year_label(first_year + m // 12) if m % 12 == 0 else month_label(m, first_year)


def _start(c: Change, first_year: int) -> int:
    return start_month(c.start, first_year)


def _busy_until(c: Change, first_year: int) -> int:
    """The last month a change is phasing in or time-limited (its start month for a plain step)."""
    s = _start(c, first_year)
    return max(s + c.ramp_months - 1, end_month(c.end, first_year) if c.end is not None else s)


def in_force(scenario: Scenario, month: int) -> Scenario:
    """The scenario with every parameter at its value in month ``month`` of the run (after its
    dated changes and trends); the scenario itself when nothing moves.  For reading only."""
    if not (scenario.change or scenario.trend):
        return scenario
    updates: dict[str, dict[str, Any]] = {}
    for (section, name), path in monthly_values(scenario, month + 1).items():
        updates.setdefault(section, {})[name] = path[month]
    return scenario.model_copy(update={section: getattr(scenario, section).model_copy(update=names)
                                       for section, names in updates.items()})


# --------------------------------------------------------------------------- values
def _values(scenario: Scenario) -> dict[str, float]:
    out: dict[str, float] = {}
    for lever in LEVERS:
        if lever.key == CAMPAIGN:
            out[lever.key] = 0.0
        elif lever.key == "sibling_group_share":
            out[lever.key] = _round(100.0 * (1.0 - scenario.children.sibling_group_probs[0]))
        elif lever.key == "older_share":
            out[lever.key] = _round(100.0 * scenario.children.age_band_probs[3])
        else:
            value = getattr(getattr(scenario, lever.section), lever.name)
            out[lever.key] = value if lever.integer else _round(float(value) * lever.scale)
    return out


def lever_values(scenario: Scenario) -> dict[str, float]:
    """The value each lever shows for ``scenario`` (in the lever's own unit): the value in force
    at the start of the forecast, after the scenario's own dated changes (its static value when
    it has none)."""
    return _values(in_force(scenario, first_change_month(scenario.scenario)))


def base_year_values(scenario: Scenario) -> dict[str, float]:
    """Each lever's value in the scenario's history (its static values, before any dated change)."""
    return _values(scenario)


def lever_values_at(scenario: Scenario, month: int) -> dict[str, float]:
    """Each lever's value in force in month ``month`` of the run."""
    return _values(in_force(scenario, month))


#: The scenario parameter behind each lever that is not one parameter itself.
_COMPOSITE = {CAMPAIGN: ENQUIRIES, "sibling_group_share": "children.sibling_group_probs",
              "older_share": "children.age_band_probs"}


def lever_parameter(lever: Lever) -> str:
    """The scenario parameter ("section.name") a lever sets."""
    return _COMPOSITE.get(lever.key) or f"{lever.section}.{lever.name}"


#: The lever showing each parameter (the enquiries lever for enquiries; the campaign shows only
#: a percent change of enquiries).
_LEVER_OF = {lever_parameter(lever): lever for lever in LEVERS if lever.key != CAMPAIGN}


def _lever_for(c: Change) -> Lever | None:
    if c.parameter == ENQUIRIES and c.percent is not None:
        return LEVER_BY_KEY[CAMPAIGN]
    return _LEVER_OF.get(c.parameter)


def _round(x: float) -> float:
    """Drop binary noise (0.143 x 100 = 14.299999999999999) so values show as typed."""
    return float(round(x, 9))


# --------------------------------------------------------------------------- levers to changes
def apply_levers(base: Scenario, values: dict[str, float], start: str | None = None,
                 starts: dict[str, str] | None = None, campaign_months: int = 0) -> Scenario:
    """``base`` with the levers in ``values`` as dated changes; levers at the value they show
    (:func:`lever_values`) add nothing, so an unchanged form gives ``base`` itself.

    ``start`` is when the moved levers act ("2023-24" or "2023-10"; default
    :func:`default_start`), ``starts`` a date for some levers (by key) instead, and
    ``campaign_months`` how long the recruitment campaign lasts (0: to the end of the run).
    Raises :class:`LeverError` (a :class:`ScenarioError`) for a bad date or an overlap.
    """
    shown = lever_values(base)
    moved: dict[str, float] = {}
    for key, value in values.items():
        LEVER_BY_KEY[key]  # KeyError for an unknown lever
        if value is None or abs(float(value) - float(shown[key])) <= _TOLERANCE * max(1.0, abs(float(value))):
            continue
        moved[key] = float(value)
    if not moved:
        return base
    start = (start or "").strip() or default_start(base)
    starts = {k: str(v).strip() for k, v in (starts or {}).items() if v is not None and str(v).strip()}
    first_year = _first_year(base)

    def when(key: str) -> int:
        text = starts.get(key, start)
        return start_index(base, text, LEVER_BY_KEY[key].label)

    if campaign_months is not None and int(campaign_months) < 0:
        raise LeverError(f"campaign length: give a number of months, 0 for to the end of the run, got {campaign_months}")
    changes = list(base.change)
    for key, value in moved.items():
        if key in ("enquiries_per_month", CAMPAIGN):
            continue
        lever = LEVER_BY_KEY[key]
        m = when(key)
        parameter = lever_parameter(lever)
        changes = _replace_from(changes, parameter, m, first_year, lever.label)
        changes.append(Change(parameter=parameter, start=_date(m, first_year), value=_lever_value(base, lever, value, m),
                              note=f"set in the app: {lever.label}"))
    enquiries = (moved["enquiries_per_month"], when("enquiries_per_month")) if "enquiries_per_month" in moved else None
    campaign = (moved[CAMPAIGN], when(CAMPAIGN), int(campaign_months or 0)) if CAMPAIGN in moved else None
    if enquiries or campaign:
        changes = _recruitment(base, changes, first_year, enquiries, campaign)
    data = base.model_dump()
    data["change"] = [c.model_dump(exclude_none=True) for c in changes]
    return scenario_from_dict(data, "levers")


def set_from(base: Scenario, parameter: str, value: Any, start: str | None = None, note: str = "") -> Scenario:
    """``base`` with ``parameter`` set to ``value`` from ``start`` (a dated ``value`` change), even
    where that is the value it has (the target finder's levels)."""
    start = (start or "").strip() or default_start(base)
    first_year = _first_year(base)
    m = start_index(base, start)
    changes = _replace_from(list(base.change), parameter, m, first_year, parameter)
    changes.append(Change(parameter=parameter, start=_date(m, first_year), value=value, note=note))
    data = base.model_dump()
    data["change"] = [c.model_dump(exclude_none=True) for c in changes]
    return scenario_from_dict(data, "levers")


def _lever_value(base: Scenario, lever: Lever, value: float, m: int) -> Any:
    """The parameter value a lever's shown value stands for, from month ``m``."""
    if lever.key == "sibling_group_share":
        return _resize(in_force(base, m).children.sibling_group_probs, 0, 1 - value / 100)
    if lever.key == "older_share":
        return _resize(in_force(base, m).children.age_band_probs, 3, value / 100)
    raw = float(value) / lever.scale
    return float(int(round(raw))) if lever.integer else raw


def _replace_from(changes: list[Change], parameter: str, m: int, first_year: int, what: str) -> list[Change]:
    """The changes without those to ``parameter`` starting in month ``m`` or later (a lever from
    ``m`` replaces them); an earlier one still phasing in or time-limited at ``m`` is refused."""
    kept = [c for c in changes if c.parameter != parameter or _start(c, first_year) < m]
    for c in kept:
        if c.parameter == parameter and _start(c, first_year) < m <= _busy_until(c, first_year):
            busy = _busy_until(c, first_year)
            raise LeverError(
                f"{what}, from {_date(m, first_year)}: the scenario's own change ({c.describe()}) is still "
                f"{'phasing in' if c.ramp_months and _start(c, first_year) + c.ramp_months - 1 >= m else 'running'} "
                f"then; start the lever from {month_label(busy + 1, first_year)} or later, or leave it at its value")
    return kept


def _recruitment(base: Scenario, changes: list[Change], first_year: int, enquiries: tuple[float, int] | None,
                 campaign: tuple[float, int, int] | None) -> list[Change]:
    """The changes to enquiries for the enquiries lever (value, month) and the campaign
    (percent, month, months; 0 months: to the end of the run).

    From the earlier of their months enquiries follow the form: the scenario's own changes to
    enquiries from then on are replaced, the level (the enquiries lever, or else the value in
    force then) with the campaign on top.  Where the pieces fit as they are, they are written
    as a planner would (a value from one date, +x% from another, for n months); otherwise
    month by month stretches of values.
    """
    s0 = min(m for m in ((enquiries or (0, None))[1], (campaign or (0, None, 0))[1]) if m is not None)
    replaced = [c for c in changes if c.parameter == ENQUIRIES and _start(c, first_year) >= s0]
    steps: list[tuple[int, float]] = []
    if replaced and not (enquiries and enquiries[1] == s0):
        steps.append((s0, float(in_force(base, s0).adopters.enquiries_per_month)))
    if enquiries:
        steps.append((enquiries[1], enquiries[0]))
    steps.sort()
    what = "; ".join(filter(None, [
        f"enquiries {enquiries[0]:g} a month" if enquiries else "",
        (f"recruitment campaign {campaign[0]:+g}% enquiries" + (f" for {campaign[2]} months" if campaign[2] else ""))
        if campaign else ""]))
    new = _enquiry_entries(steps, campaign, first_year, f"set in the app: {what}")
    kept = _replace_from(changes, ENQUIRIES, s0, first_year, "Enquiries per month")
    for c in new[1:]:  # a change of the scenario's still running when a later stretch starts
        _replace_from(kept, ENQUIRIES, _start(c, first_year), first_year, "Enquiries per month")
    return kept + new


def _enquiry_entries(steps: list[tuple[int, float]], campaign: tuple[float, int, int] | None, first_year: int,
                     note: str) -> list[Change]:
    pct, b, months = campaign if campaign else (0.0, None, 0)
    e = b + months - 1 if campaign and months else None

    def on(m: int) -> bool:
        return campaign is not None and b <= m and (e is None or m <= e)

    entries: list[dict] = []
    if not any(on(m) for m, _ in steps):  # the campaign on top of a level set before it, or before any level
        entries = [{"start": m, "end": None, "value": v} for m, v in steps]
        if campaign:
            entries.append({"start": b, "end": e, "percent": pct})
    else:  # a level starts during the campaign: stretches, each its value
        marks = sorted({m for m, _ in steps} | {b} | ({e + 1} if e is not None else set()))
        for i, s in enumerate(marks):
            t = marks[i + 1] - 1 if i + 1 < len(marks) else None
            level = next((v for m, v in reversed(steps) if m <= s), None)
            if level is not None:
                value = round(max(0.0, level * (1.0 + pct / 100.0)), 4) if on(s) else level
                entry = {"start": s, "end": t, "value": value}
            elif on(s):
                entry = {"start": s, "end": t, "percent": pct}
            else:
                continue
            last = entries[-1] if entries else None
            if last and last["end"] is not None and last["end"] + 1 == s and \
                    {k: v for k, v in last.items() if k not in ("start", "end")} == \
                    {k: v for k, v in entry.items() if k not in ("start", "end")}:
                last["end"] = t
            else:
                entries.append(entry)
    entries.sort(key=lambda x: x["start"])
    out = []
    for x in entries:
        amount = {"value": float(x["value"])} if "value" in x else {"percent": float(x["percent"])}
        out.append(Change(parameter=ENQUIRIES, start=_date(x["start"], first_year),
                          end=month_label(x["end"], first_year) if x["end"] is not None else None,
                          note=note, **amount))
    return out


def _resize(probs: list[float], index: int, share: float) -> list[float]:
    """Set ``probs[index]`` to ``share`` and rescale the others to keep their proportions."""
    share = min(1.0, max(0.0, share))
    rest = [p for i, p in enumerate(probs) if i != index]
    total = sum(rest)
    scaled = [p / total * (1.0 - share) for p in rest] if total > 0 else [(1.0 - share) / len(rest)] * len(rest)
    out = scaled[:index] + [share] + scaled[index:]
    out = [round(p, 6) for p in out]
    others = [i for i in range(len(out)) if i != index]
    largest = max(others, key=lambda i: out[i])  # absorbs the rounding, so the total is 1
    out[largest] = round(1.0 - sum(p for i, p in enumerate(out) if i != largest), 6)
    return out


# --------------------------------------------------------------------------- describing levers
def _how(c: Change) -> str:
    if c.percent is not None:
        return f" ({c.percent:+g}{' points' if c.change_unit == 'points' else '%'})"
    if c.add is not None:
        return f" ({c.add:+g})"
    return ""


def _when(start: str, end: str | None, ramp_months: int = 0) -> str:
    return f"from {start}" + (f" to {end}" if end else "") + (
        f", phased in over {ramp_months} months" if ramp_months else "")


def _settled(c: Change, first_year: int) -> int:
    """The month a change has fully come in (the end of its ramp)."""
    return _start(c, first_year) + max(c.ramp_months, 1) - 1


def lever_info(lever: Lever, baseline: Scenario, baseline_label: str) -> dict[str, Any]:
    """Unit, value, range and source of a lever, for its help text.

    The value is the one in force at the start of the forecast.  The source is the
    parameter's declared source; for a calibrated baseline, the figures the parameter was
    fitted to; for a value some other scenario file set, that file (with the value and source
    the parameter has in the built-in baseline); for a parameter the scenario changes from a
    date (``[[change]]``), "from <date>: <value>" and the scenario, then the base year's value
    and its source.
    """
    value = lever_values(baseline)[lever.key]
    static = _values(baseline)[lever.key]
    built_in = built_in_baseline()
    if lever.section is None:
        source, meaning = lever.source, lever.meaning
    else:
        info = field_info(lever.section, lever.name)
        source, meaning = info["source"], info["meaning"]
        if lever.section == "fees" and lever.name.endswith("_gbp"):
            meaning += " " + _fee_year(baseline, lever.name.split("_")[0])
    param = None if lever.key == CAMPAIGN else lever_parameter(lever)  # the campaign is 0 in every baseline
    fitted = baseline.calibration.fitted.get(param) if param else None
    built_in_shown = _values(built_in)[lever.key]
    if fitted:
        source = f"calibrated in '{baseline_label}': {fitted}"
    elif abs(float(static) - float(built_in_shown)) > 1e-9:
        built_in_source = built_in.calibration.fitted.get(param, source) if param else source
        source = (f"set by the scenario '{baseline_label}' (built-in baseline {_fmt(built_in_shown)}: "
                  f"{built_in_source})")
    first_year = _first_year(baseline)
    dated = sorted((c for c in baseline.change if param and c.parameter == param),
                   key=lambda c: _start(c, first_year))
    changes = []
    for c in dated:
        after = lever_values_at(baseline, _settled(c, first_year))[lever.key]
        changes.append(f"{_when(c.start, c.end, c.ramp_months)}: {_fmt(after)}{_how(c)}, set by the scenario "
                       f"'{baseline_label}'" + (f" ({c.note})" if c.note else ""))
    if changes:
        source = (f"{'; '.join(changes)}. In {financial_year_label(baseline.scenario.start_year)} (the base year): "
                  f"{_fmt(static)}, {source}")
    return {"unit": lever.unit, "baseline": value, "base_year": static, "lo": lever.lo, "hi": lever.hi,
            "source": source, "meaning": meaning, "changes": changes}


def _fee_year(scenario: Scenario, provider: str) -> str:
    """Which year a fee lever's amount is for, and how it changes after (provider "vaa" or "la")."""
    fees = scenario.fees
    year = getattr(fees, f"{provider}_base_year")
    uprating = getattr(fees, f"{provider}_uprating_pct")
    return (f"The fee in {financial_year_label(year)}, uprated by {uprating:g}% a year after that "
            f"(fees by year: the Finance view).")


def lever_help(lever: Lever, baseline: Scenario, baseline_label: str) -> str:
    """One paragraph: meaning, unit, baseline value and its source."""
    info = lever_info(lever, baseline, baseline_label)
    return (f"{info['meaning']}  \n**Unit:** {info['unit']}.  **Baseline:** {_fmt(info['baseline'])} "
            f"({baseline_label}).  \n**Source:** {info['source']}")


def _fmt(x: Any) -> str:
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        return f"{x:,.6g}"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, list):
        return "[" + ", ".join(_fmt(v) for v in x) + "]"
    return str(x)


@dataclass(frozen=True)
class LeverChange:
    """One difference between two scenarios, in lever terms: a dated change, or (``start`` None)
    a value that differs throughout, history included."""

    lever: Lever | None  # None: a parameter no lever shows
    parameter: str
    before: Any  # in the lever's unit (the parameter's, without a lever)
    after: Any
    start: str | None = None
    end: str | None = None
    ramp_months: int = 0
    detail: str = ""  # the campaign's effect on enquiries a month

    @property
    def label(self) -> str:
        return self.lever.label if self.lever else self.parameter

    def text(self) -> str:
        """'Stage 2 length 128 → 120 days from 2023-24'; 'Recruitment campaign: extra enquiries +30% from
        2023-24 to 2023-09'."""
        when = "throughout" if self.start is None else _when(self.start, self.end, self.ramp_months)
        if self.lever is not None and self.lever.key == CAMPAIGN:
            return f"{self.label} {self.after:+g}% {when}" + (f" ({self.detail})" if self.detail else "")
        unit = self.lever.unit if self.lever else field_info(*self.parameter.split("."))["unit"]
        return f"{self.label} {_fmt(self.before)} → {_fmt(self.after)} {unit} {when}"


def changed_levers(base: Scenario, scenario: Scenario) -> list[LeverChange]:
    """What ``scenario`` changes against ``base``: the levers whose value differs throughout
    (history included), then each dated change ``scenario`` has and ``base`` has not, with
    the lever's value before it and once it is in (in the order they start)."""
    out = []
    a, b = _values(base), _values(scenario)
    for lever in LEVERS:
        if abs(float(a[lever.key]) - float(b[lever.key])) > 1e-9:
            out.append(LeverChange(lever, lever_parameter(lever), a[lever.key], b[lever.key]))
    first_year = _first_year(scenario)
    added = sorted((c for c in scenario.change if c not in base.change), key=lambda c: _start(c, first_year))
    for c in added:
        lever = _lever_for(c)
        m, settled = _start(c, first_year), _settled(c, first_year)
        detail = ""
        if lever is not None and lever.key == CAMPAIGN:
            before, after = 0.0, c.percent
            detail = (f"enquiries {_fmt(lever_values_at(base, m)['enquiries_per_month'])} → "
                      f"{_fmt(lever_values_at(scenario, settled)['enquiries_per_month'])} a month")
        elif lever is not None:
            before, after = lever_values_at(base, m)[lever.key], lever_values_at(scenario, settled)[lever.key]
        else:
            section, name = c.section, c.name
            before = getattr(getattr(in_force(base, m), section), name)
            after = getattr(getattr(in_force(scenario, settled), section), name)
        out.append(LeverChange(lever, c.parameter, before, after, c.start, c.end, c.ramp_months, detail))
    return out
