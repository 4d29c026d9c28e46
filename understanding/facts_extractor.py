"""Deterministic extraction of profile facts from Chinese text.

Pure Python (no Rasa): the CLI, the actions and the Rasa component
(`rasa_component.FactExtractor`) all call `extract()`. Fact names and values
are the public contract in policy_kb/facts.yml. Word lists live in
lexicon.yml so they can grow without code changes.

Design, in short:
* every recogniser adds candidates (fact, value, span); the last mention of a
  fact wins, so corrections ("85岁，不对，是87岁") work; after a correction or 现在/其实
  the first value after the marker wins, and a mention about the future, what
  someone else says or the past never overrides a plain one (_winner);
* "weak" candidates (hints such as "有退休金" -> 一般) only count when nothing
  clearer was said;
* negation, hypotheticals and questions about a category ("低保户能领什么")
  are checked around each phrase;
* ID and phone numbers are masked in the working text first, so no other
  recogniser can read digits out of them, and the full ID never leaves here.
"""
from __future__ import annotations

import datetime as _dt
import re
from bisect import bisect_left
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import yaml

from understanding import gazetteer
from understanding import numbers as N
from understanding.normalizer import normalized_input

LEXICON_PATH = Path(__file__).with_name("lexicon.yml")
BOOL_FACTS = ("hukou", "care_assessed", "dementia", "family_planning_special",
              "medical_insured", "emergency", "family_caregiver")
CARE_LEVELS = ("能力完好", "轻度失能", "中度失能", "重度失能", "完全失能")  # facts.yml's order, mildest first
ADL_ORDER = ("进食", "穿衣", "洗澡", "如厕", "室内行走", "上下床")
MAX_TEXT = 20_000  # longer input is cut: a profile never needs more

_BREAKS = "，。；！？,.;!?\n、…"
_BREAK_CLASS = "[" + re.escape(_BREAKS) + "]"
_END = r"(?=[\s" + re.escape(_BREAKS) + r"/|]|$)"
_LE = "了|啦|哉|嘞|咯|喽|咧"   # a sentence-final 了, with Wu 哉 ("阿爹九十哉")
_JUNK = " \t" + _BREAKS + "嗯呃啊哦噢额唉~"  # what a message may start or end with besides its words


def _cjk(ch: str) -> bool:
    return len(ch) == 1 and "\u4e00" <= ch <= "\u9fff"


@dataclass(frozen=True)
class Extracted:
    fact: str
    value: object
    start: int
    end: int
    text: str
    estimated: bool = False


@dataclass
class ExtractionResult:
    facts: dict = field(default_factory=dict)
    spans: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    estimated: set = field(default_factory=set)
    # Facts said under a condition ("如果我妈评上重度失能"): what a what-if asks with.
    hypothetical: set = field(default_factory=set)
    # How a short reply would answer each question the advisor may have asked ("82" -> age 82,
    # "有" -> every yes/no fact true), so the dialogue reads answers in context without
    # extracting again. Only facts the message does not state outright; "!problem" marks an
    # impossible answer ("200" -> age: "!age_out_of_range").
    readings: dict = field(default_factory=dict)
    # Conversation cues: "dont_know" (不知道, 说不清), "impatient" (直接告诉我, 别问了), "correction"
    # (a value said after 不对/哦不是/说错了…: "七十六哦不是七十七", "不对，她88了"), "incomplete" (the
    # message stops where its value should come: "我今年", "她住在", "户口是"), the ask_* cues.
    cues: set = field(default_factory=set)
    # A vague age ("八十出头", "快九十了", "七十多快八十"): (lo, hi) in full years, inclusive, when no
    # exact age was said; never an `age` fact. Bands: lexicon.yml speech.vague_age.
    age_range: tuple[int, int] | None = None
    # How the speaker is related to the elder (我妈 -> 子女, 来电老人 -> 社区/热线工作人员), as the
    # booking form names it; None when the words do not say.
    relation: str | None = None
    # Places named as the elder's home that lie in several districts (gazetteer.py): name ->
    # the districts, in facts.yml's order ("住在太湖边" -> {"太湖": ["虎丘区", "吴中区", …]}). No
    # district fact comes from them: the dialogue asks. A choice the stated district settles
    # ("吴中区，太湖边") is left out.
    place_choices: dict = field(default_factory=dict)


# --- lexicon ----------------------------------------------------------------------

def _alt(words) -> str:
    """Regex alternation of literal words, longest first (so 低保边缘 beats 低保)."""
    ws = sorted({str(w) for w in words if str(w)}, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(w) for w in ws) + ")" if ws else "(?!)"


