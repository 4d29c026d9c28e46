"""bookings and their status history

Revision ID: 0002_bookings
Revises: 0001_policies
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0002_bookings"
down_revision = "0001_policies"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("filed_by", sa.String(16), nullable=False),
        sa.Column("relationship", sa.String(32), nullable=False),
        sa.Column("service_type", sa.String(16), nullable=True),
        sa.Column("booking_date", sa.Date, nullable=True),
        sa.Column("time_slot", sa.String(8), nullable=True),
        sa.Column("address", sa.Text, nullable=True),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("district", sa.String(32), nullable=True),
        sa.Column("institution", sa.String(200), nullable=True),
        sa.Column("priority_tier", sa.Integer, nullable=True),
        sa.Column("profile", sa.JSON, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.UniqueConstraint("reference", name="uq_bookings_reference"),
        sa.UniqueConstraint("idempotency_key", name="uq_bookings_idempotency_key"),
    )
    op.create_index("ix_bookings_kind_status", "bookings", ["kind", "status"])
    op.create_index("ix_bookings_district", "bookings", ["district"])
    op.create_table(
        "booking_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("booking_id", sa.Integer,
                  sa.ForeignKey("bookings.id", name="fk_booking_events_booking_id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
    )
    op.create_index("ix_booking_events_booking_id", "booking_events", ["booking_id"])


def downgrade() -> None:
    op.drop_index("ix_booking_events_booking_id", table_name="booking_events")
    op.drop_table("booking_events")
    op.drop_index("ix_bookings_district", table_name="bookings")
    op.drop_index("ix_bookings_kind_status", table_name="bookings")
    op.drop_table("bookings")
