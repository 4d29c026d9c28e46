"""The advisor's side of the conversation: one decision per user turn (no Rasa in here).

Results first: once the basic facts that decide most results are known (facts.yml marks them
`basic`; in practice age, district and 户籍 where it matters), the results are shown, and the
questions that would decide the rest are offered, not imposed. Every message that states a
fact is taken and acknowledged, whatever was asked; a short reply ("82", "有", "不知道") is read
as the answer to the question just asked, using the readings the NLU pipeline put on the
message. Policy questions, what-ifs, greetings and thanks in the middle are answered, and the
conversation resumes where it was.

`Conversation(slots, turn, kb, …).respond()` returns the messages to send and the slots to
set; actions/advisor.py is the Rasa glue around it.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from policy_kb.engine import evaluate, next_fact
from policy_kb.kb import KnowledgeBase
from policy_kb.referrals import find_referral
from policy_kb.search import PolicySearch

from understanding.booking_parsing import parse_reference, request_kind
from understanding.choices import choice_number
from understanding.household import first_label

from .booking_support import INTENT_KIND, messages as request_words
from .guards import ALREADY_SAID, EXPLICIT_BYE, KEEP_GOING, NOT_AN_ANSWER, NOT_DONE, STRONG_BYE, sure
from . import hardship as hard
from .hardship import LOSS, hardship_in, hardship_lines
from .household import Household, display
from .relevance import leads, ordered, topic_in_words, topic_line, topic_of
from .reminders import STOP as STOP_REMINDERS, Reminders
from .policy_answers import answer_lines, aspect_of, money_lines, money_results
from .profile import DONT_KNOW, FACTS, dont_know_facts, known_profile
from .render import (PAGE, card, change_lines, describe_value, fact_options, menu_numbers, next_step_buttons, numbered,
                     offer_text, payload, question, recommended, status_word, who, wording)
from .turn import Turn

BASICS = tuple(sorted((f for f, spec in FACTS.items() if spec.basic), key=lambda f: FACTS[f].ask_order))
# Intents whose words are no answer to a question, even when a reading matches ("苏州的尊老金…").
NOT_ANSWERS = {"ask_policy", "what_if", "more", "help", "restart", "ask_recommendation",
               "book_service", "apply_waitlist", "request_assessment", "book_advisor", "check_status",
               "cancel_booking"}
# The classifier may call a plain answer "out of scope" ("不是，我还有个哥哥"): a short reply that
# asks nothing is still read as the answer to the question just asked.
QUESTION_WORDS = re.compile(r"[吗？?呢]|什么|怎么|为什么|哪|几|多少|谁")
# A question about a named policy, in any register: 有没有…, 能不能…, Wu 伐/哇, 啥, 咋.
POLICY_QUESTION = re.compile(r"[吗？?呢伐哇]|什么|怎么|为什么|哪|几|多少|谁|有没有|能不能|是不是|可不可以|可以吗|行不行|"
                             r"会不会|好不好|好勿好|要不要|咋|啥|要铜钿|多久|能领|能拿|能申请|能享受|可以领|可以拿|好拿|好领|"
                             r"好申请|拿过没有|领过没有|想装|想要|想请|想找|想办|需要")
# A wish for a service asked as a question of cost or right: answered about the service first.
COST_OR_RIGHT = re.compile(r"要钱|收钱|收费|多少钱|几钿|要铜钿|铜钿|免费|花钱|自费|自己出钱|什么条件|符合|够不够|能不能享受|"
                           r"有没有补贴|政府.{0,4}(?:出|补|贴)|能报销|能不能申请|能申请吗|可以申请吗|好申请|好勿好|"
                           r"好不好申请|怎么评估|怎么申请|是不是要|要不要评估|能不能办|能办吗")
# "能不能请人上门照顾": whether it can be had, a question, not yet a request in so many words.
ASKS_WHETHER = re.compile(r"能不能|可不可以|可以不可以|有没有|能否|行不行|好不好|[吗么伐？?]\s*$")
CONTINUE = re.compile(r"继续|接着问|问吧|你问")
MORE = re.compile(r"更多|还有|后面|下一页|再看")
# Words that leave a request at any of its questions, whatever the classifier made of them.
STOP_REQUEST = re.compile(r"不约了|不约|勿要约|覅约|不办了|不要办|不申请了|算了|不要了|不预约|取消预约|不用约")
# A status or cancellation needs a booking to speak of: "有没有送饭的" is no status check.
LOOKUP_WORDS = re.compile(r"进度|排到|第几|状态|编号|提交|办得|办好|取消|不约|退掉|审核|批了|批下来|到哪|我的申请|申请的|"
                          r"预约的|预约了|约好|约了")
REQUEST_POLICY = {"home_service": "home_care_service_subsidy", "waitlist": "public_care_home_waitlist",
                  "assessment": "ltc_insurance", "advisor": "elder_care_advisor"}
# Turns whose own meaning comes first, even when they name a policy.
OWN_MEANING = {"what_if", "more", "restart", "forget_me", "forget_me_confirm", "check_status", "cancel_booking",
               "book_service", "apply_waitlist", "request_assessment", "book_advisor"}
BARE_NUMBER = re.compile(r"^\s*\d{2,3}\s*(?:岁|了|啦)?\s*[。.!！]?\s*$")
BYE_NUMBERS = {"88", "886", "8888", "88888"}   # 拜拜, typed as numbers
MIN_BARE_AGE = 40           # "2" is a lost numbered choice, not an elder's age
MAX_BUTTONS = 5
# A family member who died ("我老伴走了", "我爸刚走了 脑溢血"): actions/hardship.py LOSS, never a goodbye.
def elder_word(text: str) -> str | None:
    """The first family word for an elder in the text, as a label (我爸 -> 父亲): persons.yml."""
    return first_label(text)


# Said by a relative of themselves ("我自己今年五十五"): not the elder's.
PERSONAL_OF_SPEAKER = ("age",)
SPEAKER_AGE = re.compile(r"我(?:自己|本人)?(?:今年|也|都|已经)?(?:快|才|有)?\s*[\d一二三四五六七八九十]{2,3}")
# A crisis said with a loss is today's only when money is short now.
MONEY_NOW = re.compile(r"钱|过不下去|揭不开锅|收入|垮了|交不起|付不起|拿不出|生活困难|没法生活")
# "算了，地址不想说": one question refused, not the request.
REFUSE_FIELD = re.compile(r"不想留|不想给|不留|不想说|先不说|这个不说|不方便说|不想填|先不填|不告诉|不想告诉|让工作人员.{0,6}问|打电话问我|到时候再说|"
                          r"记不清|不记得")
# What an unfinished message was about to say: "我今年" … an age, "她住在" … a place.
FRAGMENT_FACT = ((("age"), re.compile(r"今年|岁数|年纪|年龄|多大")), ("district", re.compile(r"住|家在|在$")),
                 ("hukou", re.compile(r"户口|户籍")), ("economic_status", re.compile(r"低保|家里是|经济")))
CORRECTABLE = ("age", "district", "economic_status", "living", "hukou", "care_level")   # in this order
# --- a message that is no answer to the question asked: answered briefly, the question asked again -----
# The two facts results hinge on: never dropped without saying so; the offer to go on names them first.
KEY_FACTS = ("age", "district")
# Only clear words skip a question ("下一个" to a question is no "more", "不告诉你" no "没有").
SKIP_WORDS = re.compile(r"跳过|下一个|下一题|下一项|保密|不告诉你|不想告诉|不想说|不方便说|不便透露|这个不说|先不说|略过|"
                        r"^\s*pass\s*$", re.I)
BOT_QUESTION = re.compile(r"机器人|真人|人工智能|(?<![A-Za-z])AI(?![A-Za-z])|智能客服|自动回复|人工客服|转人工|找人工|你是谁|"
                          r"你叫什么|你叫啥|你是什么|你们是谁|你们是哪|哪个单位|政府的吗|谁开发|你是哪", re.I)
WHY_ASKED = re.compile(r"为什么要?问|为啥要?问|干嘛要?问|干吗要?问|(?<!请)问.{0,4}(?:干嘛|干吗|干啥|有什么用|有啥用)|问这个做什么|"
                       r"跟这个有什么关系|和这个有什么关系")
# "什么意思", "听不懂": the question was not clear; said again more simply, never skipped.
CONFUSED = re.compile(r"什么意思|啥意思|听不懂|看不懂|没看懂|没听懂|不懂你|不明白你|你在说(?:什么|啥)|说的(?:是)?(?:什么|啥)|"
                      r"问的(?:是)?(?:什么|啥)")
# Leaving to ask elsewhere ("我自己去问街道", "回头打12345问问"): a short goodbye with where to ask.
LEAVE_STRONG = re.compile(r"自己(?:去|再)?(?:问|打听)|自己(?:去)?查吧?[。！!]?$|(?:去|找|问问?|问一下|打)(?:街道|社区|居委会?|民政|村里|村委会?|12345)|"
                          r"(?:街道|社区|居委会?|民政|村里|村委会?|12345)(?:去)?(?:问|打听)|问别人去|找别人问")
# "算了", "不问了": leaving, unless they want the results ("不问了，直接说") or an optional question is open.
LEAVE_WEAK = re.compile(r"不问了|不想问了|懒得问|不跟你(?:说|聊)了|^\s*(?:算了)+吧?[\s，,。！!…～~]*$|^\s*算了[\s，,]*不(?:要|用)了")
LEAVE_NOT = re.compile(r"再(?:告诉|说|来|回|跟你)|回头(?:告诉|再说)|问清楚了?再|然后再")
WANTS_RESULTS = re.compile(r"直接|结果|说吧|告诉我")
# "我问问社区再告诉你", "等我问问我妈": the answer later — to a question, a skip for now (it stays on offer).
DEFER = re.compile(r"再(?:告诉|说|回复|跟你说)|回头(?:告诉|再说|问问)|问清楚了?再|然后再|等我(?:问|查|看|找)|"
                   r"我(?:去)?(?:问问|查查|查一下|找找)")
# Impatience in words the lexicon may not mark: after the results, a shorter answer, never the same cards.
IMPATIENT = re.compile(r"快点|快说|赶紧|赶快|太慢|好慢|慢死|磨叽|磨磨唧唧|磨蹭|墨迹|啰嗦|罗嗦|啰里啰唆|废话|说重点|讲重点|急死|"
                       r"等不及|烦死|问那么多|别问了|不要问了|有完没完")
# "到底能领多少钱", "总共多少钱", "我问的是钱": the money items, not a menu of every result ("有什么补贴"
# is what they can get: the results, money first).
MONEY_QUESTION = re.compile(r"(?:领|拿|得|给|发|补)(?:到|得到)?(?:多少|几块|几钿|几个钱)|"
                            r"(?:到底|总共|一共|加起来|合计|总的|全部|一个月|每个月|每月).{0,4}(?:多少|几块|几钿)|"
                            r"多少(?:钱|补贴|津贴|补助)|(?:钱|补贴|津贴|补助)(?:有|是)多少|(?:哪些|什么|啥)钱|"
                            r"有(?:没有)?钱(?:拿|领)|钱呢|问的是钱|说钱|讲钱|(?:能|可以|好)(?:领|拿)(?:的|点)?钱|(?:^|说|讲)多少钱")
# …but not the cost of something ("请保姆要多少钱") and not, without these words, "一个月给多少" about
# the policy just discussed.
COST_OF = re.compile(r"要多少钱|要花|花多少|收多少|收费|费用|贵不贵|多贵|自费|付多少|交多少")
MONEY_OVERVIEW = re.compile(r"到底|总共|一共|加起来|合计|总的|全部|所有|哪些|什么钱|啥钱|问的是钱|钱呢")
MONEY, MONEY_WAITING = "money", "money?"   # last_policy: the money answer was given / waits for a fact
# "直接告诉我能领什么", "别问了": no question first — what can be told now is told (the results path)
DIRECT = re.compile(r"直接(?:说|讲|告诉|列)|别问|不要问|不要再问|问这么多|问那么多|别的别问")
# A stated fact that answers another question asked: nobody lives with an elder living alone.
IMPLIED_ANSWERS = {("living", "独居"): ("family_caregiver", False)}
# Asked as a yes/no question too ("有残疾人证吗？", "是低保户…吗？"): "没有 …", "不是 …" answer it.
YES_NO_ASKED = ("disability_grade", "economic_status")
NAMED_SCORE = 10     # PolicySearch adds 10 when a policy's name or alias is in the question
CLEAR_SCORE = 6      # below this a search hit is a guess: ask which policy instead
PROBLEM_WORDING = {
    "age_out_of_range": "bad_age",
    "id_number_invalid": "bad_id_number",
    "birth_date_in_future": "bad_birth_date",
    "birth_date_invalid": "bad_birth_date",
    "care_score_out_of_range": "bad_care_score",
    "disability_grade_invalid": "bad_disability_grade",
}
# The fact an impossible value was meant for: asked again after the polite refusal.
PROBLEM_FACT = {"age_out_of_range": "age", "id_number_invalid": "age", "birth_date_in_future": "age",
                "birth_date_invalid": "age", "care_score_out_of_range": "care_level",
                "disability_grade_invalid": "disability_grade"}
EVERYONE_AGE = 65          # "what applies to everyone": an elder of 65 anywhere in Suzhou, nothing else known
BASICS_DISTRICT_ANY = "姑苏区"   # any district does: these results do not depend on which
MAX_ASKS = 2        # no question is asked more than twice in a row (advice and requests alike)
TYPED_REQUEST_BUTTON = {"book_service": "home_service", "apply_waitlist": "waitlist",
                        "request_assessment": "assessment", "book_advisor": "advisor"}
REQUEST_INTENTS = set(INTENT_KIND)          # book_service, apply_waitlist, request_assessment, book_advisor
LOOKUP_INTENTS = {"check_status", "cancel_booking"}
# Inside a request: turns answered by the advisor's own handlers, then the request's question again.
ASIDES = {"ask_policy", "help", "more", "ask_recommendation", "what_if", "greet", "thank", "out_of_scope"}
# Conversation bookkeeping kept in slots (besides the fact slots).
STATE_SLOTS = ("asked_fact", "offer_open", "continuing", "shown_results", "shown_count", "last_policy",
               "not_understood", "care_estimated", "speaker_relation", "subject", "question_key", "question_times")


@dataclass
class Reply:
    messages: list = field(default_factory=list)   # {"text": …, "buttons": […]}
    slots: dict = field(default_factory=dict)      # slot name -> new value
    payload: dict | None = None                    # custom {type: recommendations, …}
    restart: bool = False                          # the user confirmed: clear the conversation


BUBBLE = 200   # characters: a phone screen's worth, read without scrolling


def split_bubble(text: str, limit: int = BUBBLE) -> list[str]:
    """Lines packed into bubbles of at most `limit` characters; a longer line is cut after a
    clause mark (。；，) so no sentence is broken mid-word."""
    if len(text) <= limit:
        return [text]
    pieces = []
    for line in text.split("\n"):
        while len(line) > limit:
            cut = max(line.rfind(p, 0, limit) for p in "。；，、）")
            cut = cut + 1 if cut > limit // 3 else limit
            pieces.append(line[:cut])
            line = line[cut:]
        pieces.append(line)
    bubbles, current = [], ""
    for piece in pieces:
        if current and len(current) + 1 + len(piece) > limit:
            bubbles.append(current)
            current = piece
        else:
            current = f"{current}\n{piece}" if current else piece
    return bubbles + ([current] if current else [])


def _short_name(name: str) -> str:
    """"高龄津贴（尊老金）" -> "尊老金": the name people say."""
    m = re.search(r"（(.+?)）", name)
    return m.group(1) if m else name


class Conversation:
    def __init__(self, slots: Mapping[str, Any], turn: Turn, kb: KnowledgeBase, search: PolicySearch,
                 today: dt.date, sender_id: str = "", metadata: Mapping | None = None):
        self.slots = dict(slots)
        self.turn, self.kb, self.search, self.today = turn, kb, search, today
        self.sender_id, self.metadata = sender_id, metadata or {}
        self.in_form = False        # a request is open: it asks its own next question after an aside
        self._posed = False         # a question was asked in this reply
        self._asked_before = self.slots.get("asked_fact")   # the question open before this turn
        self.profile = known_profile(self.slots)
        self.skipped = dont_know_facts(self.slots)
        self.reply = Reply()
        self._lead: list[str] = []  # acknowledgements said at the top of the next message
        self._results = None
        self._profile_changed = False
        self._cards = 0             # result cards in this reply
        self._repeated: list[str] = []  # known facts the message said again
        self._chat_lines: dict[str, str] = {}   # "more" (回复「更多」…), "final_word" (待核实…)
        self.household = Household(self)
        self.reminders = Reminders(self)
        self.household_said = False  # several elders were named in this message
        self.switched = False        # the user went back to an elder already known: their results again
        self.share_with_household = False   # "他们都是低保户": the facts go to every elder
        self._engine_profile_key, self._engine_profile_value = None, None   # engine_profile(), once per turn

    # --- slots ---------------------------------------------------------------------------------
    def _get(self, name: str, default=None):
        value = self.slots.get(name)
        return default if value is None else value

    def _set(self, name: str, value) -> None:
        if self.slots.get(name) != value:
            self.slots[name] = value
            self.reply.slots[name] = value

    @property
    def subject(self):
        return self.slots.get("subject")

    @property
    def asked(self) -> str | None:
        return self.slots.get("asked_fact")

    @property
    def shown(self) -> dict | None:
        return self.slots.get("shown_results")

    @property
    def words(self) -> dict:
        return wording()

    def who(self) -> str:
        """The elder as the advisor names them: 您, 父亲 (by the family's word), else 老人家."""
        return display(self.household.current, self.subject) if self.household.current else who(self.subject)

    def fact_question(self, fact: str) -> str:
        """The question about a fact, naming the elder by the family's word ("父亲有苏州户口吗？")."""
        label = self.household.current
        if not label or label == "本人":
            return question(fact, self.subject)
        # about 父亲 or 老伴, whoever is typing: "父亲家里是低保户…吗？", "您老伴今年多大岁数？"
        name = display(label, self.subject)
        return question(fact, "relative").replace("老人家里", f"{name}家里").replace("老人家", name)

    # --- one rule for every question: how often it was asked in a row -------------------------
    def times_asked(self, key: str) -> int:
        """How many times in a row the question `key` ("fact:age", "request:phone") was asked."""
        return int(self.slots.get("question_times") or 0) if self.slots.get("question_key") == key else 0

    def pose(self, key: str) -> int:
        """Count one more asking of `key`; callers ask at most MAX_ASKS times in a row, then move on."""
        times = self.times_asked(key) + 1
        self._set("question_key", key)
        self._set("question_times", times)
        self._posed = True
        return times

    # --- output ------------------------------------------------------------------------------------
    def _note(self, text: str) -> None:
        if text:
            self._lead.append(text)

    def _say(self, text: str = "", buttons=(), menu: bool = False) -> None:
        """One bubble. A `menu` (what to do with the results) keeps the numbers it had on screen."""
        text = "\n".join(self._lead + ([text] if text else []))
        self._lead = []
        parts = split_bubble(text)
        for part in parts[:-1]:   # a long reply is several short bubbles; the buttons go with the last
            self.reply.messages.append({"text": part})
        text = parts[-1] if parts else text
        if text or buttons:  # never an empty bubble
            message = {"text": text}
            if buttons:
                message["buttons"] = numbered(buttons, keep=self.slots.get("menu") if menu else None)
                # another list on screen (a question's options): the menu starts again from 1 next time
                self._set("menu", menu_numbers(message["buttons"]) if menu else None)
            self.reply.messages.append(message)

    def _flush(self) -> None:
        if self._lead:
            self._say()

    def results(self):
        if self._results is None:
            profile = self.engine_profile()
            self._results = evaluate(self.kb, profile, self.today)
            if "age" in profile and "age" not in self.profile:   # said as an estimate: the reasons say so
                low, high = self.age_estimate()
                for r in self._results:
                    r.reasons = [x.replace(f"年龄{low}岁", f"年龄约{low}到{high}岁") for x in r.reasons]
        return self._results

    # --- a vague age ("八十出头"): an estimate that decides what it can ------------------------------
    def age_estimate(self) -> tuple[int, int] | None:
        value = self.slots.get("age_estimate")
        return (int(value[0]), int(value[1])) if value and "age" not in self.profile else None

    def engine_profile(self) -> dict:
        """The profile the engine reads: with a vague age, its lowest value when every result is
        the same across the range (八十出头 decides 尊老金); otherwise the age is still missing and
        is asked, once, because it matters."""
        estimate = self.age_estimate()
        if estimate is None:
            return self.profile
        key = (tuple(sorted(self.profile.items(), key=lambda kv: kv[0])), estimate)
        if self._engine_profile_key == key:
            return self._engine_profile_value   # one pair of evaluations per turn, however often asked
        low, high = ({**self.profile, "age": a} for a in estimate)
        same = [(r.id, r.status, r.priority_tier) for r in evaluate(self.kb, low, self.today)] == \
            [(r.id, r.status, r.priority_tier) for r in evaluate(self.kb, high, self.today)]
        self._engine_profile_key, self._engine_profile_value = key, (low if same else self.profile)
        return self._engine_profile_value

    def _take_age_estimate(self, stated: dict) -> None:
        estimate = self.turn.age_range
        if not estimate or "age" in stated or "age" in self.profile:
            return
        if list(estimate) != list(self.slots.get("age_estimate") or []):
            self._set("age_estimate", list(estimate))
            self._results = None
            self._profile_changed = True
            low, high = estimate
            self._note(wording()["age_estimate_noted"].format(low=low, high=high))
            if self.asked == "age":
                self._set("asked_fact", None)

    # --- the turn ---------------------------------------------------------------------------------
    def respond(self) -> Reply:
        if self.slots.get("restart_asked"):
            self._set("restart_asked", None)
            if self.turn.intent == "affirm":        # "是" to "要清空…重新开始吗？"
                self.reply.restart = True
                self._say(wording()["restart"])
                return self.reply
            if self.turn.intent == "deny":          # "不是": everything is still there
                self._note(wording()["restart_confirm"]["kept"])
                task = self._task()
                self.in_form = task is not None
                task.ask_next() if task is not None else self._resume(prefix=False)
                self._flush()
                return self.reply
        self._take_subject()
        if LOSS.search(self.turn.text) and not MONEY_NOW.search(self.turn.text):
            # "儿子前年出车祸走了": how someone died, not a sudden hardship of the family today
            self.turn.facts.pop("emergency", None)
            for person in self.turn.persons:
                (person.get("facts") or {}).pop("emergency", None)
        if self.slots.get("subject") == "relative" and "age" in self.turn.facts and SPEAKER_AGE.search(self.turn.text) \
                and not any(p.get("own") for p in self.turn.persons):
            # "我自己今年五十五": a relative speaking of themselves, not of the elder
            own = {k for k in PERSONAL_OF_SPEAKER if k in self.turn.facts}
            if own:
                for k in own:
                    self.turn.facts.pop(k)
                self.turn.readings = {}
                self._note(wording()["speaker_own"])
        focus = topic_in_words(self.turn.text)
        if focus:
            self._set("focus", focus)   # "吃不消了": the carer's relief first, now and later
        self.household.take()
        if self.switched and self._task() is None and not set(self.turn.facts) - {"subject"} \
                and self.turn.intent not in REQUEST_INTENTS and not request_kind(self.turn.text):
            # "看看我爸的": the results of the elder already known, or the question still open for them
            self._show_results(again=True) if self.shown is not None else self._progress()
            self._flush()
            self._attach_payload()
            return self.reply
        if "incomplete" in self.turn.cues and not set(self.turn.facts) - {"subject"} \
                and self.turn.intent not in OWN_MEANING:
            # "我今年" from a slow typer: wait for the rest, the open question stays open
            self._say(wording()["go_on"])
            self._posed = True
            self._set("pending_fact", next((f for f, p in FRAGMENT_FACT if p.search(self.turn.text)), None))
            return self.reply
        task = self._task()
        if STOP_REMINDERS.search(self.turn.text):
            # "取消提醒", "不用提醒了": the reminders end whatever else is open (never a booking look-up);
            # an open request asks its question again
            self.reminders.on_stop()
            if task is not None:
                task.ask_next()
            self._flush()
            return self.reply
        if self._typed_choice_confirmed(task):
            return self.reply
        ref = self._referral()
        if ref is not None and task is None and self.turn.intent in REQUEST_INTENTS | LOOKUP_INTENTS:
            self.turn.intent = "nlu_fallback"   # "南京的公办养老院怎么排队": referred, no request started
        if ref is not None and ref.urgent and task is not None:
            self._on_referral_note(ref)   # "她现在突然说话不清楚了" in a booking: 120 first
        if task is None and self.turn.intent in REQUEST_INTENTS and COST_OR_RIGHT.search(self.turn.text):
            # "想叫人上门帮洗澡，要钱吗", "长护险好勿好申请": a question about it, not yet a request
            named = self.search.named(self.turn.text)
            self.turn.entities.setdefault("policy", named[0] if named else REQUEST_POLICY[INTENT_KIND[self.turn.intent]])
            self.turn.intent = "ask_policy"
        wish = request_kind(self.turn.text)
        if task is None and wish and self.turn.intent not in REQUEST_INTENTS | LOOKUP_INTENTS \
                and not COST_OR_RIGHT.search(self.turn.text) and not ASKS_WHETHER.search(self.turn.text):
            self.turn.intent = wish   # "帮我妈约一下上门助洁明天上午地址是…": a request in so many words
        if self.turn.intent in LOOKUP_INTENTS and not parse_reference(self.turn.text) \
                and not LOOKUP_WORDS.search(self.turn.text) and not (task and (self.slots.get("task_field") or "").startswith("lookup")):
            self.turn.intent = "nlu_fallback"   # read as anything else would be: a policy question, facts…
        if task is not None or self.turn.intent in REQUEST_INTENTS | LOOKUP_INTENTS:
            self._respond_to_request(task)
        else:
            self._respond_to_advice()
        self._flush()
        if not self._posed and self.slots.get("question_key"):
            self._set("question_key", None)   # nothing asked now: the count starts again
            self._set("question_times", 0)
        if self._profile_changed or self.reply.payload is not None \
                or (self.shown is not None and self.slots.get("asked_fact") != self._asked_before):
            self._attach_payload()   # …and, once results were shown, when another question is open
        return self.reply

    # --- a number typed from a menu: a request it would start is confirmed first -------------------------
    def _typed_choice_confirmed(self, task) -> bool:
        """True when this turn was only the confirmation question ("您回复的「3」是「申请公办养老院轮候」…")."""
        pending = self.slots.get("pending_choice")
        if pending:
            self._set("pending_choice", None)
            if self.turn.intent in (pending, "affirm") or (self.turn.intent != "deny" and request_kind(self.turn.text)) \
                    or (self.turn.intent not in ("deny", "goodbye") and self.turn.entities.get("service_type")):
                self.turn.intent = pending   # "是", "1", the button, or "助浴": the request starts
                return False
            if self.turn.intent == "deny":
                self._note(wording()["typed_choice"]["declined"])
                self._resume(prefix=False)
                self._flush()
                return True
        typed = str(self.metadata.get("typed_choice") or "")
        if task is not None or self.turn.intent not in REQUEST_INTENTS or choice_number(typed) is None:
            return False
        w = wording()["typed_choice"]
        name = wording()["buttons"][TYPED_REQUEST_BUTTON[self.turn.intent]]
        self._say(w["ask"].format(typed=typed.strip(), name=name),
                  [(w["yes_button"], payload(self.turn.intent)), (w["no_button"], payload("deny"))])
        self._set("pending_choice", self.turn.intent)
        self._posed = True
        return True

    # --- requests: tasks this one decision advances ------------------------------------------------------
    def _task(self):
        from .requests import BookingRequest, Lookup
        if self.slots.get("booking_kind") and not self.slots.get("booking_reference"):
            return BookingRequest(self)
        if self.slots.get("lookup_purpose"):
            return Lookup(self)
        return None

    def _respond_to_request(self, task) -> None:
        from .requests import BookingRequest, Lookup
        turn, intent = self.turn, self.turn.intent
        self.in_form = True
        stated, skipped, problem = self._read_answer()
        problem = turn.problems[0] if turn.problems else problem
        new = {k: v for k, v in stated.items() if not (problem and k == PROBLEM_FACT.get(problem))}
        changed = self._accept(new)
        if skipped:
            self._skip(skipped)
        if problem:
            self._note(wording()[PROBLEM_WORDING.get(problem, "bad_age")])
        if isinstance(task, BookingRequest) and hard.in_request(self, task):
            return   # despair (the request waits), or the elder it is for died (left unsent)
        if isinstance(task, BookingRequest) and REFUSE_FIELD.search(turn.text) \
                and not re.search(r"不约|不办|不要了|不申请|取消", turn.text):
            if task.skip_open_field():
                task.ask_next()   # "算了，地址不想说": that question is left to the staff's call
                self._after_request()
                return
            if self.slots.get("task_field") == "phone" and not task.read():
                self._note(request_words()["phone_needed"])   # "手机号不想留": what it is for, a landline will do
                task.ask_next()
                return
        if isinstance(task, BookingRequest) and (intent == "cancel_booking" or STOP_REQUEST.search(turn.text)) \
                and not parse_reference(turn.text) and not KEEP_GOING.search(turn.text):
            task.stop()   # "不约了", "取消" at any question: the request was never filed
            self._after_request()
            return
        if intent in REQUEST_INTENTS and not (isinstance(task, BookingRequest) and INTENT_KIND[intent] == task.kind):
            if isinstance(task, Lookup):
                task.close()
            BookingRequest(self).start(intent)   # a request of another kind replaces this one
            self._after_request()
            return
        if intent in LOOKUP_INTENTS and isinstance(task, BookingRequest) and not parse_reference(turn.text):
            self._note(request_words()["not_filed_yet"])   # "我排到第几了" before confirming: this one
            task.ask_next()
            return
        if intent in LOOKUP_INTENTS and (task is None or isinstance(task, BookingRequest)):
            if isinstance(task, BookingRequest):
                self._note(request_words()["request_left"])
                task._close()
            Lookup(self).start(intent)
            return
        if self._says_goodbye():
            # "没事了，谢谢": a goodbye; the request waits, nothing is lost
            self._say(wording()["goodbye_request"].format(whom=self._whom()))
            self._posed = True
            return
        answered = task.read()
        if answered or problem or task.filled_other:
            task.ask_next()
        elif ALREADY_SAID.search(turn.text):
            self._note(wording()["already_said"]["request"])   # "电话刚才说了呀": not caught, asked once more
            task.ask_next()
        elif self._referral() and not self._referral().urgent:   # an emergency was said above already
            self._on_referral()     # "养老金今年涨多少": where to ask, then the request's question again
            task.ask_next()
        elif LOSS.search(turn.text):
            self._lead.insert(0, wording()["loss"])
            task.ask_next()
        elif self._may_be_a_policy_question() and self._names_a_policy_in_a_question():
            self._on_ask_policy()   # "上门助洁要铜钿哇": answered, then the request's question again
            task.ask_next()
        elif intent in ("ask_recommendation", "more") and not set(self.profile) - {"subject"}:
            # nothing known yet: no second question beside the request's; results come after it
            self._note(wording()["results_after_request_first"])
            task.ask_next()
        elif intent in ASIDES:
            getattr(self, f"_on_{intent}")()   # answered as anywhere, then the request's question again
            task.ask_next()
        elif stated:
            if not changed:
                self._note(wording()["already_noted"].format(
                    facts="，".join(describe_value(k, v) for k, v in stated.items())))
            task.ask_next()
        else:
            task.ask_next(missed=True)
        if isinstance(task, BookingRequest):
            self._after_request()

    def _after_request(self) -> None:
        """A request just filed or left: the results are offered, so a family who asked for a visit
        first still hears what the elder qualifies for."""
        if self._task() is not None:
            return
        self.in_form = False
        self._flush()
        if self.shown is not None:
            return
        nxt = self._next_basic()
        if nxt:
            self._note(wording()["results_after_request"])
            self._ask(nxt)
        else:
            self._show_results()

    # --- advice ----------------------------------------------------------------------------------------
    def _respond_to_advice(self) -> None:
        stated, skipped, problem = self._read_answer()
        skipped, stated = self._skip_or_not(skipped, stated, problem)
        self._name_the_elder(stated)
        problem = self.turn.problems[0] if self.turn.problems else problem
        if problem:
            self._problem(problem, stated)
            return
        changed = self._accept(stated)
        if self.share_with_household:
            self.household.share(stated)
        self._take_age_estimate(stated)
        if skipped:
            self._skip(skipped)
        if self.turn.place_choices and "district" not in stated:
            self._ask_place(self.turn.place_choices)   # a name two districts share: asked, never guessed
            return
        # the open question got its answer, even one already known ("不是" said again)
        answered = bool(changed or skipped or (self.asked and self.asked in stated))
        if answered and self.asked and (self.asked in stated or skipped):
            self._set("asked_fact", None)
        # facts said again, all already known ("我外婆88岁住相城" twice): heard, not "没听明白"
        self._repeated = [describe_value(k, v) for k, v in stated.items()] if stated and not changed else []
        intent = self._intent(answered)
        handler = getattr(self, f"_on_{intent}", self._on_not_understood)
        if intent not in ("not_understood", "out_of_scope"):
            self._set("not_understood", 0)
        handler()

    def _referral(self):
        """A question this advisor does not cover (pensions, 残疾人证, another city…) or an
        emergency: where to ask, never the nearest card (policy_kb/referrals.yml)."""
        ref = find_referral(self.turn.text)
        if ref is None:
            return None
        if ref.urgent or ref.always:   # an emergency, another city: whatever else the message seems to ask
            return ref
        if self.turn.intent in REQUEST_INTENTS | LOOKUP_INTENTS:
            return None
        return ref if not self.search.named(self.turn.text) else None

    def _intent(self, answered: bool) -> str:
        turn, intent = self.turn, self.turn.intent
        if self._referral():
            return "referral"
        if LOSS.search(turn.text):
            return "loss"   # "我老伴走了" is a loss, never a goodbye
        if hard.quiet_after(self, answered):
            return "after_hard"   # "谢谢" after despair or a death: a kind word, not the next question
        if hardship_in(turn.text) == "despair":
            return "hardship"   # "活着也没意思": the help lines before anything else
        reminder = self.reminders.intent()
        if reminder:
            return reminder   # the offer to tell them later, its answers, "不用提醒了"
        if self._leaves():
            return "leave"   # "我自己去问街道", "算了": a short goodbye with where to ask
        if self._says_goodbye(answered):
            return "goodbye"   # "好的谢谢你没别的了", "就这些，再见": a goodbye in so many words
        aside = self._aside_kind(answered)
        if aside:
            return aside   # "你是机器人吗", "为什么要问年龄", "什么意思": answered, the question asked again
        if self._asks_money():
            return "money"   # "到底能领多少钱": the money items with their amounts, once
        if self._impatient() and not answered and not self._names_a_policy_in_a_question():
            return "ask_recommendation"   # "覅问来问去哉，直接讲伲好拿点啥": the results, not a complaint
        if ALREADY_SAID.search(turn.text) and not answered:
            return "already_said"   # "刚才说过了": what was recorded, and only what is missing
        if intent == "goodbye" and (not sure(turn, EXPLICIT_BYE) or NOT_DONE.search(turn.text)
                                    or (DEFER.search(turn.text) and not EXPLICIT_BYE.search(turn.text))):
            intent = "thank" if "谢" in turn.text else "nlu_fallback"   # a guessed goodbye ends nothing
        if intent == "what_if" and turn.hypothetical:
            return "what_if"
        if self._may_be_a_policy_question() and self._names_a_policy_in_a_question():
            return "ask_policy"   # "喘息服务是什么，我妈照顾他吃不消": the question first, facts kept too
        if hardship_in(turn.text):
            return "hardship"   # "照顾我妈我快吃不消了": heard, and the help that fits
        if intent == "more" and self._get("offer_open") and CONTINUE.search(turn.text) and not MORE.search(turn.text):
            return "continue"   # "继续", "好的继续吧": the offer to answer more, not the next cards
        if "impatient" in turn.cues and intent in ("help", "more", "nlu_fallback", "out_of_scope", "inform", "goodbye",
                                                   "thank", "affirm", "deny", None):
            return "ask_recommendation"   # "眼睛不好打字慢，你直接说吧": the results now
        if intent in ("ask_policy", "more", "help", "ask_recommendation"):
            return intent
        if "impatient" in turn.cues:
            return "ask_recommendation"
        if answered:
            return "inform"
        number = choice_number(turn.text)
        if number is not None and number < MIN_BARE_AGE and not turn.facts:
            return "gone_number"   # "2" when the menu on screen has no 2 (any more)
        if intent in ("nlu_fallback", "inform", "out_of_scope", None) and self._asks_about_a_policy():
            return "ask_policy"  # "谁能先排上养老院？…" with the classifier unsure: a policy is named
        if intent in ("affirm", "deny") and self._get("offer_open"):
            return "continue" if intent == "affirm" else "decline"
        if intent == "deny" and self._get("continuing"):
            return "decline"  # "算了", "不用了" to an optional question: stop asking
        if self._repeated and intent in ("inform", "nlu_fallback", "out_of_scope", "affirm", "deny", None):
            return "repeat"
        if BARE_NUMBER.match(turn.text) and "age" in self.profile and turn.reading("age") == self.profile["age"]:
            self._repeated = [describe_value("age", self.profile["age"])]
            return "repeat"   # "88" again: heard, not "没听明白"
        if intent == "goodbye" and BARE_NUMBER.match(turn.text) and (self.asked or turn.text.strip() not in BYE_NUMBERS):
            return "not_understood"   # "250" to a question is no goodbye; only 88/886 alone say bye
        if intent in ("greet", "thank", "goodbye"):
            return intent
        if not self.asked and (intent == "dont_know" or DEFER.search(turn.text)):
            return "later"   # "我问问社区再告诉你" with no question open: heard, not "没听明白"
        return "not_understood"

    def _says_goodbye(self, answered: bool = False) -> bool:
        turn = self.turn
        if answered or set(turn.facts) - {"subject"} or NOT_DONE.search(turn.text) or turn.intent in OWN_MEANING - {"more"}:
            return False
        if STRONG_BYE.search(turn.text) and not re.search(r"[吗？?]\s*$|呢\s*$", turn.text):
            return True   # "谢谢你，我知道怎么办了，再见"
        if QUESTION_WORDS.search(turn.text):
            return False
        if EXPLICIT_BYE.search(turn.text) and ("impatient" not in turn.cues or "谢" in turn.text):
            return True   # "好的谢谢你没别的了": thanks and nothing more (alone, "没别的了" asks for the results)
        return False

    # --- messages that are no answer: chat, noise, leaving, money (never a skip) -----------------------
    def _skip_or_not(self, skipped: str | None, stated: dict, problem) -> tuple[str | None, dict]:
        """Only clear words skip the question asked: "不知道", "跳过", "不想说", "下一个". Chat, "什么意思",
        "你是机器人吗", "我去社区问问" and a money question are no skip, whatever the classifier made of
        them; "不告诉你" is a skip, never a "没有"."""
        turn, asked = self.turn, self.asked
        if skipped and self._not_a_skip():
            return None, stated
        if not skipped and not problem and asked and not set(turn.facts) - {"subject"} and not self._not_a_skip() \
                and (SKIP_WORDS.search(turn.text) or (DEFER.search(turn.text) and not QUESTION_WORDS.search(turn.text)
                                                       and not self.search.named(turn.text)
                                                       and not EXPLICIT_BYE.search(turn.text))):   # "…再说，拜": a goodbye
            self.turn.intent = "dont_know"   # "下一个" to a question is no "more"
            return asked, {k: v for k, v in stated.items() if k != asked}
        return skipped, stated

    def _not_a_skip(self) -> bool:
        text = self.turn.text
        return bool(CONFUSED.search(text) or WHY_ASKED.search(text) or BOT_QUESTION.search(text)
                    or self._leaves() or self._asks_money())

    def _leaves(self) -> bool:
        """"我自己去问街道", "回头打12345问问", "算了": leaving to ask elsewhere (not "不问了，直接说")."""
        turn, text = self.turn, self.turn.text
        if set(turn.facts) - {"subject"} or QUESTION_WORDS.search(text) or NOT_DONE.search(text) \
                or LEAVE_NOT.search(text) or turn.intent in OWN_MEANING:
            return False
        if LEAVE_STRONG.search(text):
            return True
        return bool(LEAVE_WEAK.search(text)) and "impatient" not in turn.cues and not WANTS_RESULTS.search(text) \
            and not (self._get("continuing") and self.asked)   # "算了" to an optional question: stop asking

    def _aside_kind(self, answered: bool) -> str | None:
        """A question about the advisor, why it asks, or that the question was not understood."""
        text = self.turn.text
        if answered or set(self.turn.facts) - {"subject"} or self.turn.intent in OWN_MEANING or self.search.named(text):
            return None
        if self.asked and WHY_ASKED.search(text) and not (self._impatient() or DIRECT.search(text)):
            return "why_asked"   # not "问那么多干啥，能领啥就说啥": that wants the answer, not a reason
        if self.asked and CONFUSED.search(text):
            return "confused"
        if BOT_QUESTION.search(text) and not self.search.named(text):
            return "bot"
        return None

    def _asks_money(self) -> bool:
        """"到底能领多少钱", "总共多少钱", "我问的是钱" (no policy named); "一个月给多少" after a policy
        was discussed is about that policy."""
        text = self.turn.text
        if not MONEY_QUESTION.search(text) or COST_OF.search(text) or self.search.named(text) \
                or hardship_in(text) or self.turn.intent in OWN_MEANING:
            return False
        if (self._impatient() or DIRECT.search(text)) and self._money_needs():
            return False   # told not to ask: what applies now, not a question about the age first
        return bool(MONEY_OVERVIEW.search(text)) or self._get("last_policy") not in self.kb.by_id

    def _impatient(self) -> bool:
        return "impatient" in self.turn.cues or bool(IMPATIENT.search(self.turn.text))

    def _missing_key_facts(self, skipped_too: bool = True) -> list[str]:
        """Age and district when still unknown and some result waits for them."""
        known = self.engine_profile()
        undecided = {f for r in self.results() if r.status == "unknown" for f in r.missing}
        return [f for f in KEY_FACTS if f not in known and f in undecided and (skipped_too or f not in self.skipped)]

    def _key_missing_line(self) -> str | None:
        """"还不知道年龄，要看年龄的几项（比如尊老金）还定不了。" when a key fact is skipped or open (and
        户籍 when it was left open, not skipped: it decides 尊老金)."""
        known = self.engine_profile()
        undecided = {f for r in self.results() if r.status == "unknown" for f in r.missing}
        missing = self._missing_key_facts() + [f for f in BASICS if f not in KEY_FACTS and f not in known
                                               and f not in self.skipped and f in undecided]
        if not missing:
            return None
        waiting = [r for r in self.results() if r.status == "unknown" and set(r.missing) & set(missing)]
        # the example waits for little else (尊老金 for the age), never a programme for a crisis
        plain = [r for r in waiting if set(r.missing) <= set(missing) | {"hukou", "subject"}]
        example = _short_name((plain or waiting)[0].name) if waiting else ""
        labels = "和".join(FACTS[f].label for f in missing)
        return wording()["chat"]["missing"].format(labels=labels, example=example)

    def _park(self, fact: str) -> None:
        """Asked twice and still no answer: the question is left open, never skipped nor marked 不知道.
        What is known so far comes instead — or, without an age, what every elder in Suzhou can use —
        and the question stays first on offer."""
        w = wording()
        self._set("asked_fact", None)
        self._set("not_understood", 0)
        label = FACTS[fact].label
        if self.shown is None and "age" not in self.engine_profile():
            general = evaluate(self.kb, {"age": EVERYONE_AGE, "district": self.profile.get("district", BASICS_DISTRICT_ANY)},
                               self.today)
            lines = [w["chat"]["parked_why"].format(label=label)]
            lines += [w["for_everyone"]["line"].format(name=r.name, condition="") for r in general
                      if r.status == "eligible"][:4]
            missing = [f for f in KEY_FACTS if f not in self.engine_profile()] or [fact]
            lines.append(w["chat"]["parked_then"].format(labels="和".join(FACTS[f].label for f in missing)))
            self._say("\n".join(lines))
            return
        self._note(w["still_open"].format(label=label))
        if self.shown is None:
            self._show_results()
        else:
            self._footer(cards_left=self._cards_left())

    def _reask_hint(self, fact: str) -> str:
        return (wording()["chat"]["hint"] or {}).get(fact, "")

    def _may_be_a_policy_question(self) -> bool:
        """Unless the turn has a meaning of its own; a "what if" with nothing supposed has none."""
        intent = self.turn.intent
        return intent not in OWN_MEANING or (intent == "what_if" and not self.turn.hypothetical)

    def _names_a_policy_in_a_question(self) -> bool:
        if not (aspect_of(self.turn.cues) or POLICY_QUESTION.search(self.turn.text)):
            return False
        return bool(self.search.named(self.turn.text))

    def _asks_about_a_policy(self) -> bool:
        turn = self.turn
        if not (aspect_of(turn.cues) or QUESTION_WORDS.search(turn.text)):
            return False
        hits = self.search.search(turn.text, limit=2)
        if not hits:
            return False
        runner_up = hits[1].score if len(hits) > 1 else 0
        return hits[0].score >= NAMED_SCORE or (hits[0].score >= CLEAR_SCORE and hits[0].score >= 1.25 * runner_up)

    # --- whose facts --------------------------------------------------------------------------------
    def _name_the_elder(self, stated: dict) -> None:
        """The first facts name the elder looked at: 母亲 from "我妈85", 本人 from the elder's own words;
        facts about another family member are another person of the household (actions/household.py)."""
        if not stated or self.slots.get("elder_word") is not None:
            return
        living = [p["label"] for p in self.turn.persons if p.get("label")]
        said = living[0] if living else (None if LOSS.search(self.turn.text) else elder_word(self.turn.text))
        who_now = said or ("本人" if self.profile.get("subject") == "self" or stated.get("subject") == "self" else None)
        if who_now:
            self._set("elder_word", who_now)

    # --- reading the message ------------------------------------------------------------------------
    def _take_subject(self) -> None:
        said = self.turn.subject
        # who is talking only moves towards "a relative": a relative may say "我" in passing
        if said and (self.subject is None or said == "relative"):
            self._set("subject", said)
            self.profile["subject"] = said
        if self.turn.relation:
            self._set("speaker_relation", self.turn.relation)

    def _read_answer(self) -> tuple[dict, str | None, str | None]:
        """(facts stated, the fact skipped with 不知道, a problem) — read in context."""
        turn = self.turn
        from .requests import for_the_request_only
        facts = for_the_request_only(self, {k: v for k, v in turn.facts.items() if k != "subject"})
        asked = self.asked
        # "没有 我一个人住", "没做过 要去哪里评", "有 我跟我爱人 刚才说过了呀": a plain yes or no first
        # answers the yes/no question asked, whatever the words after it ask or complain about
        first = asked is not None and (FACTS[asked].type == "bool" or asked in YES_NO_ASKED) and "answer_first" in turn.cues \
            and turn.reading(asked) is not None and "correction" not in turn.cues \
            and turn.intent not in ("restart", "forget_me", "forget_me_confirm") \
            and not NOT_AN_ANSWER.search(turn.text) and not EXPLICIT_BYE.search(turn.text)
        if not first and (turn.intent in NOT_ANSWERS or (turn.intent == "goodbye" and not BARE_NUMBER.match(turn.text))
                          or (turn.intent == "out_of_scope" and (len(turn.text) > 12 or QUESTION_WORDS.search(turn.text)))):
            return facts, None, None  # "好的，再见" is no yes to the question; "88" may be an age
        if not first and ("impatient" in turn.cues or NOT_AN_ANSWER.search(turn.text) or EXPLICIT_BYE.search(turn.text)
                          or ALREADY_SAID.search(turn.text)):
            # "别问了", "不是这个意思", "好的谢谢再见": no answer to the question, whatever it sounds like
            return facts, None, None
        skipped = None
        dont_know = not first and (turn.intent == "dont_know" or ("dont_know" in turn.cues and not facts and len(turn.text) <= 12))
        if asked and asked not in facts:
            # a message that changes other facts is no bare answer ("不对，她搬到园区了" is no "no");
            # one that repeats them still is ("有，一辈子都在梅李"), and so is one that opens with the answer
            news = any(self.profile.get(k) != v for k, v in facts.items())
            value = turn.reading(asked) if not news or first else None
            implied = next((answer for (fact, said), (of, answer) in IMPLIED_ANSWERS.items()
                            if of == asked and facts.get(fact) == said), None)
            if value is None and implied is not None and "dont_know" not in turn.cues:
                value = implied   # "就她一个人住" to "家里有人在家照顾她吗？": nobody is at home
            if dont_know:
                skipped = asked
            elif value is not None:
                if asked == "age" and value < MIN_BARE_AGE:
                    return facts, None, "age_out_of_range"
                facts[asked] = value
            elif turn.reading_problem(asked) in PROBLEM_WORDING:
                return facts, None, turn.reading_problem(asked)
        pending = self.slots.get("pending_fact")
        if pending:   # the rest of "我今年" … "八十一"
            self._set("pending_fact", None)
            if pending not in facts and turn.reading(pending) is not None:
                facts[pending] = turn.reading(pending)
        if not facts and "correction" in turn.cues:
            # "说错了，应该是八十一" a turn later: the bare value corrects a fact already said
            for fact in CORRECTABLE:
                value = turn.reading(fact)
                if fact in self.profile and value is not None and value != self.profile[fact]:
                    facts[fact] = value
                    break
        field = self.slots.get("task_field")
        if not facts and "age" not in self.profile and BARE_NUMBER.match(turn.text) and (not field or field in FACTS):
            value = turn.reading("age")  # "82", "88": an age while age is unknown, never goodbye
            if value is not None and value >= MIN_BARE_AGE:
                facts["age"] = value
        return facts, skipped, None

    def _accept(self, stated: dict) -> dict:
        """Store the stated facts; acknowledge new ones and corrections. Returns what changed."""
        w = wording()
        changed, noted, corrections = {}, [], []
        derived_before = self.kb.derive(self.profile)[1]
        for fact, value in stated.items():
            before = self.profile.get(fact)
            if before == value:
                continue
            changed[fact] = (before, value)
            self.profile[fact] = value
            self._set(fact, value)
            self.skipped.discard(fact)
            if fact == "care_level" and self.profile.get("care_assessed") is not True:
                continue  # said below, as an estimate
            (corrections if before is not None else noted).append(describe_value(fact, value))
        if not changed:
            return changed
        self._profile_changed = True
        self._results = None
        if corrections:
            self._note(w["corrected"].format(changes="，".join(corrections)))
        if noted and not self.household_said:   # several elders: said per person already
            self._note(w["noted"].format(facts="，".join(noted)))
        assessed = self.profile.get("care_assessed") is True
        if "care_level" in changed or "care_assessed" in changed:
            self._set("care_estimated", not assessed)
        if "care_level" in changed and not assessed:
            self._note(w["care_estimate"].format(care_level=self.profile["care_level"]))
        known = {d["id"] for d in derived_before}
        for d in self.kb.derive(self.profile)[1]:
            if d["id"] not in known or "care_level" in changed:
                self._note(w["derived"].format(explain=d["explain"], value=d["to"]))
        return changed

    def _skip(self, fact: str) -> None:
        if fact in self.profile:
            return  # answered before: a later "不知道" or a skip never loses it
        self.skipped.add(fact)
        self._set(fact, DONT_KNOW)
        if fact in KEY_FACTS:   # never dropped silently: the results say so, the offer names it first
            self._note(wording()["chat"]["skipped_key"].format(label=FACTS[fact].label))
        else:
            self._note(wording()["dont_know_noted"])

    def _problem(self, problem: str, stated: dict) -> None:
        """An impossible value is refused and nothing already stored changes: new facts said
        with it are kept ("身份证… 相城黄桥 独居"), then the question that value answers is asked."""
        self._accept({k: v for k, v in stated.items() if k not in self.profile and k != PROBLEM_FACT.get(problem)})
        self._say(wording()[PROBLEM_WORDING.get(problem, "bad_age")])
        fact = PROBLEM_FACT.get(problem)
        if fact and fact not in self.profile:
            self._ask(fact)
        else:
            self._resume(prefix=False)

    # --- where the conversation goes next -------------------------------------------------------------
    def _next_basic(self) -> str | None:
        """The first basic fact still unknown that would decide some result."""
        undecided = {f for r in self.results() if r.status == "unknown" for f in r.missing}
        known = self.engine_profile()
        return next((f for f in BASICS if f not in known and f not in self.skipped and f in undecided), None)

    def _open(self) -> tuple[int, set]:
        """Results still undecided, and the facts that would decide them (not skipped; a skipped age or
        district stays on offer, named first)."""
        skipped = self.skipped - set(KEY_FACTS)
        results = [r for r in self.results() if r.status == "unknown"
                   and any(f not in skipped for f in r.missing)]
        facts = {f for r in results for f in r.missing if f not in skipped}
        return len(results), facts


    def _progress(self) -> None:
        """After an answer: ask the next basic, show the first results, or say what changed."""
        if self.shown is None and self._get("last_policy") == MONEY_WAITING:
            self._on_money()   # "到底能领多少钱" asked the fact it needed: the money answer once it is known
            return
        if self.shown is None:
            nxt = self._next_basic()
            if nxt:
                self._ask(nxt)
            else:
                self._show_results()
            return
        lines = change_lines(self.shown, self.results())
        w = wording()
        if lines:
            self._note("\n".join([w["changes_header"]] + lines))
        elif self._profile_changed and w["dont_know_noted"] not in self._lead:
            self._note(w["no_change"])   # only after something new was said
        self._set("shown_results", self._statuses())
        if self._get("continuing"):
            nxt = self._next_question()
            if nxt:
                self._ask(nxt)
            else:
                self._note(w["all_asked"])
                self._show_results(again=True)
        else:
            self._footer(cards_left=self._cards_left())

    def _ask(self, fact: str, prefix: str = "", count: bool = True) -> None:
        """Ask about a fact — at most twice in a row, the second time more simply. A third time it is
        never asked and never skipped either: only the user's own "不知道" skips a question. It is left
        open (Conversation._park): what is known so far comes instead, and the question stays first on
        offer. Asked again after an aside (a policy question, a referral), `count=False`: the user
        never refused it, and the skip hint is not said."""
        times_before = self.times_asked(f"fact:{fact}")
        if times_before >= MAX_ASKS:
            self._park(fact)
            return
        if not count and times_before:
            self.pose(f"fact:{fact}")
            hint = self._reask_hint(fact)
            self._say(prefix + self.fact_question(fact) + hint, fact_options(fact))
            self._set("asked_fact", fact)
            return
        times = self.pose(f"fact:{fact}")
        text = prefix + self.fact_question(fact)
        if times >= MAX_ASKS:
            text += self._reask_hint(fact)
        if times >= MAX_ASKS or self._get("not_understood", 0) >= 2:
            text += wording()["skip_hint"]
        self._say(text, fact_options(fact))
        self._set("asked_fact", fact)

    def _ask_place(self, choices: dict) -> None:
        name, districts = next(iter(choices.items()))
        options = [(d, payload("inform", {"district": d})) for d in districts[:MAX_BUTTONS]]
        self.pose("fact:district")
        self._say(wording()["place_which"].format(place=name, districts="、".join(districts)), options)
        self._set("asked_fact", "district")

    def _resume(self, prefix: bool = True, count: bool = True) -> None:
        """After an aside (a policy question, thanks…): back to where the conversation was."""
        if self.in_form:
            return  # the booking form asks its own question next
        w = wording()
        if self.asked:
            self._ask(self.asked, prefix=w["resume"] if prefix else "", count=count)
        elif self.shown is not None and IMPATIENT.search(self.turn.text) and not self._profile_changed:
            return   # "那尊老金到底多少 快点": the answer alone; the menu on screen keeps its numbers
        elif self._get("offer_open") or self.shown is not None:
            self._footer(cards_left=self._cards_left())
        elif not set(self.profile) - {"subject"}:
            self._note(w["first_question"])
            self._ask(BASICS[0])
        else:
            nxt = self._next_basic()
            if nxt:
                self._ask(nxt)
            else:
                self._show_results()

    # --- results ----------------------------------------------------------------------------------------
    def _statuses(self) -> dict:
        return {r.id: r.status for r in self.results()}

    def items(self) -> list[dict]:
        """The results a family can act on, those that matter most for what they said first. The
        first policies of what they care about are listed even when one answer is still missing
        ("长期护理保险：还要知道医保"), so 长护险 is never hidden behind the health check."""
        topic = self.topic()
        items = recommended(self.results())
        if topic and topic.undecided_first:
            # at most one, after what the topic can already give: "还要知道医保才能确定"
            undecided = [r.to_dict() for r in self.results() if r.status == "unknown" and r.id in topic.policies[:3]
                         and r.missing and not set(r.missing) & self.skipped][:1]
            decided = ordered(items, topic)
            lead = [i for i in decided if i["id"] in topic.policies]
            return lead[:1] + undecided + lead[1:] + [i for i in decided if i["id"] not in topic.policies]
        return ordered(items, topic)

    def _next_question(self) -> str | None:
        """The question that decides the most; first one that decides what the family cares about.
        An age, district or 户籍 still open (left open after two askings, never skipped) comes first."""
        key = self._missing_key_facts(skipped_too=False) or [self._next_basic()]
        if key[0]:
            return key[0]
        topic = self.topic()
        if topic:
            for r in self.results():
                if r.status == "unknown" and r.id in topic.policies[:3]:
                    missing = [f for f in r.missing if f not in self.skipped and f != "subject"]
                    if missing:
                        return min(missing, key=lambda f: FACTS[f].ask_order)
        return next_fact(self.kb, self.results(), exclude=self.skipped | {"subject"})

    def topic(self):
        return topic_of(self.turn.text, self.slots.get("focus"), self.engine_profile())

    def _counts(self, items: list[dict]) -> str:
        w = wording()
        n_yes = sum(1 for i in items if i["status"] == "eligible")
        n_maybe = sum(1 for i in items if i["status"] == "possible")
        key = "header_counts_both" if n_yes and n_maybe else ("header_counts_yes" if n_yes else "header_counts_maybe")
        return w[key].format(n_yes=n_yes, n_maybe=n_maybe)

    def _show_results(self, again: bool = False, start: int = 0) -> None:
        w = wording()
        items = self.items()
        self.reply.payload = {}
        missing = self._key_missing_line() if start == 0 else None   # "还不知道年龄，…还定不了。"
        if not items:
            self._say(w["header_none"] + ("\n" + missing if missing else ""))
        elif start == 0:
            key = "header_again" if again else "header"
            header = w[key].format(who=self.who(), counts=self._counts(items))
            said = any(w["care_estimate"].format(care_level=self.profile.get("care_level")) == line for line in self._lead)
            if self._get("care_estimated") and "care_level" in self.profile and not said:
                header += w["estimate_note"]
            if missing:
                header += "\n" + missing
            topic = self.topic()
            line = topic_line(items, topic, PAGE)
            if line:   # "老人需要人照顾，先看照护方面的：" — only over the topic's own cards
                self._chat_lines["page"] = line
            elif len(items) > PAGE:
                self._chat_lines["page"] = w["header_page"].format(shown=PAGE)
            if self._chat_lines.get("page"):
                header += "\n" + self._chat_lines["page"]
            self._say(header)
        page = items[start:start + PAGE]
        for offset, item in enumerate(page):
            self._say(card(start + offset + 1, item))
        self._cards += len(page)
        shown = start + len(page)
        self._set("shown_results", self._statuses())
        self._set("shown_count", shown)
        self._set("asked_fact", None)
        self._set("continuing", False)
        self._footer(cards_left=len(items) - shown, unverified=any(not i["verified"] for i in page))

    def _cards_left(self) -> int:
        """Result cards not yet shown: "更多" stays on offer after an answer or an aside."""
        return max(0, len(self.items()) - int(self._get("shown_count", 0)))

    def _footer(self, cards_left: int, unverified: bool = False) -> None:
        """What else there is: more results, the questions that would decide the rest, next steps;
        the 待核实 caveat once per conversation."""
        w, b = wording(), wording()["buttons"]
        items = self.items()
        lines, buttons = [], []
        open_results, open_facts = self._open()
        offer = open_results > 0 and bool(open_facts)
        if cards_left > 0:
            lines.append(w["more_left"].format(n=cards_left))
            self._chat_lines["more"] = lines[-1]
        if offer:
            lines.append(offer_text(open_results, open_facts))
            buttons.append((b["continue"], payload("affirm")))
        elif items:
            lines.append(w["actions_hint"].format(example=_short_name(items[0]["name"])))
            if self.reminders.can_offer():   # the results are complete: offered once, the question last
                question, yes_no = self.reminders.offer()
                lines.append(question)
                buttons += yes_no
        if cards_left > 0:
            buttons.append((b["more"], payload("more")))
        for label in list(self.household.others)[:2]:   # the other elders of the household, by name
            buttons.append((wording()["household"]["see"].format(who=display(label, self.subject)),
                            payload("inform", {"person": label})))
        buttons += next_step_buttons(items)
        if unverified and not self.slots.get("caveat_said"):
            lines.append(w["final_word"])
            self._chat_lines["final_word"] = lines[-1]
            self._set("caveat_said", True)
        self._set("offer_open", offer)
        self._say("\n".join(line for line in lines if line), buttons[:MAX_BUTTONS], menu=True)

    def _attach_payload(self) -> None:
        """The channel contract: the current profile and every result, whenever they changed."""
        self.reply.payload = {"type": "recommendations", "profile": dict(self.profile),
                              "estimates": {"age": list(self.age_estimate())} if self.age_estimate() else {},
                              "results": [r.to_dict() for r in self.results()],
                              "asking": self.slots.get("asked_fact"),   # the question now open, if any
                              "cards": self._cards,                    # result cards in this reply
                              "order": [i["id"] for i in self.items()],  # the order results are shown in
                              # lines a channel that shows every result may leave out or move
                              "lines": dict(self._chat_lines)}
        if self.household.several:   # whose results these are; one elder keeps the single shape
            self.reply.payload["person"] = self.household.current
            self.reply.payload["household"] = self.household.summary()

    # --- handlers, one per kind of turn ---------------------------------------------------------------------
    def _on_inform(self) -> None:
        self._progress()

    def _on_referral(self) -> None:
        ref = self._referral()
        w = wording()["referral"]
        if ref.urgent:   # the emergency before anything else, and no question after it
            self._lead = [w["urgent"].format(where=ref.where)]
            self._say(w["after_urgent"])
            return
        self._say(w["elsewhere"].format(topic=ref.topic, where=ref.where))
        self._resume(count=False)

    def _on_referral_note(self, ref) -> None:
        self._lead.insert(0, wording()["referral"]["urgent"].format(where=ref.where))

    def _on_loss(self) -> None:
        """Heard with one kind sentence; the facts it states (失独, 独居) were taken; then on, gently.
        Despair, and the death of the elder talked about, are answered on their own (hardship.py)."""
        if hard.after_loss(self):
            return
        self._lead.insert(0, wording()["loss"])
        kind = hardship_in(self.turn.text)
        if kind == "crisis" and not MONEY_NOW.search(self.turn.text):
            kind = None   # "前年出车祸走了": how they died, not a crisis today
        if kind:   # "老公突然走了…一分钱都没有了": the loss, and the help that fits
            self._lead[1:1] = hardship_lines(kind, self.engine_profile(), self.turn.text, self.kb)[1:]
        nxt = self._next_basic() if self.shown is None and not self.asked else None
        if nxt:
            self._ask(nxt, prefix=hard.gentle_prefix())
        elif self.asked:
            self._ask(self.asked, prefix=hard.gentle_prefix(), count=False)
        elif self.shown is None:
            self._progress()
        else:
            self._resume(prefix=False)

    def _on_hardship(self) -> None:
        """One kind sentence and the help that fits, then on: the results put that help first, and
        the question still open is asked again gently. Despair: the help lines and no question."""
        kind = hardship_in(self.turn.text)
        if kind == "despair":
            hard.on_despair(self, None)
            return
        if kind == "exhausted":
            self._set("focus", "caregiver")   # "天天哭", "快崩溃了": the carer's relief first, now and later
        self._lead[:0] = hardship_lines(kind, self.engine_profile(), self.turn.text, self.kb)
        if self.shown is not None and self._profile_changed:
            self._progress()
        elif self.shown is not None:
            self._show_results(again=True)
        elif self.asked:
            self._ask(self.asked, prefix=hard.gentle_prefix(), count=False)
        else:
            self._progress()

    def _on_after_hard(self) -> None:
        hard.on_quiet_after(self)

    def _on_already_said(self) -> None:
        w = wording()["already_said"]
        known = [describe_value(k, v) for k, v in self.profile.items() if k != "subject"]
        self._note(w["recorded"].format(facts="，".join(known)) if known else w["nothing"])
        if self.asked:
            self._note(w["missing"].format(label=FACTS[self.asked].label))
            self._ask(self.asked)
        else:
            self._resume(prefix=False)

    def _on_gone_number(self) -> None:
        self._note(wording()["number_gone"].format(n=choice_number(self.turn.text)))
        self._resume(prefix=False)

    def _on_aside(self) -> None:
        self._resume(prefix=False)

    def _on_repeat(self) -> None:
        self._note(wording()["already_noted"].format(facts="，".join(self._repeated)))
        self._resume(prefix=False)

    def _on_ask_recommendation(self) -> None:
        """"直接告诉我", "先看结果", "不知道了": the results now, with whatever is known. With nothing
        known: why two facts are needed, what every elder in Suzhou can use, and the one question."""
        if not set(self.engine_profile()) - {"subject"} and self.shown is None:
            self._for_everyone()
            return
        if self.shown is not None and not self._profile_changed and IMPATIENT.search(self.turn.text):
            self._results_short()   # "快点", "别问了" after the results: shorter, never the same cards again
            return
        self._show_results(again=self.shown is not None)

    def _results_short(self) -> None:
        """The results in one line (or the money in one line, when money was asked): no cards."""
        w = wording()
        self._set("asked_fact", None)
        self._set("continuing", False)
        if self._get("last_policy") == MONEY:
            self._say("\n".join(money_lines(self.kb, self.results(), self.who(), short=True)))
            return
        items = [i for i in self.items() if i["status"] in ("eligible", "possible")]
        if not items:
            self._say(w["results_short_none"])
            return
        names = [_short_name(i["name"]) for i in items]
        self._say(w["results_short"].format(count=len(names), names="、".join(names[:8]) + ("等" if len(names) > 8 else ""),
                                            example=names[0]))

    def _for_everyone(self) -> None:
        w = wording()["for_everyone"]
        times = self.times_asked(f"fact:{self._next_basic() or BASICS[0]}")
        if times >= MAX_ASKS:   # "先看结果" a third time: the user's own choice to go on without it, said so
            fact = self._next_basic() or BASICS[0]
            self._skip(fact)
            self._set("asked_fact", None)
            self._progress()
            return
        if times:   # said a turn ago: not the list again
            self._say(w["again"])
            self._ask(self._next_basic() or BASICS[0])
            return
        general = evaluate(self.kb, {"age": EVERYONE_AGE, "district": BASICS_DISTRICT_ANY}, self.today)
        lines = []
        for r in general:
            if r.status == "eligible":
                said = next((m.group() for x in r.reasons for m in [re.search(r"满\d+岁", x)] if m), "")
                lines.append(w["line"].format(name=r.name, condition=f"（{said}）" if said else ""))
        self._say("\n".join([w["why"]] + lines[:4]))
        self._ask(self._next_basic() or BASICS[0], prefix=w["then"])

    def _on_more(self) -> None:
        if self.shown is None:
            self._on_ask_recommendation()
            return
        if not self._cards_left():
            self._note(wording()["no_more"])
            self._footer(cards_left=0)
            return
        self._show_results(start=int(self._get("shown_count", 0)))

    def _on_continue(self) -> None:
        self._set("continuing", True)
        self._set("offer_open", False)
        # an age or district skipped before is asked again first: the offer named it first
        nxt = next(iter(self._missing_key_facts()), None) or self._next_question()
        if nxt:
            self._ask(nxt)
        else:
            self._note(wording()["all_asked"])
            self._show_results(again=True)

    def _on_decline(self) -> None:
        self._set("offer_open", False)
        self._set("continuing", False)
        self._set("asked_fact", None)
        items = self.items()
        text, buttons = wording()["offer_closed"], []
        if items and self.reminders.can_offer():
            question, buttons = self.reminders.offer()
            text += "\n" + question
        self._say(text, buttons + next_step_buttons(items), menu=True)

    def _on_ask_policy(self) -> None:
        turn, w = self.turn, wording()
        aspect = aspect_of(turn.cues, turn.text)
        policy_id = turn.entities.get("policy")
        aspect = turn.entities.get("aspect") or aspect
        if policy_id not in self.kb.by_id:
            policy_id = self._policy_named()
        if policy_id is None and aspect == "ask_amount":
            self._on_money()   # "每个月能领多少": the money items, never a menu of what pays nothing
            return
        if policy_id is None:
            items = self.items()
            if aspect and items:
                self._say(w["policy_which"], [(i["name"], payload("ask_policy", {"policy": i["id"], "aspect": aspect}))
                                              for i in items[:MAX_BUTTONS]])
            else:
                self._say(w["policy_not_found"])
                self._resume()
            return
        policy = self.kb.get(policy_id)
        result = next(r for r in self.results() if r.id == policy_id)  # the turn's one evaluation
        lines = answer_lines(policy, result, aspect, self.subject, bool(set(self.profile) - {"subject"}),
                             today=self.today)
        kind = hardship_in(turn.text)
        if kind:   # "喘息服务怎么申请，我真的吃不消了": heard first, then the answer
            self._lead.insert(0, hardship_lines(kind, self.engine_profile(), turn.text, self.kb)[0])
        self._say("\n".join(lines))
        if not policy.verified and not self.slots.get("caveat_said"):   # once per conversation
            self._say(w["final_word"])
            self._set("caveat_said", True)
        self._set("last_policy", policy_id)
        self._resume(count=False)

    def _policy_named(self) -> str | None:
        """The policy a question is about: one it names; else, for "一个月给多少", the one just
        discussed; else a clear best match of the search."""
        named = self.search.named(self.turn.text)
        if named:
            return named[0]
        hits = self.search.search(self.turn.text, limit=1)
        if hits and hits[0].score >= NAMED_SCORE:
            return hits[0].id
        if aspect_of(self.turn.cues) and self._get("last_policy") in self.kb.by_id:
            return self._get("last_policy")
        return hits[0].id if hits and hits[0].score >= CLEAR_SCORE else None

    def _on_what_if(self) -> None:
        w = wording()
        changes = {k: v for k, v in self.turn.hypothetical.items() if k != "subject" and self.profile.get(k) != v}
        if not changes:
            self._say(w["what_if_ask"])
            self._resume()
            return
        described = "，".join(describe_value(k, v) for k, v in changes.items())
        now = {r.id: r for r in self.results()}
        diff = [{"name": r.name, "before": {"status": now[r.id].status, "priority_tier": now[r.id].priority_tier},
                 "after": {"status": r.status, "priority_tier": r.priority_tier}}
                for r in evaluate(self.kb, {**self.profile, **changes}, self.today)   # the supposed profile
                if (r.status, r.priority_tier) != (now[r.id].status, now[r.id].priority_tier)]
        if not diff:
            lines = [w["what_if_none"].format(changes=described)]
        else:
            lines = [w["what_if_header"].format(changes=described)]
            for d in diff:
                before, after = status_word(d["before"]["status"]), status_word(d["after"]["status"])
                if d["before"]["priority_tier"] != d["after"]["priority_tier"] and before == after:
                    before, after = f"第{d['before']['priority_tier']}优先档", f"第{d['after']['priority_tier']}优先档"
                lines.append(w["what_if_line"].format(name=d["name"], before=before, after=after))
        lines.append(w["what_if_note"].format(who=self.who()))
        self._say("\n".join(lines))
        self._resume()

    def _on_greet(self) -> None:
        w = wording()
        if not self.profile and self.shown is None and not self.asked:
            self._note(w["greet"])   # …and the first question at once: "82" then answers it
            self._ask(BASICS[0])
            return
        self._say(w["greet_again"])
        self._resume(prefix=False)

    def _on_help(self) -> None:
        self._say(wording()["help"])
        self._resume()

    def _on_thank(self) -> None:
        self._say(wording()["welcome"])
        self._resume()

    def _on_out_of_scope(self) -> None:
        if self.asked:  # no answer to the open question: said briefly, the same question again
            self._set("not_understood", self._get("not_understood", 0) + 1)
            self._say(wording()["chat"]["off_topic"])
        else:
            self._say(wording()["out_of_scope"])
        self._resume()   # asked again at most once more (Conversation._ask), then left open, never skipped

    def _on_bot(self) -> None:
        """"你是机器人吗": yes, and where to find a person; then the question again."""
        self._say(wording()["chat"]["bot"])
        self._resume()

    def _on_why_asked(self) -> None:
        """"为什么要问年龄": why this question matters, then it again."""
        why = wording()["chat"]["why_asked"]
        self._say(why.get(self.asked) or why["other"])
        self._resume(prefix=False)

    def _on_confused(self) -> None:
        """"什么意思", "听不懂": the question said again, more simply, with why it is asked."""
        w = wording()["chat"]
        if self.times_asked(f"fact:{self.asked}") < MAX_ASKS:   # else left open, with why (Conversation._park)
            self._note(w["confused"] + (w["why_asked"].get(self.asked) or ""))
        self._resume(prefix=False)

    def _on_later(self) -> None:
        self._note(wording()["chat"]["later"])
        self._resume(prefix=False)

    def _on_leave(self) -> None:
        """"我自己去问街道", "算了": a short goodbye with where to ask; nothing is cleared."""
        w = wording()
        self._set("asked_fact", None)
        self._set("offer_open", False)
        self._set("continuing", False)
        district = self.profile.get("district")
        where = w["leave_where_district"].format(district=district) if district else w["leave_where"]
        text, buttons = w["leave"].format(where=where, whom=self._whom()), []
        if self.shown is not None and self.reminders.can_offer():   # a goodbye like any other: the offer, once
            question, buttons = self.reminders.offer()
            text += "\n" + question
        self._say(text, buttons)

    def _money_needs(self) -> str | None:
        """The one basic fact a money answer still waits for (age first), unless the user skipped it."""
        known = self.engine_profile()
        _, undecided = money_results(self.results())
        waiting = {f for r in undecided for f in r.missing}
        return next((f for f in BASICS if f not in known and f not in self.skipped and f in waiting), None)

    def _on_money(self) -> None:
        """"到底能领多少钱": the items that pay, with the KB's amounts (待核实 marked, never a total of
        our own), once; asked again or impatiently, one line. Without the facts it needs, the one
        fact is asked first, with why."""
        w = wording()["money"]
        need = self._money_needs()
        if need and self.times_asked(f"fact:{need}") < MAX_ASKS:
            self._set("last_policy", MONEY_WAITING)
            if self.asked and self.asked != need:
                self._set("asked_fact", None)
            self._note(w["need"].get(need) or w["need"]["other"])
            self._ask(need, count=False)
            return
        # asked again, or impatiently ("快点说 总共多少钱"): one line, never the same list again
        short = (self._get("last_policy") == MONEY and not self._profile_changed) or bool(IMPATIENT.search(self.turn.text))
        self._say("\n".join(money_lines(self.kb, self.results(), self.who(), short=short)))
        self._set("last_policy", MONEY)
        self._set("caveat_said", True)   # the answer says who has the final word
        if self.asked:
            self._resume(count=False)
        elif self.shown is None and not short:
            # the rest of the results on request, and the questions that would decide more, named
            lines, buttons = [w["rest"].format(who=self.who())], []
            open_results, open_facts = self._open()
            if open_results and open_facts:
                lines.append(offer_text(open_results, open_facts))
                buttons.append((wording()["buttons"]["continue"], payload("affirm")))
                self._set("offer_open", True)
            buttons.append((w["rest_button"], payload("ask_recommendation")))
            self._say("\n".join(lines), buttons)

    def _whom(self) -> str:
        label = self.household.current
        if self.subject == "self" or label == "本人":
            return "您"
        return f"您{label}" if label and label != "老伴" else "老人家"

    def _on_reminder_yes(self) -> None:
        self.reminders.on_yes()

    def _on_reminder_no(self) -> None:
        self.reminders.on_no()

    def _on_reminder_month(self) -> None:
        self.reminders.on_month()

    def _on_reminder_phone(self) -> None:
        self.reminders.on_phone()

    def _on_reminder_stop(self) -> None:
        self.reminders.on_stop()

    def _on_goodbye(self) -> None:
        self._set("asked_fact", None)
        self._set("offer_open", False)
        self._set("continuing", False)
        text, buttons = wording()["goodbye"].format(whom=self._whom()), []
        if self.shown is not None and self.reminders.can_offer():   # "就这样吧" after the results: asked once
            question, buttons = self.reminders.offer()
            text += "\n" + question
        self._say(text, buttons)

    def _on_not_understood(self) -> None:
        self._set("not_understood", self._get("not_understood", 0) + 1)
        self._note(wording()["not_understood"])
        self._resume(prefix=False)   # asked again at most once more (Conversation._ask), then skipped
