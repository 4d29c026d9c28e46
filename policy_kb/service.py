"""One way for every process to get the KB: YAML → SQL store (idempotent sync) → loaded KB."""
from __future__ import annotations

from bot.db import migrated_engine
from bot.settings import Settings

from . import store
from .kb import POLICY_DIR, KnowledgeBase


def knowledge_base(settings: Settings | None = None, sync_yaml: bool = True) -> KnowledgeBase:
    """The KB as stored in the configured database, first refreshed from the YAML files."""
    settings = settings or Settings.from_env()
    engine = migrated_engine(settings.db_url)
    if sync_yaml and POLICY_DIR.is_dir():
        store.sync(engine, KnowledgeBase.from_directory(POLICY_DIR))
    return store.load(engine)
