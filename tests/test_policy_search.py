"""Free-text questions find the right policy with its application steps."""
import pytest

from policy_kb.kb import KnowledgeBase
from policy_kb.search import PolicySearch

SEARCH = PolicySearch(KnowledgeBase.from_directory())


@pytest.mark.parametrize("question,expected", [
    ("长护险怎么申请", "ltc_insurance"),
    ("长期护理保险要什么材料", "ltc_insurance"),
    ("适老化改造要带什么材料", "home_modification"),
    ("家里想装扶手有补贴吗", "home_modification"),
    ("尊老金多少钱", "senior_allowance"),
    ("高龄津贴怎么领", "senior_allowance"),
    ("喘息服务是什么", "respite_service"),
    ("老年痴呆去哪里照护", "dementia_care"),
    ("吴江急难救助", "wujiang_emergency_aid"),
    ("老人免费体检在哪做", "free_health_checkup"),
    ("失独家庭有什么扶助", "family_planning_special_support"),
    ("公办养老院怎么排队", "public_care_home_waitlist"),
    ("日间照料中心", "day_care_center"),
    ("五保户供养", "tekun_support"),
    ("重度残疾人护理补贴", "severe_disability_care_allowance"),
    ("家庭照护床位", "family_care_bed"),
    ("夜间照护", "night_care_service"),
    ("养老服务消费补贴", "care_service_voucher"),
    ("老年食堂吃饭", "meal_assistance"),
    ("约个养老顾问", "elder_care_advisor"),
])
def test_question_finds_policy(question, expected):
    hits = SEARCH.search(question)
    assert hits and hits[0].id == expected, [h.id for h in hits]
    assert hits[0].apply["where"]


@pytest.mark.parametrize("question", ["", "   ", "今天天气怎么样", "🙂🙂", "'; DROP TABLE policies; --"])
def test_unrelated_or_empty_finds_nothing(question):
    assert SEARCH.search(question) == []


def test_very_long_input_does_not_break():
    assert isinstance(SEARCH.search("长护险" * 2000), list)
