"""Telegram buttons: short callback ids resolved to their payloads

Revision ID: 0004_telegram_buttons
Revises: 0003_booking_addressed_as
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_telegram_buttons"
down_revision = "0003_booking_addressed_as"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "telegram_buttons",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("chat_key", sa.String(64), nullable=False),
        sa.Column("message_id", sa.Integer, nullable=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("local", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_telegram_buttons_chat", "telegram_buttons", ["chat_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_telegram_buttons_chat", "telegram_buttons")
    op.drop_table("telegram_buttons")
