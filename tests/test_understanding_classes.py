"""Classes of understanding misses found by the blind evaluation (issue 16, second round), each
tested with examples written for this file (never the evaluation's own messages): the mechanism,
not the phrase. Pure Python: understanding.facts_extractor only.
"""
import datetime as dt

import pytest

from understanding.facts_extractor import extract

TODAY = dt.date(2026, 3, 1)


def facts(text, **kw):
    return extract(text, today=TODAY, **kw).facts


def reading(text, fact):
    return extract(text, today=TODAY, readings=True).readings.get(fact)


# --- a question about a category, a threshold or a programme states nothing -----------------

@pytest.mark.parametrize("text,fact", [
    ("申请尊老金需不需要本地户口", "hukou"),             # A-not-A right before the phrase
    ("住养老院用不用苏州户口啊", "hukou"),
    ("特困户去敬老院要不要交钱", "economic_status"),       # the phrase opens a question with 要不要
    ("低保户的助餐是不是不要钱", "economic_status"),        # X的<service>是不是…
    ("失独家庭是不是可以优先排", "family_planning_special"),
    ("七十岁的体检是免费的吗", "age"),                    # an age qualifying a service asked about
    ("是不是要满七十五岁才能领", "age"),                  # a threshold: 才
    ("九十岁才有的那个补贴叫什么", "age"),
    ("评估做完了是不是就能领钱", "care_assessed"),         # a consequence asked about
    ("评上以后每个月能拿多少", "care_assessed"),
    ("还在等评估结果出来", "care_assessed"),               # waiting: not done yet
    ("卧床不起的老人有没有上门护理", "care_level"),         # bed-bound, but a category
    ("急难救助要准备什么材料", "emergency"),               # a programme's name
    ("那个急难型救助我们能申请伐", "emergency"),
    ("五保户好去敬老院伐", "economic_status"),
])
def test_a_question_states_nothing(text, fact):
    assert fact not in facts(text)


def test_the_same_words_said_as_a_statement_still_count():
    assert facts("我妈是特困户，去敬老院要不要交钱")["economic_status"] == "特困"
    assert facts("我爸卧床不起三年了")["care_level"] == "重度失能"
    assert facts("家里老人突然生了大病，生活过不下去了")["emergency"] is True


def test_a_place_naming_a_programme_is_no_home():
    assert "district" not in facts("常熟那个急难救助外地人能申请吗")
    assert facts("听说昆山有尊老金，我们住太仓的能领吗")["district"] == "太仓市"


# --- someone else's situation in the same message ------------------------------------------

@pytest.mark.parametrize("text,age", [
    ("我爸八十六，我妈也八十三了", 86),            # 也: a second person beside the elder
    ("我外婆九十一了，外公也八十九", 91),
    ("我今年七十七，老伴七十五", 77),             # the speaker's own age beside the spouse's
    ("伲八十一哉，老太婆七十九", 81),
])
def test_a_second_persons_age_beside_the_elders(text, age):
    assert facts(text)["age"] == age


def test_a_second_person_alone_keeps_the_age_and_says_so():
    # with no other age the dialogue judges it against the elder it knows: the fact stays, with a cue
    result = extract("我姑姑也七十六了", today=TODAY)
    assert result.facts["age"] == 76 and "another_person" in result.cues


@pytest.mark.parametrize("text", [
    "我姐今年六十八，她一直在照顾我妈",           # the carer's age, the elder named after the verb
    "我阿姨七十了，她在伺候我外婆",
])
def test_a_carers_age_is_not_the_elders(text):
    result = extract(text, today=TODAY, readings=True)
    assert "age" not in result.facts and "age" not in result.readings


def test_a_spouse_with_an_age_and_no_age_of_the_speaker_is_the_elder():
    got = facts("我老头子今年八十四，半身不遂，我一个人弄不动")
    assert got["subject"] == "relative" and got["age"] == 84


@pytest.mark.parametrize("text", [
    "我婆婆腿脚还行。我老公是她儿子，去年脑梗瘫了",    # a clause continuing one about someone else
    "我老伴走路要人扶",
])
def test_someone_elses_care_needs_are_not_the_elders(text):
    assert "care_level" not in facts(text)


@pytest.mark.parametrize("text", [
    "就一个孙子 在 外地",                       # shorthand: where someone is, not a 户口
    "我有个外甥在外地",
])
def test_someone_being_elsewhere_is_no_hukou(text):
    assert "hukou" not in facts(text)


def test_a_reply_about_a_child_elsewhere_is_no_hukou_answer():
    assert reading("他女儿在外地上班，儿子在无锡", "hukou") is None
    assert reading("他女儿在外地上班，儿子在无锡", "disability_grade") is None   # 无 inside 无锡
    assert reading("外地的", "hukou") is False