def _norm_keys(obj):
    # YAML reads `true:`/`false:` keys as booleans; the code wants strings.
    if isinstance(obj, dict):
        return {("true" if k is True else "false" if k is False else k): _norm_keys(v)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [_norm_keys(v) for v in obj]
    return obj


class _Lex:
    """The lexicon, with its regexes compiled once."""

    def __init__(self, d: dict):
        self.d = d
        c = re.compile
        neg, age = d["negation"], d["age"]
        fill = _alt(neg["fillers"])
        self.neg_before = c(_alt(neg["before"]) + f"(?:{fill}){{0,2}}\\s*$")
        self.question_pair = c(_alt(["有没有", "是不是", "有无", "是否", "有木有"]) + f"(?:{fill}){{0,2}}\\s*$"
                               # any A-not-A just before ("需不需要本地户口", "是勿是要满七十五"): a question
                               + r"|([^\s" + re.escape(_BREAKS) + r"])[不没勿弗]\1[^\s" + re.escape(_BREAKS) + r"]{0,2}$")
        # "医保没有", "低保啥的都没有", "残疾人证勿曾办过"
        self.neg_after = c(r"^\s*(?:啥的|什么的|之类的|这些)?(?:也|都|还)?" + _alt(neg["after"]) + r"过?(?:的|呢|啊|了)?" + _END)
        self.hedge = c(_alt(d["hedge_before"]))
        # No leading \s: in operator shorthand a space ends the phrase ("外地户口 能自理").
        # up to two fillers between ("卧床不起的老人能不能申请")
        self.question_after = c(r"^(?:" + _alt(d["question_fillers"]) + r"){0,2}" + _alt(d["question_after"]))
        self.question_always = c(r"^(?:" + _alt(d["question_fillers"]) + r"){0,2}" + _alt(d["question_after_always"]))
        self.conditional = c(r"(?<![主只需重还想])" + _alt(d["conditional"]))   # not the 要是 in 主要是, 只要是
        self.a_not_a = c(r"([^\s" + re.escape(_BREAKS) + r"])(?:没|不|勿|弗)\1")
        qq = d["question_qualifier"]
        self.qualifier_after = c(r"^的?" + _alt(qq["heads"] + qq["policy_words"])
                                 + r"|^的[^\s" + re.escape(_BREAKS) + r"]{0,4}?" + _alt(qq["service_words"]))
        self.question_word = c(_alt(qq["question_words"]))
        self.policy_word = c(_alt(qq["policy_words"]))
        self.clause_opening = c(r"^(?:[\s嗯呃啊哦那个]|" + _alt(qq["openers"]) + ")*")

        # age
        self.age_fill = _alt(age["fillers"])
        self.age_kw = c(_alt(age["keywords"]) + f"(?:{self.age_fill}){{0,2}}[\\s:：]*$")
        self.age_strict_kw = c(_alt(age["strict_keywords"]) + f"(?:{self.age_fill}){{0,2}}[\\s:：]*$")
        self.age_skip_before = c(_alt(age["skip_before"]) + f"(?:{self.age_fill})?\\s*$")
        self.age_future_before = c(_alt(age["future_before"]) + f"(?:{self.age_fill})?\\s*$")
        self.age_skip_after = c(r"^\s*(?!就是)" + _alt(age["skip_after"]))  # "七十八就是住湖东"
        self.age_units = c(r"^\s*" + _alt(age["units_after"]))
        self.age_measure = c(_alt(age["measure_before"]) + r"[^\s" + re.escape(_BREAKS) + r"]{0,2}$")
        self.elder_refs = set(age["elder_refs"])
        self.person = c(_alt(age["elder_refs"] + age["other_people"]))
        self.other_people = set(age["other_people"])
        self.other_after = c(r"^的?" + _alt(age["other_people"]))
        self.elder_ref_end = c(_alt(age["elder_refs"]) + f"(?:{self.age_fill}){{0,2}}[\\s，,:：]{{0,2}}$")
        self.id_kw = c(_alt(age["id_keywords"]))
        self.birth_patterns = self._birth_patterns(age)
        # a date said alone, as the value after a correction ("不对，三七年五月的", "不对，是1946年10月20号")
        self.birth_bare = self.birth_patterns.pop()

        # districts: alias -> canonical
        self.district_of = {a: k for k, aliases in d["districts"].items() for a in aliases}
        self.district_re = c(_alt(self.district_of))
        self.strict_aliases = set(d["strict_aliases"])
        self.strict_left = c(_alt(d["strict_left"]) + "$")
        self.district_not_before = c(r"^\s*" + _alt(d["district_not_before"]))

        # hukou / medical insurance: "<place>户口", "户口在<place>"
        hk = d["hukou"]
        self.sz_places = set(hk["suzhou_places"]) | set(self.district_of)
        self.out_places = set(hk["outside_places"])
        place = _alt(self.sz_places | self.out_places)
        kw = _alt(hk["keywords"])
        self.hukou_a = c(f"(?P<p>{place})\\s*的?\\s*{kw}")
        # no space after the keyword: in shorthand "外地户口 在张家港住" the space ends the phrase
        # "户口其实还在安徽老家": 其实/实际上 may come first
        self.hukou_b = c(f"{kw}(?:其实|实际上)?(?:也|还|都|就|早就|已经|现在|一直)?(?P<neg>不|没|勿|弗)?(?:是|在|落在)?(?P<p>{place})")
        self.hukou_kw = c(kw)
        self.hukou_elsewhere = c(f"{kw}(?:上面|上)?\\s*(?:其实|实际上)?(?:也|还|都|就|一直|现在|仍然|依然)?\\s*(?:在|是|落在)\\s*(?P<p>[\\u4e00-\\u9fff]{{2,4}}?)"
                                 f"(?=的|那边|那里|老家|乡下|农村|[\\s{re.escape(_BREAKS)}]|$)")
        self.hukou_moved = c(f"{kw}(?P<gap>[^{re.escape(_BREAKS)}]{{0,4}}?)" + _alt(hk["moved_in_verbs"]))
        self.hukou_phrases = self._phrases({"true": hk["true"], "false": hk["false"]})
        self.hukou_weak = c(_alt(hk["weak_false"]))
        self.hukou_token_of = {w: v == "true" for v, ws in hk["tokens"].items() for w in ws}
        self.hukou_token = c(r"(?:^|(?<=[\s/|，,、]))" + _alt(self.hukou_token_of) + r"(?=[\s/|，,、]|$)")
        mi = d["medical_insured"]
        mkw = _alt(mi["keywords"])
        self.med_a = c(f"(?P<p>{place})\\s*的?\\s*(?:职工|居民|城乡居民)?{mkw}")
        self.med_b = c(f"{mkw}卡?\\s*(?:也|还|都|一直)?\\s*(?P<neg>不|没|勿|弗)?\\s*(?:是在|是|在|交在|落在)\\s*(?P<p>{place})")
        self.med_has = c(f"{mkw}卡?\\s*(?:是|也|倒是|都|还|我们|伲|早就|一直)?\\s*(?P<neg>没|不|勿|弗|呒|还没|也没)?\\s*"
                         + _alt(mi["has"]) + r"(?=[\s" + re.escape(_BREAKS) + r"/|]|$|就是|然后|但是|不过|可是|而且|还有|那个)")
        self.med_phrases = self._phrases({"true": mi["true"], "false": mi["false"]})

        # care level
        cl = d["care_level"]
        self.care_of = {}
        for level, words in cl["everyday"].items():
            self.care_of.update({w: (level, True) for w in words})
        for level, words in cl["explicit"].items():
            self.care_of.update({w: (level, False) for w in words})
        self.care_re = c(_alt(self.care_of))
        self.care_not_before = c(r"^\s*" + _alt(cl["not_before"]))
        self.care_not_after = c(_alt(cl["not_after"]) + r"\s*$")
        self.short_level = dict(cl["short"])
        ca = d["care_assessed"]
        lvl = _alt([w for ws in cl["explicit"].values() for w in ws] + list(self.short_level))
        # "评上重度能多拿多少": 能/会/的话 may follow the level in unpunctuated speech.
        level_end = r"(?:失能)?(?=[的了啦\s/|" + re.escape(_BREAKS) + r"]|$|能|会|可以|那个|呢|吗)"
        # "评估结果是中度", "长护险评了重度": a level named right after an assessment word.
        self.level_ctx = c(_alt(ca["level_context"]) + f"(?P<gap>[^{re.escape(_BREAKS)}]{{0,3}}?)(?P<lvl>{lvl})" + level_end)
        self.assessed_phrases = self._phrases({"true": ca["true"], "false": ca["false"]})
        self.assessed_words = c(_alt(ca["true"]))
        self.assessed_other = c(_alt(ca["other_result"]))
        self.assessed_future = c(_alt(ca["future_after"]))
        self.assessed_done = c(r"(?P<neg>没有?|未|还没有?|从没有?|从来没有?)?(?:做|评|搞|弄)过(?:的)?[^\s" + re.escape(_BREAKS)
                               + r"]{0,8}?评估")
        self.short_alone = c(r"(?:^|(?<=[\s" + re.escape(_BREAKS) + r"是为的评成]))(?P<lvl>" + _alt(self.short_level)
                             + ")" + level_end)
        self.score_re = c(_alt(cl["score_words"]) + r"[是为了:：\s]*(?P<n>\d{1,3}|[零一二三四五六七八九十百]+)\s*分")
        self.score_bands = [(int(lo), lv) for lo, lv in cl["score_bands"]]
        self.score_max = int(cl["score_max"])
        sm = cl["self_managed"]
        # single spaces are allowed inside: some type a space between every word ("买菜 烧饭 都 自己 弄")
        nogap = r"(?:(?![不没勿弗])[^\n\t" + re.escape(_BREAKS) + r"]){0,%d}?"
        self.self_managed = c("(?:" + _alt(sm["tasks"]) + nogap % 4 + _alt(sm["self"] + sm["fine"])
                              + "|" + _alt(sm["self"]) + nogap % 3 + _alt(sm["tasks"])
                              + "|" + _alt(sm["body"]) + " ?(?:" + _alt(sm["degree"]) + " ?){0,2}" + _alt(sm["good"])
                              + "|" + _alt(sm["self"]) + " ?" + _alt(sm["all_words"]) + " ?(?:" + _alt(sm["able"]) + ")? ?" + _alt(sm["do"])
                              + "|" + _alt(sm["all_words"]) + " ?(?:" + _alt(sm["able"]) + ")? ?" + _alt(sm["self"]) + " ?" + _alt(sm["do"])
                              + "|" + _alt(sm["no_help"]) + "(?:" + _alt(sm["no_help_verbs"]) + ")?" + ")")
        self.fine_taken_back = c(_alt(sm["contradicted_by"]))
        self.self_managed_not = c(r"^[^\s" + re.escape(_BREAKS) + r"]{0,3}?" + _alt(sm["not_after"]))

        # ADL
        adl = d["adl"]
        self.act_of = {w: a for a, ws in adl["activities"].items() for w in ws}
        self.act_re = c(_alt(self.act_of))
        self.not_activity = c(_alt(adl["not_activity"]))
        self.act_end = c(_alt(self.act_of) + r"(?:都|也|还|基本)?$")
        self.help_phrase_of = {w: a for a, ws in adl["help_phrases"].items() for w in ws}
        self.help_phrase_re = c(_alt(self.help_phrase_of))
        self.cue_of = {w: None for w in adl["neutral_cues"]}
        self.cue_of.update({w: False for w in adl["no_help_cues"]})
        self.cue_of.update({w: True for w in adl["help_cues"]})
        # someone named between: "洗澡要老伴扶一把", "要村里的人帮着" (tried before the word list)
        # …and its negation, whole, so its verb is not read again as a need ("吃饭不需要人喂")
        gap = r"[^\s" + re.escape(_BREAKS) + r"]{0,5}?"
        # a need said after the negation is no longer negated: "腿脚不好洗澡要人帮" is a need
        nohelp_gap = r"(?:(?!" + _alt(adl["help_need"]) + r")[^\s" + re.escape(_BREAKS) + r"]){0,5}?"
        self.cue_re = c("(?P<nohelp>(?:不|没|无|不用|不必)" + _alt(adl["help_need"]) + "?" + nohelp_gap
                        + _alt(adl["help_verbs"]) + ")"
                        "|(?P<help>" + _alt(adl["help_need"]) + gap + _alt(adl["help_verbs"]) + ")|" + _alt(self.cue_of))
        self.joiner_only = c(r"^[\s" + "".join(re.escape(j) for j in adl["joiners"] if len(j) == 1) + r"]*$|^\s*"
                             + _alt(adl["joiners"]) + r"\s*$")
        self.adl_levels = sorted(((int(n), lv) for n, lv in adl["levels_by_count"]), reverse=True)
        self.bedridden_re = c(_alt(adl["bedridden"]))
        self.bedridden_level = adl["bedridden_level"]
        self.total_re = c(_alt(adl["total_dependence"]))
        self.total_level = adl["total_level"]

        # the simpler phrase facts
        self.dementia = self._phrases({"true": d["dementia"]["true"], "false": d["dementia"]["false"]})
        df = d["dementia"]["fine"]
        self.mind_fine = c("(?:" + _alt(df["heads"]) + "(?:" + _alt(df["degree"]) + "){0,2}" + _alt(df["words"])
                           + "|" + _alt(df["person_heads"]) + "(?:" + _alt(df["degree"]) + "){0,2}" + _alt(df["clear_words"])
                           + ")(?![^\\s" + re.escape(_BREAKS) + "]{0,2}(?:吗|么|伐|不|勿|了吗))")
        ec = d["economic_status"]
        self.econ_of = {w: v for v, ws in ec["values"].items() for w in ws}
        self.econ_re = c(_alt(self.econ_of))
        self.econ_general = c(_alt(ec["general"]) + "|" + _alt(ec["plain"]) + "的?" + _alt(ec["plain_heads"]))
        self.econ_skip_before = c(_alt(ec["skip_before"]))
        # "低保申请了还没批", but not "低保户能申请哪些服务".
        self.econ_skip_after = c(r"^[^" + re.escape(_BREAKS) + r"]{0,3}?(?<!能)(?<!可以)(?<!想)" + _alt(ec["skip_after"]))
        self.econ_identity_neg = c(_alt(ec["identity_negation"]) + f"(?:{fill}){{0,2}}\\s*$")
        self.econ_negatable = c(_alt(ec["negatable"]) + r"(?=\s*(?:也|都|全|根本)?(?:不是|不算|不属于))")
        self.econ_cause = c(_alt(ec["expense_causes"]))
        self.econ_cost = c(_alt(ec["expense_costs"]))
        lv = d["living"]
        self.living_of = {w: v for v, ws in lv["values"].items() for w in ws}
        self.living_re = c(_alt(self.living_of))
        self.alone_at = c(r"一个人(?:在|住在)[^\s" + re.escape(_BREAKS) + r"]{1,6}?(?:住|生活|过)")
        self.living_with = c(_alt(lv["with_words"]) + f"(?P<who>[^\\s{re.escape(_BREAKS)}]{{1,8}}?)"
                             + "(?:" + _alt(lv["together_verbs"]) + "|" + _alt(lv["together_alone"]) + _END + ")")
        self.family_word = c(_alt(lv["family_words"]))
        self.speaker_word = c(_alt(lv["speaker_words"]))
        self.couple_word = c(_alt(lv["couple_words"]))
        self.other_parent = c("^" + _alt(lv["other_parent_words"]))
        self.with_word_re = c(_alt(lv["with_words"]))
        self.definition_re = c(_alt(d.get("definition_questions") or ["$^"]))
        self.just_two = c(_alt(lv["just_two_words"]))
        self.alone_only = c(_alt(lv["alone_only"]) + "(?:" + _alt(age["elder_refs"]) + r")?(?:自己|自家)?一个(?:人|(?=[了啦\s"
                            + re.escape(_BREAKS) + r"]|$))")
        self.family_together = c("(?P<who>" + _alt(age["other_people"]) + ")(?:" + _alt(lv["family_together_fill"]) + "){0,3}"
                                 + r"(?P<neg>不|没有?|勿|弗)?(?:" + _alt(lv["family_together_fill"]) + "){0,2}"
                                 + _alt(lv["family_together"]))
        dg = d["disability_grade"]
        words = _alt(dg["words"])
        g = r"(?P<g>\d|[一二三四五六七八九十壹贰叁肆])"
        self.dis_r1 = c(f"(?P<w>{words})(?P<gap>[^。；;!?！？\\n]{{0,6}}?){g}\\s*级")
        self.dis_r2 = c(f"{g}\\s*级(?P<gap>[^{re.escape(_BREAKS)}]{{0,4}}?)(?P<w>{words})")
        self.dis_none = c(_alt(dg["none"]))
        self.dis_word = c(_alt([w for w in dg["words"] if len(w) > 1]))
        self.dis_not_after = tuple(dg["not_after"])
        fp = d["family_planning_special"]
        self.fp_phrases = self._phrases({"true": fp["true"]})
        kids = _alt(fp["children"])
        self.fp_none = c(_alt(fp["no_child"]) + r"|(?:没有?|无|没生过?|从没有?过?)(?:任何|一个)?" + kids
                         + r"(?!\s*(?:在|照顾|管|陪|帮|来|过来|回来))"   # "没有孩子照顾她" is about care
                         + r"|(?:两|三|四|五|六|几|好几)个" + kids + r"|" + _alt(fp["siblings"]) + r"(?:两|三|四|五|六|几|好几)个")
        self.fp_re = c(_alt(fp["only_child"]) + "(?P<gap>[^。；;!?！？\\n]{0,8}?)" + _alt(fp["loss"]))
        em = d["emergency"]
        self.emergency = self._phrases({"true": em["true"], "false": em["false"]})
        self.emergency_not_before = c(_alt(em["not_before"]))
        self.emergency_more = c(_alt(em["sudden"]) + r"[^\s" + re.escape(_BREAKS) + r"]{0,5}?" + _alt(em["events"])
                                + r"|(?:钱|积蓄|存款|家底)(?:都|全|全部|基本|也)?(?:给|被)?" + _alt(em["money_gone"]))
        self.emergency_past = c(_alt(em["past"]) + r"|(?P<n>\d{1,2}|[一二三四五六七八九十几两]{1,3})(?:多)?年(?:前|以前)"
                                r"|(?<![\d零〇一二三四五六七八九])(?P<y>\d{2}|\d{4}|[零〇一二三四五六七八九]{2}|[零〇一二三四五六七八九]{4})年(?![龄纪级])")
        fc = d["family_caregiver"]
        self.carer_phrases = self._phrases({"true": fc["true"], "false": fc["false"]})
        kin = _alt(d["subject"]["relative_kin"])
        self.carer_re = c("(?P<carer>(?:我家|我的|我|伲家|伲)" + kin + "|" + _alt(fc["carers"]) + f")(?P<gap>[^{re.escape(_BREAKS)}]{{0,8}}?)" + _alt(fc["verbs"])
                          + "(?!" + _alt(fc["verb_not_before"]) + ")")
        self.carer_gap_skip = c(_alt(fc["gap_skip"]))
        self.carer_ask_after = c(r"[^\s" + re.escape(_BREAKS) + r"]{0,4}?" + _alt(fc["ask_after"]))
        self.carer_away = c(_alt(fc["away_family"]) + r"(?:都|也|又|全|平时|现在|一直)?(?:不|勿|弗|没有?)(?:在|住在?)?"
                            + _alt(fc["away_places"]))
        self.carer_paid_only = c(_alt(fc["paid_only_before"]) + r"(?:请了?个?|请的|一个)?" + _alt(fc["paid"]))
        self.gap_neg = c(r"不|没|无法|未|勿|弗|呒")

        # subject
        sb = d["subject"]
        self.subject_of = {w: "relative" for w in sb["relative"]}
        self.subject_of.update({w: "self" for w in sb["self"]})
        for kin in sb["relative_kin"]:
            for head in sb.get("relative_heads") or ("我", "我的", "我家", "我们家"):
                self.subject_of.setdefault(head + kin, "relative")
        self.subject_of[sb["bare_elder_word"]] = "bare"
        self.subject_re = c(_alt(self.subject_of))
        self.bare_elder_after = c(_alt(sb["bare_elder_after"]) + "$")
        self.bare_elder_not_after = c(_alt(sb["bare_elder_not_after"]) + "$")
        self.carer_speaker = c(r"我(?:们)?(?P<gap>[^\s" + re.escape(_BREAKS) + r"]{0,6}?)" + _alt(sb["carer_verbs"])
                               + r"着?(?P<obj>" + _alt(sb["carer_objects"]) + ")")
        self.spouse_words = set(sb["spouse_words"])
        self.first_person = c(_alt(sb["first_person_not"]) + "|(?P<me>" + _alt(sb["first_person"]) + ")")
        self.self_need = c(_alt(sb["self_need"]))
        self.role_re = c(r"(?:我是[^\s" + re.escape(_BREAKS) + r"]{0,8}?|(?<![我他她])是|为|(?<!我们)老人家?的?)(?:他|她|老人家?)?的?"
                         + _alt(sb["roles"]))
        self.ask_re = c(r"(?P<pre>帮|替|代|给|为)(?P<who>[^\s" + re.escape(_BREAKS) + r"]{0,8}?)" + _alt(sb["ask_verbs"]))

        # the speaker's relationship to the elder, from the words for the elder
        rel = d["speaker_relation"]
        self.relation_of = {}
        for value, words in rel["kin"].items():
            for kin in words:
                for head in rel["heads"]:
                    self.relation_of.setdefault(head + kin, value)
        for value, words in list(rel["alone"].items()) + list(rel["phrases"].items()):
            self.relation_of.update({w: value for w in words})
        self.relation_re = c(_alt(self.relation_of))
        self.cue_res = {cue: c(_alt(words)) for cue, words in d["cues"].items()}

        # bare answers
        an = d["answers"]
        self.yes_no = {w: True for w in an["yes_words"]}
        self.yes_no.update({w: False for w in an["no_words"]})
        rb = an["rebuke"]   # "瞎讲", "别乱说": a no
        self.yes_no.update({d + w: False for w in rb["nonsense"] for d in [""] + list(rb["dont"])})
        self.yes_no_re = c(_alt(self.yes_no), re.I)
        self.dont_know = c(_alt(an["dont_know"]))
        # "不知道咋办", "不晓得该找谁": at a loss what to do, no "I don't know" to the question asked
        self.at_a_loss = c("(?P<dk>" + _alt(an["dont_know"]) + r")(?:该|要|应该|能|还能|以后|往后|接下来|到底|究竟|这日子|日子){0,2}"
                           + _alt(an["at_a_loss"]) + "(?!理)")
        self.fillers = c(r"^(?:[\s" + re.escape(_BREAKS) + r"]|" + _alt(an["fillers"]) + r")+")
        # "没有 我一个人住": a yes or no first, then more words (cue `answer_first`)
        ones = [w for w in an["opening_words"] if len(w) == 1]
        longer = [w for w in an["opening_words"] if len(w) > 1]
        self.opening_answer = c(r"(?:" + _alt(longer) + r"(?!" + _alt(an["opening_not_before"]) + r")|"
                                + _alt(ones) + r"(?=[\s" + re.escape(_BREAKS) + r"~～]))"
                                r"[\s" + re.escape(_BREAKS) + r"~～啊呀哦的]*(?P<rest>\S)")
        self.answers = {
            "hukou": {w: v == "true" for v, ws in hk["answers"].items() for w in ws},
            "care_level": {w: lv for lv, ws in cl["answers"].items() for w in ws},
            "economic_status": {w: v for v, ws in ec["answers"].items() for w in ws},
            "living": {w: v for v, ws in lv["answers"].items() for w in ws},
            "disability_grade": {w: v for v, ws in dg["answers"].items() for w in ws},
            "subject": {w: v for v, ws in an["subject"].items() for w in ws},
        }
        self.answer_res = {fact: c(_alt(table)) for fact, table in self.answers.items()}
        self.short_level_re = c(_alt(self.short_level))
        self._speech(d["speech"])

    def _phrases(self, groups: dict) -> tuple[re.Pattern, dict]:
        of = {w: (v == "true") for v, ws in groups.items() for w in ws}
        return re.compile(_alt(of)), of

    def _speech(self, sp: dict):
        """Speech as it comes: self-corrections, vague ages, unfinished messages (lexicon `speech`)."""
        c = re.compile
        marks = _alt(sp["corrections"])
        # a marker, or a word that is one only as a clause of its own ("七十九，不，七十八")
        self.correction = c(marks + r"|(?<=[，,。；;\s])" + _alt(sp["corrections_alone"]) + r"(?=\s*[，,。；;])")
        # where a new value starts: a correction or the present state after an earlier one ("现在就她一个人")
        self.turn = c(self.correction.pattern + "|" + _alt(sp["present"]))
        # a clause about the future, what someone else says, or the past: its value is not the current one
        self.not_current = c("(?P<nc>" + _alt(w for ws in sp["not_current"].values() for w in ws) + ")|" + self.turn.pattern)
        # a marker right before a phrase, 是/在 may sit between ("哦不对是低保边缘", "啊不相城")
        self.correction_end = c(marks + r"[\s，,、]*(?:是|就是|在|住在|住|有)?\s*$")
        va = sp["vague_age"]
        self.vague_after = {str(w): tuple(b) for w, b in va["after"].items()}
        self.vague_scale = {str(w): int(k) for w, k in va["scale"].items()}
        self.vague_before = {str(w): tuple(b) for w, b in va["before"].items()}
        self.vague_round = {w for w, (lo, hi) in self.vague_after.items() if w not in ("左右", "上下")}
        self.vague_evident = set(va["self_evident"])
        scaled = _alt(self.vague_scale)
        num = (r"(?:(?<!\d)\d{2,3}(?![\d.])|[一二三四五六七八九十百零]{1,5}|(?<![一二三四五六七八九十])[四五六七八九十](?="
               + scaled + "))")
        self.vague_re = c("(?P<pre>" + _alt(self.vague_before) + r")?\s*(?P<n>" + num + r")(?P<sui1>\s*周?岁)?(?P<post>"
                          + _alt(self.vague_after) + r")?(?P<sui2>\s*周?岁)?")
        # two spoken digits: 八十五六 (85-86), 七八十 (70-80)
        self.vague_pair = c(r"(?P<t>[二三四五六七八九])十(?P<a>[一二三四五六七八])(?P<b>[二三四五六七八九])(?![十百])"
                            r"|(?<![一二三四五六七八九十])(?P<a2>[四五六七八])(?P<b2>[五六七八九])十(?![一二三四五六七八九])")
        self.vague_age_after = c(r"^\s*" + _alt(va["age_after"]))
        # a number said with a vague word after it is no exact age, whatever its context ("七十刚过一点点")
        self.vague_post = c(r"^\s*(?:周?岁)?\s*" + _alt(w for w in self.vague_after if w not in ("多", "几", "来")))
        self.vague_decade = c(r"(?<![\d一二三四五六七八九十零〇])(?P<d>[1-6一二三四五六])(?P<w>" + _alt(va["decade"])
                              + r")(?P<a>" + _alt(va["decade_after"]) + ")?")
        ad = sp["age_difference"]
        self.age_difference = c(_alt(ad["by"]) + r"[^\s" + re.escape(_BREAKS) + r"]{0,6}?" + _alt(ad["gap"])
                                + r"(?:了|个|出)?\s*$")
        self.vague_future = c(_alt(va["future"]))
        # a threshold or a time, not the elder's age ("八十多岁以后", "快八十的时候")
        self.vague_skip_after = c(r"^\s*" + _alt(w for w in self.d["age"]["skip_after"]
                                                 if w not in self.vague_after and w not in ("老人", "的老人", "就")))
        inc = sp["incomplete"]
        tail = r"[\s，,、…。.~嗯呃啊]*$"
        self.incomplete_end = c(_alt(inc["endings"]) + tail)
        self.incomplete_topic = set(inc["topics"])
        self.incomplete_short = c("(?P<who>" + _alt(inc["topics"] + list(self.elder_refs) + list(self.other_people)) + ")"
                                  "(?:也|还|都|就|现在|一直|今年|平时|以前)?(?P<end>" + _alt(inc["short_endings"]) + ")" + tail)

    @staticmethod
    def _birth_patterns(age: dict) -> list[re.Pattern]:
        cn = "〇零一二三四五六七八九○"
        year = (rf"(?P<y>(?<!\d)\d{{4}}(?!\d)|(?<!\d)\d{{2}}(?=\s*年)|[{cn}]{{4}}(?=\s*年)|(?<![{cn}十])[{cn}]{{2}}(?=\s*年))")
        date = (year + r"(?:\s*(?:年|[.\-/])\s*(?P<m>\d{1,2}|十[一二]?|[一二三四五六七八九])\s*(?:月份?|[.\-/])?"
                r"(?:\s*(?P<d>\d{1,2}|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])\s*(?:日|号)?)?|\s*年)?")
        before = _alt(age["birth_before"])
        after = _alt(age["birth_after"])
        zodiac = _alt(age["zodiac"])
        return [
            re.compile(before + r"[是为在:：\s]*" + date),
            re.compile(date + r"\s*(?P<suf>" + after + r"|生" + _END + r"|的(?=" + _END[3:-1] + r"|住|在|现在|今年|属))"),  # "我家老爷子1938年的住杨舍"
            re.compile("属" + zodiac + r"的?[^。；;!?！？]{0,6}?" + date),
            re.compile(r"^\s*" + date + r"\s*(?:" + after + r"|生|的|生的)?\s*(?:吧|啊|呀)?\s*$"),
        ]


@lru_cache(maxsize=1)
def lexicon() -> _Lex:
    with open(LEXICON_PATH, encoding="utf-8") as fh:
        return _Lex(_norm_keys(yaml.safe_load(fh)))


# --- working context --------------------------------------------------------------

@dataclass
class _Cand:
    ex: Extracted
    weak: bool = False
    self_age: bool = False  # "我85岁": the speaker's age, dropped if a relative speaks
    by_speaker: bool = False  # "我在服侍他": care the speaker gives; not the elder's carer if the speaker is the elder
    person: tuple[str, int] | None = None  # an age's person word and where it stands ("老伴七十五")
    also: bool = False  # "我姑姑也七十六了": 也 right after the person, a second person beside the elder
    proxy: bool = False  # "帮朋友问的": asking for someone outside the family; the speaker's own facts win


class _Ctx:
    def __init__(self, text: str, today: _dt.date):
        self.lex = lexicon()
        self.raw = text
        self.t = N.to_halfwidth(text)  # same length: spans index the caller's text
        self.today = today
        self.cands: list[_Cand] = []
        self.problems: list[str] = []
        self.spouse_elder = False  # "我在家照顾他": the spouse named is the elder, not "someone else"
        self.not_ages: list[tuple[int, int]] = []  # numbers said as someone else's age: no reading either
        self.other_person = False  # an age said of a second person beside the elder (cue "another_person")
        self.place_choices: dict[str, list[str]] = {}  # a home named that lies in several districts
        self.vague: list[tuple[int, int, int, int]] = []  # vague ages said: (start, end, lo, hi)
        self._index()

    def _index(self):
        """Clause boundaries, precomputed so context checks stay linear on long input."""
        n = len(self.t)
        self._starts, self._ends = {}, {}
        for spaces in (False, True):
            starts, ends = [0] * (n + 1), [n] * (n + 1)
            for i, ch in enumerate(self.t):
                brk = ch in _BREAKS or (spaces and ch.isspace())
                starts[i + 1] = i + 1 if brk else starts[i]
            for i in range(n - 1, -1, -1):
                ch = self.t[i]
                ends[i] = i if (ch in _BREAKS or (spaces and ch.isspace())) else ends[i + 1]
            self._starts[spaces], self._ends[spaces] = starts, ends

    # Clause = the stretch between punctuation; context checks never cross it.
    def clause_start(self, pos: int, spaces: bool = False) -> int:
        return self._starts[spaces][pos]

    def clause_end(self, pos: int, spaces: bool = False) -> int:
        return self._ends[spaces][pos]

    def before(self, pos: int, n: int = 10) -> str:
        return self.t[max(self.clause_start(pos), pos - n):pos]

    def after(self, pos: int, n: int = 10) -> str:
        return self.t[pos:min(self.clause_end(pos), pos + n)]

    def add(self, fact, value, start, end, *, estimated=False, weak=False, text=None, self_age=False):
        if text is None:  # digits blanked by _mask_numbers stay hidden in span texts too
            text = "".join("*" if self.t[i] == "#" != self.raw[i] else self.raw[i] for i in range(start, end))
        ex = Extracted(fact, value, start, end, text, estimated)
        self.cands.append(_Cand(ex, weak, self_age))

    def problem(self, code: str):
        if code not in self.problems:
            self.problems.append(code)

    def about_other(self, start: int, end: int) -> bool:
        """True for "儿子工伤瘫痪", "瘫痪的老伴": the phrase describes someone else."""
        cs = self.clause_start(start, spaces=True)
        people = list(self.lex.person.finditer(self.t, max(cs, start - 30), start))
        if people and self.is_other(people[-1].group()):
            return True
        if not people and cs > 1 and self.t[cs - 1] in "，,":
            # "我老公是她儿子，去年脑梗瘫了": a clause without a person continues the one
            # before it, about the person that clause opens with
            prev = self.clause_start(cs - 1, spaces=True)
            first = self.lex.person.match(self.t, prev)
            if first and first.group() in ("我", "伲", "俺"):  # "我老公": the word after the possessive
                first = self.lex.person.match(self.t, first.end()) or first
            if first and self.is_other(first.group()):
                return True
        m = self.lex.other_after.match(self.t[end:end + 5])
        return bool(m) and self.is_other(m.group().lstrip("的"))

    def is_other(self, word: str | None) -> bool:
        return word in self.lex.other_people and not (self.spouse_elder and word in self.lex.spouse_words)

    def person_subject_before(self, start: int) -> bool:
        """An elder named right before the phrase as its subject ("我妈是低保户", "老人家卧床不起")."""
        lex, before = self.lex, self.t[self.clause_start(start, spaces=True):start]
        people = list(lex.person.finditer(before))
        if not people or self.is_other(people[-1].group()):
            return False
        return bool(re.fullmatch(r"(?:是|都|也|已经|就|还|一直|现在|属于|今年|有|的|早就|老早就|以后|将来)*",
                                 before[people[-1].end():].strip()))

    def polarity(self, start: int, end: int, question: bool = True) -> str | None:
        """'neg', 'hedge' (hypothetical or a question) or None around a phrase."""
        lex, before = self.lex, self.before(start)
        # "七十六哦不是七十七", "住吴中啊不相城": the value after a self-correction is said, not negated
        corrected = self.correction_before(start)
        if not corrected and lex.question_pair.search(before):
            return "hedge"
        # "评没评过", "做没做过评估", "能不能自理": an A-not-A question.
        if not corrected and lex.a_not_a.search(self.t[max(self.clause_start(start), start - 2):min(self.clause_end(end), end + 2)]):
            return "hedge"
        if not corrected and lex.neg_before.search(before):
            return "neg"
        if lex.hedge.search(before[-6:]):
            return "hedge"
        after = self.after(end)
        if lex.neg_after.match(after):
            return "neg"
        if question and (lex.question_after.match(after) or self.qualifies_question(end, start)):
            # "低保户能领什么" asks about the category; "我妈是低保户能领什么" states, then asks.
            if lex.question_always.match(after) or not self.person_subject_before(start):
                return "hedge"
        return None

    def qualifies_question(self, end: int, start: int | None = None) -> bool:
        """The phrase ending at `end` qualifies a policy question in its clause: a category head or
        a policy word follows it, then a question word ("吴江的急难救助多久能拿到钱"). With `start`,
        a phrase that opens its clause also does when a policy word comes anywhere before the
        question word ("五保户去哪里申请", "低保户几号发钱")."""
        lex, rest = self.lex, self.t[end:self.clause_end(end)]
        q = lex.question_word.search(rest)
        if not q:
            return False
        if lex.qualifier_after.match(rest):
            return True
        return start is not None and not lex.clause_opening.sub("", self.t[self.clause_start(start):start]) \
            and bool(lex.policy_word.search(rest))

    def correction_before(self, pos: int) -> bool:
        """A self-correction marker right before `pos` ("哦不是七十七"), after something was said."""
        before = self.before(pos, 12)
        m = self.lex.correction_end.search(before)
        if not m:
            return False
        return bool(self.t[:pos - len(before) + m.start()].strip(_JUNK))

    def conditional(self, start: int) -> bool:
        return bool(self.lex.conditional.search(self.t[self.clause_start(start):start]))


# --- recognisers --------------------------------------------------------------------

def _mask_numbers(ctx: _Ctx):
    """ID numbers -> age (never echoed); phones/IDs are then blanked out."""
    t, lex = ctx.t, ctx.lex
    has_kw = bool(lex.id_kw.search(t))
    found = False
    for m in re.finditer(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])", t):
        raw, s, e = m.group(), m.start(), m.end()
        if len(raw) == 15 and not has_kw:
            continue
        found = True
        if len(raw) == 18:
            birth = N.id_birth_date(raw)
        else:  # first-generation 15-digit ID: YYMMDD at 7-12, always 19YY, no checksum
            try:
                birth = _dt.date(1900 + int(raw[6:8]), int(raw[8:10]), int(raw[10:12]))
            except ValueError:
                birth = None
        if birth is None:
            ctx.problem("id_number_invalid")
        else:
            _add_birth_age(ctx, birth, s, e, N.mask_id(raw), "day")
    if has_kw and not found:
        # A keyword with an ID-like run that is not a valid ID (typo, partly hidden);
        # phone numbers (11 digits) are not IDs.
        for m in re.finditer(r"(?<![0-9A-Za-z])\d[\dXx*]{9,}", t):
            if len(m.group()) >= 14 or re.search(r"[Xx*]", m.group()):
                ctx.problem("id_number_invalid")
    # Blank every long digit run (IDs, phones, card numbers) so no other
    # recogniser reads an age or a date out of it.
    ctx.t = re.sub(r"\d[\dXx*\- ]{8,}\d|\d[\dXx]{8,}",
                   lambda m: "#" * len(m.group()) if sum(ch.isdigit() for ch in m.group()) >= 9 else m.group(), t)
    ctx._index()


