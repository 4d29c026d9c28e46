"""政策找人: the elders whose families said a clear yes to being told later, and the notices.

The dialogue keeps a profile (`FollowupStore.keep`) only after the consent; `stop` deletes it
with everything made from it. Kept: the canonical facts the engine reads (policy_kb/facts.yml),
with the year and month of birth instead of the age, where to tell the family (the Telegram
or WeChat conversation, or a phone number for a hotline call back), the consent's time and wording, and
the last result per policy. Never a phone or 身份证 number among the facts: only values a fact
accepts are kept.

The notifier (notify/) reads and writes through the bulk helpers below; delivery goes through
`due` → `claim` → `mark_sent` / `mark_failed` (exponential backoff, then 'failed'). Hotline
notices wait as 'call_back' for an operator (`list_call_backs`, `mark_done`).
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import os
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping

from sqlalchemy import Text, and_, cast, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from policy_kb import clock
from policy_kb.facts import load_facts
from policy_kb.thresholds import age_on
from storage.masking import mask_phone, normalize_phone
from storage.tables import followup_notices as notices
from storage.tables import followup_statuses as statuses
from storage.tables import followups as table
from storage.tables import notifier_state as state

log = logging.getLogger(__name__)

CHANNELS = ("telegram", "wechat", "console", "rest")
RANK = {"possible": 1, "eligible": 2}      # the results worth keeping; anything else is "not yet"
NOT_KEPT = ("age",)                         # the age goes stale: the year and month of birth instead
PENDING, SENDING, SENT, FAILED, CALL_BACK, DONE = "pending", "sending", "sent", "failed", "call_back", "done"
FINAL = (SENT, FAILED, DONE)
CLAIM_SECONDS = 600       # a notice claimed by a run that died is due again after this
CHUNK = 900               # ids per IN list (SQLite's old limit is 999 parameters)
UNKNOWN_MONTH = 12        # an unknown birth month counts as December: a notice is never early
# why a notice was made, as staff and operators read it (stats, the console's 待回访 list)
REASON_LABELS = {"age": "满龄", "age_ahead": "满龄前提醒", "new_policy": "新政策", "changed_policy": "政策有变化",
                 "starts": "开始办理", "ends": "即将结束", "waitlist_tier": "轮候升档", "waitlist_place": "轮候排位变化",
                 "booking_confirmed": "预约已确认", "booking_declined": "预约未通过", "booking_admitted": "已安排入住"}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands timestamps back without a zone; they were written in UTC
    if value is None:
        return None
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


def chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def fact_bit(name: str) -> int:
    """A fact's bit in facts_mask, from its name alone: stable when facts.yml gains or reorders
    facts. Two facts sharing a bit only make a KB change read a few more profiles, never fewer."""
    return 1 << (int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) % 62)


def mask_of(names: Iterable[str]) -> int:
    mask = 0
    for name in names:
        mask |= fact_bit(name)
    return mask


def birth_from_age(age: int, today: dt.date) -> tuple[int, int]:
    """Only the age was said: the latest birth it allows (a birthday this month). A notice may
    then come up to eleven months late, never before the elder really is that old."""
    return today.year - age, today.month


def clean_facts(facts: Mapping[str, Any]) -> dict:
    """Canonical facts only, each with a value its fact accepts (so no free text, no number
    that is not an age): unknown names, "不知道" and the age are dropped."""
    known = load_facts()
    return {name: value for name, value in facts.items()
            if name in known and name not in NOT_KEPT and value is not None and known[name].accepts(value)}


@dataclass
class Followup:
    id: int
    sender_id: str
    person: str
    channel: str
    address: str
    birth_year: int | None
    birth_month: int | None
    birth_month_known: bool
    facts: dict
    consent_at: dt.datetime
    consent_wording: str

    def profile(self, day: dt.date) -> dict:
        """The engine's profile on a day: the kept facts and the age then."""
        out = dict(self.facts)
        if self.birth_year is not None:
            out["age"] = age_on(self.birth_year, self.birth_month or UNKNOWN_MONTH, day)
        return out


