"""Whose facts: a message about several elders, split into one set of facts per person.

"我爸妈一个82一个79都住园区" -> 父亲 {age 82, district 苏州工业园区}, 母亲 {age 79, district …};
"我爸85住姑苏，我妈80" -> each clause to the person it names; "那我妈呢 她79" -> 母亲 {age 79}.
A clause that speaks of everyone ("都住园区", "他们都是低保户") or comes before anyone is named
goes to every person. A person who died ("我爸前年走了") or who only looks after the elder
("我爸在照顾她") is no elder of the household. The words live in persons.yml; the facts of each
part come from facts_extractor, as for any message.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from .facts_extractor import extract
from .loss import died_at
from .normalizer import normalize

PERSONS_FILE = Path(__file__).with_name("persons.yml")
# Facts a person has of their own: one of these makes a mention an elder of the household.
OWN_FACTS = {"age", "care_level", "dementia", "disability_grade", "care_assessed", "medical_insured", "hukou",
             "economic_status", "district", "family_planning_special"}
# Facts a couple shares when the second of them is added without saying them (same home, same 户口).
SHARED_FACTS = ("district", "hukou", "economic_status", "family_planning_special", "emergency")
SPOUSES = [{"父亲", "母亲"}, {"爷爷", "奶奶"}, {"外公", "外婆"}, {"公公", "婆婆"}, {"岳父", "岳母"}, {"本人", "老伴"}]
CARING = re.compile(r"照顾|照料|伺候|服侍|护理|陪护|看护|陪着|扶着|帮忙|帮我|帮她|帮他|搀")
# "我和我爱人照顾她", "我老公帮忙", "我跟老伴轮流陪着": the ones named give the care (their own clause).
CARER_CLAUSE = re.compile(r"[^，。；;,!?！？]{0,8}?(?:照顾|照料|伺候|服侍|护理|照护|陪护|看护|陪着|轮流|轮着|帮忙|搭把手|管着)")
# ... unless they are the ones who need it ("我和老伴都需要人照顾", "我们互相照顾").
CARED_FOR = re.compile(r"需要|要人|没人|无人|靠人|需人|得人|请人|找人|互相|相互|被|不能|没法|无法|谁来")
# Facts of a carer's own sentence that are the elder's: who looks after her, whom she lives with.
CARE_FACTS = ("family_caregiver", "living")
# ... and the family's: where they live, what they live on ("我们都五十多了 住吴江", "家里是低保").
FAMILY_FACTS = ("district", "economic_status", "emergency", "family_planning_special")
# In the carers' sentence, a clause about the elder again ("她有医保") or about the carers ("我们俩…").
ELDER_CLAUSE = re.compile(r"\s*(?:她|他|伊|俚|老人|老太太|老爷子|老母亲|老父亲|我妈|我爸|婆婆|公公|外婆|外公|奶奶|爷爷)")
CARER_SELF_CLAUSE = re.compile(r"\s*(?:我们|我俩|我们俩|我们两个|两个人|我|伲)")
_SENTENCE_END = re.compile(r"[。；;！!？?\n]")
# "我和我爱人不算，只看我妈": the people named before 不算 are no elders of the household.
NOT_COUNTED = re.compile(r"(?:不算|不用算|别算|不要算|不用管|不用看|别看|不用考虑|不考虑|去掉|除外)(?:了|在内|进去|进来|啊|哦|吧)?"
                         r"(?=\s|[，。,.；;！!？?]|$)")   # "身体不算差", "不用看病" say something else
ONLY = re.compile(r"只看|只算|就看|只问|只管|光看|只是问|只查")
# "医保是我妈的", "户口是她的": whose fact it was.
FACT_WORDS = {"医保": "medical_insured", "户口": "hukou", "户籍": "hukou", "低保": "economic_status",
              "残疾证": "disability_grade", "残疾人证": "disability_grade", "岁数": "age", "年龄": "age",
              "失能": "care_level", "自理": "care_level", "身体": "care_level"}
# Kinds of fact a couple shares when said once after both are named.
SHARED_KINDS = {"district", "hukou", "economic_status", "living", "medical_insured", "family_planning_special", "emergency"}
_GRADE_ONLY = re.compile(r"^[^，,]{0,4}?([一二三四1-4])级")
_GRADES = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
ONE_CHAR_NOT_AFTER = "姑姨舅大干后继婶伯叔阿老小亲"
_BREAK = re.compile(r"[，。；！？,.;!?\n]+|\s+")
_N = r"(\d{2,3}|[一二三四五六七八九十百零两]{2,4})"   # 82 or 八十二
_NUM = _N + r"\s*(?:岁|周岁)?\s*(?:了|啦|哉)?"
# "一个82一个79", "分别是82和79", "82和79岁": ages of a pair, in the pair's order.
PAIR_AGES = (re.compile(r"^[^，。,.\d]{0,6}?一个(?:是)?" + _NUM + r"[，, ]*(?:一个|另一个)(?:是)?" + _NUM),
             re.compile(r"^[^，。,.\d]{0,6}?分别(?:是|为)?" + _NUM + r"\s*(?:和|跟|与|、|，|,)\s*" + _NUM),
             re.compile(r"^\s*(?:今年|都)?(?:是)?" + _N + r"\s*(?:岁)?\s*(?:和|跟|与|、)\s*" + _NUM))


@dataclass
class Person:
    label: str                  # 父亲, 母亲, 本人, 老伴 …
    facts: dict = field(default_factory=dict)
    start: int = 0              # where the message first names them

    @property
    def own(self) -> bool:
        return bool(OWN_FACTS & set(self.facts))


@lru_cache(maxsize=1)
def _words():
    data = yaml.safe_load(PERSONS_FILE.read_text(encoding="utf-8"))
    single = {w: label for label, words in data["persons"].items() for w in words}
    pairs = {w: list(labels) for key, words in data["pairs"].items()
             for labels in [_labels(key)] for w in words}
    names = sorted(set(single) | set(pairs), key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(w) for w in names))
    together = re.compile("|".join(re.escape(w) for w in sorted(data["together"], key=len, reverse=True)))
    return single, pairs, pattern, together, data["self_words"]


def _labels(key: str) -> tuple:
    return tuple(key.split())


def spouses(a: str, b: str) -> bool:
    return {a, b} in SPOUSES


def _mentions(text: str):
    """(start, end, [labels]) for every person word, longest first, without overlaps."""
    single, pairs, pattern, _, _ = _words()
    found = []
    for m in pattern.finditer(text):
        w = m.group()
        if len(w) == 1 and (m.start() and text[m.start() - 1] in ONE_CHAR_NOT_AFTER
                            or text[m.end():m.end() + 1] in ("妈", "爸", "们")):
            continue   # 姑妈, 大妈, 老爸 is matched whole; 爸妈 is a pair
        if re.match(r"\s*(?:一样|一般|似的|差不多)", text[m.end():m.end() + 4]) \
                and re.search(r"(?:跟|和|同|像|与|搭)\s*$", text[max(0, m.start() - 2):m.start()]):
            continue   # "跟外婆一样也有医保": a comparison, not the person spoken of
        if re.search(r"(?:要|让|靠|叫|请|等着|需要|全靠)\s*$", text[max(0, m.start() - 2):m.start()]) and len(w) > 1:
            continue   # "洗澡要老伴扶一把": the one who helps, not an elder spoken of
        joined = re.search(r"(?:跟|和|同|与|搭)\s*$", text[:m.start()])
        if joined and not ends_with_person(text[:joined.start()]):
            continue   # "他跟我妈早就离了", "住在太仓那边跟我妈两个人住": the other one in someone's sentence
        found.append((m.start(), m.end(), pairs.get(w) or [single[w]], False))
    return found


def _spouse_pronouns(text: str, taken: list) -> list:
    """"我老头子八十五，我八十，他失智了": with the elder and their spouse both named, a clause that
    opens with 他/她 is about the spouse."""
    labels = {x for t in taken for x in t[2]}
    if not {"本人", "老伴"} <= labels or labels - {"本人", "老伴"}:
        return []   # with 我妈 named too, "她" may be her: no guess
    if any(set(t[2]) == {"本人", "老伴"} and _carers(text, t[1]) for t in taken):
        return []   # "我和我爱人照顾她": the couple are the carers, "她" is someone else
    spans = [(t[0], t[1]) for t in taken]
    out = []
    for m in re.finditer(r"(?:^|[，,。；;\s])([他她伊俚])", text):
        if not any(a <= m.start(1) < b for a, b in spans):
            out.append((m.start(1), m.end(1), ["老伴"], True))
    return out


def _carers(text: str, end: int) -> bool:
    """The person or pair named just before `end` look after someone: "我和我爱人照顾她"."""
    clause = CARER_CLAUSE.match(text, end)
    return bool(clause) and not CARED_FOR.search(clause.group())


def _carers_words(body: str) -> tuple[str, str]:
    """The words after the carers' names, split into (what is said of the carers, the rest): their
    sentence, until a clause that speaks of the elder ("她…", "老人…") or the sentence ends."""
    stop = _SENTENCE_END.search(body)
    sentence, after = (body[:stop.start()], body[stop.end():]) if stop else (body, "")
    theirs, rest, elder = [], [], False
    for i, clause in enumerate(c for c in _BREAK.split(sentence) if c):
        if i and ELDER_CLAUSE.match(clause):
            elder = True
        elif i and CARER_SELF_CLAUSE.match(clause):
            elder = False
        (rest if elder else theirs).append(clause)
    return "，".join(theirs), "，".join(rest + [after])


def not_counted(text: str) -> tuple[list[str], str | None, list[str]]:
    """"不对 我和我爱人不算 只看我妈 医保是我妈的": (labels said not to count, the one to look at,
    facts said to be that one's). ([], None, []) when the message drops nobody."""
    t = normalize(text or "")
    drop = NOT_COUNTED.search(t)
    if not drop:
        return [], None, []
    found = sorted(_mentions(t) + _self_mentions(t, _mentions(t)))
    clause_start = max((m.end() for m in _BREAK.finditer(t, 0, drop.start())), default=0)
    dropped = [x for s, e, labels, _ in found if clause_start <= s < drop.start() for x in labels]
    if not dropped and re.search(r"我(?:们|自己)?\s*$|^\s*我", t[clause_start:drop.start()]):
        dropped = ["本人"]
    only = ONLY.search(t)
    kept = next((labels[0] for s, e, labels, _ in found if only and s >= only.end() and labels[0] not in dropped), None)
    theirs = []
    if kept:
        for m in re.finditer(r"(" + "|".join(map(re.escape, sorted(FACT_WORDS, key=len, reverse=True))) + r")[^，。,.；;]{0,3}?是", t):
            rest = t[m.end():m.end() + 8]
            if any(t[s:e] in rest for s, e, labels, _ in found if kept in labels) or re.match(r"\s*(?:她|他|老人)的", rest):
                theirs.append(FACT_WORDS[m.group(1)])
    return list(dict.fromkeys(dropped)), kept, list(dict.fromkeys(theirs))


def ends_with_person(text: str) -> bool:
    """"我爸和…": the words before 和 end with a person (two people named together)."""
    _, _, pattern, _, _ = _words()
    tail = text[-6:]
    return any(m.end() == len(tail) for m in pattern.finditer(tail))


def first_label(text: str) -> str | None:
    """The first elder a text names, by label (我爸 -> 父亲); pairs give their first."""
    found = _mentions(normalize(text or ""))
    return found[0][2][0] if found else None


def _self_mentions(text: str, taken: list) -> list:
    """"我76老伴78": 我 as an elder, only beside a spouse named alone."""
    _, _, _, _, self_words = _words()
    if not any(labels == ["老伴"] for _, _, labels, _ in taken):
        return []
    spans = [(s, e) for s, e, _, _ in taken]
    out = []
    for m in re.finditer("|".join(map(re.escape, sorted(self_words, key=len, reverse=True))), text):
        if any(s <= m.start() < e for s, e in spans) or text[m.end():m.end() + 1] in "们家" \
                or text[max(0, m.start() - 1):m.start()] in tuple("比跟和给帮替同与对让叫陪"):
            continue   # "老伴比我小几岁": 我 is no subject here
        out.append((m.start(), m.end(), ["本人"], False))
        break   # one 我 opens the speaker's own part
    return out


MALE = {"父亲", "爷爷", "外公", "公公", "岳父"}
FEMALE = {"母亲", "奶奶", "外婆", "婆婆", "岳母"}
_PRONOUN = re.compile(r"(我|他|她|俚|伊)(?=\s*(?:今年|已经|是|也|都)?\s*[\d一二三四五六七八九])")   # Wu 俚/伊: he or she


def _pronoun_mentions(text: str, taken: list) -> list:
    """"我爸妈，他82她79", "我跟老伴 我76他78": pronouns inside a pair's words, by who they can be."""
    out = []
    for i, (s, e, labels, _) in enumerate(taken):
        if len(labels) != 2:
            continue
        # up to the next person who is not one of the pair ("我搭老头子…我七十七，俚八十": both theirs)
        end = next((t[0] for t in taken[i + 1:] if not set(t[2]) <= set(labels)), len(text))
        spans = [(t[0], t[1]) for t in taken]
        for m in _PRONOUN.finditer(text, e, end):
            if any(a <= m.start() < b for a, b in spans):
                continue
            word = m.group(1)
            if word == "我":
                who = "本人" if "本人" in labels else None
            elif word in "俚伊":
                who = "老伴" if "老伴" in labels else None
            else:
                gender = MALE if word == "他" else FEMALE
                who = next((x for x in labels if x in gender), None) or ("老伴" if "老伴" in labels else None)
            if who:
                out.append((m.start(), m.end(), [who], True))
    return out


# "我爸有残疾证二级，我妈没有": a bare yes or no after a person repeats the fact said before it.
_SAME = re.compile(r"^\s*(?:也|同样|一样)(?:是|有|一样)?\s*$")
_NOT = re.compile(r"^\s*(?:没有|没|不是|不|也没有|也不是)\s*$")


def _echo(facts_before: dict, body: str) -> dict:
    if _SAME.match(body):
        return {k: v for k, v in facts_before.items() if k != "age"}
    if _NOT.match(body):
        out = {}
        for k, v in facts_before.items():
            if isinstance(v, bool):
                out[k] = not v
            elif k == "disability_grade":
                out[k] = "none"
        return out
    return {}


def _facts(text: str, today) -> dict:
    return {k: v for k, v in extract(text, today=today).facts.items() if k != "subject"} if text.strip() else {}


def read_household(text: str, today: _dt.date | None = None) -> list[Person]:
    """The elders a message speaks of, with the facts said of each. [] when it names nobody;
    one Person when it names one (the dialogue decides whether that is a new person)."""
    if not isinstance(text, str) or not text.strip():
        return []
    today = today or _dt.date.today()
    t = normalize(text)[:2000]
    mentions = _mentions(t)
    mentions = sorted(mentions + _self_mentions(t, mentions))
    mentions = sorted(mentions + _pronoun_mentions(t, mentions))
    mentions = sorted(mentions + _spouse_pronouns(t, mentions))
    if not mentions:
        return []
    _, _, _, together, _ = _words()
    people: dict[str, Person] = {}
    parts: dict[str, list[str]] = {}
    shared: list[str] = [t[:mentions[0][0]]]          # said before anyone is named: everyone's
    gone: set[str] = set()
    carers: set[str] = set()
    care: dict = {}                                    # "我和我爱人照顾她": who looks after the elder
    trailing: list[tuple[str, str]] = []
    for i, (s, e, labels, pronoun) in enumerate(mentions):
        end = mentions[i + 1][0] if i + 1 < len(mentions) else len(t)
        body = t[e:end]
        if not pronoun and _carers(t, e) and not any(x in people for x in labels):
            # the carers are no elders: what is said of them ("…照顾她，我们俩也都六十多了，身体也不好")
            # is theirs, save who cares for the elder and the family's home and means; a clause
            # about the elder ("她有医保") and the sentences after are everyone's again
            theirs, rest = _carers_words(body)
            for k, v in _facts(t[s:e] + theirs, today).items():
                if k in CARE_FACTS or k in FAMILY_FACTS:
                    care.setdefault(k, v)
            carers.update(labels)
            shared.append(rest)
            continue
        if pronoun:   # "他78 住相城": only the number is his; the rest is the couple's
            m = _BREAK.search(body)
            if m:
                shared.append(body[m.end():])
                body = body[:m.start()]
        for label in labels:
            people.setdefault(label, Person(label, start=s))
        if len(labels) == 2:
            for rx in PAIR_AGES:
                m = rx.match(body)
                if m:
                    for label, age in zip(labels, (m.group(1), m.group(2))):
                        parts.setdefault(label, []).append(f"老人今年{age}岁")
                    body = body[m.end():]
                    break
            shared.append(body)    # the rest of "我爸妈…都住园区" is about both
            continue
        label = labels[0]
        own, rest = _split_together(body, together)
        if len(mentions) > 1 and not pronoun:
            # "我爸81我妈80，苏州户口，住沧浪": after the first clause, where they live and their 户口
            # are the couple's; a person's own state ("瘫在床上") stays theirs
            first, _, later = own.partition("，")
            if later:
                own = first
                trailing.append((label, later))
        clause = t[s:e] + own
        if died_at(clause):   # understanding/loss.py: "走了", "前天没的", "刚走了 脑溢血", never "不如走了"
            gone.add(label)        # "我爸前年走了": a loss, not an elder to advise
        # the extractor reads "老伴77岁" as someone else's age: the person is named neutrally
        parts.setdefault(label, []).append(("我" if label == "本人" else "老人") + own)
        shared.append(rest)
    before: dict = {}
    for label, person in sorted(people.items(), key=lambda kv: kv[1].start):
        said = "，".join(parts.get(label, []))
        if label != "本人" and said.startswith("老人") and not said[2:].strip("，, "):
            said = ""
        if label == "本人":   # "我81，一直是我在家照顾她": the elder's own age, not a carer's
            said = "，".join(c for c in re.split(r"[，,。；;]", said) if c and not CARING.search(c))
        person.facts = _facts(said, today)
        spoken = re.sub(r"^(?:老人|我)", "", said).strip("，, ")
        person.facts = person.facts or _echo(before, spoken)
        before = person.facts or before
        if CARING.search(said) and not (OWN_FACTS - {"district", "hukou"}) & set(person.facts):
            for k, v in _facts(said, today).items():
                if k in CARE_FACTS:
                    care.setdefault(k, v)
            person.facts = {}      # "我爸在照顾她": the carer, not the cared-for
            carers.add(label)
    if any(x not in ("本人", "老伴") and x not in gone and x not in carers for x in people):
        # "外婆89…我和我老公每周去两次": beside an elder of the family, the speaker and their
        # spouse named together with nothing of their own said are the family, not elders
        carers.update(x for x in ("本人", "老伴") if x in people and not people[x].facts)
    common = _facts("，".join(x for x in shared if x.strip()), today)
    for k, v in care.items():
        common.setdefault(k, v)
    living = [p for p in people.values() if p.label not in gone and p.label not in carers]
    for label, later in trailing:
        facts = _facts(later, today)
        for k, v in facts.items():
            if k in SHARED_KINDS:
                common.setdefault(k, v)
            elif label in people:
                people[label].facts.setdefault(k, v)
    grades = _GRADE_ONLY if "残疾" in t else None
    for person in living:
        for k, v in common.items():
            person.facts.setdefault(k, v)
        if grades and "disability_grade" not in person.facts:
            for part in parts.get(person.label, []):
                m = grades.search(re.sub(r"^(?:老人|我)", "", part))
                if m:   # "都有残疾证，我爸一级，我妈三级"
                    person.facts["disability_grade"] = _GRADES[m.group(1)]
    return sorted(living, key=lambda p: p.start)


def _mention_words(said: str):
    m = _words()[2].match(said)
    return [m.group()] if m else []


def _split_together(body: str, together: re.Pattern) -> tuple[str, str]:
    """A person's clause up to the words that speak of everyone ("我妈79都住园区" -> "79", "都住园区")."""
    pieces = _BREAK.split(body)
    own, rest, seen = [], [], False
    pos = 0
    for piece in pieces:
        if not piece:
            continue
        m = together.search(piece)
        if seen or (m and m.start() <= 2 and not re.search(r"\d", piece[:m.start()])):   # "80都住吴中": 80 is hers
            seen = True
            rest.append(piece)
        elif m:
            own.append(piece[:m.start()])
            rest.append(piece[m.start():])
            seen = True
        else:
            own.append(piece)
        pos += len(piece)
    return "，".join(own), "，".join(rest)
