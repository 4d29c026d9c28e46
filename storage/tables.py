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

from sqlalchemy import BigInteger  # noqa: E402  (the notifier's tables below; the imports above are shared)

# 政策找人 (storage/followups.py, notify/): families who said a clear yes to being told later.
# Kept: the facts the rules read (never a phone or 身份证 number among them, never the age: the
# year and month of birth instead), where to tell them, and the consent. Deleted by 不用提醒了,
# /stop, 删除我的信息 and `eldercare privacy forget`.
followups = Table(
    "followups", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(255), nullable=False),        # the conversation that consented
    Column("person", String(32), nullable=False),            # the household's elder ("" = the only one)
    Column("channel", String(16), nullable=False),           # telegram | console | rest
    Column("address", String(255), nullable=False),          # tg-<chat>[-<user>]; for console the call-back phone
    Column("birth_year", Integer, nullable=True),            # NULL: the age was never said
    Column("birth_month", Integer, nullable=True),           # 12 when unknown (a notice is never early)
    Column("birth_month_known", Boolean, nullable=False),
    Column("district", String(32), nullable=True),           # copied from facts: statistics without JSON
    Column("facts", JSON, nullable=False),                   # canonical facts (facts.yml) without the age
    Column("facts_mask", BigInteger, nullable=False),        # which facts are known (storage.followups.mask_of)
    Column("consent_at", DateTime(timezone=True), nullable=False),
    Column("consent_wording", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("sender_id", "person", name="uq_followups_sender_person"),
    # a day re-evaluates only the elders crossing an age that day: by birth month, never a scan
    Index("ix_followups_birth", "birth_year", "birth_month"),
)

# The last result per kept elder and policy, only when it is eligible or possible (absent = not
# yet): a notice is sent when a result gets better than this.
followup_statuses = Table(
    "followup_statuses", metadata,
    Column("followup_id", Integer, ForeignKey("followups.id", name="fk_followup_statuses_followup"),
           primary_key=True),
    Column("policy_id", String(64), primary_key=True),
    Column("status", String(16), nullable=False),            # eligible | possible
    Index("ix_followup_statuses_policy", "policy_id"),
)

# Each notice once per (elder, policy, reason, detail): a re-run never sends it twice.
followup_notices = Table(
    "followup_notices", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("followup_id", Integer, ForeignKey("followups.id", name="fk_followup_notices_followup"), nullable=False),
    Column("policy_id", String(64), nullable=False),         # "" for a booking's notice
    Column("reason", String(24), nullable=False),            # age, age_ahead, new_policy, … (followups.REASON_LABELS)
    Column("detail", String(64), nullable=False),            # the age crossed, a date, a reference …
    Column("as_of", Date, nullable=False),                   # the notifier's day
    Column("text", Text, nullable=True),                     # emptied once delivered and past the retention
    Column("button_title", String(100), nullable=True),
    Column("button_payload", Text, nullable=True),
    Column("status", String(16), nullable=False),            # pending | sending | sent | failed | call_back | done
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("claim", String(32), nullable=True),              # the delivery run sending it now
    Column("last_error", String(100), nullable=True),        # an error's kind, never its message
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("done_by", Integer, nullable=True),               # the operator who made the call back
    UniqueConstraint("followup_id", "policy_id", "reason", "detail", name="uq_followup_notices_key"),
    Index("ix_followup_notices_status", "status", "next_attempt_at"),
)

# The notifier's own memory: the last day run, each policy's content hash, the last booking
# event seen, waitlist places last told (JSON values; no personal data).
notifier_state = Table(
    "notifier_state", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", JSON, nullable=True),
)

# WeChat: messages already handled (a retry is answered once, whichever instance gets it) and the
# 公众号 access token every process shares (storage/wechat_state.py).
wechat_seen_messages = Table(
    "wechat_seen_messages", metadata,
    Column("key", String(128), primary_key=True),               # dedup_key(): "msg:<MsgId>", "evt:…"
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Index("ix_wechat_seen_messages_seen_at", "seen_at"),
)
wechat_tokens = Table(
    "wechat_tokens", metadata,
    Column("app_id", String(64), primary_key=True),
    Column("token", Text, nullable=False),                      # a secret for ~2 hours: never logged
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