def _add_birth_age(ctx: _Ctx, birth: _dt.date, s: int, e: int, text: str | None, precision: str):
    today = ctx.today
    if precision == "year":
        future, age = birth.year > today.year, today.year - birth.year
    elif precision == "month":
        future = (birth.year, birth.month) > (today.year, today.month)
        age = today.year - birth.year - (today.month < birth.month)
    else:
        future, age = birth > today, N.full_years(birth, today)
    if future:
        ctx.problem("birth_date_in_future")
    elif age > 130:
        ctx.problem("age_out_of_range")
    else:
        ctx.add("age", age, s, e, text=text)


def _births(ctx: _Ctx):
    seen = set()
    for i, pat in enumerate(ctx.lex.birth_patterns):
        for m in pat.finditer(ctx.t):
            if m.start("y") in seen:
                continue
            if i == 1 and m.group("suf") == "的":
                # "四一年的": only a bare "<year>年的" phrase, month-less.
                b = ctx.before(m.start()).strip()
                birth_said = b.endswith("是") and re.search(r"身份证|出生|生日|生的|属", b)
                if (m.group("m") and not birth_said) or not (m.group().rstrip("的").endswith(("年", "月")) if birth_said
                                                             else m.group().rstrip("的").endswith("年")) \
                        or (b and not b.endswith("是") and not ctx.lex.elder_ref_end.search(b)):
                    continue  # "我家老爷子1938年的" is fine; "身份证上是1941年5月的" too
            y = N.parse_year(m.group("y"), ctx.today)
            if y is None:
                continue
            seen.add(m.start("y"))
            if i == 1 and m.group("suf") == "的" and ctx.today.year - y < 40:
                continue  # "2020年的" is an event, not an elder's birth year
            _birth_said(ctx, m, y)


