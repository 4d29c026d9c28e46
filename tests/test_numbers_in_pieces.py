"""Ages dictated in pieces: the tens, a pause or a filler, then the units."""
import pytest

from understanding.facts_extractor import extract


@pytest.mark.parametrize("text,age", [
    ("我妈今年八十 嗯 那个三了住在常熟", 83),
    ("我爸今年六十 嗯 四岁", 64),
    ("今年七十 呃 九了", 79),
    ("今年五十 那个八岁 就是五十八", 58),
])
def test_an_age_continued_after_a_pause(text, age):
    assert extract(text).facts.get("age") == age


@pytest.mark.parametrize("text,age", [("她八十 嗯 三个月前摔了一跤", 80), ("我爸九十 嗯 三号住的院", 90)])
def test_a_number_that_starts_something_else_is_not_joined(text, age):
    assert extract(text).facts.get("age") == age


@pytest.mark.parametrize("text,value", [("我不是低保是那个边缘的", "低保边缘"), ("边缘户", "低保边缘")])
def test_the_margin_said_short(text, value):
    assert extract(text).facts.get("economic_status") == value


@pytest.mark.parametrize("text,age", [("老娘住山塘街那边,86名,一个人住", 86), ("我外婆在震泽,88轮", 88),
                                      ("我妈住龙西新村 长桥那边82林", 82)])
def test_an_age_heard_with_a_stray_character_by_voice_input(text, age):
    assert extract(text).facts.get("age") == age


@pytest.mark.parametrize("text", ["我妈住在88号楼", "我爸买了80斤米", "我妈住在3楼，房子80平"])
def test_a_number_with_a_unit_is_no_age(text):
    assert "age" not in extract(text).facts
