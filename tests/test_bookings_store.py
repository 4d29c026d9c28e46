"""The booking store on real databases (SQLite and PostgreSQL): filing, idempotency under
concurrency, status transitions with their history, the waitlist queue, phone checks."""
from __future__ import annotations

import datetime as dt
import json
import re
import threading

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, update

from storage.bookings import CHINA, BookingError, BookingStore, idempotency_key
from storage.db import alembic_config, make_engine, upgrade
from storage.tables import booking_events, bookings, metadata

TODAY = dt.datetime.now(CHINA).date()
PHONE = "13812345678"


@pytest.fixture
def engine(db_url):
    # SQLite: a file database with a busy timeout, so concurrent writers wait instead of failing
    url = f"{db_url}?timeout=30" if db_url.startswith("sqlite") else db_url
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine):
    return BookingStore(engine)


def home_service(store, key="k-home", **overrides):
    args = dict(kind="home_service", sender_id="conv-1", filed_by="relative", relationship="子女",
                phone=PHONE, idempotency_key=key, service_type="助浴",
                booking_date=TODAY + dt.timedelta(days=3), time_slot="上午",
                address="姑苏区十全街 88 号 2 幢 301", district="姑苏区")
    args.update(overrides)
    return store.submit(**args)


def waitlist(store, key, tier, **overrides):
    args = dict(kind="waitlist", sender_id=f"conv-{key}", filed_by="self", relationship="本人",
                phone="0512-65231234", idempotency_key=key, district="吴中区", priority_tier=tier,
                profile={"age": 82, "hukou": True, "care_level": "中度失能"})
    args.update(overrides)
    return store.submit(**args)[0]


def count(engine, table=bookings) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_schema_matches_tables_and_downgrades(engine):
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001_policies")
    upgrade(engine)
    assert count(engine) == 0


def test_submit_and_get_round_trip(store):
    booking, created = home_service(store, note="请先打女儿电话", institution=None)
    assert created and booking.status == "submitted"
    assert booking.phone == PHONE and booking.booking_date == TODAY + dt.timedelta(days=3)
    assert booking.created_at.tzinfo is not None and booking.created_at.utcoffset() == dt.timedelta(0)
    assert store.get(booking.reference) == booking
    ref = booking.reference
    for spelling in (ref.lower(), f"  {ref} ", ref.replace("-", "－"), ref.replace("-", " "),
                     ref.replace("-", ""), ref.replace("-", "—")):
        assert store.get(spelling) == booking, spelling
    assert store.get("JY-20000101-9999") is None and store.get("不是编号") is None

    stored = waitlist(store, "k-wait", 2, institution="吴中区社会福利院")
    again = store.get(stored.reference)
    assert again.profile == {"age": 82, "hukou": True, "care_level": "中度失能"}
    assert again.phone == "0512-65231234" and again.institution == "吴中区社会福利院"


def test_reference_format(store):
    for kind, prefix in (("home_service", "JY"), ("waitlist", "LH"), ("assessment", "PG"), ("advisor", "GW")):
        booking, _ = store.submit(kind=kind, sender_id="c", filed_by="operator", relationship="社区/热线工作人员",
                                  phone=PHONE, idempotency_key=f"k-{kind}", service_type="助餐",
                                  booking_date=TODAY, time_slot="下午", address="吴江区", priority_tier=5)
        match = re.fullmatch(r"([A-Z]{2})-(\d{8})-(\d{4,})", booking.reference)
        assert match, booking.reference
        assert match[1] == prefix
        assert match[2] == booking.created_at.astimezone(CHINA).strftime("%Y%m%d")
        assert int(match[3]) == booking.id and len(match[3]) == 4


def test_same_key_twice_is_one_booking(store, engine):
    key = idempotency_key("conv-1", "home_service", TODAY, "助浴")
    first, created = home_service(store, key=key)
    second, created_again = home_service(store, key=key, note="用户重复点了提交")
    assert created and not created_again
    assert second == first and second.note is None
    assert count(engine) == 1 and count(engine, booking_events) == 1
    _, other = home_service(store, key=idempotency_key("conv-1", "home_service", TODAY, "助餐"))
    assert other and count(engine) == 2


def test_idempotency_key_is_canonical():
    assert idempotency_key("a", {"x": 1, "y": [1, 2]}) == idempotency_key("a", {"y": [1, 2], "x": 1})
    assert idempotency_key("a", dt.date(2026, 12, 1)) == idempotency_key("a", "2026-12-01")
    assert idempotency_key("a", 1) != idempotency_key("a", "1")
    assert re.fullmatch(r"[0-9a-f]{64}", idempotency_key("x"))


