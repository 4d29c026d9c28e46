"""operator console: call events (a supervisor's take-over, a phone number revealed)

Revision ID: 0008_call_events
Revises: 0007_booking_elder_name
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_call_events"
down_revision = "0007_booking_elder_name"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # who did what on a call, when: the record of take-overs and of phone numbers shown in full
    op.create_table(
        "call_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.Integer, sa.ForeignKey("calls.id", name="fk_call_events_call"), nullable=False),
        sa.Column("operator_id", sa.Integer, sa.ForeignKey("operators.id", name="fk_call_events_operator"),
                  nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text, nullable=True),
    )
    op.create_index("ix_call_events_call_id", "call_events", ["call_id"])


def downgrade() -> None:
    op.drop_table("call_events")
