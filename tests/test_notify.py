"""政策找人: the notifier's store and run with dates, on SQLite and PostgreSQL (storage/followups.py,
notify/run.py). Birthdays count as the 1st of the birth month (policy_kb/thresholds.py)."""
from __future__ import annotations

import datetime as dt
import shutil
import textwrap

import pytest
from sqlalchemy import create_engine, select

from notify.run import Notifier
from notify.settings import NotifySettings
from policy_kb.kb import POLICY_DIR, KnowledgeBase
from storage import kb_store
from storage.bookings import BookingStore
from storage.db import migrated_engine
from storage.followups import CALL_BACK, DONE, FollowupStore, clean_facts, fact_bit
from storage.privacy import forget, purge
from storage.tables import followup_notices, followup_statuses, followups

UTC = dt.timezone.utc
KB = KnowledgeBase.from_directory()
CONSENT = "以后有新政策，或者老人家满足新的条件时，要不要提醒您？"
DOUBLE_NINTH = textwrap.dedent("""\
    id: double_ninth_gift
    name: 重阳节慰问金
    aliases: [重阳节慰问, 慰问金]
    summary: 有苏州户口的90岁以上老人，重阳节可以领一份慰问金。
    benefit: 重阳节前发放慰问金，金额待核实。
    amount: {value: , unit: 元, note: 金额待核实}
    verified: false
    apply:
      where: 户籍所在社区居委会（一般由社区主动发放）
    sources: [市民政局通知（文号待补）]
    eligibility:
      all:
        - {fact: age, op: ">=", value: 90}
        - {fact: hukou, op: "==", value: true}
    """)


def at(day: str, hour: int = 2) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def d(day: str) -> dt.date:
    return dt.date.fromisoformat(day)


@pytest.fixture
def engine(db_url):
    eng = migrated_engine(db_url)
    kb_store.sync(eng, KB)
    yield eng
    eng.dispose()


@pytest.fixture
def store(engine):
    return FollowupStore(engine, retry_seconds=60, max_attempts=3)


def notifier(engine, kb=KB, **settings) -> Notifier:
    return Notifier(engine, kb, NotifySettings(**settings))


def keep(store, sender, now, person="母亲", facts=None, **birth):
    facts = {"hukou": True, "district": "姑苏区"} if facts is None else facts
    return store.keep(channel="telegram", address=sender, sender_id=sender, person=person, facts=facts,
                      wording=CONSENT, now=at(now), **birth)