def _birth_said(ctx: _Ctx, m: re.Match, y: int | None = None) -> None:
    """The age from a birth date matched by one of lex.birth_patterns (groups y, m, d)."""
    y = y if y is not None else N.parse_year(m.group("y"), ctx.today)
    if y is None:
        return
    mo = N.parse_int(m.group("m")) if m.group("m") else None
    dd = N.parse_int(m.group("d")) if m.group("d") else None
    try:
        birth = _dt.date(y, mo or 1, dd or 1)
    except ValueError:
        ctx.problem("birth_date_invalid")
        return
    _add_birth_age(ctx, birth, m.start(), m.end(), None, "day" if dd else "month" if mo else "year")


def _ages(ctx: _Ctx):
    t, lex = ctx.t, ctx.lex
    for m in N.NUMBER_RE.finditer(t):
        tok, s, e = m.group(), m.start(), m.end()
        v = N.parse_int(tok)
        if v is None or (tok.isdigit() and len(tok) > 3) or any(vs <= s < ve for vs, ve, _, _ in ctx.vague):
            continue
        before, after = t[max(0, s - 12):s], t[e:e + 8]
        if lex.age_skip_before.search(before) or re.search(r"不是\s*$", before) or lex.vague_post.match(after) \
                or lex.age_difference.search(before):
            continue  # "七十刚过一点点", "我比他大两岁": no exact age
        if lex.age_future_before.search(before) and not ctx.conditional(s):
            continue
        # Whose number? The nearest person word in the clause decides.
        cs = ctx.clause_start(s, spaces=True)
        people = list(lex.person.finditer(t, max(cs, s - 30), s))
        nearest = people[-1].group() if people else None
        if ctx.is_other(nearest):
            continue
        also = bool(people) and nearest not in _PLAIN_PERSONS and t[people[-1].end():s].lstrip().startswith("也")
        sui = re.match(r"\s*(周岁|岁)", after)
        end, how = e, None
        if sui:
            if lex.age_skip_after.match(after[sui.end():]):
                continue
            how, end = "sui", e + sui.end()
        elif "有" in tok:
            how = "classical"  # 九十有三
        elif lex.age_units.match(after) or lex.age_skip_after.match(after):
            continue
        elif lex.age_kw.search(before):
            how = "strict_kw" if lex.age_strict_kw.search(before) else "kw"
        elif lex.elder_ref_end.search(before) and re.match(r"\s*(?:" + _LE + "|啊|呀|" + _END + ")", after):
            how = "ref"
        elif re.fullmatch(r"(?:嗯|呃|啊|就是|都|已经|也|是|那个)*", t[cs:s].strip()) and re.match(r"\s*(?:" + _LE + ")", after):
            how = "le"  # "八十一了" as a clause of its own
        elif 60 <= v <= 110 and "." not in tok and not lex.age_measure.search(before):
            how = _bare_age(ctx, tok, s, before, after, nearest)
            if how == "other":
                continue
            if how and nearest is None:
                nearest = how[1]
                how = how[0]
        if how is None:
            continue
        if v > 130 or (how in ("kw", "ref", "le") and v < 40 and not lex.age_strict_kw.search(before)):
            if how in ("sui", "strict_kw") and v > 130:
                ctx.problem("age_out_of_range")
            continue
        if ctx.qualifies_question(end) and not ctx.person_subject_before(s):
            continue  # "九十岁的补贴有多少": a category in a policy question
        self_age = nearest in ("我", "本人", "伲") and not t[end:end + 1] == "的"
        if ctx.correction_before(s):  # "我爸七十九岁，我是说八十九岁": whose age the corrected one was
            earlier = [c for c in ctx.cands if c.ex.fact == "age" and c.ex.end <= s]
            self_age = earlier[-1].self_age if earlier else self_age
        ctx.add("age", v, s, end, self_age=self_age)
        if people and people[-1].group() == nearest:
            ctx.cands[-1].person = (nearest, people[-1].start())
        ctx.cands[-1].also = also


_PLAIN_PERSONS = ("我", "伲", "俺", "本人", "她", "他", "伊")
_SPOUSES = ("老伴", "老公", "老婆", "爱人", "丈夫", "妻子", "老头子", "老太婆", "老头", "老太", "老头儿")
_CARE_VERB = re.compile(r"(?P<gap>[^，,。；;！？!?\s]{0,5}?)(?:照顾|服侍|伺候|照料|护理|照护)着?")


def _whose_ages(ctx: _Ctx) -> None:
    """Ages of the people beside the elder in one message: a spouse's beside the speaker's own
    ("我今年七十七，老伴七十五" -> 77), a carer's ("我姐六十八，她在照顾我妈" -> not the elder's); a
    spouse's age with no age of the speaker's makes the spouse the elder ("我老头子今年八十四")."""
    lex, t = ctx.lex, ctx.t
    ages = [c for c in ctx.cands if c.ex.fact == "age" and c.person]
    if not ages:
        return
    drop = set()
    # "我爸八十五，我妈也八十多了": with the elder's age in the message, the second person's goes;
    # alone ("我姑姑也七十六了") it is kept, with the cue, for the dialogue to judge against the elder it knows
    for c in ages:
        if c.also:
            ctx.other_person = True
            if any(o.ex.fact == "age" and not o.also for o in ctx.cands) or ctx.vague:
                drop.add(id(c))
    own = any(c.self_age for c in ctx.cands if c.ex.fact == "age")
    for c in ages:
        word, at = c.person
        if word in _SPOUSES:
            if own:
                drop.add(id(c))
            elif t[at - 1:at] in ("我", "伲", "俺") and not ctx.spouse_elder:
                ctx.add("subject", "relative", at - 1, at + len(word))  # the speaker's spouse is the elder
        # the person (or a pronoun for them) looks after another elder named after the verb
        for m in lex.person.finditer(t, at, min(len(t), c.ex.end + 20)):
            if m.start() != at and m.group() not in ("她", "他", "伊"):
                continue
            verb = _CARE_VERB.match(t, m.end())
            obj = verb and not lex.person.search(verb.group("gap")) and lex.person.match(t, verb.end())
            if obj and obj.group() in ("我", "伲", "俺"):  # "伺候我外婆": the word after the possessive
                obj = lex.person.match(t, obj.end()) or obj
            if obj and obj.group() not in (word, "我", "伲", "俺", m.group()) and not ctx.is_other(obj.group()):
                drop.add(id(c))
                break
    if drop:
        ctx.not_ages.extend((c.ex.start, c.ex.end) for c in ctx.cands if id(c) in drop)
        ctx.cands = [c for c in ctx.cands if id(c) not in drop]
        ctx.other_person = True


def _bare_age(ctx: _Ctx, tok: str, s: int, before: str, after: str, nearest: str | None):
    """A bare 60-110 in a message about an elder (spoken style, no 岁): "我妈八十三古苏区的",
    "我奶奶住黄埭八十四了", "我住在观前街附近，八十一". Returns "bare", ("bare", person),
    "other" (someone else's number) or None."""
    lex, t = ctx.lex, ctx.t
    le = re.match(r"\s*(?:" + _LE + ")", after)
    alone = re.match(r"(?:\s*[嗯呃啊呀哦])*\s*(?:[" + re.escape(_BREAKS) + r"]|$)", after)
    if nearest is not None:  # a person in the clause: right after them, or any spoken number
        if lex.elder_ref_end.search(before) or le or alone or not tok.isdigit():
            return "bare"
        return None
    if not (le or alone):
        return None
    # No person in this clause: the last one in the message decides ("我奶奶一个人住 住在苍浪那边嗯九十二了").
    people = list(lex.person.finditer(t, max(0, s - 40), s))
    if not people:
        return None
    last = people[-1].group()
    if ctx.is_other(last):
        return "other"
    return ("bare", last)


def _shorthand_age(ctx: _Ctx):
    """Operator notes ("84/姑苏/低保/独居"): a lone 50-120 among other facts."""
    if any(c.ex.fact == "age" for c in ctx.cands):
        return
    others = len({c.ex.fact for c in ctx.cands} - {"subject"})
    # a short note that opens with the number ("75 太仓") needs one other fact, a longer one two
    opens = re.match(r"\s*(?:\d{2,3}|[一二三四五六七八九十]{2,4})\s+\S", ctx.t) and len(ctx.t) <= 16
    if others < (1 if opens else 2):
        return
    for m in re.finditer(r"(?:^|(?<=[\s/|，,、;；:：]))(\d{2,3}|[一二三四五六七八九十百零]{2,5})(?=[\s/|，,、;；]|$)", ctx.t):
        v = N.parse_int(m.group(1))
        if v is not None and 50 <= v <= 120:
            ctx.add("age", v, m.start(1), m.end(1))
            return


# Voice input hears "八十六了" as "86名", "88輪", "82林": a number of an elder's age closing a
# clause with one stray character that is no unit.
_MISHEARD_AGE = re.compile(r"(?<![\d.])(\d{2,3})([\u4e00-\u9fff])(?=$|[\s,，。；;!！?？])")
_NOT_AGE_UNIT = set("斤元块米号楼栋幢室分页期路次天年月日周岁个位万千百公里克度层户人间套张条平方级")
_ELDER_WORD = re.compile(r"我?(?:妈|爸|母亲|父亲|奶奶|爷爷|外婆|外公|婆婆|公公|岳父|岳母|姥姥|姥爷|老娘|老爹|老爷子|"
                         r"老太太|好婆|阿婆|太婆|老伴|老人家?)")


def _misheard_age(ctx: _Ctx) -> None:
    if any(c.ex.fact == "age" for c in ctx.cands) or not _ELDER_WORD.search(ctx.t):
        return
    for m in _MISHEARD_AGE.finditer(ctx.t):
        value = int(m.group(1))
        if 60 <= value <= 110 and m.group(2) not in _NOT_AGE_UNIT:
            ctx.add("age", value, m.start(1), m.end(1), weak=True)
            return


def _districts(ctx: _Ctx):
    t, lex = ctx.t, ctx.lex
    # Towns, streets, communities and landmarks the lexicon does not list (gazetteer.py, with its
    # own context guards). A longer one holds a lexicon alias inside it: 虎丘街道 is in 姑苏区.
    places = [h for h in gazetteer.find_places(t) if h.name not in lex.district_of]
    aliases = []
    for m in lex.district_re.finditer(t):
        alias, s, e = m.group(), m.start(), m.end()
        aliases.append((s, e))
        if any(h.start <= s and e <= h.end and h.end - h.start > e - s for h in places):
            continue
        if alias in lex.strict_aliases:
            left = t[max(0, s - 4):s]
            if s > 0 and t[s - 1] not in _BREAKS and not t[s - 1].isspace() and not lex.strict_left.search(left):
                continue
        if not _not_home(ctx, s, e):
            ctx.add("district", lex.district_of[alias], s, e)
    for h in places:
        if any(s < h.end and h.start < e and e - s >= h.end - h.start for s, e in aliases):
            continue  # a lexicon alias as long holds it: 沧浪新城 (吴中区), not 沧浪
        if _not_home(ctx, h.start, h.end):
            continue
        if len(h.districts) == 1:
            ctx.add("district", h.districts[0], h.start, h.end)
        else:
            ctx.place_choices[h.name] = list(h.districts)
    _home_sound_alike(ctx, [(h.start, h.end) for h in places] + aliases)


def _not_home(ctx: _Ctx, s: int, e: int) -> bool:
    """The place at t[s:e] is not where the elder lives: "户口在昆山" / "昆山户口" speak about 户籍,
    "不住在昆山" is negated, "吴江的急难救助多久到账" names a local programme."""
    t, lex = ctx.t, ctx.lex
    lived = re.search(r"(?:住|家在|住在)$", t[max(0, s - 2):s])
    if re.search(r"(?:户口|户籍|户口本|医保|社保|农保)[^\s" + re.escape(_BREAKS) + r"]{0,5}$", ctx.before(s, 8)) \
            or (not lived and re.match(r"的?(?:户口|户籍|医保|社保)", t[e:e + 4])):
        return True
    if _SPEAKER_HOME.search(t[max(0, s - 5):s]) and _ELDER_NAMED.search(t) and not _SERVICE_AREA.match(t, e):
        return True   # "我妈住用直，我住胜浦": a relative's own home, not the elder's
    if not lived and (_MOVE_PLAN.search(t[max(0, s - 10):s])
                      or _HOMETOWN.search(t[max(0, s - 4):s]) and not re.search(r"住在?老家", t[max(0, s - 6):s])
                      and re.search(r"住|家在", t[:max(0, s - 4)] + t[e:])   # a home said beside it
                      or _PROGRAMME_AFTER.match(t, e)):
        return True   # "女儿劝我搬去园区住", "住在唯亭，老家是太仓的", "常熟那个急难救助能申请吗"
    people = list(lex.person.finditer(t, max(ctx.clause_start(s, spaces=True), s - 12), s))
    if people and ctx.is_other(people[-1].group()) and people[-1].group() not in lex.spouse_words \
            and t[max(0, people[-1].start() - 1):people[-1].start()] not in ("和", "跟", "与", "同"):
        return True   # "女儿嫁到太仓去了", "他儿子在昆山开发区打工": someone else's place
    if not lived and _WORK_AFTER.match(t[e:e + 10]):
        return True   # "儿子在盛泽做生意", "我在园区上班": where someone works, not the elder's home
    return ctx.polarity(s, e, question=False) == "neg" or bool(lex.district_not_before.match(t[e:e + 6]))


