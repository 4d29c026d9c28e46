"""政策找人: kept profiles (with consent), their last results, the notices, the notifier's state

Revision ID: 0009_followups
Revises: 0008_call_events
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_followups"
down_revision = "0008_call_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # only what a clear yes allows: facts without the age, where to tell, the consent
    op.create_table(
        "followups",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(255), nullable=False),
        sa.Column("person", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("birth_year", sa.Integer, nullable=True),
        sa.Column("birth_month", sa.Integer, nullable=True),
        sa.Column("birth_month_known", sa.Boolean, nullable=False),
        sa.Column("district", sa.String(32), nullable=True),
        sa.Column("facts", sa.JSON, nullable=False),
        sa.Column("facts_mask", sa.BigInteger, nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consent_wording", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("sender_id", "person", name="uq_followups_sender_person"),
    )
    # a day's run reads only the elders crossing an age that day
    op.create_index("ix_followups_birth", "followups", ["birth_year", "birth_month"])
    op.create_table(
        "followup_statuses",
        sa.Column("followup_id", sa.Integer, sa.ForeignKey("followups.id", name="fk_followup_statuses_followup"),
                  primary_key=True),
        sa.Column("policy_id", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("ix_followup_statuses_policy", "followup_statuses", ["policy_id"])
    op.create_table(
        "followup_notices",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("followup_id", sa.Integer, sa.ForeignKey("followups.id", name="fk_followup_notices_followup"),
                  nullable=False),
        sa.Column("policy_id", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("detail", sa.String(64), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("button_title", sa.String(100), nullable=True),
        sa.Column("button_payload", sa.Text, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim", sa.String(32), nullable=True),
        sa.Column("last_error", sa.String(100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Integer, nullable=True),
        # the same notice is never made twice, whichever run or process makes it
        sa.UniqueConstraint("followup_id", "policy_id", "reason", "detail", name="uq_followup_notices_key"),
    )
    op.create_index("ix_followup_notices_status", "followup_notices", ["status", "next_attempt_at"])
    op.create_table(
        "notifier_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON, nullable=True),
    )


def downgrade() -> None:
    for table in ("notifier_state", "followup_notices", "followup_statuses", "followups"):
        op.drop_table(table)
