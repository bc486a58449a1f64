"""What a market run shows its readers: a table by agency and the ledger of who pays whom.

Both come from a market's replications (:mod:`sim.run.market_runner`).  The agency table gives,
for each agency and for all agencies together, each measure's yearly average over the horizon:
the mean over replications and the 90% interval (5th to 95th percentile of the replications'
horizon averages).  Counts, stocks and money add up across agencies; scorecard times (days) are
averages over children, so the total row gives them weighted by the children adopted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model.kpis import KPI_BY_NAME, MEAN_DAYS, PERCENT
from sim.planning.charts import labelled
from sim.planning.comparison import change_year, first_change, format_estimate, format_figure
from sim.run.market_runner import LEDGER_COLUMNS, summarise_ledger
from sim.scenario.calendar import financial_year_label

AGENCY_KPIS = ["approvals", "adopters_waiting", "placement_orders", "placements", "interagency_placements",
               "external_placements", "adoption_orders", "children_waiting_with_po", "a2_days",
               "interagency_fees_gbp", "interagency_income_gbp", "interagency_net_gbp"]
ALL_AGENCIES = "all agencies"
_ADOPTED = ("a1_days", "a10_days", "a2_days", "a20_days", "a3_pct", "orders_within_12_months_pct",
            "ep_care_to_order_days", "non_ep_care_to_order_days")
#: Averages and shares, and what the total row weights each agency's by: scorecard times by the
#: children adopted, the in-house share by the children placed, the waiting list's make-up by the
#: children waiting, the adopters' times by the households approved.  The adopter gap is worked out
#: again from the totals; an average or share with no weight here has no total (left blank, not summed).
WEIGHTED = {**dict.fromkeys(_ADOPTED, "adoption_orders"), "inhouse_share_pct": "placements",
            "waiting_in_sibling_groups_pct": "children_waiting_with_po",
            "waiting_aged_5_plus_pct": "children_waiting_with_po", "roi_to_approval_days": "approvals",
            "waiting_days_since_order": "children_waiting_with_po",
            "stage2_mean_days": "approvals", "stage2_within_4_months_pct": "approvals"}
GAP = ("adopter_gap", "adopters_waiting", "children_waiting_with_po")


def _averaged(name: str) -> bool:
    k = KPI_BY_NAME[name]
    return k.kind in (MEAN_DAYS, PERCENT) or k.unit == "%"


def _wide(reps: pd.DataFrame, kpis: list[str]) -> pd.DataFrame:
    """Agency replication rows pivoted: one row per (agency, replication, year), a column per KPI
    (and the weights of its averages and shares, :data:`WEIGHTED`)."""
    wanted = set(kpis) | {WEIGHTED[k] for k in kpis if k in WEIGHTED} | (set(GAP[1:]) if GAP[0] in kpis else set())
    return reps[reps["kpi"].isin(wanted)].pivot_table(index=["agency", "replication", "year"], columns="kpi",
                                                       values="value", aggfunc="first", dropna=False).reset_index()


def _summed(wide: pd.DataFrame, kpis: list[str]) -> pd.DataFrame:
    """:func:`_wide` rows added up over agencies, per (replication, year); averages and shares
    weighted (:data:`WEIGHTED`), the adopter gap worked out from the totals."""
    by = [wide["replication"], wide["year"]]
    total = wide.groupby(["replication", "year"]).sum(numeric_only=True, min_count=1)
    for name in kpis:
        if name in WEIGHTED:
            weight = wide[WEIGHTED[name]].where(wide[name].notna(), 0.0)
            weighted = (wide[name].fillna(0) * weight).groupby(by).sum()
            total[name] = weighted / weight.groupby(by).sum().replace(0.0, np.nan)
        elif name == GAP[0]:
            adopters, children = total[GAP[1]], total[GAP[2]].replace(0.0, np.nan)
            total[name] = 100.0 * (adopters - children) / children
        elif _averaged(name):
            total[name] = np.nan
    return total


def horizon_values(results, kpis: list[str]) -> pd.DataFrame:
    """Each agency's and the total's yearly average over the horizon, by replication:
    columns agency, replication and one per KPI."""
    wide = _wide(results.agency_replications, kpis)
    total = _summed(wide, kpis).reset_index()
    total["agency"] = ALL_AGENCIES
    both = pd.concat([wide, total], ignore_index=True)
    return both.groupby(["agency", "replication"], sort=False)[kpis].mean().reset_index()


def agency_table(results, kpis: list[str] | None = None) -> pd.DataFrame:
    """One row per agency (in the market's order) and one for all agencies: for each KPI its yearly
    average over the horizon, as mean, p5 and p95 columns."""
    kpis = kpis or AGENCY_KPIS
    values = horizon_values(results, kpis)
    order = [a.name for a in results.market.agencies] + [ALL_AGENCIES]
    kinds = {a.name: a.kind for a in results.market.agencies}
    rows = []
    for name in order:
        mine = values[values["agency"] == name]
        row = {"agency": name, "kind": kinds.get(name, "")}
        for k in kpis:
            v = mine[k].dropna().to_numpy()
            row[f"{k}_mean"] = v.mean() if len(v) else np.nan
            row[f"{k}_p5"], row[f"{k}_p95"] = np.quantile(v, [0.05, 0.95]) if len(v) else (np.nan, np.nan)
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(mean: float, lo: float, hi: float, unit: str) -> str:
    """'mean [p5 to p95]', rounded as every other output rounds (:func:`format_estimate`)."""
    if np.isnan(mean):
        return "-"
    mean, lo, hi = (0.0 if abs(v) < 1e-6 else v for v in (mean, lo, hi))  # no "-0" from rounding sums
    return format_estimate(mean, lo, hi, unit)


#: How the app names an agency's kind.
KIND_NAMES = {"la": "local authority", "raa": "regional adoption agency", "vaa": "voluntary adoption agency",
              "": "all agencies"}


def agency_display(results, kpis: list[str] | None = None) -> pd.DataFrame:
    """The agency table as a reader sees it: the agency, its kind in words, and a column per KPI
    named with its unit, each cell 'mean [p5 to p95]'."""
    kpis = kpis or AGENCY_KPIS
    table = agency_table(results, kpis)
    shown = pd.DataFrame({"Agency": table["agency"], "Kind": table["kind"].map(KIND_NAMES).fillna(table["kind"])})
    for k in kpis:
        shown[f"{KPI_BY_NAME[k].label} ({KPI_BY_NAME[k].unit})"] = [
            _cell(m, lo, hi, KPI_BY_NAME[k].unit)
            for m, lo, hi in zip(table[f"{k}_mean"], table[f"{k}_p5"], table[f"{k}_p95"])]
    return shown


def agency_text(results, kpis: list[str] | None = None) -> str:
    """The agency table as text: one row per agency, a column per KPI, 'mean [p5-p95]'."""
    kpis = kpis or AGENCY_KPIS
    table = agency_table(results, kpis)
    shown = pd.DataFrame({"agency": table["agency"], "kind": table["kind"]})
    for k in kpis:
        shown[k] = [_cell(m, lo, hi, KPI_BY_NAME[k].unit)
                    for m, lo, hi in zip(table[f"{k}_mean"], table[f"{k}_p5"], table[f"{k}_p95"])]
    return shown.to_string(index=False)


def ledger_by_region(results) -> pd.DataFrame:
    """The ledger with agencies added up by region: payer region to provider region (a region's VAAs
    apart from its LAs and RAAs), by financial year, as :attr:`MarketResults.ledger` (mean and 90%
    interval over replications of each region-to-region total)."""
    agencies = results.market.agencies
    region = {a.name: a.region for a in agencies}
    group = {a.name: a.region + (" VAAs" if a.kind == "vaa" else "") for a in agencies}
    reps = results.ledger_replications
    reps = reps.assign(payer=reps["payer"].map(region), provider=reps["provider"].map(group),
                       provider_kind=reps["provider_kind"].map(lambda k: "vaa" if k == "vaa" else "la/raa"))
    totals = reps.groupby(["replication", *LEDGER_COLUMNS], as_index=False)[["placements", "fees_gbp"]].sum()
    return summarise_ledger(totals, results.agency_replications["replication"].unique())


def ledger_text(results, least: float = 0.05, by_region: bool = False) -> str:
    """Who paid whom, by financial year: children placed and fees (mean [p5-p95] over replications),
    each payer's and provider's row shown where on average at least ``least`` children a year were
    placed or any fee was paid; ``by_region`` adds agencies up by region (:func:`ledger_by_region`)."""
    ledger = ledger_by_region(results) if by_region else results.ledger
    if ledger.empty:
        return "no interagency placement between the market's agencies in the years reported"
    ledger = ledger[(ledger["placements_mean"] >= least) | (ledger["fees_gbp_mean"] > 0)]
    shown = pd.DataFrame({
        "payer": ledger["payer"], "provider": ledger["provider"], "kind": ledger["provider_kind"],
        "year": ledger["financial_year"],
        "children placed": [f"{m:.1f} [{lo:.0f}-{hi:.0f}]" for m, lo, hi in
                            zip(ledger["placements_mean"], ledger["placements_p5"], ledger["placements_p95"])],
        "fees": [_cell(m, lo, hi, "£") for m, lo, hi in
                 zip(ledger["fees_gbp_mean"], ledger["fees_gbp_p5"], ledger["fees_gbp_p95"])],
    })
    return shown.to_string(index=False)


def flows_by_kind(results) -> pd.DataFrame:
    """Fees (£) by financial year from each payer to LA/RAA and to VAA providers: mean and 90% interval
    over replications of each (payer, provider kind, year) total."""
    reps = results.ledger_replications
    market = results.market
    labels = [financial_year_label(market.start_year + y) for y in range(market.years)]
    n = results.agency_replications["replication"].nunique()
    rows = []
    kind_of = {"la": "LA/RAA", "raa": "LA/RAA", "vaa": "VAA"}
    reps = reps.assign(provider_kind=reps["provider_kind"].map(kind_of))
    for (payer, kind, label), group in reps.groupby(["payer", "provider_kind", "financial_year"]):
        sums = group.groupby("replication")["fees_gbp"].sum().to_numpy()
        values = np.concatenate([sums, np.zeros(n - len(sums))])
        rows.append({"payer": payer, "provider_kind": kind, "financial_year": label, "fees_gbp_mean": values.mean(),
                     "fees_gbp_p5": np.quantile(values, 0.05), "fees_gbp_p95": np.quantile(values, 0.95)})
    out = pd.DataFrame(rows, columns=["payer", "provider_kind", "financial_year", "fees_gbp_mean", "fees_gbp_p5",
                                      "fees_gbp_p95"])
    return out.sort_values(["payer", "financial_year"], key=lambda s: s.map(labels.index)
                           if s.name == "financial_year" else s).reset_index(drop=True)


def fee_flows(results, by_region: bool = False) -> pd.DataFrame:
    """Fees (£ a year, averaged over the horizon and over replications) from each payer to each
    provider; ``by_region`` adds agencies up by region (VAAs as their region's VAAs)."""
    reps = results.ledger_replications
    columns = ["payer", "provider", "fees_gbp_a_year", "children_a_year"]
    if reps.empty:
        return pd.DataFrame(columns=columns)
    agencies = results.market.agencies
    if by_region:
        region = {a.name: a.region for a in agencies}
        provider_group = {a.name: a.region + (" VAAs" if a.kind == "vaa" else "") for a in agencies}
        reps = reps.assign(payer=reps["payer"].map(region), provider=reps["provider"].map(provider_group))
    n_reps = results.agency_replications["replication"].nunique()
    scale = 1.0 / (n_reps * results.market.years)
    flows = reps.groupby(["payer", "provider"], as_index=False)[["fees_gbp", "placements"]].sum()
    return pd.DataFrame({"payer": flows["payer"], "provider": flows["provider"],
                         "fees_gbp_a_year": flows["fees_gbp"] * scale, "children_a_year": flows["placements"] * scale})


def _totals(results, kpis: list[str], kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Each measure added up over the market's agencies (of ``kinds``, if given), per replication and
    year (a frame indexed by replication and year, a column per KPI); scorecard times are weighted
    by the children adopted."""
    reps = results.agency_replications
    if kinds is not None:
        reps = reps[reps["agency"].isin({a.name for a in results.market.agencies if a.kind in kinds})]
    return _summed(_wide(reps, kpis), kpis)


def _interval(values) -> tuple[float, float, float]:
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if not len(v):
        return np.nan, np.nan, np.nan
    p5, p95 = np.quantile(v, [0.05, 0.95])
    return float(v.mean()), float(p5), float(p95)


def totals_by_year(results, kpis: list[str], kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The market's total of each measure (every agency added up, or those of ``kinds``; scorecard
    times weighted by the children adopted) by financial year: kpi, financial_year, mean and 90%
    interval over replications.  What a national run is checked against: England's own figures
    are totals."""
    total = _totals(results, kpis, kinds)
    rows = []
    for kpi in kpis:
        for year, values in total[kpi].groupby(level="year"):
            mean, p5, p95 = _interval(values)
            rows.append({"kpi": kpi, "financial_year": financial_year_label(results.market.start_year + year - 1),
                         "mean": mean, "p5": p5, "p95": p95})
    return pd.DataFrame(rows, columns=["kpi", "financial_year", "mean", "p5", "p95"])


def market_band_frame(runs: dict, kpis: list[str], kinds: tuple[str, ...] | None = None,
                      labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Each market's totals by year (``runs``: a label to its results) in the form the charts take
    (:func:`sim.planning.charts.band_frame`), so that a region or England is drawn as one agency is."""
    parts = []
    for name, results in runs.items():
        t = totals_by_year(results, kpis, kinds)
        t.insert(0, "scenario", name)
        t.insert(2, "year", t.groupby("kpi").cumcount() + 1)
        parts.append(t)
    frame = pd.concat(parts, ignore_index=True)
    return labelled(frame, several_runs=len(runs) > 1, several_kpis=len(kpis) > 1, labels=labels)


def first_market_change(market, reference=None) -> tuple[int, str] | None:
    """The reported year (1 = the first) and start of ``market``'s earliest dated change within its
    horizon, counting only changes its agencies do not share with the same agencies of the market
    ``reference`` (all of its own without one); None if there is none."""
    of = {a.name: a.scenario for a in reference.agencies} if reference is not None else {}
    found = []
    for a in market.agencies:
        other = of.get(a.name) if reference is not None else None
        year = change_year(a.scenario, other)
        if year is not None and 1 <= year <= market.years:
            found.append((year, first_change(a.scenario, other).start))
    return min(found) if found else None


def market_change_marks(runs: dict) -> pd.DataFrame:
    """Where a market's changes start, as :func:`sim.planning.charts.change_marks` gives them for one
    agency: the first market's own earliest dated change, and each other market's earliest change
    that it does not share with the first (:func:`first_market_change`)."""
    markets = [results.market for results in runs.values()]
    starts: dict[str, list[str]] = {}
    for i, market in enumerate(markets):
        first = first_market_change(market, markets[0] if i else None)
        if first is None:
            continue
        year, text = first
        label = financial_year_label(market.start_year + year - 1)
        if text not in starts.setdefault(label, []):
            starts[label].append(text)
    rows = [{"financial_year": fy, "text": "changes from " + ", ".join(texts)} for fy, texts in starts.items()]
    return pd.DataFrame(rows, columns=["financial_year", "text"])


#: The market's interagency money: (what, measure, kinds of agency it is added up over).
FINANCE_FLOWS = (("fees paid by LAs and RAAs", "interagency_fees_gbp", ("la", "raa")),
                 ("of which to other LAs and RAAs", "interagency_income_gbp", ("la", "raa")),
                 ("of which to VAAs (VAA income)", "interagency_income_gbp", ("vaa",)))


def market_finance_by_year(results) -> pd.DataFrame:
    """The market's interagency money by financial year: the fees its local authorities and RAAs
    pay, and whom they pay (one another, or the VAAs: the money that leaves the statutory sector),
    mean and 90% interval over replications.  Every fee is paid by an LA or RAA (VAAs place no
    children), so the first line is the sum of the other two.  Columns: flow, financial_year,
    mean, p5, p95."""
    parts = []
    for label, kpi, kinds in FINANCE_FLOWS:
        t = totals_by_year(results, [kpi], kinds).drop(columns="kpi")
        t.insert(0, "flow", label)
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


#: The measures a market what-if is judged on (:func:`market_changes`).
CHANGE_KPIS = ["children_waiting_with_po", "adopters_waiting", "a2_days", "interagency_placements",
               "interagency_fees_gbp"]
VAA_INCOME = "VAA income"


def market_changes(base, other, kpis: list[str] | None = None, from_year: int = 1) -> pd.DataFrame:
    """A what-if market against its base, paired replication by replication (same seed): the change
    in each measure's market total, as a yearly average over years ``from_year`` to the end, with
    the VAAs' fee income (who gains what the agencies pay), mean and 90% interval over replications.
    Columns: measure, base_mean, change_mean, change_p5, change_p95."""
    kpis = kpis or CHANGE_KPIS
    if base.market.seed != other.market.seed or base.market.years != other.market.years:
        raise ValueError("a market what-if is compared with its base at the same seed and years")

    def yearly(results) -> pd.DataFrame:
        total = _totals(results, kpis)
        vaa = _totals(results, ["interagency_income_gbp"], kinds=("vaa",))
        # a market with no voluntary agency pays none: its VAA income is nought, not missing
        total[VAA_INCOME] = (vaa["interagency_income_gbp"].reindex(total.index, fill_value=0.0)
                             if "interagency_income_gbp" in vaa else 0.0)
        total = total[total.index.get_level_values("year") >= from_year]
        return total.groupby(level="replication").mean()

    a, b = yearly(base), yearly(other)
    common = a.index.intersection(b.index)
    rows = []
    for column in [*kpis, VAA_INCOME]:
        mean, p5, p95 = _interval((b.loc[common, column] - a.loc[common, column]).to_numpy())
        rows.append({"measure": column, "base_mean": float(a.loc[common, column].mean()),
                     "change_mean": mean, "change_p5": p5, "change_p95": p95})
    return pd.DataFrame(rows)


def market_changes_display(changes: pd.DataFrame) -> pd.DataFrame:
    """:func:`market_changes` as a reader sees it: each measure named with its unit, its base and its
    paired change, mean [90% interval], rounded as every other output."""
    def unit(m: str) -> str:
        return "£" if m == VAA_INCOME else KPI_BY_NAME[m].unit

    def label(m: str) -> str:
        return f"{m} (£)" if m == VAA_INCOME else f"{KPI_BY_NAME[m].label} ({KPI_BY_NAME[m].unit})"

    return pd.DataFrame({
        "Measure": changes["measure"].map(label),
        "Base": [format_figure(v, unit(m)) for v, m in zip(changes["base_mean"], changes["measure"])],
        "Change (paired, mean [90% interval])": [
            format_estimate(v, lo, hi, unit(m), signed=True) for v, lo, hi, m in
            zip(changes["change_mean"], changes["change_p5"], changes["change_p95"], changes["measure"])],
    })


def market_changes_text(changes: pd.DataFrame) -> str:
    """:func:`market_changes_display` as text, for the command line."""
    return market_changes_display(changes).to_string(index=False)


def sufficiency_by_year(results) -> pd.DataFrame:
    """How plentiful interagency families are, year by year, in a national (or regional) run: the
    approved adopters waiting anywhere in the market (VAAs' included) per child waiting with a
    placement order, and that ratio as an index of its
    first reported year's (the year the agencies were calibrated to).

    The index is what a single agency's ``matching.interagency_sufficiency`` lever stands for:
    1 is the market the agency was calibrated in, 1.3 a market with 30% more families waiting per
    child, in which an interagency family is found 1.3 times as soon.  Columns: financial_year,
    adopters_waiting, children_waiting (means), ratio_mean, ratio_p5, ratio_p95 (over
    replications), index_mean, index_p5, index_p95."""
    total = _totals(results, ["adopters_waiting", "children_waiting_with_po"])
    ratio = total["adopters_waiting"] / total["children_waiting_with_po"].where(total["children_waiting_with_po"] > 0)
    first = ratio.xs(1, level="year")
    index = ratio / first.reindex(ratio.index.get_level_values("replication")).to_numpy()
    rows = []
    for year in sorted(set(ratio.index.get_level_values("year"))):
        row = {"financial_year": financial_year_label(results.market.start_year + year - 1),
               "adopters_waiting": total["adopters_waiting"].xs(year, level="year").mean(),
               "children_waiting": total["children_waiting_with_po"].xs(year, level="year").mean()}
        for name, series in (("ratio", ratio), ("index", index)):
            row[f"{name}_mean"], row[f"{name}_p5"], row[f"{name}_p95"] = _interval(series.xs(year, level="year"))
        rows.append(row)
    return pd.DataFrame(rows)


def sufficiency_text(results) -> str:
    """:func:`sufficiency_by_year` as text for the command line."""
    table = sufficiency_by_year(results)
    shown = pd.DataFrame({
        "year": table["financial_year"],
        "adopters waiting": table["adopters_waiting"].map(lambda v: f"{v:,.0f}"),
        "children waiting": table["children_waiting"].map(lambda v: f"{v:,.0f}"),
        "adopters per child": [f"{m:.2f} [{lo:.2f}-{hi:.2f}]" for m, lo, hi in
                               zip(table["ratio_mean"], table["ratio_p5"], table["ratio_p95"])],
        "sufficiency index": [f"{m:.2f} [{lo:.2f}-{hi:.2f}]" for m, lo, hi in
                              zip(table["index_mean"], table["index_p5"], table["index_p95"])],
    })
    return shown.to_string(index=False)
