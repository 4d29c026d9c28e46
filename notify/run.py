"""The notifier's run for a date: what changed, for whom, and the notices it makes.

Only the affected are evaluated:
* an age threshold (60, 65, 80 … read from the rules by policy_kb.thresholds) is crossed on the
  1st of the birth month, so a day reads only the elders born in the cohorts crossing one that
  day — through the (birth_year, birth_month) index, never a scan — and, where applying takes
  time, the cohorts crossing one a few months later (the notice ahead);
* a policy added or changed in the KB (content hash per policy, kept by the notifier) or whose
  valid_from arrives re-evaluates that policy only, for the elders who know a fact it reads
  (facts_mask);
* a programme ending within 30 days reads only the elders holding a good result for it;
* bookings: staff decisions since the last event seen, waiting-list places of kept families.

A result is kept per elder and policy when eligible or possible; a notice is made when a result
gets better than the kept one, once per (elder, policy, reason, detail) — a re-run makes nothing
new. Missed days (the server was down) are caught up, at most catch_up_days back.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from policy_kb.engine import evaluate_policy
from policy_kb.kb import KnowledgeBase
from policy_kb.schema import Policy
from policy_kb.thresholds import age_on, age_thresholds, facts_read, month_shift
from storage.bookings import KIND_LABELS, QUEUED
from storage.followups import RANK, UNKNOWN_MONTH, FollowupStore, Row, mask_of
from storage.masking import mask_text
from storage.tables import booking_events, bookings

from . import texts
from .settings import NotifySettings

log = logging.getLogger(__name__)
STAFF_DECISIONS = {"confirmed": "booking_confirmed", "declined": "booking_declined", "admitted": "booking_admitted"}
LEASE_SECONDS = 3600
MEMO_TEXTS = 100_000      # results remembered by facts text, per policy, day and age (bounded memory)


class Busy(RuntimeError):
    """Another notifier run holds the lease."""


def content_hash(raw: dict) -> str:
    """A policy's content as the notifier last saw it (the same canonical JSON as the KB store)."""
    return hashlib.sha256(json.dumps(raw, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass
class Report:
    as_of: dt.date
    days: list[dt.date]
    dry_run: bool
    baseline: bool = False               # the first run: the KB's state is recorded, nothing told
    skipped_days: int = 0                # missed days beyond catch_up_days
    kb: dict = field(default_factory=lambda: {"added": [], "changed": [], "removed": []})
    evaluated: int = 0                   # elders read (an elder read for two reasons counts twice)
    made: Counter = field(default_factory=Counter)      # (policy, reason) → new notices
    texts: Counter = field(default_factory=Counter)     # (reason, policy, text) → how many (dry run)
    seconds: float = 0.0

    @property
    def notices(self) -> int:
        return sum(self.made.values())


class Evaluator:
    """One policy's result for a kept elder on a day, remembered by the facts the policy reads:
    a million elders share a few thousand such combinations."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.read = {p.id: facts_read(p) for p in kb.policies}
        self._facts = {pid: tuple(sorted(read - {"age"})) for pid, read in self.read.items()}
        self._memo: dict[tuple, dict] = {}

    def uses_age(self, policy: Policy) -> bool:
        return "age" in self.read[policy.id]

    def status(self, policy: Policy, facts: dict, age: int | None, day: dt.date, facts_key: str = "") -> str | None:
        """`facts_key`, the facts' stored text when known, saves even projecting them."""
        uses_age = "age" in self.read[policy.id]
        memo = self._memo.setdefault((policy.id, day, age if uses_age else None), {})
        if facts_key:
            found = memo.get(facts_key, memo)
            if found is not memo:
                return found
        names = self._facts[policy.id]
        key = tuple(map(facts.get, names))
        if key in memo:
            if facts_key and len(memo) < MEMO_TEXTS:
                memo[facts_key] = memo[key]
            return memo[key]
        profile = {name: value for name, value in zip(names, key) if value is not None}
        if uses_age and age is not None:
            profile["age"] = age
        status = evaluate_policy(policy, self.kb.derive(profile)[0], day).status
        memo[key] = status if status in RANK else None
        if facts_key and len(memo) < MEMO_TEXTS:
            memo[facts_key] = memo[key]
        return memo[key]


def _age(row: Row, day: dt.date) -> int | None:
    return age_on(row.birth_year, row.birth_month or UNKNOWN_MONTH, day) if row.birth_year is not None else None


def _better(new: str | None, old: str | None) -> bool:
    return RANK.get(new, 0) > RANK.get(old, 0)


class Notifier:
    def __init__(self, engine: Engine, kb: KnowledgeBase, settings: NotifySettings | None = None,
                 store: FollowupStore | None = None):
        self.engine, self.kb = engine, kb
        self.settings = settings or NotifySettings.from_env()
        self.store = store or FollowupStore(engine, self.settings.retry_seconds, self.settings.max_attempts)
        self.ev = Evaluator(kb)

    # ---- the run --------------------------------------------------------------------------------
    def run(self, as_of: dt.date, dry_run: bool = False, now: dt.datetime | None = None) -> Report:
        """Everything due up to `as_of` (a Suzhou date). A dry run reads only: it writes no
        result, notice or state, and says what would be sent."""
        started = time.perf_counter()
        self.now = now or dt.datetime.now(dt.timezone.utc)
        self.dry_run = dry_run
        self._overlay: dict[tuple[int, str], str | None] = {}   # a dry run's results, never written
        self._made_keys: set[tuple] = set()
        token = None
        if not dry_run:
            token = self.store.acquire("notify", LEASE_SECONDS, self.now)
            if token is None:
                raise Busy("另一个提醒任务正在运行")
        try:
            report = Report(as_of, [], dry_run)
            report.days, report.skipped_days = self._days(as_of)
            self.report = report
            self._kb_changes(as_of)
            for day in report.days:
                self._ages(day)
                self._starts(day)
                self._ends(day)
            self._bookings(as_of)
            self._waitlist(as_of)
            if not dry_run:
                last = self.store.get_state("last_run")
                if last is None or last < as_of.isoformat():
                    self.store.set_state("last_run", as_of.isoformat())
        finally:
            if token:
                self.store.release("notify", token)
        report.seconds = time.perf_counter() - started
        return report

    def _days(self, as_of: dt.date) -> tuple[list[dt.date], int]:
        last = self.store.get_state("last_run")
        if last is None or dt.date.fromisoformat(last) >= as_of:
            return [as_of], 0   # the first run, or a re-run of a day: that day (nothing is made twice)
        first = dt.date.fromisoformat(last) + dt.timedelta(days=1)
        start = max(first, as_of - dt.timedelta(days=self.settings.catch_up_days - 1))
        days = [start + dt.timedelta(days=i) for i in range((as_of - start).days + 1)]
        skipped = (start - first).days
        if skipped:
            log.warning("notifier: %d missed days are beyond the catch-up window and are skipped", skipped)
        return days, skipped

    # ---- writing (or, in a dry run, only counting) ------------------------------------------------
    def _stored(self, ids: list[int], policy_ids: Iterable[str]) -> dict[tuple[int, str], str]:
        policy_ids = list(policy_ids)
        stored = self.store.stored_statuses(ids, policy_ids)
        if self._overlay:
            for fid in ids:
                for pid in policy_ids:
                    if (fid, pid) in self._overlay:
                        value = self._overlay[(fid, pid)]
                        if value is None:
                            stored.pop((fid, pid), None)
                        else:
                            stored[(fid, pid)] = value
        return stored

    def _flush(self, changes: list, made: list) -> None:
        if self.dry_run:
            for fid, pid, status, _ in changes:
                self._overlay[(fid, pid)] = status
            fresh = [n for n in self.store.new_notices(made)
                     if (n["followup_id"], n["policy_id"], n["reason"], n["detail"]) not in self._made_keys]
            for n in fresh:
                self._made_keys.add((n["followup_id"], n["policy_id"], n["reason"], n["detail"]))
                self.report.texts[(n["reason"], n["policy_id"], n["text"])] += 1
        else:
            fresh = self.store.apply(changes, made, self.now)
        for n in fresh:
            self.report.made[(n["policy_id"], n["reason"])] += 1

    def _notice(self, row: Row, policy: Policy, reason: str, detail: str, status: str, day: dt.date,
                age: int | None = None, birthday: dt.date | None = None, date: dt.date | None = None) -> dict:
        text, title, button = texts.policy_notice(
            reason, policy, status, person=row.person, facts=row.facts, age=age,
            year=birthday.year if birthday else None, month=birthday.month if birthday else None,
            month_known=row.birth_month_known, date=date)
        return {"followup_id": row.id, "policy_id": policy.id, "reason": reason, "detail": detail, "as_of": day,
                "text": text, "button_title": title, "button_payload": button, "channel": row.channel}

    # ---- one policy, every elder who knows a fact it reads -----------------------------------------
    def _mask(self, policy: Policy, day: dt.date) -> int | None:
        """The facts_mask filter for a policy; None (everyone) when it reads nothing, or when it
        holds without any fact known (then no fact can narrow who it affects)."""
        read = self.ev.read[policy.id]
        if not read or self.ev.status(policy, {}, None, day) is not None:
            return None
        return mask_of(read)

    def _policy_scan(self, policy: Policy, day: dt.date, reason: str, detail: str) -> None:
        mask, after, size = self._mask(policy, day), 0, self.settings.page_size
        while True:
            rows = self.store.page(after, size, mask=mask, status_of=policy.id)
            if not rows:
                return
            after = rows[-1].id
            overlay = self._overlay
            changes, made = [], []
            for row in rows:
                new = self.ev.status(policy, row.facts, _age(row, day), day, row.facts_key)
                old = overlay.get((row.id, policy.id), row.status) if overlay else row.status
                if new != old:
                    changes.append((row.id, policy.id, new, old))
                if _better(new, old):
                    made.append(self._notice(row, policy, reason, detail, new, day,
                                             date=policy.valid_from if reason == "starts" else None))
            self.report.evaluated += len(rows)
            self._flush(changes, made)

    def _kb_changes(self, as_of: dt.date) -> None:
        hashes = {p.id: content_hash(p.raw) for p in self.kb.policies}
        old = self.store.get_state("policy_hashes")
        if old is None:
            # the first run: the results kept with each consent are the baseline; telling now
            # every elder about every policy would repeat what they have just heard
            self.report.baseline = True
            if not self.dry_run:
                self.store.set_state("policy_hashes", hashes)
            return
        kb = self.report.kb
        kb["added"] = sorted(set(hashes) - set(old))
        kb["changed"] = sorted(pid for pid in set(hashes) & set(old) if hashes[pid] != old[pid])
        kb["removed"] = sorted(set(old) - set(hashes))
        for pid in kb["removed"]:
            if not self.dry_run:
                self.store.drop_policy(pid)
        for pid in kb["added"] + kb["changed"]:
            reason = "new_policy" if pid in kb["added"] else "changed_policy"
            self._policy_scan(self.kb.get(pid), as_of, reason, hashes[pid][:16])
        if not self.dry_run and (kb["added"] or kb["changed"] or kb["removed"]):
            self.store.set_state("policy_hashes", hashes)

    def _starts(self, day: dt.date) -> None:
        for policy in self.kb.policies:
            if policy.valid_from == day:
                self._policy_scan(policy, day, "starts", day.isoformat())

    # ---- ages: the birth-month index ------------------------------------------------------------------
    def _ages(self, day: dt.date) -> None:
        if day.day != 1:
            return   # the birthday counts as the 1st of the month (thresholds.age_on): ages change then only
        thresholds = age_thresholds(self.kb)
        if not thresholds:
            return
        policies = [p for p in self.kb.policies if self.ev.uses_age(p)]
        # the birthday: cohorts turning T today; results kept up to date
        self._cohorts(day, {(day.year - t, day.month): t for t in thresholds}, policies, day, "age", keep=True)
        # ahead: cohorts turning T a few months from now, where applying takes time
        by_lead: dict[int, dict] = {}
        for t in thresholds:
            months = self.settings.months_ahead(t)
            if months > 0:
                year, month = month_shift(day.year, day.month, months)
                by_lead.setdefault(months, {})[(year - t, month)] = t
        for months, cohorts in by_lead.items():
            birthday = dt.date(*month_shift(day.year, day.month, months), 1)
            self._cohorts(day, cohorts, policies, birthday, "age_ahead", keep=False)

    def _cohorts(self, day: dt.date, cohorts: dict[tuple[int, int], int], policies: list[Policy],
                 when: dt.date, reason: str, keep: bool) -> None:
        """Elders of these (birth year, month) cohorts, evaluated on `when` (their birthday);
        keep=False only tells (ahead of the day), the kept results change on the day itself."""
        after, size = 0, self.settings.page_size
        while True:
            rows = self.store.page(after, size, cohorts=cohorts)
            if not rows:
                return
            after = rows[-1].id
            stored = self._stored([r.id for r in rows], [p.id for p in policies])
            changes, made = [], []
            for row in rows:
                threshold = cohorts[(row.birth_year, row.birth_month)]
                for policy in policies:
                    new = self.ev.status(policy, row.facts, threshold, when, row.facts_key)
                    old = stored.get((row.id, policy.id))
                    if keep and new != old:
                        changes.append((row.id, policy.id, new, old))
                    if _better(new, old):
                        made.append(self._notice(row, policy, reason, str(threshold), new, day, age=threshold,
                                                 birthday=when))
            self.report.evaluated += len(rows)
            self._flush(changes, made)

    # ---- programmes ending ------------------------------------------------------------------------------
    def _ends(self, day: dt.date) -> None:
        told = self.store.get_state("ends_told", [])
        soon = day + dt.timedelta(days=self.settings.ends_within_days)
        for policy in self.kb.policies:
            if not policy.valid_to or not day <= policy.valid_to <= soon:
                continue
            key = f"{policy.id}:{policy.valid_to.isoformat()}"
            if key in told:
                continue   # told once, on the first day of the window
            after, size = 0, self.settings.page_size
            while True:
                rows = self.store.page(after, size, policy_id=policy.id, status_of=policy.id)
                if not rows:
                    break
                after = rows[-1].id
                made = [self._notice(r, policy, "ends", policy.valid_to.isoformat(), r.status, day,
                                     date=policy.valid_to)
                        for r in rows if r.status in RANK]
                self.report.evaluated += len(rows)
                self._flush([], made)
            if not self.dry_run:
                told = [k for k in told if k.split(":", 1)[0] != policy.id] + [key]
                self.store.set_state("ends_told", told)

    # ---- bookings -------------------------------------------------------------------------------------------
    def _bookings(self, as_of: dt.date) -> None:
        """Staff decisions (confirmed, declined, admitted) since the last event seen, for
        conversations with a followup."""
        seen = self.store.get_state("booking_event")
        with self.engine.connect() as conn:
            latest = conn.execute(select(func.max(booking_events.c.id))).scalar() or 0
            if seen is None:   # the first run: what happened before it is not news
                if not self.dry_run:
                    self.store.set_state("booking_event", latest)
                return
            events = conn.execute(
                select(booking_events.c.id, booking_events.c.at, booking_events.c.to_status, booking_events.c.reason,
                       bookings.c.reference, bookings.c.kind, bookings.c.sender_id)
                .join(bookings, bookings.c.id == booking_events.c.booking_id)
                .where(booking_events.c.id > seen, booking_events.c.id <= latest, booking_events.c.actor == "staff",
                       booking_events.c.to_status.in_(list(STAFF_DECISIONS)))
                .order_by(booking_events.c.id)).all()
        kept = self.store.senders_kept(e.sender_id for e in events)
        made = []
        for e in events:
            row = kept.get(e.sender_id)
            at = e.at.replace(tzinfo=dt.timezone.utc) if e.at.tzinfo is None else e.at
            if row is None or (row.consent_at and at < row.consent_at):
                continue
            reason = STAFF_DECISIONS[e.to_status]
            text, title, button = texts.booking_notice(reason, kind_label=KIND_LABELS[e.kind], reference=e.reference,
                                                       why=mask_text(e.reason) if e.reason else None)
            made.append({"followup_id": row.id, "policy_id": "", "reason": reason, "detail": e.reference,
                         "as_of": as_of, "text": text, "button_title": title, "button_payload": button,
                         "channel": row.channel})
        self._flush([], made)
        if not self.dry_run and latest != seen:
            self.store.set_state("booking_event", latest)

    def _waitlist(self, as_of: dt.date) -> None:
        """A kept family's waiting-list application that moved up a tier, or whose place moved
        by queue_step or more since they were last told (or since it was first seen)."""
        with self.engine.connect() as conn:
            queue = conn.execute(select(bookings.c.id, bookings.c.reference, bookings.c.sender_id,
                                        bookings.c.priority_tier)
                                 .where(bookings.c.kind == "waitlist", bookings.c.status.in_(QUEUED))
                                 .order_by(bookings.c.priority_tier, bookings.c.created_at, bookings.c.id)).all()
        kept = self.store.senders_kept(b.sender_id for b in queue) if queue else {}
        seen = self.store.get_state("waitlist_seen", {})
        now_seen, made = {}, []
        for position, b in enumerate(queue, 1):
            row = kept.get(b.sender_id)
            if row is None:
                continue
            key = str(b.id)
            tier, last = b.priority_tier, seen.get(key)
            now_seen[key] = [tier, position]
            if last is None:
                continue
            last_tier, last_position = last
            if tier is not None and last_tier is not None and tier < last_tier:
                reason, detail, moved = "waitlist_tier", f"{b.reference}:{tier}", last_position - position
            elif abs(last_position - position) >= self.settings.queue_step:
                reason, detail, moved = "waitlist_place", f"{b.reference}:{position}", last_position - position
            else:
                now_seen[key] = last   # small moves add up until they are worth telling
                continue
            text, title, button = texts.booking_notice(reason, kind_label=KIND_LABELS["waitlist"],
                                                       reference=b.reference, tier=tier, position=position, moved=moved)
            made.append({"followup_id": row.id, "policy_id": "", "reason": reason, "detail": detail, "as_of": as_of,
                         "text": text, "button_title": title, "button_payload": button, "channel": row.channel})
        self._flush([], made)
        if not self.dry_run and now_seen != seen:
            self.store.set_state("waitlist_seen", now_seen)


__all__ = ["Notifier", "Report", "Busy", "Evaluator", "content_hash"]
