"""A load client holding whole conversations over Rasa's REST channel (asyncio + aiohttp).

Each simulated user sends its next message as soon as the reply to the previous one
arrives; all users run at once. The same client drives the advisor and Rasa's starter bot,
so the two are measured the same way in the same run.
"""
from __future__ import annotations

import asyncio
import re
import statistics
import time
import uuid
from dataclasses import dataclass, field

import aiohttp

REFERENCE = re.compile(r"\b(?:JY|LH|PG|GW)-\d{8}-\d{4}\b")
APOLOGY = re.compile("系统出了点问题|系统正在维护|系统暂时连不上")   # channels/numbered_rest.py, channels/outage.py


def advisor_script(user: int, round_: int, level: int = 0) -> list[str]:
    """Facts, results, don't-knows, a numbered choice, more, a policy question, a booking
    through to its reference number, and a restart: 16 turns. The phone is unique per user."""
    phone = f"13{level % 100:02d}{user:04d}{round_:03d}"
    return ["你好", "我妈今年85岁，住在姑苏区", "本地户口", "好的", "不清楚", "不清楚", "1", "更多",
            "长护险怎么申请", "帮我约个助浴", "明天上午", "姑苏区十全街88号2幢301", "王阿姨", phone, "1",
            "重新开始"]


def starter_script(user: int, round_: int, level: int = 0) -> list[str]:
    """Rasa's `rasa init` bot: its own greet / mood / goodbye turns, 12 turns."""
    return ["hello", "I am great", "bye", "hi", "very sad", "yes", "bye", "hey", "perfect", "goodbye",
            "hello there", "bye"]


@dataclass
class Turn:
    sender: str
    index: int          # the turn's place in its conversation
    started: float      # seconds since the run started
    elapsed: float      # seconds until the reply (or the error)
    ok: bool
    what: str           # "HTTP 200", "HTTP 503", or the client's exception


@dataclass
class Run:
    users: int
    latencies: list = field(default_factory=list)      # seconds per turn
    by_turn: dict = field(default_factory=dict)        # turn index -> latencies
    errors: int = 0
    failures: list = field(default_factory=list)       # (seconds since start, what the user got)
    started: float = 0.0
    references: list = field(default_factory=list)     # (reference, phone) acknowledged to users
    seconds: float = 0.0
    turns: list = field(default_factory=list)          # every Turn, in the order they ended

    def summary(self) -> dict:
        lat = sorted(self.latencies)
        if not lat:
            return {"users": self.users, "turns": 0, "errors": self.errors}

        def pct(p):
            return lat[min(len(lat) - 1, int(len(lat) * p))] * 1000
        return {"users": self.users, "turns": len(lat), "errors": self.errors,
                "turns_per_s": len(lat) / self.seconds if self.seconds else 0.0,
                "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99),
                "mean_ms": statistics.fmean(lat) * 1000, "seconds": self.seconds}


async def _user(session: aiohttp.ClientSession, url: str, script, user: int, rounds: int, run: Run):
    for r in range(rounds):
        sender = f"load-{user}-{r}-{uuid.uuid4().hex[:6]}"
        messages = script(user, r, run.users)
        for i, text in enumerate(messages):
            started = time.perf_counter()
            try:
                async with session.post(f"{url}/webhooks/rest/webhook",
                                        json={"sender": sender, "message": text}) as reply:
                    body = await reply.json(content_type=None)
                    ok = reply.status == 200 and isinstance(body, list) and body
                    what = f"HTTP {reply.status}"
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
                ok, body, what = False, [], type(exc).__name__
            elapsed = time.perf_counter() - started
            ok = bool(ok) and not any(APOLOGY.search(m.get("text") or "") for m in body)
            run.turns.append(Turn(sender, i, started - run.started, elapsed, ok, what))
            if not ok:
                run.errors += 1
                run.failures.append((round(started - run.started, 1), what, round(elapsed, 1)))
                continue
            run.latencies.append(elapsed)
            run.by_turn.setdefault(i, []).append(elapsed)
            for m in body:
                found = REFERENCE.search(m.get("text") or "")
                if found:
                    phone = next((t for t in messages if t.isdigit() and len(t) == 11), None)
                    run.references.append((found.group(), phone))


async def load(url: str, script, users: int, rounds: int, run: Run | None = None) -> Run:
    run = run or Run(users)
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = run.started = time.perf_counter()
        await asyncio.gather(*(_user(session, url, script, u, rounds, run) for u in range(users)))
        run.seconds = time.perf_counter() - started
    return run


def drive(url: str, script, users: int, rounds: int, run: Run | None = None) -> Run:
    """`run`, if given, fills as the turns end (a fault test watches it from another thread)."""
    return asyncio.run(load(url, script, users, rounds, run))