def notices(engine, followup_id=None) -> list[dict]:
    query = select(followup_notices).order_by(followup_notices.c.id)
    if followup_id is not None:
        query = query.where(followup_notices.c.followup_id == followup_id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


# --- ages -------------------------------------------------------------------------------------------
def test_79_years_10_months_hears_ahead_of_80_on_its_day_not_the_day_before(engine, store):
    # born May 1946: on 2026-03-01 the elder is 79 years and 10 months old
    elder = keep(store, "tg-501", "2026-02-10", birth_year=1946, birth_month=5)
    n = notifier(engine)
    assert n.run(d("2026-02-27")).baseline          # the first run records the KB, tells nothing
    assert n.run(d("2026-02-28")).notices == 0     # the day before
    report = n.run(d("2026-03-01"))
    assert dict(report.made) == {("senior_allowance", "age_ahead"): 1}
    [notice] = notices(engine, elder.id)
    assert (notice["reason"], notice["detail"], notice["status"]) == ("age_ahead", "80", "pending")
    assert notice["text"] == ("您母亲2026年5月满80岁，到时可以申请高龄津贴（尊老金），现在就可以先准备材料。"
                              "金额和条件以当地民政部门为准。")   # 待核实 stays marked; no amount invented
    assert notice["button_payload"] == '/ask_policy{"policy": "senior_allowance", "aspect": "ask_how"}'
    # the kept result changes only on the birthday itself
    assert "senior_allowance" not in store.statuses(elder.id)


def test_the_80_notice_comes_on_the_birthday(engine, store):
    elder = keep(store, "tg-502", "2026-02-10", birth_year=1946, birth_month=5)
    n = notifier(engine)
    n.run(d("2026-03-01"))
    assert n.run(d("2026-04-30")).notices == 0
    report = n.run(d("2026-05-01"))
    assert dict(report.made) == {("senior_allowance", "age"): 1}
    birthday = [x for x in notices(engine, elder.id) if x["reason"] == "age"]
    assert birthday[0]["text"].startswith("您母亲这个月满80岁，满了就可以申请高龄津贴（尊老金）。")
    assert store.statuses(elder.id)["senior_allowance"] == "eligible"


def test_the_same_day_run_again_sends_nothing_new(engine, store):
    keep(store, "tg-503", "2026-02-10", birth_year=1946, birth_month=5)
    n = notifier(engine)
    n.run(d("2026-04-30"))
    assert n.run(d("2026-05-01")).notices == 1
    before = notices(engine)
    assert n.run(d("2026-05-01")).notices == 0
    assert n.run(d("2026-05-01"), dry_run=True).notices == 0
    assert notices(engine) == before


def test_missed_days_are_caught_up(engine, store):
    keep(store, "tg-504", "2026-02-10", birth_year=1946, birth_month=5)
    n = notifier(engine)
    n.run(d("2026-04-20"))
    report = n.run(d("2026-05-03"))                 # the server was down on the 1st
    assert report.days[0] == d("2026-04-21") and dict(report.made) == {("senior_allowance", "age"): 1}


def test_an_unknown_birth_month_counts_as_december_never_early(engine, store):
    elder = keep(store, "tg-505", "2026-02-10", birth_year=1946)   # only the year was said
    n = notifier(engine)
    n.run(d("2026-09-30"))
    assert n.run(d("2026-10-01")).made == {("senior_allowance", "age_ahead"): 1}
    assert n.run(d("2026-12-01")).made == {("senior_allowance", "age"): 1}
    texts = [x["text"] for x in notices(engine, elder.id)]
    assert texts[0].startswith("您母亲最晚2026年12月就满80岁了") and texts[1].startswith("您母亲已经满80岁了")


def test_only_an_age_said_keeps_the_latest_birth_it_allows(engine, store):
    # 79 on 2026-02-10, month not said: born at the latest in February 1947
    elder = keep(store, "tg-506", "2026-02-10", age=79, facts={"hukou": True, "subject": "self"}, person="")
    assert (elder.birth_year, elder.birth_month, elder.birth_month_known) == (1947, 2, False)
    n = notifier(engine)
    n.run(d("2027-01-31"))
    assert n.run(d("2027-02-01")).made == {("senior_allowance", "age"): 1}
    assert notices(engine, elder.id)[-1]["text"].startswith("您已经满80岁了")


def test_a_day_reads_only_the_cohorts_crossing_an_age(engine, store):
    for i in range(30):   # elders whose birthdays are in other months, or far from any threshold
        keep(store, f"tg-6{i:02d}", "2026-02-10", birth_year=1930 + i % 7, birth_month=1 + i % 12, person="")
    crossing = keep(store, "tg-700", "2026-02-10", birth_year=1946, birth_month=5)
    n = notifier(engine)
    n.run(d("2026-04-30"))
    report = n.run(d("2026-05-01"))
    # born May 1946 (80), May 1961 (65), May 1966 (60), July 1946 (80 in two months): only 1 elder kept there
    assert report.evaluated == 1 and report.made == {("senior_allowance", "age"): 1}
    assert notices(engine)[0]["followup_id"] == crossing.id


# --- the KB ----------------------------------------------------------------------------------------
def test_a_policy_file_added_notifies_exactly_the_kept_profiles_that_qualify(engine, store, tmp_path):
    qualifies = keep(store, "tg-801", "2026-03-10", birth_year=1934, birth_month=3)                   # 92, 户籍
    keep(store, "tg-802", "2026-03-10", birth_year=1934, birth_month=3, facts={"hukou": False})        # 92, 外地
    keep(store, "tg-803", "2026-03-10", birth_year=1941, birth_month=3)                                # 85
    keep(store, "tg-804", "2026-03-10", birth_year=1931, birth_month=3, facts={"district": "昆山市"})   # 户籍 unknown
    keep(store, "tg-805", "2026-03-10", facts={"dementia": True})        # reads neither age nor 户籍: not read
    also = keep(store, "tg-806", "2026-03-10", birth_year=1930, person="父亲")                          # 95 or 96, 户籍
    n = notifier(engine)
    n.run(d("2026-03-10"))
    policies = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, policies)
    (policies / "double_ninth_gift.yml").write_text(DOUBLE_NINTH, encoding="utf-8")
    new_kb = KnowledgeBase.from_directory(policies)
    assert kb_store.sync(engine, new_kb)["added"] == ["double_ninth_gift"]
    report = notifier(engine, new_kb).run(d("2026-03-11"))
    assert report.kb["added"] == ["double_ninth_gift"] and report.kb["changed"] == []
    assert report.made == {("double_ninth_gift", "new_policy"): 2}
    assert report.evaluated == 5                     # the elder with only 失智 known was never read
    told = {x["followup_id"]: x["text"] for x in notices(engine)}
    assert set(told) == {qualifies.id, also.id}
    assert told[qualifies.id] == "有一项新政策：重阳节慰问金。按您上次说的情况，您母亲可以申请。金额和条件以当地民政部门为准。"
    assert told[also.id].startswith("有一项新政策：重阳节慰问金。按您上次说的情况，您父亲可以申请。")
    # nothing new on the next day, and a change to an unrelated policy reads only whom it concerns
    assert notifier(engine, new_kb).run(d("2026-03-12")).notices == 0


