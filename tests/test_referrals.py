"""Questions outside the KB get where to ask, never the nearest policy card; an emergency gets 120."""
import pytest

from policy_kb.referrals import find_referral, load_referrals
from test_conversation import Session


def test_every_referral_row_is_complete():
    rows = load_referrals()
    assert rows and all(r.topic and r.where and r.words for r in rows)
    assert any(r.urgent and "120" in r.where for r in rows)


@pytest.mark.parametrize("text,where,not_card", [
    ("养老金今年涨多少", "12333", "高龄津贴"),
    ("医保报销比例是多少", "12393", "长期护理保险"),
    ("怎么办残疾人证", "残联", "困难残疾人生活补贴"),
    ("老人坐公交免费吗，要办什么卡", "市民卡", "老年人免费健康体检"),
    ("上海的高龄津贴怎么领", "12345", "户籍所在社区居委会"),
])
def test_an_out_of_scope_question_names_where_to_ask(text, where, not_card):
    s = Session()
    s.say("我妈85岁住在姑苏区，苏州户口")
    reply = Session.text(s.say(text, "ask_policy"))
    assert where in reply and not_card not in reply


def test_an_emergency_is_told_to_call_120_first():
    s = Session()
    reply = Session.text(s.say("我妈摔倒了起不来怎么办", "out_of_scope"))
    assert "120" in reply


def test_a_suzhou_policy_named_with_a_referral_word_of_another_topic_is_still_answered():
    assert find_referral("长护险怎么申请") is None
    s = Session()
    s.say("我妈85岁住在姑苏区，苏州户口")
    reply = Session.text(s.say("重度残疾人护理补贴和残疾证到期有关系吗", "ask_policy"))
    assert "重度残疾人护理补贴" in reply