@dataclass
class Notice:
    """A notice as a deliverer sees it: where to, what to say, the one button."""
    id: int
    followup_id: int
    channel: str
    address: str
    policy_id: str
    reason: str
    detail: str
    text: str
    button_title: str | None
    button_payload: str | None
    attempts: int


@dataclass
class CallBack:
    """A hotline notice waiting for an operator: call the family, say the text, mark it done."""
    id: int
    followup_id: int
    phone: str            # for the call itself; show phone_masked everywhere else
    phone_masked: str
    person: str
    policy_id: str
    reason: str
    text: str
    created_at: dt.datetime

    @property
    def reason_label(self) -> str:
        return REASON_LABELS.get(self.reason, self.reason)


@dataclass(slots=True)
class Row:
    """One kept elder as the notifier evaluates it (no address: it never needs one)."""
    id: int
    person: str
    birth_year: int | None
    birth_month: int | None
    birth_month_known: bool
    facts: dict               # shared between elders with the same facts: read, never change
    channel: str
    consent_at: dt.datetime | None = None
    facts_key: str = ""       # the facts' stored text
    status: str | None = None  # the kept result for the policy page(status_of=…) asked about


# the facts as stored text: a million elders share a few thousand fact combinations, so each
# text is decoded once (_facts) and the engine's results are remembered by it (notify.Evaluator)
_ROW_COLUMNS = (table.c.id, table.c.person, table.c.birth_year, table.c.birth_month, table.c.birth_month_known,
                cast(table.c.facts, Text), table.c.channel)
_decoded: dict[str, dict] = {}


def _facts(text: str | None) -> dict:
    if not text:
        return {}
    found = _decoded.get(text)
    if found is None:
        if len(_decoded) > 200_000:   # bounded: distinct combinations are few, but never unbounded
            _decoded.clear()
        found = _decoded[text] = json.loads(text)
    return found


def _row(r) -> Row:
    return Row(r[0], r[1], r[2], r[3], bool(r[4]), _facts(r[5]), r[6], facts_key=r[5] or "")


def delete_followups(conn: Connection, where) -> int:
    """Followups matching `where`, with their results and notices (storage/privacy.py too)."""
    ids = [r[0] for r in conn.execute(select(table.c.id).where(where))]
    for chunk in chunks(ids):
        conn.execute(delete(statuses).where(statuses.c.followup_id.in_(chunk)))
        conn.execute(delete(notices).where(notices.c.followup_id.in_(chunk)))
        conn.execute(delete(table).where(table.c.id.in_(chunk)))
    return len(ids)


def purge_followups(conn: Connection, keep_days: float, text_days: float, now: dt.datetime | None = None) -> int:
    """The retention: followups whose consent is older than keep_days go; a notice's words are
    emptied text_days after it was delivered (its key stays, so it is never made again)."""
    now = now or _utcnow()
    removed = delete_followups(conn, table.c.consent_at < now - dt.timedelta(days=keep_days))
    conn.execute(update(notices).where(notices.c.status.in_(FINAL), notices.c.text.is_not(None),
                                       notices.c.created_at < now - dt.timedelta(days=text_days))
                 .values(text=None, button_title=None, button_payload=None))
    return removed


def _env_number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


