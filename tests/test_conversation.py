"""The advisor's decisions, turn by turn, without servers.

Each turn is what the NLU pipeline would hand the action: the fact extractor's real output
(entities, readings, cues) and the intent the classifier would give (stated here, since the
classifier is measured by `make eval` and exercised by the e2e tests).
"""
from __future__ import annotations

import datetime as dt
import json

import pytest

from actions.conversation import Conversation
from actions.turn import Turn
from understanding.facts_extractor import extract
from understanding.household import read_household
from policy_kb.kb import KnowledgeBase
from policy_kb.search import PolicySearch

KB = KnowledgeBase.from_directory()
SEARCH = PolicySearch(KB)
TODAY = dt.date(2026, 12, 1)


def pipeline_turn(text: str, intent: str = "inform") -> Turn:
    if text.startswith("/"):  # a button payload: /inform{"hukou": true}
        name, _, body = text[1:].partition("{")
        entities = json.loads("{" + body) if body else {}
        return Turn(intent=name, text=text, facts={k: v for k, v in entities.items() if k not in ("policy", "aspect")},
                    entities=entities)
    r = extract(text, today=TODAY, readings=True)
    facts = {k: v for k, v in r.facts.items() if k not in r.hypothetical}
    return Turn(intent=intent, text=text, facts=facts,
                hypothetical={k: r.facts[k] for k in r.hypothetical}, estimated=set(r.estimated),
                readings=r.readings, cues=set(r.cues), problems=list(r.problems), relation=r.relation,
                entities=dict(facts), place_choices=dict(r.place_choices or {}),
                age_range=tuple(r.age_range) if r.age_range else None,
                persons=[{"label": p.label, "facts": p.facts, "own": p.own} for p in read_household(text, TODAY)])


class Session:
    def __init__(self, sender: str = "unit-test"):
        self.sender = sender
        self.slots: dict = {}
        self.buttons: list = []
        self.replies: list = []

    def say(self, text: str, intent: str = "inform"):
        metadata = {}
        if text.isdigit() and int(text) in self.buttons:
            # what the channel does with a typed number: the button printed with it
            text, metadata = self.buttons[int(text)], {"typed_choice": text}
        reply = Conversation(self.slots, pipeline_turn(text, intent), KB, SEARCH, TODAY,
                             sender_id=self.sender, metadata=metadata).respond()
        self.slots.update(reply.slots)
        self.buttons = {int(b["title"].split(".")[0]): b["payload"] for m in reply.messages for b in m.get("buttons", [])}
        self.replies.append(reply)
        return reply

    @staticmethod
    def text(reply) -> str:
        return "\n".join(m["text"] for m in reply.messages)


def results_shown(reply) -> bool:
    return bool(reply.payload and reply.payload.get("cards"))


def test_full_first_message_gets_results_at_once():
    s = Session()
    reply = s.say("你好，我今年72岁，住在姑苏区，是苏州户口。身体还行，生活能自理。")
    assert results_shown(reply)
    text = Session.text(reply)
    assert "记下了：年龄72岁，居住地：姑苏区，有苏州户籍" in text
    assert "估计属于「能力完好」" in text and text.count("记下了") == 1
    assert reply.payload["profile"]["subject"] == "self" and reply.payload["profile"]["age"] == 72
    assert "要继续吗" in text   # the remaining questions are offered, not imposed


def test_operator_shorthand_gets_results_at_once():
    reply = Session().say("来电老人 83岁 昆山 本地户籍 独居 半失能")
    assert results_shown(reply)
    assert reply.payload["profile"] == {"subject": "relative", "age": 83, "district": "昆山市", "hukou": True,
                                        "living": "独居", "care_level": "中度失能"}


def test_age_and_district_then_one_question():
    s = Session()
    reply = s.say("我妈84了，住在吴中区")
    assert not results_shown(reply) and reply.payload["asking"] == "hukou"
    assert "母亲有苏州户口吗" in Session.text(reply)   # the elder named by the family's own word
    assert results_shown(s.say("本地的"))


