"""Which value wins after a self-correction, and vague ages said as people say them.

Class 1: after a correction word (说错了, 看错了, 不, …) or the present state said after an earlier
one (现在/如今/其实), the first value after the last such marker wins for that fact; a mention in a
clause about the future (下个月才满), what someone else says (她自己老说) or the past (以前) never
overrides a value said plainly. Class 2: vague ages (刚过八十, 八旬, 四几年生的, 七十大几, …) give
an estimate range, never an exact age; a difference in age ("我比他大两岁") is no age.
Words: lexicon.yml `speech` (corrections, corrections_alone, present, not_current, vague_age),
`living` (alone_only, family_together).
"""
from __future__ import annotations

import datetime as dt

import pytest

from understanding.facts_extractor import extract

TODAY = dt.date(2026, 12, 1)


def run(text):
    return extract(text, today=TODAY, readings=True)


# --- 1. which value wins after a self-correction ------------------------------------------------

@pytest.mark.parametrize("text,fact,value", [
    # a later mention about the future is no override
    ("我爸今年七十四，讲错了，七十五，明年才满七十六", "age", 75),
    ("她八十八，说错了，八十七，下个月就满八十八", "age", 87),
    ("我妈八十五，下个月满八十六", "age", 85),
    # what someone else says
    ("老太太八十六，不对，八十五，她自己总说八十六", "age", 85),
    ("我妈八十一，不，八十，别人说她八十一", "age", 80),
    ("我爸七十九，他老说自己八十了", "age", 79),
    # a mistake seen, typed, remembered
    ("残疾证二级，我看错行了，四级", "disability_grade", 4),
    ("我爸残疾是一级的，刚才打错了，是三级", "disability_grade", 3),
    ("户口是外地的，我记错了，是本地的", "hukou", True),
    ("低保边缘，记岔了，是低保", "economic_status", "低保"),
    # a birth year or date corrected
    ("我爸四一年的，不对，四二年三月的", "age", 84),
    ("她1950年3月5号生的，说错了，1949年3月5号", "age", 77),
    ("奶奶三六年的，哦不对，三五年的", "age", 91),
    # the present state wins over a past one, wherever the past one is said
    ("以前跟女儿住，现在一个人住了", "living", "独居"),
    ("现在一个人住，以前跟儿子住的", "living", "独居"),
    ("原来是老两口住，老伴去年走了，现在只剩她一个了", "living", "独居"),
    ("跟孙子住的，孙子去外地读书了，如今就他一个人", "living", "独居"),
    # 其实 + a family member living with them
    ("我们两个老的住，其实儿子儿媳也住在一起", "living", "与家人同住"),
    ("老夫妻两个，其实女儿一直跟我们住一起的", "living", "与家人同住"),
    # a plain correction still wins as before
    ("她住吴中，不对，相城，她女儿住园区", "district", "相城区"),
])
def test_the_corrected_value_wins(text, fact, value):
    assert run(text).facts[fact] == value


@pytest.mark.parametrize("text", ["我爸七十九，不，七十八", "残疾证二级，我看错行了，四级", "我爸四一年的，不对，四二年三月的"])
def test_the_new_markers_are_corrections(text):
    assert "correction" in run(text).cues


@pytest.mark.parametrize("text,fact", [
    ("儿子就他一个人在上海", "living"),      # the son's state, not the elder's
    ("只有一个儿子", "living"),              # 一个 before a noun is a count
    ("儿子不住在一起", "living"),
])
def test_no_false_household(text, fact):
    assert fact not in run(text).facts


# --- 2. vague ages -------------------------------------------------------------------------------

@pytest.mark.parametrize("text,band", [
    ("我妈刚过八十", (80, 82)),
    ("他才过七十", (70, 72)),
    ("我爸七十刚过一点点", (70, 72)),
    ("我今年七十多一点", (70, 72)),
    ("我奶奶九十挂零", (90, 93)),
    ("我妈八十挂零", (80, 83)),
    ("我爸七十大几", (76, 79)),
    ("我妈八十大几了", (86, 89)),
    ("我爸八十左右", (78, 82)),
    ("她八十岁左右", (78, 82)),
    ("七十上下", (68, 72)),
    ("八旬老人", (80, 89)),
    ("年逾八旬", (80, 89)),
    ("我爸快八旬了", (77, 79)),
    ("我妈近八十了", (77, 79)),
    ("我妈四几年生的", (76, 86)),       # born 1940-1949, as of 2026-12-01
    ("我爸五几年出生的", (66, 76)),
    ("我妈40年代出生", (76, 86)),
])
def test_vague_ages_are_estimates(text, band):
    got = run(text)
    assert "age" not in got.facts
    assert got.age_range == band


@pytest.mark.parametrize("text", [
    "我老伴七十岁上下，我比他大两岁",
    "我老婆六十八，我比她大五岁",
    "四十年代的时候苏州很穷",
    "最近八十多斤",
])
def test_no_age_from_differences_or_times(text):
    got = run(text)
    assert "age" not in got.facts
    assert got.age_range is None


def test_an_exact_age_beside_a_difference_is_kept():
    assert run("老伴比我小三岁，我七十八").facts["age"] == 78