def test_twenty_concurrent_submits_store_exactly_one(store, engine, monkeypatch):
    """20 threads file the same application at once. To make the race certain rather than
    likely, every thread first finds no booking, then all 20 insert together: the unique
    constraint must let one through and hand the other 19 the winner's booking."""
    key = idempotency_key("conv-9", "waitlist", {"age": 85, "hukou": True})
    start, looked = threading.Barrier(20), threading.Barrier(20)
    real_find, first_look, finds = store._find, threading.local(), []

    def find_then_wait(condition):
        found = real_find(condition)
        finds.append(found)
        if not getattr(first_look, "done", False):
            first_look.done = True
            looked.wait(30)
        return found

    monkeypatch.setattr(store, "_find", find_then_wait)
    results, errors = [], []

    def submit():
        try:
            start.wait(30)
            results.append(store.submit(
                kind="waitlist", sender_id="conv-9", filed_by="relative", relationship="子女", phone=PHONE,
                idempotency_key=key, district="相城区", priority_tier=4, profile={"age": 85, "hukou": True}))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert errors == []
    assert len(results) == 20
    assert sum(created for _, created in results) == 1
    assert len({booking.reference for booking, _ in results}) == 1
    assert finds[:20] == [None] * 20 and len(finds) == 39  # 19 lost at the constraint and re-read
    assert count(engine) == 1 and count(engine, booking_events) == 1


def test_lost_race_is_settled_by_the_unique_constraint(store, engine, monkeypatch):
    """The pre-check misses a row committed meanwhile: the insert fails and the winner is returned."""
    first, _ = home_service(store)
    real_find, calls = store._find, []

    def find_misses_once(condition):
        calls.append(condition)
        return None if len(calls) == 1 else real_find(condition)

    monkeypatch.setattr(store, "_find", find_misses_once)
    booking, created = home_service(store)
    assert not created and booking == first and len(calls) == 2
    assert count(engine) == 1


@pytest.mark.parametrize("change, message", [
    (dict(booking_date=TODAY - dt.timedelta(days=1)), "日期已经过去了"),
    (dict(kind="massage"), "未知的预约类型"),
    (dict(kind=None), "未知的预约类型"),
    (dict(service_type="按摩"), "未知的服务项目"),
    (dict(time_slot="中午"), "未知的时段"),
    (dict(district="沧浪区"), "未知的区（市）"),
    (dict(filed_by="neighbour"), "未知的提交人类型"),
    (dict(phone="12345"), "联系电话"),
    (dict(phone="138123456789"), "联系电话"),
    (dict(service_type=None, address=None), "还缺：服务项目、上门地址"),
    (dict(relationship=" "), "关系"),
    (dict(booking_date="12月1日"), "看不懂"),
    (dict(profile={"age": "八十"}), "老人资料有误"),
])
def test_bad_requests_are_refused_and_store_nothing(store, engine, change, message):
    with pytest.raises(BookingError, match=message):
        home_service(store, **change)
    assert count(engine) == 0


def test_past_is_judged_by_today(store):
    day = dt.date(2026, 12, 1)
    with pytest.raises(BookingError, match="日期已经过去了"):
        home_service(store, booking_date=day - dt.timedelta(days=1), today=day)
    booking, created = home_service(store, booking_date=day, today=day)
    assert created and booking.booking_date == day
    with pytest.raises(BookingError, match="优先级"):
        waitlist(store, "k-w", 0)
    with pytest.raises(BookingError, match="还缺：优先级"):
        waitlist(store, "k-w", None)


def test_no_id_number_is_stored(store, engine):
    booking, _ = home_service(store, note="老人身份证 320502194103051234，女儿 13912345678",
                              address="住址 32050219410305123X 号")
    with engine.connect() as conn:
        row = conn.execute(select(bookings)).mappings().one()
    stored = json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False)
    assert "320502194103051234" not in stored and "32050219410305123X" not in stored
    assert "3205**********1234" in booking.note and "13912345678" in booking.note  # staff can call her


def test_transitions_allowed_and_refused_with_history(store, engine):
    home, _ = home_service(store)
    ref = home.reference
    assert store.set_status(ref, "confirmed", actor="staff").status == "confirmed"
    with pytest.raises(BookingError, match="已确认.*已提交，等待确认"):
        store.set_status(ref, "submitted", actor="staff")
    with pytest.raises(BookingError, match="已确认.*已安排入住"):
        store.set_status(ref, "admitted", actor="staff")
    cancelled = store.cancel(ref.lower())
    assert cancelled.status == "cancelled" and store.get(ref).status == "cancelled"
    for status in ("confirmed", "cancelled", "declined", "admitted"):
        with pytest.raises(BookingError, match="已取消"):
            store.set_status(ref, status, actor="staff")
    with pytest.raises(BookingError, match="找不到预约编号"):
        store.cancel("JY-20000101-0001")
    with pytest.raises(BookingError, match="未知的状态"):
        store.set_status(ref, "done", actor="staff")

    declined, _ = home_service(store, key="k2")
    store.set_status(declined.reference, "declined", actor="staff", reason="该时段助浴员已约满")
    with pytest.raises(BookingError, match="未通过.*已确认"):
        store.set_status(declined.reference, "confirmed", actor="staff")

    wait = waitlist(store, "k3", 1)
    store.set_status(wait.reference, "confirmed", actor="staff")
    admitted = store.set_status(wait.reference, "admitted", actor="system")
    assert admitted.status == "admitted" and admitted.updated_at > admitted.created_at
    with pytest.raises(BookingError, match="已安排入住.*已取消"):
        store.cancel(wait.reference)

    assert [(e["from_status"], e["to_status"], e["actor"]) for e in store.events(ref)] == [
        (None, "submitted", "user"), ("submitted", "confirmed", "staff"), ("confirmed", "cancelled", "user")]
    assert store.events(declined.reference)[-1]["reason"] == "该时段助浴员已约满"
    assert [e["to_status"] for e in store.events(wait.reference)] == ["submitted", "confirmed", "admitted"]
    assert all(e["at"].tzinfo is not None for e in store.events(wait.reference))
    assert count(engine, booking_events) == 3 + 2 + 3


