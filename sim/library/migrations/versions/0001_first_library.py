"""The first library: scenarios, results, comparisons, and the mark that says whose database it is.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table("library_info", sa.Column("key", sa.String(64), primary_key=True),
                    sa.Column("value", sa.Text, nullable=False))
    op.create_table(
        "scenarios",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("base", sa.String(300), nullable=False),
        sa.Column("toml", sa.Text, nullable=False),
        sa.Column("content", sa.String(64), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "results",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("content", sa.String(64), nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("replications", sa.Integer, nullable=False),
        sa.Column("years", sa.Integer, nullable=False),
        sa.Column("model_version", sa.String(40), nullable=False),
        sa.Column("run_toml", sa.Text, nullable=False),
        sa.Column("table_csv", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("content", "seed", "replications", "years", "model_version", name="one_result_per_run"),
    )
    op.create_table(
        "comparisons",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("reference_id", sa.Integer, sa.ForeignKey("scenarios.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("year", sa.Integer, nullable=True),
        sa.Column("window", sa.String(40), nullable=False),
        sa.Column("replications", sa.Integer, nullable=True),
        sa.Column("years", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "comparison_scenarios",
        sa.Column("comparison_id", sa.Integer, sa.ForeignKey("comparisons.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("scenario_id", sa.Integer, sa.ForeignKey("scenarios.id", ondelete="RESTRICT"), nullable=False),
    )
    op.bulk_insert(sa.table("library_info", sa.column("key"), sa.column("value")),
                   [{"key": "application", "value": "adoption-pipeline-sim library"}])


def downgrade() -> None:
    for name in ("comparison_scenarios", "comparisons", "results", "scenarios", "library_info"):
        op.drop_table(name)