def test_bare_numbers_are_ages_not_goodbye():
    s = Session()
    s.say("你好", "greet")
    reply = s.say("88", "goodbye")
    assert s.slots["age"] == 88 and "身体健康" not in Session.text(reply)
    assert s.slots["asked_fact"] == "district"


def test_a_clear_goodbye_ends_politely():
    s = Session()
    s.say("我妈85岁住姑苏区")
    reply = s.say("好的，再见", "goodbye")
    assert "祝您母亲身体健康" in Session.text(reply)


def test_who_is_talking_is_never_asked():
    s = Session()
    for text in ("你好", "我想了解一下养老补贴"):
        assert "本人" not in Session.text(s.say(text, "greet" if text == "你好" else "ask_recommendation"))
    reply = s.say("八十")
    assert s.slots.get("subject") is None and s.slots["age"] == 80
    assert "老人家" in Session.text(reply)   # neutral wording when it is unclear


def test_a_different_answer_than_asked_is_taken():
    s = Session()
    s.say("我爸82岁")
    assert s.slots["asked_fact"] == "district"
    reply = s.say("他有苏州户口")
    assert s.slots["hukou"] is True and "记下了：有苏州户籍" in Session.text(reply)
    assert s.slots["asked_fact"] == "district"   # the question still open comes back


def test_dont_know_skips_and_results_still_come():
    s = Session()
    s.say("我想了解一下养老补贴", "ask_recommendation")
    for _ in range(3):
        reply = s.say("不清楚", "dont_know")
    assert results_shown(reply)


def test_impatient_user_gets_results_now():
    s = Session()
    s.say("我妈85岁")
    reply = s.say("别问了，直接告诉我", "ask_recommendation")
    assert results_shown(reply)
    reply = s.say("不知道了", "dont_know")
    assert results_shown(reply)


def test_offer_accepted_then_changes_are_said():
    s = Session()
    s.say("我今年70岁，住在姑苏区，有苏州户口")
    reply = s.say("好的", "affirm")
    assert s.slots["continuing"] is True and s.slots["asked_fact"]
    asked = s.slots["asked_fact"]
    # answer the economic question with the 低保 button, whichever question came first
    while asked != "economic_status":
        s.say("不知道", "dont_know")
        asked = s.slots["asked_fact"]
    reply = s.say('/inform{"economic_status": "低保"}')
    assert "多了一项：政府购买居家上门服务" in Session.text(reply)
    assert reply.payload["profile"]["economic_status"] == "低保"


def test_later_facts_update_results_after_they_were_shown():
    s = Session()
    s.say("我今年70岁，住在吴江区，有苏州户口")
    reply = s.say("家里上个月着火了，日子过不下去了")
    text = Session.text(reply)
    assert "结果有变化" in text and "急难" in text
    assert reply.payload["profile"]["emergency"] is True


def test_policy_question_mid_way_is_answered_and_resumes():
    s = Session()
    s.say("我爸82岁")
    reply = s.say("长护险怎么申请", "ask_policy")
    text = Session.text(reply)
    assert "长期护理保险" in text and "接着刚才的" in text and s.slots["asked_fact"] == "district"


def test_how_much_about_the_policy_just_discussed():
    s = Session()
    s.say("我妈85岁，住姑苏区，苏州户口")
    s.say("尊老金怎么领", "ask_policy")
    reply = s.say("一个月给多少", "ask_policy")
    text = Session.text(reply)
    assert "高龄津贴" in text and "待核实" in text and "以当地民政" in text and "金额金额" not in text


def test_who_goes_first_on_the_waiting_list():
    reply = Session().say("谁能先排上", "ask_policy")
    text = Session.text(reply)
    assert "公办养老机构入住轮候" in text and "1 特困供养人员" in text


def test_how_long_is_answered_honestly():
    s = Session()
    s.say("长护险怎么申请", "ask_policy")
    reply = s.say("几天能批下来", "ask_policy")
    text = Session.text(reply)
    assert "长期护理保险" in text and "没有写明办理时间" in text


