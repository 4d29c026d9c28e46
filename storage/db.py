"""Database access through SQLAlchemy (2.0 style on 1.4) and Alembic migrations."""
from __future__ import annotations

import os
import uuid
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        return create_engine(url, future=True, pool_pre_ping=True)
    # a server database: a bounded pool per process (README "Production": the connection budget)
    pool = int(os.environ.get("ELDERCARE_DB_POOL", "5"))
    overflow = int(os.environ.get("ELDERCARE_DB_MAX_OVERFLOW", "5"))
    return create_engine(url, future=True, pool_pre_ping=True, pool_size=pool, max_overflow=overflow,
                         pool_timeout=10)


@lru_cache(maxsize=None)
def migrated_engine(url: str) -> Engine:
    """An engine whose schema is at the newest migration (upgrading it if needed)."""
    engine = make_engine(url)
    upgrade(engine)
    return engine


def create_database(server_url: str, prefix: str) -> str:
    """A new, empty PostgreSQL database beside the one `server_url` names; returns its URL.
    For tests and benchmarks that need a whole database of their own (several processes)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return str(make_url(server_url).set(database=name).render_as_string(hide_password=False))


def drop_database(server_url: str, url: str) -> None:
    """Drop a database made by create_database, ending its connections first."""
    name = make_url(url).database
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                     {"name": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # configparser interpolates %, which URL-encoded options (search_path) contain
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
