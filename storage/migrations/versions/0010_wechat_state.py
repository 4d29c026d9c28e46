"""WeChat: messages already handled (WeChat retries a slow POST), the shared access token

Revision ID: 0010_wechat_state
Revises: 0009_followups
Create Date: 2026-12-08
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_wechat_state"
down_revision = "0009_followups"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # one row per message or event key: the primary key makes "handle once" atomic across processes
    op.create_table(
        "wechat_seen_messages",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_wechat_seen_messages_seen_at", "wechat_seen_messages", ["seen_at"])
    # one access token per app id, shared by every process (each issuance invalidates the last)
    op.create_table(
        "wechat_tokens",
        sa.Column("app_id", sa.String(64), primary_key=True),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("wechat_tokens")
    op.drop_index("ix_wechat_seen_messages_seen_at", "wechat_seen_messages")
    op.drop_table("wechat_seen_messages")
