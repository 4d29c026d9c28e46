"""Shared fixtures: databases (SQLite always; PostgreSQL and Redis when reachable)."""
from __future__ import annotations

import os
import uuid

import pytest

POSTGRES_URL = os.environ.get("ELDERCARE_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("ELDERCARE_REQUIRE_SERVICES") == "1"
# The servers a test starts do not start the daily 政策找人 run on their own (it would run
# against the test's database a minute later); the notifier's tests start it when they mean to.
os.environ.setdefault("ELDERCARE_NOTIFY_HOUR", "off")


def need_service(name: str, host: str, port: int) -> None:
    """Skip with one clear line when a service is down; under CI (.ci/run) fail instead."""
    from app.serve import reachable
    if reachable(host, port):
        return
    message = f"{name} 不可达（{host}:{port}）"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message}，而 ELDERCARE_REQUIRE_SERVICES=1 要求它必须可用")
    pytest.skip(message)


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgres_url():
    """A PostgreSQL URL bound to a fresh schema, dropped afterwards."""
    need_service("PostgreSQL", "127.0.0.1", 5432)
    from sqlalchemy import create_engine, text
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, future=True)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request):
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def advisor(tmp_path_factory):
    """One running advisor (Rasa server + action server) shared by the end-to-end tests."""
    from e2e_support import Advisor
    running = Advisor(tmp_path_factory.mktemp("advisor-var"))
    yield running
    assert running.stop() == 0