# "我是枫桥街道的社工", "我是木渎社区的，帮辖区里一个老人问问": an operator's area is the elder's
_SERVICE_AREA = re.compile(r"(?:街道|社区|镇|村|居委会?|村委会?)?的?(?:那个)?(?:网格员|社工|工作人员|志愿者|干部|书记|主任|居委会|村委会)"
                           r"|(?:街道|社区|居委会?|村委会?)的?[^。！？!?]{0,6}?(?:辖区|帮|替|代)")
# a move someone proposes or plans, not made ("女儿劝我搬去园区住", "想搬到园区")
_MOVE_PLAN = re.compile(r"(?:叫|让|劝|喊|要|想|打算|准备|考虑|计划|希望)[^\s，。；！？,.;!?]{0,4}?(?:搬到|搬去|搬回|住到|去)$")
_HOMETOWN = re.compile(r"老家(?:是|在)?$|祖籍(?:是|在)?$")   # "老家是太仓的": where one comes from
_PROGRAMME_AFTER = re.compile(r"(?:那个|这个|那边的|那边|有)(?:急难|救助|补贴|补助|政策|尊老金|长护险|津贴|标准|规定|养老院|敬老院)")
_SPEAKER_HOME = re.compile(r"(?:^|[^她他伲老])我(?:自己|们家|家)?(?:住在|住|家在|在|是)(?:的)?(?:是)?$")
_ELDER_NAMED = re.compile(r"我?(?:妈|爸|母亲|父亲|奶奶|爷爷|外婆|外公|婆婆|公公|岳父|岳母|姥姥|姥爷|阿婆|好婆)|爸妈|父母|老人家?")
_WORK_AFTER = re.compile(r"^(?:镇|区|市|那边|那里|这边)?(?:[\u4e00-\u9fff]{0,4}?)(?:工作|上班|做生意|打工|读书|上学|开店|开厂|做事|"
                         r"教书|当兵|出差|住院|看病)")


_HOME_WORD = re.compile(r"(?:住在|家住|家在|住(?![院址房宿户所持手口嘴店校读])|搬到|住到)(?P<w>[\u4e00-\u9fff]{2,4}?)(?=那边|那里|这边|一带|附近|的|镇"
                        r"|[\s" + re.escape(_BREAKS) + r"]|$)")


def _home_sound_alike(ctx: _Ctx, found: list[tuple[int, int]]):
    """"住在同理" -> 同里 (吴江区): right after 住在/家在…, a real word the normaliser leaves alone
    (同理, 无疆, 香橙) that sounds like one of the lexicon's place names and like no other."""
    lex = ctx.lex
    for m in _HOME_WORD.finditer(ctx.t):
        word, s, e = m.group("w"), m.start("w"), m.end("w")
        if any(a < e and s < b for a, b in found) or word in lex.sz_places or word in lex.out_places \
                or re.search(r"[的了在是有和不没我你他她这那个哪里家边]", word):
            continue
        districts = {d for h in gazetteer.sound_alike(word, typos=False) if h.kind == "lexicon" for d in h.districts}
        if len(districts) == 1 and not _not_home(ctx, s, e):
            ctx.add("district", districts.pop(), s, e)


def _bool_phrases(ctx: _Ctx, fact: str, table, *, question=True, weak=False, skip_other=False):
    pattern, of = table
    for m in pattern.finditer(ctx.t):
        value = of[m.group()]
        if skip_other and ctx.about_other(m.start(), m.end()):
            continue
        pol = ctx.polarity(m.start(), m.end(), question=question)
        if pol == "hedge":
            continue
        if pol == "neg":
            if not value:
                continue  # "不是没有医保": too clever to guess
            value = False
        ctx.add(fact, value, m.start(), m.end(), weak=weak)


def _place_value(ctx: _Ctx, place: str) -> bool:
    return place in ctx.lex.sz_places


def _place_statements(ctx: _Ctx, fact: str, patterns) -> None:
    """"户口在苏州" / "医保在外地": true when the place is in Suzhou; a negation flips it."""
    for pat in patterns:
        for m in pat.finditer(ctx.t):
            pol = ctx.polarity(m.start(), m.end())
            if pol == "hedge":
                continue
            value = _place_value(ctx, m.group("p"))
            if (pol == "neg") != bool(m.groupdict().get("neg")):
                value = not value
            ctx.add(fact, value, m.start(), m.end())


def _hukou(ctx: _Ctx):
    lex, t = ctx.lex, ctx.t
    _place_statements(ctx, "hukou", (lex.hukou_a, lex.hukou_b))
    for m in lex.hukou_moved.finditer(t):
        ctx.add("hukou", not lex.gap_neg.search(m.group("gap")), m.start(), m.end())
    _bool_phrases(ctx, "hukou", lex.hukou_phrases)
    for m in lex.hukou_token.finditer(t):
        if _located(ctx, m.start(), m.end()):
            continue  # "就一个孙子 在 外地": where someone is, not a 户口
        ctx.add("hukou", lex.hukou_token_of[m.group()], m.start(), m.end())
    for m in lex.hukou_weak.finditer(t):
        if ctx.polarity(m.start(), m.end()) is None:
            ctx.add("hukou", False, m.start(), m.end(), weak=True)
    if not any(c.ex.fact == "hukou" for c in ctx.cands):
        # "芦墟户口", "浦庄的户口": a Suzhou town or village the lexicon does not list (the gazetteer)
        for k in lex.hukou_kw.finditer(t):
            end = k.start() - (t[k.start() - 1:k.start()] == "的")
            hit = next((h for h in gazetteer.find_places(t[max(0, end - 8):end], context=False)
                        if h.end == min(end, 8)), None)
            pol = hit and ctx.polarity(end - (hit.end - hit.start), k.end())
            if hit and pol != "hedge":
                ctx.add("hukou", pol is None, end - (hit.end - hit.start), k.end())
    if not any(c.ex.fact == "hukou" for c in ctx.cands):
        # "户口还在哈尔滨": any named place that is not in Suzhou
        for m in lex.hukou_elsewhere.finditer(t):
            place = m.group("p")
            if place not in lex.sz_places and not lex.district_re.search(place) and not lex.gap_neg.search(place) \
                    and not re.search("哪|什么|啥|谁|几", place) and ctx.polarity(m.start(), m.end()) is None:
                if gazetteer.districts_of(place):  # "户口在凤凰镇": a Suzhou place after all
                    ctx.add("hukou", True, m.start(), m.end())
                else:
                    ctx.add("hukou", False, m.start(), m.end(), weak=True)


_LOCATED_BEFORE = re.compile(r"(?:在|去|到|住|嫁到|嫁去|跑到|打工|上班)\s*$")


def _located(ctx: _Ctx, s: int, e: int) -> bool:
    """A place word said as where someone is ("外甥在外地", "孙子 在 外地") or about someone else."""
    return bool(_LOCATED_BEFORE.search(ctx.t[max(0, s - 4):s])) or ctx.about_other(s, e)


def _medical(ctx: _Ctx):
    lex = ctx.lex
    _place_statements(ctx, "medical_insured", (lex.med_a, lex.med_b))
    _bool_phrases(ctx, "medical_insured", lex.med_phrases)
    for m in lex.med_has.finditer(ctx.t):   # "社保卡是有的", "医保一直在交"
        if ctx.polarity(m.start(), m.end()) != "hedge":
            ctx.add("medical_insured", not m.group("neg") and ctx.polarity(m.start(), m.end()) != "neg", m.start(), m.end())


def _care(ctx: _Ctx):
    lex, t = ctx.lex, ctx.t
    for m in lex.care_re.finditer(t):
        level, est = lex.care_of[m.group()]
        if lex.care_not_before.match(t[m.end():m.end() + 4]) or ctx.polarity(m.start(), m.end()) \
                or lex.care_not_after.search(ctx.before(m.start(), 5)) or ctx.about_other(m.start(), m.end()):
            continue
        if est and lex.act_end.search(t[max(0, m.start() - 6):m.start()]):
            continue  # "大小便不能自理": one activity, left to the daily-activity estimate
        ctx.add("care_level", level, m.start(), m.end(), estimated=est)
    for m in lex.self_managed.finditer(t):  # "买汰烧都自己来", "身体蛮好的"
        if lex.self_managed_not.match(t[m.end():m.end() + 4]) or ctx.polarity(m.start(), m.end()) \
                or ctx.about_other(m.start(), m.end()):
            continue
        ctx.add("care_level", CARE_LEVELS[0], m.start(), m.end(), estimated=True)
    for m in lex.level_ctx.finditer(t):  # "评估结果是中度", "长护险评了重度"
        if lex.gap_neg.search(m.group("gap")):
            continue
        word = m.group("lvl")
        level = lex.short_level.get(word) or lex.care_of.get(word, (None,))[0]
        if level:
            ctx.add("care_level", level, m.start("lvl"), m.end())
            ctx.add("care_assessed", True, m.start(), m.start("lvl"))
    if any(c.ex.fact == "care_assessed" and c.ex.value for c in ctx.cands) or lex.assessed_words.search(t):
        # Assessed: a short level on its own is the result ("评过了，是中度").
        for m in lex.short_alone.finditer(t):
            if not ctx.polarity(m.start(), m.end(), question=False):
                ctx.add("care_level", lex.short_level[m.group("lvl")], m.start("lvl"), m.end())
    for m in lex.score_re.finditer(t):
        score = N.parse_int(m.group("n"))
        if score is None:
            continue
        if score > lex.score_max:
            ctx.problem("care_score_out_of_range")
            continue
        ctx.add("care_level", next(lv for lo, lv in lex.score_bands if score >= lo), m.start(), m.end())
        if "评" in m.group() or "评估" in ctx.before(m.start()):
            ctx.add("care_assessed", True, m.start(), m.end())
    n = len(ctx.cands)
    _bool_phrases(ctx, "care_assessed", lex.assessed_phrases)
    ctx.cands[n:] = [c for c in ctx.cands[n:] if c.ex.fact != "care_assessed" or not c.ex.value
                     or not (_rated_other(ctx, c.ex.end) or lex.assessed_future.match(t, c.ex.end))]
    if not any(c.ex.fact == "care_assessed" for c in ctx.cands):
        # "没有做过那个评估", "做过的那个长护险的评估": someone words between
        for m in lex.assessed_done.finditer(t):
            if ctx.polarity(m.start(), m.end(), question=False) == "hedge" or lex.hedge.search(ctx.before(m.start(), 4)):
                continue
            ctx.add("care_assessed", not m.group("neg"), m.start(), m.end())


def _rated_other(ctx: _Ctx, end: int) -> bool:
    """After a 评 word, something else than a care level is named first ("街道给伲评了低保")."""
    lex, stop = ctx.lex, ctx.clause_end(end)
    other = lex.assessed_other.search(ctx.t, end, stop)
    if not other:
        return False
    level = lex.care_re.search(ctx.t, end, other.start()) or lex.short_level_re.search(ctx.t, end, other.start())
    return not level


def _economic(ctx: _Ctx):
    lex, t = ctx.lex, ctx.t
    for m in lex.econ_re.finditer(t):
        s, e = m.start(), m.end()
        if lex.econ_skip_before.search(ctx.before(s, 6)) or lex.econ_skip_after.match(t[e:e + 6]):
            continue
        pol = ctx.polarity(s, e)
        if pol is None:
            ctx.add("economic_status", lex.econ_of[m.group()], s, e)
        elif pol == "neg" and (lex.econ_identity_neg.search(ctx.before(s)) or lex.neg_after.match(ctx.after(e))):
            ctx.add("economic_status", "一般", s, e, weak=True)  # "不是低保户": none of the statuses
    for m in lex.econ_negatable.finditer(t):  # "啥困难户都不是"
        if ctx.polarity(m.start(), m.end(), question=False) != "hedge":
            ctx.add("economic_status", "一般", m.start(), m.end(), weak=True)
    if not any(c.ex.fact == "economic_status" and not c.weak for c in ctx.cands):
        # "老伴生病看了好多年，花了好多钱，家里开销大": a medical cause and a heavy cost.
        cause = lex.econ_cause.search(t)
        costs = [m for m in lex.econ_cost.finditer(t) if ctx.polarity(m.start(), m.end(), question=False) is None]
        if cause and costs and ctx.polarity(cause.start(), cause.end(), question=False) != "neg":
            ctx.add("economic_status", "支出型困难", costs[-1].start(), costs[-1].end())
    for m in lex.econ_general.finditer(t):
        if ctx.polarity(m.start(), m.end(), question=False) is None:
            ctx.add("economic_status", "一般", m.start(), m.end(), weak=True)


_ALONE_CLAUSE = re.compile(r"(?:^|[\s，,。；;])(一个人|一家头|就我一个)(?=$|[\s，,。；;！!])")
_TWO_OF_US = re.compile(r"(?:我们|伲)?(?:两个人|俩人|两个老人|两个老的|两老|两个)(?:单独|自己|一起|一块|一道)?(?:住|过|生活)")


def _living(ctx: _Ctx):
    lex, t = ctx.lex, ctx.t
    for m in lex.living_re.finditer(t):
        if ctx.polarity(m.start(), m.end()) is None:
            ctx.add("living", lex.living_of[m.group()], m.start(), m.end())
    for m in lex.alone_at.finditer(t):  # "她一个人在盛泽住"
        if ctx.polarity(m.start(), m.end()) is None and not ctx.about_other(m.start(), m.end()):
            ctx.add("living", "独居", m.start(), m.end())
    for m in _ALONE_CLAUSE.finditer(t):   # "住东渚，一个人": a clause of its own (alone, a bare reply)
        if t.strip(" " + _BREAKS) != m.group(1) and not ctx.about_other(m.start(1), m.end(1)):
            ctx.add("living", "独居", m.start(1), m.end(1))
    for m in lex.alone_only.finditer(t):  # "现在就她一个人", "老伴走了，只剩他一个了"
        who = lex.person.search(m.group())  # the person said inside decides whose state it is ("儿子就他一个人" not)
        near = list(lex.person.finditer(t, ctx.clause_start(m.start(), spaces=True), m.start()))
        if ctx.polarity(m.start(), m.end()) is None and not (
                ctx.is_other(who.group()) or bool(near) and ctx.is_other(near[-1].group()) if who
                else ctx.about_other(m.start(), m.end())):
            ctx.add("living", "独居", m.start(), m.end())
    for m in lex.family_together.finditer(t):  # "女儿也一直住在一起的": the family member is the subject
        if not m.group("neg") and lex.family_word.search(m.group("who")) \
                and ctx.polarity(m.start(), m.end(), question=False) is None:
            ctx.add("living", "与家人同住", m.start(), m.end())
    for m in _TWO_OF_US.finditer(t):      # "老太婆也八十多，两个人住在周庄": the couple
        clause = t[ctx.clause_start(m.start()):m.start()]
        if not lex.with_word_re.search(clause):
            ctx.add("living", "空巢", m.start(), m.end())
    for m in lex.living_with.finditer(t):
        who = m.group("who")
        if lex.other_parent.search(who) and lex.just_two.search(t[m.start():m.end() + 6]):
            value = "空巢"   # "我爸…跟我妈两个人住": the speaker's other parent is the elder's spouse
        elif lex.family_word.search(who):
            value = "与家人同住"
        elif lex.couple_word.search(who):
            value = "空巢"
        elif lex.speaker_word.search(who):
            value = "与家人同住"  # a relative: "跟我们住"
        else:
            continue  # 保姆, 护工 …
        if ctx.polarity(m.start(), m.end(), question=False) is None:
            ctx.add("living", value, m.start(), m.end())


