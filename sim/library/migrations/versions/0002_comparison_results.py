"""A comparison keeps the results it showed: each of its scenarios points at the run whose figures
the planner saved, so the board opens the same figures (and sees when an older model made them).
Comparisons saved before this keep their scenarios; their results are found by the scenario's key.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("comparison_scenarios") as batch:
        batch.add_column(sa.Column("result_id", sa.Integer, nullable=True))
        batch.create_foreign_key("comparison_result", "results", ["result_id"], ["id"], ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("comparison_scenarios") as batch:
        batch.drop_constraint("comparison_result", type_="foreignkey")
        batch.drop_column("result_id")
