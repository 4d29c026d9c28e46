"""`eldercare policy …`: evaluate, what-if, validate, search, list, load."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from policy_kb import clock
from policy_kb.engine import evaluate, next_fact, what_if
from policy_kb.facts import ProfileError, load_facts, validate_profile
from policy_kb.kb import POLICY_DIR, KnowledgeBase, load_test_cases
from policy_kb.schema import PolicyFileError

EXIT_BAD_INPUT = 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    policy = sub.add_parser("policy", help="政策知识库：评估、查询、校验")
    psub = policy.add_subparsers(dest="policy_cmd", required=True)

    ev = psub.add_parser("evaluate", help="按老人资料评估所有政策，输出 JSON")
    ev.add_argument("--profile", required=True, help="资料 JSON 文件（- 表示标准输入）")
    ev.add_argument("--as-of", help="评估日期 YYYY-MM-DD（默认今天）")
    ev.add_argument("--what-if", action="append", default=[], metavar="FACT=VALUE",
                    help="假如某项资料变了（可重复），只输出会变化的结果")
    ev.set_defaults(func=cmd_evaluate)

    va = psub.add_parser("validate", help="校验全部政策文件和测试用例")
    va.add_argument("--dir", default=str(POLICY_DIR))
    va.set_defaults(func=cmd_validate)

    se = psub.add_parser("search", help="按关键词查政策，例如：长护险怎么申请")
    se.add_argument("text", nargs="+")
    se.add_argument("--limit", type=int, default=3)
    se.set_defaults(func=cmd_search)

    li = psub.add_parser("list", help="列出全部政策")
    li.set_defaults(func=cmd_list)

    lo = psub.add_parser("load", help="把 YAML 政策同步进数据库（可重复执行）")
    lo.set_defaults(func=cmd_load)


def _kb() -> KnowledgeBase:
    from storage.kb_store import knowledge_base
    return knowledge_base()


def _fail(message: str) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _read_profile(source: str) -> dict:
    text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    return json.loads(text)


def cmd_evaluate(args) -> int:
    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else clock.today()
    except ValueError:
        return _fail(f"--as-of {args.as_of!r} 不是 YYYY-MM-DD 格式的日期")
    try:
        raw = _read_profile(args.profile)
    except (OSError, json.JSONDecodeError) as exc:
        return _fail(f"读不了资料文件 {args.profile}：{exc}")
    facts = load_facts()
    try:
        profile = validate_profile(raw, facts)
        changes = {}
        for item in args.what_if:
            name, sep, value = item.partition("=")
            if not sep:
                return _fail(f"--what-if {item!r} 应写成 资料项=值，例如 age=80")
            if name not in facts:
                raise ProfileError(name, f"未知的资料项 {name!r}；可用：{', '.join(facts)}")
            changes[name] = facts[name].parse_text(value)
    except ProfileError as exc:
        return _fail(str(exc))
    kb = _kb()
    if changes:
        out = {"as_of": as_of.isoformat(), "changes": changes,
               "changed": what_if(kb, profile, changes, as_of)}
    else:
        results = evaluate(kb, profile, as_of, validate=False)
        out = {"as_of": as_of.isoformat(), "derived": kb.derive(profile)[1],
               "results": [r.to_dict() for r in results], "next_fact": next_fact(kb, results)}
    print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def cmd_validate(args) -> int:
    try:
        kb = KnowledgeBase.from_directory(args.dir)
    except PolicyFileError as exc:
        print(f"政策文件有误：{exc}", file=sys.stderr)
        return 1
    problems = []
    for path, index, case in load_test_cases():
        where = f"{path}: [{index}]"
        if not isinstance(case, dict) or "profile" not in case or "expect" not in case:
            problems.append(f"{where}: 用例需要 profile 和 expect")
            continue
        try:
            validate_profile(case["profile"] or {}, kb.facts)
        except ProfileError as exc:
            problems.append(f"{where}.profile.{exc}")
        for pid in case["expect"] or {}:
            if pid not in kb.by_id:
                problems.append(f"{where}.expect: 未知的政策 id {pid!r}")
    for line in problems:
        print(f"测试用例有误：{line}", file=sys.stderr)
    if problems:
        return 1
    print(f"政策知识库校验通过：{len(kb)} 项政策，{len(load_test_cases())} 个测试用例。")
    return 0


def cmd_search(args) -> int:
    from policy_kb.search import PolicySearch
    hits = PolicySearch(_kb()).search(" ".join(args.text), limit=args.limit)
    print(json.dumps([h.__dict__ for h in hits], ensure_ascii=False, indent=2))
    return 0


def cmd_list(args) -> int:
    for p in _kb().policies:
        mark = "" if p.verified else "（部分内容待核实）"
        print(f"{p.id:36} {p.name}{mark}")
    return 0


def cmd_load(args) -> int:
    from storage.db import migrated_engine
    from storage.settings import Settings
    from storage import kb_store as store
    report = store.sync(migrated_engine(Settings.from_env().db_url), KnowledgeBase.from_directory())
    print(json.dumps({k: len(v) for k, v in report.items()}, ensure_ascii=False))
    return 0
