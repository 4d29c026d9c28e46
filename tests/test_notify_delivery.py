"""政策找人, delivery: retries with backoff then 'failed' and reported, one failure never holding up
the others, the Telegram deliverer against the fake Bot API, and `eldercare notify` itself."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import subprocess
import sys

import pytest
from sqlalchemy import select

from fake_bot_api import FakeBotApi
from notify.deliver import deliver
from notify.run import Notifier
from notify.settings import NotifySettings
from policy_kb.kb import KnowledgeBase
from storage import kb_store
from storage.db import migrated_engine
from storage.followups import FAILED, PENDING, SENT, FollowupStore
from storage.settings import PROJECT_ROOT
from storage.tables import followup_notices
from storage.telegram_buttons import ButtonStore

UTC = dt.timezone.utc
TOKEN = "123456789:AAFakeTokenForNotifyTestsOnly_abcdefgh"
KB = KnowledgeBase.from_directory()
CONSENT = "以后有新政策，或者老人家满足新的条件时，要不要提醒您？"


@pytest.fixture
def engine(sqlite_url):
    eng = migrated_engine(sqlite_url)
    kb_store.sync(eng, KB)
    return eng


def two_notices(engine, store, senders=("tg-501", "tg-502")) -> None:
    """Two families told on 2026-03-01 (ahead of 80): one notice each."""
    for sender in senders:
        store.keep(channel="telegram", address=sender, sender_id=sender, person="母亲", facts={"hukou": True},
                   birth_year=1946, birth_month=5, wording=CONSENT,
                   now=dt.datetime(2026, 2, 10, tzinfo=UTC))
    Notifier(engine, KB, NotifySettings()).run(dt.date(2026, 3, 1), now=dt.datetime(2026, 3, 1, 0, tzinfo=UTC))


def rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(followup_notices).order_by(followup_notices.c.id)).mappings()]


def test_a_failed_delivery_backs_off_exponentially_then_is_failed_and_reported(engine):
    store = FollowupStore(engine, retry_seconds=60, max_attempts=3)
    two_notices(engine, store, ("tg-501",))
    t0 = dt.datetime(2026, 3, 1, 1, tzinfo=UTC)
    [notice] = store.due(t0)
    assert store.claim(notice.id, t0) and not store.claim(notice.id, t0)   # one sender only
    assert store.mark_failed(notice.id, "NetworkError", t0) == PENDING
    assert store.due(t0 + dt.timedelta(seconds=59)) == []
    assert rows(engine)[0]["attempts"] == 1
    t1 = t0 + dt.timedelta(seconds=60)
    assert [n.id for n in store.due(t1)] == [notice.id]
    store.claim(notice.id, t1)
    assert store.mark_failed(notice.id, "NetworkError", t1) == PENDING
    assert store.due(t1 + dt.timedelta(seconds=119)) == []                 # 60 s, then 120 s
    t2 = t1 + dt.timedelta(seconds=120)
    store.claim(notice.id, t2)
    assert store.mark_failed(notice.id, "NetworkError", t2) == FAILED      # the third attempt was the last
    assert store.due(t2 + dt.timedelta(days=30)) == []
    stats = store.stats()
    assert stats["failed"] == 1 and stats["failed_by_error"] == {"NetworkError": 1}


class Flaky:
    """A deliverer whose sends to one chat always fail."""
    channel = "telegram"

    def __init__(self, broken: str, permanent: bool = False):
        self.broken, self.permanent = broken, permanent
        self.sent, self.tries = [], []

    async def send(self, notice):
        self.tries.append((notice.address, asyncio.get_running_loop().time()))
        if notice.address == self.broken:
            error = ConnectionError("the line is down")
            error.permanent = self.permanent
            raise error
        self.sent.append((notice.address, notice.text))


def test_one_failure_never_holds_up_the_others_and_is_retried_then_reported(engine):
    store = FollowupStore(engine, retry_seconds=0.2, max_attempts=3)
    two_notices(engine, store)
    flaky = Flaky("tg-501")
    report = asyncio.run(deliver(store, {"telegram": flaky}))
    assert flaky.sent and flaky.sent[0][0] == "tg-502"
    tries = [t for a, t in flaky.tries if a == "tg-501"]
    assert len(tries) == 3
    assert tries[2] - tries[1] > tries[1] - tries[0] >= 0.2 - 0.05          # the wait doubles
    assert (report.sent, report.retrying, report.failed) == (1, 2, 1) and report.errors == {"ConnectionError": 3}
    statuses = {r["followup_id"]: r["status"] for r in rows(engine)}
    assert sorted(statuses.values()) == [FAILED, SENT]
    assert store.stats()["failed"] == 1


def test_a_chat_that_can_never_be_reached_is_not_retried(engine):
    store = FollowupStore(engine, retry_seconds=0.2, max_attempts=5)
    two_notices(engine, store)
    flaky = Flaky("tg-501", permanent=True)
    report = asyncio.run(deliver(store, {"telegram": flaky}))
    assert len([a for a, _ in flaky.tries if a == "tg-501"]) == 1 and report.failed == 1 and report.sent == 1


@pytest.fixture
def api():
    server = FakeBotApi(TOKEN).start()
    yield server
    server.stop()


def test_the_telegram_deliverer_sends_the_notice_with_its_button(engine, api, caplog):
    from channels.telegram.notices import TelegramDeliverer, chat_of
    store = FollowupStore(engine)
    two_notices(engine, store, ("tg-501", "tg--100555-42"))
    buttons = ButtonStore(engine)

    async def go():
        async with TelegramDeliverer(TOKEN, buttons, base_url=api.base_url) as telegram:
            return await deliver(store, {"telegram": telegram})
    with caplog.at_level(logging.DEBUG):
        report = asyncio.run(go())
    assert report.sent == 2 and chat_of("tg--100555-42") == -100555
    private, group = api.sent(501), api.sent(-100555)
    assert len(private) == 1 and len(group) == 1
    message = private[0]
    assert message["text"].startswith("您母亲2026年5月满80岁，到时可以申请高龄津贴（尊老金）")
    [[button]] = message["reply_markup"]["inline_keyboard"]
    assert button["text"] == "怎么申请高龄津贴（尊老金）" and button["callback_data"].startswith("b:")
    stored = buttons.get("tg-501", int(button["callback_data"][2:]))      # a tap resolves like any other
    assert stored.payload == '/ask_policy{"policy": "senior_allowance", "aspect": "ask_how"}'
    assert buttons.keyboard("tg-501", message["_message"]["message_id"]) == [stored]
    assert buttons.get("tg--100555-42", int(group[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"][2:]))
    assert TOKEN not in caplog.text and TOKEN.split(":")[1] not in caplog.text


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(tmp_path, *args, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update({"ELDERCARE_DB_URL": f"sqlite:///{tmp_path / 'eldercare.db'}", "ELDERCARE_VAR_DIR": str(tmp_path),
                **(extra_env or {})})
    done = subprocess.run([sys.executable, "-m", "app.cli", "notify", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    return done.returncode, done.stdout + done.stderr


def test_the_command_dry_run_send_failure_and_stats(tmp_path, api):
    engine = migrated_engine(f"sqlite:///{tmp_path / 'eldercare.db'}")
    kb_store.sync(engine, KB)
    store = FollowupStore(engine)
    two_notices(engine, store, ("tg-501", "tg-502"))   # made on 2026-03-01 already
    with engine.begin() as conn:                       # …as if never made: the command makes them
        conn.execute(followup_notices.delete())
    code, out = cli(tmp_path, "--as-of", "2026-03-01", "--dry-run")
    assert code == 0 and "会发 2 条" in out and "2 × 您母亲2026年5月满80岁" in out
    assert "tg-50" not in out and "hukou" not in out and "姑苏" not in out       # no chat ids, no facts
    assert rows(engine) == []                                                  # a dry run writes nothing
    # Telegram unreachable: each notice retried, then failed and reported (exit status 1)
    down = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": f"http://127.0.0.1:{closed_port()}/bot",
            "ELDERCARE_NOTIFY_RETRY_SECONDS": "0.2", "ELDERCARE_NOTIFY_MAX_ATTEMPTS": "2"}
    code, out = cli(tmp_path, "--as-of", "2026-03-01", extra_env=down)
    assert code == 1 and "新提醒 2 条" in out and "失败 2 条" in out, out
    assert TOKEN.split(":")[1] not in out
    code, out = cli(tmp_path, "stats")
    assert code == 0 and "发送失败：2 条" in out and "tg-50" not in out
    # the same day again: nothing new; a notice not yet failed is sent through the fake Bot API
    with engine.begin() as conn:
        conn.execute(followup_notices.update().values(status=PENDING, attempts=0,
                                                      next_attempt_at=dt.datetime(2026, 3, 1, tzinfo=UTC)))
    up = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": api.base_url}
    code, out = cli(tmp_path, "--as-of", "2026-03-01", extra_env=up)
    assert code == 0 and "新提醒 0 条" in out and "发送 2 条" in out, out
    assert len(api.sent(501)) == 1 and len(api.sent(502)) == 1
    assert TOKEN.split(":")[1] not in out


def test_the_daily_hour_is_suzhous_and_nobody_is_messaged_at_night():
    from notify.schedule import next_run, run_on_start
    utc_midnight = dt.datetime(2027, 3, 1, 0, 30, tzinfo=UTC)          # 08:30 in Suzhou
    assert next_run(utc_midnight, 9) == dt.datetime(2027, 3, 1, 1, 0, tzinfo=UTC)
    assert next_run(dt.datetime(2027, 3, 1, 1, 0, tzinfo=UTC), 9) == dt.datetime(2027, 3, 2, 1, 0, tzinfo=UTC)
    assert not run_on_start(utc_midnight, 9, 21)                       # before nine: wait for nine
    assert run_on_start(dt.datetime(2027, 3, 1, 4, tzinfo=UTC), 9, 21)  # noon: today's run at once
    assert not run_on_start(dt.datetime(2027, 3, 1, 14, tzinfo=UTC), 9, 21)   # 22:00: tomorrow morning
    assert NotifySettings(ahead=((60, 1), (80, 2))).months_ahead(65) == 1
    assert NotifySettings().months_ahead(65) == 0 and NotifySettings().months_ahead(100) == 2


def test_serve_starts_the_run_as_a_child_of_its_own(tmp_path):
    import dataclasses
    from app.serve import Processes
    from storage.settings import Settings
    settings = dataclasses.replace(Settings.from_env(), db_url=f"sqlite:///{tmp_path / 'eldercare.db'}",
                                   var_dir=tmp_path)
    procs = Processes(settings, log_dir=tmp_path / "logs")
    procs.start_notify()
    assert procs._notify_proc.wait(timeout=180) == 0
    assert procs.procs == []                              # not one of the servers: its exit stops nothing
    log = (tmp_path / "logs" / "notify.log").read_text(encoding="utf-8")
    assert "政策找人" in log and "第一次运行" in log
    from policy_kb import clock
    assert FollowupStore(migrated_engine(settings.db_url)).get_state("last_run") == clock.today().isoformat()
    procs.stop_notify()


def test_docker_and_kubernetes_run_it_every_day():
    import yaml
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert compose["services"]["notify"]["command"] == ["python", "-m", "app.cli", "notify", "daily"]
    job = yaml.safe_load((PROJECT_ROOT / "deploy/helm/notify-cronjob.yaml").read_text(encoding="utf-8"))
    assert job["kind"] == "CronJob" and job["spec"]["schedule"] == "0 9 * * *"
    assert job["spec"]["timeZone"] == "Asia/Shanghai" and job["spec"]["concurrencyPolicy"] == "Forbid"
    [container] = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "app.cli", "notify"]
    assert all("value" not in e for e in container["env"] if e["name"] in ("ELDERCARE_DB_URL", "TELEGRAM_BOT_TOKEN"))