def _disability(ctx: _Ctx):
    lex, t = ctx.lex, ctx.t
    for pat in (lex.dis_r1, lex.dis_r2):
        for m in pat.finditer(t):
            ws = m.start("w")
            if ws > 0 and t[ws - 1] in lex.dis_not_after or lex.gap_neg.search(m.group("gap")):
                continue
            if ctx.polarity(m.start(), m.end()) == "hedge":
                continue
            grade = N.parse_int(m.group("g"))
            if grade in (1, 2, 3, 4):
                ctx.add("disability_grade", grade, m.start(), m.end())
            else:
                ctx.problem("disability_grade_invalid")
    for m in lex.dis_none.finditer(t):
        ctx.add("disability_grade", "none", m.start(), m.end())
    for m in lex.dis_word.finditer(t):  # "没有办过残疾证"
        s = m.start()
        if (s > 0 and t[s - 1] in lex.dis_not_after) or ctx.polarity(s, m.end(), question=False) != "neg":
            continue
        ctx.add("disability_grade", "none", s, m.end())


def _family_planning(ctx: _Ctx):
    lex = ctx.lex
    _bool_phrases(ctx, "family_planning_special", lex.fp_phrases)
    for m in lex.fp_none.finditer(ctx.t):  # "他一辈子没成过家", "有三个女儿", "我们姐弟两个"
        if ctx.polarity(m.start(), m.end(), question=False) != "hedge":
            ctx.add("family_planning_special", False, m.start(), m.end())
    for m in lex.fp_re.finditer(ctx.t):
        if lex.gap_neg.search(m.group("gap")) or ctx.polarity(m.start(), m.end()) == "hedge":
            continue
        ctx.add("family_planning_special", ctx.polarity(m.start(), m.end()) != "neg", m.start(), m.end())


def _emergency(ctx: _Ctx):
    """Sudden hardship. Not a programme's name ("急难救助多久到账") nor an event long past
    ("九二年厂里出过工伤", "年轻时出过意外")."""
    lex, t = ctx.lex, ctx.t
    pattern, of = lex.emergency
    found = [(m, of[m.group()]) for m in pattern.finditer(t)]
    found += [(m, True) for m in lex.emergency_more.finditer(t)
              if not any(f.start() <= m.start() < f.end() for f, _ in found)]
    for m, value in found:
        if value and lex.emergency_not_before.match(t, m.end()):
            continue
        pol = ctx.polarity(m.start(), m.end())
        if pol == "hedge" or (pol == "neg" and not value):
            continue
        if value and pol is None and _long_ago(ctx, m.start()):
            continue
        ctx.add("emergency", value if pol is None else False, m.start(), m.end())


def _long_ago(ctx: _Ctx, pos: int) -> bool:
    """A time two years or more ago is said in the clause before `pos` (or the one before it)."""
    cs = ctx.clause_start(pos)
    lo = ctx.clause_start(cs - 1) if cs > 0 else cs
    for m in ctx.lex.emergency_past.finditer(ctx.t, max(lo, pos - 20), pos):
        if m.group("n"):
            n = N.parse_int(m.group("n")) if m.group("n") not in ("几", "两") else (3 if m.group("n") == "几" else 2)
            if n is not None and n >= 2:
                return True
        elif m.group("y"):
            y = m.group("y")
            year = N.parse_year(y, ctx.today)
            if year is not None and len(y) == 2 and 2000 + (year % 100) <= ctx.today.year:
                year = 2000 + year % 100  # "零八年", "98年" for an event: the nearest past year
                if year > ctx.today.year:
                    year -= 100
            if year is not None and year <= ctx.today.year - 2:
                return True
        else:
            return True
    return False


def _caregiver(ctx: _Ctx):
    lex = ctx.lex
    _bool_phrases(ctx, "family_caregiver", lex.carer_phrases)
    for m in lex.carer_re.finditer(ctx.t):
        gap = m.group("gap")
        if lex.carer_gap_skip.search(gap) or lex.carer_ask_after.match(ctx.t, m.end()):
            continue  # "我是替我妈来咨询的": asking on someone's behalf
        pol = ctx.polarity(m.start(), m.end(), question=False)
        if pol == "hedge":
            continue
        ctx.add("family_caregiver", not (lex.gap_neg.search(gap) or pol == "neg"), m.start(), m.end())
        if m.group("carer") in ("我", "我们", "伲"):
            ctx.cands[-1].by_speaker = True
    for m in lex.carer_away.finditer(ctx.t):  # "囡儿勿在跟前", "儿女都不在跟前"
        if ctx.polarity(m.start(), m.end(), question=False) != "hedge":
            ctx.add("family_caregiver", False, m.start(), m.end())
    for m in lex.carer_paid_only.finditer(ctx.t):  # "全靠钟点工", "就靠保姆"
        if ctx.polarity(m.start(), m.end(), question=False) is None:
            ctx.add("family_caregiver", False, m.start(), m.end(), weak=True)


def _subject(ctx: _Ctx):
    lex, t = ctx.lex, ctx.t
    for m in lex.subject_re.finditer(t):
        kind, s = lex.subject_of[m.group()], m.start()
        if m.group() == "家属" and t[m.end():m.end() + 1] == "于":
            continue  # "我们家属于低保边缘家庭"
        if kind == "bare":
            # Bare 老人: an operator or a relative speaking of the elder ("假如老人搬到昆山",
            # "家里没人照顾老人"), unless it names a category or the speaker ("失独老人",
            # "像我这样的老人", "我是老人").
            left = t[max(0, s - 6):s]
            at_start = s == 0 or t[s - 1] in _BREAKS or t[s - 1].isspace()
            if not at_start and not lex.bare_elder_after.search(left) \
                    and (lex.bare_elder_not_after.search(left) or t[s - 1].isdigit()):
                continue
            kind = "relative"
        ctx.add("subject", kind, s, m.end())
    for m in lex.role_re.finditer(t):
        ctx.add("subject", "relative", m.start(), m.end())
    for m in _SOME_ELDER.finditer(t):  # "我们村里有个孤老", "楼上一位老太太": someone else speaks of them
        if not re.search(r"(?:我|我们|伲|俺|咱)(?:是|也是|这样)?$", t[max(0, m.start() - 4):m.start()]):
            ctx.add("subject", "relative", m.start(), m.end())
    for m in lex.ask_re.finditer(t):
        who = m.group("who")
        if who in ("", "我", "我们", "忙", "你", "您", "俺", "咱"):  # "帮我问一下": the speaker
            continue
        if who.startswith("我") and not (lex.subject_re.match(who)
                                         and lex.subject_of.get(lex.subject_re.match(who).group()) == "relative"):
            continue  # "帮我取消明天的预约", but "帮我妈申请"
        if m.group("pre") in "给为" and not (re.search("父母|二老|老人", who) or any(
                p.group() not in ("我", "俺") for p in lex.person.finditer(who))):
            continue  # "给你打电话咨询", "我给医生打电话问了"; but "给父母申请"
        ctx.add("subject", "relative", m.start(), m.end())
        # "帮朋友问的", "帮老同事打听的": nobody of the family nor an elder named
        ctx.cands[-1].proxy = not (re.search("父母|二老|老人|长辈|家里", who) or any(
            p.group() in lex.elder_refs and p.group() not in ("我", "俺", "伲") for p in lex.person.finditer(who)))
    for m in lex.carer_speaker.finditer(t):  # "我在家照顾他": the speaker looks after the elder
        gap = m.group("gap")
        if lex.gap_neg.search(gap) or lex.person.search(gap) or lex.carer_gap_skip.search(gap):
            continue
        if ctx.polarity(m.start(), m.end(), question=False) is None:
            ctx.add("subject", "relative", m.start(), m.end())


_SOME_ELDER = re.compile(r"(?:有|一)(?:个|位)[^\s，。；！？,.;!?]{0,8}?(?:老人家|老人|老太太|老太|老头儿|老头|老爷子|老奶奶|老大爷|"
                         r"老阿姨|阿婆|大爷|大妈|爷爷|奶奶|孤老)")


def _spouse_elder(ctx: _Ctx) -> bool:
    """The speaker looks after their spouse ("老伴瘫了，我在家照顾他"): the spouse is the elder."""
    lex = ctx.lex
    for m in lex.carer_speaker.finditer(ctx.t):
        gap, obj = m.group("gap"), m.group("obj")
        if lex.gap_neg.search(gap) or lex.person.search(gap) or lex.carer_gap_skip.search(gap):
            continue
        if obj in lex.spouse_words or (obj in ("他", "她") and any(w in ctx.t for w in lex.spouse_words)):
            return True
    return False


def _infer_self(ctx: _Ctx):
    """No subject word was said: a first person stating a profile fact ("我住在木渎",
    "我不是低保户") or asking for care for themselves ("女儿每天过来照顾我") is the elder."""
    lex = ctx.lex
    if any(c.ex.fact == "subject" and not c.proxy for c in ctx.cands):
        return
    me = next((m for m in lex.first_person.finditer(ctx.t) if m.group("me")), None)
    if me is None:
        return
    if any(c.ex.fact != "subject" for c in ctx.cands) or lex.self_need.search(ctx.t):
        ctx.add("subject", "self", me.start(), me.end(), weak=True)


# --- daily activities -----------------------------------------------------------------

def _adl_scan(text: str):
    """(level, activities needing help, (start, end)) or None if no activity is described."""
    lex = lexicon()
    t = N.to_halfwidth(text or "")[:MAX_TEXT]
    if lex.not_activity.search(t):  # "下岗以后吃饭都成问题": money, not ability
        t = lex.not_activity.sub(lambda m: " " * len(m.group()), t)
    helped: set[str] = set()
    lo, hi, described = len(t), 0, False
    pending = None  # an activity named without how it goes: "洗澡腿脚不灵，要老伴扶一把"
    for cm in re.finditer(r"[^\s" + re.escape("，。；！？,.;!?\n…") + r"]+", t):
        c0, clause = cm.start(), cm.group()
        acts = [(m.start(), m.end(), lex.act_of[m.group()]) for m in lex.act_re.finditer(clause)]
        phrases = [(m.start(), m.end(), lex.help_phrase_of[m.group()]) for m in lex.help_phrase_re.finditer(clause)]
        taken = bytearray(len(clause))  # cue words inside an activity phrase do not count
        for ts, te, _ in acts + phrases:
            taken[ts:te] = b"\x01" * (te - ts)
        cues = [(m.start(), m.end(), False if m.group("nohelp") else True if m.group("help") else lex.cue_of[m.group()])
                for m in lex.cue_re.finditer(clause)
                if not any(taken[m.start():m.end()])]
        for s, e, act in phrases:
            if re.search(r"(?:不用|不需要|不要|没有?|不需|不必)$", clause[max(0, s - 3):s]):
                continue
            helped.add(act)
            described, lo, hi = True, min(lo, c0 + s), max(hi, c0 + e)
        if not acts:
            said = [c for c in cues if c[2] is not None]
            if pending and said:  # the clause right after says how the pending activity goes
                described, hi = True, max(hi, c0 + said[0][1])
                if said[0][2]:
                    helped.add(pending)
            pending = None
            continue
        bounds = [a[0] for a in acts[1:]] + [len(clause)]
        starts = [c[0] for c in cues]  # sorted: finditer order
        assigned = [cues[bisect_left(starts, a[1]):bisect_left(starts, b)] for a, b in zip(acts, bounds)]
        for i in range(1, len(acts)):  # "吃饭能自己吃要人帮洗澡": the last cue is 洗澡's
            if not assigned[i] and len(assigned[i - 1]) >= 2:
                assigned[i].append(assigned[i - 1].pop())
        if not assigned[0]:
            assigned[0] = [c for c in cues[:bisect_left(starts, acts[0][0])] if c[1] <= acts[0][0]][-1:]
        for i in range(len(acts) - 2, -1, -1):  # "穿衣、吃饭都要人帮": share the cue
            if not assigned[i] and lex.joiner_only.match(clause[acts[i][1]:acts[i + 1][0]]):
                assigned[i] = assigned[i + 1]
        pending = None
        for (s, e, act), got in zip(acts, assigned):
            status = [c[2] for c in got if c[2] is not None]
            if not status:
                pending = act  # mentioned without saying how it goes (yet)
                continue
            described, lo, hi = True, min(lo, c0 + s), max(hi, c0 + max([e] + [c[1] for c in got]))
            if any(status):
                helped.add(act)
    bed = lex.bedridden_re.search(t)
    if bed and not re.search(r"(?:不|没有?)$", t[max(0, bed.start() - 2):bed.start()]):
        level = lex.total_level if lex.total_re.search(t) else lex.bedridden_level
        counted = next(lv for n, lv in lex.adl_levels if len(helped) >= n)
        level = max(level, counted, key=CARE_LEVELS.index)
        lo, hi, described = min(lo, bed.start()), max(hi, bed.end()), True
    elif described:
        level = next(lv for n, lv in lex.adl_levels if len(helped) >= n)
    else:
        return None
    return level, [a for a in ADL_ORDER if a in helped], (lo, hi)


def estimate_care_level(text: str) -> tuple[str, list[str]] | None:
    """Estimate the GB/T 42195 level from daily-activity descriptions.

    Returns (level, activities needing help, in ADL_ORDER) or None when the
    text describes no daily activity. Thresholds are in lexicon.yml (adl).
    """
    try:
        found = _adl_scan(text)
    except Exception:  # never let odd input break a conversation
        return None
    return (found[0], found[1]) if found else None


# --- bare answers to the advisor's last question ---------------------------------------

_SPEAKER_ROLE = re.compile(r"[\s，,。.！!~～的啊呀哦]*我(?:是|就是)(?:她|他|伊|俚|老人家?)?的?(?:女儿|儿子|儿媳妇?|女婿|孙子|孙女|"
                           r"外孙女?|侄子|侄女|外甥女?|家属|子女|家人|亲戚|邻居|社工|保姆|老伴|爱人|老公|老婆|闺女|小孩|孩子)")
