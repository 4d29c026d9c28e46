"""The KB in SQL: sync the YAML policies into the database and load them back.

Every process (actions, CLI, channels) reads one source; syncing is idempotent because a
row is only rewritten when its content hash changes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from storage.tables import policies as table

from policy_kb.kb import POLICY_DIR, KnowledgeBase
from storage.db import migrated_engine
from storage.settings import Settings


def _hash(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def sync(engine: Engine, kb: KnowledgeBase) -> dict[str, list[str]]:
    """Make the table match ``kb``; returns the ids added, updated, removed and unchanged."""
    report = {"added": [], "updated": [], "removed": [], "unchanged": []}
    now = dt.datetime.now(dt.timezone.utc)
    with engine.begin() as conn:
        stored = dict(conn.execute(select(table.c.id, table.c.content_hash)).all())
        for policy in kb.policies:
            digest = _hash(policy.raw)
            row = dict(id=policy.id, name=policy.name, summary=policy.summary,
                       category=policy.category, rank=policy.rank, verified=policy.verified,
                       valid_from=policy.valid_from, valid_to=policy.valid_to,
                       content=policy.raw, content_hash=digest, loaded_at=now)
            if policy.id not in stored:
                conn.execute(insert(table).values(**row))
                report["added"].append(policy.id)
            elif stored[policy.id] != digest:
                conn.execute(update(table).where(table.c.id == policy.id).values(**row))
                report["updated"].append(policy.id)
            else:
                report["unchanged"].append(policy.id)
        gone = sorted(set(stored) - set(kb.by_id))
        if gone:
            conn.execute(delete(table).where(table.c.id.in_(gone)))
        report["removed"] = gone
    return report


def load(engine: Engine) -> KnowledgeBase:
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.id, table.c.content).order_by(table.c.id)).all()
    return KnowledgeBase.from_records((f"database:policies/{pid}", content) for pid, content in rows)


def knowledge_base(settings: Settings | None = None, sync_yaml: bool = True) -> KnowledgeBase:
    """The KB as every process gets it: the configured database, first refreshed from the YAML."""
    settings = settings or Settings.from_env()
    engine = migrated_engine(settings.db_url)
    if sync_yaml and POLICY_DIR.is_dir():
        sync(engine, KnowledgeBase.from_directory(POLICY_DIR))
    return load(engine)
