"""The operator console over HTTP: sessions, CSRF, who sees which call, passwords and phone
numbers — against the real `eldercare console` server and its SQLite database.

The advisor is not needed here (its address points nowhere: a call's turn is then answered
with the console's own "顾问服务暂时连不上"); the browser tests take whole calls with it."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import time

import pytest
import requests

from console_support import NAMES, PASSWORDS, ConsoleServer, Operator, add_operators, eldercare
from policy_kb.clock import time_words
from storage.bookings import BookingStore
from storage.db import make_engine, migrated_engine

NOWHERE = "http://127.0.0.1:9"   # the discard port: nothing listens
PHONE = "13912345678"


@pytest.fixture(scope="module")
def var(tmp_path_factory):
    var = tmp_path_factory.mktemp("console-var")
    add_operators(var)
    return var


@pytest.fixture(scope="module")
def console(var):
    # a server on UTC, as many are: every time shown must still be Suzhou's
    server = ConsoleServer(var, NOWHERE, env={"TZ": "UTC"})
    yield server
    server.stop()


def logged_in(console, user) -> Operator:
    op = Operator(console.url)
    assert op.login(user).status_code == 302
    return op


PAGES = ["/", "/calls/1", "/calls/1/summary"]
APIS = [("get", "/api/calls/1"), ("post", "/api/calls/1/say"), ("post", "/api/calls/1/end")]


@pytest.mark.parametrize("path", PAGES)
def test_pages_without_a_session_go_to_the_login(console, path):
    reply = requests.get(console.url + path, allow_redirects=False)
    assert reply.status_code == 302 and reply.headers["Location"] == "/login"


@pytest.mark.parametrize("method,path", APIS + [("post", "/calls"), ("post", "/logout")])
def test_apis_and_posts_without_a_session_are_refused(console, method, path):
    reply = requests.request(method, console.url + path, json={"text": "83岁"}, allow_redirects=False)
    if path.startswith("/api/"):
        assert reply.status_code == 401 and reply.json()["error"] == "请先登录"
    else:
        assert reply.status_code == 302 and reply.headers["Location"] == "/login"


def test_a_forged_cookie_is_no_session(console):
    reply = requests.get(console.url + "/api/calls/1", cookies={"eldercare_console": "made-up"})
    assert reply.status_code == 401


def test_wrong_password_is_refused_politely(console):
    op = Operator(console.url)
    reply = op.login("wangfang", "wrong-password")
    assert reply.status_code == 302 and reply.headers["Location"] == "/login?error=1"
    assert "eldercare_console" not in reply.cookies
    assert "用户名或密码不对" in op.http.get(console.url + reply.headers["Location"]).text
    assert op.http.get(console.url + "/", allow_redirects=False).status_code == 302
    assert Operator(console.url).login("nobody", "whatever-pass").headers["Location"] == "/login?error=1"


def test_the_session_cookie_is_http_only_and_same_site(console):
    reply = Operator(console.url).login("wangfang")
    cookie = reply.headers["Set-Cookie"]
    assert "eldercare_console=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_login_without_its_csrf_token_is_refused(console):
    reply = requests.post(console.url + "/login", data={"username": "wangfang", "password": PASSWORDS["wangfang"]},
                          allow_redirects=False)
    assert reply.status_code == 403 and "eldercare_console" not in reply.cookies


def test_every_form_and_api_post_needs_the_csrf_token(console):
    op = logged_in(console, "wangfang")
    call = op.new_call()
    assert op.http.post(console.url + "/calls", data={}, allow_redirects=False).status_code == 403
    assert op.http.post(console.url + "/calls", data={"csrf_token": "wrong"}, allow_redirects=False).status_code == 403
    for path, body in ((f"/api/calls/{call}/say", {"text": "83岁"}), (f"/api/calls/{call}/end", {"outcome": "advised"})):
        assert op.http.post(console.url + path, json=body).status_code == 403
        assert op.http.post(console.url + path, json=body, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    assert op.http.post(console.url + "/logout", data={}, allow_redirects=False).status_code == 403
    # nothing happened: no turn stored, the call still open, still logged in
    view = op.http.get(f"{console.url}/api/calls/{call}").json()
    assert view["steps"] == [] and not view["call"]["ended"]
    assert op.http.get(console.url + "/", allow_redirects=False).status_code == 200


def test_logout_ends_the_session(console):
    op = logged_in(console, "wangfang")
    reply = op.http.post(console.url + "/logout", data={"csrf_token": op.csrf()}, allow_redirects=False)
    assert reply.status_code == 302 and reply.headers["Location"] == "/login"
    assert op.http.get(console.url + "/", allow_redirects=False).status_code == 302


def test_an_operator_sees_only_their_own_calls_a_supervisor_sees_all(console):
    wang, li, lead = (logged_in(console, u) for u in ("wangfang", "lisi", "lead"))
    call = wang.new_call()
    assert wang.http.get(f"{console.url}/calls/{call}").status_code == 200
    for path in (f"/calls/{call}", f"/calls/{call}/summary", f"/api/calls/{call}"):
        assert li.http.get(console.url + path).status_code == 403
    li_csrf = li.csrf()
    assert li.http.post(f"{console.url}/api/calls/{call}/say", json={"text": "83岁"},
                        headers={"X-CSRF-Token": li_csrf}).status_code == 403
    assert li.http.post(f"{console.url}/api/calls/{call}/end", json={"outcome": "advised"},
                        headers={"X-CSRF-Token": li_csrf}).status_code == 403
    assert f"#{call}<" not in li.http.get(console.url + "/").text
    assert lead.http.get(f"{console.url}/calls/{call}").status_code == 200
    home = lead.http.get(console.url + "/").text
    assert f"#{call}<" in home and NAMES["wangfang"] in home and "所有来电" in home
    assert wang.http.get(f"{console.url}/calls/999999").status_code == 404
    assert wang.http.get(f"{console.url}/calls/abc").status_code == 404


def test_an_unreachable_advisor_gets_a_chinese_line_not_an_error(console):
    op = logged_in(console, "wangfang")
    call = op.new_call()
    reply = op.say(call, "83 昆山 本地 独居 半失能")
    assert reply.status_code == 200
    assert "暂时连不上" in reply.json()["script"]["read_out"]
    assert op.say(call, "   ").json()["error"] == "请先输入来电人说的话。"
    assert "Traceback" not in console.log_text()


def test_ending_a_call_needs_a_known_outcome(console):
    op = logged_in(console, "wangfang")
    call = op.new_call()
    csrf = op.call_csrf(call)
    bad = op.http.post(f"{console.url}/api/calls/{call}/end", json={"outcome": "whatever"}, headers={"X-CSRF-Token": csrf})
    assert bad.status_code == 400 and "结果只能是" in bad.json()["error"]
    good = op.http.post(f"{console.url}/api/calls/{call}/end", json={"outcome": "call_back", "note": "明天回电 13912345678"},
                        headers={"X-CSRF-Token": csrf})
    ended = good.json()
    assert ended["ok"] and ended["summary"] == f"/calls/{call}/summary"
    # the page turns read-only from this answer, with the outcome and the note (its number masked)
    assert ended["view"]["call"]["readonly"] and ended["view"]["call"]["outcome_label"] == "需要回电"
    assert ended["view"]["call"]["note"] == "明天回电 139****5678"
    home = op.http.get(console.url + "/").text
    assert "需要回电" in home


def test_passwords_are_not_stored_in_clear(console, var):
    db = sqlite3.connect(var / "eldercare.db")
    hashes = dict(db.execute("select username, password_hash from operators"))
    db.close()
    assert set(hashes) == set(PASSWORDS)
    for user, password in PASSWORDS.items():
        assert hashes[user].startswith("scrypt$") and password not in hashes[user]
    raw = (var / "eldercare.db").read_bytes()
    assert not any(p.encode() in raw for p in PASSWORDS.values())


def test_phone_numbers_are_masked_on_every_page_and_api(console, var):
    op = logged_in(console, "wangfang")
    call = op.new_call()
    op.say(call, f"我的电话是{PHONE}")
    sender = op.http.get(f"{console.url}/api/calls/{call}").json()  # the call's conversation id is not shown
    engine = migrated_engine(f"sqlite:///{var / 'eldercare.db'}")
    db = sqlite3.connect(var / "eldercare.db")
    sender_id = db.execute("select sender_id from calls where id = ?", (call,)).fetchone()[0]
    db.close()
    BookingStore(engine).submit(kind="advisor", sender_id=sender_id, filed_by="operator", relationship="子女",
                                phone=PHONE, idempotency_key=f"k-{call}", district="姑苏区")
    pages = [op.http.get(f"{console.url}{path}").text
             for path in ("/", f"/calls/{call}", f"/calls/{call}/summary", f"/api/calls/{call}")]
    for page in pages:
        assert PHONE not in page
    assert "139****5678" in pages[1] and "139****5678" in pages[3]
    assert sender["steps"][0]["said"] == "我的电话是139****5678"
    assert PHONE not in console.log_text()


def test_a_disabled_operator_is_logged_out_and_cannot_log_in(console, var):
    op = Operator(console.url)
    assert op.login("lisi").status_code == 302
    assert op.http.get(console.url + "/", allow_redirects=False).status_code == 200
    done = eldercare(var, "operators", "disable", "lisi")
    assert done.returncode == 0 and "已停用 lisi" in done.stdout
    assert op.http.get(console.url + "/", allow_redirects=False).status_code == 302
    assert Operator(console.url).login("lisi").headers["Location"] == "/login?error=1"
    listed = eldercare(var, "operators", "list").stdout
    assert "lisi\t李四\t接线员\t已停用" in listed and "lead\t李组长\t组长\t在用" in listed


def test_operators_cli_refuses_bad_accounts(var):
    dup = eldercare(var, "operators", "add", "wangfang", "--password-stdin", stdin="another-pass1\n")
    assert dup.returncode == 1 and "已经有了" in dup.stderr
    short = eldercare(var, "operators", "add", "zhao", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "至少 10 个字符" in short.stderr
    missing = eldercare(var, "operators", "disable", "nobody")
    assert missing.returncode == 1 and "没有用户" in missing.stderr


def test_sessions_expire(tmp_path):
    add_operators(tmp_path)
    server = ConsoleServer(tmp_path, NOWHERE, env={"ELDERCARE_CONSOLE_SESSION_HOURS": str(1.5 / 3600)})
    try:
        op = logged_in(server, "wangfang")
        assert op.http.get(server.url + "/", allow_redirects=False).status_code == 200
        time.sleep(2.5)
        assert op.http.get(server.url + "/", allow_redirects=False).status_code == 302
        assert op.http.get(server.url + "/api/calls/1").status_code == 401
    finally:
        server.stop()


def test_only_the_consoles_signed_word_makes_a_booking_an_operators(tmp_path, monkeypatch):
    from storage.operators import Operator as Account
    from storage.operators import signed_operator, verified_operator
    monkeypatch.setenv("ELDERCARE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("ELDERCARE_CONSOLE_SECRET", raising=False)
    wang = Account(7, "wangfang", "王芳", "operator", True)
    signed = signed_operator("console-abc", wang)
    assert verified_operator("console-abc", {"operator": signed}) == (7, "王芳")
    assert verified_operator("console-other", {"operator": signed}) is None           # another conversation
    assert verified_operator("console-abc", {"operator": {**signed, "name": "李四"}}) is None
    assert verified_operator("console-abc", {"operator": {"id": 7, "name": "王芳"}}) is None   # a bare claim
    assert verified_operator("console-abc", None) is None
    assert oct((tmp_path / "console_secret").stat().st_mode & 0o777) == "0o600"


def api(op: Operator, call: int, action: str, body: dict | None = None, csrf: str | None = None) -> requests.Response:
    token = op.call_csrf(call) if csrf is None else csrf
    return op.http.post(f"{op.url}/api/calls/{call}/{action}", json=body or {}, headers={"X-CSRF-Token": token})


def call_events(var, call: int) -> list[tuple]:
    db = sqlite3.connect(var / "eldercare.db")
    rows = db.execute("select e.kind, o.username, e.at, e.detail from call_events e join operators o "
                      "on o.id = e.operator_id where e.call_id = ? order by e.id", (call,)).fetchall()
    db.close()
    return rows


def sender_of(var, call: int) -> str:
    db = sqlite3.connect(var / "eldercare.db")
    sender = db.execute("select sender_id from calls where id = ?", (call,)).fetchone()[0]
    db.close()
    return sender


def test_an_ended_call_is_read_only(console):
    op = logged_in(console, "wangfang")
    call = op.new_call()
    assert api(op, call, "end", {"outcome": "advised", "note": "已解释高龄津贴"}).status_code == 200
    said = op.say(call, "83岁")
    assert said.status_code == 409 and "已经结束" in said.json()["error"]
    again = api(op, call, "end", {"outcome": "booking"})
    assert again.status_code == 409 and "已经结束" in again.json()["error"]
    assert api(op, call, "reveal_phone", {"reference": "GW-20260101-0001"}).status_code == 409
    view = op.http.get(f"{console.url}/api/calls/{call}").json()
    assert view["steps"] == [] and view["call"]["readonly"] and not view["call"]["can_take_over"]
    assert (view["call"]["outcome_label"], view["call"]["note"]) == ("已答复政策", "已解释高龄津贴")
    assert "已经结束" in view["call"]["banner"]
    page = op.http.get(f"{console.url}/calls/{call}").text
    assert '"readonly": true' in page and "已答复政策" in page


def test_a_supervisor_reads_an_operators_call_until_taking_it_over(console, var):
    added = eldercare(var, "operators", "add", "zhaoliu", "--name", "赵六", "--password-stdin", stdin="zhaoliu-pass1\n")
    assert added.returncode == 0, added.stderr
    wang, lead = (logged_in(console, u) for u in ("wangfang", "lead"))
    zhao = Operator(console.url)
    assert zhao.login("zhaoliu", "zhaoliu-pass1").status_code == 302
    call = wang.new_call()
    watched = lead.http.get(f"{console.url}/api/calls/{call}").json()["call"]
    assert watched["readonly"] and watched["can_take_over"] and "王芳" in watched["banner"]
    refused = lead.say(call, "83岁")
    assert refused.status_code == 403 and "接手这通来电" in refused.json()["error"]
    assert api(lead, call, "end", {"outcome": "advised"}).status_code == 403
    # taking over is a POST with the CSRF token, by a supervisor only
    assert api(lead, call, "take_over", csrf="wrong").status_code == 403
    assert api(zhao, call, "take_over", csrf=zhao.csrf()).status_code == 403          # not their call at all
    own = zhao.new_call()
    mine = api(zhao, own, "take_over")
    assert mine.status_code == 403 and mine.json()["error"] == "只有组长可以接手来电。"
    assert call_events(var, call) == []
    before = dt.datetime.now(dt.timezone.utc)
    taken = api(lead, call, "take_over")
    assert taken.status_code == 200 and not taken.json()["call"]["readonly"]
    assert "您已接手王芳的这通来电" in taken.json()["call"]["banner"]
    [(kind, who, at, detail)] = call_events(var, call)
    at = dt.datetime.fromisoformat(at).replace(tzinfo=dt.timezone.utc)
    assert (kind, who, detail) == ("take_over", "lead", None) and abs((at - before).total_seconds()) < 30
    assert api(lead, call, "take_over").status_code == 409                        # already theirs
    assert lead.say(call, "83岁").status_code == 200
    # the operator who took the call now reads it only
    late = wang.say(call, "独居")
    assert late.status_code == 403 and "李组长已经接手" in late.json()["error"]
    mine_now = wang.http.get(f"{console.url}/api/calls/{call}").json()["call"]
    assert mine_now["readonly"] and "李组长" in mine_now["banner"]
    assert [e["what"] for e in mine_now["events"]] == ["接手来电"]
    assert api(lead, call, "end", {"outcome": "advised"}).status_code == 200
    assert api(lead, call, "take_over").status_code == 409                        # an ended call stays ended


def test_every_time_shown_is_suzhou_time_on_a_utc_server(console, var):
    op = logged_in(console, "wangfang")
    call = op.new_call()
    assert api(op, call, "end", {"outcome": "advised"}).status_code == 200
    db = sqlite3.connect(var / "eldercare.db")
    started, ended = db.execute("select started_at, ended_at from calls where id = ?", (call,)).fetchone()
    db.close()
    started, ended = (dt.datetime.fromisoformat(t).replace(tzinfo=dt.timezone.utc) for t in (started, ended))
    suzhou = started + dt.timedelta(hours=8)
    shown, utc_shown = f"{suzhou.month}月{suzhou.day}日 {suzhou:%H:%M}", f"{started.month}月{started.day}日 {started:%H:%M}"
    assert time_words(started) == shown != utc_shown
    home = op.http.get(console.url + "/").text
    row = home[home.index(f"#{call}<"):]
    row = row[:row.index("</tr>")]
    assert shown in row and utc_shown not in row
    page = op.http.get(f"{console.url}/calls/{call}").text
    assert f"{shown} 开始" in page and time_words(ended) in page
    summary = op.http.get(f"{console.url}/calls/{call}/summary").text
    assert f"{suzhou.year}年{shown}" in summary


def test_suzhou_time_words():
    assert time_words(dt.datetime(2026, 12, 31, 17, 5)) == "1月1日 01:05"   # a bare time is UTC (SQLite)
    new_york = dt.timezone(dt.timedelta(hours=-5))
    assert time_words(dt.datetime(2026, 12, 31, 12, 5, tzinfo=new_york), year=True) == "2027年1月1日 01:05"


def test_revealing_a_bookings_phone_is_recorded_without_the_number(console, var):
    op, other, lead = (logged_in(console, u) for u in ("wangfang", "wangfang", "lead"))
    call, elsewhere = op.new_call(), other.new_call()
    store = BookingStore(migrated_engine(f"sqlite:///{var / 'eldercare.db'}"))
    booking, _ = store.submit(kind="home_service", sender_id=sender_of(var, call), filed_by="operator",
                              relationship="子女", phone=PHONE, idempotency_key=f"reveal-{call}", service_type="助浴",
                              booking_date=dt.date.today() + dt.timedelta(days=3), time_slot="上午",
                              address="姑苏区十全街88号", district="姑苏区")
    view = op.http.get(f"{console.url}/api/calls/{call}").json()
    assert view["bookings"][0]["phone"] == "139****5678" and view["bookings"][0]["service"] == "助浴"
    assert api(op, call, "reveal_phone", {"reference": booking.reference}, csrf="wrong").status_code == 403
    assert api(op, elsewhere, "reveal_phone", {"reference": booking.reference}).status_code == 404  # not this call's
    assert api(lead, call, "reveal_phone", {"reference": booking.reference}).status_code == 403     # watching only
    assert call_events(var, call) == []
    shown = api(op, call, "reveal_phone", {"reference": booking.reference})
    assert shown.status_code == 200 and shown.json()["phone"] == PHONE
    [(kind, who, _, detail)] = call_events(var, call)
    assert (kind, who, detail) == ("reveal_phone", "wangfang", f"预约 {booking.reference}")
    assert PHONE not in console.log_text()
    assert PHONE not in op.http.get(f"{console.url}/api/calls/{call}").text   # still masked on the page


def save_slot(tracker_url: str, sender: str, slot: str, value) -> None:
    """A slot event as Rasa's SQL tracker store writes it (its own table definition and row)."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SlotSet
    from storage.tracker_store import CachedSQLTrackerStore
    engine = make_engine(tracker_url)
    table = SQLTrackerStore.SQLEvent.__table__
    table.create(engine, checkfirst=True)
    with engine.begin() as conn:
        conn.execute(table.insert(), CachedSQLTrackerStore._row(sender, SlotSet(slot, value)))
    engine.dispose()