@pytest.mark.parametrize("text,district", [
    ("我住在唯亭，老家是太仓的", "苏州工业园区"),       # where one comes from, beside the home
    ("女儿劝我搬去园区住，我不想去，还是住在木渎", "吴中区"),  # a move proposed, not made
])
def test_hometowns_and_proposed_moves_are_no_home(text, district):
    assert facts(text)["district"] == district


def test_a_hometown_said_alone_still_names_the_place():
    assert facts("老家是盛泽的")["district"] == "吴江区"
    assert facts("前年搬到湖东了")["district"] == "苏州工业园区"


@pytest.mark.parametrize("text", [
    "我是替我妈来咨询的，她八十五，住在相城",      # asking on someone's behalf is no care
    "我七十八，老太婆瘫在床上，我服侍伊",          # the elder speaking cares for a spouse
    "政府对独居老人有啥照顾",                      # care asked about
])
def test_no_family_carer_read_from_these(text):
    assert "family_caregiver" not in facts(text)


# --- events long past ---------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "九二年厂里出过工伤",
    "老伴十年前出了车祸",
    "年轻时候出过意外，现在还好",
    "九五年家里着过火",
])
def test_an_event_long_past_is_no_emergency(text):
    assert "emergency" not in facts(text)


@pytest.mark.parametrize("text", ["上礼拜老伴出了车祸", "去年底家里着火了，现在过不下去", "今年查出来癌症，钱都花光了"])
def test_a_recent_event_is_still_an_emergency(text):
    assert facts(text)["emergency"] is True


# --- an assessment of something else -------------------------------------------------------

@pytest.mark.parametrize("text", ["街道给伲评了低保", "去年评上了困难户", "村里把我们评为低保边缘家庭"])
def test_being_rated_for_something_else_is_no_care_assessment(text):
    assert "care_assessed" not in facts(text)


def test_a_care_assessment_still_counts():
    got = facts("前年评过，是重度")
    assert got["care_assessed"] is True and got["care_level"] == "重度失能"


# --- 户口 in a Suzhou town the lexicon does not list (the gazetteer) ----------------------------

@pytest.mark.parametrize("text,value", [
    ("芦墟户口", True),
    ("户口是德积的", True),
    ("户口本上是蠡口的", True),
    ("户口就是后塍的", True),
    ("浦庄的户口", True),
    ("不是菀坪户口", False),
    ("户口在合肥", False),
])
def test_hukou_in_a_town_the_gazetteer_knows(text, value):
    assert facts(text)["hukou"] is value


# --- Wu and elder words -------------------------------------------------------------------

@pytest.mark.parametrize("text,age", [("阿爹九十哉", 90), ("伲七十八哉，一家头住", 78), ("我娘八十四嘞", 84)])
def test_wu_sentence_final_particles_after_an_age(text, age):
    assert facts(text)["age"] == age


@pytest.mark.parametrize("text,fact,value", [
    ("残疾证弗曾办", "disability_grade", "none"),
    ("残疾人证勿曾办过", "disability_grade", "none"),
    ("就一个囡儿，前年生病死脱哉", "family_planning_special", True),
    ("伲独养儿子老早走掉了", "family_planning_special", True),
    ("困在床上一年多了", "care_level", "重度失能"),
    ("跟伲一淘住", "living", "与家人同住"),
    ("伲娘一直服侍伊", "family_caregiver", True),
])
def test_wu_words(text, fact, value):
    assert facts(text)[fact] == value


@pytest.mark.parametrize("text", ["瞎说，没有的事", "覅瞎讲", "哪有的事"])
def test_a_rebuke_answers_no(text):
    assert reading(text, "dementia") is False


def test_a_correction_marker_is_no_answer_to_the_question():
    result = extract("不对，她身份证上是1941年5月的", today=TODAY, readings=True)
    assert result.facts["age"] == 84 and "hukou" not in result.readings
    assert reading("不对，没有", "hukou") is False


# --- dementia "no" said as a clear mind ---------------------------------------------------------

@pytest.mark.parametrize("text", ["她脑子灵光得很", "脑筋还清爽个", "头脑一直很清醒", "我爸脑子好使着呢", "勿是 脑子清清爽爽"])
def test_a_clear_mind_is_no_dementia(text):
    assert facts(text)["dementia"] is False


@pytest.mark.parametrize("text", ["脑子不大清楚了", "脑子清楚吗", "儿子脑子好使", "人很好"])
def test_not_a_clear_mind_statement(text):
    assert "dementia" not in facts(text)


# --- medical insurance said indirectly -------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    ("社保卡是有的", True),
    ("医保一直在交", True),
    ("医保是在吴江交的", True),
    ("有农保的", True),
    ("新农合在老家交的", False),
    ("医保倒是没有", False),
])
def test_medical_insurance_said_indirectly(text, value):
    assert facts(text)["medical_insured"] is value


def test_the_place_of_the_insurance_is_no_home():
    assert "district" not in facts("医保是在相城交的")


# --- care level: fine taken back, supervision, everything managed, spaced typing ---------------

