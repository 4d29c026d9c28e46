"""Personal data only where it belongs (issue 18): after a whole booking conversation, over the real
servers, every table of every database is searched for the phone and 身份证 numbers typed in the
chat. They are found only in the booking's own phone column — not in the conversation store
(the user's messages, their parse data, the slots), not in any other table."""
from __future__ import annotations

import re
import sqlite3
import uuid

import pytest
from sqlalchemy import create_engine, text

from e2e_support import Advisor, Chat
from understanding.numbers import id_check_char

pytestmark = pytest.mark.e2e
REFERENCE = re.compile(r"\b(?:JY|LH|PG|GW)-\d{8}-\d{4}\b")


def _numbers() -> tuple[str, str]:
    """A phone and a valid 身份证 number no other test uses."""
    tail = f"{uuid.uuid4().int % 10**8:08d}"
    phone = "139" + tail
    first17 = "32050619420305" + tail[:3]
    return phone, first17 + id_check_char(first17)


def _converse(advisor: Advisor, phone: str, id_number: str) -> None:
    chat = advisor.chat()
    chat.say(f"我妈身份证{id_number}，住在吴中区木渎，苏州户口")
    chat.say("帮我妈约个上门助洁")
    for answer in ("下周三上午", "吴中区木渎镇中山路12号3幢201", "叫她陈阿姨", f"电话{phone}"):
        reply = chat.say(answer)
        if "请核对" in Chat.texts(reply):
            break
    done = chat.say("确认提交")
    assert REFERENCE.search(Chat.texts(done)), "\n".join(chat.transcript)


def _sqlite_hits(path, needles) -> set:
    hits = set()
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                for needle in needles:
                    found = con.execute(f'SELECT 1 FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE ? LIMIT 1',
                                        (f"%{needle}%",)).fetchone()
                    if found:
                        hits.add((table, column, needle))
    finally:
        con.close()
    return hits


def _postgres_hits(url, needles) -> set:
    hits = set()
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            columns = conn.execute(text(
                "SELECT table_schema, table_name, column_name FROM information_schema.columns "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")).all()
            for schema, table, column in columns:
                for needle in needles:
                    found = conn.execute(text(
                        f'SELECT 1 FROM "{schema}"."{table}" WHERE CAST("{column}" AS TEXT) LIKE :n LIMIT 1'),
                        {"n": f"%{needle}%"}).first()
                    if found:
                        hits.add((table, column, needle))
    finally:
        engine.dispose()
    return hits


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_phone_and_id_numbers_are_stored_only_on_the_booking(tmp_path, request, backend):
    phone, id_number = _numbers()
    env = {}
    if backend == "postgresql":
        env["ELDERCARE_DB_URL"] = request.getfixturevalue("postgres_url")
    advisor = Advisor(tmp_path, env)
    try:
        _converse(advisor, phone, id_number)
    finally:
        assert advisor.stop() == 0
    needles = (phone, id_number, id_number[:17])
    if backend == "sqlite":
        hits = set().union(*(_sqlite_hits(db, needles) for db in tmp_path.rglob("*.db")))
    else:
        hits = _postgres_hits(env["ELDERCARE_DB_URL"], needles)
    assert hits == {("bookings", "phone", phone)}, hits
