"""The operator console over HTTP: sessions, CSRF, who sees which call, passwords and phone
numbers — against the real `eldercare console` server and its SQLite database.

The advisor is not needed here (its address points nowhere: a call's turn is then answered
with the console's own "顾问服务暂时连不上"); the browser tests take whole calls with it."""
from __future__ import annotations

import sqlite3
import time

import pytest
import requests

from console_support import NAMES, PASSWORDS, ConsoleServer, Operator, add_operators, eldercare
from storage.bookings import BookingStore
from storage.db import migrated_engine

NOWHERE = "http://127.0.0.1:9"   # the discard port: nothing listens
PHONE = "13912345678"


@pytest.fixture(scope="module")
def var(tmp_path_factory):
    var = tmp_path_factory.mktemp("console-var")
    add_operators(var)
    return var


@pytest.fixture(scope="module")
def console(var):
    server = ConsoleServer(var, NOWHERE)
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
    assert good.json() == {"ok": True, "summary": f"/calls/{call}/summary"}
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
