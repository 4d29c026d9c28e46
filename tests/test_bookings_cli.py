"""`eldercare bookings …` as staff run it: a real subprocess on the SQLite database under
ELDERCARE_VAR_DIR. Every run is checked for leaked phone numbers and tracebacks."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from storage.bookings import CHINA, BookingStore
from storage.db import make_engine, upgrade
from storage.settings import PROJECT_ROOT, Settings

MOBILE, LANDLINE = "13812345678", "0512-65231234"
SECRETS = (MOBILE, "65231234", "13987654321")
DAY = dt.datetime.now(CHINA).date() + dt.timedelta(days=2)


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("ELDERCARE_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("ELDERCARE_DB_URL", raising=False)
    return dict(os.environ)


@pytest.fixture
def store(env):
    engine = make_engine(Settings.from_env().db_url)
    upgrade(engine)
    yield BookingStore(engine)
    engine.dispose()


@pytest.fixture
def refs(store):
    """A home-service booking (姑苏区), two waitlist applications (吴江区) and an advisor booking."""
    home, _ = store.submit(kind="home_service", sender_id="c1", filed_by="relative", relationship="子女",
                           phone=MOBILE, idempotency_key="h", service_type="助浴", booking_date=DAY,
                           time_slot="下午", address="姑苏区十全街 88 号", district="姑苏区",
                           note="备用电话 13987654321")
    low, _ = store.submit(kind="waitlist", sender_id="c2", filed_by="self", relationship="本人", phone=LANDLINE,
                          idempotency_key="w1", district="吴江区", priority_tier=5,
                          profile={"age": 75, "hukou": True})
    high, _ = store.submit(kind="waitlist", sender_id="c3", filed_by="operator", relationship="社区/热线工作人员",
                           phone=MOBILE, idempotency_key="w2", district="吴江区", priority_tier=1,
                           institution="吴江区社会福利中心")
    advisor, _ = store.submit(kind="advisor", sender_id="c4", filed_by="self", relationship="本人",
                              phone=MOBILE, idempotency_key="a", booking_date=DAY, time_slot="上午")
    return {"home": home.reference, "low": low.reference, "high": high.reference, "advisor": advisor.reference}


def run(env, *args):
    proc = subprocess.run([sys.executable, "-m", "app.cli", "bookings", *args], env=env, cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)
    both = proc.stdout + proc.stderr
    assert "Traceback" not in both, both
    for secret in SECRETS:
        assert secret not in both, f"unmasked phone in output of {args}:\n{both}"
    return proc


def test_list_shows_all_masked(env, refs):
    proc = run(env, "list")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for ref in refs.values():
        assert ref in out
    for text in ("居家服务预约", "公办养老机构入住轮候", "养老顾问预约", "已提交，等待确认", "138****5678", "0512****1234",
                 f"{DAY.isoformat()} 下午", "姑苏区", "共 4 条"):
        assert text in out, text


def test_list_filters(env, refs, store):
    store.set_status(refs["high"], "confirmed", actor="staff")
    by_kind = run(env, "list", "--kind", "waitlist").stdout
    assert refs["low"] in by_kind and refs["high"] in by_kind and refs["home"] not in by_kind
    for spelling in ("LH", "lh", "公办养老机构入住轮候"):
        assert run(env, "list", "--kind", spelling).stdout == by_kind
    confirmed = run(env, "list", "--status", "已确认").stdout
    assert refs["high"] in confirmed and "共 1 条" in confirmed
    assert run(env, "list", "--status", "confirmed").stdout == confirmed
    district = run(env, "list", "--district", "姑苏区").stdout
    assert refs["home"] in district and refs["low"] not in district
    combined = run(env, "list", "--kind", "waitlist", "--status", "submitted", "--district", "吴江区").stdout
    assert refs["low"] in combined and refs["high"] not in combined
    assert "没有符合条件的预约" in run(env, "list", "--status", "admitted").stdout
    for option, value, message in (("--status", "open", "未知的状态"), ("--kind", "massage", "未知的预约类型"),
                                   ("--district", "园区", "未知的区（市）")):
        bad = run(env, "list", option, value)
        assert bad.returncode == 2 and message in bad.stderr and bad.stdout == ""


def test_show_all_fields_history_and_queue(env, refs):
    proc = run(env, "show", refs["home"].lower())
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for text in (f"编号：{refs['home']}", "类型：居家服务预约", "状态：已提交，等待确认", "提交人：家属（子女）",
                 "联系电话：138****5678", "服务项目：助浴", f"日期：{DAY.isoformat()} 下午",
                 "地址：姑苏区十全街 88 号", "区（市）：姑苏区", "备注：备用电话 139****4321", "处理记录：",
                 "提交 → 已提交，等待确认  （用户）"):
        assert text in out, text
    assert "轮候位置" not in out

    high = run(env, "show", refs["high"]).stdout
    for text in ("提交人：工作人员代办（社区/热线工作人员）", "意向机构：吴江区社会福利中心", "优先级：第 1 级",
                 "轮候位置：第 1 位", "（工作人员）"):
        assert text in high, text
    low = run(env, "show", refs["low"]).stdout
    assert "轮候位置：第 2 位" in low and "联系电话：0512****1234" in low
    assert '老人资料：{"age": 75, "hukou": true}' in low


def test_confirm_decline_admit_cancel(env, refs, store):
    proc = run(env, "confirm", refs["high"])
    assert proc.returncode == 0 and "已确认" in proc.stdout and refs["high"] in proc.stdout
    assert run(env, "admit", refs["high"]).returncode == 0
    assert store.get(refs["high"]).status == "admitted"
    assert run(env, "show", refs["low"]).stdout.count("轮候位置：第 1 位") == 1  # moved up

    proc = run(env, "decline", refs["home"], "--reason", "该时段助浴员已约满，请家属致电 13812345678")
    assert proc.returncode == 0 and "未通过" in proc.stdout
    shown = run(env, "show", refs["home"]).stdout
    assert "已提交，等待确认 → 未通过  （工作人员）  原因：该时段助浴员已约满，请家属致电 138****5678" in shown

    assert run(env, "cancel", refs["advisor"]).returncode == 0
    assert store.get(refs["advisor"]).status == "cancelled"
    assert [e["actor"] for e in store.events(refs["advisor"])] == ["user", "staff"]
    assert "已取消" in run(env, "show", refs["advisor"]).stdout


@pytest.mark.parametrize("args, message", [
    (("admit", "home"), "只有入住轮候申请才有入住"),
    (("cancel", "done"), "当前是“已安排入住”，不能改为“已取消”"),
    (("confirm", "gone"), "当前是“已取消”，不能改为“已确认”"),
])
def test_forbidden_transitions_exit_2(env, refs, store, args, message):
    store.set_status(refs["high"], "confirmed", actor="staff")
    store.set_status(refs["high"], "admitted", actor="staff")
    store.cancel(refs["low"])
    ref = {"home": refs["home"], "done": refs["high"], "gone": refs["low"]}[args[1]]
    proc = run(env, args[0], ref)
    assert proc.returncode == 2 and message in proc.stderr and proc.stderr.startswith("错误：")
    assert proc.stdout == ""


@pytest.mark.parametrize("command", ["show", "confirm", "decline", "admit", "cancel"])
def test_unknown_reference_exits_2(env, refs, command):
    proc = run(env, command, "JY-20000101-9999")
    assert proc.returncode == 2
    assert "找不到预约编号 JY-20000101-9999" in proc.stderr and proc.stdout == ""
    assert run(env, command, "不是编号").returncode == 2


def test_empty_database(env):
    proc = run(env, "list")
    assert proc.returncode == 0 and "没有符合条件的预约" in proc.stdout
