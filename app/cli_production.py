"""`eldercare cluster` (several instances behind nginx) and `eldercare privacy forget|purge`."""
from __future__ import annotations

import argparse
import sys

from storage.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    cl = sub.add_parser("cluster", help="生产拓扑（不用 Docker）：多个 Rasa 实例和动作服务，nginx 在前面轮询"
                                        "（需要 PostgreSQL 和 Redis）")
    cl.add_argument("--rasa", type=int, default=2, help="Rasa 实例数（默认 2）")
    cl.add_argument("--actions", type=int, default=2, help="动作服务数（默认 2）")
    cl.add_argument("--port", type=int, default=8080, help="nginx 对外端口（默认 8080）")
    cl.set_defaults(func=cmd_cluster)

    pr = sub.add_parser("privacy", help="个人信息：按人删除，或按保存期限清理")
    pr_sub = pr.add_subparsers(dest="privacy_command", required=True)
    fo = pr_sub.add_parser("forget", help="删除一个人的对话记录，以及他预约里的电话、地址、称呼、健康情况")
    fo.add_argument("--sender", required=True, help="对话编号（REST 的 sender，Telegram 的 tg-…，来电的 console-…）")
    fo.set_defaults(func=cmd_forget)
    pu = pr_sub.add_parser("purge", help="删除超过保存期限的对话，以及早已办结的预约里的个人信息")
    pu.add_argument("--days", type=float, default=None, help="保存天数（默认 ELDERCARE_RETENTION_DAYS 或 30）")
    pu.set_defaults(func=cmd_purge)


def cmd_cluster(args) -> int:
    from app.cluster import main
    return main(args.rasa, args.actions, args.port)


def _engines(settings: Settings):
    from storage.db import make_engine, migrated_engine
    return migrated_engine(settings.db_url), make_engine(settings.tracker_db_url)


def cmd_forget(args) -> int:
    from storage.privacy import forget
    settings = Settings.from_env()
    removed = forget(args.sender, *_engines(settings))
    if not (removed.events or removed.bookings or removed.calls or removed.followups):
        print(f"没有找到对话 {args.sender} 的信息（可能已经删除）")
        return 0
    print(f"已删除：对话记录 {removed.events} 条事件，{removed.bookings} 个预约的个人信息，{removed.calls} 通来电的记录，"
          f"{removed.followups} 条提醒登记")
    return 0


def cmd_purge(args) -> int:
    from storage.privacy import purge
    settings = Settings.from_env()
    days = args.days if args.days is not None else settings.retention_days
    if days <= 0:
        print("保存天数必须大于 0", file=sys.stderr)
        return 1
    removed = purge(days, *_engines(settings))
    print(f"保存期限 {days:g} 天：删除了 {removed.conversations} 段对话（{removed.events} 条事件）、"
          f"{removed.bookings} 个已办结预约的个人信息、{removed.calls} 通来电的记录")
    return 0