def test_impossible_age_changes_nothing():
    s = Session()
    s.say("我妈85岁，住姑苏区")
    before = dict(s.slots)
    reply = s.say("不对，她200岁，住吴中区")
    assert s.slots["age"] == 85 and s.slots["district"] == "姑苏区" == before["district"]
    assert "年龄好像不太对" in Session.text(reply)


def test_correction_is_confirmed():
    s = Session()
    s.say("我妈85岁，住姑苏区")
    reply = s.say("不对，是87岁")
    assert s.slots["age"] == 87 and "已改为：年龄87岁" in Session.text(reply)


def test_what_if_changes_nothing_stored():
    s = Session()
    s.say("我妈82岁，住姑苏区，有苏州户口，生活能自理")
    reply = s.say("如果评上中度失能呢", "what_if")
    assert s.slots["care_level"] == "能力完好" and "这只是假设" in Session.text(reply)


def test_dementia_step_is_the_engines_and_is_said():
    s = Session()
    s.say("我妈82岁，住姑苏区，有苏州户口")
    reply = s.say("洗澡要人帮，别的能自己来。她有老年痴呆")
    text = Session.text(reply)
    assert "轻度失能" in text and "按重一级算" in text and "中度失能" in text
    assert reply.payload["profile"]["care_level"] == "轻度失能"   # what was said; the engine derives
    night = next(r for r in reply.payload["results"] if r["id"] == "family_care_bed")
    assert night["status"] == "possible"


def test_no_empty_messages_and_one_acknowledgement():
    s = Session()
    for text, intent in [("你好", "greet"), ("我妈85岁住姑苏区有苏州户口", "inform"), ("更多", "more"),
                         ("谢谢", "thank"), ("😀", "nlu_fallback"), ("", "nlu_fallback"),
                         ("x" * 5000, "out_of_scope"), ("DROP TABLE bookings;", "nlu_fallback")]:
        reply = s.say(text, intent)
        assert reply.messages and all(m["text"] or m.get("buttons") for m in reply.messages)
        assert Session.text(reply).count("记下了") <= 1
    assert s.slots["age"] == 85


def test_not_understood_reasks_with_numbered_buttons():
    s = Session()
    s.say("我妈85岁住姑苏区")
    reply = s.say("啊？", "nlu_fallback")
    assert "没听明白" in Session.text(reply)
    assert reply.messages[-1]["buttons"][0]["title"].startswith("1. ")


def test_numbered_choice_answers_the_question():
    s = Session()
    s.say("我妈85岁住姑苏区")
    s.say("1")   # 有苏州户口
    assert s.slots["hukou"] is True


@pytest.mark.parametrize("text,relation", [("我妈85岁", "子女"), ("我外婆90了", "其他亲属"),
                                           ("来电老人 83岁 昆山", "社区/热线工作人员")])
def test_the_speakers_relationship_is_remembered(text, relation):
    s = Session()
    s.say(text)
    assert s.slots["speaker_relation"] == relation


def test_greeting_asks_the_first_question_so_a_bare_number_answers_it():
    s = Session()
    reply = s.say("你好", "greet")
    assert s.slots["asked_fact"] == "age" and "多大岁数" in Session.text(reply)
    s.say("七十九", "inform")
    assert s.slots["age"] == 79


def test_a_short_answer_the_classifier_called_out_of_scope_still_answers():
    s = Session()
    s.say("我妈85岁，住姑苏区，苏州户口")
    s.say("好的", "affirm")
    while s.slots["asked_fact"] != "family_planning_special":
        s.say("不知道", "dont_know")
    reply = s.say("不是，她有三个孩子", "out_of_scope")
    assert s.slots["family_planning_special"] is False and "帮不上忙" not in Session.text(reply)
    assert s.slots["asked_fact"] != "family_planning_special"


