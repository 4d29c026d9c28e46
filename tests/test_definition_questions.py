"""Asking what a word means, or saying one does not know it, states nothing about the elder."""
import pytest

from understanding.facts_extractor import extract


@pytest.mark.parametrize("text", ["失独家庭是什么意思", "伲勿晓得啥个叫低保", "我不知道什么是低保边缘", "什么叫半失能啊",
                                  "特困供养是啥意思", "没听说过计划生育特殊家庭"])
def test_a_word_asked_about_is_no_fact(text):
    assert not {k for k in extract(text).facts if k != "subject"}


@pytest.mark.parametrize("text,fact", [("我们是失独家庭", "family_planning_special"), ("我妈是低保户，低保户能领什么", "economic_status"),
                                       ("她现在什么都不懂了，医院确诊老年痴呆", "dementia")])
def test_a_statement_beside_it_still_counts(text, fact):
    assert fact in extract(text).facts
