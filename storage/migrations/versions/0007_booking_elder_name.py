"""bookings: the elder's name, when the family gives it (a care-home application needs it)

Revision ID: 0007_booking_elder_name
Revises: 0006_personal_data_removed
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_booking_elder_name"
down_revision = "0006_personal_data_removed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # personal data: shown masked (王*英) everywhere but the staff record, removed by 删除我的信息
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("elder_name", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("elder_name")
