"""The levers a service moves in the app, in its own terms, and how they map onto a scenario.

Most levers are one scenario parameter (enquiries per month, stage 2 length, panels a month
...).  A few are put the way a planner says them and translated here:

* a *recruitment campaign* is "x% more enquiries" on top of the enquiries lever;
* shares of adopters and children are shown as percentages, not probabilities;
* the *children's mix* is the share arriving as sibling groups and the share aged 5 or
  over; the rest of each distribution keeps its baseline proportions, so it still adds up
  to one.

Every lever carries its unit, its baseline value and where that value came from (declared
with each parameter in :mod:`sim.parameters`).  A lever left at its baseline value leaves
the scenario untouched, so an unchanged form gives exactly the baseline (and its cached
results).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.parameters import Scenario, field_info, without_fitted
from sim.scenario_file import built_in_baseline

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
                  "enquiries a month above."),
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

_TOLERANCE = 1e-9


def lever_values(scenario: Scenario) -> dict[str, float]:
    """The value each lever shows for ``scenario`` (in the lever's own unit)."""
    out: dict[str, float] = {}
    for lever in LEVERS:
        if lever.key == "campaign_pct":
            out[lever.key] = 0.0
        elif lever.key == "sibling_group_share":
            out[lever.key] = _round(100.0 * (1.0 - scenario.children.sibling_group_probs[0]))
        elif lever.key == "older_share":
            out[lever.key] = _round(100.0 * scenario.children.age_band_probs[3])
        else:
            value = getattr(getattr(scenario, lever.section), lever.name)
            out[lever.key] = value if lever.integer else _round(float(value) * lever.scale)
    return out


#: The scenario parameter behind each lever that is not one parameter itself.
_COMPOSITE = {"campaign_pct": "adopters.enquiries_per_month", "sibling_group_share": "children.sibling_group_probs",
              "older_share": "children.age_band_probs"}


def lever_parameter(lever: Lever) -> str:
    """The scenario parameter ("section.name") a lever sets."""
    return _COMPOSITE.get(lever.key) or f"{lever.section}.{lever.name}"


def _round(x: float) -> float:
    """Drop binary noise (0.143 x 100 = 14.299999999999999) so values show as typed."""
    return float(round(x, 9))


def apply_levers(base: Scenario, values: dict[str, float]) -> Scenario:
    """``base`` with the levers in ``values`` applied; levers at their base value change nothing."""
    shown = lever_values(base)
    data = base.model_dump()
    changed = []
    for key, value in values.items():
        lever = LEVER_BY_KEY[key]  # KeyError for an unknown lever
        if value is None or abs(float(value) - float(shown[key])) <= _TOLERANCE * max(1.0, abs(float(value))):
            continue
        changed.append(lever_parameter(lever))
        if key == "campaign_pct":
            continue  # applied below, on top of the enquiries lever
        if key == "sibling_group_share":
            data["children"]["sibling_group_probs"] = _resize(base.children.sibling_group_probs, 0, 1 - value / 100)
        elif key == "older_share":
            data["children"]["age_band_probs"] = _resize(base.children.age_band_probs, 3, value / 100)
        else:
            raw = float(value) / lever.scale
            data[lever.section][lever.name] = int(round(raw)) if lever.integer else raw
    campaign = float(values.get("campaign_pct") or 0.0)
    if campaign:
        enquiries = data["adopters"]["enquiries_per_month"] * (1.0 + campaign / 100.0)
        data["adopters"]["enquiries_per_month"] = round(max(0.0, enquiries), 4)
    return Scenario.model_validate(without_fitted(data, changed))  # a moved lever's value is no longer fitted


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


def lever_info(lever: Lever, baseline: Scenario, baseline_label: str) -> dict[str, Any]:
    """Unit, baseline value, range and source of a lever, for its help text.

    The source is the parameter's declared source; for a calibrated baseline, the figures the
    parameter was fitted to; for a value some other scenario file set, that file (with the
    value and source the parameter has in the built-in baseline).
    """
    value = lever_values(baseline)[lever.key]
    built_in = built_in_baseline()
    if lever.section is None:
        source, meaning = lever.source, lever.meaning
    else:
        info = field_info(lever.section, lever.name)
        source, meaning = info["source"], info["meaning"]
        if lever.section == "fees" and lever.name.endswith("_gbp"):
            meaning += " " + _fee_year(baseline, lever.name.split("_")[0])
    param = None if lever.key == "campaign_pct" else lever_parameter(lever)  # no campaign in any baseline
    fitted = baseline.calibration.fitted.get(param) if param else None
    built_in_shown = lever_values(built_in)[lever.key]
    if fitted:
        source = f"calibrated in '{baseline_label}': {fitted}"
    elif abs(float(value) - float(built_in_shown)) > 1e-9:
        built_in_source = built_in.calibration.fitted.get(param, source) if param else source
        source = (f"set by the scenario '{baseline_label}' (built-in baseline {_fmt(built_in_shown)}: "
                  f"{built_in_source})")
    return {"unit": lever.unit, "baseline": value, "lo": lever.lo, "hi": lever.hi, "source": source,
            "meaning": meaning}


def _fee_year(scenario: Scenario, provider: str) -> str:
    """Which year a fee lever's amount is for, and how it changes after (provider "vaa" or "la")."""
    fees = scenario.fees
    year = getattr(fees, f"{provider}_base_year")
    uprating = getattr(fees, f"{provider}_uprating_pct")
    return (f"The fee in {year}-{(year + 1) % 100:02d}, uprated by {uprating:g}% a year after that "
            f"(fees by year: the Finance view).")


def lever_help(lever: Lever, baseline: Scenario, baseline_label: str) -> str:
    """One paragraph: meaning, unit, baseline value and its source."""
    info = lever_info(lever, baseline, baseline_label)
    return (f"{info['meaning']}  \n**Unit:** {info['unit']}.  **Baseline:** {_fmt(info['baseline'])} "
            f"({baseline_label}).  \n**Source:** {info['source']}")


def _fmt(x: float) -> str:
    return f"{x:,.6g}" if isinstance(x, float) else f"{x:,}"


def changed_levers(base: Scenario, scenario: Scenario) -> list[tuple[Lever, float, float]]:
    """Levers whose value differs between two scenarios: (lever, base value, scenario value)."""
    a, b = lever_values(base), lever_values(scenario)
    return [(lever, a[lever.key], b[lever.key]) for lever in LEVERS
            if abs(float(a[lever.key]) - float(b[lever.key])) > 1e-9]

