"""Booking answers: dates, slots, phones, references, service types (understanding/booking_parsing.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from understanding.booking_parsing import (
    DateAnswer,
    parse_date,
    parse_phone,
    parse_reference,
    parse_service_type,
    parse_slot,
    phone_problem,
)

SUN = dt.date(2026, 11, 29)   # a Sunday: "周三" and "下周三" are the same day
WED = dt.date(2026, 12, 2)    # a Wednesday: they are not
D = dt.date


# ---------------------------------------------------------------- dates, today = Sunday 2026-11-29

@pytest.mark.parametrize("text,date,slot", [
    # relative days
    ("今天", D(2026, 11, 29), None),
    ("明天", D(2026, 11, 30), None),
    ("后天", D(2026, 12, 1), None),
    ("大后天", D(2026, 12, 2), None),
    ("明天上午", D(2026, 11, 30), "上午"),
    ("后天下午", D(2026, 12, 1), "下午"),
    ("明早", D(2026, 11, 30), "上午"),
    ("今晚", D(2026, 11, 29), "晚上"),
    ("明日早上", D(2026, 11, 30), "上午"),
    # voice-to-text without punctuation
    ("那个明天上午吧", D(2026, 11, 30), "上午"),
    ("就下周三下午", D(2026, 12, 2), "下午"),
    ("嗯 后天 晚上 可以", D(2026, 12, 1), "晚上"),
    ("那就大后天中午前吧", D(2026, 12, 2), "上午"),
    # weekdays: bare = next such day; 下 = next Monday-based week
    ("周三", D(2026, 12, 2), None),
    ("星期三", D(2026, 12, 2), None),
    ("礼拜三", D(2026, 12, 2), None),
    ("周日", D(2026, 12, 6), None),
    ("星期天", D(2026, 12, 6), None),
    ("礼拜天上午", D(2026, 12, 6), "上午"),
    ("这周日", D(2026, 11, 29), None),
    ("下周三", D(2026, 12, 2), None),
    ("下星期三", D(2026, 12, 2), None),
    ("下礼拜三", D(2026, 12, 2), None),
    ("下个星期五", D(2026, 12, 4), None),
    ("下周三下午", D(2026, 12, 2), "下午"),
    ("下周日", D(2026, 12, 6), None),
    ("下下周一", D(2026, 12, 7), None),
    ("下下个礼拜二上午", D(2026, 12, 8), "上午"),
    # month + day
    ("12月5号", D(2026, 12, 5), None),
    ("12月5日", D(2026, 12, 5), None),
    ("12月5", D(2026, 12, 5), None),
    ("12 月 5 号", D(2026, 12, 5), None),
    ("十二月五号", D(2026, 12, 5), None),
    ("十二月二十五日下午", D(2026, 12, 25), "下午"),
    ("十二月份五号", D(2026, 12, 5), None),
    ("12.5", D(2026, 12, 5), None),
    ("12/5", D(2026, 12, 5), None),
    ("１２／５", D(2026, 12, 5), None),
    ("1月3号", D(2027, 1, 3), None),           # earlier month: next year
    ("一月十号上午", D(2027, 1, 10), "上午"),
    ("11月30号", D(2026, 11, 30), None),
    ("2026年12月5日", D(2026, 12, 5), None),
    ("二〇二六年十二月五日", D(2026, 12, 5), None),
    ("26年12月5号", D(2026, 12, 5), None),
    ("今年12月8号", D(2026, 12, 8), None),
    ("明年1月8号", D(2027, 1, 8), None),
    ("2026-12-05", D(2026, 12, 5), None),
    ("2026/12/5", D(2026, 12, 5), None),
    ("2027.1.5", D(2027, 1, 5), None),
    # day of month only: this month, or next month once passed
    ("5号", D(2026, 12, 5), None),
    ("30号", D(2026, 11, 30), None),
    ("29号", D(2026, 11, 29), None),
    ("二十号", D(2026, 12, 20), None),
    ("廿五号", D(2026, 12, 25), None),
    ("十号下午", D(2026, 12, 10), "下午"),
    ("8日", D(2026, 12, 8), None),
    ("下个月3号", D(2026, 12, 3), None),
    ("下月十五号", D(2026, 12, 15), None),
    ("这个月30号", D(2026, 11, 30), None),
    # in N days / weeks
    ("3天后", D(2026, 12, 2), None),
    ("三天以后", D(2026, 12, 2), None),
    ("十天之后", D(2026, 12, 9), None),
    ("过三天", D(2026, 12, 2), None),
    ("一周后", D(2026, 12, 6), None),
    ("两个星期以后上午", D(2026, 12, 13), "上午"),
])
def test_parse_date_reads_every_form(text, date, slot):
    assert parse_date(text, SUN) == DateAnswer(date, slot, None)


@pytest.mark.parametrize("text,date", [
    ("这周三", D(2026, 11, 25)),       # this week's Wednesday is already gone
    ("本周五", D(2026, 11, 27)),
    ("上周三", D(2026, 11, 18)),
    ("昨天", D(2026, 11, 28)),
    ("前天", D(2026, 11, 27)),
    ("11月5号", D(2026, 11, 5)),       # same month, earlier day
    ("2026年3月1日", D(2026, 3, 1)),
    ("2025-12-05", D(2025, 12, 5)),
    ("上个月5号", D(2026, 10, 5)),
    ("去年12月5号", D(2025, 12, 5)),
])
def test_past_dates_keep_the_date(text, date):
    assert parse_date(text, SUN) == DateAnswer(date, None, "past")


@pytest.mark.parametrize("text,date", [
    ("10月5号", D(2027, 10, 5)),       # earlier month -> next year -> too far
    ("2027年8月1日", D(2027, 8, 1)),
    ("200天后", D(2027, 6, 17)),
])
def test_too_far_ahead(text, date):
    assert parse_date(text, SUN) == DateAnswer(date, None, "too_far")


def test_180_days_is_still_fine():
    assert parse_date("180天后", SUN).problem is None
    assert parse_date("181天后", SUN).problem == "too_far"


@pytest.mark.parametrize("text,slot", [
    ("2月30号", None), ("二月三十号下午", "下午"), ("13月5号", None), ("2026-02-30", None),
    ("三十一号", None),                # November has 30 days
    ("4月31日", None),
])
def test_impossible_dates_are_invalid(text, slot):
    assert parse_date(text, SUN) == DateAnswer(None, slot, "invalid")


@pytest.mark.parametrize("text,slot", [
    ("上午", "上午"), ("早上", "上午"), ("早晨吧", "上午"), ("中午前", "上午"), ("中午以前", "上午"),
    ("下午", "下午"), ("午后", "下午"), ("中午以后", "下午"),
    ("晚上", "晚上"), ("夜里", "晚上"), ("夜间", "晚上"), ("那就晚上吧", "晚上"),
])
def test_slot_only_answers(text, slot):
    assert parse_slot(text) == slot
    assert parse_date(text, SUN) == DateAnswer(None, slot, None)


@pytest.mark.parametrize("text", ["中午", "随便", "", "好的", "都可以"])
def test_no_slot(text):
    assert parse_slot(text) is None


@pytest.mark.parametrize("text", [
    "85岁", "我今年八十五岁", "1950年出生", "13812345678", "0512-65231234", "住5号楼",
    "3号线地铁", "3.5元", "12.5公斤", "好的", "", "不知道", "下周", "以后天天来", "过两天再说",
    "3月份", "一个月两次", "一日三餐",
])
def test_must_not_misfire(text):
    answer = parse_date(text, SUN)
    assert answer is None or answer.problem == "past"


def test_birth_date_is_past_not_a_booking():
    assert parse_date("1950年3月5日出生", SUN) == DateAnswer(D(1950, 3, 5), None, "past")
    assert parse_date("50年3月5号生的", SUN).problem == "past"


# ---------------------------------------------------------------- other weekdays / month ends

@pytest.mark.parametrize("today,text,date,problem", [
    (WED, "周三", D(2026, 12, 9), None),        # bare weekday = strictly after today
    (WED, "这周三", D(2026, 12, 2), None),      # today
    (WED, "下周三", D(2026, 12, 9), None),
    (WED, "周五", D(2026, 12, 4), None),
    (WED, "这周五", D(2026, 12, 4), None),
    (WED, "下周五", D(2026, 12, 11), None),
    (WED, "这周一", D(2026, 11, 30), "past"),
    (WED, "周一", D(2026, 12, 7), None),
    (WED, "下下周一", D(2026, 12, 14), None),
    (WED, "星期天", D(2026, 12, 6), None),
    (WED, "1号", D(2027, 1, 1), None),
    (WED, "明天", D(2026, 12, 3), None),
    (D(2026, 12, 30), "1月3号", D(2027, 1, 3), None),     # year end
    (D(2026, 12, 30), "下个月3号", D(2027, 1, 3), None),
    (D(2026, 12, 30), "5号", D(2027, 1, 5), None),
    (D(2026, 12, 30), "后天", D(2027, 1, 1), None),
    (D(2027, 1, 31), "30号", None, "invalid"),              # passed -> February 30
    (D(2028, 1, 10), "2月29号", D(2028, 2, 29), None),     # leap year
])
def test_dates_relative_to_other_days(today, text, date, problem):
    assert parse_date(text, today) == DateAnswer(date, None, problem)


# ---------------------------------------------------------------- phones

@pytest.mark.parametrize("text,expected", [
    ("13812345678", "13812345678"),
    ("138 1234 5678", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("１３８１２３４５６７８", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("+8613812345678", "13812345678"),
    ("8613812345678", "13812345678"),
    ("0086 13812345678", "13812345678"),
    ("我电话是138 1234 5678", "13812345678"),
    ("手机19912345678谢谢", "19912345678"),
    ("一三八一二三四五六七八", "13812345678"),   # dictated digits
    ("幺三八 幺二三四 五六七八", "13812345678"),
    ("0512-65231234", "0512-65231234"),
    ("051265231234", "0512-65231234"),
    ("(0512)65231234", "0512-65231234"),
    ("（0512）6523 1234", "0512-65231234"),
    ("0512 6523 1234", "0512-65231234"),
    ("65231234", "0512-65231234"),             # Suzhou local
    ("家里座机 6523-1234", "0512-65231234"),
    ("+86 512 6523 1234", "0512-65231234"),
    ("010-12345678", "010-12345678"),
    ("021 1234567", "021-1234567"),
    ("0571-8765432", "0571-8765432"),
    ("我今年85岁电话65231234", "0512-65231234"),
])
def test_parse_phone(text, expected):
    assert parse_phone(text) == expected
    assert phone_problem(text) is None


@pytest.mark.parametrize("text,problem", [
    ("1381234567", "too_short"),
    ("138 1234 567", "too_short"),
    ("138123456789", "too_long"),
    ("12812345678", "not_mobile"),
    ("12345678901", "not_mobile"),
    ("11012345678", "not_mobile"),
    ("6523123", "too_short"),
    ("652312345", "too_long"),
    ("0512-652312", "too_short"),
    ("0512-652312345", "too_long"),
    ("85岁", "too_short"),
])
def test_phone_problems(text, problem):
    assert parse_phone(text) is None
    assert phone_problem(text) == problem


@pytest.mark.parametrize("text", ["", "不知道", "明天上午", "没有电话"])
def test_no_digits_no_phone_problem(text):
    assert parse_phone(text) is None
    assert phone_problem(text) is None


# ---------------------------------------------------------------- references

@pytest.mark.parametrize("text,expected", [
    ("JY-20261129-0042", "JY-20261129-0042"),
    ("jy 20261129 0042", "JY-20261129-0042"),
    ("JY２０２６１１２９００４２", "JY-20261129-0042"),
    ("ＪＹ－２０２６１１２９－００４２", "JY-20261129-0042"),
    ("JY202611290042", "JY-20261129-0042"),
    ("LH-20261129-7", "LH-20261129-0007"),
    ("PG20261129 12", "PG-20261129-0012"),
    ("gw_20261129_0003", "GW-20261129-0003"),
    ("JY 2026 1129 0042", "JY-20261129-0042"),
    ("JY-2026-11-29-42", "JY-20261129-0042"),
    ("我的预约号是JY杠20261129杠42", "JY-20261129-0042"),
    ("单号 lh-20261201-0105 谢谢", "LH-20261201-0105"),
])
def test_parse_reference(text, expected):
    assert parse_reference(text) == expected


@pytest.mark.parametrize("text", [
    "", "abc", "不知道", "13812345678", "0512-65231234", "20261129-0042",
    "XX-20261129-0042", "JY-20261329-0042",     # unknown prefix / impossible date
    "JY-20261129-00421", "JY-2026112-42", "JY 20261129", "JY-20261129-0000",
    "ABJY-20261129-0042",
])
def test_reference_garbage(text):
    assert parse_reference(text) is None


# ---------------------------------------------------------------- service types

@pytest.mark.parametrize("text,expected", [
    ("送饭", "助餐"), ("想要送餐上门", "助餐"), ("他吃饭不方便", "助餐"), ("助餐", "助餐"),
    ("洗澡", "助浴"), ("帮老人洗澡", "助浴"),
    ("打扫", "助洁"), ("保洁", "助洁"), ("搞卫生", "助洁"), ("家里打扫卫生", "助洁"),
    ("陪看病", "助医"), ("配药", "助医"), ("陪同就医", "助医"), ("去医院看病", "助医"),
    ("康复", "康复护理"), ("按摩", "康复护理"), ("护理", "康复护理"), ("康复护理", "康复护理"),
    ("晚上陪护", "夜间照护"), ("夜间照护", "夜间照护"), ("晚上要人陪夜", "夜间照护"),
    ("评估", "上门评估"), ("上门评估", "上门评估"), ("做个护理评估", "上门评估"),
    ("不要送饭，要洗澡", "助浴"), ("不是送饭是打扫", "助洁"),
])
def test_parse_service_type(text, expected):
    assert parse_service_type(text) == expected


@pytest.mark.parametrize("text", ["", "你好", "明天上午", "13812345678", "不要送饭"])
def test_no_service_type(text):
    assert parse_service_type(text) is None
