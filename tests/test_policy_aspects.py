"""Questions about one policy are answered on the aspect asked, from the KB (issue 16).

The aspect comes from the lexicon's cues (understanding/lexicon.yml `cues:`) as the fact extractor
sets them; the answer from actions.policy_answers.answer_lines with a Policy and the engine's Result.
"""
from __future__ import annotations

import datetime as dt
import shutil

import pytest
import yaml

from actions.conversation import Conversation
from actions.policy_answers import ASPECTS, answer_lines, aspect_of
from actions.turn import Turn
from policy_kb.engine import evaluate
from policy_kb.kb import POLICY_DIR, KnowledgeBase
from policy_kb.schema import PolicyFileError
from policy_kb.search import PolicySearch
from understanding.facts_extractor import extract

KB = KnowledgeBase.from_directory()
TODAY = dt.date(2026, 12, 1)          # the voucher (2026-01-01 … 2026-12-31) runs


def aspect(text: str) -> str | None:
    return aspect_of(extract(text, today=TODAY).cues)


def answer(policy_id: str, text: str, profile: dict | None = None, today: dt.date = TODAY) -> str:
    result = next(r for r in evaluate(KB, profile or {}, today) if r.id == policy_id)
    return "\n".join(answer_lines(KB.get(policy_id), result, aspect(text), None, bool(profile), today=today))


# --- which aspect a question asks ---------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "养老服务消费补贴什么时候结束", "养老券啥时候截止", "消费补贴到什么时候", "这个补贴哪天结束",
    "消费券今年还能申请吗", "养老券明年还有吗", "养老服务消费补贴还有吗", "电子消费券什么时候到期",
    "长护险是从什么时候开始的", "消费补贴开始了没有", "养老券有效期到哪天", "这个补贴以后还有吗",
])
def test_start_and_end_questions_are_dates(text):
    assert aspect(text) == "ask_dates"


@pytest.mark.parametrize("text", [
    "吴江的急难救助多久能拿到钱", "急难救助几天能到账", "长护险几天能批下来", "尊老金申请了要等多久",
    "急难型救助几个工作日能发下来", "长护险评估多长时间出结果", "什么时候能批下来", "轮候要排多久",
])
def test_how_long_questions_are_processing_time(text):
    assert aspect(text) == "ask_time"


@pytest.mark.parametrize("text", [
    "长护险怎么申请", "尊老金怎么领", "适老化改造的流程是怎样的", "长护险咋申请", "急难救助去哪办",
    "如何办理养老券", "高龄津贴怎么办", "申请适老化改造有哪些步骤",
])
def test_how_to_apply_questions(text):
    assert aspect(text) == "ask_how"


@pytest.mark.parametrize("text,expected", [
    ("长护险怎么申请，要带什么材料", "ask_documents"),   # the specific part of a two-part question
    ("适老化改造要准备啥", "ask_documents"),
    ("尊老金一个月给多少", "ask_amount"),
    ("长护险去哪里申请", "ask_where"),
    ("谁能先排上养老院", "ask_who"),
    ("养老券什么时候结束，一个月多少钱", "ask_amount"),
])
def test_other_aspects_keep_their_cues(text, expected):
    assert aspect(text) == expected


def test_every_aspect_has_cues_in_the_lexicon():
    cues = set()
    for text in ("什么时候结束", "多久", "怎么申请", "带什么", "去哪", "谁能", "多少钱"):
        cues |= extract(text, today=TODAY).cues
    assert set(ASPECTS) <= cues


# --- dates: valid_from / valid_to in plain words, open today or not --------------------------------

@pytest.mark.parametrize("text", ["养老服务消费补贴什么时候结束", "消费券今年还能申请吗", "养老券明年还有吗"])
def test_voucher_end_date_and_open_today(text):
    said = answer("care_service_voucher", text)
    assert "2026年12月31日结束" in said and "2026年1月1日开始" in said
    assert "现在还在实施" in said
    assert "以后还有没有，政策里没有写，请问当地民政部门" in said   # next year: the KB does not say
    assert "2026-12-31" not in said and "办理时间" not in said     # a date, not a processing time


def test_voucher_after_its_end():
    said = answer("care_service_voucher", "养老券什么时候截止", today=dt.date(2027, 1, 5))
    assert "2026年12月31日结束" in said and "已经结束了" in said and "现在还在实施" not in said


def test_voucher_before_its_start():
    said = answer("care_service_voucher", "养老券啥时候开始", today=dt.date(2025, 11, 20))
    assert "还没开始，到2026年1月1日才能申请" in said and "以后还有没有" not in said


def test_closed_programme_is_said_once_with_the_status():
    said = answer("care_service_voucher", "养老券什么时候结束", {"age": 85}, today=dt.date(2027, 1, 5))
    assert "已经结束了" in said and "暂不符合" in said and said.count("结束") == 2   # the span, then "已经结束了"


def test_start_only_and_no_dates():
    said = answer("ltc_insurance", "长护险是从什么时候开始的")
    assert "2017年10月1日开始实施" in said and "没有写结束的日子" in said and "现在还在实施" in said
    said = answer("senior_allowance", "尊老金明年还有吗")
    assert "没有写开始和结束的日子" in said and "现在还在实施" in said


def test_engine_reason_for_a_closed_programme_is_in_plain_words():
    result = next(r for r in evaluate(KB, {"age": 85}, dt.date(2027, 1, 5)) if r.id == "care_service_voucher")
    assert result.reasons == ["这项政策已于2026年12月31日结束"]


# --- processing time: only what the KB gives ------------------------------------------------------