def test_an_answer_is_never_lost_to_a_later_skip():
    s = Session()
    s.say("我妈85岁住姑苏区")
    s.say("有苏州户口")
    assert s.slots["hukou"] is True
    s.say("不知道", "dont_know")   # nothing asked about hukou any more
    assert s.slots["hukou"] is True


def test_a_question_is_asked_at_most_twice_in_a_row():
    s = Session()
    s.say("我爸82岁")
    first = s.say("啦啦啦", "nlu_fallback")
    assert "住在" in Session.text(first) and s.slots["asked_fact"] == "district"   # asked again, once
    reply = s.say("啦啦啦", "nlu_fallback")
    # not a third time, and never skipped on noise: left open, said so, first on offer
    assert s.slots.get("district") is None and s.slots["asked_fact"] != "district"
    assert "等您想好了再说" in Session.text(reply) and "先跳过" not in Session.text(reply)
    assert "住在苏州哪个区" not in Session.text(reply)


def test_a_named_policy_question_is_answered_when_the_classifier_is_unsure():
    reply = Session().say("谁能先排上养老院？我妈这种情况排得到吗", "nlu_fallback")
    assert "公办养老机构入住轮候" in Session.text(reply)


def test_an_invalid_id_keeps_the_new_facts_and_asks_the_age():
    s = Session()
    reply = s.say("代老人查询 身份证320507194305121230 相城黄桥 独居")
    assert s.slots["district"] == "相城区" and s.slots["living"] == "独居" and "age" not in s.slots
    assert "身份证号码好像不对" in Session.text(reply) and s.slots["asked_fact"] == "age"


def test_who_alone_is_no_profile_yet():
    s = Session()
    reply = s.say("我想问问我妈能不能住养老院", "ask_recommendation")
    assert not results_shown(reply) and s.slots["asked_fact"] == "age"


def test_declining_an_optional_question_stops_the_questions():
    s = Session()
    s.say("我妈85岁，住姑苏区，苏州户口")
    s.say("好的", "affirm")
    reply = s.say("算了", "deny")
    assert not s.slots.get("continuing") and "需要的时候随时问我" in Session.text(reply)


def test_not_eligible_says_why():
    s = Session()
    s.say("我妈85岁，住姑苏区，外地户口")
    text = Session.text(s.say("尊老金怎么领", "ask_policy"))
    assert "暂不符合（没有苏州户籍" in text


def test_after_declining_nothing_is_asked_again():
    s = Session()
    s.say("我妈85岁，住姑苏区，苏州户口")
    s.say("好的", "affirm")
    s.say("算了", "deny")
    reply = s.say("长护险要带啥材料", "ask_policy")
    assert "接着刚才的" not in Session.text(reply) and s.slots["asked_fact"] is None


def test_facts_said_again_are_heard_not_misunderstood():
    s = Session()
    s.say("我外婆88岁住相城")
    reply = s.say("我外婆88岁住相城")
    text = Session.text(reply)
    assert "没听明白" not in text and "已经记下了：年龄88岁，居住地：相城区" in text
    assert "有苏州户口吗" in text and s.slots["asked_fact"] == "hukou" and s.slots.get("not_understood", 0) == 0
    assert reply.payload is None   # nothing changed: no new recommendations payload


def test_more_stays_on_offer_after_a_later_answer():
    s = Session()
    s.say("我奶奶今年91了 住在张家港 户口也是那边的")
    reply = s.say("身子骨还硬朗")
    text = Session.text(reply)
    assert "多了一项" in text and "回复「更多」" in text
    assert any(b["payload"] == "/more" for m in reply.messages for b in m.get("buttons", []))
    more = s.say("更多", "more")
    assert more.payload["cards"] == 3 and "老年助餐服务" in Session.text(more)   # the next page, not the first again


def test_a_place_two_districts_share_is_asked_never_guessed():
    s = Session()
    reply = s.say("我妈82岁住在太湖边上")
    assert s.slots.get("district") is None and s.slots["asked_fact"] == "district"
    assert "吴中区" in Session.text(reply) and "吴江区" in Session.text(reply)
    assert any("吴中区" in b for b in s.buttons.values())
    s.say("2")                                             # a number picks one of the districts named
    assert s.slots["district"] == "吴中区"