def test_a_changed_rule_tells_the_newly_eligible_only(engine, store, tmp_path):
    seventy_six = keep(store, "tg-811", "2026-03-10", birth_year=1950, birth_month=1)
    keep(store, "tg-812", "2026-03-10", birth_year=1940, birth_month=1)   # 86: eligible already
    keep(store, "tg-813", "2026-03-10", birth_year=1956, birth_month=1)   # 70
    notifier(engine).run(d("2026-03-10"))
    policies = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, policies)
    path = policies / "senior_allowance.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("value: 80", "value: 75"), encoding="utf-8")
    changed = KnowledgeBase.from_directory(policies)
    kb_store.sync(engine, changed)
    report = notifier(engine, changed).run(d("2026-03-11"))
    assert report.kb["changed"] == ["senior_allowance"]
    assert report.made == {("senior_allowance", "changed_policy"): 1}
    assert notices(engine)[0]["followup_id"] == seventy_six.id
    assert "规定有变化" in notices(engine)[0]["text"]


def dated_policy(tmp_path, start: str, end: str) -> KnowledgeBase:
    policies = tmp_path / "dated"
    shutil.copytree(POLICY_DIR, policies)
    text = DOUBLE_NINTH.replace("double_ninth_gift", "winter_heating").replace("重阳节慰问金", "冬季取暖补贴") \
        .replace("verified: false", f"verified: true\nvalid_from: {start}\nvalid_to: {end}")
    (policies / "winter_heating.yml").write_text(text, encoding="utf-8")
    return KnowledgeBase.from_directory(policies)


def test_a_programme_starting_and_ending_is_told_once_each(engine, store, tmp_path):
    elder = keep(store, "tg-821", "2026-10-01", birth_year=1930, birth_month=1)
    n = notifier(engine)
    n.run(d("2026-10-01"))
    kb = dated_policy(tmp_path, "2026-11-01", "2026-12-31")
    kb_store.sync(engine, kb)
    n = notifier(engine, kb)
    assert n.run(d("2026-10-20")).notices == 0      # added, but not started yet: nothing to say
    assert n.run(d("2026-11-01")).made == {("winter_heating", "starts"): 1}
    assert n.run(d("2026-11-30")).notices == 0      # 31 days left
    assert n.run(d("2026-12-01")).made == {("winter_heating", "ends"): 1}
    assert n.run(d("2026-12-02")).notices == 0
    said = [x["text"] for x in notices(engine, elder.id)]
    assert said == ["冬季取暖补贴从2026年11月1日开始办理，按您上次说的情况，您母亲可以申请。",
                    "冬季取暖补贴到2026年12月31日就结束了，您母亲还没申请的话，请抓紧办理。"]