@pytest.mark.parametrize("text", ["吴江的急难救助多久能拿到钱", "急难救助几天能到账", "急难型救助要等几个工作日"])
def test_emergency_aid_processing_time(text):
    said = answer("wujiang_emergency_aid", text)
    assert "不超过3个工作日" in said and "没有写明办理时间" not in said


@pytest.mark.parametrize("policy_id,text,contact", [
    ("ltc_insurance", "长护险几天能批下来", "苏州市医疗保障局"),
    ("senior_allowance", "尊老金申请了要等多久", "户籍所在社区居委会"),
    ("public_care_home_waitlist", "养老院轮候要排多久", "所在区民政局养老服务科"),
])
def test_processing_time_not_given_says_so_and_whom_to_ask(policy_id, text, contact):
    said = answer(policy_id, text)
    assert "没有写明办理时间" in said and f"请问{contact}" in said
    assert "工作日" not in said   # nothing invented


def test_steps_are_named_when_the_time_is_unknown():
    said = answer("ltc_insurance", "长护险多长时间能评下来")
    assert "要经过这几步：选一家长护险定点护理服务机构" in said


def test_only_the_brief_gives_a_processing_time():
    """The brief gives a processing time for the Wujiang emergency aid only: no other is invented."""
    with_time = {p.id for p in KB.policies if p.apply.get("processing_time")}
    assert with_time == {"wujiang_emergency_aid"}
    assert "3个工作日" in KB.get("wujiang_emergency_aid").apply["processing_time"]


# --- how to apply: steps, where, documents ----------------------------------------------------------

def test_how_to_apply_lists_steps_where_and_documents():
    said = answer("ltc_insurance", "长护险咋申请")
    assert "怎么申请" in said and "1. 选一家长护险定点护理服务机构" in said and "4. 评估结果公示" in said
    assert "在哪里办：选择一家长护险定点护理服务机构" in said
    assert "要带：《苏州市长期护理保险失能等级评估申请表》" in said and "诊断证明和完整病历资料" in said


def test_how_to_apply_without_steps_still_says_where_and_what_to_bring():
    said = answer("senior_allowance", "尊老金怎么领")
    assert "在哪里办：户籍所在社区居委会或街道" in said and "要带：身份证、户口本、银行卡或社保卡" in said
    said = answer("wujiang_emergency_aid", "急难救助去哪办")
    assert "吴江区所在镇（街道）社会救助窗口" in said and "吴江区民政局" in said


def test_how_to_apply_online():
    said = answer("care_service_voucher", "养老券如何办理")
    assert "1. 在民政通 App 或小程序申请" in said and "民政通 App 或小程序" in said


# --- documents, where, amount, who ------------------------------------------------------------------

@pytest.mark.parametrize("policy_id,text,documents", [
    ("ltc_insurance", "长护险要准备哪些材料", ["《苏州市长期护理保险失能等级评估申请表》", "社保卡", "诊断证明"]),
    ("home_modification", "适老化改造要带啥", ["老人身份证", "房屋产权证明", "需房主同意"]),
    ("severe_disability_care_allowance", "护理补贴要带什么证件", ["残疾人证（一级或二级）", "身份证、户口本"]),
])
def test_documents(policy_id, text, documents):
    said = answer(policy_id, text)
    assert "要带：" in said and all(d in said for d in documents)


def test_documents_the_kb_does_not_list():
    said = answer("care_service_voucher", "养老券要带什么材料")
    assert "没有写要带哪些材料" in said and "民政通 App 或小程序" in said and "当地民政部门" in said


def test_where():
    said = answer("free_health_checkup", "免费体检去哪里做")
    assert "居住地的社区卫生服务中心" in said


@pytest.mark.parametrize("policy_id,text,expected", [
    ("care_service_voucher", "养老券一个月能领多少", "800元/月"),
    ("home_modification", "适老化改造补多少钱", "3000元"),
    ("senior_allowance", "尊老金一个月给多少", "待核实"),   # a 待核实 amount stays marked
])
def test_amount(policy_id, text, expected):
    assert expected in answer(policy_id, text)


def test_who():
    said = answer("public_care_home_waitlist", "什么样的人可以排公办养老院")
    assert "60岁以上" in said and "1 特困供养人员" in said


# --- in the conversation: Suzhou's date of the turn decides "open today" ------------------------------

def _ask(text: str, today: dt.date) -> str:
    r = extract(text, today=today, readings=True)
    turn = Turn(intent="ask_policy", text=text, facts=dict(r.facts), cues=set(r.cues), entities=dict(r.facts))
    reply = Conversation({}, turn, KB, PolicySearch(KB), today).respond()
    return "\n".join(m["text"] for m in reply.messages)


def test_conversation_answers_the_end_date_on_the_turns_date():
    assert "现在还在实施" in _ask("养老服务消费补贴什么时候结束", dt.date(2026, 6, 1))
    said = _ask("养老服务消费补贴什么时候结束", dt.date(2027, 2, 1))
    assert "2026年12月31日结束" in said and "已经结束了" in said


def test_conversation_answers_the_emergency_aid_time():
    said = _ask("吴江的急难救助多久能拿到钱", TODAY)
    assert "不超过3个工作日" in said


# --- the schema: apply.processing_time ------------------------------------------------------------

@pytest.mark.parametrize("bad", ["", "   ", 3, ["3个工作日"]])
def test_processing_time_must_be_text(tmp_path, bad):
    target = tmp_path / "policies"
    shutil.copytree(POLICY_DIR, target)
    path = target / "senior_allowance.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["apply"]["processing_time"] = bad
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyFileError) as info:
        KnowledgeBase.from_directory(target)
    assert info.value.file == str(path) and info.value.field == "apply.processing_time"