class FollowupStore:
    def __init__(self, engine: Engine, retry_seconds: float | None = None, max_attempts: int | None = None):
        self.engine = engine
        # a failed delivery waits retry_seconds, then twice that, … ; after max_attempts it is 'failed'
        self.retry_seconds = retry_seconds if retry_seconds is not None else \
            _env_number("ELDERCARE_NOTIFY_RETRY_SECONDS", 60)
        self.max_attempts = int(max_attempts if max_attempts is not None else
                                _env_number("ELDERCARE_NOTIFY_MAX_ATTEMPTS", 5))

    # ---- consent ------------------------------------------------------------------------------
    def keep(self, *, channel: str, address: str, sender_id: str, person: str = "", facts: Mapping[str, Any],
             birth_year: int | None = None, birth_month: int | None = None, wording: str,
             now: dt.datetime | None = None, age: int | None = None,
             statuses_now: Mapping[str, str] | None = None, kb=None) -> Followup:
        """Keep (or renew) one elder's profile after a clear yes; one record per (sender, person).

        facts: canonical facts (facts.yml); the age is not kept — give birth_year (and
        birth_month when said; None counts as December), or only `age` when that is all that was
        said. The results now are kept as the baseline (`statuses_now`, else evaluated with the
        KB in the database), so what the family has just heard is never sent again."""
        now = now or _utcnow()
        today = now.astimezone(clock.CHINA).date()
        if channel not in CHANNELS:
            raise ValueError(f"unknown channel {channel!r}; one of {CHANNELS}")
        address = (address or "").strip()
        if channel == "console":   # a call back needs a number the operator can dial
            address = normalize_phone(address) or ""
        if not address or not sender_id:
            raise ValueError("a followup needs a sender and somewhere to tell the family")
        kept = clean_facts(facts)
        if birth_year is None and age is None and isinstance(facts.get("age"), int):
            age = facts["age"]
        if birth_year is None and age is not None:
            birth_year, birth_month = birth_from_age(int(age), today)
            month_known = False
        else:
            month_known = birth_month is not None
            if birth_year is not None and birth_month is None:
                birth_month = UNKNOWN_MONTH
        if birth_year is not None and not (today.year - 130 <= birth_year <= today.year):
            raise ValueError(f"birth year {birth_year} out of range")
        if birth_month is not None and not 1 <= birth_month <= 12:
            raise ValueError(f"birth month {birth_month} out of range")
        if birth_year is None:
            birth_month, month_known = None, False
        mask = mask_of(kept) | (fact_bit("age") if birth_year is not None else 0)
        follow = Followup(0, str(sender_id), (person or "")[:32], channel, address, birth_year, birth_month,
                          month_known, kept, now, wording)
        if statuses_now is None:
            statuses_now = self._results_now(follow, today, kb)
        good = {pid: s for pid, s in statuses_now.items() if s in RANK}
        values = dict(channel=channel, address=address, birth_year=birth_year, birth_month=birth_month,
                      birth_month_known=month_known, district=kept.get("district"), facts=kept, facts_mask=mask,
                      consent_at=now, consent_wording=wording, updated_at=now)
        for _ in range(2):   # a concurrent keep of the same elder: the second updates the first
            try:
                with self.engine.begin() as conn:
                    found = conn.execute(select(table.c.id).where(table.c.sender_id == follow.sender_id,
                                                                  table.c.person == follow.person)).scalar()
                    if found is None:
                        found = conn.execute(insert(table).values(sender_id=follow.sender_id, person=follow.person,
                                                                  **values)).inserted_primary_key[0]
                    else:
                        conn.execute(update(table).where(table.c.id == found).values(**values))
                        conn.execute(delete(statuses).where(statuses.c.followup_id == found))
                    if good:
                        conn.execute(insert(statuses), [{"followup_id": found, "policy_id": pid, "status": s}
                                                        for pid, s in good.items()])
                follow.id = found
                log.info("followup kept (%s)", channel)
                return follow
            except IntegrityError:
                continue
        raise RuntimeError("could not keep the followup")

    def _results_now(self, follow: Followup, today: dt.date, kb) -> dict[str, str]:
        from policy_kb.engine import evaluate
        kb = kb or self._kb()
        return {r.id: r.status for r in evaluate(kb, follow.profile(today), today)}

    def _kb(self):
        from storage.tables import policies
        with self.engine.connect() as conn:
            version = tuple(conn.execute(select(policies.c.id, policies.c.content_hash).order_by(policies.c.id)))
        if not version:   # an empty database: the YAML, as every process gets it
            from policy_kb.kb import KnowledgeBase
            return KnowledgeBase.from_directory()
        return _load_kb(self.engine.url.render_as_string(hide_password=False), version, self.engine)

    def stop(self, sender_id: str) -> int:
        """不用提醒了, /stop: every elder kept for this conversation, their results and notices
        (sent or not) are deleted. Returns how many elders were kept."""
        with self.engine.begin() as conn:
            removed = delete_followups(conn, table.c.sender_id == str(sender_id))
        if removed:
            log.info("followups stopped: %d", removed)
        return removed

    def get(self, sender_id: str, person: str = "") -> Followup | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(table).where(table.c.sender_id == sender_id, table.c.person == person)).mappings().first()
        return _followup(r) if r else None

    def for_sender(self, sender_id: str) -> list[Followup]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(table).where(table.c.sender_id == sender_id).order_by(table.c.id)).mappings().all()
        return [_followup(r) for r in rows]

    def statuses(self, followup_id: int) -> dict[str, str]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(statuses.c.policy_id, statuses.c.status)
                                     .where(statuses.c.followup_id == followup_id)).all())

    # ---- the notifier's bulk reads and writes --------------------------------------------------
    def page(self, after_id: int, limit: int, *, mask: int | None = None,
             cohorts: Iterable[tuple[int, int]] | None = None, policy_id: str | None = None,
             status_of: str | None = None) -> list[Row]:
        """Kept elders by id (keyset paging: no cursor held while the page's results are written):
        those knowing a fact in `mask`, born in one of `cohorts` (year, month — the birth index),
        or holding a good result for `policy_id`; with `status_of`, each with its kept result for
        that policy (Row.status)."""
        if cohorts is not None:
            cohorts = list(cohorts)
            if not cohorts:
                return []
        query = self.page_query(after_id, limit, mask=mask, cohorts=cohorts, policy_id=policy_id, status_of=status_of)
        with self.engine.connect() as conn:
            found = conn.execute(query).all()
        rows = [_row(r) for r in found]
        if status_of is not None:
            for row, r in zip(rows, found):
                row.status = r[-1]
        return rows

    @staticmethod
    def page_query(after_id: int, limit: int, *, mask: int | None = None, cohorts: list | None = None,
                   policy_id: str | None = None, status_of: str | None = None):
        columns = list(_ROW_COLUMNS)
        source = table
        if status_of is not None:
            kept = statuses.alias("kept")
            source = table.outerjoin(kept, and_(kept.c.followup_id == table.c.id, kept.c.policy_id == status_of))
            columns.append(kept.c.status)
        query = select(*columns).select_from(source).where(table.c.id > after_id).order_by(table.c.id).limit(limit)
        if mask is not None:
            query = query.where(table.c.facts_mask.op("&")(mask) != 0)
        if cohorts is not None:   # through ix_followups_birth: a day never reads every elder
            query = query.where(or_(*(and_(table.c.birth_year == y, table.c.birth_month == m) for y, m in cohorts)))
        if policy_id is not None:
            query = query.where(select(statuses.c.followup_id).where(
                statuses.c.followup_id == table.c.id, statuses.c.policy_id == policy_id).exists())
        return query

    def stored_statuses(self, ids: list[int], policy_ids: Iterable[str]) -> dict[tuple[int, str], str]:
        policy_ids = list(policy_ids)
        out: dict[tuple[int, str], str] = {}
        if not ids or not policy_ids:
            return out
        with self.engine.connect() as conn:
            for chunk in chunks(ids):
                query = select(statuses.c.followup_id, statuses.c.policy_id, statuses.c.status).where(
                    statuses.c.followup_id.in_(chunk))
                if len(policy_ids) == 1:
                    query = query.where(statuses.c.policy_id == policy_ids[0])
                else:
                    query = query.where(statuses.c.policy_id.in_(policy_ids))
                out.update(((f, p), s) for f, p, s in conn.execute(query))
        return out

    def new_notices(self, made: list[dict]) -> list[dict]:
        """Those of `made` not made before (the key: followup, policy, reason, detail)."""
        groups: dict[tuple, list[dict]] = {}
        for n in made:
            groups.setdefault((n["policy_id"], n["reason"], n["detail"]), []).append(n)
        fresh = []
        with self.engine.connect() as conn:
            for (policy_id, reason, detail), group in groups.items():
                seen = set()
                for chunk in chunks([n["followup_id"] for n in group]):
                    seen.update(r[0] for r in conn.execute(select(notices.c.followup_id).where(
                        notices.c.policy_id == policy_id, notices.c.reason == reason, notices.c.detail == detail,
                        notices.c.followup_id.in_(chunk))))
                fresh.extend(n for n in group if n["followup_id"] not in seen)
        return fresh

    def apply(self, changes: list[tuple], made: list[dict], now: dt.datetime | None = None) -> list[dict]:
        """One page of the notifier's work in one transaction: results changed (followup, policy,
        new status or None, the old one) and notices made; returns the notices that were new
        (a key made before — by this or a concurrent run — is left as it was)."""
        now = now or _utcnow()
        postgres = self.engine.dialect.name == "postgresql"
        fresh = made if postgres else (self.new_notices(made) if made else [])
        gone: dict[str, list[int]] = {}
        added = []
        for fid, pid, new, old in changes:
            if old is not None:
                gone.setdefault(pid, []).append(fid)
            if new in RANK:
                added.append((fid, pid, new))
        rows = [(n["followup_id"], n["policy_id"], n["reason"], n["detail"][:64], n["as_of"], n["text"],
                 (n.get("button_title") or "")[:100] or None, n.get("button_payload"),
                 # a hotline family is called back by an operator; the others get a message
                 CALL_BACK if n["channel"] == "console" else PENDING, 0, now, now) for n in fresh]
        with self.engine.begin() as conn:
            for pid, ids in gone.items():
                for chunk in chunks(ids):
                    conn.execute(delete(statuses).where(statuses.c.policy_id == pid, statuses.c.followup_id.in_(chunk)))
            if postgres:   # COPY: a KB change may write hundreds of thousands of rows
                if added:
                    _copy(conn, "followup_statuses", ("followup_id", "policy_id", "status"), added)
                if rows:
                    inserted = _copy_notices(conn, rows)
                    fresh = [n for n in fresh if (n["followup_id"], n["policy_id"], n["reason"], n["detail"][:64])
                             in inserted]
            else:
                if added:
                    conn.execute(insert(statuses), [{"followup_id": f, "policy_id": p, "status": st}
                                                    for f, p, st in added])
                if rows:
                    conn.execute(_insert_ignoring_duplicates(conn, notices),
                                 [dict(zip(NOTICE_COLUMNS, r)) for r in rows])
        return fresh

    def drop_policy(self, policy_id: str) -> None:
        """A policy left the KB: its kept results go (its notices stay, as sent)."""
        with self.engine.begin() as conn:
            conn.execute(delete(statuses).where(statuses.c.policy_id == policy_id))

    def senders_kept(self, sender_ids: Iterable[str]) -> dict[str, Row]:
        """The first elder kept for each of these conversations (a booking's notice goes there)."""
        sender_ids = sorted(set(sender_ids))
        out: dict[str, Row] = {}
        with self.engine.connect() as conn:
            for chunk in chunks(sender_ids):
                rows = conn.execute(select(table.c.sender_id, table.c.consent_at, *_ROW_COLUMNS)
                                    .where(table.c.sender_id.in_(chunk)).order_by(table.c.id))
                for r in rows:
                    if r[0] not in out:
                        row = _row(r[2:])
                        row.consent_at = _utc(r[1])   # events before the consent are not told
                        out[r[0]] = row
        return out

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar_one()

    # ---- the notifier's memory --------------------------------------------------------------------
    def get_state(self, key: str, default: Any = None) -> Any:
        with self.engine.connect() as conn:
            found = conn.execute(select(state.c.value).where(state.c.key == key)).first()
        return default if found is None or found[0] is None else found[0]

    def set_state(self, key: str, value: Any) -> None:
        with self.engine.begin() as conn:
            if not conn.execute(update(state).where(state.c.key == key).values(value=value)).rowcount:
                conn.execute(insert(state).values(key=key, value=value))

    def acquire(self, name: str, seconds: float, now: dt.datetime | None = None) -> str | None:
        """A lease: one notifier run at a time across processes and machines (cron and serve).
        Returns a token for release(), or None while another run holds it."""
        now = now or _utcnow()
        key, until = f"lease:{name}", (now + dt.timedelta(seconds=seconds)).isoformat()
        with self.engine.begin() as conn:
            if conn.execute(_insert_ignoring_duplicates(conn, state).values(key=key, value=until)).rowcount == 1:
                return until
            held = conn.execute(select(state.c.value).where(state.c.key == key)).scalar()
            if isinstance(held, str) and held > now.isoformat():
                return None
            # expired (its run died): taken over by compare-and-set on the old value's text
            taken = conn.execute(update(state).where(state.c.key == key,
                                                     cast(state.c.value, Text) == json.dumps(held))
                                 .values(value=until)).rowcount == 1
        return until if taken else None

    def release(self, name: str, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(state).where(state.c.key == f"lease:{name}",
                                             cast(state.c.value, Text) == json.dumps(token)))

    # ---- delivery -----------------------------------------------------------------------------
    @staticmethod
    def _notice_query():
        return (select(notices.c.id, notices.c.followup_id, table.c.channel, table.c.address, notices.c.policy_id,
                       notices.c.reason, notices.c.detail, notices.c.text, notices.c.button_title,
                       notices.c.button_payload, notices.c.attempts)
                .join(table, table.c.id == notices.c.followup_id))

    def due(self, now: dt.datetime | None = None, limit: int = 100, channels: Iterable[str] | None = None) -> list[Notice]:
        """Notices to send now, oldest first: pending and due (a retry waits), or claimed by a
        run that died long enough ago."""
        now = now or _utcnow()
        query = (self._notice_query().where(notices.c.status.in_((PENDING, SENDING)), notices.c.next_attempt_at <= now)
                 .order_by(notices.c.next_attempt_at, notices.c.id).limit(limit))
        if channels is not None:
            query = query.where(table.c.channel.in_(list(channels)))
        with self.engine.connect() as conn:
            return [Notice(*r) for r in conn.execute(query)]

    def claim(self, notice_id: int, now: dt.datetime | None = None) -> bool:
        """Take one due notice for sending (compare-and-set: two runs never both send it)."""
        return bool(self.claim_due(now, ids=[notice_id]))

    def claim_due(self, now: dt.datetime | None = None, limit: int = 100, channels: Iterable[str] | None = None,
                  ids: list[int] | None = None) -> list[Notice]:
        """Take the due notices (or these `ids` if due) for sending in one statement: each is
        marked with this claim's token by compare-and-set, so two runs never send the same one;
        a claim whose run died lapses after CLAIM_SECONDS."""
        now = now or _utcnow()
        if ids is None:
            ids = [n.id for n in self.due(now, limit, channels)]
        if not ids:
            return []
        token = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(update(notices).where(
                notices.c.id.in_(ids), notices.c.status.in_((PENDING, SENDING)), notices.c.next_attempt_at <= now)
                .values(status=SENDING, claim=token, next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS)))
            found = conn.execute(self._notice_query().where(notices.c.claim == token, notices.c.status == SENDING)
                                 .order_by(notices.c.id)).all()
        return [Notice(*r) for r in found]

    def mark_sent(self, notice_id: int | list[int], now: dt.datetime | None = None) -> None:
        ids = [notice_id] if isinstance(notice_id, int) else list(notice_id)
        with self.engine.begin() as conn:
            for chunk in chunks(ids):
                conn.execute(update(notices).where(notices.c.id.in_(chunk)).values(
                    status=SENT, sent_at=now or _utcnow(), next_attempt_at=None, claim=None,
                    attempts=notices.c.attempts + 1))

    def mark_failed(self, notice_id: int, error: str, now: dt.datetime | None = None, permanent: bool = False,
                    retry_after: float | None = None) -> str:
        """One failed attempt: retried after retry_seconds × 2^(attempt − 1) (at least what the
        channel asked for), 'failed' after max_attempts or at once when it can never work."""
        now = now or _utcnow()
        with self.engine.begin() as conn:
            attempts = conn.execute(select(notices.c.attempts).where(notices.c.id == notice_id)).scalar()
            if attempts is None:
                return FAILED   # deleted meanwhile (不用提醒了 during the run)
            attempts += 1
            if permanent or attempts >= self.max_attempts:
                status, later = FAILED, None
            else:
                wait = max(self.retry_seconds * 2 ** (attempts - 1), retry_after or 0)
                status, later = PENDING, now + dt.timedelta(seconds=wait)
            conn.execute(update(notices).where(notices.c.id == notice_id).values(
                status=status, attempts=attempts, next_attempt_at=later, claim=None, last_error=(error or "error")[:100]))
        return status

    def next_attempt(self, channels: Iterable[str] | None = None) -> dt.datetime | None:
        """When the next notice waiting to be retried is due."""
        query = (select(func.min(notices.c.next_attempt_at)).join(table, table.c.id == notices.c.followup_id)
                 .where(notices.c.status == PENDING))
        if channels is not None:
            query = query.where(table.c.channel.in_(list(channels)))
        with self.engine.connect() as conn:
            return _utc(conn.execute(query).scalar())

    def pending_by_channel(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return dict(conn.execute(select(table.c.channel, func.count())
                                     .join(table, table.c.id == notices.c.followup_id)
                                     .where(notices.c.status.in_((PENDING, SENDING))).group_by(table.c.channel)).all())

    # ---- hotline call backs ('待回访') ------------------------------------------------------------
    def list_call_backs(self, limit: int = 200) -> list[CallBack]:
        query = (select(notices.c.id, notices.c.followup_id, table.c.address, table.c.person, notices.c.policy_id,
                        notices.c.reason, notices.c.text, notices.c.created_at)
                 .join(table, table.c.id == notices.c.followup_id)
                 .where(notices.c.status == CALL_BACK).order_by(notices.c.created_at, notices.c.id).limit(limit))
        with self.engine.connect() as conn:
            return [CallBack(r[0], r[1], r[2], mask_phone(r[2]), r[3], r[4], r[5], r[6] or "", _utc(r[7]))
                    for r in conn.execute(query)]

    def mark_done(self, notice_id: int, operator_id: int, now: dt.datetime | None = None) -> bool:
        """The operator called the family back. False if it was done already (or is gone)."""
        with self.engine.begin() as conn:
            return conn.execute(update(notices).where(notices.c.id == notice_id, notices.c.status == CALL_BACK)
                                .values(status=DONE, done_by=operator_id, sent_at=now or _utcnow())).rowcount == 1

    # ---- staff --------------------------------------------------------------------------------
    def stats(self) -> dict:
        """For staff: counts only, never a person, an address or a fact of one elder."""
        with self.engine.connect() as conn:
            by_district = {d or "未知": n for d, n in conn.execute(
                select(table.c.district, func.count()).group_by(table.c.district))}
            by_channel = dict(conn.execute(select(table.c.channel, func.count()).group_by(table.c.channel)).all())
            by_notice = [{"policy": p, "reason": r, "status": s, "count": n} for p, r, s, n in conn.execute(
                select(notices.c.policy_id, notices.c.reason, notices.c.status, func.count())
                .group_by(notices.c.policy_id, notices.c.reason, notices.c.status)
                .order_by(notices.c.policy_id, notices.c.reason, notices.c.status))]
            errors = dict(conn.execute(select(notices.c.last_error, func.count())
                                       .where(notices.c.status == FAILED).group_by(notices.c.last_error)).all())
            retrying = conn.execute(select(func.count()).select_from(notices).where(
                notices.c.status == PENDING, notices.c.attempts > 0)).scalar_one()
        return {"followups": sum(by_district.values()), "by_district": dict(sorted(by_district.items())),
                "by_channel": by_channel, "notices": by_notice,
                "failed": sum(errors.values()), "failed_by_error": {k or "?": v for k, v in errors.items()},
                "retrying": retrying, "last_run": self.get_state("last_run")}


def _followup(r) -> Followup:
    return Followup(r["id"], r["sender_id"], r["person"], r["channel"], r["address"], r["birth_year"],
                    r["birth_month"], bool(r["birth_month_known"]), r["facts"] or {}, _utc(r["consent_at"]),
                    r["consent_wording"])


NOTICE_COLUMNS = ("followup_id", "policy_id", "reason", "detail", "as_of", "text", "button_title", "button_payload",
                  "status", "attempts", "next_attempt_at", "created_at")


def _csv(rows: Iterable[tuple]) -> io.StringIO:
    """Rows for COPY … (FORMAT csv, NULL '\\N'): None is \\N, an empty string stays one."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    for row in rows:
        out.writerow(["\\N" if v is None else v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v
                      for v in row])
    buf.seek(0)
    return buf


def _copy(conn: Connection, name: str, columns: tuple, rows: list[tuple]) -> None:
    cursor = conn.connection.cursor()
    cursor.copy_expert(f"COPY {name} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", _csv(rows))


def _copy_notices(conn: Connection, rows: list[tuple]) -> set[tuple]:
    """PostgreSQL: COPY into a scratch table, then INSERT … ON CONFLICT DO NOTHING: fast, and a key
    made before is kept as it was. Returns the keys inserted."""
    cursor = conn.connection.cursor()
    cursor.execute("CREATE TEMP TABLE IF NOT EXISTS notices_in (followup_id integer, policy_id text, reason text, "
                   "detail text, as_of date, text text, button_title text, button_payload text, status text, "
                   "attempts integer, next_attempt_at timestamptz, created_at timestamptz) ON COMMIT DELETE ROWS")
    cursor.copy_expert(f"COPY notices_in ({', '.join(NOTICE_COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                       _csv(rows))
    columns = ", ".join(NOTICE_COLUMNS)
    cursor.execute(f"INSERT INTO followup_notices ({columns}) SELECT {columns} FROM notices_in "
                   "ON CONFLICT DO NOTHING RETURNING followup_id, policy_id, reason, detail")
    return set(cursor.fetchall())


def _insert_ignoring_duplicates(conn: Connection, target):
    """INSERT … ON CONFLICT DO NOTHING on PostgreSQL and SQLite: a key made by a concurrent run
    is left as it is."""
    name = conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        return pg_insert(target).on_conflict_do_nothing()
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        return sqlite_insert(target).on_conflict_do_nothing()
    return insert(target)


@lru_cache(maxsize=4)
def _load_kb(url: str, version: tuple, engine: Engine):
    """The KB as stored, rebuilt only when a policy's hash changed (keep() runs every consent)."""
    from storage import kb_store
    return kb_store.load(engine)
