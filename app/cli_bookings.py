"""`eldercare bookings …`: staff list, inspect and move bookings. Phones are masked in all output."""
from __future__ import annotations

import argparse
import functools
import json
import sys
import unicodedata

from sqlalchemy.exc import SQLAlchemyError

from storage.bookings import CHINA, KIND_LABELS, KINDS, STATUS_LABELS, BookingError, BookingStore
from storage.masking import mask_text

EXIT_BAD_INPUT = 2
FILED_BY_LABELS = {"self": "本人", "relative": "家属", "operator": "工作人员代办"}
ACTOR_LABELS = {"user": "用户", "staff": "工作人员", "system": "系统"}


def _guarded(command):
    """Bad input and refused changes end in one Chinese line and exit 2, never a traceback."""
    @functools.wraps(command)
    def run(args) -> int:
        try:
            return command(args)
        except BookingError as exc:
            print(f"错误：{exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        except SQLAlchemyError as exc:  # the message may quote URLs or parameters: name only the kind
            print(f"错误：数据库访问失败（{type(exc).__name__}），请检查 ELDERCARE_DB_URL。", file=sys.stderr)
            return 1
    return run


def add_parser(sub: argparse._SubParsersAction) -> None:
    bookings = sub.add_parser("bookings", help="预约管理：查看、确认、拒绝、入住、取消")
    bsub = bookings.add_subparsers(dest="bookings_cmd", required=True)

    li = bsub.add_parser("list", help="列出预约（电话已打码）")
    li.add_argument("--status", help="状态：submitted、confirmed、declined、cancelled、admitted（或它们的中文名）")
    li.add_argument("--kind", help="类型：home_service/JY、waitlist/LH、assessment/PG、advisor/GW，或中文名")
    li.add_argument("--district", help="区（市），例如 姑苏区")
    li.set_defaults(func=_guarded(cmd_list))

    sh = bsub.add_parser("show", help="查看一条预约的全部信息、处理记录和轮候位置")
    sh.add_argument("reference", help="预约编号，例如 LH-20261129-0042")
    sh.set_defaults(func=_guarded(cmd_show))

    for name, status, text in (("confirm", "confirmed", "确认预约"), ("decline", "declined", "拒绝预约"),
                               ("admit", "admitted", "轮候申请：标记已入住"), ("cancel", "cancelled", "取消预约")):
        ch = bsub.add_parser(name, help=text)
        ch.add_argument("reference", help="预约编号")
        ch.add_argument("--reason", help="原因（会记入处理记录）")
        ch.set_defaults(func=_guarded(cmd_change), new_status=status)


def _store() -> BookingStore:
    from storage.db import migrated_engine
    from storage.settings import Settings
    return BookingStore(migrated_engine(Settings.from_env().db_url))


def _out(text: str = "") -> None:
    # every line passes the masker: an address or a note may hold a number too
    print(mask_text(text))


def _code(value: str | None, labels: dict, extra: dict | None = None) -> str | None:
    """Accept the code, its Chinese label, or (kinds) the reference prefix."""
    if value is None:
        return None
    lookup = {label: code for code, label in labels.items()}
    lookup.update({alias: code for code, alias in (extra or {}).items()})
    return lookup.get(value.strip().upper(), lookup.get(value.strip(), value.strip()))


def _when(moment) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def cmd_list(args) -> int:
    rows = _store().list(status=_code(args.status, STATUS_LABELS), kind=_code(args.kind, KIND_LABELS, KINDS),
                         district=args.district)
    if not rows:
        _out("没有符合条件的预约。")
        return 0
    table = [("编号", "类型", "状态", "日期/时段", "区（市）", "电话", "提交时间")]
    for b in rows:
        d = b.to_dict(masked=True)
        slot = " ".join(x for x in (d["booking_date"], d["time_slot"]) if x) or "-"
        table.append((b.reference, d["kind_label"], d["status_label"], slot, b.district or "-",
                      d["phone"], _when(b.created_at)))
    widths = [max(_width(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        _out("  ".join(_pad(cell, w) for cell, w in zip(row, widths)).rstrip())
    _out(f"共 {len(rows)} 条。")
    return 0


def _filer(booking) -> str:
    label = FILED_BY_LABELS[booking.filed_by]
    return label if booking.relationship == label else f"{label}（{booking.relationship}）"


def cmd_show(args) -> int:
    store = _store()
    booking = store.get(args.reference)
    if booking is None:
        raise BookingError(f"找不到预约编号 {args.reference}，请核对后再试。")
    d = booking.to_dict(masked=True)
    fields = [
        ("编号", booking.reference), ("类型", d["kind_label"]), ("状态", d["status_label"]),
        ("提交时间", _when(booking.created_at)), ("最后更新", _when(booking.updated_at)),
        ("提交人", _filer(booking)),
        ("联系电话", d["phone"]), ("服务项目", booking.service_type),
        ("日期", " ".join(x for x in (d["booking_date"], booking.time_slot) if x) or None),
        ("地址", booking.address), ("称呼", booking.addressed_as), ("老人姓名", booking.elder_name), ("区（市）", booking.district), ("意向机构", booking.institution),
        ("优先级", f"第 {booking.priority_tier} 级" if booking.priority_tier else None),
        ("老人资料", json.dumps(booking.profile, ensure_ascii=False) if booking.profile else None),
        ("备注", d["note"]), ("会话", booking.sender_id),
    ]
    for label, value in fields:
        if value:
            _out(f"{label}：{value}")
    if booking.kind == "waitlist":
        position = store.queue_position(booking.reference)
        _out(f"轮候位置：第 {position} 位" if position else f"轮候位置：不在轮候中（{d['status_label']}）")
    _out("处理记录：")
    for event in store.events(booking.reference):
        before = STATUS_LABELS.get(event["from_status"], "提交")
        reason = f"  原因：{event['reason']}" if event["reason"] else ""
        _out(f"  {_when(event['at'])}  {before} → {STATUS_LABELS[event['to_status']]}"
             f"  （{ACTOR_LABELS.get(event['actor'], event['actor'])}）{reason}")
    return 0


def cmd_change(args) -> int:
    booking = _store().set_status(args.reference, args.new_status, actor="staff", reason=args.reason)
    _out(f"已将 {booking.reference}（{KIND_LABELS[booking.kind]}）改为“{STATUS_LABELS[booking.status]}”。")
    return 0