_UNSURE_OF_WHAT = re.compile(r"\s*(?:要|该|应该|可以|能|上)?(?:去哪|在哪|到哪|哪里|哪儿|哪个|怎么|咋|什么|啥|找谁|问谁|谁|去什么)")


def _not_unsure(lex, text: str) -> str:
    """The text with the 不知道 of "不知道咋办", "不晓得该找谁" blanked: at a loss, not unsure of a fact."""
    for m in lex.at_a_loss.finditer(text):
        text = text[:m.start("dk")] + " " * (m.end("dk") - m.start("dk")) + text[m.end("dk"):]
    return text


def _answer(ctx: _Ctx, requested: str):
    lex, t = ctx.lex, ctx.t
    lead = lex.fillers.match(t)
    off = lead.end() if lead else 0
    core = t[off:].strip()
    if not core:  # "嗯" alone is a yes, not a filler
        core = t.strip()
        off = t.find(core)
    if not core:
        return
    unsure = lex.dont_know.search(_not_unsure(lex, core))
    if unsure and unsure.start() and lex.opening_answer.match(core) and _UNSURE_OF_WHAT.match(core, unsure.end()):
        unsure = None   # "没有 不知道去哪做": a no, then what they do not know (where to go)
    if unsure and (unsure.start() <= 3 or len(core) <= 10):  # not "说话有点不清楚" in a longer answer
        ctx.problem("dont_know")
        return
    if re.match(r"有没有|是不是|什么|啥|哪(?!有的事|里的话|能呢)", core):
        return

    def add(value, m, base=off, **kw):
        ctx.add(requested, value, base + m.start(), base + m.end(), **kw)

    if requested == "age":
        for m in reversed(list(N.NUMBER_RE.finditer(t))):
            v = N.parse_int(m.group())
            after = t[m.end():m.end() + 4]
            if v is None or lex.age_skip_before.search(t[max(0, m.start() - 6):m.start()]) \
                    or (lex.age_units.match(after) and not re.match(r"\s*年(?:出生|生)?\s*$", after)):
                continue
            if any(vs <= m.start() < ve for vs, ve, _, _ in ctx.vague) or any(a <= m.start() < b for a, b in ctx.not_ages) \
                    or ctx.about_other(m.start(), m.end()):
                continue  # "八十出头", "快九十": a range, not this number; "她照顾我爸": the carer's
            if len(m.group()) == 1 and not m.group().isdigit() and (
                    _cjk(t[m.end():m.end() + 1]) and t[m.end()] not in "岁了啦呀吧" or _cjk(t[m.start() - 1:m.start()])):
                continue  # a numeral inside a word: 一般家庭, 五保户, 两家头, 一起
            if re.fullmatch(r"\d{4}", m.group()) and 1850 <= v <= ctx.today.year:
                _add_birth_age(ctx, _dt.date(v, 1, 1), m.start(), m.end(), None, "year")
            elif v <= 130:
                ctx.add("age", v, m.start(), m.end())
            else:
                ctx.problem("age_out_of_range")
            return
        return
    if requested == "disability_grade":
        m = re.search(r"(?<!\d)(\d|[一二三四五六七八九])\s*级|^\s*(\d|[一二三四五六七八九])\s*$", core)
        if m:
            grade = N.parse_int(m.group(1) or m.group(2))
            if grade in (1, 2, 3, 4):
                add(grade, m)
            else:
                ctx.problem("disability_grade_invalid")
            return
    if requested == "care_level":
        m = lex.short_level_re.search(core)
        if m:
            add(lex.short_level[m.group()], m)
            return
    table = lex.answers.get(requested)
    if table:
        m = lex.answer_res[requested].search(core)
        if m and requested in ("hukou", "living") and _located(ctx, off + m.start(), off + m.end()):
            m = None  # "他女儿在外地上班": where a daughter works is no answer about the elder's 户口
        if m and len(m.group()) == 1 and m.start() > 0:
            m = None  # one character inside another word: 无 in 无锡, 没 in 埋没
        if m and (requested != "economic_status" or m.start() == 0):
            value = table[m.group()]
            if requested == "economic_status" and value == "一般":
                add(value, m)  # "无，都不是": the answer is itself a negation
                return
            if ctx.polarity(off + m.start(), off + m.end(), question=False) == "neg":
                if not isinstance(value, bool):
                    return  # "不是一个人" says what it is not
                value = not value  # "不是苏州的"
            add(value, m, estimated=requested == "care_level")
            return
    if requested in BOOL_FACTS:
        m = lex.yes_no_re.match(core)
        if m and lex.correction.fullmatch(m.group()):
            # "不对，她身份证上是1941年5月的": a correction of what was said, no answer to the question;
            # "不对，没有": the answer after it
            rest = core[m.end():].lstrip(_JUNK + "不对")
            if rest:
                again = lex.yes_no_re.match(rest)
                if not again:
                    return
                m, off = again, off + len(core) - len(rest)
        if m and _SPEAKER_ROLE.match(core, m.end()):
            return   # "不是 我是她女儿", "对 我是她儿子": who is speaking, no answer to the question
        if m:
            add(lex.yes_no[m.group().lower()], m)


# --- speech as it comes: vague ages, self-corrections, unfinished messages ---------------

def _vague_ages(ctx: _Ctx) -> None:
    """"八十出头", "快九十了", "七十多快八十", "八十五六岁": ranges (ctx.vague), never an exact age."""
    lex, t = ctx.lex, ctx.t
    found = []  # (start, end, lo, hi, 岁 said, an age on its own)
    for m in lex.vague_re.finditer(t):
        pre, post = m.group("pre"), m.group("post")
        if not (pre or post):
            continue
        x = N.parse_int(m.group("n"))
        if x is not None and post in lex.vague_scale:
            x *= lex.vague_scale[post]  # 八旬 -> 80
        if pre == "近" and m.start() and t[m.start() - 1] in "最附靠":
            pre = None  # 近 in 最近, 附近
            if not post:
                continue
        if x is None or not 40 <= x <= 120 or (post in lex.vague_round and x % 10):
            continue
        bands = [b for b in (lex.vague_before.get(pre), lex.vague_after.get(post)) if b]
        if pre and post in lex.vague_scale:
            bands = bands[:1]  # 快八旬: 旬 only names the tens
        lo, hi = max(b[0] for b in bands), min(b[1] for b in bands)
        if lo > hi:  # "大概八十出头" narrows; words that contradict: the one after the number
            lo, hi = bands[-1]
        found.append((m.start(), m.end(), x + lo, x + hi, bool(m.group("sui1") or m.group("sui2")),
                      pre in lex.vague_evident or post in lex.vague_evident))
    for m in lex.vague_decade.finditer(t):  # "四几年生的", "40年代出生", "五零后": born in a decade
        if "年代" in m.group("w") and not m.group("a"):
            continue  # "四十年代的时候": a time, not a birth
        if m.group("a") == "的" and not re.match(_END, t[m.end():]):
            continue
        y = 1900 + 10 * N.parse_int(m.group("d"))
        lo, hi = ctx.today.year - y - 10, ctx.today.year - y  # born 1940-1949: not yet / already had a birthday
        found.append((m.start(), m.end(), lo, hi, True, True))
    for m in lex.vague_pair.finditer(t):
        if m.group("t"):
            a, b = N.CN_DIGITS[m.group("a")], N.CN_DIGITS[m.group("b")]
            lo, hi = 10 * N.CN_DIGITS[m.group("t")] + a, 10 * N.CN_DIGITS[m.group("t")] + b
        else:
            a, b = N.CN_DIGITS[m.group("a2")], N.CN_DIGITS[m.group("b2")]
            lo, hi = 10 * a, 10 * b
        if b != a + 1:
            continue
        sui = re.match(r"\s*周?岁", t[m.end():])
        found.append((m.start(), m.end() + (sui.end() if sui else 0), lo, hi, bool(sui), False))
    kept = []  # (start, end, lo, hi, an age by its context)
    also = []
    for s, e, lo, hi, sui, evident in sorted(found):
        after, before = t[e:e + 6], t[max(0, s - 12):s]
        if (not sui and lex.age_units.match(after)) or lex.vague_skip_after.match(after) \
                or lex.age_measure.search(before) or lex.age_future_before.search(before):
            continue  # "八十多斤", "快八十的时候", "血压一百多"
        people = list(lex.person.finditer(t, max(ctx.clause_start(s, spaces=True), s - 30), s))
        nearest = people[-1].group() if people else None
        if ctx.is_other(nearest) or ctx.conditional(s) or lex.vague_future.search(t[ctx.clause_start(s):s]) \
                or (ctx.qualifies_question(e) and not ctx.person_subject_before(s)):
            continue  # "我儿子五十多了", "等他过了八十岁", "八十多岁的老人有什么补贴"
        if people and nearest not in _PLAIN_PERSONS and t[people[-1].end():s].lstrip().startswith("也"):
            also.append((s, e))  # "老伴也八十多": a second person (see _whose_ages)
        kept.append((s, e, lo, hi, bool(sui or evident or nearest is not None or lex.age_kw.search(before)
                                         or lex.vague_age_after.match(after) or ctx.correction_before(s))))
    if also:
        ctx.other_person = True
        if len(also) < len(kept) or N.NUMBER_RE.search(t[:also[0][0]]):
            kept = [k for k in kept if (k[0], k[1]) not in also]  # the elder's own age is said beside it
    i = 0
    while i < len(kept):  # vague numbers said in one breath ("七十多快八十") count together
        j = i
        while j + 1 < len(kept) and not t[kept[j][1]:kept[j + 1][0]].strip(" ，,、"):
            j += 1
        group = kept[i:j + 1]
        whole = not t[:group[0][0]].strip(_JUNK) and not t[group[-1][1]:].strip(_JUNK + "了啦吧呀")
        if whole or any(g[4] for g in group):
            ctx.vague.extend(g[:4] for g in group)
        i = j + 1


def _age_range(ctx: _Ctx) -> tuple[int, int] | None:
    """The vague ages said, as one range: two in one breath narrow each other ("七十多快八十"),
    a correction or a range that does not overlap replaces the earlier one."""
    if not ctx.vague:
        return None
    _, end, lo, hi = ctx.vague[0]
    for s, e, a, b in ctx.vague[1:]:
        if max(lo, a) <= min(hi, b) and not ctx.lex.correction.search(ctx.t[end:s]):
            lo, hi = max(lo, a), min(hi, b)
        else:
            lo, hi = a, b
        end = e
    return max(lo, 0), min(hi, 130)


def _corrections(ctx: _Ctx) -> None:
    """"本地的，哦不是，外地的", "七十六哦不是七十七": a bare value after a self-correction marker
    answers the fact said just before it (the last mention then wins)."""
    lex, t = ctx.lex, ctx.t
    marks = [m for m in lex.correction.finditer(t) if t[:m.start()].strip(_JUNK)]
    for i, m in enumerate(marks):
        stop = marks[i + 1].start() if i + 1 < len(marks) else len(t)
        earlier = [c for c in ctx.cands if c.ex.end <= m.start() and c.ex.fact in READING_FACTS]
        if not earlier:
            continue
        prev = max(earlier, key=lambda c: (c.ex.end, c.ex.start))
        fact = prev.ex.fact
        if any(c.ex.fact == fact and m.end() <= c.ex.start < stop for c in ctx.cands):
            continue  # said outright after the marker
        a = m.end()
        while a < stop and (t[a] in _JUNK or t[a] == "是"):
            a += 1
        piece = t[a:min(ctx.clause_end(a), stop)] if a < stop else ""
        if not piece.strip():
            continue
        sub = _Ctx(piece, ctx.today)
        if fact == "age":
            _vague_ages(sub)
            born = lex.birth_bare.match(piece)
            if born and (born.group("m") or "年" in born.group()):  # "三七年五月的", "1946年10月20号"
                _birth_said(sub, born)
        if not any(c.ex.fact == fact for c in sub.cands):
            _answer(sub, fact)
        for c in sub.cands:
            if c.ex.fact == fact:
                ctx.add(fact, c.ex.value, a + c.ex.start, a + c.ex.end, estimated=c.ex.estimated,
                        self_age=prev.self_age)


def _answer_first(ctx: _Ctx) -> bool:
    """"没有 我一个人住", "没做过 要去哪里评", "有 我跟我爱人 刚才说过了呀": the message opens with a
    plain yes or no and goes on (a detail, a question, a complaint). The yes or no answers the
    yes/no question just asked (the dialogue knows which); "不对，…", "不是这个意思" do not open so."""
    lex, t = ctx.lex, ctx.t
    lead = lex.fillers.match(t)
    core = t[lead.end() if lead else 0:]
    m = lex.opening_answer.match(core)
    if not m or re.match(r"我是|我不是|我就是|我说|我问|我的意思|本人", core[m.start("rest"):]):
        return False   # "不是 我是她女儿": who is speaking, no answer
    marker = lex.correction.match(core)
    if marker and marker.group() != "不是":
        return False   # "不对，她88了", "不是不是，住园区": a correction of what was said
    return not re.match(r"有没有|是不是|是否|有无|对不对|没事|是我|是说|不是(?:这|那|问|说|我|很|太|特别|十分)", core)


def _is_correction(ctx: _Ctx, readings: dict) -> bool:
    """A fact (or, right after a leading marker, a bare answer) follows a self-correction marker."""
    for m in ctx.lex.correction.finditer(ctx.t):
        if any(c.ex.start >= m.end() and c.ex.fact != "subject" for c in ctx.cands) \
                or any(s >= m.end() for s, _, _, _ in ctx.vague):
            return True
        if readings and not ctx.t[:m.start()].strip(_JUNK) and N.NUMBER_RE.search(ctx.t, m.end()):
            return True  # "不对，88" (but "不对的", "不对，不是这样" only say no)
    return False


def _incomplete(ctx: _Ctx) -> bool:
    """"我今年", "她住在", "户口是", "我妈是": the message stops where its value should come."""
    lex = ctx.lex
    last = ctx.t.rstrip(_JUNK)
    if lex.question_word.search(last[ctx.clause_start(len(last)):]) or "多大" in last:
        return False  # "免费体检要多大年纪"
    if lex.incomplete_end.search(ctx.t):
        return True
    m = lex.incomplete_short.search(ctx.t)
    if not m or ctx.t[m.start() - 1:m.start()] in ("跟", "和", "与", "同", "随"):
        return False  # "跟儿子住" is whole
    # "我是", "我在" alone answer "是老人本人吗", "在吗"
    return not (m.group("who") in ("我", "我们", "本人", "伲") and m.group("end") in ("是", "在"))