# --- bookings ----------------------------------------------------------------------------------------
def file(engine, sender, kind="home_service", tier=None, phone="13955556666"):
    extra = {"service_type": "助浴", "booking_date": dt.date(2099, 1, 5), "time_slot": "上午",
             "address": "姑苏区平江路100号"} if kind == "home_service" else {"priority_tier": tier}
    booking, _ = BookingStore(engine).submit(kind=kind, sender_id=sender, filed_by="relative", relationship="子女",
                                             phone=phone, idempotency_key=f"{sender}-{kind}-{tier}-{phone}", **extra)
    return booking


def test_a_booking_confirmed_by_staff_reaches_the_family(engine, store):
    keep(store, "tg-901", "2026-03-10", birth_year=1946, birth_month=5)
    n = notifier(engine)
    n.run(d("2026-03-10"))
    booking = file(engine, "tg-901")
    other = file(engine, "tg-902")                  # no consent: never told
    bookings = BookingStore(engine)
    bookings.set_status(booking.reference, "confirmed", actor="staff")
    bookings.set_status(other.reference, "confirmed", actor="staff")
    report = n.run(d("2026-03-10"))
    assert report.made == {("", "booking_confirmed"): 1}
    [notice] = notices(engine)
    assert notice["text"] == f"您的居家服务预约（{booking.reference}）已经确认了。"
    assert notice["button_payload"] == f'/check_status{{"reference": "{booking.reference}"}}'
    assert n.run(d("2026-03-11")).notices == 0


def test_a_declined_booking_says_why_and_a_users_own_cancel_is_not_news(engine, store):
    keep(store, "tg-903", "2026-03-10", birth_year=1946, birth_month=5)
    n = notifier(engine)
    n.run(d("2026-03-10"))
    first, second = file(engine, "tg-903"), file(engine, "tg-903", phone="13955557777")
    BookingStore(engine).set_status(first.reference, "declined", actor="staff", reason="该时段已约满")
    BookingStore(engine).cancel(second.reference)
    report = n.run(d("2026-03-10"))
    assert report.made == {("", "booking_declined"): 1}
    assert notices(engine)[0]["text"] == f"您的居家服务预约（{first.reference}）没有通过。原因：该时段已约满。"


def test_a_waiting_list_place_that_moved_enough_is_told(engine, store):
    bookings = BookingStore(engine)
    ahead = [file(engine, f"tg-91{i}", kind="waitlist", tier=3) for i in range(6)]
    mine = file(engine, "tg-920", kind="waitlist", tier=4)
    keep(store, "tg-920", "2026-03-10", birth_year=1940, birth_month=5)
    n = notifier(engine, queue_step=5)
    n.run(d("2026-03-10"))                           # place 7 seen
    for b in ahead[:4]:
        bookings.set_status(b.reference, "declined", actor="staff")
    assert n.run(d("2026-03-11")).notices == 0       # moved 4: not yet worth a message
    bookings.set_status(ahead[4].reference, "cancelled", actor="staff")
    report = n.run(d("2026-03-12"))
    assert report.made == {("", "waitlist_place"): 1}
    assert notices(engine)[0]["text"] == (f"您的公办养老院轮候申请（{mine.reference}）现在排第2位，"
                                          "比上次告诉您时提前了5位。")


# --- consent ends -----------------------------------------------------------------------------------------
def test_stop_deletes_the_record_its_results_and_notices(engine, store):
    keep(store, "tg-931", "2026-02-10", birth_year=1946, birth_month=5)
    keep(store, "tg-931", "2026-02-10", birth_year=1948, birth_month=1, person="父亲")
    kept = keep(store, "tg-932", "2026-02-10", birth_year=1946, birth_month=5)
    notifier(engine).run(d("2026-03-01"))
    assert len(notices(engine)) == 2
    assert store.stop("tg-931") == 2
    assert store.stop("tg-931") == 0
    with engine.connect() as conn:
        assert [r[0] for r in conn.execute(select(followups.c.id))] == [kept.id]
        assert {r[0] for r in conn.execute(select(followup_statuses.c.followup_id))} == {kept.id}
    assert [x["followup_id"] for x in notices(engine)] == [kept.id]


def test_forget_me_deletes_the_followups_too(engine, store, tmp_path):
    keep(store, "tg-941", "2026-02-10", birth_year=1946, birth_month=5)
    notifier(engine).run(d("2026-03-01"))
    trackers = create_engine(f"sqlite:///{tmp_path / 'tracker.db'}", future=True)
    removed = forget("tg-941", engine, trackers)
    assert removed.followups == 1 and store.for_sender("tg-941") == [] and notices(engine) == []


