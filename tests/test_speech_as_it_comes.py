"""Speech as it comes (issue 16): self-corrections, vague ages, numbers split by fillers and
spaces, answers split over messages, Suzhou (Wu) and elder-typed words, household, income and
health said indirectly, and policy questions that are no statements.

Understanding only (understanding/facts_extractor.py, lexicon.yml, normalizer.py); every
lexicon entry added for the issue is exercised here, in a sentence where it is natural.
"""
from __future__ import annotations

import datetime as dt

import pytest

from understanding.facts_extractor import extract
from understanding.normalizer import normalize

TODAY = dt.date(2026, 12, 1)


def run(text, requested=None):
    return extract(text, today=TODAY, requested=requested, readings=True)


def facts(text, requested=None):
    return run(text, requested).facts


# --- 1. self-corrections inside one message ----------------------------------------------------

@pytest.mark.parametrize("text,fact,value", [
    ("今年七十六哦不是七十七", "age", 77),
    ("我妈八十三，哦不是，八十四", "age", 84),
    ("今年七十六不是不是七十七", "age", 77),
    ("我爸八十二，应该是八十三", "age", 83),
    ("我爸七十九岁，我是说八十九岁", "age", 89),       # 我是说: still the father's age
    ("我今年七十，我是说八十", "age", 80),
    ("85岁噢不是87岁", "age", 87),
    ("住吴中，不对，是相城", "district", "相城区"),
    ("她住木渎啊不光福", "district", "吴中区"),         # 啊不 does not negate 光福
    ("住在昆山哦不对是太仓", "district", "太仓市"),
    ("低保，哦不对是低保边缘", "economic_status", "低保边缘"),
    ("低保，说错了，是特困", "economic_status", "特困"),
    ("我是低保户，更正一下，低保边缘户", "economic_status", "低保边缘"),
    ("一个人住，不对，和老伴两个人住", "living", "空巢"),
    ("她一个人住，其实是跟女儿住", "living", "与家人同住"),
    ("户口其实还在安徽老家", "hukou", False),
    ("户口实际上在苏州", "hukou", True),
    # a bare value after the marker answers the fact just corrected
    ("户口是本地的，哦不是，外地的", "hukou", False),
    ("有医保，呃不对，没有", "medical_insured", False),
    ("低保户，搞错了，都不是", "economic_status", "一般"),
    ("独居，讲错了，和儿子", "living", "与家人同住"),
])
def test_the_last_value_said_wins(text, fact, value):
    assert facts(text)[fact] == value


@pytest.mark.parametrize("text", [
    "今年七十六哦不是七十七", "住吴中，不对，是相城", "低保，哦不对是低保边缘", "不对，她88了",
    "不对，88", "我说错了，户口是外地的", "我爸八十二，应该是八十三", "纠正一下，他有苏州户口",
    "我妈八十二，其实八十多", "弄错了，是园区",
])
def test_a_correction_is_a_cue(text):
    assert "correction" in run(text).cues


@pytest.mark.parametrize("text", [
    "我妈八十三岁", "是82岁不是72岁",   # plain 不是 says what it is not
    "不对的", "不对，不是这样", "不对",   # no value follows
    "其实我也不清楚",
])
def test_no_correction_cue(text):
    assert "correction" not in run(text).cues


def test_plain_contrast_is_no_correction():
    assert facts("更正一下，是82岁不是72岁")["age"] == 82
    assert facts("我爸八十五不是八十六")["age"] == 85


def test_a_marker_at_the_start_still_negates():
    """"哦，不是低保" says what it is not: nothing was said before the marker."""
    assert facts("哦，不是低保")["economic_status"] == "一般"
    assert facts("啊不是苏州户口")["hukou"] is False


def test_every_correction_marker_of_the_lexicon_works():
    from understanding.facts_extractor import lexicon
    for marker in lexicon().d["speech"]["corrections"]:
        got = run(f"住吴中，{marker}，是相城")
        assert got.facts["district"] == "相城区", marker
        assert "correction" in got.cues, marker


# --- 2. vague ages -----------------------------------------------------------------------------

