"""`eldercare console` (the operator console's web server) and `eldercare operators add|list|disable`."""
from __future__ import annotations

import argparse
import getpass
import os
import sys

from storage.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:
    co = sub.add_parser("console", help="启动热线接线员控制台（网页，默认 http://127.0.0.1:5080/）")
    co.add_argument("--url", default=None, help="顾问地址（默认 ELDERCARE_URL，或本机 eldercare serve）")
    co.add_argument("--host", default=os.environ.get("ELDERCARE_CONSOLE_HOST", "127.0.0.1"),
                    help="监听地址（平板等其他设备访问时用 0.0.0.0，并放在 HTTPS 反向代理后面）")
    co.add_argument("--port", type=int, default=None, help="端口（默认 ELDERCARE_CONSOLE_PORT 或 5080）")
    co.add_argument("--secure-cookies", action="store_true",
                    default=os.environ.get("ELDERCARE_CONSOLE_SECURE_COOKIES") == "1",
                    help="登录 cookie 只走 HTTPS（经 HTTPS 反向代理访问时打开）")
    co.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)   # eldercare serve prints the address
    co.set_defaults(func=cmd_console)

    ops = sub.add_parser("operators", help="管理接线员账号")
    ops_sub = ops.add_subparsers(dest="operators_command", required=True)
    add = ops_sub.add_parser("add", help="新建接线员（密码从终端输入，或 --password-stdin 从标准输入读）")
    add.add_argument("username")
    add.add_argument("--name", help="显示的名字，例如 王芳")
    add.add_argument("--supervisor", action="store_true", help="组长：能看到所有人的来电")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读一行密码（脚本用）")
    add.set_defaults(func=cmd_operators_add)
    ls = ops_sub.add_parser("list", help="列出接线员")
    ls.set_defaults(func=cmd_operators_list)
    dis = ops_sub.add_parser("disable", help="停用接线员（立即退出登录）")
    dis.add_argument("username")
    dis.set_defaults(func=cmd_operators_disable)


def _store():
    from storage.db import migrated_engine
    from storage.operators import OperatorStore
    return OperatorStore(migrated_engine(Settings.from_env().db_url))


def cmd_console(args) -> int:
    from app.cli_telegram import advisor_url
    from channels.console.server import run
    return run(args.url or advisor_url(), host=args.host, port=args.port or Settings.from_env().console_port,
               secure_cookies=args.secure_cookies, quiet=args.quiet)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码（至少 10 个字符）：")
    if getpass.getpass("再输一次：") != first:
        raise SystemExit("两次输入的密码不一样")
    return first


def cmd_operators_add(args) -> int:
    from storage.operators import OperatorError
    password = _read_password(args.password_stdin)
    try:
        operator = _store().add(args.username, password, args.name,
                                role="supervisor" if args.supervisor else "operator")
    except OperatorError as exc:
        print(exc, file=sys.stderr)
        return 1
    role = "组长" if operator.supervisor else "接线员"
    print(f"已新建{role} {operator.username}（{operator.display_name}）")
    return 0


def cmd_operators_list(args) -> int:
    operators = _store().list()
    if not operators:
        print("还没有接线员：eldercare operators add 用户名 --name 名字")
    for o in operators:
        role = "组长" if o.supervisor else "接线员"
        print(f"{o.username}\t{o.display_name}\t{role}\t{'在用' if o.active else '已停用'}")
    return 0


def cmd_operators_disable(args) -> int:
    from storage.operators import OperatorError
    try:
        _store().disable(args.username)
    except OperatorError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"已停用 {args.username}，它的登录也已失效")
    return 0