def test_purge_keeps_a_followup_for_its_keep_period_only(engine, store, monkeypatch):
    old = keep(store, "tg-951", "2026-01-10", birth_year=1946, birth_month=5)
    recent = keep(store, "tg-952", "2029-01-01", birth_year=1946, birth_month=5)
    monkeypatch.setenv("ELDERCARE_FOLLOWUP_DAYS", "1095")
    trackers = create_engine("sqlite://", future=True)
    removed = purge(30, engine, trackers, now=at("2029-01-15").timestamp())
    assert removed.followups == 1
    assert [f.id for f in store.for_sender("tg-952")] == [recent.id] and store.for_sender("tg-951") == []
    assert old.id != recent.id


def test_keep_renews_one_record_per_elder_and_keeps_only_canonical_facts(engine, store):
    first = keep(store, "tg-961", "2026-02-10", birth_year=1946, birth_month=5)
    again = keep(store, "tg-961", "2026-02-11", birth_year=1946, birth_month=5,
                 facts={"hukou": True, "district": "吴中区", "care_level": "中度失能", "phone": "13955556666",
                        "age": 79, "living": "不知道", "note": "身份证 320502194605051234"})
    assert again.id == first.id and len(store.for_sender("tg-961")) == 1
    assert again.facts == {"hukou": True, "district": "吴中区", "care_level": "中度失能"}
    assert clean_facts({"economic_status": "低保", "dementia": "yes"}) == {"economic_status": "低保"}
    with pytest.raises(ValueError):
        store.keep(channel="sms", address="x", sender_id="s", facts={}, wording=CONSENT)
    with pytest.raises(ValueError):   # a call back needs a number that can be dialled
        store.keep(channel="console", address="不知道", sender_id="console-1", facts={}, wording=CONSENT)
    assert fact_bit("age") != fact_bit("hukou")


# --- the hotline ---------------------------------------------------------------------------------------
def test_a_hotline_caller_waits_as_a_call_back_for_an_operator(engine, store):
    elder = store.keep(channel="console", address="139 5555 6666", sender_id="console-77", person="", facts={"hukou": True},
                       birth_year=1946, birth_month=5, wording=CONSENT, now=at("2026-02-10"))
    assert elder.address == "13955556666"
    notifier(engine).run(d("2026-03-01"))
    assert store.due(at("2027-01-01")) == []         # never sent as a message
    [call] = store.list_call_backs()
    assert call.phone_masked == "139****6666" and "满80岁" in call.text and call.reason == "age_ahead"
    assert store.mark_done(call.id, operator_id=3) and not store.mark_done(call.id, operator_id=3)
    assert store.list_call_backs() == []
    assert notices(engine)[0]["status"] == DONE and notices(engine)[0]["done_by"] == 3
    assert CALL_BACK == "call_back"


def test_stats_count_without_personal_data(engine, store):
    keep(store, "tg-971", "2026-02-10", birth_year=1946, birth_month=5)
    keep(store, "tg-972", "2026-02-10", birth_year=1950, facts={"hukou": False, "district": "昆山市"})
    store.keep(channel="console", address="13955556666", sender_id="console-9", facts={}, wording=CONSENT,
               now=at("2026-02-10"))
    notifier(engine).run(d("2026-03-01"))
    stats = store.stats()
    assert stats["followups"] == 3 and stats["by_district"] == {"姑苏区": 1, "昆山市": 1, "未知": 1}
    assert {"policy": "senior_allowance", "reason": "age_ahead", "status": "pending", "count": 1} in stats["notices"]
    flat = repr(stats)
    assert "tg-97" not in flat and "13955556666" not in flat and "console-9" not in flat


def test_the_days_query_reads_the_birth_index_not_every_elder(sqlite_url):
    from sqlalchemy import text
    engine = migrated_engine(sqlite_url)
    query = FollowupStore.page_query(0, 20000, cohorts=[(1946, 5), (1961, 5), (1966, 5), (1946, 7)])
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        plan = " ".join(r[-1] for r in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
    assert "USING INDEX ix_followups_birth" in plan and "SCAN followups" not in plan
