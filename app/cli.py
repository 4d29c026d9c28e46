"""The `eldercare` command."""
from __future__ import annotations

import argparse
import sys

from app import cli_bookings, cli_console, cli_notify, cli_policy, cli_production, cli_telegram, cli_wechat


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="eldercare", description="养老政策顾问")
    sub = parser.add_subparsers(dest="command", required=True)
    cli_policy.add_parser(sub)
    cli_bookings.add_parser(sub)
    cli_telegram.add_parser(sub)
    cli_wechat.add_parser(sub)
    cli_console.add_parser(sub)
    cli_production.add_parser(sub)
    cli_notify.add_parser(sub)
    try:  # the dialogue commands need Rasa; the policy tools work without it
        from app import cli_dialogue
        cli_dialogue.add_parser(sub)
    except ImportError:
        pass
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except BrokenPipeError:  # output piped into `head`: not an error
        return 0


if __name__ == "__main__":
    sys.exit(main())
