"""Where to ask what this advisor does not cover (policy_kb/referrals.yml): pensions, medical
insurance, the 残疾人证, concession cards, other cities, emergencies. Never the nearest card.

A row matches by its literal `words` or its `patterns` (regular expressions, for phrasings with a
gap: "办…残疾证"). The row with `other_places: true` also matches a question about a place outside
Suzhou (other_places.yml): "杭州格老人吃饭有补贴伐", "南通那边的高龄津贴怎么领" — unless the
message is about Suzhou all the same ("户口是河南的，在苏州能领吗")."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import re

import yaml

REFERRALS_FILE = Path(__file__).with_name("referrals.yml")
OTHER_PLACES_FILE = Path(__file__).with_name("other_places.yml")
# After the other place: words that make it the place asked about ("杭州那边", "南通的高龄津贴").
_ABOUT_PLACE = (r"(?!路|街|大道|巷|桥|新村|花园|小区|广场|商场|[东西南北中]路)(?:市|省)?"
                r"(?:[^，。,.？?！!]{0,6}?(?:那边|那里|那儿|那块|那头)|的|格|有没有|有|老人|养老|政府|当地|本地|"
                r"[\u4e00-\u9fff]{1,4}(?:区|县)|[\u4e00-\u9fff]{1,4}的)")
# Before it: the elder's own 户口 or origin, a fact about them, not the place asked about.
_ORIGIN = re.compile(r"(?:户口|户籍|籍贯|老家是|是)\s*(?:在|是)?\s*$")
# The question is about Suzhou after all.
_HERE = re.compile(r"苏州|这边|这里|本地|我们这|园区|姑苏|吴中|相城|吴江|虎丘|高新区|常熟|张家港|昆山|太仓")
_ASKS = re.compile(r"[吗么伐哇？?呢]|什么|怎么|多少|几钿|哪|有没有|能不能|可不可以|咋|啥|(.)不\1|不[？?]?$|多久")


@dataclass(frozen=True)
class Referral:
    topic: str
    where: str
    words: tuple[str, ...]
    urgent: bool = False
    always: bool = False
    patterns: tuple = ()
    other_places: bool = False

    def matches(self, text: str) -> bool:
        return any(w in text for w in self.words) or any(p.search(text) for p in self.patterns) \
            or (self.other_places and about_another_place(text))


@lru_cache(maxsize=1)
def load_referrals(path: Path = REFERRALS_FILE) -> tuple[Referral, ...]:
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))["referrals"]
    return tuple(Referral(r["topic"], r["where"], tuple(r.get("words") or ()), bool(r.get("urgent")),
                          bool(r.get("always")), tuple(re.compile(p) for p in r.get("patterns") or ()),
                          bool(r.get("other_places")))
                 for r in rows)


@lru_cache(maxsize=1)
def other_place_names() -> frozenset:
    """China's cities and provinces outside Suzhou (other_places.yml), read once for every user."""
    return frozenset(yaml.safe_load(OTHER_PLACES_FILE.read_text(encoding="utf-8"))["places"])


@lru_cache(maxsize=1)
def _PLACE_ONLY() -> re.Pattern:
    return re.compile("|".join(re.escape(n) for n in sorted(other_place_names(), key=len, reverse=True)))


@lru_cache(maxsize=1)
def _other_places() -> re.Pattern:
    return re.compile("(" + _PLACE_ONLY().pattern + ")" + _ABOUT_PLACE)


def about_another_place(text: str) -> bool:
    """A question about a place outside Suzhou ("上海有补贴吗"), not the elder's origin."""
    if not _ASKS.search(text):
        return False
    for m in _PLACE_ONLY().finditer(text):   # "我岳母在杭州萧山，她那边…", "长护险在昆明怎么申请"
        if re.search(r"(?:在|住|到|回)\s*$", text[max(0, m.start() - 2):m.start()]) \
                and (re.search(r"那边|那里|那儿", text[m.end():])
                     or re.match(r"(?:市|省)?[\s，,]*(?:怎么|能不能|可不可以|有没有|咋|好不好|要怎么|如何|能享受|能领|"
                                 r"可以享受|可以领|有什么|有啥|能拿)", text[m.end():])):
            return True
    for m in _other_places().finditer(text):
        if _ORIGIN.search(text[max(0, m.start() - 6):m.start()]):
            continue   # "户口在安徽": where the elder is from
        rest = text[:m.start()] + text[m.end():]
        named_there = re.search("那边|那里|那儿|的(?:高龄|养老|护理|补贴|津贴|尊老|政策|长护|长期护理|适老|助餐|体检|敬老院)",
                                text[m.start():m.end() + 8])
        if _HERE.search(rest) and not named_there:
            continue   # "老家安徽的，在苏州能领吗": a question about Suzhou
        return True
    return False


def find_referral(text: str) -> Referral | None:
    """The first row (urgent first) whose words the text says; None when none applies."""
    rows = sorted(load_referrals(), key=lambda r: not r.urgent)
    return next((r for r in rows if r.matches(text or "")), None)