def test_newest_slot_value_reads_rasas_tracker_store(db_url, tmp_path):
    from storage.conversation_read import newest_slot_value
    missing = f"sqlite:///{tmp_path / 'none' / 'tracker.db'}"
    assert newest_slot_value(missing, "a", "phone") is None and not (tmp_path / "none").exists()
    save_slot(db_url, "a", "phone", "13800001111")
    save_slot(db_url, "a", "phone", PHONE)
    save_slot(db_url, "a", "lookup_phone", "13700002222")
    save_slot(db_url, "b", "phone", "13600003333")
    assert newest_slot_value(db_url, "a", "phone") == PHONE
    assert newest_slot_value(db_url, "b", "phone") == "13600003333"
    assert newest_slot_value(db_url, "c", "phone") is None


def test_the_number_being_confirmed_is_revealed_from_the_conversation(console, var):
    op = logged_in(console, "wangfang")
    call = op.new_call()
    sender = sender_of(var, call)
    # the booking's confirmation step, as the advisor said it (stored masked), before it is filed
    db = sqlite3.connect(var / "eldercare.db")
    db.execute("insert into call_turns (call_id, at, said, replies) values (?, ?, ?, ?)",
               (call, "2026-12-07 03:00:00", "13912345678",
                json.dumps([{"text": "请核对一下：助浴，后天上午，联系电话：139****5678。对吗？",
                             "buttons": [{"title": "1. 确认提交", "payload": "/affirm"}]}], ensure_ascii=False)))
    db.commit()
    db.close()
    tracker = f"sqlite:///{var / 'tracker.db'}"
    save_slot(tracker, sender, "phone", PHONE)
    assert op.http.get(f"{console.url}/api/calls/{call}").json()["phone_to_confirm"] == "139****5678"
    shown = api(op, call, "reveal_phone")
    assert shown.status_code == 200 and shown.json()["phone"] == PHONE
    assert call_events(var, call)[0][::3] == ("reveal_phone", "提交前核对")
    # filed: the tracker store masks the slot; nothing to reveal there any more
    save_slot(tracker, sender, "phone", "139****5678")
    assert op.http.get(f"{console.url}/api/calls/{call}").json()["phone_to_confirm"] == ""
    assert api(op, call, "reveal_phone").status_code == 404
    assert len(call_events(var, call)) == 1 and PHONE not in console.log_text()
