"""Number helpers used by the fact extractor (understanding/numbers.py)."""
from __future__ import annotations

import datetime as dt

import pytest

from understanding import numbers as N


@pytest.mark.parametrize("text,expected", [
    ("85", 85),
    ("８５", 85),             # full-width digits from phone keyboards
    ("八十五", 85),
    ("九十有三", 93),         # classical: 九十有三 = 93
    ("七十有八", 78),
    ("一百零二", 102),
    ("一百零一", 101),
    ("一百", 100),
    ("一百五", 150),          # colloquial: 一百五 = 150
    ("十五", 15),
    ("二十", 20),
    ("两", 2),
    ("廿五", 25),
    ("一九五〇", 1950),       # digit by digit (years)
    ("五零", 50),
    ("三", 3),
])
def test_parse_int_reads_numbers(text, expected):
    assert N.parse_int(text) == expected


@pytest.mark.parametrize("text", [
    "", "  ", "abc", "8.5", "八十五六",  # 八十五六 = "85 or 86": not one number
    "百",                               # 百岁老人: a word, not 100
    "十百", "岁", "十有八",             # 十有八九 is an idiom
])
def test_parse_int_refuses_what_it_cannot_read(text):
    assert N.parse_int(text) is None


def test_to_halfwidth_keeps_length_so_spans_stay_valid():
    text = "我妈８５岁，ＩＤ１２３"
    out = N.to_halfwidth(text)
    assert len(out) == len(text)
    assert out == "我妈85岁，ID123"


@pytest.mark.parametrize("text,expected", [
    ("1950", 1950), ("一九五〇", 1950), ("五零", 1950), ("四一", 1941), ("50", 1950),
    ("05", 1905),      # elders first: 19xx unless that is > 125 years ago
    ("x", None), ("123", None),
])
def test_parse_year(text, expected):
    assert N.parse_year(text, dt.date(2025, 6, 1)) == expected


@pytest.mark.parametrize("birth,today,age", [
    (dt.date(1941, 3, 5), dt.date(2025, 3, 4), 83),
    (dt.date(1941, 3, 5), dt.date(2025, 3, 5), 84),
    (dt.date(1940, 2, 29), dt.date(2025, 2, 28), 84),
    (dt.date(1940, 2, 29), dt.date(2025, 3, 1), 85),
])
def test_full_years_is_birthday_aware(birth, today, age):
    assert N.full_years(birth, today) == age


def test_id_check_char_matches_the_published_example():
    # GB 11643-1999 worked example.
    assert N.id_check_char("11010519491231002") == "X"
    assert N.id_birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert N.id_birth_date("11010519491231002x") == dt.date(1949, 12, 31)


def test_id_birth_date_rejects_bad_checksum_format_and_date():
    assert N.id_birth_date("110105194912310021") is None          # wrong check char
    assert N.id_birth_date("11010519491231002") is None           # 17 chars
    assert N.id_birth_date("") is None
    first17 = "32050819410230123"                                  # 30 February
    assert N.id_birth_date(first17 + N.id_check_char(first17)) is None


def test_mask_id_never_shows_the_middle():
    masked = N.mask_id("320508194103051234")
    assert masked == "3205**********1234"
    assert len(masked) == 18
    assert N.mask_id("1234") == "****"


@pytest.mark.parametrize("text,value", [("其实医疗", 71), ("巴士", 80), ("八十三", 83), ("巴士森林", None),
                                        ("你好", None), ("是的", None), ("石油", None)])
def test_a_number_heard_as_other_words(text, value):
    from understanding.numbers import sounded_number
    assert sounded_number(text) == value
