"""Delivery: each due notice through its channel's Deliverer, one failure never holding up the
others. A failed send is retried with exponential backoff (FollowupStore.mark_failed), and after
the last attempt it is 'failed' and reported. Hotline notices are not delivered here: they wait
as 'call_back' for an operator.

A Deliverer is any object with `channel` (telegram, rest …) and `async send(notice)` that
returns once the message is accepted and raises otherwise; an exception with `permanent = True`
(the chat blocked the bot) is not retried, one with `retry_after` (seconds) waits at least that.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Callable, Mapping, Protocol

from storage.followups import FAILED, FollowupStore, Notice

log = logging.getLogger(__name__)


class Deliverer(Protocol):
    channel: str

    async def send(self, notice: Notice) -> None:
        ...


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0          # failed attempts that will be tried again
    failed: int = 0            # notices given up on (reported in `eldercare notify stats`)
    errors: dict = field(default_factory=dict)   # error kind → count (never a message: it may hold a URL)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def error_kind(exc: BaseException) -> str:
    return type(exc).__name__


async def deliver(store: FollowupStore, deliverers: Mapping[str, Deliverer], *, wait: bool = True,
                  max_wait: float | None = None, concurrency: int = 4, timeout: float = 30.0,
                  now: Callable[[], dt.datetime] = _now, sleep=asyncio.sleep, batch: int = 200) -> DeliveryReport:
    """Send every due notice of these channels. With `wait`, stay for the retries (up to
    max_wait seconds, by default the whole backoff) so a daily cron run finishes its work."""
    report = DeliveryReport()
    channels = list(deliverers)
    if not channels:
        return report
    if max_wait is None:   # every retry of a notice failing from now on
        max_wait = sum(store.retry_seconds * 2 ** i for i in range(max(store.max_attempts - 1, 0))) + 1
    deadline = now() + dt.timedelta(seconds=max_wait)
    gate = asyncio.Semaphore(concurrency)

    async def one(notice: Notice, sent: list) -> None:
        async with gate:
            try:
                await asyncio.wait_for(deliverers[notice.channel].send(notice), timeout)
            except Exception as exc:   # noqa: BLE001 — any failure is this notice's alone
                kind = error_kind(exc)
                status = store.mark_failed(notice.id, kind, now(), permanent=bool(getattr(exc, "permanent", False)),
                                           retry_after=getattr(exc, "retry_after", None))
                report.errors[kind] = report.errors.get(kind, 0) + 1
                if status == FAILED:
                    report.failed += 1
                    log.warning("notice %d failed for good (%s)", notice.id, kind)
                else:
                    report.retrying += 1
                    log.info("notice %d failed (%s), will retry", notice.id, kind)
                return
            sent.append(notice.id)

    while True:
        claimed = store.claim_due(now(), batch, channels)   # taken by this run only
        if claimed:
            sent: list[int] = []
            try:
                await asyncio.gather(*(one(n, sent) for n in claimed))
            finally:   # recorded per batch; a crash in between re-sends at most this batch
                store.mark_sent(sent, now())
                report.sent += len(sent)
            continue
        if not wait:
            return report
        later = store.next_attempt(channels)
        if later is None or later > deadline:
            return report
        await sleep(max((later - now()).total_seconds(), 0.0) + 0.01)
