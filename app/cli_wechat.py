"""`eldercare wechat`: the WeChat Official Account endpoint for a running advisor."""
from __future__ import annotations

import argparse
import sys

from app.cli_telegram import advisor_url


def add_parser(sub: argparse._SubParsersAction) -> None:
    wx = sub.add_parser("wechat", help="在微信公众号上提供顾问（读取 WECHAT_APP_ID、WECHAT_APP_SECRET、WECHAT_TOKEN）")
    wx.add_argument("--url", default=None, help="顾问地址（默认 ELDERCARE_URL，或本机 eldercare serve）")
    wx.add_argument("--host", default="127.0.0.1", help="监听的地址（在 nginx 后面用 127.0.0.1）")
    wx.add_argument("--port", type=int, default=5090, help="监听的端口；微信调用的是 /wechat")
    wx.set_defaults(func=cmd_wechat)


def cmd_wechat(args) -> int:
    from channels.wechat.endpoint import WeChatSettings, run
    settings = WeChatSettings.from_env()
    if settings is None:
        print("需要 WECHAT_APP_ID、WECHAT_APP_SECRET 和 WECHAT_TOKEN（安全模式再加 WECHAT_AES_KEY）："
              "见 README「微信公众号」一节", file=sys.stderr)
        return 2
    return run(settings, args.url or advisor_url(), host=args.host, port=args.port)
