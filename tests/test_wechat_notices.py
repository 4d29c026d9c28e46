"""政策找人 on WeChat: the deliverer (channels/wechat/notices.py) against the fake 公众号 API with the
real database — 客服 text with its 回复 1 line and the stored choice a typed 1 picks, the template
fallback past the 48-hour window, what is permanent and what waits — delivery end to end, the
`eldercare notify` command, the consent offer on WeChat, and the purge of handled-message keys."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from actions import reminders
from channels.core.chat import ChatCore
from channels.wechat.notices import Later, Undeliverable, WeChatDeliverer, WindowClosed, cut, openid_of
from fake_wechat import fake_platform as fake  # noqa: F401 — the fixture
from fake_wechat import APP_ID, APP_SECRET, FakeWeChat
from notify.deliver import deliver
from notify.run import Notifier
from notify.settings import NotifySettings
from test_notify_delivery import KB, engine  # noqa: F401 — the KB and the fixture, shared
from storage import kb_store
from storage.db import make_engine, migrated_engine
from storage.followups import FAILED, PENDING, SENT, FollowupStore, Notice
from storage.privacy import purge
from storage.settings import PROJECT_ROOT
from storage.tables import followup_notices, wechat_seen_messages
from storage.telegram_buttons import ButtonStore
from storage.wechat_state import SeenMessages, TokenStore
from test_reminders import FACTS, store, text, to_the_offer  # noqa: F401 — store is a fixture
from test_conversation import Session

UTC = dt.timezone.utc
CONSENT = "以后有新政策，或者老人家满足新的条件时，要不要提醒您？"
OPENID = "oFamily_0123456789abcdefXYZ"
ADDRESS = f"wx-{OPENID}"
PAYLOAD = '/ask_policy{"policy": "senior_allowance", "aspect": "ask_how"}'
TEXT = "您母亲2026年5月满80岁，到时可以申请高龄津贴（尊老金）。"




def notice(address: str = ADDRESS, button: bool = True, text: str = TEXT) -> Notice:
    return Notice(id=1, followup_id=1, channel="wechat", address=address, policy_id="senior_allowance",
                  reason="age_ahead", detail="", text=text, button_title="怎么申请高龄津贴（尊老金）" if button else None,
                  button_payload=PAYLOAD if button else None, attempts=0)


def deliverer(fake, engine, **template) -> WeChatDeliverer:
    return WeChatDeliverer(APP_ID, APP_SECRET, TokenStore(engine), ButtonStore(engine), base_url=fake.base_url,
                           **template)


def send(fake, engine, the_notice: Notice, **template):
    async def go():
        async with deliverer(fake, engine, **template) as wechat:
            await wechat.send(the_notice)
    asyncio.run(go())


class Advisor:
    """What the channel core hands the advisor: every text, by conversation."""

    def __init__(self):
        self.heard: list[tuple[str, str]] = []

    async def relay(self, key, text):
        self.heard.append((key, text))
        return [{"text": "好的"}]


class Outbox:
    def __init__(self):
        self.said = []

    async def say(self, text, choices=(), local=False):
        self.said.append((text, list(choices)))

    async def typing(self):
        pass


def test_a_notice_goes_as_customer_service_text_and_a_typed_1_is_its_next_step(fake, engine, caplog):
    buttons = ButtonStore(engine)
    with caplog.at_level(logging.DEBUG):
        send(fake, engine, notice())
    [sent] = fake.sent[OPENID]
    assert sent == f"{TEXT}\n\n回复 1：怎么申请高龄津贴（尊老金）"
    assert fake.called("/cgi-bin/message/template/send") == []
    [choice] = buttons.latest(ADDRESS)                       # the latest keyboard of the conversation
    assert (choice.position, choice.title, choice.payload) == (1, "1. 怎么申请高龄津贴（尊老金）", PAYLOAD)
    assert 0 < choice.message_id < 2**31
    # the family types 1: the channel core sends the advisor the payload, not "1"
    advisor = Advisor()
    core = ChatCore(advisor, buttons, None, None)
    asyncio.run(core.text(ADDRESS, "1", Outbox()))
    assert advisor.heard == [(ADDRESS, PAYLOAD)]
    assert "TOKEN-1" not in caplog.text and APP_SECRET not in caplog.text


def test_a_notice_without_a_next_step_is_the_text_alone(fake, engine):
    send(fake, engine, notice(button=False))
    assert fake.sent[OPENID] == [TEXT] and ButtonStore(engine).latest(ADDRESS) == []


def test_past_the_48_hours_a_configured_template_carries_it(fake, engine):
    fake.fail_send(45015, OPENID)
    send(fake, engine, notice(), template_id="TPL-notice-1", template_field="thing1")
    assert OPENID not in fake.sent
    [template] = fake.templates
    assert template["touser"] == OPENID and template["template_id"] == "TPL-notice-1"
    assert template["data"] == {"thing1": {"value": cut(TEXT, 20)}}
    assert len(cut(TEXT, 20)) == 20 and cut(TEXT, 20).endswith("…") and TEXT.startswith(cut(TEXT, 20)[:-1])
    assert ButtonStore(engine).latest(ADDRESS) == []          # the template cannot say 回复 1: no choice offered


def test_the_template_field_defaults_to_content_and_its_limit_is_configurable(fake, engine):
    fake.fail_send(45015, OPENID)
    send(fake, engine, notice(text="短短一句。"), template_id="TPL-2")
    assert fake.templates[0]["data"] == {"content": {"value": "短短一句。"}}
    fake.fail_send(45047, OPENID)                              # 客服 quota used up: the template too
    send(fake, engine, notice(), template_id="TPL-2", template_limit=200)
    assert fake.templates[1]["data"] == {"content": {"value": TEXT}}


def test_past_the_48_hours_without_a_template_it_fails_for_good(fake, engine):
    fake.fail_send(45015, OPENID)
    with pytest.raises(WindowClosed) as failure:
        send(fake, engine, notice())
    assert failure.value.permanent is True and fake.templates == []


def test_an_unsubscribed_family_is_permanent_even_with_a_template(fake, engine):
    fake.fail_send(43004, OPENID)
    with pytest.raises(Undeliverable) as failure:
        send(fake, engine, notice())
    assert failure.value.permanent
    fake.fail_send(45015, OPENID)
    fake.fail_send(43004, OPENID)                              # the template refused too
    with pytest.raises(Undeliverable):
        send(fake, engine, notice(), template_id="TPL-1")


def test_the_customer_service_quota_waits(fake, engine):
    fake.fail_send(45047, OPENID)
    with pytest.raises(Later) as failure:
        send(fake, engine, notice())
    assert failure.value.retry_after == 3600 and not getattr(failure.value, "permanent", False)
    assert ButtonStore(engine).latest(ADDRESS) == []          # not sent: its choice is not offered


def test_only_wechat_conversations(fake, engine):
    assert openid_of(ADDRESS) == OPENID
    for address in ("tg-501", "wx-", "wx-a b", "501", ""):
        with pytest.raises(Undeliverable):
            openid_of(address)
    with pytest.raises(Undeliverable):
        send(fake, engine, notice(address="tg-501"))
    assert fake.calls == []


# ---- delivery end to end -------------------------------------------------------------------------
def wechat_notices(engine, store, senders=(ADDRESS,)) -> None:
    """Families told on 2026-03-01 (ahead of 80) on WeChat: one notice each."""
    for sender in senders:
        store.keep(channel="wechat", address=sender, sender_id=sender, person="母亲", facts={"hukou": True},
                   birth_year=1946, birth_month=5, wording=CONSENT, now=dt.datetime(2026, 2, 10, tzinfo=UTC))
    Notifier(engine, KB, NotifySettings()).run(dt.date(2026, 3, 1), now=dt.datetime(2026, 3, 1, 0, tzinfo=UTC))


def rows(engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(followup_notices).order_by(followup_notices.c.id)).mappings()]


def test_delivery_through_the_notifier_sends_retries_and_gives_up(fake, engine, caplog):
    store = FollowupStore(engine, retry_seconds=0.2, max_attempts=3)
    gone, silent = "wx-oGone_1", "wx-oSilent_2"
    wechat_notices(engine, store, (ADDRESS, gone, silent))
    fake.echo_token_in_errors = True
    fake.fail_send(43004, "oGone_1")                          # unsubscribed: one try only
    fake.fail_send(45015, "oSilent_2")                        # past 48 h, no template: one try only
    fake.fail_send(-1, OPENID)                                # 系统繁忙: retried, then through

    async def go():
        async with deliverer(fake, engine) as wechat:
            return await deliver(store, {"wechat": wechat})
    with caplog.at_level(logging.DEBUG):
        report = asyncio.run(go())
    assert (report.sent, report.failed) == (1, 2)
    assert report.errors == {"Undeliverable": 1, "WindowClosed": 1, "WeChatError": 1} and report.retrying == 1
    [sent] = fake.sent[OPENID]
    assert sent.startswith("您母亲2026年5月满80岁，到时可以申请高龄津贴（尊老金）") and sent.endswith("回复 1：怎么申请高龄津贴（尊老金）")
    assert ButtonStore(engine).latest(ADDRESS)[0].payload == PAYLOAD
    by_address = {n["followup_id"]: n["status"] for n in rows(engine)}
    assert sorted(by_address.values()) == [FAILED, FAILED, SENT]
    assert store.stats()["failed_by_error"] == {"Undeliverable": 1, "WindowClosed": 1}
    assert fake.issued == 1                                   # one token for the whole run
    assert "TOKEN-1" not in caplog.text and APP_SECRET not in caplog.text and "oGone" not in caplog.text


def cli(tmp_path, *args, extra_env=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WECHAT_"))}
    env.update({"ELDERCARE_DB_URL": f"sqlite:///{tmp_path / 'eldercare.db'}", "ELDERCARE_VAR_DIR": str(tmp_path),
                **(extra_env or {})})
    env.pop("ELDERCARE_REDIS_URL", None)
    done = subprocess.run([sys.executable, "-m", "app.cli", "notify", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    return done.returncode, done.stdout + done.stderr


def test_the_command_waits_without_credentials_then_sends(tmp_path, fake):
    engine = migrated_engine(f"sqlite:///{tmp_path / 'eldercare.db'}")
    kb_store.sync(engine, KB)
    wechat_notices(engine, FollowupStore(engine))
    code, out = cli(tmp_path, "deliver")
    assert code == 0 and "微信 有 1 条等待发送：没有设置 WECHAT_APP_ID 和 WECHAT_APP_SECRET" in out, out
    assert fake.calls == []
    code, out = cli(tmp_path, "stats")
    assert code == 0 and "微信 1" in out and OPENID not in out, out
    up = {"WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": APP_SECRET, "WECHAT_API_BASE": fake.base_url}
    code, out = cli(tmp_path, "deliver", extra_env=up)
    assert code == 0 and "发送 1 条" in out, out
    assert len(fake.sent[OPENID]) == 1 and "回复 1：" in fake.sent[OPENID][0]
    assert "TOKEN-1" not in out and APP_SECRET not in out
    assert TokenStore(engine).get(APP_ID)[0] == "TOKEN-1"    # shared with the wechat endpoint
    assert [r["status"] for r in rows(engine)] == [SENT]


def test_the_command_falls_back_to_the_configured_template(tmp_path, fake):
    engine = migrated_engine(f"sqlite:///{tmp_path / 'eldercare.db'}")
    kb_store.sync(engine, KB)
    wechat_notices(engine, FollowupStore(engine))
    fake.fail_send(45015, OPENID)
    up = {"WECHAT_APP_ID": APP_ID, "WECHAT_APP_SECRET": APP_SECRET, "WECHAT_API_BASE": fake.base_url,
          "WECHAT_TEMPLATE_ID": "TPL-9", "WECHAT_TEMPLATE_FIELD": "thing2", "WECHAT_TEMPLATE_LIMIT": "12"}
    code, out = cli(tmp_path, "deliver", extra_env=up)
    assert code == 0 and "发送 1 条" in out, out
    [template] = fake.templates
    assert template["touser"] == OPENID and template["template_id"] == "TPL-9"
    assert list(template["data"]) == ["thing2"] and len(template["data"]["thing2"]["value"]) == 12


# ---- the conversation and privacy ------------------------------------------------------------------
def test_wechat_families_are_offered_reminders_like_telegrams(store):  # noqa: F811 — the fixture
    assert reminders.channel_of(ADDRESS, {}) == "wechat"
    s = Session(ADDRESS)
    to_the_offer(s)
    s.say("/affirm", "affirm")
    assert "会在这里告诉您" in text(s.say("她三月份生日"))
    kept, = store.for_sender(ADDRESS)
    assert (kept.channel, kept.address) == ("wechat", ADDRESS)
    assert store.stop(ADDRESS) == 1 and store.for_sender(ADDRESS) == []


def test_purge_forgets_handled_wechat_messages_after_a_day(tmp_path):
    db = migrated_engine(f"sqlite:///{tmp_path / 'eldercare.db'}")
    seen = SeenMessages(db)
    now = dt.datetime.now(UTC)
    assert seen.first_time(f"evt:{OPENID}:1700000000:subscribe", now - dt.timedelta(hours=25))
    assert seen.first_time("msg:1234567890", now - dt.timedelta(hours=2))
    purge(30, db, make_engine(f"sqlite:///{tmp_path / 'tracker.db'}"), now=now.timestamp())
    with db.connect() as conn:
        assert [r[0] for r in conn.execute(select(wechat_seen_messages.c.key))] == ["msg:1234567890"]
    assert not seen.first_time("msg:1234567890")              # a retry within the day is still caught


def test_pending_is_not_lost_when_the_family_is_merely_busy(fake, engine):
    store = FollowupStore(engine, retry_seconds=60, max_attempts=5)
    wechat_notices(engine, store)
    fake.fail_send(45047, OPENID)

    async def go():
        async with deliverer(fake, engine) as wechat:
            return await deliver(store, {"wechat": wechat}, wait=False)
    report = asyncio.run(go())
    assert (report.sent, report.retrying, report.failed) == (0, 1, 0)
    [row] = rows(engine)
    assert row["status"] == PENDING
    assert row["next_attempt_at"].replace(tzinfo=UTC) - dt.datetime.now(UTC) > dt.timedelta(minutes=59)


def test_docker_kubernetes_and_nginx_carry_the_wechat_service():
    import yaml
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    wechat = compose["services"]["wechat"]
    assert wechat["command"] == ["python", "-m", "app.cli", "wechat", "--url", "http://nginx", "--port", "5090",
                                 "--host", "0.0.0.0"]
    assert wechat["profiles"] == ["wechat"] and wechat["ports"] == ["5090:5090"]
    assert {"WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_TOKEN", "WECHAT_AES_KEY", "WECHAT_TEMPLATE_ID"} <= set(
        wechat["environment"])
    assert all(wechat["environment"][n].startswith("${") for n in wechat["environment"] if n.startswith("WECHAT_"))
    assert {"WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_TEMPLATE_ID"} <= set(compose["services"]["notify"]["environment"])
    nginx = (PROJECT_ROOT / "deploy/nginx.conf").read_text(encoding="utf-8")
    assert "location = /wechat" in nginx and "wechat:5090" in nginx
    deployment, service = yaml.safe_load_all((PROJECT_ROOT / "deploy/helm/wechat.yaml").read_text(encoding="utf-8"))
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["command"][:4] == ["python", "-m", "app.cli", "wechat"] and "5090" in container["command"]
    assert all("value" not in e for e in container["env"] if e["name"].startswith("WECHAT_"))
    assert service["spec"]["ports"][0]["port"] == 5090
    job = yaml.safe_load((PROJECT_ROOT / "deploy/helm/notify-cronjob.yaml").read_text(encoding="utf-8"))
    [notify] = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    wx = {e["name"]: e for e in notify["env"] if e["name"].startswith("WECHAT_")}
    assert {"WECHAT_APP_ID", "WECHAT_APP_SECRET", "WECHAT_TEMPLATE_ID"} <= set(wx)
    assert all(e["valueFrom"]["secretKeyRef"]["optional"] is True for e in wx.values())   # off without the Secret
