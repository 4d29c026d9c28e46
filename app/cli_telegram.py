"""`eldercare telegram`: the Telegram bridge to a running advisor."""
from __future__ import annotations

import argparse
import os
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    tg = sub.add_parser("telegram", help="在 Telegram 上提供顾问（读取 TELEGRAM_BOT_TOKEN）")
    tg.add_argument("--url", default=None, help="顾问地址（默认 ELDERCARE_URL，或本机 eldercare serve）")
    tg.add_argument("--webhook", default=None, help="用 webhook 代替长轮询：Telegram 推送到的公网 URL")
    tg.add_argument("--listen", default="127.0.0.1", help="webhook 模式监听的地址")
    tg.add_argument("--port", type=int, default=8443, help="webhook 模式监听的端口")
    tg.set_defaults(func=cmd_telegram)


def advisor_url() -> str:
    from storage.settings import Settings
    return os.environ.get("ELDERCARE_URL") or f"http://127.0.0.1:{Settings.from_env().rasa_port}"


def cmd_telegram(args) -> int:
    token = os.environ.get("TELEGRAM_BOT_TOKEN")
    if not token:
        print("需要 TELEGRAM_BOT_TOKEN：请先在 BotFather 创建机器人（见 README「Telegram」一节）", file=sys.stderr)
        return 2
    from channels.telegram.bridge import run
    return run(token, args.url or advisor_url(), base_url=os.environ.get("TELEGRAM_BASE_URL"),
               webhook=args.webhook, listen=args.listen, port=args.port,
               secret=os.environ.get("TELEGRAM_WEBHOOK_SECRET"))
