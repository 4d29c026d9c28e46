"""Table definitions (the schema Alembic migrations create)."""
from sqlalchemy import (JSON, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, MetaData, String,
                        Table, Text, UniqueConstraint)

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

# Bookings filed through the advisor (居家服务预约, 入住轮候, 能力评估, 养老顾问): see storage/bookings.py.
# Constraints are named so SQLite batch migrations can alter them later. No 身份证 numbers here.
bookings = Table(
    "bookings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(32), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("idempotency_key", String(64), nullable=False),
    Column("sender_id", String(255), nullable=False),
    Column("filed_by", String(16), nullable=False),
    Column("relationship", String(32), nullable=False),
    Column("service_type", String(16), nullable=True),
    Column("booking_date", Date, nullable=True),
    Column("time_slot", String(8), nullable=True),
    Column("address", Text, nullable=True),
    Column("addressed_as", String(32), nullable=True),   # 王阿姨: how to greet the elder at the door
    Column("elder_name", String(32), nullable=True),     # 王秀英: when given (masked when shown)
    Column("phone", String(32), nullable=False),
    Column("district", String(32), nullable=True),
    Column("institution", String(200), nullable=True),
    Column("priority_tier", Integer, nullable=True),
    Column("profile", JSON(none_as_null=True), nullable=True),  # None is SQL NULL, not JSON null
    Column("note", Text, nullable=True),
    Column("filed_by_operator", Integer, nullable=True),   # the hotline operator who filed it (console)
    Column("personal_removed_at", DateTime(timezone=True), nullable=True),  # forgotten: phone, address… gone
    UniqueConstraint("reference", name="uq_bookings_reference"),
    # the database, not a read-then-write, makes a retried submission idempotent
    UniqueConstraint("idempotency_key", name="uq_bookings_idempotency_key"),
    Index("ix_bookings_kind_status", "kind", "status"),
    Index("ix_bookings_district", "district"),
)

booking_events = Table(
    "booking_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("booking_id", Integer, ForeignKey("bookings.id", name="fk_booking_events_booking_id"),
           nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("from_status", String(20), nullable=True),  # NULL on the event that files the booking
    Column("to_status", String(20), nullable=False),
    Column("actor", String(16), nullable=False),
    Column("reason", Text, nullable=True),
)

# Buttons sent on Telegram: callback data is a short id (Telegram allows 64 bytes; a Chinese
# payload is longer), resolved here, so a tap works after a restart and on any instance.
telegram_buttons = Table(
    "telegram_buttons", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chat_key", String(64), nullable=False),     # the conversation (chat, or chat and user)
    Column("message_id", Integer, nullable=True),       # the Telegram message carrying the keyboard
    Column("position", Integer, nullable=False),        # 1-based, as typed by the user
    Column("title", String(200), nullable=False),
    Column("payload", Text, nullable=False),            # what a tap sends to the advisor
    Column("local", Boolean, nullable=False, default=False),  # answered by the bridge itself
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_telegram_buttons_chat", "chat_key", "id"),
)

# The operator console (channels/console): hotline operators, their sessions and their calls.
operators = Table(
    "operators", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False),
    Column("display_name", String(100), nullable=False),
    Column("password_hash", String(255), nullable=False),   # scrypt, salted: never the password
    Column("role", String(16), nullable=False),             # operator | supervisor
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("username", name="uq_operators_username"),
)

operator_sessions = Table(
    "operator_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),     # sha256 of the cookie: a stolen table opens nothing
    Column("operator_id", Integer, ForeignKey("operators.id", name="fk_operator_sessions_operator"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

calls = Table(
    "calls", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("operator_id", Integer, ForeignKey("operators.id", name="fk_calls_operator"), nullable=False, index=True),
    Column("sender_id", String(64), nullable=False),         # the conversation with the advisor
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("outcome", String(16), nullable=True),            # advised | booking | call_back
    Column("note", Text, nullable=True),
    Column("state", JSON, nullable=True),                    # the advisor's latest profile and results
    UniqueConstraint("sender_id", name="uq_calls_sender_id"),
)

call_turns = Table(
    "call_turns", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", Integer, ForeignKey("calls.id", name="fk_call_turns_call"), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("said", Text, nullable=False),                    # what the operator typed, phones and IDs masked
    Column("replies", JSON, nullable=False),                 # the advisor's messages (already masked)
)

# What was done on a call beside the conversation: a supervisor taking it over, an operator
# revealing a phone number to read it back (never the number itself). Who, when, what.
call_events = Table(
    "call_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("call_id", Integer, ForeignKey("calls.id", name="fk_call_events_call"), nullable=False, index=True),
    Column("operator_id", Integer, ForeignKey("operators.id", name="fk_call_events_operator"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("kind", String(16), nullable=False),              # take_over | reveal_phone
    Column("detail", Text, nullable=True),                   # e.g. the booking reference; never a number
)
