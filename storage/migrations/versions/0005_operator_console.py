"""operator console: operators, sessions, calls and their turns; bookings record the operator

Revision ID: 0005_operator_console
Revises: 0004_telegram_buttons
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_operator_console"
down_revision = "0004_telegram_buttons"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("username", name="uq_operators_username"),
    )
    op.create_table(
        "operator_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("operator_id", sa.Integer, sa.ForeignKey("operators.id", name="fk_operator_sessions_operator"),
                  nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("operator_id", sa.Integer, sa.ForeignKey("operators.id", name="fk_calls_operator"), nullable=False),
        sa.Column("sender_id", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("state", sa.JSON, nullable=True),
        sa.UniqueConstraint("sender_id", name="uq_calls_sender_id"),
    )
    op.create_index("ix_calls_operator_id", "calls", ["operator_id"])
    op.create_table(
        "call_turns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.Integer, sa.ForeignKey("calls.id", name="fk_call_turns_call"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("said", sa.Text, nullable=False),
        sa.Column("replies", sa.JSON, nullable=False),
    )
    op.create_index("ix_call_turns_call_id", "call_turns", ["call_id"])
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("filed_by_operator", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("filed_by_operator")
    for table in ("call_turns", "calls", "operator_sessions", "operators"):
        op.drop_table(table)