def test_a_vague_age_decides_what_it_can_and_is_asked_only_when_it_matters():
    s = Session()
    s.say("我爸住在狮子山那边今年八十出头")
    reply = s.say("有苏州户口")
    text = Session.text(reply)
    assert s.slots.get("age") is None and s.slots["age_estimate"] == [80, 83]
    assert "高龄津贴" in text and "年龄约80到83岁" in text        # 80+ decides 尊老金 at once
    s2 = Session()
    s2.say("我妈六十多了，住在吴江")                           # 61-69 straddles 65: it matters
    s2.say("本地户口")
    assert s2.slots["asked_fact"] == "age"
    s2.say("六十七")
    assert s2.slots["age"] == 67


def test_an_answer_split_over_two_messages_is_waited_for():
    s = Session()
    s.say("你好", "greet")
    first = s.say("我今年", "inform")
    assert Session.text(first) == "嗯，您接着说。" and s.slots["asked_fact"] == "age"
    s.say("八十一", "inform")
    assert s.slots["age"] == 81
    s.say("住在园区")
    s.say("户口是", "inform")                 # the rest comes in the next message
    s.say("本地的", "inform")
    assert s.slots["hukou"] is True
    s.say("我今年", "inform")                 # a correction split in two: the age already known
    s.say("八十二", "inform")
    assert s.slots["age"] == 82


def test_a_correction_in_a_later_message_changes_the_fact_said():
    s = Session()
    s.say("我奶奶八十岁，住吴中，不对，是相城，一个人住")
    assert s.slots["age"] == 80 and s.slots["district"] == "相城区"
    reply = s.say("说错了，应该是八十一，今年过了生日的")
    assert s.slots["age"] == 81 and "已改为" in Session.text(reply)


def test_a_service_asked_about_as_a_question_of_cost_is_answered_not_booked():
    s = Session()
    reply = s.say("伲想叫人上门来帮伲汏浴 要铜钿哇", "book_service")
    assert "政府购买居家上门服务" in Session.text(reply) and not s.slots.get("booking_kind")
    reply = s.say("帮我妈约个助浴，明天上午", "book_service")
    assert s.slots.get("booking_kind") == "home_service"


def test_another_family_member_said_later_is_a_second_person_not_an_overwrite():
    s = Session()
    s.say("我爸今年九十了住在太仓，跟我妈两个人住")
    s.say("太仓户口")
    reply = s.say("我妈也七十八了，身体也不太好")
    text = Session.text(reply)
    # the mother is looked at now, the father's facts wait untouched
    assert s.slots["elder_word"] == "母亲" and s.slots["age"] == 78
    assert s.slots["household"]["父亲"]["facts"]["age"] == 90
    assert "现在看母亲的情况" in text and "没听明白" not in text
    # a spouse added without a place: the couple's home and 户口, said so
    assert s.slots["district"] == "太仓市" and "先按和父亲一样算" in text
    assert reply.payload["person"] == "母亲" and [p["person"] for p in reply.payload["household"]] == ["母亲", "父亲"]
    s2 = Session()
    s2.say("我今年五十八了，住在昆山，户口在河南老家")
    s2.say("然后我老家我妈八十九了她能领尊老金吗")
    assert s2.slots["household"]["本人"]["facts"]["age"] == 58 and s2.slots["age"] == 89


@pytest.mark.parametrize("text,intent,policy", [
    ("有没有送饭的，我烧饭吃力了", "check_status", "老年助餐服务"),
    ("失智的老人有专门的地方吗", "check_status", "失智老年人照护"),
    ("长护险九十几岁还好申请吗", "request_assessment", "长期护理保险"),
    ("尊老金我外婆能领吧", "ask_recommendation", "高龄津贴"),
    ("以后住养老院，失独的是不是能优先", "inform", "公办养老机构入住轮候"),
])
def test_questions_the_classifier_mistakes_for_requests_or_results_are_answered(text, intent, policy):
    s = Session()
    s.say("我妈83岁住在姑苏区，苏州户口")
    reply = s.say(text, intent)
    assert policy in Session.text(reply) and not s.slots.get("booking_kind") and not s.slots.get("lookup_purpose")


