"""The booking store: 居家服务预约, 公办养老机构入住轮候申请, 能力评估申请, 养老顾问预约.

The dialogue files bookings, staff move them through their statuses (`eldercare bookings`),
and every change leaves a row in booking_events. Phones are stored normalised (they prove
who may see or cancel a booking) and shown masked; no 身份证 number is ever stored.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import unicodedata
import uuid
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from policy_kb.facts import ProfileError, load_facts, validate_profile

from policy_kb import clock
from storage.masking import mask_ids, mask_name, mask_phone, mask_text, normalize_phone
from storage.tables import booking_events as events_table
from storage.tables import bookings as table

log = logging.getLogger(__name__)

KINDS = {"home_service": "JY", "waitlist": "LH", "assessment": "PG", "advisor": "GW"}
KIND_LABELS = {"home_service": "居家服务预约", "waitlist": "公办养老机构入住轮候",
               "assessment": "能力评估申请", "advisor": "养老顾问预约"}
# One name per status, for staff and for users alike.
STATUS_LABELS = {"submitted": "已提交，等待确认", "confirmed": "已确认", "declined": "未通过",
                 "cancelled": "已取消", "admitted": "已安排入住"}
SERVICE_TYPES = ("助餐", "助浴", "助洁", "助医", "康复护理", "夜间照护", "上门评估")
TIME_SLOTS = ("上午", "下午", "晚上", "不限")   # 不限: "都行", staff agree the time by phone
FILED_BY = ("self", "relative", "operator")
ACTORS = ("user", "staff", "system")
PRIORITY_TIERS = range(1, 6)  # public_care_home_waitlist: 1 特困 … 5 everyone else
TRANSITIONS = {"submitted": ("confirmed", "declined", "cancelled"), "confirmed": ("admitted", "cancelled")}
QUEUED = ("submitted", "confirmed")  # a waitlist application holds a queue place in these
# what each kind cannot be filed without (the brief's "Bookings" section)
REQUIRED = {"home_service": {"service_type": "服务项目", "booking_date": "日期", "time_slot": "时段",
                             "address": "上门地址"},
            "waitlist": {"priority_tier": "优先级"}}
CHINA = clock.CHINA   # a reference carries Suzhou's date (policy_kb/clock.py)
_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−－﹣"})
_REFERENCE = re.compile(r"([A-Z]{2})[\s-]*(\d{8})[\s-]*(\d+)")


class BookingError(ValueError):
    """A booking request or status change that cannot be done; the message is safe to show a user."""


@dataclass
class Booking:
    id: int
    reference: str
    kind: str
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    idempotency_key: str
    sender_id: str
    filed_by: str
    relationship: str
    service_type: str | None
    booking_date: dt.date | None
    time_slot: str | None
    address: str | None
    addressed_as: str | None
    phone: str
    district: str | None
    institution: str | None
    priority_tier: int | None
    profile: dict | None
    note: str | None
    filed_by_operator: int | None = None
    elder_name: str | None = None      # 王秀英: personal data, masked when shown (王*英)
    personal_removed_at: dt.datetime | None = None   # eldercare privacy forget, or the retention

    @classmethod
    def from_row(cls, row) -> "Booking":
        values = {f.name: row[f.name] for f in fields(cls)}
        values["created_at"], values["updated_at"] = _utc(row["created_at"]), _utc(row["updated_at"])
        values["personal_removed_at"] = _utc(row["personal_removed_at"]) if row["personal_removed_at"] else None
        return cls(**values)

    def to_dict(self, masked: bool = True) -> dict:
        """JSON-ready fields plus Chinese labels; ``masked`` hides the phone (and numbers in the note)."""
        out = asdict(self)
        out.update(created_at=self.created_at.isoformat(), updated_at=self.updated_at.isoformat(),
                   personal_removed_at=self.personal_removed_at.isoformat() if self.personal_removed_at else None,
                   booking_date=self.booking_date.isoformat() if self.booking_date else None,
                   kind_label=KIND_LABELS[self.kind], status_label=STATUS_LABELS[self.status])
        if masked:
            out["phone"] = mask_phone(self.phone)
            out["elder_name"] = mask_name(self.elder_name) if self.elder_name else self.elder_name
            out["note"] = mask_text(self.note) if self.note else self.note
        return out


def idempotency_key(*parts: Any) -> str:
    """sha256 over canonical JSON of ``parts``: the same request always gives the same key."""
    def canonical(value):
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        if isinstance(value, (set, frozenset)):
            return sorted(value, key=repr)
        raise TypeError(f"idempotency_key: cannot encode {type(value).__name__}")
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=canonical)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalize_reference(text: str) -> str | None:
    """'jy 20261129 42', 'JY－20261129－0042', 'jy202611290042' → 'JY-20261129-0042'; else None."""
    match = _REFERENCE.fullmatch(unicodedata.normalize("NFKC", text or "").translate(_DASHES).strip().upper())
    if not match:
        return None
    prefix, day, number = match.groups()
    return f"{prefix}-{day}-{int(number):04d}"


def china_today() -> dt.date:
    return clock.today()


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands timestamps back without a zone; they were written in UTC
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def _text(value: str | None, limit: int | None = None) -> str | None:
    # free text must not smuggle a 身份证 number into the database
    value = mask_ids(value.strip()) if value else None
    if value and limit and len(value) > limit:
        raise BookingError(f"内容太长了（最多 {limit} 个字）：{value[:20]}…")
    return value or None


def _date(value) -> dt.date | None:
    if isinstance(value, str):  # slot values arrive as ISO text
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise BookingError(f"日期 {value!r} 看不懂，请用 年-月-日，例如 2026-12-01。") from None
    return value.date() if isinstance(value, dt.datetime) else value


def _choice(value, allowed, what: str, optional: bool = True):
    if (value is not None or not optional) and value not in allowed:
        raise BookingError(f"未知的{what}：{value}；可选：{'、'.join(map(str, allowed))}")
    return value


class BookingStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    # ---- filing -------------------------------------------------------------------------
    def submit(self, *, kind, sender_id, filed_by, relationship, phone, idempotency_key,
               service_type=None, booking_date=None, time_slot=None, address=None, addressed_as=None,
               district=None, institution=None, priority_tier=None, profile=None, note=None,
               filed_by_operator=None, today=None, elder_name=None) -> tuple[Booking, bool]:
        """File a booking; returns (booking, created). A repeated idempotency_key returns the first."""
        values = self._validate(
            kind=kind, sender_id=sender_id, filed_by=filed_by, relationship=relationship, phone=phone,
            idempotency_key=idempotency_key, service_type=service_type, booking_date=booking_date,
            time_slot=time_slot, address=address, addressed_as=addressed_as, district=district,
            institution=institution, priority_tier=priority_tier, profile=profile, note=note, today=today)
        values["filed_by_operator"] = filed_by_operator
        values["elder_name"] = _text(elder_name, 32)
        existing = self._find(table.c.idempotency_key == idempotency_key)
        if existing:  # the common retry: no insert, no constraint error
            return existing, False
        now = dt.datetime.now(dt.timezone.utc)
        try:
            with self.engine.begin() as conn:
                # the reference contains the row id, known only after the insert: a unique
                # placeholder first, the real reference in the same transaction
                booking_id = conn.execute(insert(table).values(
                    reference=f"new-{uuid.uuid4().hex[:24]}", status="submitted", created_at=now,
                    updated_at=now, **values)).inserted_primary_key[0]
                reference = f"{KINDS[kind]}-{now.astimezone(CHINA):%Y%m%d}-{booking_id:04d}"
                conn.execute(update(table).where(table.c.id == booking_id).values(reference=reference))
                conn.execute(insert(events_table).values(
                    booking_id=booking_id, at=now, from_status=None, to_status="submitted",
                    actor="staff" if filed_by == "operator" else "user"))
        except IntegrityError:
            # a concurrent submit with the same key committed first: the constraint decided
            existing = self._find(table.c.idempotency_key == idempotency_key)
            if existing is None:
                raise
            return existing, False
        log.info("booking %s filed (%s)", reference, kind)
        return Booking(id=booking_id, reference=reference, status="submitted", created_at=now,
                       updated_at=now, **values), True

    def _validate(self, *, kind, sender_id, filed_by, relationship, phone, idempotency_key,
                  service_type, booking_date, time_slot, address, addressed_as, district, institution,
                  priority_tier, profile, note, today) -> dict:
        _choice(kind, KINDS, "预约类型", optional=False)
        _choice(filed_by, FILED_BY, "提交人类型", optional=False)
        _choice(service_type, SERVICE_TYPES, "服务项目")
        _choice(time_slot, TIME_SLOTS, "时段")
        _choice(district, load_facts()["district"].values, "区（市）")
        if priority_tier is not None and (isinstance(priority_tier, bool) or priority_tier not in PRIORITY_TIERS):
            raise BookingError(f"优先级应为 1–5，收到 {priority_tier!r}")
        if not sender_id or not idempotency_key or len(idempotency_key) > 64:
            raise BookingError("预约请求不完整（缺少会话或请求标识），请重新提交。")
        canonical_phone = normalize_phone(str(phone or ""))
        if canonical_phone is None:
            raise BookingError("联系电话看起来不对：请留 11 位手机号，或带区号的座机号（如 0512-6523xxxx）。")
        booking_date = _date(booking_date)
        if booking_date is not None and booking_date < (today or china_today()):
            raise BookingError(f"您选的日期已经过去了（{booking_date.year}年{booking_date.month}月"
                               f"{booking_date.day}日），请选今天或以后的日期。")
        if profile is not None:
            try:
                profile = validate_profile(profile)
            except ProfileError as exc:
                raise BookingError(f"老人资料有误：{exc}") from None
        values = dict(kind=kind, sender_id=str(sender_id), filed_by=filed_by,
                      relationship=_text(relationship, 32), phone=canonical_phone,
                      idempotency_key=idempotency_key, service_type=service_type,
                      booking_date=booking_date, time_slot=time_slot, address=_text(address),
                      addressed_as=_text(addressed_as, 32),
                      district=district, institution=_text(institution, 200),
                      priority_tier=priority_tier, profile=profile, note=_text(note))
        if not values["relationship"]:
            raise BookingError("请说明提交人和老人的关系（本人、子女、配偶……）。")
        missing = [label for name, label in REQUIRED.get(kind, {}).items() if values[name] is None]
        if missing:
            raise BookingError(f"{KIND_LABELS[kind]}还缺：{'、'.join(missing)}。")
        return values

    # ---- reading ------------------------------------------------------------------------
    def _find(self, condition) -> Booking | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(table).where(condition)).mappings().first()
        return Booking.from_row(row) if row else None

    def get(self, reference: str) -> Booking | None:
        canonical = normalize_reference(reference)
        return self._find(table.c.reference == canonical) if canonical else None

    def list(self, *, status=None, kind=None, district=None, sender_id=None) -> list[Booking]:
        _choice(status, STATUS_LABELS, "状态")
        _choice(kind, KINDS, "预约类型")
        _choice(district, load_facts()["district"].values, "区（市）")
        query = select(table).order_by(table.c.created_at, table.c.id)
        for column, value in ((table.c.status, status), (table.c.kind, kind), (table.c.district, district),
                              (table.c.sender_id, sender_id)):
            if value is not None:
                query = query.where(column == value)
        with self.engine.connect() as conn:
            return [Booking.from_row(row) for row in conn.execute(query).mappings()]

    def events(self, reference: str) -> list[dict]:
        """The status history, oldest first: at, from_status, to_status, actor, reason."""
        query = (select(events_table.c.at, events_table.c.from_status, events_table.c.to_status,
                        events_table.c.actor, events_table.c.reason)
                 .join(table, table.c.id == events_table.c.booking_id)
                 .where(table.c.reference == normalize_reference(reference))
                 .order_by(events_table.c.at, events_table.c.id))
        with self.engine.connect() as conn:
            return [{**row, "at": _utc(row["at"])} for row in conn.execute(query).mappings()]

    def queue_position(self, reference: str) -> int | None:
        """1-based place of a queued waitlist application (tier, then filing time); else None."""
        booking = self.get(reference)
        if booking is None or booking.kind != "waitlist" or booking.status not in QUEUED:
            return None
        tier, created = table.c.priority_tier, table.c.created_at
        ahead = or_(tier < booking.priority_tier,
                    and_(tier == booking.priority_tier,
                         or_(created < booking.created_at,
                             and_(created == booking.created_at, table.c.id < booking.id))))
        query = (select(func.count()).select_from(table)
                 .where(table.c.kind == "waitlist", table.c.status.in_(QUEUED), ahead))
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one() + 1

    def verify_phone(self, reference: str, phone: str) -> bool:
        """Does ``phone`` (any common spelling) match the booking's contact phone?"""
        booking = self.get(reference)
        given = normalize_phone(str(phone or ""))
        return bool(booking and given and hmac.compare_digest(given, booking.phone))

    # ---- status changes -----------------------------------------------------------------
    def set_status(self, reference: str, new_status: str, *, actor: str, reason: str | None = None) -> Booking:
        _choice(new_status, STATUS_LABELS, "状态", optional=False)
        _choice(actor, ACTORS, "操作人", optional=False)
        booking = self.get(reference)
        if booking is None:
            raise BookingError(f"找不到预约编号 {reference}，请核对后再试。")
        old = booking.status
        allowed = TRANSITIONS.get(old, ())
        if new_status == "admitted" and booking.kind != "waitlist":
            raise BookingError(f"{booking.reference} 是{KIND_LABELS[booking.kind]}，不能从“{STATUS_LABELS[old]}”"
                               f"改为“{STATUS_LABELS['admitted']}”：只有入住轮候申请才有入住。")
        if new_status not in allowed:
            raise BookingError(f"{booking.reference} 当前是“{STATUS_LABELS[old]}”，"
                               f"不能改为“{STATUS_LABELS[new_status]}”。")
        now = dt.datetime.now(dt.timezone.utc)
        with self.engine.begin() as conn:
            # compare-and-set on the old status: two staff acting at once cannot both succeed
            changed = conn.execute(update(table).where(table.c.id == booking.id, table.c.status == old)
                                   .values(status=new_status, updated_at=now)).rowcount
            if changed != 1:
                raise BookingError(f"{booking.reference} 的状态刚刚被别人改过了，请重新查看后再操作。")
            conn.execute(insert(events_table).values(booking_id=booking.id, at=now, from_status=old,
                                                     to_status=new_status, actor=actor,
                                                     reason=_text(reason)))
        log.info("booking %s: %s -> %s by %s", booking.reference, old, new_status, actor)
        booking.status, booking.updated_at = new_status, now
        return booking

    def cancel(self, reference: str, *, actor: str = "user") -> Booking:
        return self.set_status(reference, "cancelled", actor=actor)
