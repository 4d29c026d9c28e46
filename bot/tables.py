"""Table definitions (the schema Alembic migrations create)."""
from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Integer, MetaData, String, Table, Text

metadata = MetaData()

# The policy KB as loaded from policy_kb/policies/*.yml (the YAML stays the source of truth).
policies = Table(
    "policies", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("summary", Text, nullable=False),
    Column("category", String(50), nullable=False, default=""),
    Column("rank", Integer, nullable=False, default=100),
    Column("verified", Boolean, nullable=False),
    Column("valid_from", Date, nullable=True),
    Column("valid_to", Date, nullable=True),
    Column("content", JSON, nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
)