@pytest.mark.parametrize("text,intent,policy", [
    ("喘息服务是什么，我妈也八十多了，照顾他吃不消", "what_if", "喘息服务"),
    ("家里卫生间滑，想装扶手", "out_of_scope", "居家适老化改造补贴"),
])
def test_a_named_policy_with_a_wish_or_a_question_is_answered(text, intent, policy):
    s = Session()
    s.say("我爸83岁住在姑苏区，苏州户口")
    assert policy in Session.text(s.say(text, intent))


@pytest.mark.parametrize("opening,later,fact,value", [
    ("我妈85岁住在姑苏区，卧床不起", "就是我们家里人在照顾她，我和我爸两个人", "family_caregiver", True),
    ("我七十九了住在观前街，外地户口", "老太婆照顾我", "family_caregiver", True),
    ("我今年八十了住在昆山", "老头子前年走脱了，现在一家头", "living", "独居"),
    ("他八十了住在相城", "还有老伴一起住，两个老的", "living", "空巢"),
])
def test_the_household_said_with_another_family_word_is_kept(opening, later, fact, value):
    s = Session()
    s.say(opening)
    reply = s.say(later)
    assert s.slots.get(fact) == value and "这句先不记" not in Session.text(reply)


def test_continue_said_in_words_answers_the_offer_not_more_cards():
    s = Session()
    s.say("我妈85岁住在姑苏区，苏州户口")
    reply = s.say("好的继续吧", "more")
    assert s.slots["continuing"] is True and s.slots["asked_fact"]


def test_the_grade_typed_as_its_number():
    s = Session()
    s.say("我妈85岁住在姑苏区，苏州户口")
    s.say("好", "affirm")
    while s.slots.get("asked_fact") not in (None, "disability_grade"):
        s.say("不知道", "dont_know")
    if s.slots.get("asked_fact") == "disability_grade":
        s.say("2")
        assert s.slots["disability_grade"] in (2, "2")


def test_the_same_age_again_is_heard():
    s = Session()
    s.say("我妈88岁")
    reply = s.say("88")
    assert "已经记下了" in Session.text(reply) and "没听明白" not in Session.text(reply)


@pytest.mark.parametrize("text", ["不用问了", "不问了，直接说"])
def test_stop_asking_is_no_answer_to_the_question(text):
    s = Session()
    s.say("我妈85岁住在姑苏区，苏州户口")
    s.say("好", "affirm")
    asked = s.slots["asked_fact"]
    reply = s.say(text, "ask_recommendation")
    assert s.slots.get(asked) in (None, "不知道") and "记下了" not in Session.text(reply)


@pytest.mark.parametrize("text,intent", [("我老伴走了", "goodbye"), ("我就一个儿子前几年走了", "inform"),
                                         ("老头子去年过世了，现在一个人住", "inform")])
def test_a_loss_is_heard_never_taken_for_goodbye(text, intent):
    s = Session()
    s.say("我今年八十二，住在相城")
    reply = Session.text(s.say(text, intent))
    assert "节哀" in reply and "祝" not in reply and s.slots.get("asked_fact")   # the conversation goes on


def test_a_lost_only_child_is_a_family_planning_special_family():
    s = Session()
    s.say("我今年八十二，住在相城")
    s.say("我就一个儿子前几年走了")
    assert s.slots["family_planning_special"] is True


def test_a_relative_who_just_left_is_no_loss():
    s = Session()
    s.say("我今年八十二，住在相城")
    assert "节哀" not in Session.text(s.say("女儿刚走了，我一个人在家", "inform"))