# --- entry point -------------------------------------------------------------------

# Facts a bare reply can answer (see _answer), and how long such a reply can be.
READING_FACTS = ("age", "hukou", "care_level", "care_assessed", "dementia", "economic_status", "living",
                 "disability_grade", "family_planning_special", "medical_insured", "emergency",
                 "family_caregiver")
READING_MAX_CHARS = 40

_RECOGNISERS = (_births, _ages, _districts, _hukou, _medical, _care, _economic, _living,
                _disability, _family_planning, _caregiver, _subject)


def _fine_taken_back(ctx: _Ctx, c: _Cand) -> bool:
    """An estimated 能力完好 that a difficulty later in the sentence takes back ("身体倒还可以，就是拖地
    吃力", "样样自家弄 就是吃力"), unless someone else is named first ("我身体还可以，老伴腿脚不行了")."""
    if c.ex.fact != "care_level" or c.ex.value != CARE_LEVELS[0] or not c.ex.estimated:
        return False
    t, e = ctx.t, c.ex.end
    stop = min(len(t), e + 16)
    for i in range(e, stop):
        if t[i] in "。！？!?\n":
            stop = i
            break
    rest = t[e:stop]
    person = ctx.lex.person.search(rest)
    if person:
        rest = rest[:person.start()]
    return bool(ctx.lex.fine_taken_back.search(rest))


def _total_dependence(ctx: _Ctx) -> None:
    """"瘫在床上，连翻身都不行，全靠人": an estimated 重度 with total dependence is 完全失能."""
    lex = ctx.lex
    if not lex.total_re.search(ctx.t):
        return
    for c in ctx.cands:
        if c.ex.fact == "care_level" and c.ex.estimated and c.ex.value == lex.bedridden_level:
            c.ex = replace(c.ex, value=lex.total_level)


def _relation(ctx: _Ctx) -> str | None:
    """The last relationship word said ("我是她女儿" after "我妈" still says 子女)."""
    found = list(ctx.lex.relation_re.finditer(ctx.t))
    if ctx.spouse_elder:
        return "配偶"  # "老伴瘫了，我在家照顾他"
    return ctx.lex.relation_of[found[-1].group()] if found else None


def _readings(ctx: _Ctx) -> dict:
    """What a short reply would say for each fact the advisor might have asked about."""
    readings = {}
    stated = {c.ex.fact for c in ctx.cands if not c.weak}
    for fact in READING_FACTS:
        if fact in stated:
            continue
        n, problems = len(ctx.cands), list(ctx.problems)
        _answer(ctx, fact)
        # words that state another fact are no bare answer: "有" in "有退休金", "自己" in "能自己照顾自己"
        got = [c.ex.value for c in ctx.cands[n:] if c.ex.fact == fact and not any(
            o.ex.fact not in ("subject", fact) and o.ex.start < c.ex.end and c.ex.start < o.ex.end for o in ctx.cands[:n])
            and not any(vs < c.ex.end and c.ex.start < ve for vs, ve, _, _ in ctx.vague)]  # "不到八十" is no "不"
        new_problems = [p for p in ctx.problems if p not in problems and p != "dont_know"]
        if not got and fact == "age" and not ctx.vague and not ctx.not_ages \
                and not ctx.lex.yes_no_re.match(ctx.t.lstrip(_JUNK)):
            sounded = N.sounded_number(ctx.t)  # "其实医疗" heard for 七十一了 (but "勿是" is a no)
            got = [sounded] if sounded is not None and 40 <= sounded <= 130 else []
        if got:
            readings[fact] = got[-1]
        elif new_problems:
            readings[fact] = "!" + new_problems[0]
        del ctx.cands[n:]
        ctx.problems[:] = problems
    if "district" not in stated:
        district = _district_reading(ctx)
        if district:
            readings["district"] = district
    return readings


def _district_reading(ctx: _Ctx) -> str | None:
    """A bare reply to "住在哪个区？", read as a place: "昆三" -> 昆山市, "想城" -> 相城区 (the
    normaliser corrects sound-alikes only where a place certainly stands)."""
    core = re.sub(r"^(?:在|住在|住|是)|(?:那边|那里|这边|的|吧|啊|呀)+$", "", ctx.t.strip(" " + _BREAKS))
    if not core or len(core) > 8 or not re.fullmatch(r"[\u4e00-\u9fff]+", core):
        return None
    if core not in ctx.lex.district_of and gazetteer.districts_of(core):
        # a place name as it stands ("凤凰镇", "后塍"): its district, unless it is shared or a
        # common word that needs more than itself ("新村")
        whole = [h for h in gazetteer.find_places(core) if (h.start, h.end) == (0, len(core))]
        return whole[0].districts[0] if whole and len(whole[0].districts) == 1 else None
    return extract("住在" + core, ctx.today).facts.get("district")  # the normaliser now sees a place


def _run(text: str, today: _dt.date, requested: str | None, readings: bool = False) -> ExtractionResult:
    ctx = _Ctx(text[:MAX_TEXT], today)
    _mask_numbers(ctx)
    ctx.spouse_elder = _spouse_elder(ctx)
    _vague_ages(ctx)  # first: a number inside "马上就八十", "七十好几" is no exact age
    for recognise in _RECOGNISERS:
        recognise(ctx)
    _bool_phrases(ctx, "dementia", ctx.lex.dementia, skip_other=True)
    if not any(c.ex.fact == "dementia" for c in ctx.cands):
        for m in ctx.lex.mind_fine.finditer(ctx.t):   # "她脑子灵光得很", "脑筋还清爽个"
            pol = ctx.polarity(m.start(), m.end())
            if pol == "neg" and ctx.t[m.start() - 1:m.start()].isspace():
                pol = None  # "勿是 脑筋清清爽爽": the no is an answer of its own, the phrase says why
            if pol is None and not ctx.about_other(m.start(), m.end()):
                ctx.add("dementia", False, m.start(), m.end())
    _emergency(ctx)
    _whose_ages(ctx)
    _shorthand_age(ctx)
    _misheard_age(ctx)
    ctx.cands = [c for c in ctx.cands if not _fine_taken_back(ctx, c)]
    levels = {c.ex.value for c in ctx.cands if c.ex.fact == "care_level"}
    if not levels or (levels == {CARE_LEVELS[0]} and all(c.ex.estimated for c in ctx.cands if c.ex.fact == "care_level")):
        # no level named, or only "fine" in everyday words: the daily activities decide
        # ("身体还行，就是洗澡要人帮", "洗澡需人帮，其他自理" -> 轻度失能)
        found = _adl_scan(ctx.t)
        if found and ctx.polarity(found[2][0], found[2][1]) == "hedge" or found and ctx.about_other(*found[2]):
            found = None  # "卧床不起的老人有没有上门护理", "我老伴走路要人扶": not the elder's own state
        if found and (not levels or found[0] != CARE_LEVELS[0]):
            level, _, (s, e) = found
            ctx.cands = [c for c in ctx.cands if c.ex.fact != "care_level"]
            ctx.add("care_level", level, s, e, estimated=True)
    _total_dependence(ctx)
    _corrections(ctx)
    ages = [c for c in ctx.cands if c.ex.fact == "age"]
    if ages and ctx.vague and ctx.vague[-1][0] >= ages[-1].ex.end \
            and ctx.lex.correction.search(ctx.t, ages[-1].ex.end, ctx.vague[-1][0]):
        ctx.cands = [c for c in ctx.cands if c.ex.fact != "age"]  # "八十二，其实八十多": the estimate stands
    incomplete = _incomplete(ctx)  # "我今年": no answer yet, the rest is coming
    answers = _readings(ctx) if readings and not incomplete and len(ctx.t) <= READING_MAX_CHARS else {}
    if requested and not any(c.ex.fact == requested for c in ctx.cands if not c.weak):
        _answer(ctx, requested)
    _drop_defined(ctx)
    _infer_self(ctx)
    result = _resolve(ctx)
    result.readings = answers
    result.relation = _relation(ctx)
    district = result.facts.get("district")
    result.place_choices = {name: ds for name, ds in ctx.place_choices.items() if district not in ds}
    said = _not_unsure(ctx.lex, ctx.t)   # "都不知道咋办了" is neither impatience nor "I don't know"
    for s, e, _, _ in ctx.vague:  # "七十多快八十" asks nothing (多快)
        said = said[:s] + " " * (e - s) + said[e:]
    result.cues = {cue for cue, pattern in ctx.lex.cue_res.items() if pattern.search(said)}
    if ctx.lex.dont_know.search(_not_unsure(ctx.lex, ctx.t)):
        result.cues.add("dont_know")
    if ctx.lex.at_a_loss.search(ctx.t):
        result.cues.add("at_a_loss")
    if "dont_know" in result.problems:  # a cue, not a problem with the message
        result.problems.remove("dont_know")
    if incomplete:
        result.cues.add("incomplete")
    if _answer_first(ctx):
        result.cues.add("answer_first")
    if ctx.other_person:
        result.cues.add("another_person")
    if _is_correction(ctx, answers):
        result.cues.add("correction")
    if "age" not in result.facts or "age" in result.hypothetical:
        result.age_range = _age_range(ctx)  # an exact age said wins over a vague one
        if result.age_range:
            answers.pop("age", None)  # "八十二，其实八十多": the estimate, not 82
    return result


def _not_current(ctx: _Ctx, pos: int) -> bool:
    """The mention at `pos` sits in a clause about the future, what someone else says or the past
    ("下个月才满八十三", "他自己老说七十九", "以前跟儿子住"), unless a correction or 现在 comes after
    that word ("以前住吴中现在住相城")."""
    last = None
    for last in ctx.lex.not_current.finditer(ctx.t, ctx.clause_start(pos), pos):
        pass
    return bool(last and last.group("nc"))


def _winner(ctx: _Ctx, fact: str, chosen: list) -> Extracted:
    """The value said last wins, but a mention that is not the current value (_not_current) never
    overrides one that is; and after a correction or the present state said after an earlier value
    ("八十三，说错了，八十二，…", "…，现在就她一个人"), the first value after the last such marker wins."""
    def last(cs):
        return max(cs, key=lambda c: (c.ex.start, c.ex.end)).ex
    if fact == "subject" or len(chosen) < 2:
        return last(chosen)
    pool = [c for c in chosen if not _not_current(ctx, c.ex.start)] or chosen
    first = min(c.ex.start for c in chosen)
    turns = [m.end() for m in ctx.lex.turn.finditer(ctx.t, first) if ctx.t[:m.start()].strip(_JUNK)]
    for p in reversed(turns):
        after = [c for c in pool if c.ex.start >= p]
        if after and any(c.ex.end <= p for c in chosen):
            return min(after, key=lambda c: (c.ex.start, -c.ex.end)).ex
    return last(pool)


def _drop_defined(ctx: _Ctx) -> None:
    """"失独家庭是什么意思", "不知道什么是低保": a word asked about or not understood is no fact."""
    pattern = ctx.lex.definition_re
    kept = []
    for c in ctx.cands:
        if c.ex.fact != "subject":
            clause = ctx.t[ctx.clause_start(c.ex.start):ctx.clause_end(c.ex.end)]
            if pattern.search(clause):
                continue
        kept.append(c)
    ctx.cands = kept


def _resolve(ctx: _Ctx) -> ExtractionResult:
    cands = ctx.cands
    if any(c.ex.fact == "subject" and c.ex.value == "self" or c.self_age for c in cands) \
            and not any(c.ex.fact == "subject" and c.ex.value == "relative" and not c.proxy for c in cands):
        # "帮朋友问的，我自己今年七十": asked for someone outside the family, then speaks of themselves
        cands = [c for c in cands if not c.proxy]
    subjects = {c.ex.value for c in cands if c.ex.fact == "subject"}
    if "relative" in subjects:
        # A relative is speaking: "我" ages are the speaker's, and the elder is not "self".
        cands = [c for c in cands if not c.self_age and not (c.ex.fact == "subject" and c.ex.value == "self")]
    elif any(c.self_age for c in cands) or any(c.ex.fact == "subject" and c.ex.value == "self" and not c.weak for c in cands):
        # The elder speaks of themselves: the care they give someone ("我七十八，我服侍伊") is not care they get.
        cands = [c for c in cands if not c.by_speaker]
    elif any(c.self_age for c in cands) and "self" not in subjects:
        age = next(c.ex for c in cands if c.self_age)
        cands.append(_Cand(Extracted("subject", "self", age.start, age.end, age.text), weak=True))
    # One candidate per span: drop a mention inside a longer one of the same fact.
    cands.sort(key=lambda c: (c.ex.start, -(c.ex.end - c.ex.start)))
    kept: list[_Cand] = []
    reach: dict[tuple[str, bool], int] = {}  # (fact, strong?) -> furthest end so far
    for c in cands:
        f = c.ex.fact
        if reach.get((f, True), -1) >= c.ex.end or (c.weak and reach.get((f, False), -1) >= c.ex.end):
            continue
        kept.append(c)
        key = (f, not c.weak)
        reach[key] = max(reach.get(key, -1), c.ex.end)
    result = ExtractionResult(problems=list(ctx.problems))
    for fact in dict.fromkeys(c.ex.fact for c in kept):
        mine = [c for c in kept if c.ex.fact == fact]
        strong = [c for c in mine if not c.weak]
        chosen = strong or mine[-1:]
        winner = _winner(ctx, fact, chosen)
        result.facts[fact] = winner.value
        if winner.estimated:
            result.estimated.add(fact)
        if fact != "subject" and ctx.conditional(winner.start):
            result.hypothetical.add(fact)
        result.spans.extend(c.ex for c in chosen)
    result.spans.sort(key=lambda x: (x.start, x.end))
    return result


@normalized_input  # the extractor reads normalised text; spans still point into the caller's text
def extract(text: str, today: _dt.date | None = None, requested: str | None = None,
            readings: bool = False) -> ExtractionResult:
    """Extract canonical profile facts from one user message.

    `requested` is the fact the advisor just asked about; it lets bare answers
    ("85", "有", "没有", "一个人") count for that fact. With `readings`, a short message
    also gets the answer it would give to each question (ExtractionResult.readings), so a
    caller that knows the question can read it later without extracting again. Never
    raises: odd input gives an empty result.
    """
    if not isinstance(text, str) or not text.strip():
        return ExtractionResult()
    try:
        return _run(text, today or _dt.date.today(), requested, readings)
    except Exception:  # pragma: no cover - a bug here must not end a conversation
        import logging
        logging.getLogger(__name__).exception("fact extraction failed")  # logs no user text
        return ExtractionResult(problems=["extraction_failed"])
