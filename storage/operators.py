"""Hotline operators, their sessions and their calls (the operator console).

Passwords are hashed with scrypt (standard library), salted per operator; a session cookie is
stored only as its sha256, with its CSRF token and an expiry that slides with use.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .masking import mask_text
from .tables import call_events, call_turns, calls, operator_sessions, operators

ROLES = ("operator", "supervisor")
OUTCOMES = {"advised": "已答复政策", "booking": "已代办预约/申请", "call_back": "需要回电"}
EVENT_KINDS = {"take_over": "接手来电", "reveal_phone": "显示完整号码"}
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
SESSION_HOURS = float(os.environ.get("ELDERCARE_CONSOLE_SESSION_HOURS", "8"))


class OperatorError(ValueError):
    """A request about operators that cannot be done; the message is safe to show."""


@dataclass(frozen=True)
class Operator:
    id: int
    username: str
    display_name: str
    role: str
    active: bool

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


@dataclass(frozen=True)
class Session:
    operator: Operator
    csrf_token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Call:
    id: int
    operator_id: int
    sender_id: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    outcome: str | None
    note: str | None
    state: dict | None


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return "scrypt${n}${r}${p}$".format(**SCRYPT) + base64.b64encode(salt).decode() + "$" + \
        base64.b64encode(digest).decode()


def check_password(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(base64.b64decode(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.timezone.utc) if value is not None and value.tzinfo is None else value


def _operator(row) -> Operator:
    return Operator(row["id"], row["username"], row["display_name"], row["role"], bool(row["active"]))


def _call(row) -> Call:
    return Call(row["id"], row["operator_id"], row["sender_id"], _utc(row["started_at"]), _utc(row["ended_at"]),
                row["outcome"], row["note"], row["state"])


class OperatorStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    # --- accounts ------------------------------------------------------------------------------
    def add(self, username: str, password: str, display_name: str | None = None, role: str = "operator") -> Operator:
        if role not in ROLES:
            raise OperatorError(f"角色只能是 {' / '.join(ROLES)}")
        if len(password) < 10:
            raise OperatorError("密码至少 10 个字符")
        if not username or len(username) > 64:
            raise OperatorError("用户名不能为空，最多 64 个字符")
        try:
            with self.engine.begin() as conn:
                new_id = conn.execute(insert(operators).values(
                    username=username, display_name=display_name or username, password_hash=hash_password(password),
                    role=role, active=True, created_at=_now())).inserted_primary_key[0]
        except IntegrityError:
            raise OperatorError(f"用户名 {username} 已经有了") from None
        return Operator(new_id, username, display_name or username, role, True)

    def list(self) -> list[Operator]:
        with self.engine.connect() as conn:
            return [_operator(r) for r in conn.execute(select(operators).order_by(operators.c.id)).mappings()]

    def get(self, operator_id: int) -> Operator | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(operators).where(operators.c.id == operator_id)).mappings().first()
        return _operator(row) if row else None

    def disable(self, username: str) -> None:
        with self.engine.begin() as conn:
            found = conn.execute(update(operators).where(operators.c.username == username).values(active=False))
            if not found.rowcount:
                raise OperatorError(f"没有用户 {username}")
            ids = select(operators.c.id).where(operators.c.username == username).scalar_subquery()
            conn.execute(delete(operator_sessions).where(operator_sessions.c.operator_id == ids))

    def authenticate(self, username: str, password: str) -> Operator | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(operators).where(operators.c.username == username)).mappings().first()
        if row is None:
            check_password(password, hash_password("not a user"))   # same time either way
            return None
        if not row["active"] or not check_password(password, row["password_hash"]):
            return None
        return _operator(row)

    # --- sessions ------------------------------------------------------------------------------
    def open_session(self, operator: Operator) -> tuple[str, Session]:
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        expires = _now() + dt.timedelta(hours=SESSION_HOURS)
        with self.engine.begin() as conn:
            conn.execute(delete(operator_sessions).where(operator_sessions.c.expires_at < _now()))
            conn.execute(insert(operator_sessions).values(token_hash=_sha(token), operator_id=operator.id,
                                                          csrf_token=csrf, expires_at=expires))
        return token, Session(operator, csrf, expires)

    def session(self, token: str | None) -> Session | None:
        """The live session for a cookie, its expiry moved on; None if unknown, expired or disabled."""
        if not token:
            return None
        with self.engine.begin() as conn:
            row = conn.execute(select(operator_sessions, operators).join(
                operators, operators.c.id == operator_sessions.c.operator_id).where(
                operator_sessions.c.token_hash == _sha(token))).mappings().first()
            if row is None or _utc(row["expires_at"]) < _now() or not row["active"]:
                return None
            expires = _now() + dt.timedelta(hours=SESSION_HOURS)
            conn.execute(update(operator_sessions).where(operator_sessions.c.token_hash == _sha(token))
                         .values(expires_at=expires))
        operator = Operator(row["operator_id"], row["username"], row["display_name"], row["role"], True)
        return Session(operator, row["csrf_token"], expires)

    def close_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(operator_sessions).where(operator_sessions.c.token_hash == _sha(token)))

    # --- calls -----------------------------------------------------------------------------------
    def start_call(self, operator: Operator) -> Call:
        sender = f"console-{secrets.token_hex(8)}"
        with self.engine.begin() as conn:
            new_id = conn.execute(insert(calls).values(operator_id=operator.id, sender_id=sender,
                                                       started_at=_now())).inserted_primary_key[0]
        return self.call(new_id)

    def call(self, call_id: int) -> Call | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(calls).where(calls.c.id == call_id)).mappings().first()
        return _call(row) if row else None

    def calls_of(self, operator: Operator) -> list[Call]:
        query = select(calls).order_by(calls.c.id.desc()).limit(200)
        if not operator.supervisor:
            query = query.where(calls.c.operator_id == operator.id)   # an operator sees only their own calls
        with self.engine.connect() as conn:
            return [_call(r) for r in conn.execute(query).mappings()]

    def add_turn(self, call: Call, said: str, replies: list, state: dict | None) -> None:
        with self.engine.begin() as conn:
            replies = [dict(m, text=mask_text(m["text"])) if m.get("text") else m for m in replies]
            conn.execute(insert(call_turns).values(call_id=call.id, at=_now(), said=mask_text(said), replies=replies))
            if state is not None:
                conn.execute(update(calls).where(calls.c.id == call.id).values(state=state))

    def turns(self, call: Call) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(call_turns).where(call_turns.c.call_id == call.id)
                                .order_by(call_turns.c.id)).mappings().all()
        return [{"id": r["id"], "at": _utc(r["at"]).isoformat(), "said": r["said"], "replies": r["replies"]}
                for r in rows]

    def end_call(self, call: Call, outcome: str, note: str = "") -> None:
        if outcome not in OUTCOMES:
            raise OperatorError(f"结果只能是：{'、'.join(OUTCOMES.values())}")
        with self.engine.begin() as conn:
            # only an open call ends: two clicks (or two people) cannot end it twice
            ended = conn.execute(update(calls).where(calls.c.id == call.id, calls.c.ended_at.is_(None)).values(
                ended_at=_now(), outcome=outcome, note=mask_text(note.strip())[:500] or None)).rowcount
        if not ended:
            raise OperatorError("这通来电已经结束了。")

    # --- what was done on a call beside the conversation ---------------------------------------------
    def add_event(self, call: Call, operator: Operator, kind: str, detail: str | None = None) -> None:
        """Record a take-over or a phone number shown in full (the detail never holds the number)."""
        if kind not in EVENT_KINDS:
            raise OperatorError(f"未知的记录类型：{kind}")
        with self.engine.begin() as conn:
            conn.execute(insert(call_events).values(call_id=call.id, operator_id=operator.id, at=_now(), kind=kind,
                                                    detail=mask_text(detail)[:200] if detail else None))

    def events(self, call: Call) -> list[dict]:
        """Oldest first: at (UTC), operator_id, operator (display name), kind, detail."""
        query = (select(call_events, operators.c.display_name)
                 .join(operators, operators.c.id == call_events.c.operator_id)
                 .where(call_events.c.call_id == call.id).order_by(call_events.c.id))
        with self.engine.connect() as conn:
            return [{"at": _utc(r["at"]), "operator_id": r["operator_id"], "operator": r["display_name"],
                     "kind": r["kind"], "detail": r["detail"]} for r in conn.execute(query).mappings()]

    @staticmethod
    def holder(call: Call, events: list[dict]) -> int:
        """Who may act on the call: the last supervisor who took it over, else who took the call."""
        taken = [e["operator_id"] for e in events if e["kind"] == "take_over"]
        return taken[-1] if taken else call.operator_id


# --- the console's word that a message comes from an operator ------------------------------------------
# The console names the operator in the message metadata; anyone can post to the REST webhook,
# so the name is signed (HMAC) with a secret the console and the action server share:
# ELDERCARE_CONSOLE_SECRET, or one generated once in the var directory (one machine).

def console_secret() -> bytes:
    from .settings import Settings
    configured = os.environ.get("ELDERCARE_CONSOLE_SECRET")
    if configured:
        return configured.encode()
    return _generated_secret(Settings.from_env().var_dir / "console_secret")


@lru_cache(maxsize=8)   # read once per process, not on every message
def _generated_secret(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "x", encoding="ascii") as out:   # the first process to get here writes it
                os.chmod(path, 0o600)
                out.write(secrets.token_hex(32))
        except FileExistsError:
            pass
    return path.read_text(encoding="ascii").strip().encode()


def _operator_mac(sender_id: str, operator_id: int, name: str) -> str:
    message = f"{sender_id}\n{operator_id}\n{name}".encode()
    return hmac.new(console_secret(), message, hashlib.sha256).hexdigest()


def signed_operator(sender_id: str, operator: Operator) -> dict:
    """The metadata the console sends with each message of a call."""
    return {"id": operator.id, "name": operator.display_name,
            "sig": _operator_mac(sender_id, operator.id, operator.display_name)}


def verified_operator(sender_id: str, metadata: dict | None) -> tuple[int, str] | None:
    """(operator id, name) if the metadata was signed by the console for this conversation."""
    operator = (metadata or {}).get("operator") or {}
    try:
        operator_id, name, sig = int(operator["id"]), str(operator["name"]), str(operator["sig"])
    except (KeyError, TypeError, ValueError):
        return None
    return (operator_id, name) if hmac.compare_digest(sig, _operator_mac(sender_id, operator_id, name)) else None


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