@pytest.mark.parametrize("text,band", [
    ("八十出头", (80, 83)),
    ("我妈八十岁出头", (80, 83)),
    ("快九十了", (87, 89)),
    ("她快要九十岁了", (87, 89)),
    ("老爷子就快九十了", (87, 89)),
    ("我爸就要八十了", (77, 79)),
    ("马上八十了", (78, 79)),
    ("我妈马上就八十了", (78, 79)),
    ("我婆婆马上就要九十了", (88, 89)),
    ("将近八十", (77, 79)),
    ("接近九十的人了", (87, 89)),
    ("我外婆眼看九十了", (87, 89)),
    ("我外公眼看就九十了", (87, 89)),
    ("七十好几", (74, 79)),
    ("我爸七十好几了", (74, 79)),
    ("九十来岁", (88, 92)),
    ("九十岁左右", (88, 92)),
    ("八十上下", (78, 82)),
    ("八十多岁", (81, 89)),
    ("八十多", (81, 89)),
    ("我妈八十多了", (81, 89)),
    ("她80多岁", (81, 89)),
    ("八十几岁了", (81, 89)),
    ("我爷爷八十开外了", (81, 89)),
    ("奔九十的人了", (86, 89)),
    ("七十多快八十", (77, 79)),
    ("我妈七十多岁，快八十了", (77, 79)),
    ("不到八十", (75, 79)),
    ("我爸还没到八十", (75, 79)),
    ("我妈没到八十", (75, 79)),
    ("老太太不满八十岁", (75, 79)),
    ("大概八十", (78, 82)),
    ("我妈大约九十岁", (88, 92)),
    ("邻居代问 老人约80岁 吴中 独居", (78, 82)),
    ("我爸差不多八十了", (78, 82)),
    ("估计八十了", (78, 82)),
    ("虚岁九十", (88, 89)),
    ("我妈已经过了八十了", (80, 85)),
    ("我爸上了八十了", (80, 85)),
    ("我妈超过八十岁了", (81, 89)),
    ("八十五六岁", (85, 86)),
    ("七八十岁了", (70, 80)),
    ("今年八十多", (81, 89)),
    ("八十多的老太太了", (81, 89)),
    ("我家老人九十多高龄了", (91, 99)),
])
def test_vague_ages_give_a_range_not_an_age(text, band):
    got = run(text)
    assert "age" not in got.facts
    assert got.age_range == band
    assert "age" not in got.readings  # "八十出头" is not 80


@pytest.mark.parametrize("text", [
    "我妈八十多斤",            # a weight
    "我爸退休金八十多",        # money
    "我们小区八十多个老人",    # a count
    "住了八十多年",
    "快八十的时候搬来的",      # a time
    "等他过了八十岁会不会有尊老金",  # a coming age
    "我儿子五十多了",          # someone else
    "伲子五十多了",
    "八十多岁的老人有什么补贴",  # a category in a policy question
    "如果八十多岁呢",          # a supposition
    "血压一百四十多",
    "我妈八十三岁",            # exact
])
def test_no_age_range(text):
    assert run(text).age_range is None


def test_an_exact_age_wins_over_a_vague_one():
    got = run("我妈八十多了，今年八十三")
    assert got.facts["age"] == 83 and got.age_range is None
    got = run("我妈八十二，其实八十多")  # …unless the vague one corrects it
    assert "age" not in got.facts and got.age_range == (81, 89)


def test_a_vague_age_is_no_bare_age_answer():
    got = run("八十出头", requested="age")
    assert "age" not in got.facts and got.age_range == (80, 83)
    assert run("七十多快八十").cues == set()  # 多快 asks nothing here


# --- 3. numbers split by fillers and spaces ------------------------------------------------------

@pytest.mark.parametrize("text,age", [
    ("八十 嗯 八十二", 82),
    ("八十那个八十二岁", 82),
    ("我妈八十 八十二了", 82),
    ("今年九十 呃 九十一", 91),
    ("今年 八 十 三", 83),
    ("今 年 八 十 三 岁", 83),
    ("我 妈 今 年 嗯 七 十 九", 79),
])
def test_numbers_said_in_pieces(text, age):
    got = run(text)
    assert got.facts.get("age", got.readings.get("age")) == age


