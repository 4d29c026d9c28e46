"""Faults of the shared services, each on a private server the test may stop: Redis (the lock
store) down, and PostgreSQL restarted. The advisor answers with a short Chinese apology,
processes nothing half-way, and works again once the service is back."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from bench.load import REFERENCE
from cluster_support import PrivatePostgres, PrivateRedis, post, texts
from channels.outage import DATABASE_DOWN, LOCKS_DOWN
from e2e_support import Advisor

pytestmark = [pytest.mark.e2e, pytest.mark.services]
PHONE = "13955507777"


def user_turns(db_url: str, sender: str) -> int:
    engine = create_engine(db_url, future=True)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'"),
                                {"s": sender}).scalar_one()
    finally:
        engine.dispose()


def test_redis_down_the_advisor_refuses_rather_than_risk_concurrent_turns(tmp_path):
    redis = PrivateRedis(tmp_path)
    advisor = Advisor(tmp_path, extra_env={"ELDERCARE_REDIS_URL": redis.url})
    try:
        status, reply = post(advisor.url, "r-1", "我妈今年85岁，住在姑苏区")
        assert status == 200 and "有苏州户口吗" in texts(reply)
        tracker_db = f"sqlite:///{tmp_path / 'tracker.db'}"
        before = user_turns(tracker_db, "r-1")
        redis.stop()
        for message in ("1", "你好", "帮我约个助浴"):
            status, reply = post(advisor.url, "r-1", message, timeout=30)
            assert status == 503 and texts(reply) == LOCKS_DOWN, reply
        assert user_turns(tracker_db, "r-1") == before        # nothing processed while locks were unavailable
        redis.start()
        status, reply = post(advisor.url, "r-1", "1")           # the question asked before the outage
        assert status == 200 and "有苏州户籍" in texts(reply)
        assert "Traceback" not in texts(reply)
    finally:
        assert advisor.stop() == 0
        redis.stop()


def test_postgres_restart_apology_then_everything_works_again(tmp_path):
    pg = PrivatePostgres()
    advisor = Advisor(tmp_path, extra_env={"ELDERCARE_DB_URL": pg.url})
    try:
        sender = "pg-1"
        for message in ("我妈今年85岁，住在姑苏区", "1", "帮我约个助浴", "明天上午", "姑苏区十全街88号2幢301", "王阿姨", PHONE):
            status, reply = post(advisor.url, sender, message)
            assert status == 200, reply
        assert "请核对" in texts(reply)
        before = user_turns(pg.url, sender)
        pg.stop()
        status, reply = post(advisor.url, sender, "1", timeout=60)        # 确认提交, while the database is down
        assert status == 503 and texts(reply) == DATABASE_DOWN, reply
        status, reply = post(advisor.url, "pg-new", "你好", timeout=60)   # a new conversation too
        assert status == 503 and texts(reply) == DATABASE_DOWN
        pg.start()
        assert user_turns(pg.url, sender) == before                      # nothing half-written
        engine = create_engine(pg.url, future=True)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM bookings")).scalar_one() == 0
        # back: the conversation is where it was, the confirmation files the booking once
        status, reply = post(advisor.url, sender, "1")
        assert status == 200, reply
        reference = REFERENCE.search(texts(reply)).group(0)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT reference, phone FROM bookings")).all()
        engine.dispose()
        assert [tuple(r) for r in rows] == [(reference, PHONE)]
        status, reply = post(advisor.url, "pg-new", "你好")
        assert status == 200 and "多大" in texts(reply)
    finally:
        assert advisor.stop() == 0
        pg.destroy()