@pytest.mark.parametrize("text", [
    "身体倒还可以，就是拖地吃力",               # fine, but a chore is hard: no level
    "身子骨还行，不过腿脚不灵便了",
    "样样自家弄 就是吃力",
])
def test_fine_taken_back_gives_no_level(text):
    assert "care_level" not in facts(text)


def test_fine_taken_back_by_a_daily_activity_is_estimated_from_it():
    got = extract("身体还行，就是洗澡得有人在旁边看着", today=TODAY)
    assert got.facts["care_level"] == "轻度失能" and "care_level" in got.estimated


def test_someone_elses_difficulty_does_not_take_the_fine_back():
    assert facts("我身体还可以，老伴腿脚不行了")["care_level"] == "能力完好"


@pytest.mark.parametrize("text", [
    "样样都能自己弄",
    "啥都自家来",
    "不用人管的",
    "身子骨 还 硬朗",                          # a space between every word
    "买菜 烧饭 都 自己 弄",
])
def test_everything_managed_is_able(text):
    got = extract(text, today=TODAY)
    assert got.facts["care_level"] == "能力完好" and "care_level" in got.estimated


# --- household, carers, children, income -------------------------------------------------------

@pytest.mark.parametrize("text,value", [
    ("两个老的自己住", "空巢"),
    ("跟老太婆两个人，儿子在外地", "空巢"),
    ("我爸跟我妈两个，住在渭塘", "空巢"),
    ("跟俺一块住", "与家人同住"),
])
def test_living_said_indirectly(text, value):
    assert facts(text)["living"] == value


@pytest.mark.parametrize("text", ["女儿儿子都不在身边", "囡儿勿在跟前 全靠钟点工", "就靠保姆照顾"])
def test_no_family_carer_said_indirectly(text):
    assert facts(text)["family_caregiver"] is False


@pytest.mark.parametrize("text", ["他一辈子没成过家", "无儿无女", "没有子女", "有三个女儿", "我们姐弟两个"])
def test_no_only_child_to_lose(text):
    assert facts(text)["family_planning_special"] is False


def test_children_not_there_to_care_say_nothing_of_the_family_plan():
    assert "family_planning_special" not in facts("没有孩子照顾她")


@pytest.mark.parametrize("text", ["没吃低保，普通工人退休的", "低保啥的都没有", "就是普通老百姓"])
def test_an_ordinary_household(text):
    assert facts(text)["economic_status"] == "一般"


# --- who is talking -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "我们村里有个孤老，八十三了",                   # someone speaks of an elder they know
    "楼上一位老太太，九十岁，一个人住",
])
def test_an_elder_spoken_of_as_someone(text):
    assert facts(text)["subject"] == "relative"


@pytest.mark.parametrize("text,district", [
    ("我是枫桥街道的社工，有个老人想申请助餐", "虎丘区"),
    ("我是木渎社区的，帮辖区里一个老人问问", "吴中区"),
])
def test_an_operators_area_is_the_elders(text, district):
    got = facts(text)
    assert got["district"] == district and got["subject"] == "relative"


@pytest.mark.parametrize("text", [
    "帮朋友问的，我自己今年七十，住在吴江",
    "我不是低保，是帮老同事打听的",
])
def test_asking_for_someone_outside_the_family_then_speaking_of_oneself(text):
    assert facts(text)["subject"] == "self"


def test_asking_for_an_elder_of_the_family_is_still_a_relative():
    assert facts("帮我外公问的，他八十八")["subject"] == "relative"


def test_the_要是_inside_主要是_is_no_condition():
    result = extract("主要是我姐在家照顾", today=TODAY)
    assert result.facts["family_caregiver"] is True and not result.hypothetical


# --- more of the same classes -------------------------------------------------------------------

@pytest.mark.parametrize("text", ["前天夜里他突然脑梗住院了，存款都垫进去了", "老伴一下子病倒了", "家里积蓄全部用光了"])
def test_a_sudden_event_or_the_money_gone_said_in_other_words(text):
    assert facts(text)["emergency"] is True


def test_eating_as_a_matter_of_money_is_no_daily_activity():
    got = facts("下岗以后家里吃饭都成问题，想问问救助")
    assert "care_level" not in got


def test_another_elder_of_the_family_beside_the_speaker():
    got = extract("我大娘也八十了", today=TODAY)
    assert got.facts["subject"] == "relative" and "another_person" in got.cues


def test_someone_elses_age_is_no_bare_answer():
    assert reading("我儿子今年五十五", "age") is None
    assert reading("七十九", "age") == 79


@pytest.mark.parametrize("said, age", [("我老娘九十了", 90), ("伲老爹今年八十七", 87)])
def test_plain_words_for_mother_and_father_are_a_relative_speaking(said, age):
    import datetime as dt
    from understanding.facts_extractor import extract
    found = extract(said, today=dt.date(2026, 12, 7)).facts
    assert found.get("subject") == "relative" and found.get("age") == age