def test_concurrent_status_changes_only_one_wins(store, engine):
    """Staff decline while the family cancels: both end states are final, so only one may happen."""
    booking, _ = home_service(store)
    barrier = threading.Barrier(8)
    outcomes = []

    def act(status):
        barrier.wait()
        try:
            store.set_status(booking.reference, status, actor="staff")
            outcomes.append(status)
        except BookingError:
            outcomes.append("refused")

    threads = [threading.Thread(target=act, args=(s,)) for s in ["declined", "cancelled"] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    winners = [o for o in outcomes if o != "refused"]
    assert len(outcomes) == 8 and len(winners) == 1
    assert store.get(booking.reference).status == winners[0]
    assert len(store.events(booking.reference)) == 2


def test_queue_position_by_tier_then_time(store, engine):
    a = waitlist(store, "a", 3)
    b = waitlist(store, "b", 1)
    c = waitlist(store, "c", 3)
    d = waitlist(store, "d", 2)
    assert [store.queue_position(x.reference) for x in (a, b, c, d)] == [3, 1, 4, 2]
    store.cancel(d.reference)
    assert store.queue_position(d.reference) is None
    assert [store.queue_position(x.reference) for x in (a, b, c)] == [2, 1, 3]
    store.set_status(b.reference, "confirmed", actor="staff")
    assert store.queue_position(b.reference) == 1  # confirmed still waits for a bed
    store.set_status(b.reference, "admitted", actor="staff")
    assert store.queue_position(b.reference) is None
    assert [store.queue_position(x.reference) for x in (a, c)] == [1, 2]
    # same filing time: the lower id goes first
    with engine.begin() as conn:
        conn.execute(update(bookings).where(bookings.c.id == c.id).values(created_at=a.created_at))
    assert [store.queue_position(x.reference) for x in (a, c)] == [1, 2]
    e = waitlist(store, "e", 1)
    assert [store.queue_position(x.reference) for x in (e, a, c)] == [1, 2, 3]
    home, _ = home_service(store)
    assert store.queue_position(home.reference) is None
    assert store.queue_position("LH-20000101-0001") is None


def test_verify_phone_variants(store):
    mobile, _ = home_service(store, phone="+86 138-1234-5678")
    assert mobile.phone == PHONE
    for given in (PHONE, "138 1234 5678", "+8613812345678", "0086-138-1234-5678", "１３８１２３４５６７８"):
        assert store.verify_phone(mobile.reference, given), given
    for given in ("13812345679", "5678", "", "0512-65231234"):
        assert not store.verify_phone(mobile.reference, given), given
    assert not store.verify_phone("JY-20000101-0001", PHONE)

    landline = waitlist(store, "k-l", 2, phone="65231234")
    assert landline.phone == "0512-65231234"
    for given in ("0512-65231234", "65231234", "051265231234", "(0512) 6523-1234", "0512 6523 1234"):
        assert store.verify_phone(landline.reference.lower(), given), given
    for given in ("0510-65231234", "65231235", PHONE):
        assert not store.verify_phone(landline.reference, given), given


def test_list_filters(store):
    home_service(store, key="1")
    home_service(store, key="2", district="吴江区")
    wait = waitlist(store, "3", 2, district="吴江区")
    store.set_status(wait.reference, "confirmed", actor="staff")
    assert len(store.list()) == 3
    assert [b.kind for b in store.list(kind="waitlist")] == ["waitlist"]
    assert len(store.list(district="吴江区")) == 2
    assert [b.reference for b in store.list(status="confirmed", district="吴江区")] == [wait.reference]
    assert store.list(status="admitted") == []
    with pytest.raises(BookingError, match="未知的状态"):
        store.list(status="open")


def test_to_dict_masks_the_phone(store):
    booking, _ = home_service(store, note="也可以打 13912345678")
    out = booking.to_dict()
    dumped = json.dumps(out, ensure_ascii=False)
    assert PHONE not in dumped and "13912345678" not in dumped
    assert out["phone"] == "138****5678" and out["note"] == "也可以打 139****5678"
    assert out["kind_label"] == "居家服务预约" and out["status_label"] == "已提交，等待确认"
    assert out["booking_date"] == (TODAY + dt.timedelta(days=3)).isoformat()
    assert booking.to_dict(masked=False)["phone"] == PHONE
    landline = waitlist(store, "k-l", 1)
    assert landline.to_dict()["phone"] == "0512****1234"
    assert "65231234" not in json.dumps(landline.to_dict(), ensure_ascii=False)

