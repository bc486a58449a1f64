"""Run a market of agencies over replications: each agency's KPIs and the ledger of fees between them.

``run_market`` runs the replications of a market (:mod:`sim.scenario.market_file`) on one of the
engines of :mod:`sim.run.execution` and returns tidy tables:

* ``agencies``: each agency's KPIs by financial year (mean, 5th and 95th percentiles over
  replications), made by the same code as a single agency's results (:func:`sim.run.runner.summarise`);
* ``ledger``: who paid whom, by financial year: children placed and fees (£), mean and 90% interval
  over replications (a replication in which a payer placed no child with a provider counts 0);
* ``ledger_replications``: the ledger of every replication, for checks and further analysis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model.market import MarketReplication, run_market_replication
from sim.run.execution import CHUNKS_PER_WORKER, map_chunks
from sim.run.options import RunOptions
from sim.run.process_pool import default_workers
from sim.run.runner import replication_table, summarise
from sim.scenario.calendar import financial_year_label
from sim.scenario.market_file import MarketSpec

LEDGER_COLUMNS = ["payer", "provider", "provider_kind", "year", "financial_year"]


@dataclass
class MarketResults:
    """A market's results as tidy tables (see the module docstring)."""

    market: MarketSpec
    agencies: pd.DataFrame
    agency_replications: pd.DataFrame
    ledger: pd.DataFrame
    ledger_replications: pd.DataFrame

    def kpi(self, name: str) -> pd.DataFrame:
        """One KPI's rows for every agency, by year."""
        return self.agencies[self.agencies["kpi"] == name].reset_index(drop=True)


def _run_market_chunk(args) -> list[MarketReplication]:
    market, reps, event_log = args
    return [run_market_replication(list(market.agencies), market.seed, r, event_log,
                                   pooled_regions=market.pooled_regions) for r in reps]


def run_market(market: MarketSpec, replications: int | None = None, years: int | None = None,
               seed: int | None = None, options: RunOptions | None = None, **run_options) -> MarketResults:
    """Run ``market`` (optionally over other years, replications or seed); ``options`` (or the
    same as keywords) as in :class:`sim.run.options.RunOptions`."""
    if years is not None or replications is not None or seed is not None:
        market = market.with_run(years, replications, seed)
    results = market_replications(market, range(market.replications), options, **run_options)
    return tabulate(market, results)


def market_replications(market: MarketSpec, replications, options: RunOptions | None = None,
                        **run_options) -> list[MarketReplication]:
    """The replications given, in order, run in chunks spread over the engine's workers."""
    opts = RunOptions.of(options, **run_options)
    engine, workers, scheduler, progress = opts.engine, opts.workers, opts.scheduler, opts.progress
    reps = list(replications)
    size = max(1, math.ceil(len(reps) / ((workers or default_workers()) * CHUNKS_PER_WORKER)))
    tasks = [(i, (market, reps[i:i + size], opts.event_log)) for i in range(0, len(reps), size)]
    done: list[MarketReplication] = []

    def collect(_key, chunk):
        done.extend(chunk)
        if progress:
            progress(len(done), len(reps))

    map_chunks(_run_market_chunk, tasks, engine, workers, scheduler, collect)
    return sorted(done, key=lambda r: r.replication)


def tabulate(market: MarketSpec, results: list[MarketReplication]) -> MarketResults:
    """The tables of a market's replications."""
    labels = [financial_year_label(market.start_year + y) for y in range(market.years)]
    per_agency, summaries = [], []
    for k, agency in enumerate(market.agencies):
        table = replication_table([r.agencies[k] for r in results], labels)
        summary = summarise(table)
        for column, value in (("kind", agency.kind), ("region", agency.region), ("agency", agency.name)):
            summary.insert(0, column, value)
        table.insert(0, "agency", agency.name)
        per_agency.append(table)
        summaries.append(summary)
    reps = pd.concat(per_agency, ignore_index=True)
    ledger_reps = ledger_table(market, results, labels)
    return MarketResults(market, pd.concat(summaries, ignore_index=True), reps,
                         summarise_ledger(ledger_reps, [r.replication for r in results]), ledger_reps)


def ledger_table(market: MarketSpec, results: list[MarketReplication], labels: list[str]) -> pd.DataFrame:
    """One row per (replication, payer, provider, year) with children placed and fees (£)."""
    names = [a.name for a in market.agencies]
    rows = [(r.replication, names[payer], names[provider], market.agencies[provider].kind, year + 1, labels[year],
             children, fees)
            for r in results for (payer, provider, year), (children, fees) in sorted(r.ledger.items())]
    return pd.DataFrame(rows, columns=["replication", *LEDGER_COLUMNS, "placements", "fees_gbp"])


def summarise_ledger(ledger_reps: pd.DataFrame, replications) -> pd.DataFrame:
    """Mean and 90% interval over replications of each (payer, provider, year): children placed and
    fees (£), counting 0 in any of ``replications`` without such a placement."""
    columns = [*LEDGER_COLUMNS] + [f"{m}_{s}" for m in ("placements", "fees_gbp") for s in ("mean", "p5", "p95")]
    if ledger_reps.empty:
        return pd.DataFrame(columns=columns)
    reps = np.asarray(sorted(replications))
    rows = []
    for key, group in ledger_reps.groupby(LEDGER_COLUMNS, sort=False):
        row = dict(zip(LEDGER_COLUMNS, key))
        for measure in ("placements", "fees_gbp"):
            values = np.zeros(len(reps))
            values[np.searchsorted(reps, group["replication"].to_numpy())] = group[measure].to_numpy()
            row[f"{measure}_mean"] = values.mean()
            row[f"{measure}_p5"], row[f"{measure}_p95"] = np.quantile(values, [0.05, 0.95])
        rows.append(row)
    return pd.DataFrame(rows, columns=columns).sort_values(["payer", "provider", "year"]).reset_index(drop=True)
