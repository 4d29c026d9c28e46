"""bookings: how the elder is to be addressed at the door (王阿姨, 李老先生)

Revision ID: 0003_booking_addressed_as
Revises: 0002_bookings
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0003_booking_addressed_as"
down_revision = "0002_bookings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # only the form of address a home visit needs, never a full name
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("addressed_as", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("addressed_as")
