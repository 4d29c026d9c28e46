"""`eldercare notify`: 政策找人 — the daily run, its statistics, delivery (docs/notify.md)."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import sys
import time


def add_parser(sub: argparse._SubParsersAction) -> None:
    no = sub.add_parser("notify", help="政策找人：按日期检查谁满足了新条件，发提醒（每天运行一次）")
    no.add_argument("action", nargs="?", default="run", choices=("run", "stats", "deliver", "daily"),
                    help="run（默认）：检查并发送；stats：统计（不含个人信息）；deliver：只重发到期的；"
                         "daily：一直运行，每天定时检查（Docker）")
    no.add_argument("--as-of", default=None, help="按哪一天检查（YYYY-MM-DD，默认苏州今天）")
    no.add_argument("--dry-run", action="store_true", help="只显示会发哪些提醒（不含聊天编号和个人情况），不发送、不记录")
    no.add_argument("--no-wait", action="store_true", help="发送失败的不在本次等待重试（下次运行再发）")
    no.add_argument("--json", action="store_true", help="stats 以 JSON 输出")
    no.set_defaults(func=cmd_notify)


def cmd_notify(args) -> int:
    from channels.telegram.notices import quiet_http_logs
    from storage.masking import install as install_log_masking
    quiet_http_logs()
    install_log_masking()
    if args.action == "stats":
        return stats(args.json)
    if args.action == "deliver":
        return deliver_now(wait=not args.no_wait)
    if args.action == "daily":
        return daily()
    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        print(f"日期看不懂：{args.as_of}（应写成 YYYY-MM-DD）", file=sys.stderr)
        return 2
    return run_once(as_of, dry_run=args.dry_run, wait=not args.no_wait)


def _engine_and_kb():
    from storage.db import migrated_engine
    from storage.kb_store import knowledge_base
    from storage.settings import Settings
    settings = Settings.from_env()
    return migrated_engine(settings.db_url), knowledge_base(settings)


def run_once(as_of: dt.date | None = None, dry_run: bool = False, wait: bool = True) -> int:
    from notify.run import Busy, Notifier
    from notify.settings import NotifySettings
    from policy_kb import clock
    engine, kb = _engine_and_kb()
    try:
        report = Notifier(engine, kb, NotifySettings.from_env()).run(as_of or clock.today(), dry_run=dry_run)
    except Busy as exc:
        print(f"{exc}，这次不运行。", file=sys.stderr)
        return 1
    print_report(report, kb)
    return 0 if dry_run else deliver_now(wait=wait, engine=engine)


def print_report(report, kb) -> None:
    from notify.texts import reason_label
    names = {p.id: p.name for p in kb.policies}
    days = report.days
    span = days[0].isoformat() if len(days) == 1 else f"{days[0]} 至 {days[-1]}（补上了错过的 {len(days) - 1} 天）"
    head = "试运行（不发送、不记录）" if report.dry_run else "政策找人"
    print(f"{head}：{span}，读了 {report.evaluated} 位老人的情况，{report.seconds:.1f} 秒")
    if report.skipped_days:
        print(f"  有 {report.skipped_days} 天超出了补查范围（ELDERCARE_NOTIFY_CATCH_UP_DAYS），没有检查")
    if report.baseline:
        print("  第一次运行：记下了现在的政策和预约进度，之后有变化才提醒")
    changed = report.kb
    if any(changed.values()):
        print(f"  政策变化：新增 {len(changed['added'])}，修改 {len(changed['changed'])}，删除 {len(changed['removed'])}"
              + "".join(f"；{label} {'、'.join(names.get(p, p) for p in changed[key])}"
                        for key, label in (("added", "新增"), ("changed", "修改")) if changed[key]))
    verb = "会发" if report.dry_run else "新提醒"
    print(f"  {verb} {report.notices} 条")
    for (policy, reason), n in sorted(report.made.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"    {n:>7}  {names.get(policy, policy) or '预约'} · {reason_label(reason)}")
    if report.dry_run and report.texts:
        print("  提醒的原话（同样的话只列一次）：")
        for (reason, policy, text), n in sorted(report.texts.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"    {n:>7} × {text}")


LABELS = {"telegram": "Telegram", "wechat": "微信", "console": "热线回访", "rest": "网页"}
# what each channel needs set to send (the deliverers below)
NEEDS = {"telegram": ("TELEGRAM_BOT_TOKEN",), "wechat": ("WECHAT_APP_ID", "WECHAT_APP_SECRET")}


def _configured(channel: str) -> bool:
    return all(os.environ.get(name, "").strip() for name in NEEDS[channel])


def _deliverers(store, engine):
    """The channels that can send now: Telegram when a token is set (TELEGRAM_BASE_URL for a
    local Bot API server); WeChat when WECHAT_APP_ID and WECHAT_APP_SECRET are (WECHAT_API_BASE
    for a proxy; WECHAT_TEMPLATE_ID for notices past the 48-hour window), its access token shared
    with the wechat endpoint through the same store. Built only when something is due, so an idle
    run never calls Telegram or WeChat."""
    out = {}
    if _configured("telegram") and store.due(limit=1, channels=["telegram"]):
        from channels.telegram.notices import TelegramDeliverer
        from storage.telegram_buttons import ButtonStore
        out["telegram"] = TelegramDeliverer(os.environ["TELEGRAM_BOT_TOKEN"].strip(), ButtonStore(engine),
                                            base_url=os.environ.get("TELEGRAM_BASE_URL"))
    if _configured("wechat") and store.due(limit=1, channels=["wechat"]):
        from channels.wechat.notices import WeChatDeliverer
        from storage.settings import Settings
        from storage.telegram_buttons import ButtonStore
        from storage.wechat_state import make_stores
        _seen, tokens = make_stores(engine, Settings.from_env().redis_url)
        out["wechat"] = WeChatDeliverer.from_env(tokens, ButtonStore(engine))
    return out


def deliver_now(wait: bool = True, engine=None) -> int:
    from notify.deliver import deliver
    from notify.settings import NotifySettings
    from storage.followups import FollowupStore
    if engine is None:
        engine, _ = _engine_and_kb()
    settings = NotifySettings.from_env()
    store = FollowupStore(engine, settings.retry_seconds, settings.max_attempts)
    deliverers = _deliverers(store, engine)

    async def go():
        if not deliverers:
            return None
        async with contextlib.AsyncExitStack() as stack:
            for deliverer in deliverers.values():
                await stack.enter_async_context(deliverer)
            return await deliver(store, deliverers, wait=wait)

    report = asyncio.run(go())
    if report is not None:
        print(f"  发送 {report.sent} 条；失败 {report.failed} 条（已记下，见 eldercare notify stats）"
              + (f"；稍后重试 {report.retrying} 次" if report.retrying else ""))
    waiting = store.pending_by_channel()
    for channel, needs in NEEDS.items():
        if waiting.get(channel) and not _configured(channel):
            print(f"  {LABELS[channel]} 有 {waiting[channel]} 条等待发送：没有设置 {' 和 '.join(needs)}")
        elif waiting.get(channel):
            print(f"  {LABELS[channel]} 有 {waiting[channel]} 条等待重试")
    if waiting.get("rest"):
        print(f"  网页聊天有 {waiting['rest']} 条提醒没有发送渠道，等待中")
    call_backs = len(store.list_call_backs(limit=10000))
    if call_backs:
        print(f"  热线待回访 {call_backs} 条：请接线员在控制台回电")
    return 1 if report is not None and report.failed else 0


def stats(as_json: bool = False) -> int:
    from notify.texts import reason_label
    from storage.db import migrated_engine
    from storage.followups import FollowupStore
    from storage.settings import Settings
    engine = migrated_engine(Settings.from_env().db_url)
    store = FollowupStore(engine)
    data = store.stats()
    try:   # policies by name, as staff know them
        from storage.kb_store import load
        names = {p.id: p.name for p in load(engine).policies}
    except Exception:
        names = {}
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"登记提醒的老人：{data['followups']} 位（最近一次检查：{data['last_run'] or '还没有'}）")
    for district, n in data["by_district"].items():
        print(f"  {district}  {n}")
    print("  渠道：" + "，".join(f"{LABELS.get(c, c)} {n}" for c, n in data["by_channel"].items()))
    status_words = {"pending": "待发送", "sending": "发送中", "sent": "已发送", "failed": "失败",
                    "call_back": "待回访", "done": "已回访"}
    print("提醒：")
    for row in data["notices"]:
        policy = names.get(row["policy"], row["policy"]) or "预约"
        print(f"  {policy} · {reason_label(row['reason'])} · {status_words.get(row['status'], row['status'])}"
              f"  {row['count']}")
    print(f"发送失败：{data['failed']} 条" + (
        "（" + "，".join(f"{k} {v}" for k, v in data["failed_by_error"].items()) + "）" if data["failed"] else "")
        + (f"；正在重试 {data['retrying']} 条" if data["retrying"] else ""))
    return 0


def daily() -> int:
    """Forever: the run at ELDERCARE_NOTIFY_HOUR in Suzhou, and at start when today's is due."""
    from notify.schedule import next_run, run_on_start
    from notify.settings import NotifySettings
    settings = NotifySettings.from_env()
    if settings.hour is None:
        print("ELDERCARE_NOTIFY_HOUR=off：不定时运行", file=sys.stderr)
        return 2
    now = dt.datetime.now(dt.timezone.utc)
    due = now if run_on_start(now, settings.hour, settings.last_hour) else next_run(now, settings.hour)
    while True:
        now = dt.datetime.now(dt.timezone.utc)
        if now >= due:
            try:
                run_once()
            except Exception as exc:   # the database may be away for a moment: tried again tomorrow
                print(f"提醒任务没有完成（{type(exc).__name__}），明天再试", file=sys.stderr, flush=True)
            due = next_run(dt.datetime.now(dt.timezone.utc), settings.hour)
        sys.stdout.flush()
        time.sleep(min(max((due - now).total_seconds(), 1), 600))
