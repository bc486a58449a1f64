"""The library's tables (SQLAlchemy Core).  The schema is versioned by Alembic
(:mod:`sim.library.migrations`): a change to these tables comes with a migration, so that an
upgrade never loses what was saved."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

#: What marks a database as this project's library (a table of its own, with this row).
APPLICATION = "adoption-pipeline-sim library"

library_info = Table(
    "library_info", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

scenarios = Table(
    "scenarios", metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(300), nullable=False),
    Column("author", String(200), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("base", String(300), nullable=False, default=""),  # the baseline it extends, by title
    Column("toml", Text, nullable=False),  # the scenario in full, as a file
    Column("content", String(64), nullable=False, index=True),  # what its runs depend on (a hash)
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

results = Table(
    "results", metadata,
    Column("id", Integer, primary_key=True),
    Column("content", String(64), nullable=False),
    Column("seed", Integer, nullable=False),
    Column("replications", Integer, nullable=False),
    Column("years", Integer, nullable=False),
    Column("model_version", String(40), nullable=False),
    Column("run_toml", Text, nullable=False),  # the scenario run, as a file
    Column("table_csv", LargeBinary, nullable=False),  # every replication's yearly figures (gzip CSV)
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("content", "seed", "replications", "years", "model_version", name="one_result_per_run"),
)

comparisons = Table(
    "comparisons", metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(300), nullable=False),
    Column("author", String(200), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("question", Text, nullable=False, default=""),
    Column("reference_id", Integer, ForeignKey("scenarios.id", ondelete="RESTRICT"), nullable=False),
    Column("year", Integer, nullable=True),  # None: the average over the horizon
    Column("window", String(40), nullable=False, default=""),  # '2027-28 to 2029-30'
    Column("replications", Integer, nullable=True),  # None: chosen for precision
    Column("years", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

comparison_scenarios = Table(
    "comparison_scenarios", metadata,
    Column("comparison_id", Integer, ForeignKey("comparisons.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("scenario_id", Integer, ForeignKey("scenarios.id", ondelete="RESTRICT"), nullable=False),
    # the run whose figures the comparison showed (None: found by the scenario's key)
    Column("result_id", Integer, ForeignKey("results.id", ondelete="SET NULL", name="comparison_result"),
           nullable=True),
)