@pytest.mark.parametrize("text,expected", [
    ("八十 嗯 八十二", "八十二"),
    ("八十那个八十二岁", "82岁"),
    ("今年 八 十 三", "今年 83"),
    ("我 妈 住 吴 中", "我妈住吴中"),
    ("八 十", "八十"),
    ("今年七十六不是不是七十七", "今年76不是不是七十七"),  # a correction, not a stutter
])
def test_normaliser_joins_what_was_typed_apart(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize("text", ["女 76 常熟 本地", "老人 男 独居 半 失能", "男 78 姑苏 低保 独居"])
def test_operator_shorthand_keeps_its_spaces(text):
    assert normalize(text) == text


def test_full_width_and_traditional_input():
    assert facts("我媽今年８７歲，一個人住，戶口在蘇州")["age"] == 87
    got = facts("我媽今年８７歲，一個人住，戶口在蘇州")
    assert got["living"] == "独居" and got["hukou"] is True
    assert facts("低保戶")["economic_status"] == "低保"
    assert facts("長期臥床")["care_level"] == "重度失能"
    assert facts("伊一家頭住")["living"] == "独居"


# --- 4. an answer split over messages ----------------------------------------------------------

@pytest.mark.parametrize("text", ["我今年", "她住在", "户口是", "我妈今年", "我妈是", "我家在", "我爸年纪",
                                  "户籍在", "医保是", "我跟", "她和", "我今年…", "她住在，"])
def test_an_unfinished_message_is_a_cue(text):
    got = run(text)
    assert "incomplete" in got.cues
    assert "dont_know" not in got.cues and got.readings == {}


@pytest.mark.parametrize("text", ["我是", "有", "是", "没有", "两个老人住", "嗯，八十一了，住在相城，老伴还在",
                                  "免费体检要多大年纪", "跟儿子住", "否 不属于", "我今年八十一",
                                  "我姥爷今年九十，跟我舅舅一家住"])
def test_a_whole_message_is_not_unfinished(text):
    assert "incomplete" not in run(text).cues


def test_the_rest_of_a_split_answer_reads_as_an_age():
    assert run("八十一").readings["age"] == 81
    assert run("八十一", requested="age").facts["age"] == 81
    assert run("81").readings["age"] == 81


# --- 5. Suzhou (Wu) and elder-typed words -------------------------------------------------------

@pytest.mark.parametrize("text,living", [
    ("一家头", "独居"), ("伊一家头住", "独居"), ("伲娘一家头过", "独居"), ("一个人过", "独居"), ("孤老", "独居"),
    ("平常独自一人", "独居"), ("自家一个人", "独居"),
    ("两家头", "空巢"), ("伲两家头住在相城", "空巢"), ("老两口", "空巢"), ("就我们两个老的", "空巢"),
    ("两个老的住", "空巢"), ("就两个老的", "空巢"), ("老两个住", "空巢"), ("两老口过日子", "空巢"),
    ("跟小辈一道住", "与家人同住"), ("和伲子一淘住", "与家人同住"), ("跟囡儿一道", "与家人同住"),
    ("和儿子一淘", "与家人同住"),
])
def test_wu_words_for_living(text, living):
    assert facts(text)["living"] == living


@pytest.mark.parametrize("text,living", [("一家头", "独居"), ("两家头", "空巢")])
def test_wu_words_answer_the_living_question(text, living):
    assert facts(text, requested="living")["living"] == living


@pytest.mark.parametrize("text,expected", [
    ("伲住在吴中", {"subject": "self", "district": "吴中区"}),
    ("伲一家头住在黄埭", {"subject": "self", "living": "独居"}),
    ("伲娘八十二了", {"subject": "relative", "age": 82}),
    ("伲爷住在吴中", {"subject": "relative", "district": "吴中区"}),
    ("伲姆妈八十", {"subject": "relative", "age": 80}),
    ("伲家娘住在园区", {"subject": "relative", "district": "苏州工业园区"}),
    ("我娘今年八十四", {"subject": "relative", "age": 84}),
    ("俺娘九十了", {"age": 90}),
    ("阿婆今年八十六", {"subject": "relative", "age": 86}),
    ("娘娘七十九，一家头住", {"subject": "relative", "age": 79, "living": "独居"}),
    ("阿爹八十六住在渭塘", {"subject": "relative", "age": 86}),
    ("我阿爷九十了", {"subject": "relative", "age": 90}),
    ("老太婆今年八十一", {"age": 81}),
    ("好婆九十一了", {"subject": "relative", "age": 91}),
])
def test_wu_words_for_people(text, expected):
    got = facts(text)
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize("text", ["伲子五十八了", "我姑娘五十八了", "伲囡囡今年五十", "小囡十岁", "囡儿六十了"])
def test_wu_words_for_children_are_someone_else(text):
    assert "age" not in facts(text)


@pytest.mark.parametrize("text", ["伲屋里是低保户", "伲家是低保户"])
def test_a_household_is_not_the_speaker(text):
    got = facts(text)
    assert got["economic_status"] == "低保" and got.get("subject") is None


@pytest.mark.parametrize("text,relation", [
    ("伲娘八十二了", "子女"), ("伲爷住在吴中", "子女"), ("伲家爷八十", "子女"), ("伲姆妈八十", "子女"),
    ("我娘八十", "子女"), ("伲家姆妈住在相城", "子女"),
    ("阿婆今年八十六", "其他亲属"), ("阿爹住在渭塘", "其他亲属"), ("娘娘一家头住", "其他亲属"),
    ("我阿婆八十", "其他亲属"), ("伲好婆九十", "其他亲属"), ("我阿爹八十", "其他亲属"), ("伲阿爷九十", "其他亲属"),
    ("我娘娘八十", "其他亲属"),
])
def test_wu_words_name_the_relation(text, relation):
    assert run(text).relation == relation


@pytest.mark.parametrize("text,fact,value", [
    ("勿是低保", "economic_status", "一般"),
    ("弗是低保户", "economic_status", "一般"),
    ("低保勿是", "economic_status", "一般"),
    ("户口勿在苏州", "hukou", False),
    ("户口弗在苏州，在苏北", "hukou", False),
    ("弗是本地户口", "hukou", False),
    ("本地户口弗是", "hukou", False),
    ("勿是苏州户口", "hukou", False),
    ("呒没苏州户口", "hukou", False),
    ("苏州户口呒没", "hukou", False),
    ("呒没有苏州户口", "hukou", False),
    ("嘸没苏州户口", "hukou", False),
    ("没得苏州户口", "hukou", False),
    ("勿参加医保", "medical_insured", False),
    ("弗参加医保", "medical_insured", False),
    ("医保弗是苏州的", "medical_insured", False),
    ("医保勿在苏州", "medical_insured", False),
    ("没得残疾证", "disability_grade", "none"),
    ("勿是失独家庭", "family_planning_special", False),
])
def test_wu_negation(text, fact, value):
    assert facts(text)[fact] == value


@pytest.mark.parametrize("text,requested,value", [
    ("是格", "hukou", True), ("有格", "medical_insured", True), ("对格", "family_caregiver", True),
    ("勿是", "hukou", False), ("弗是", "family_planning_special", False), ("呒没", "dementia", False),
    ("勿有", "emergency", False), ("弗有", "medical_insured", False), ("勿对", "hukou", False),
    ("弗对", "care_assessed", False),
    ("勿是", "economic_status", "一般"), ("弗是", "economic_status", "一般"), ("呒没", "economic_status", "一般"),
])
def test_wu_yes_and_no(text, requested, value):
    assert facts(text, requested=requested)[requested] == value
    assert run(text).readings[requested] == value


@pytest.mark.parametrize("text", ["勿是", "勿是额", "弗是格"])
def test_wu_no_is_never_heard_as_a_number(text):
    """勿是 sounds like 五十: a reply that starts with a yes or no is no spoken age."""
    assert "age" not in run(text).readings


@pytest.mark.parametrize("text", ["勿晓得", "弗晓得呀", "勿知道", "弗知道", "伲也勿清爽", "弗清爽", "勿清楚", "弗清楚",
                                  "勿记得了", "弗记得"])
def test_wu_dont_know(text):
    assert "dont_know" in run(text).cues


@pytest.mark.parametrize("text", ["覅问了，直接讲", "勿要问了", "弗要问了"])
def test_wu_impatient(text):
    assert "impatient" in run(text).cues


@pytest.mark.parametrize("text,level", [
    ("买汰烧都自己来", "能力完好"), ("买汰烧自己弄", "能力完好"), ("平常自己买汰烧", "能力完好"),
    ("买汰烧全是自己", "能力完好"), ("买汰烧都是自己做", "能力完好"), ("买汰烧全靠自己", "能力完好"),
    ("买汰烧都弄得来", "能力完好"), ("买汰烧没问题", "能力完好"), ("买菜烧饭都自己", "能力完好"),
    ("还能自己买菜烧饭", "能力完好"), ("自己买菜做饭", "能力完好"), ("买菜做饭都自己来", "能力完好"),
    ("都自家来", "能力完好"), ("样样自家来", "能力完好"), ("自家弄得来", "能力完好"), ("都自家弄", "能力完好"),
    ("自家照顾自家", "能力完好"), ("样样自己来", "能力完好"), ("里里外外都自己弄", "能力完好"),
    ("洗澡弄勿动", "轻度失能"), ("洗澡弄弗动", "轻度失能"), ("走路勿动了", "轻度失能"), ("走路弗动", "轻度失能"),
    ("穿衣服勿来事", "轻度失能"), ("穿衣服弗来事", "轻度失能"), ("洗澡勿来三", "轻度失能"), ("洗澡弗来三", "轻度失能"),
    ("走路勿灵", "轻度失能"), ("走路弗灵", "轻度失能"), ("走路不灵光", "轻度失能"), ("走路吃力", "轻度失能"),
    ("走路吃力，洗澡弄勿动", "轻度失能"),
    ("吃饭自家来，洗澡要人帮", "轻度失能"), ("吃饭来事，洗澡要人帮", "轻度失能"), ("穿衣来三，洗澡要人帮", "轻度失能"),
])
def test_wu_words_for_self_care(text, level):
    got = run(text)
    assert got.facts["care_level"] == level and "care_level" in got.estimated


@pytest.mark.parametrize("text", [
    # a household task done by oneself (care_level.self_managed: tasks × self / fine)
    "买汰烧都自己来", "买菜烧饭自己来", "买菜做饭都自己", "烧饭做菜没问题", "洗衣烧饭都自己弄", "烧饭自己烧",
    "做饭都是自己", "家务都是自己做", "家务活自己干", "样样自家来", "里里外外都自己弄", "她自己会做饭",
    "自家买汰烧", "买汰烧弄得来", "买汰烧来事", "买汰烧来三", "家务都会做", "家务都能做", "家务活都做得了",
    # the body said to be well (body × degree × good)
    "身体好", "身子骨还硬朗", "身子还好", "身体蛮好的", "身体挺不错", "身体很健康", "身体都还好", "身体也好",
    "身体倒好", "身体倒是不错", "身体一直很好", "身体还算健康", "身体算硬朗", "身体比较结实", "身体还是可以的",
    "身体还行的", "身体好得很",
])
def test_self_managed_everyday_words(text):
    got = run(text)
    assert got.facts["care_level"] == "能力完好" and "care_level" in got.estimated


@pytest.mark.parametrize("text", [
    "身体不好", "身体好不了", "身体勿好", "身子骨弗灵", "身体还好吗", "身体可以么", "身体好呢？",  # not_after / questions
    "她自己不会做饭", "买汰烧自己弄勿动", "烧饭自己弗来", "做饭自己没力气", "做饭自己难", "烧饭自己吃力",
    "家务自己费劲", "儿子自己做饭", "不是自己做饭",
])
def test_self_managed_words_that_say_otherwise(text):
    assert facts(text).get("care_level") != "能力完好"


# --- 6. household and income said indirectly ---------------------------------------------------

@pytest.mark.parametrize("text,value", [
    ("我妈吃低保的", "低保"), ("家里拿低保", "低保"), ("领低保的", "低保"), ("享受低保", "低保"), ("是低保户", "低保"),
    ("五保户", "特困"), ("村里的五保", "特困"),
    ("一般家庭", "一般"), ("普通家庭", "一般"), ("普通人家", "一般"), ("条件一般", "一般"), ("工薪家庭", "一般"),
    ("退休工资够用", "一般"), ("有退休金", "一般"), ("一般人家", "一般"), ("普通的家庭", "一般"),
    ("工薪阶层", "一般"), ("家庭一般", "一般"), ("家里一般", "一般"), ("条件一般般", "一般"),
    ("经济条件普通", "一般"), ("收入一般", "一般"), ("拿退休工资的", "一般"), ("拿退休金", "一般"),
    ("每月领退休金", "一般"), ("领养老金", "一般"), ("拿养老金", "一般"), ("有劳保", "一般"),
])
def test_economic_status_said_indirectly(text, value):
    assert facts(text)["economic_status"] == value


@pytest.mark.parametrize("text", ["一般家庭", "一般人家", "普通人家", "工薪家庭", "一般般", "普通家庭"])
def test_a_bare_household_answer(text):
    got = run(text)
    assert got.readings.get("economic_status", got.facts.get("economic_status")) == "一般"
    assert facts(text, requested="economic_status")["economic_status"] == "一般"
    assert "age" not in got.readings  # the 一 of 一般 is no age


@pytest.mark.parametrize("text", ["五保户", "两家头", "一家头", "和子女一起", "跟子女一起住", "经济一般"])
def test_a_numeral_inside_a_word_is_no_age(text):
    assert "age" not in run(text).readings


@pytest.mark.parametrize("text,living", [("跟儿子住", "与家人同住"), ("和子女一起", "与家人同住"),
                                         ("平时跟女儿一家住", "与家人同住")])
def test_living_with_family(text, living):
    assert facts(text)["living"] == living


def test_children_far_away_decide_no_living():
    assert "living" not in facts("儿女不在身边")
    assert "living" not in facts("子女都不在身边")


# --- 7. health said indirectly, also after a run-on --------------------------------------------

@pytest.mark.parametrize("text,level", [
    ("身体挺好的", "能力完好"), ("身体还硬朗", "能力完好"), ("能自己照顾自己", "能力完好"),
    ("身体还好", "能力完好"), ("身体不错", "能力完好"), ("身体还不错的", "能力完好"), ("身体蛮好的", "能力完好"),
    ("身体健康", "能力完好"), ("身体还健康", "能力完好"), ("身体好得很", "能力完好"), ("身子骨硬朗", "能力完好"),
    ("腿脚不灵便走路要扶", "轻度失能"),
    ("在床上躺了半年", "重度失能"), ("床上躺了三年了", "重度失能"), ("一直在床上躺着", "重度失能"),
    ("天天床上躺着", "重度失能"), ("躺床上起不来", "重度失能"), ("生活不能自理", "重度失能"),
    ("吃喝拉撒都要人", "重度失能"), ("吃喝拉撒都要人管", "重度失能"), ("吃喝拉撒都在床上", "重度失能"),
    ("生活不能自己料理", "重度失能"),
])
def test_health_said_indirectly(text, level):
    got = run(text)
    assert got.facts["care_level"] == level and "care_level" in got.estimated


@pytest.mark.parametrize("text,expected", [
    ("我妈今年八十二住在吴中一个人住身体挺好的",
     {"age": 82, "district": "吴中区", "living": "独居", "care_level": "能力完好"}),
    ("我爸八十多了住在相城跟我们住身体还硬朗买汰烧都自己来",
     {"district": "相城区", "living": "与家人同住", "care_level": "能力完好"}),
    ("伲娘九十一了一家头住在黄埭在床上躺了半年了",
     {"age": 91, "living": "独居", "care_level": "重度失能"}),
    ("老人家住在园区吃低保的生活不能自理",
     {"district": "苏州工业园区", "economic_status": "低保", "care_level": "重度失能"}),
])
def test_run_on_messages(text, expected):
    got = facts(text)
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize("text", ["记性越来越差", "我妈记性不好，老忘事", "有点健忘"])
def test_forgetfulness_is_not_dementia(text):
    assert "dementia" not in facts(text)


# --- 8. questions are not statements --------------------------------------------------------------

@pytest.mark.parametrize("text,fact", [
    ("吴江的急难救助多久能拿到钱", "emergency"),
    ("急难救助几天能拿到钱", "emergency"),
    ("急难型救助要什么条件", "emergency"),
    ("低保户能领什么", "economic_status"),
    ("低保户的补贴有哪些", "economic_status"),
    ("五保户去哪里申请", "economic_status"),
    ("请问低保户几号发钱", "economic_status"),
    ("特困人员的护理补贴怎么算", "economic_status"),
    ("失能老人长护险怎么申请", "care_level"),
    ("半失能老人的补贴有多少", "care_level"),
    ("八十岁以上有什么补贴", "age"),
    ("九十岁的补贴有多少", "age"),
    ("独居老人有什么服务", "living"),
    ("空巢老人的服务怎么申请", "living"),
    ("失独家庭的扶助金每个月几号发", "family_planning_special"),
    ("老年痴呆的老人有什么政策帮扶", "dementia"),
    ("三级残疾有生活补贴吗", "disability_grade"),
    ("外地户口的老人在苏州能享受什么", "hukou"),
])
def test_a_fact_word_in_a_policy_question_records_nothing(text, fact):
    assert fact not in facts(text)


@pytest.mark.parametrize("text,fact,value", [
    ("我妈是低保户，能领什么", "economic_status", "低保"),
    ("我妈是低保户能领什么", "economic_status", "低保"),
    ("我是五保户，去哪里申请", "economic_status", "特困"),
    ("家里出了车祸，急难救助怎么申请", "emergency", True),
    ("我爸半失能，长护险怎么申请", "care_level", "中度失能"),
    ("我是独居老人，有什么服务", "living", "独居"),
    ("我是独居老人有什么服务", "living", "独居"),
    ("我妈九十岁的补贴有多少", "age", 90),
    ("老人家半失能有什么补贴", "care_level", "中度失能"),
])
def test_a_statement_followed_by_a_question_records_the_fact(text, fact, value):
    assert facts(text)[fact] == value


def test_every_policy_word_and_head_makes_a_qualifier():
    from understanding.facts_extractor import lexicon
    qq = lexicon().d["question_qualifier"]
    for word in qq["heads"] + qq["policy_words"]:
        assert "economic_status" not in facts(f"特困{word}怎么弄"), word
        assert facts(f"我是特困，{word}怎么弄")["economic_status"] == "特困", word
    for word in qq["question_words"]:
        assert "economic_status" not in facts(f"特困的补贴{word}"), word
    for opener in qq["openers"]:
        assert "economic_status" not in facts(f"{opener}特困去哪里申请"), opener


# --- how it reaches Rasa and the actions --------------------------------------------------------

def test_rasa_message_carries_the_range_and_the_cues():
    pytest.importorskip("rasa")
    from rasa.shared.nlu.training_data.message import Message

    from nlu_components.fact_extractor import FactExtractor

    messages = [Message(data={"text": "我妈快九十了"}), Message(data={"text": "我妈八十三岁"}),
                Message(data={"text": "我今年"}), Message(data={"text": "我妈八十三，哦不是，八十四"})]
    FactExtractor.create({}, None, None, None).process(messages)
    assert messages[0].get("age_range") == [87, 89]
    assert not [e for e in messages[0].get("entities") if e["entity"] == "age"]
    assert messages[1].get("age_range") is None
    assert "incomplete" in messages[2].get("cues")
    assert "correction" in messages[3].get("cues")
    assert {e["entity"]: e["value"] for e in messages[3].get("entities")}["age"] == 84
    out = messages[0].as_dict(only_output_properties=True)
    assert out["age_range"] == [87, 89]  # what Rasa puts in the parse data (tracker.latest_message)


def test_turn_reads_the_range():
    from actions.turn import turn_from_message
    turn = turn_from_message({"text": "快九十了", "age_range": [87, 89], "cues": ["correction"]})
    assert turn.age_range == (87, 89) and "correction" in turn.cues
    assert turn_from_message({"text": "82"}).age_range is None
    assert turn_from_message({"text": "x", "age_range": "junk"}).age_range is None
