"""bookings: when the personal fields were removed (eldercare privacy forget / retention)

Revision ID: 0006_personal_data_removed
Revises: 0005_operator_console
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_personal_data_removed"
down_revision = "0005_operator_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("personal_removed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("personal_removed_at")
