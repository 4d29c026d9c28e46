"""Whose place, whose household: a relative's own home or workplace is not the elder's, and the
speaker's other parent is the elder's spouse."""
import pytest

from understanding.facts_extractor import extract


@pytest.mark.parametrize("text,district", [
    ("我妈今年83，一个人住在甪直，我住胜浦离她不远", "吴中区"),
    ("我外婆住在黄埭，我自己住在园区", "相城区"),
    ("不好意思刚才说错了，我爸妈住的是太仓，是我住昆山", "太仓市"),
    ("我爸在张家港凤凰镇老家，我在昆山花桥上班", "张家港市"),
    ("儿子在盛泽做生意，我们老两口住在平望", "吴江区"),
    ("我女儿在园区读书，我住在木渎镇上", "吴中区"),
    ("住在用直镇上", "吴中区"),
])
def test_the_elders_place_not_the_speakers(text, district):
    assert extract(text).facts.get("district") == district


@pytest.mark.parametrize("text", ["不是，有个儿子在盛泽做生意", "我在园区上班", "孙女在昆山工作"])
def test_where_someone_works_is_no_home(text):
    assert "district" not in extract(text).facts


@pytest.mark.parametrize("text,living", [
    ("我爸88了，跟我妈两个人住", "空巢"),
    ("我外公和我外婆两个人住在乡下", "空巢"),
    ("我爸跟我妈住，还有我弟弟一家", "与家人同住"),
    ("跟我女儿两个人住", "与家人同住"),
])
def test_the_other_parent_is_the_spouse(text, living):
    assert extract(text).facts.get("living") == living


@pytest.mark.parametrize("text", ["女儿嫁到太仓去了 一个月回来一趟", "他儿子在昆山开发区打工，户口也迁过去了",
                                  "孙子去园区买了房子", "我自己住吴中区的，外婆不跟我住"])
def test_someone_elses_place_is_not_the_elders(text):
    assert "district" not in extract(text).facts


@pytest.mark.parametrize("text", ["和老伴住在许墅关老街上", "我跟儿子住在园区", "我妈住在园区"])
def test_living_with_someone_there_is_still_home(text):
    assert "district" in extract(text).facts


@pytest.mark.parametrize("text", ["本村户口", "户口就在本村", "户口在镇上"])
def test_hukou_said_as_this_village(text):
    assert extract(text).facts.get("hukou") is True


@pytest.mark.parametrize("text,living", [
    ("我今年六十五，住东渚，一个人", "独居"),
    ("我快九十了，老太婆也八十多，两个人住在周庄", "空巢"),
    ("伲两个人过，儿子在上海", "空巢"),
])
def test_living_said_in_a_clause_of_its_own(text, living):
    assert extract(text).facts.get("living") == living


@pytest.mark.parametrize("text,fact,value", [
    ("就一个儿子，九八年出车祸没了", "family_planning_special", True),
    ("只有一个女儿，前几年生病走了", "family_planning_special", True),
    ("呒人照顾", "family_caregiver", False),
    ("不用照顾，他还照顾我妈呢", "family_caregiver", False),
    ("吃饭穿衣自家来 汰浴吃力 要人帮把手", "care_level", "轻度失能"),
])
def test_household_and_care_said_plainly_or_in_suzhou_words(text, fact, value):
    assert extract(text).facts.get(fact) == value


@pytest.mark.parametrize("text,facts", [
    ("82 昆山", {"age": 82, "district": "昆山市"}),
    ("女 79 吴江", {"age": 79, "district": "吴江区"}),
    ("我七十二 住相城 有户口", {"age": 72, "district": "相城区", "hukou": True}),
])
def test_short_notes_and_plain_hukou(text, facts):
    got = extract(text).facts
    assert {k: got.get(k) for k in facts} == facts
