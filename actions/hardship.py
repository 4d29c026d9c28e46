"""Hard moments are heard: despair, a death, a family in crisis, an elder alone and afraid, a carer
at the end of their strength.

One kind sentence and the help that fits (hardship.yml, policies named from the KB), then the
conversation goes on, gently; the facts in the message are taken as in any other. The carer's
relief is also what the results put first (relevance.yml, topic "caregiver"). Two moments stop
the conversation instead of going on:

- despair ("活着也没意思", "拖累儿女不如走了"): the help lines (110/120, 12345) and no question in
  the same breath; a "谢谢" or "嗯" after it gets a kind word, not the next question;
- the death of the elder being talked about ("我爸刚走了 脑溢血" after his results): condolences,
  where the family asks about 丧葬费 and 抚恤金 (the referral table's own line), no menu of
  services for him and no "要继续吗"; what was kept for him (his facts, a reminder) is let go, and
  the family is offered to look at another elder — the surviving parent when known — or to stop.

Whose death a message speaks of is read here (`loss_in`); the words that say a death are
understanding/loss.py's.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from policy_kb.referrals import find_referral
from understanding.choices import choice_number
from understanding.household import first_label, spouses
from understanding.loss import died_at

from .household import display
from .render import payload, wording

logger = logging.getLogger(__name__)
HARDSHIP_FILE = Path(__file__).with_name("hardship.yml")
SEVERE = ("中度失能", "重度失能", "完全失能")
_BEDRIDDEN = re.compile(r"瘫|卧床|躺在床|下不了床|吃喝拉撒")

# --- whose death ----------------------------------------------------------------------------------------
# A family member's word (the elder's or the speaker's), as said before the words of a death.
KIN_WORDS = ("老伴 老伴儿 老头 老头子 老太婆 老太 爱人 丈夫 妻子 老公 老婆 配偶 儿子 女儿 闺女 孩子 独子 独生子 独生女 独生子女 囡 "
             "伲子 我爸 我妈 爸爸 妈妈 老爸 老妈 我爹 我娘 父亲 母亲 老父亲 老母亲 爷爷 奶奶 外公 外婆 公公 婆婆 老公公 老婆婆 "
             "岳父 岳母 丈人 丈母娘 姆妈 阿爹 伲爷 伲娘 好婆 姥姥 姥爷 哥哥 姐姐 弟弟 妹妹 我哥 我姐 我弟 我妹 舅舅 小舅").split()
KIN = "|".join(sorted(KIN_WORDS, key=len, reverse=True))   # longest first: 老婆婆 is no 老婆
# The elder talked about, without a family word: "老人昨天走了", "人没了", "她前天过世了".
ELDER_REF = r"老人家|老人|老爷子|老太太|老太爷|(?:^|(?<=[\s，。,.!！?？；;…]))人(?=[^，。,.!！?？]{0,4}(?:走|没|去世|过世|不在))"
PRONOUN = r"(?:他|她|伊)(?!们|笃)"
_WHO = re.compile(f"(?P<kin>{KIN})|(?P<elder>{ELDER_REF})|(?P<pronoun>{PRONOUN})")
_GAP = re.compile(r"[^，。；,;!！?？]{0,8}|[^，。；,;!！?？]{0,4}[，,][^，。；,;!！?？]{0,8}")
SPOUSE_WORDS = {"老伴", "老伴儿", "老头", "老头子", "老太婆", "老太", "爱人", "丈夫", "妻子", "老公", "老婆", "配偶"}
CHILD_WORDS = {"儿子", "女儿", "闺女", "孩子", "独子", "独生子", "独生女", "独生子女", "囡", "伲子"}
# Facts that say the elder is alive ("配偶去年去世，现独居于吴江"): the one who died is someone else.
# Despair said by the elder and reported by the family ("我妈天天念叨活着没意思").
REPORTED = re.compile(f"(?:{KIN}|他|她|伊|老人)[^，。,.!！?？]{{0,8}}?(?:说|讲|念叨|嘀咕|哭着说)")
ALIVE_FACTS = {"living", "district", "hukou", "care_level", "economic_status", "medical_insured", "dementia",
               "disability_grade", "care_assessed", "family_caregiver"}
# The elders a family asks about: their death can be the death of the elder talked about.
ELDER_LABELS = {"父亲", "母亲", "爷爷", "奶奶", "外公", "外婆", "公公", "婆婆", "岳父", "岳母", "老伴"}
WEAK_DEATH = ("走了", "走咯")   # with only "他/她" before them, maybe someone who left
# A death long past ("早就不在了", "走了好几年了", "前年过世的"): not the elder the family is asking about now.
LONG_AGO = re.compile(r"早就|早已|老早|很早|早年|走得早|好多年|好几年|好些年|很多年|多年|几年|年头|很久|好久|\d+\s*年|[一二两三四五六七八九十]+年(?!纪)|"
                      r"去年|前年|大前年|那年|年轻|小时候")


@dataclass
class Loss:
    word: str              # the family word said ("我爸", "老伴", "老人", "她")
    label: str | None      # 父亲, 老伴 … (persons.yml), "elder" for the elder talked about, None (儿子 …)
    spouse: bool = False
    child: bool = False
    long_ago: bool = False   # "早就不在了", "走了三年了"


def loss_in(text: str) -> Loss | None:
    """The death a message speaks of — whose, by the word said closest before it — or None."""
    text = text or ""
    pos = 0
    while True:
        died = died_at(text, pos)
        if died is None:
            return None
        pos = died.start() + 1
        who = None
        for m in _WHO.finditer(text):
            if m.start() >= died.start():
                break
            if m.end() <= died.start() and _GAP.fullmatch(text[m.end():died.start()]):
                if m.lastgroup == "pronoun" and died.group() in WEAK_DEATH:
                    continue
                who = m
        if who is None:
            continue
        word = who.group()
        long_ago = bool(LONG_AGO.search(text[who.end():died.end() + 8]))
        if who.lastgroup != "kin":
            return Loss(word, "elder", long_ago=long_ago)
        bare = word[1:] if word.startswith("我") and len(word) > 2 else word
        if bare in SPOUSE_WORDS or word in SPOUSE_WORDS:
            return Loss(word, "老伴", spouse=True, long_ago=long_ago)
        if word in CHILD_WORDS:
            return Loss(word, None, child=True, long_ago=long_ago)
        return Loss(word, first_label(word), long_ago=long_ago)


class _LossWords:
    """LOSS.search(text): a death in the family said in the text (a Loss), else None."""

    @staticmethod
    def search(text: str) -> Loss | None:
        return loss_in(text)


LOSS = _LossWords()


# --- the table of hard moments ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    name: str
    words: tuple
    patterns: tuple
    with_care: tuple
    care: re.Pattern | None
    spec: dict

    def said_in(self, text: str) -> bool:
        if any(w in text for w in self.words) or any(p.search(text) for p in self.patterns):
            return True
        return bool(self.with_care and self.care.search(text) and any(w in text for w in self.with_care))


@lru_cache(maxsize=1)
def _table() -> dict:
    return yaml.safe_load(HARDSHIP_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _kinds() -> tuple[Kind, ...]:
    return tuple(Kind(name, tuple(spec.get("words") or ()), tuple(re.compile(p) for p in spec.get("patterns") or ()),
                      tuple(spec.get("with_care") or ()), re.compile(spec["care_words"]) if spec.get("care_words") else None,
                      spec)
                 for name, spec in _table().items())


def hardship_in(text: str) -> str | None:
    """The gravest hardship the text speaks of (the file's order), or None."""
    text = text or ""
    return next((k.name for k in _kinds() if k.said_in(text)), None)


def hardship_lines(kind: str, profile: dict, text: str, kb) -> list[str]:
    """[the kind sentence, the help that fits …] (an empty help is left out)."""
    spec = _table()[kind]
    names = {pid: p.name for pid, p in kb.by_id.items()}
    say = spec["say"]
    if kind == "exhausted" and spec.get("say_tears") and any(w in (text or "") for w in spec.get("with_care") or ()):
        say = spec["say_tears"]   # "天天哭": the tears heard, not only the tiredness
    lines = [say, spec["help"]]
    if kind == "crisis" and (profile.get("district") == "吴江区" or "吴江" in (text or "")):
        lines.insert(1, spec["wujiang"])
    if kind == "exhausted" and (profile.get("care_level") in SEVERE or _BEDRIDDEN.search(text or "")):
        lines.append(spec["care"])
    return [line.format(**names) for line in lines if line]


# --- what follows a hard moment (called by actions/conversation.py) --------------------------------------
MARK = "hard:"   # question_key after a moment that stops the conversation: the next "谢谢" is no cue to ask
QUIET_INTENTS = {"thank", "goodbye", "affirm", "deny", "nlu_fallback", "out_of_scope", "dont_know", None}


def _w() -> dict:
    return wording()["hard_moments"]


def _mark(c, kind: str) -> None:
    c._set("question_key", MARK + kind)
    c._set("question_times", 0)
    c._posed = True   # kept for the next turn


def gentle_prefix() -> str:
    return _w()["resume"]


def speaker_is_the_widow(c, loss: Loss) -> None:
    """"老伴没了…", "老头子走了": said by the elder of their spouse — the elder is the one typing,
    asked as 您 (never when a relative already spoke, or another elder is looked at)."""
    if not (loss.spouse or loss.child) or c.subject == "relative" or c.household.current not in (None, "本人"):
        return
    if c.subject is None:
        c._set("subject", "self")
        c.profile["subject"] = "self"
    if c.household.current is None:
        c._set("elder_word", "本人")


def elder_gone(c, loss: Loss | None, named: bool = False) -> bool:
    """Whether the one who died is the elder the conversation is about. A death long past is not
    ("我外婆早就不在了": a correction, not news), nor one said with the elder's own facts ("配偶去年
    去世，现独居"). `named`: only the elder looked at by name (inside a request, whose elder may be
    unnamed: "给我爸约助浴" … "我妈今天走了")."""
    if loss is None or loss.child or loss.long_ago or ALIVE_FACTS & set(c.turn.facts):
        return False
    current = c.household.current
    known = bool(set(c.profile) - {"subject"}) or c.shown is not None
    if loss.label == "elder":   # "老人走了", "她前天过世了": the elder talked about, if anyone
        return known and current != "本人" and c.subject != "self" and (current is not None or not named)
    if loss.label is None:
        return False
    if current is not None:
        return current != "本人" and loss.label == current
    if c.subject == "self" or loss.spouse or named:
        return False   # the elder typing speaks of someone else
    living = [p for p in c.turn.persons if p.get("label") and p.get("label") != loss.label]
    return loss.label in ELDER_LABELS and not living and (known or not set(c.turn.facts) - {"subject"})


def other_gone(c, loss: Loss | None) -> bool:
    """Another elder of the household died ("我妈前年走了" while the father is looked at): they are
    no longer offered ("看母亲的")."""
    if loss is None or not loss.label or loss.label not in c.household.others:
        return False
    others = c.household.others
    others.pop(loss.label, None)
    c._set("household", others or None)
    return True


def on_despair(c, loss: Loss | None) -> None:
    """The help lines and a kind word; no question now. Facts said with it are kept, unsaid."""
    w = _w()
    lines = hardship_lines("despair", c.engine_profile(), c.turn.text, c.kb)
    if loss is not None:
        speaker_is_the_widow(c, loss)
        whom = display(loss.label, c.subject) if loss.label not in (None, "elder") else loss.word.lstrip("我")
        lines[0] = w["despair_loss"].format(who="老伴" if loss.spouse else whom)
    elif REPORTED.search(c.turn.text):
        lines[0] = w["despair_reported"]   # "我爸天天说活着没意思": the family is worried too
    c._lead = lines + [w["despair_after"]]   # no "记下了" in this breath
    c._say()
    _mark(c, "despair")


def on_elder_gone(c, loss: Loss, task=None) -> None:
    """Condolences and what may still matter to the family; nothing more is offered for the elder
    who died, and what was kept for them is let go."""
    w = _w()
    label = c.household.current
    name = display(label, c.subject) if label and label != "本人" else "老人"
    lines = [wording()["loss"], w["gone"]]
    money = find_referral("丧葬费")
    if money is not None:
        lines.append(w["gone_money"].format(who=name, where=money.where))
    if task is not None:
        task._close()
        lines.append(w["gone_request"])
    survivors = list(c.household.others)
    reference = c.slots.get("last_reference")
    if reference and not survivors:
        lines.append(w["gone_booking"].format(who=name, reference=reference))
    if c.slots.get("reminder") in ("kept", "month", "phone"):
        if _forget_reminder(c.sender_id, label or ""):
            lines.append(w["gone_reminder"].format(who=name))
        c._set("reminder", None)
    survivor = next((s for s in survivors if label and spouses(label, s)), survivors[0] if survivors else None)
    _let_go(c, survivor)
    buttons = []
    if survivor:
        other = display(survivor, c.subject)
        lines.append(w["gone_other"].format(other=other))
        buttons = [(w["gone_other_button"].format(other=other), payload("ask_recommendation"))]
    else:
        lines.append(w["gone_anyone"])
    c._lead = lines   # no "记下了", no results, no menu
    c._say(buttons=buttons)
    _mark(c, "gone")


def _let_go(c, survivor: str | None) -> None:
    """The elder who died is no longer looked at: their facts and results go; a surviving elder of
    the household, if any, is the one looked at now (their own facts, nothing shown yet)."""
    h = c.household
    others = h.others
    entry = others.pop(survivor, None) if survivor else None
    c._set("household", others or None)
    h._load(entry or {})
    c._set("elder_word", survivor)
    for name in ("menu", "last_policy", "pending_choice", "pending_fact", "not_understood"):
        c._set(name, None)
    c._set("offer_open", False)
    c._set("continuing", False)
    c.reply.payload = None


def _forget_reminder(sender_id: str, person: str) -> bool:
    """The reminder kept for the elder who died is deleted (never a notice about them later)."""
    try:
        from sqlalchemy import and_
        from storage.followups import delete_followups, table
        from .reminders import store
        with store().engine.begin() as conn:
            return bool(delete_followups(conn, and_(table.c.sender_id == str(sender_id), table.c.person == person)))
    except Exception:
        logger.exception("the reminder of an elder who died could not be removed")
        return False


def after_loss(c) -> bool:
    """A death said (conversation._on_loss): True when answered here — despair, or the death of the
    elder talked about; otherwise the ordinary condolence goes on."""
    loss = LOSS.search(c.turn.text)
    if hardship_in(c.turn.text) == "despair":
        if elder_gone(c, loss):
            _let_go(c, None)   # "我妈走了 我也不想活了": nothing more is offered for her
        else:
            other_gone(c, loss)
        on_despair(c, loss)
        return True
    if elder_gone(c, loss):
        on_elder_gone(c, loss)
        return True
    other_gone(c, loss)
    if loss is not None:
        speaker_is_the_widow(c, loss)
    return False


def in_request(c, task) -> bool:
    """Inside a request: the elder it is for died (the request is left, unsent), despair (heard,
    the request waits), or another death (heard, the request's question again — the words are no
    answer to it: "我妈今天下午走了" is no date). True when answered here."""
    text = c.turn.text
    loss = LOSS.search(text)
    if hardship_in(text) == "despair":
        if elder_gone(c, loss, named=True):
            task._close()
            _let_go(c, None)
        on_despair(c, loss)
        return True
    if elder_gone(c, loss, named=True):
        on_elder_gone(c, loss, task=task)
        return True
    if loss is not None:
        other_gone(c, loss)
        c._lead.insert(0, wording()["loss"])
        # the question comes again, and this time does not count as one left unanswered
        c._set("question_times", max(0, int(c.slots.get("question_times") or 0) - 1))
        task.ask_next()
        return True
    return False


def quiet_after(c, answered: bool) -> bool:
    """The turn after despair or a death: "谢谢", "嗯", "好的" get a kind word, not the next question.
    Facts, questions and anything else are answered as always."""
    key = c.slots.get("question_key") or ""
    if not key.startswith(MARK) or answered or set(c.turn.facts) - {"subject"} or hardship_in(c.turn.text):
        return False
    intent = c.turn.intent
    if key == MARK + "gone" and (intent == "more" or choice_number(c.turn.text) is not None):
        return True   # a number from the menu still on screen: nothing more is offered for them
    return intent in QUIET_INTENTS and len(c.turn.text) <= 20 and not re.search(r"[吗？?]|什么|怎么|哪|多少", c.turn.text)


def on_quiet_after(c) -> None:
    c._say(_w()["after"])
