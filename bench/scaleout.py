"""`make bench`, scale-out: the production profile with one instance and with two, same client,
same run — `eldercare cluster` on a fresh PostgreSQL database and Redis, nginx in front.

Both sides use the same stack (PostgreSQL trackers, Redis locks, nginx), so the difference is
the second Rasa instance and action server alone.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from bench.load import advisor_script, drive

POSTGRES_ADMIN = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/6"
USERS, ROUNDS = 50, 2


def unavailable() -> str | None:
    """Why the scale-out figures cannot be measured here, or None."""
    from app.cluster import find_nginx
    from app.serve import reachable
    if not reachable("127.0.0.1", 5432):
        return "PostgreSQL 不可达（127.0.0.1:5432）"
    if not reachable("127.0.0.1", 6379):
        return "Redis 不可达（127.0.0.1:6379）"
    if not find_nginx():
        return "没有 nginx"
    return None


def measure(tmp: Path, instances: int) -> dict:
    from app.cluster import Cluster
    from storage.bookings import BookingStore
    from storage.db import create_database, drop_database, migrated_engine
    from storage.settings import Settings
    url = create_database(POSTGRES_ADMIN, "eldercare_bench")
    settings = dataclasses.replace(Settings.from_env(), db_url=url, redis_url=REDIS_URL, var_dir=tmp)
    cluster = Cluster(settings, rasa=instances, actions=instances)
    try:
        cluster.start()
        drive(cluster.url, advisor_script, 5, 1)                 # warm up both instances
        run = drive(cluster.url, advisor_script, USERS, ROUNDS)
        out = run.summary()
        store = BookingStore(migrated_engine(url))
        acknowledged = {ref for ref, _ in run.references}
        out["bookings_acknowledged"] = len(acknowledged)
        out["bookings_missing"] = sum(1 for r in acknowledged if store.get(r) is None)
        migrated_engine(url).dispose()
    finally:
        cluster.stop()
        drop_database(POSTGRES_ADMIN, url)
    return out


def run(tmp: Path) -> dict:
    reason = unavailable()
    if reason:
        return {"skipped": reason}
    (tmp / "one").mkdir()
    (tmp / "two").mkdir()
    return {"one": measure(tmp / "one", 1), "two": measure(tmp / "two", 2), "users": USERS, "rounds": ROUNDS}


def render(scale: dict) -> list[str]:
    lines = ["## Two instances vs one (production profile)", ""]
    if "skipped" in scale:
        return lines + [f"Not measured: {scale['skipped']}.", ""]
    one, two = scale["one"], scale["two"]
    ratio = two["turns_per_s"] / one["turns_per_s"] if one.get("turns_per_s") else float("nan")
    lines += [f"`eldercare cluster` on a fresh PostgreSQL database (trackers, KB, bookings) and Redis (locks), "
              f"Debian's nginx round-robin in front of the Rasa instances and of the action servers; the same "
              f"client as above, {scale['users']} users × {scale['rounds']} conversations of 16 turns, after a "
              "5-user warm-up.", "",
              "| instances | turns | turns/s | p50 ms | p95 ms | p99 ms | errors | bookings acknowledged | missing |",
              "|---|---|---|---|---|---|---|---|---|"]
    for label, s in (("1 Rasa + 1 action server", one), ("2 Rasa + 2 action servers", two)):
        lines.append(f"| {label} | {s['turns']} | {s['turns_per_s']:.1f} | {s['p50_ms']:.0f} | {s['p95_ms']:.0f} | "
                     f"{s['p99_ms']:.0f} | {s['errors']} | {s['bookings_acknowledged']} | {s['bookings_missing']} |")
    verdict = "met" if ratio >= 1.5 and two["errors"] == 0 else "**not met**"
    lines += ["", f"Two instances give **{ratio:.2f}×** one instance's turns/s (target ≥ 1.5× on 2 cores, "
              f"0 errors: {verdict}).", ""]
    return lines
