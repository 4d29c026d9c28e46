"""Behaviour of the deterministic fact extractor (understanding/facts_extractor.py).

Values must be exactly the canonical ones of policy_kb/facts.yml.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from understanding.facts_extractor import ExtractionResult, Extracted, estimate_care_level, extract

TODAY = dt.date(2025, 6, 1)
FACTS_YML = Path(__file__).resolve().parents[1] / "policy_kb" / "facts.yml"


def facts(text, requested=None):
    return extract(text, today=TODAY, requested=requested).facts


def make_id(birth: str, area: str = "320508", seq: str = "123") -> str:
    """A valid 18-digit ID: check character computed here, independently of the code."""
    first17 = area + birth + seq
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights)) % 11]


def bad_checksum(id_number: str) -> str:
    last = id_number[-1]
    return id_number[:-1] + ("0" if last != "0" else "1")


# --- age ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text,age", [
    ("85岁", 85),
    ("八十五岁", 85),
    ("85周岁", 85),
    ("85 岁", 85),
    ("今年八十五", 85),
    ("今年85了", 85),
    ("她今年九十有三", 93),
    ("九十有三", 93),
    ("一百零二岁", 102),
    ("年纪85", 85),
    ("年龄：81", 81),
    ("我妈八十五", 85),
    ("我爸82岁，住姑苏区", 82),
    ("老人九十岁了吃饭都要人喂", 90),
    ("我婆婆住在吴江平望镇，七十九了", 79),
    ("老爷子今年整八十", 80),
    ("刚满60", 60),
    ("下个月就满80了，现在79", 79),       # 就满80 is the future
    ("虚岁九十，实岁八十九", 89),          # 虚岁 is not the age
    ("八十四岁半", 84),
    ("我爸中风了半边不能动今年七十六住吴中", 76),
    ("男 78 姑苏 低保 独居", 78),          # operator shorthand with a gender marker
    ("84/姑苏/低保/独居/半失能", 84),      # a lone number among other facts
])
def test_age_is_read(text, age):
    assert facts(text)["age"] == age


@pytest.mark.parametrize("text", [
    "85",                     # bare number without a question asked
    "八十五",
    "快90了",                 # do not guess
    "八十多岁了",
    "六十出头",
    "我住了20年",
    "2个孩子",
    "我有2个孩子",
    "我妈电话13812345678",
    "打0512-65201234找我",
    "80岁以上有高龄津贴吗",   # a threshold in a question
    "百岁老人有什么补贴",
    "我儿子今年50",           # someone else's age
    "孙女15岁",
    "老伴享年80岁",
    "今年8月去体检",
    "住在3楼",
    "1950年参加工作",          # a year without 出生 is not a birth year
])
def test_age_must_not_misfire(text):
    assert "age" not in facts(text)


@pytest.mark.parametrize("text,age", [
    ("1950年出生", 75),
    ("50年出生的", 75),
    ("四一年的", 84),
    ("我外公一九三九年生的", 86),
    ("我奶奶生于1932年", 93),
    ("出生日期1942年3月5日", 83),
    ("1941年3月5日出生", 84),
    ("1941年6月2日出生", 83),      # birthday tomorrow
    ("1941年6月1日出生", 84),      # birthday today
    ("1941.6.5出生", 83),
    ("我妈生日是1941年10月", 83),  # month known: not yet this year
    ("我爸属虎的，1938年", 87),
])
def test_birth_year_or_date_gives_full_years(text, age):
    assert facts(text)["age"] == age


@pytest.mark.parametrize("text,problem", [
    ("200岁", "age_out_of_range"),
    ("年龄150", "age_out_of_range"),
    ("1850年出生", "age_out_of_range"),
    ("2030年出生", "birth_date_in_future"),
    ("2025年12月1日出生", "birth_date_in_future"),
    ("1950年13月5日出生", "birth_date_invalid"),
])
def test_absurd_ages_are_problems_not_facts(text, problem):
    result = extract(text, today=TODAY)
    assert "age" not in result.facts
    assert problem in result.problems


# --- ID numbers ------------------------------------------------------------------------

def test_valid_id_number_gives_age_and_is_never_echoed():
    id_number = make_id("19410305")
    result = extract(f"老人身份证号{id_number}", today=TODAY)
    assert result.facts["age"] == 84
    span = next(s for s in result.spans if s.fact == "age")
    assert span.text == id_number[:4] + "*" * 10 + id_number[-4:]
    assert id_number not in repr(result)
    assert id_number[6:14] not in repr(result)  # not even the birth-date digits


def test_id_number_ending_in_x():
    id_number = "11010519491231002X"
    result = extract(f"身份证{id_number.lower()}", today=TODAY)
    assert result.facts["age"] == 75
    assert id_number.lower() not in repr(result)


def test_id_birthday_is_respected():
    assert facts("身份证号" + make_id("19410602")) == {"age": 83}
    assert facts("身份证号" + make_id("19410601")) == {"age": 84}


def test_invalid_id_checksum_is_a_problem_and_gives_no_age():
    id_number = bad_checksum(make_id("19410305"))
    result = extract(f"我的身份证号是{id_number}", today=TODAY)
    assert "age" not in result.facts
    assert result.problems == ["id_number_invalid"]
    assert id_number not in repr(result)


def test_incomplete_id_number_is_a_problem():
    result = extract("身份证是3205031940xxxxxxxx", today=TODAY)
    assert "age" not in result.facts
    assert "id_number_invalid" in result.problems


def test_id_with_a_future_birth_date():
    result = extract("身份证" + make_id("20300101"), today=TODAY)
    assert "age" not in result.facts
    assert "birth_date_in_future" in result.problems


def test_phone_number_is_neither_age_nor_id():
    result = extract("我电话是13812345678，我妈85岁", today=TODAY)
    assert result.facts["age"] == 85
    assert result.problems == []
    result = extract("身份证丢了，电话13812345678", today=TODAY)
    assert result.facts == {} and result.problems == []


def test_digits_of_an_id_never_leak_into_other_spans():
    id_number = make_id("19410305")
    result = extract(f"身份证{id_number}我在家照顾", today=TODAY)
    assert result.facts["family_caregiver"] is True
    for span in result.spans:
        assert id_number[:10] not in span.text and id_number[-8:] not in span.text


# --- district -------------------------------------------------------------------------------

@pytest.mark.parametrize("text,district", [
    ("姑苏区", "姑苏区"),
    ("住在沧浪那边", "姑苏区"),
    ("老家金阊区的", "姑苏区"),
    ("我住在平江路附近", "姑苏区"),
    ("高新区", "虎丘区"),
    ("在苏州高新区枫桥", "虎丘区"),
    ("住在新区", "虎丘区"),
    ("浒墅关", "虎丘区"),
    ("住在园区", "苏州工业园区"),
    ("工业园区", "苏州工业园区"),
    ("在胜浦", "苏州工业园区"),
    ("常熟", "常熟市"),
    ("沙家浜那边", "常熟市"),
    ("在昆山花桥", "昆山市"),
    ("在周庄", "昆山市"),
    ("吴江同里", "吴江区"),
    ("家在震泽", "吴江区"),
    ("住甪直", "吴中区"),
    ("在吴中区东山镇", "吴中区"),
    ("住在沧浪新城", "吴中区"),     # 沧浪新城 lies in 吴中区, not 姑苏
    ("我们是渭塘的", "相城区"),
    ("住在张家港杨舍镇", "张家港市"),
    ("在凤凰镇", "张家港市"),
    ("在浏河", "太仓市"),
])
def test_district_aliases(text, district):
    assert facts(text)["district"] == district


@pytest.mark.parametrize("text", [
    "浦东新区",            # 新区 elsewhere
    "养老园区",
    "住在苏州",
    "户口在昆山",          # 户籍, not residence
    "昆山户口",
    "不住在昆山",
])
def test_district_must_not_misfire(text):
    assert "district" not in facts(text)


def test_district_correction_and_negation():
    assert facts("搞错了，住在相城不是姑苏")["district"] == "相城区"
    assert facts("应该是昆山，不是太仓")["district"] == "昆山市"
    assert facts("以前住昆山，现在搬到园区了")["district"] == "苏州工业园区"


# --- hukou -------------------------------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    ("苏州户口", True),
    ("本地户口", True),
    ("苏州户籍", True),
    ("本地户籍", True),
    ("户口在苏州", True),
    ("户口在园区", True),
    ("户口早就迁到苏州了", True),
    ("是新苏州人，户口早就落了", True),
    ("外地户口", False),
    ("外地户籍", False),
    ("户口在老家", False),
    ("户口还在老家河南", False),
    ("不是苏州户口", False),
    ("我妈没有苏州户口", False),
    ("户口不在苏州", False),
    ("户口没迁过来", False),
    ("有居住证，户口在山东", False),
])
def test_hukou(text, value):
    assert facts(text)["hukou"] is value


def test_hukou_question_is_not_a_fact():
    assert "hukou" not in facts("外地户口能申请吗")
    assert "hukou" not in facts("需要苏州户口吗")


# --- care level -------------------------------------------------------------------------

@pytest.mark.parametrize("text,level,estimated", [
    ("中度失能", "中度失能", False),
    ("能力完好", "能力完好", False),
    ("自理", "能力完好", True),
    ("生活能自理", "能力完好", True),
    ("身体硬朗", "能力完好", True),
    ("半失能", "中度失能", True),
    ("失能", "重度失能", True),
    ("卧床不起", "重度失能", True),
    ("瘫痪在床三年了", "重度失能", True),
    ("吃喝拉撒都要人照顾", "重度失能", True),
    ("昏迷好几个月了", "完全失能", True),
    ("植物人", "完全失能", True),
    ("不能自理", "重度失能", True),        # not 自理
    ("评估得分50分", "中度失能", False),
    ("评估得分90分", "能力完好", False),
    ("评估得分70分", "轻度失能", False),
    ("评估得分35分", "重度失能", False),
    ("评估得分20分", "完全失能", False),
])
def test_care_level(text, level, estimated):
    result = extract(text, today=TODAY)
    assert result.facts["care_level"] == level
    assert ("care_level" in result.estimated) is estimated
    span = next(s for s in result.spans if s.fact == "care_level")
    assert span.estimated is estimated


@pytest.mark.parametrize("text", [
    "失能老人有什么补贴",        # a question about the category
    "不是半失能",
    "我想问长期护理保险怎么申请",
    "失能等级评估怎么申请",
    "儿子工伤瘫痪了",            # someone else
    "我一个人带着瘫痪的老伴",
])
def test_care_level_must_not_misfire(text):
    assert "care_level" not in facts(text)


def test_care_score_out_of_range():
    result = extract("评估得分95分", today=TODAY)
    assert "care_level" not in result.facts
    assert "care_score_out_of_range" in result.problems


@pytest.mark.parametrize("text,level,assessed", [
    ("评估结果是中度失能", "中度失能", True),
    ("长护险评了重度", "重度失能", True),
    ("我妈长护险评估做过了，评的是中度", "中度失能", True),
    ("社区上门评估过，说是轻度", "轻度失能", True),
    ("做过能力评估，能力完好", "能力完好", True),
    ("代老人咨询 中度失能已评估", "中度失能", True),
])
def test_official_assessment(text, level, assessed):
    result = extract(text, today=TODAY)
    assert result.facts["care_level"] == level
    assert result.facts["care_assessed"] is assessed
    assert "care_level" not in result.estimated


@pytest.mark.parametrize("text", ["没做过评估", "还没评估", "还没做过评估", "没评估过", "评估还没做"])
def test_not_assessed(text):
    assert facts(text)["care_assessed"] is False


@pytest.mark.parametrize("text,level", [
    ("做过评估", None),
    ("评过了，是中度", "中度失能"),
    ("失能评估做过了，重度", "重度失能"),
    ("我们做过长护险评估，评的重度", "重度失能"),
])
def test_assessed_with_the_level_said_apart(text, level):
    got = facts(text)
    assert got["care_assessed"] is True
    assert got.get("care_level") == level


@pytest.mark.parametrize("text,level,activities", [
    ("吃饭能自己吃，穿衣也可以，洗澡要人帮", "轻度失能", ["洗澡"]),
    ("她自己能吃饭能走路，就是洗澡需要人帮一下", "轻度失能", ["洗澡"]),
    ("吃饭能自己吃要人帮洗澡", "轻度失能", ["洗澡"]),
    ("穿衣吃饭都要人帮，上厕所也要人扶", "中度失能", ["进食", "穿衣", "如厕"]),
    ("吃饭要人喂 洗澡要人帮 上厕所要人扶 走路走不动", "中度失能", ["进食", "洗澡", "如厕", "室内行走"]),
    ("吃饭要人喂，穿衣要人帮，洗澡要人帮，上厕所要人扶，走路要人扶", "重度失能",
     ["进食", "穿衣", "洗澡", "如厕", "室内行走"]),
    ("吃饭要人喂，穿衣要人帮，洗澡要人帮，上厕所要人扶，走不动路，下不了床", "完全失能",
     ["进食", "穿衣", "洗澡", "如厕", "室内行走", "上下床"]),
    ("吃饭穿衣都能自己来，洗澡也不需要人帮", "能力完好", []),
    # dictated, no comma: an earlier 不 does not negate a need said after it
    ("我爸腿脚不好洗澡要人帮", "轻度失能", ["洗澡"]),
    ("她眼睛不好使吃饭要人喂", "轻度失能", ["进食"]),
    ("卧床，吃饭要人喂", "重度失能", ["进食"]),         # bed-bound: 重度
    ("卧床，翻身都要人，全靠我们", "完全失能", ["上下床"]),      # …and dependent for everything: 完全
])
def test_estimate_care_level_from_daily_activities(text, level, activities):
    assert estimate_care_level(text) == (level, activities)


@pytest.mark.parametrize("text", ["", "今天天气好", "想预约洗澡服务", "吃饭的补贴怎么领"])
def test_estimate_care_level_needs_a_described_activity(text):
    assert estimate_care_level(text) is None


def test_extract_uses_daily_activities_as_an_estimate():
    result = extract("我妈吃饭要人喂，洗澡也要人帮，上厕所要人扶", today=TODAY)
    assert result.facts["care_level"] == "中度失能"
    assert "care_level" in result.estimated


def test_explicit_level_wins_over_daily_activities():
    result = extract("评估结果是重度失能，吃饭还能自己吃", today=TODAY)
    assert result.facts["care_level"] == "重度失能"
    assert "care_level" not in result.estimated


def test_dementia_does_not_change_the_extracted_level():
    result = extract("半失能，还有老年痴呆", today=TODAY)
    assert result.facts["care_level"] == "中度失能"
    assert result.facts["dementia"] is True


# --- other facts ----------------------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    ("老年痴呆", True),
    ("确诊了认知症", True),
    ("有阿尔茨海默", True),
    ("医生说是失智", True),
    ("没有痴呆，脑子清楚", False),
    ("没有痴呆", False),
    ("脑子清楚", False),
])
def test_dementia(text, value):
    assert facts(text)["dementia"] is value


@pytest.mark.parametrize("text", ["担心得老年痴呆", "失智老人能去哪里", "脑子糊涂了，认不出人"])
def test_dementia_must_not_misfire(text):
    assert "dementia" not in facts(text)


@pytest.mark.parametrize("text,value", [
    ("特困", "特困"),
    ("五保户", "特困"),
    ("特困供养", "特困"),
    ("低保边缘", "低保边缘"),
    ("低保边缘户", "低保边缘"),
    ("低边", "低保边缘"),
    ("低保", "低保"),
    ("家里吃低保的", "低保"),
    ("我们家是低保户", "低保"),
    ("支出型困难家庭", "支出型困难"),
    ("因病致贫", "支出型困难"),
    ("经济条件还可以", "一般"),
    ("有退休金", "一般"),
    ("刚才说错了，不是低保是低保边缘", "低保边缘"),
    ("有退休金，但是吃低保", "低保"),
    ("吃低保，有一点退休金", "低保"),   # a hint never beats a clear status
])
def test_economic_status(text, value):
    assert facts(text)["economic_status"] == value


@pytest.mark.parametrize("text", [
    "低保户能领什么", "低保申请了还没批",
    "以前是低保，今年取消了", "都不是",
])
def test_economic_status_must_not_misfire(text):
    assert "economic_status" not in facts(text)


@pytest.mark.parametrize("text,value", [
    ("独居", "独居"),
    ("一个人住", "独居"),
    ("孤寡老人", "独居"),
    ("老伴走了，现在一个人过", "独居"),
    ("空巢", "空巢"),
    ("老两口", "空巢"),
    ("就我们老两口", "空巢"),
    ("和老伴两个人住", "空巢"),
    ("和儿子住", "与家人同住"),
    ("跟女儿一起", "与家人同住"),
    ("和家人住", "与家人同住"),
    ("和子女住", "与家人同住"),
    ("和女儿一家住在一起", "与家人同住"),
    ("住在儿子家", "与家人同住"),
    ("不是一个人住，是跟儿子住", "与家人同住"),
])
def test_living(text, value):
    assert facts(text)["living"] == value


@pytest.mark.parametrize("text", ["跟儿子过来的", "独居老人能领什么", "请了住家保姆", "一个人照顾老伴"])
def test_living_must_not_misfire(text):
    assert "living" not in facts(text)


@pytest.mark.parametrize("text,grade", [
    ("一级残疾", 1),
    ("残疾证二级", 2),
    ("肢体三级残疾", 3),
    ("残疾人证4级", 4),
    ("有残疾人证，是二级的", 2),
    ("我是盲人，一级视力残疾", 1),
    ("刚刚那个不对，是二级残疾不是三级", 2),
    ("没有残疾证", "none"),
    ("没有办过残疾证", "none"),
    ("不是残疾人", "none"),
])
def test_disability_grade(text, grade):
    assert facts(text)["disability_grade"] == grade


def test_disability_grade_must_not_misfire():
    assert "disability_grade" not in facts("独生子女伤残")
    assert "disability_grade" not in facts("有残疾证")          # grade unknown
    assert "disability_grade" not in facts("去三级医院看病")
    result = extract("五级残疾", today=TODAY)
    assert "disability_grade" not in result.facts
    assert "disability_grade_invalid" in result.problems


@pytest.mark.parametrize("text,value", [
    ("失独", True),
    ("失独家庭", True),
    ("独生子女去世", True),
    ("独生子女伤残", True),
    ("计生特殊家庭", True),
    ("计划生育特殊家庭", True),
    ("独生女前几年走了", True),
    ("我独生儿子前年生病去世了", True),
    ("不是失独家庭", False),
])
def test_family_planning_special(text, value):
    assert facts(text)["family_planning_special"] is value


@pytest.mark.parametrize("text,value", [
    ("苏州医保", True),
    ("有医保", True),
    ("参加了医保", True),
    ("有社保卡", True),
    ("我参加了苏州的职工医保", True),
    ("户口是苏州的，医保也是苏州的", True),
    ("没有医保", False),
    ("医保在外地", False),
    ("医保在老家", False),
    ("没有苏州医保", False),
])
def test_medical_insured(text, value):
    assert facts(text)["medical_insured"] is value


@pytest.mark.parametrize("text,value", [
    ("突发困难", True),
    ("家里刚出了车祸", True),
    ("遭遇意外，生活过不下去", True),
    ("老伴得了重病，生活过不下去了", True),
    ("没有突发情况", False),
    ("没出什么事", False),
])
def test_emergency(text, value):
    assert facts(text)["emergency"] is value


@pytest.mark.parametrize("text,value", [
    ("我在家照顾", True),
    ("女儿照顾她", True),
    ("家里有人照顾", True),
    ("儿媳妇辞职在家照顾他", True),
    ("小女儿辞了工作专门在家照顾我爸", True),
    ("没人照顾", False),
    ("子女都在外地没人管", False),
    ("没有家人照顾，子女都不在身边", False),
])
def test_family_caregiver(text, value):
    assert facts(text)["family_caregiver"] is value


@pytest.mark.parametrize("text", ["保姆照顾", "家里请了保姆照顾", "我想问长期护理保险", "需要有人照顾"])
def test_paid_help_is_not_a_family_caregiver(text):
    assert "family_caregiver" not in facts(text)


# --- who is talking ------------------------------------------------------------------

@pytest.mark.parametrize("text,subject", [
    ("我妈85岁", "relative"),
    ("我爸", "relative"),
    ("我母亲有老年痴呆", "relative"),
    ("我奶奶九十一", "relative"),
    ("我外婆103岁了", "relative"),
    ("我家老人", "relative"),
    ("老人家住在昆山", "relative"),
    ("来电老人 83岁", "relative"),
    ("帮我爸问", "relative"),
    ("我婆婆七十五", "relative"),
    ("我岳父八十", "relative"),
    ("我是他女儿", "relative"),
    ("我是社区工作人员，帮老人问的", "relative"),
    ("我今年85", "self"),
    ("我今年85岁", "self"),
    ("我八十了", "self"),
    ("我自己", "self"),
    ("本人", "self"),
    ("是老人本人", "self"),
    ("来电老人本人 79岁", "self"),
    ("我今年55，我妈85", "relative"),
])
def test_subject(text, subject):
    assert facts(text)["subject"] == subject


def test_relative_speaker_age_is_not_the_elders():
    assert facts("我妈85岁，我今年55了")["age"] == 85
    assert facts("我今年55，我妈85")["age"] == 85


@pytest.mark.parametrize("text", ["我们是失独老人", "帮我问一下高龄津贴", "你好"])
def test_subject_must_not_misfire(text):
    assert facts(text).get("subject") != "relative"


# --- bare answers to the advisor's question --------------------------------------------------

@pytest.mark.parametrize("text,requested,fact,value", [
    ("85", "age", "age", 85),
    ("八十五", "age", "age", 85),
    ("八十五了", "age", "age", 85),
    ("刚才打错了，是八十五", "age", "age", 85),
    ("1950", "age", "age", 75),
    ("有", "hukou", "hukou", True),
    ("是的", "hukou", "hukou", True),
    ("对", "medical_insured", "medical_insured", True),
    ("嗯，有的", "medical_insured", "medical_insured", True),
    ("嗯", "medical_insured", "medical_insured", True),
    ("没有", "hukou", "hukou", False),
    ("不是", "family_planning_special", "family_planning_special", False),
    ("没", "dementia", "dementia", False),
    ("嗯，没有", "emergency", "emergency", False),
    ("做过", "care_assessed", "care_assessed", True),
    ("外地的", "hukou", "hukou", False),
    ("本地的", "hukou", "hukou", True),
    ("不是苏州的", "hukou", "hukou", False),
    ("都不是", "economic_status", "economic_status", "一般"),
    ("没有", "economic_status", "economic_status", "一般"),
    ("没有", "disability_grade", "disability_grade", "none"),
    ("二级", "disability_grade", "disability_grade", 2),
    ("3", "disability_grade", "disability_grade", 3),
    ("一个人", "living", "living", "独居"),
    ("和老伴", "living", "living", "空巢"),
    ("中度", "care_level", "care_level", "中度失能"),
    ("我就是", "subject", "subject", "self"),
    ("我是家属", "subject", "subject", "relative"),
])
def test_bare_answers_with_requested(text, requested, fact, value):
    assert facts(text, requested=requested)[fact] == value


def test_pattern_beats_bare_answer():
    assert facts("不是低保，是低保边缘", requested="economic_status")["economic_status"] == "低保边缘"
    assert facts("是外地户口", requested="hukou")["hukou"] is False


def test_dont_know_answer():
    result = extract("不知道", today=TODAY, requested="hukou")
    assert result.facts == {}
    assert "dont_know" in result.cues and "dont_know" not in result.problems


@pytest.mark.parametrize("text,requested", [
    ("200", "age"), ("有没有", "hukou"), ("什么意思", "medical_insured"),
])
def test_bare_answers_that_say_nothing(text, requested):
    assert requested not in facts(text, requested=requested)


def test_age_out_of_range_as_an_answer():
    result = extract("200", today=TODAY, requested="age")
    assert "age_out_of_range" in result.problems


# --- corrections, shorthand, voice ------------------------------------------------------------

@pytest.mark.parametrize("text,fact,value", [
    ("85岁，不对，是87岁", "age", 87),
    ("更正一下，是82岁不是72岁", "age", 82),
    ("八五年的……不是，三五年的，今年九十了", "age", 90),
    ("不对不对，她88了", "age", 88),
    ("我说错了，户口是外地的", "hukou", False),
    ("不是半失能，现在已经卧床了", "care_level", "重度失能"),
    ("不好意思说错了，我妈不是独居，跟我弟住", "living", "与家人同住"),
])
def test_corrections_last_mention_wins(text, fact, value):
    assert facts(text)[fact] == value


def test_all_mentions_are_kept_as_spans():
    result = extract("85岁，不对，是87岁", today=TODAY)
    assert [s.value for s in result.spans if s.fact == "age"] == [85, 87]


def test_operator_shorthand():
    result = extract("来电老人 83岁 昆山 本地户籍 独居 半失能", today=TODAY)
    assert result.facts == {
        "subject": "relative", "age": 83, "district": "昆山市", "hukou": True,
        "living": "独居", "care_level": "中度失能",
    }
    assert result.estimated == {"care_level"}


@pytest.mark.parametrize("text,expected", [
    ("男，88，吴江，本地户籍，独居，有医保",
     {"age": 88, "district": "吴江区", "hukou": True, "living": "独居", "medical_insured": True}),
    ("女76 常熟 本地 空巢 二级残疾",
     {"age": 76, "district": "常熟市", "hukou": True, "living": "空巢", "disability_grade": 2}),
    ("年龄81 区域吴中 户籍苏州 经济一般 同住",
     {"age": 81, "district": "吴中区", "hukou": True, "economic_status": "一般", "living": "与家人同住"}),
    ("男 65 高新区 外地户口 能自理",
     {"age": 65, "district": "虎丘区", "hukou": False, "care_level": "能力完好"}),
])
def test_more_operator_shorthand(text, expected):
    got = facts(text)
    assert {k: got.get(k) for k in expected} == expected


@pytest.mark.parametrize("text,expected", [
    ("我爸今年八十五岁住在吴江区有苏州户口",
     {"subject": "relative", "age": 85, "district": "吴江区", "hukou": True}),
    ("我妈七十二岁外地户口跟我住在园区能自理",
     {"subject": "relative", "age": 72, "hukou": False, "living": "与家人同住", "care_level": "能力完好"}),
    ("我外婆是五保户今年八十九岁在吴江黎里一个人住",
     {"subject": "relative", "economic_status": "特困", "age": 89, "district": "吴江区", "living": "独居"}),
    ("老头子今年九十住在吴中区临湖镇户口也是本地的",
     {"age": 90, "district": "吴中区", "hukou": True}),
    ("我妈八十七了住在相城区一个人住",
     {"subject": "relative", "age": 87, "district": "相城区", "living": "独居"}),
])
def test_voice_to_text_without_punctuation(text, expected):
    got = facts(text)
    assert {k: got.get(k) for k in expected} == expected


# --- robustness and the result contract ----------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   ", "\n", "😀🙏", "hello world", "？？？", "\x00\x01", "岁岁岁", "身份证"])
def test_odd_input_never_raises(text):
    result = extract(text, today=TODAY)
    assert isinstance(result, ExtractionResult)
    assert result.facts == {} and result.spans == []


def test_non_string_input_returns_empty():
    assert extract(None).facts == {}  # type: ignore[arg-type]


def test_mixed_language_emoji_input():
    got = facts("hello 我妈 85岁 😀 住 SIP 园区 OK，has 医保 👍")
    assert got["age"] == 85 and got["district"] == "苏州工业园区" and got["subject"] == "relative"


def test_long_input():
    id_number = make_id("19410305")
    text = ("今天天气不错，我们聊聊家常。" * 300) + f"我妈身份证{id_number}，住在园区，低保户。" + ("😀abc" * 200)
    assert len(text) > 5000
    result = extract(text, today=TODAY)
    assert result.facts["age"] == 84
    assert result.facts["district"] == "苏州工业园区"
    assert result.facts["economic_status"] == "低保"
    assert id_number not in repr(result)


def test_spans_point_into_the_text():
    text = "我妈８５岁，住在园区，有苏州户口，吃饭要人喂"
    result = extract(text, today=TODAY)
    assert result.facts["age"] == 85  # full-width digits
    for span in result.spans:
        assert isinstance(span, Extracted)
        assert text[span.start:span.end] == span.text
        assert result.facts[span.fact] is not None


def test_values_are_canonical_per_facts_yml():
    contract = yaml.safe_load(FACTS_YML.read_text(encoding="utf-8"))
    samples = [
        "来电老人 83岁 昆山 本地户籍 独居 半失能 低保边缘 二级残疾 失独 有医保 突发困难 女儿照顾 老年痴呆 没做过评估",
        "我今年90岁 住在园区 外地户口 能自理 特困 和儿子住 没有残疾证",
        "老两口 失能 支出型困难 评估结果是重度失能",
    ]
    for text in samples:
        for fact, value in extract(text, today=TODAY).facts.items():
            spec = contract[fact]
            if spec["type"] == "bool":
                assert isinstance(value, bool), fact
            elif spec["type"] == "int":
                assert isinstance(value, int) and spec["min"] <= value <= spec["max"], fact
            else:
                assert value in spec["values"], (fact, value)


# --- Rasa component ---------------------------------------------------------------------------

def test_rasa_component_adds_entities_and_problems():
    pytest.importorskip("rasa")
    from rasa.shared.nlu.training_data.message import Message

    from nlu_components.fact_extractor import FactExtractor

    component = FactExtractor.create({}, None, None, None)
    bad_id = bad_checksum(make_id("19410305"))
    messages = [
        Message(data={"text": "我妈85岁，不对，87岁，半失能"}),
        Message(data={}),                       # no text at all
        Message(data={"text": f"身份证{bad_id}"}),
        Message(data={"text": "有", "metadata": {"requested_fact": "hukou"}}),
    ]
    component.process(messages)
    entities = {e["entity"]: e for e in messages[0].get("entities")}
    assert entities["age"]["value"] == 87                     # one entity per fact: the last mention
    assert entities["age"]["extractor"] == "FactExtractor"
    assert entities["age"]["confidence"] == 1.0
    assert entities["care_level"] == {
        "entity": "care_level", "value": "中度失能", "start": 13, "end": 16,
        "confidence": 1.0, "extractor": "FactExtractor",
    }
    assert messages[0].get("estimated_facts") == ["care_level"]  # not an entity role: from_entity mappings ignore entities with roles
    assert "role" not in entities["age"]
    assert messages[1].get("entities") is None
    assert messages[2].get("fact_problems") == ["id_number_invalid"]
    assert messages[3].get("entities")[0]["value"] is True


# --- spoken patterns: first person, bare ages, negated statuses, conditions ------------------
# Fresh sentences (not from data/eval): each pattern with cases that must not misfire.

@pytest.mark.parametrize("text", [
    "我住在石路那边，腿脚还利索",
    "我是昆山本地户口",
    "我不是特困户",
    "俺在虎丘住，今年七十三",
    "我们是计生特殊家庭",
    "儿子每个礼拜回来照顾我",     # care asked for the speaker
    "没人管我，孩子都在国外",
    "我腿不好，想叫人上门帮我洗澡",
])
def test_first_person_statement_is_self(text):
    assert facts(text)["subject"] == "self"


@pytest.mark.parametrize("text", [
    "我想了解一下养老政策",       # no fact about anyone
    "请帮我查一下预约",
    "我们家是低保边缘户",         # a household: unclear who speaks
    "我们家属于特困供养",         # 家属于 is not 家属
    "给你打电话咨询一下",
    "我给医生打电话问了",
])
def test_first_person_without_a_fact_is_not_self(text):
    assert facts(text).get("subject") is None


@pytest.mark.parametrize("text", [
    "我舅妈是失独家庭",            # any older relative after 我
    "我老伴中风了，一直是我在护理他",  # the speaker looks after the elder
    "如果老人搬去吴江住呢",         # bare 老人 inside a sentence
    "家里没人陪老人，我们白天上班",
    "帮外婆申请一下助餐",
    "我想给父母申请居家养老服务",
])
def test_relative_speaking(text):
    assert facts(text)["subject"] == "relative"


@pytest.mark.parametrize("text", ["我们是失独老人", "像我这样的老人能领啥", "失能老人能领什么", "我是老人"])
def test_category_elder_word_is_not_a_relative(text):
    assert facts(text).get("subject") != "relative"


def test_cared_for_spouse_is_the_elder():
    got = facts("老伴瘫痪在床，我伺候她三年了")
    assert got["subject"] == "relative" and got["care_level"] == "重度失能"
    got = facts("我老伴八十五了，我一直在家照顾她")
    assert got["age"] == 85 and got["subject"] == "relative"
    # no caring speaker: the spouse is still someone else
    assert "age" not in facts("我老伴八十五了")


@pytest.mark.parametrize("text,age", [
    ("我外公九十一还天天下楼散步", 91),      # right after the kinship word, no 岁
    ("我外公住盛泽呢九十一了", 91),          # before 了
    ("我姨妈在木渎八十了", 80),
    ("我爷爷一个人住 住在枫桥那边嗯八十六了", 86),  # the elder named in an earlier phrase
    ("我住在枫桥附近，七十四", 74),           # a clause of its own
    ("我妈七十七，哦不对，七十九", 79),       # the correction wins
    ("我奶奶1930年的，住在昆山", 95),
    ("出生年份1948 吴江 男", 77),
])
def test_bare_spoken_age(text, age):
    assert facts(text)["age"] == age


@pytest.mark.parametrize("text", [
    "我妈血压一百，住在吴江",        # a measurement
    "我妈每个月退休金八十",
    "我爸住院花了七十",
    "我妈住在三元新村七十八幢",      # an address
    "我孙子九十斤",
    "我儿子今年五十八了",            # someone else
    "我妈七十年代就退休了",
    "1945年的照片",
])
def test_bare_spoken_age_must_not_misfire(text):
    assert "age" not in facts(text)


@pytest.mark.parametrize("text", [
    "不是低保", "我们家不是低保，也不是特困", "我不是特困户，也不是低保",
    "咱家啥困难户都不是", "经济状况普通 非低保", "普通家庭，退休金够用",
])
def test_not_a_status_is_general(text):
    assert facts(text)["economic_status"] == "一般"


def test_not_a_status_is_a_weak_hint():
    assert facts("不是低保户，是低保边缘户")["economic_status"] == "低保边缘"
    assert facts("都不是") == {}  # said alone, without the question, it is unclear


@pytest.mark.parametrize("text", ["我爸常年住院透析，家里开支太大了", "老伴治病这几年花了很多钱，日子紧巴巴的"])
def test_medical_cost_is_expense_hardship(text):
    assert facts(text)["economic_status"] == "支出型困难"


@pytest.mark.parametrize("text", ["我们家开销大，孩子上学花钱多", "我是低保户，看病开销也大"])
def test_medical_cost_must_not_override(text):
    assert facts(text).get("economic_status") != "支出型困难"


def test_person_named_before_a_question_is_a_statement():
    assert facts("我婆婆是低保户能领什么")["economic_status"] == "低保"
    assert facts("老人家半失能有什么补贴")["care_level"] == "中度失能"
    # still a question about the category
    assert "care_level" not in facts("我想问失能老人有什么补贴")
    assert "economic_status" not in facts("我妈是低保户吗")
    assert "economic_status" not in facts("低保户能申请什么")


@pytest.mark.parametrize("text", ["算不算失能啊", "想评一下看是几级失能", "他做没做过评估我不知道", "能不能自理也说不好"])
def test_asked_care_words_are_not_facts(text):
    got = facts(text)
    assert "care_level" not in got and "care_assessed" not in got


def test_conditions_give_hypothetical_facts():
    result = extract("要是我爸评上中度失能能拿多少", today=TODAY)
    assert result.facts["care_level"] == "中度失能" and "care_level" in result.hypothetical
    result = extract("假如我以后瘫痪了，有啥补贴", today=TODAY)
    assert result.facts["care_level"] == "重度失能" and "care_level" in result.hypothetical
    result = extract("我爸瘫痪了", today=TODAY)
    assert result.hypothetical == set()
    assert "care_level" not in facts("万一以后瘫痪了怎么办")  # a worry stays a hedge


def test_local_programme_is_not_a_home_district():
    assert "district" not in facts("昆山的养老院好不好")
    assert "district" not in facts("湖东的政策怎么样")
    assert facts("我住在湖东")["district"] == "苏州工业园区"
    assert facts("我妈住在昆山，昆山的补贴标准是多少")["district"] == "昆山市"


def test_hukou_here():
    assert facts("住在太仓，户口不在这里")["hukou"] is False
    assert facts("户口就在这里")["hukou"] is True


def test_rasa_component_leaves_hypothetical_facts_out():
    """A what-if ("如果评上重度失能呢") must not overwrite what the elder really is."""
    from rasa.shared.nlu.training_data.message import Message

    from nlu_components.fact_extractor import FactExtractor
    messages = [Message(data={"text": "我妈85岁，如果评上重度失能能多拿什么"})]
    FactExtractor().process(messages)
    found = {e["entity"]: e["value"] for e in messages[0].get("entities")}
    assert found.get("age") == 85 and "care_level" not in found and "care_assessed" not in found


# --- everyday words (issue 8) ---------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("我爸没什么大毛病，就是血糖高点", {"care_level": "能力完好"}),
    ("老太太身子骨不错，能吃能睡", {"care_level": "能力完好"}),
    ("我们家不是低保户，也不是啥困难户", {"economic_status": "一般"}),
    ("家里条件还行，退休金够花", {"economic_status": "一般"}),
    ("她住在甪直，户口也在那里", {"district": "吴中区", "hukou": True}),
    ("他户口在老家那边", {"hukou": False}),
])
def test_everyday_words(text, expected):
    got = facts(text)
    for fact, value in expected.items():
        assert got.get(fact) == value, (text, got)


@pytest.mark.parametrize("text,relation", [
    ("我妈八十了", "子女"), ("丈母娘住在相城", "子女"), ("太姥爷九十五了", "其他亲属"),
    ("我外婆一个人住", "其他亲属"), ("来电老人 男 78", "社区/热线工作人员"), ("我就是老人，今年70", "本人"),
    ("我今年70岁", None),
])
def test_speaker_relation(text, relation):
    assert extract(text, today=TODAY).relation == relation


@pytest.mark.parametrize("text,subject,age", [("太外婆今年九十九", "relative", 99), ("我后妈七十五，住吴江", "relative", 75)])
def test_kin_words_without_me_name_a_relative(text, subject, age):
    got = facts(text)
    assert got.get("subject") == subject and got.get("age") == age


def test_readings_answer_each_question_without_extracting_again():
    r = extract("82", today=TODAY, readings=True)
    assert r.facts == {} and r.readings["age"] == 82
    r = extract("有的", today=TODAY, readings=True)
    assert r.readings["hukou"] is True and r.readings["dementia"] is True and "age" not in r.readings
    assert extract("一个人", today=TODAY, readings=True).readings["living"] == "独居"
    assert extract("200", today=TODAY, readings=True).readings["age"] == "!age_out_of_range"
    # a message that states the fact needs no reading for it
    assert "age" not in extract("我妈今年85岁", today=TODAY, readings=True).readings


@pytest.mark.parametrize("text,cue", [("直接告诉我吧", "impatient"), ("别问了", "impatient"), ("不知道了", "impatient"),
                                      ("说不清", "dont_know"), ("一个月给多少", "ask_amount"), ("几天能批下来", "ask_time"),
                                      ("谁能先排上", "ask_who"), ("去哪办", "ask_where"), ("要带什么材料", "ask_documents")])
def test_cues(text, cue):
    assert cue in extract(text, today=TODAY).cues
