"""Text normaliser: every user message passes through it before NLU.

Relatives dictate with voice-to-text (no punctuation, Chinese numerals, fillers,
stutters, homophones of place and policy names), some type Traditional or
full-width characters, operators write shorthand. `normalize()` turns all of that
into one plain form, in this order, each step a small function with one job:

1. t2s          Traditional -> Simplified (OpenCC ``t2s``)
2. fullwidth    full-width ASCII letters, digits, spaces and ASCII punctuation -> half-width
                (Chinese punctuation such as ，。？！：；（） stays)
3. filler       嗯, 呃 anywhere; 啊/额/那个/这个/就是/就是说/然后呢 only where clearly a filler
4. stutter      我我我妈 -> 我妈, 八十八十五岁 -> 八十五岁 (谢谢, 看看, 八十八岁 stay);
                a number restarted after a pause: 八十 八十二, 八十那个八十二岁 -> 八十二
5. numeral      Chinese numerals -> digits where they are quantities (八十五岁 -> 85岁,
                一九五零年 -> 1950年, 今年八十五 -> 今年85, 一级 -> 1级); 一个人, 五保 stay
6. asr_correction / homophone
                explicit corrections from asr_corrections.yml, then same-length pinyin
                matches against the gazetteer (districts, towns, policy names, care words);
                right after 住/在/到… also against every Suzhou place name (gazetteer.py)
7. whitespace   runs of spaces -> one space, ends stripped; characters typed one by one with
                spaces between are joined: 今 年 八 十 三 -> 今年八十三 (three single characters in a
                row, or two numerals; shorthand "女 76 常熟" stays), read by the next pass

`normalize` is idempotent (the pipeline is re-run until nothing changes) and never
raises. `normalize_verbose` also returns the list of changes (for the eval report)
and the alignment to the original text, so a caller can map spans back.

Data: understanding/asr_corrections.yml (corrections, protected words), understanding/lexicon.yml and
policy_kb/policies/*.yml (the vocabulary for the pinyin matching). Everything is loaded
once, lazily, and cached for the life of the process.
"""
from __future__ import annotations

import dataclasses
import difflib
import functools
import logging
import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import yaml

from policy_kb.kb import POLICY_DIR
from understanding import gazetteer
from understanding.yaml_strings import yaml_strings

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
CORRECTIONS_PATH = HERE / "asr_corrections.yml"
LEXICON_PATH = HERE / "lexicon.yml"
POLICIES_DIR = POLICY_DIR   # names and aliases of policies are terms the normaliser knows

Edit = tuple  # (start, end, replacement) on the current text
MAX_PASSES = 4  # the pipeline is re-run until stable; in practice 2 passes at most


@dataclass
class Normalization:
    """The normalised text, what changed, and where each character came from."""

    text: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (rule, before, after)
    original: str = ""
    # For each character of `text`, the (start, end) range in `original` it comes from.
    spans: list[tuple[int, int]] = field(default_factory=list, repr=False)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """A [start, end) range of `text` -> the range of `original` it was made from."""
        if not self.spans or self.text == self.original:
            return start, end
        n = len(self.spans)
        if start >= n:
            return len(self.original), len(self.original)
        s = self.spans[max(start, 0)][0]
        e = self.spans[min(end, n) - 1][1] if end > start else s
        return s, max(s, e)

    def to_normalized(self, start: int, end: int) -> tuple[int, int]:
        """A [start, end) range of `original` -> the range of `text` covering it."""
        if not self.spans or self.text == self.original:
            return start, end
        inside = [i for i, (a, b) in enumerate(self.spans) if a < end and b > start]
        if inside:
            return inside[0], inside[-1] + 1
        pos = next((i for i, (a, _) in enumerate(self.spans) if a >= end), len(self.text))
        return pos, pos


# --- resources (loaded once) -----------------------------------------------------------

_CJK = re.compile(r"^[\u4e00-\u9fff]+$")


def _is_cjk(s: str) -> bool:
    return bool(_CJK.match(s))


def _read_yaml(path: Path):
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError):
        logger.warning("normalizer: cannot read %s", path)
        return {}


@dataclass
class _Resources:
    corrections: dict[str, str]
    corrections_re: re.Pattern
    protected: set[str]
    protected_re: re.Pattern
    vocab: set[str]                      # every gazetteer term (exact words never change)
    vocab_re: re.Pattern
    fuzzy_index: dict[str, list[tuple[str, int]]]  # char -> [(term, position of char)]
    places: set[str]                     # district names and aliases (they may sound like grammar words)
    place_sounds: dict                   # relaxed pinyin tuple -> place names that sound so
    cores: dict[str, frozenset]          # term -> positions covered by a real word inside it
    words: set[str]                      # real words (jieba dictionary + vocab + protected)
    age_after_stop: re.Pattern           # after "今年八十五": a unit, not an age


def _alt(words: Iterable[str]) -> re.Pattern:
    ws = sorted({w for w in words if w}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in ws) if ws else r"(?!)")


def _vocabulary(lexicon: dict) -> tuple[set[str], set[str]]:
    """(all gazetteer terms, the ambiguous short aliases left out of the pinyin matching)."""
    terms: set[str] = set()
    districts = lexicon.get("districts") or {}
    terms.update(yaml_strings(districts))
    for section, keys in (
        ("care_level", ("explicit", "everyday")),
        ("economic_status", ("values",)),
        ("living", ("values",)),
        ("dementia", ("true",)),
        ("family_planning_special", ("true", "only_child")),
    ):
        node = lexicon.get(section) or {}
        for key in keys:
            terms.update(yaml_strings(node.get(key) or node.get(True if key == "true" else key) or []))
    terms.update(yaml_strings((lexicon.get("disability_grade") or {}).get("words") or []))
    terms.update(yaml_strings((lexicon.get("medical_insured") or {}).get("keywords") or []))
    terms.update(yaml_strings((lexicon.get("hukou") or {}).get("keywords") or []))
    if POLICIES_DIR.is_dir():
        for path in sorted(POLICIES_DIR.glob("*.yml")):
            policy = _read_yaml(path)
            for text in [policy.get("name") or ""] + list(policy.get("aliases") or []):
                # "长期护理保险待遇（苏州长护险）" -> 长期护理保险待遇, 苏州长护险
                terms.update(re.findall(r"[\u4e00-\u9fff]{2,}", str(text)))
    terms = {t for t in terms if isinstance(t, str) and _is_cjk(t) and 2 <= len(t) <= 8}
    strict = {str(w) for w in lexicon.get("strict_aliases") or []}
    return terms, strict


def _dictionary_words() -> set[str]:
    """Real words of 2-4 characters from jieba's dictionary (empty if jieba is missing)."""
    try:
        import jieba
        from jieba import get_module_res
        with get_module_res(jieba.DEFAULT_DICT_NAME) as fh:
            out = set()
            for line in fh:
                parts = line.decode("utf-8").split(" ")
                w = parts[0]
                if 2 <= len(w) <= 4 and (len(parts) < 2 or parts[1] != "0"):
                    out.add(w)
            return out
    except Exception:  # pragma: no cover - jieba is a project dependency
        logger.warning("normalizer: jieba dictionary not available; homophone checks are weaker")
        return set()


def _core_positions(term: str, words: set[str]) -> frozenset:
    """Positions of `term` inside a real word shorter than the term: 服务券 -> {0, 1} (服务)."""
    covered = set()
    for a in range(len(term) - 1):
        for b in range(a + 2, min(len(term), a + 4) + 1):
            if (a, b) != (0, len(term)) and term[a:b] in words:
                covered.update(range(a, b))
    return frozenset(covered)


@lru_cache(maxsize=1)
def _resources() -> _Resources:
    # Heavy imports happen here, once, not on the first message that needs them.
    import cn2an  # noqa: F401
    import pypinyin  # noqa: F401
    from opencc import OpenCC  # noqa: F401

    data = _read_yaml(CORRECTIONS_PATH)
    corrections = {str(k): str(v) for k, v in (data.get("corrections") or {}).items() if k and v}
    protected = {str(w) for w in data.get("protected") or [] if w}
    # A target containing a source would make normalize() not idempotent: drop it.
    for src, dst in list(corrections.items()):
        if any(other in dst for other in corrections if other != src) or src in dst:
            logger.warning("normalizer: correction %s -> %s ignored (target contains a source)", src, dst)
            del corrections[src]
    lexicon = _read_yaml(LEXICON_PATH)
    vocab, strict = _vocabulary(lexicon)
    fuzzy_terms = vocab - strict
    index: dict[str, list[tuple[str, int]]] = {}
    for term in sorted(fuzzy_terms):
        for pos, ch in enumerate(term):
            index.setdefault(ch, []).append((term, pos))
    words = _dictionary_words() | vocab | protected
    cores = {term: _core_positions(term, words) for term in fuzzy_terms}
    for ch in index:  # the pinyin of every gazetteer character, computed once
        _readings(ch)
    places = {t for t in yaml_strings(lexicon.get("districts") or {}) if isinstance(t, str) and _is_cjk(t)}
    place_sounds: dict[tuple, set] = {}
    for term in places - strict:  # short ambiguous aliases (园区, 新区) are not matched by sound
        if len(term) >= 2:
            for key in itertools.product(*(sorted(_readings(ch)) for ch in term)):
                place_sounds.setdefault(key, set()).add(term)
    age = lexicon.get("age") or {}
    stop = [str(w) for w in (age.get("units_after") or []) + (age.get("skip_after") or [])]
    stop += ["有", "多", "来", "几", "余", "岁", "周岁", "月", "日", "号", "点"]
    return _Resources(
        corrections=corrections,
        corrections_re=_alt(corrections),
        protected=protected,
        protected_re=_alt(protected),
        vocab=vocab,
        vocab_re=_alt(vocab),
        fuzzy_index=index,
        places=places,
        place_sounds=place_sounds,
        cores=cores,
        words=words,
        age_after_stop=re.compile(r"\s*(?:" + _alt(stop).pattern + r"|[\d零〇○一二两三四五六七八九十百千])"),
    )


def warm_up() -> None:
    """Load every resource now (dictionaries, pinyin index) instead of on the first message."""
    _resources()
    gazetteer.warm_up()
    normalize("長護險怎麼申請，我媽八十五歲，住在古苏区")


# --- step 1: Traditional -> Simplified ------------------------------------------------------

@lru_cache(maxsize=1)
def _opencc():
    from opencc import OpenCC
    return OpenCC("t2s")


def _char_runs(old: str, new: str) -> list[Edit]:
    """Edits for two strings of the same length: one edit per run of changed characters."""
    edits, i, n = [], 0, len(old)
    while i < n:
        if old[i] == new[i]:
            i += 1
            continue
        j = i
        while j < n and old[j] != new[j]:
            j += 1
        edits.append((i, j, new[i:j]))
        i = j
    return edits


def t2s(text: str) -> list[Edit]:
    if text.isascii():
        return []
    converted = _opencc().convert(text)
    if converted == text:
        return []
    if len(converted) == len(text):
        return _char_runs(text, converted)
    matcher = difflib.SequenceMatcher(None, text, converted, autojunk=False)  # rare: a phrase changed length
    return [(i1, i2, converted[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


# --- step 2: full-width -> half-width ---------------------------------------------------------

# Chinese punctuation typed with a Chinese keyboard stays as it is.
_KEEP_FULLWIDTH = set("！，：；？（）")
_FULLWIDTH_TABLE = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F) if chr(c) not in _KEEP_FULLWIDTH}
_FULLWIDTH_TABLE[0x3000] = 0x20  # ideographic space


def fullwidth(text: str) -> list[Edit]:
    converted = text.translate(_FULLWIDTH_TABLE)
    return [] if converted == text else _char_runs(text, converted)


# --- step 3: fillers ----------------------------------------------------------------------------

_PAUSES = " \t，,、…~"
_BREAKS = _PAUSES + "。.！!？?；;:：\n\r"
_SPEAKER_WORDS = ("我", "您", "你", "咱", "俺", "请问", "想问", "问一下", "麻烦", "打扰")
# Fillers that make the word before them a filler too ("那个嗯我…"); not 啊/哦, which
# are also sentence particles ("要那个啊").
_CHAIN_FILLERS = ("嗯", "呃", "那个", "这个", "就是说", "然后呢", "就是")
_HESITATIONS = ("嗯", "呃")

_INTERJECTIONS = ("啊", "额", "哦", "噢", "唉")
_FILLER_WORDS = _CHAIN_FILLERS + _INTERJECTIONS
_FILLER_RE = re.compile("|".join(re.escape(w) for w in sorted(_FILLER_WORDS, key=len, reverse=True)))


def _is_filler(word: str, text: str, end: int, at_start: bool) -> bool:
    """Is `word` (ending at `end`) a filler here? `at_start`: it opens a clause."""
    rest = text[end:]
    after = rest.lstrip(_PAUSES)
    pause = bool(rest) and rest[0] in _PAUSES and bool(after)   # "那个，我想问"
    chain = after.startswith(_CHAIN_FILLERS)                     # "那个那个…", "那个嗯…"
    speaker = rest.startswith(_SPEAKER_WORDS)                    # "那个我想问", "啊请问"
    if word in ("嗯", "呃"):
        return True
    if word in _INTERJECTIONS:      # 额度, 好啊: only opening a clause
        return at_start and (pause or chain or speaker)
    if word == "那个":              # "那个区", "要那个，不要这个" stay
        return (at_start and pause) or chain or speaker
    if word == "这个":              # "这个我不懂" (this, I don't know) stays
        return (at_start and pause) or chain
    if word == "就是":              # "就是低保户", "就是我", "就是这个" stay
        return (at_start and pause) or after.startswith(_HESITATIONS + ("就是",))
    if word == "就是说":            # "他就是说不清楚" stays
        return at_start or pause or chain or speaker
    if word == "然后呢":            # "交了材料然后呢？" is a real question
        return bool(rest) and rest[0] not in "？?"
    return False


def fillers(text: str) -> list[Edit]:
    edits: list[Edit] = []
    last_removed = -1
    for m in _FILLER_RE.finditer(text):
        s, e = m.start(), m.end()
        at_start = s == 0 or text[s - 1] in _BREAKS or s == last_removed
        if not _is_filler(m.group(), text, e, at_start):
            continue
        if at_start:  # "那个，我想问" -> "我想问": the pause after a leading filler goes too
            while e < len(text) and text[e] in _PAUSES:
                e += 1
        if e == len(text):  # a trailing filler: "…85岁，嗯" -> "…85岁"
            while s > max(0, last_removed) and text[s - 1] in _PAUSES:
                s -= 1
        edits.append((s, e, ""))
        last_removed = e
    if not edits:
        return []
    kept = _apply_edits(text, edits)[0]
    if not kept.strip(_BREAKS):  # "嗯", "嗯嗯": a bare answer, not a filler
        return []
    return edits


# --- step 4: stutters ---------------------------------------------------------------------

# Characters whose doubled form is a word (谢谢, 看看, 妈妈…): a longer run keeps two.
_DOUBLED_WORDS = set("谢看慢常妈爸奶爷姥婆公哥姐弟妹叔舅伯姑刚天好哈呵嘻嘿嗯哦偷渐往试想问等走聊说听宝"
                     "星个人家年月日次步样条点早快多少大小高红白明清干静轻满紧悄默稍微纷频双对拜")
# Never doubled in a real word: "我我妈" is a stutter.
_NEVER_DOUBLED = set("我你您他她")


def stutter_chars(text: str) -> list[Edit]:
    """我我我妈 -> 我妈; 谢谢谢谢 -> 谢谢; 谢谢, 看看, 常常 stay."""
    edits = []
    for m in re.finditer(r"([\u4e00-\u9fff])\1+", text):
        ch, run = m.group(1), len(m.group())
        if ch in _DIGIT_CHARS or ch == "两":
            continue  # 八八八 in a spoken phone number
        if run == 2:
            if ch in _NEVER_DOUBLED:
                edits.append((m.start() + 1, m.end(), ""))
            continue
        keep = 2 if ch in _DOUBLED_WORDS else 1
        edits.append((m.start() + keep, m.end(), ""))
    return edits


_RESTART = re.compile(r"([零一二两三四五六七八九十百]+)((?:[ \t]|那个|就是|呃|嗯|啊|哦)+)([零一二两三四五六七八九十百]+)")


# "八十 嗯 那个三了", "六十 嗯 四岁": the tens said, a pause, then the units.
_CONTINUED = re.compile(r"([二三四五六七八九]十|一百)((?:[ \t]|那个|就是|呃|嗯|啊|哦)+)([一二三四五六七八九])"
                        r"(?![十百零〇一二三四五六七八九个天年月日次号点块元斤分楼层])")


def restarted_numbers(text: str) -> list[Edit]:
    """八十 八十二, 八十那个八十二岁 -> 八十二: a number begun, then said again in full; 八十 嗯 三
    -> 八十三: continued after a pause (part of stutter_words)."""
    restarted = [(m.start(1), m.start(3), "") for m in _RESTART.finditer(text)
                 if m.group(3).startswith(m.group(1)) and any(u in m.group(1) for u in "十百")]
    continued = [(m.start(2), m.start(3), "") for m in _CONTINUED.finditer(text)
                 if not any(s <= m.start(2) < e for s, e, _ in restarted)]
    return restarted + continued


def stutter_words(text: str) -> list[Edit]:
    """八十八十五岁 -> 八十五岁, 我想问我想问 -> 我想问: a repeated unit of 2-6 characters.

    Not when the repeat starts inside a word: "不是低保是低保边缘" is a correction.
    """
    res = _resources()
    edits = []
    for m in re.finditer(r"([\u4e00-\u9fff]{2,6}?)\1+", text):
        s, e = m.start(), m.end()
        if all(ch in _DIGIT_CHARS or ch == "两" for ch in m.group(1)):
            continue  # 一二一二 in a spoken ID or phone number is not a stutter
        if _crosses(text, s, res.words):
            continue
        if m.group(1) in ("不是", "不是的", "勿是", "弗是"):
            continue  # "七十六不是不是七十七": a self-correction (a single 不是 is not one)
        if len(m.group(1)) == 2 and m.group(1)[1] in "不没勿弗":
            continue  # "是不是不要钱", "有没有没有": an A-not-A question, then a negation
        edits.append((s + len(m.group(1)), e, ""))
    return edits + restarted_numbers(text)


# --- step 5: numerals ---------------------------------------------------------------------

_NUM_CHARS = "零〇○一二两三四五六七八九十百千"
_DIGIT_CHARS = "零〇○一二三四五六七八九"
_NUM_RUN = re.compile(f"[{_NUM_CHARS}]+")
_DIGIT_VALUE = {ch: str(i) for i, ch in enumerate("零一二三四五六七八九")}
_DIGIT_VALUE.update({"〇": "0", "○": "0"})
_APPROX_PAIRS = {"一二", "二三", "三四", "四五", "五六", "六七", "七八", "八九", "三五"}  # 三五年 = a few years
_BIRTH_AFTER = re.compile(r"年\s*(?:出生|生|出世|生人|代|属)|年的(?=$|[\s，,。；;！!？?…])")
_BIRTH_BEFORE = re.compile(r"(?:出生于|生于|出生在|出生是|出生|生日是)\s*$")
_AGE_KEYWORD = re.compile(r"(?:今年|年纪|年龄|岁数|刚满|已满|已经满)(?:是|有|已经|都|才|整|也|已|刚|刚刚)?\s*$")
_SCORE_BEFORE = re.compile(r"(?:得分|评分|打分|总分|分数|评估|考了|得了|评了|打了)")
_LEVEL_NOT_AFTER = set("上下高低升降同逐越跳超各每")


def _cn_value(run: str) -> int | None:
    """Value of a positional Chinese number (八十五, 一百零二, 两); None if not one."""
    if run[0] in "百千" or "十十" in run:
        return None  # 百岁老人, 千万: words
    if any(a not in "十百千零〇○" and b not in "十百千零〇○" for a, b in zip(run, run[1:])):
        return None  # 七八十, 八十五六: an approximation, not a number
    if len(run) > 1 and not any(u in run for u in "十百千"):
        return None  # digit by digit (三四) is handled as a year only
    try:
        import cn2an  # loaded by _resources()
        value = cn2an.cn2an(run.replace("〇", "零").replace("○", "零"), "normal")
    except Exception:
        return None
    return int(value) if value == int(value) else None


def numerals(text: str) -> list[Edit]:
    edits = []
    res = _resources()
    for m in _NUM_RUN.finditer(text):
        run, s, e = m.group(), m.start(), m.end()
        if s > 0 and (text[s - 1].isascii() and text[s - 1].isalnum()):
            continue
        if re.search(f"[{_NUM_CHARS}][ \t]+$", text[max(0, s - 3):s]) or re.match(f"[ \t]+[{_NUM_CHARS}]", text[e:e + 3]):
            continue  # "八 十 三 岁": typed one by one; the whitespace step joins it first
        after = text[e:e + 6]
        before = text[max(0, s - 8):s]
        new = None
        if after.startswith("年") and all(ch in _DIGIT_CHARS for ch in run):
            if len(run) == 4:                                   # 一九五零年 -> 1950年
                new = "".join(_DIGIT_VALUE[ch] for ch in run)
            elif len(run) == 2 and run[0] not in "零〇○":        # 五零年 -> 50年, 四一年的 -> 41年的
                birth = _BIRTH_AFTER.match(after) or _BIRTH_BEFORE.search(before)
                if birth or (run[1] in "零〇○" and run not in _APPROX_PAIRS):
                    new = "".join(_DIGIT_VALUE[ch] for ch in run)
        else:
            value = _cn_value(run)
            if value is None:
                continue
            if re.match(r"\s*(?:周岁|岁)", after):                # 八十五岁 -> 85岁
                new = str(value)
            elif after.startswith("级") and not (s > 0 and text[s - 1] in _LEVEL_NOT_AFTER) and value <= 10:
                new = str(value)                                   # 一级残疾 -> 1级残疾
            elif after.startswith("分") and not after.startswith("分之") and run != "十":
                if len(run) >= 2 or _SCORE_BEFORE.search(before):  # 评估得分五十分 -> 50分; 十分 stays
                    new = str(value)
            elif after.startswith("年") and len(run) >= 2 and any(u in run for u in "十百"):
                new = str(value)                                   # 住了二十年, 八十年代
            elif _AGE_KEYWORD.search(before) and 10 <= value <= 130 and not res.age_after_stop.match(after):
                new = str(value)                                   # 今年八十五 -> 今年85
        if new is not None and new != run:
            edits.append((s, e, new))
    return edits


# --- step 6: homophones -------------------------------------------------------------------

def asr_corrections(text: str) -> list[Edit]:
    res = _resources()
    if not res.corrections:
        return []
    return [(m.start(), m.end(), res.corrections[m.group()]) for m in res.corrections_re.finditer(text)]


# Initials and finals that voice input (and southern accents) confuse are compared as equal:
# one table, understanding/gazetteer.py's (_relax below).
# Characters that are never a misheard part of a name: grammar words and numerals.
_FUNCTION_CHARS = set("的了在是有和与跟就都也还又不没我你您他她它们这那个吗呢吧啊要会能想说去来到把被给让"
                      "对从向为很太最更再才只零〇一二两三四五六七八九十百千万")


_relax = gazetteer.relax


@lru_cache(maxsize=20000)
def _readings(ch: str) -> frozenset:
    """Every reading of a character (tone-less, confusions folded): 长 -> {can, zan}."""
    from pypinyin import Style, pinyin
    try:
        found = pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore")
    except Exception:
        return frozenset()
    return frozenset(_relax(p) for group in found for p in group if p.isalpha())


def _same_sound(a: str, b: str) -> bool:
    return a == b or bool(_readings(a) & _readings(b))


def _occupied(text: str, *patterns: re.Pattern) -> bytearray:
    taken = bytearray(len(text))
    for pattern in patterns:
        for m in pattern.finditer(text):
            taken[m.start():m.end()] = b"\x01" * (m.end() - m.start())
    return taken


def _crosses(text: str, pos: int, words: set[str]) -> bool:
    """True if a real word (2-4 characters) straddles position `pos` (between pos-1 and pos)."""
    n = len(text)
    for a in range(max(0, pos - 3), pos):
        for b in range(pos + 1, min(n, a + 4) + 1):
            if b - a >= 2 and text[a:b] in words:
                return True
    return False


def _inner_word_on(text: str, i: int, j: int, diffs: list[int], words: set[str]) -> bool:
    """True if a real word inside text[i:j] (not the whole) uses a character we would change."""
    for a in range(i, j - 1):
        for b in range(a + 2, min(j, a + 4) + 1):
            if (a, b) != (i, j) and text[a:b] in words and any(a <= d < b for d in diffs):
                return True
    return False


# A two-character name needs a hint that a name stands here: a word before it such as
# 在/住/到 ("住在卫塘"), or after it such as 镇/区/老人/户 ("毒居老人"), or a clause edge.
_NAME_BEFORE = set("在住到去是于回搬往州市区县镇省")
_NAME_AFTER = set("镇区市县街路那这的人老户家")


def _name_context(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return (not before or before in _BREAKS or before in _NAME_BEFORE
            or not after or after in _BREAKS or after in _NAME_AFTER)


# Where a place name certainly stands ("住想城那边", "住在太苍"): even a character that is
# usually a grammar word may then be a misheard part of the name (想城 -> 相城, 太苍 -> 太仓).
_PLACE_BEFORE = set("住在到搬回于")
_PLACE_AFTER = set("区市县镇那这")


def _place_context(text: str, start: int, end: int) -> bool:
    return (start > 0 and text[start - 1] in _PLACE_BEFORE) or (end < len(text) and text[end] in _PLACE_AFTER)


def _candidate(text: str, i: int, term: str, res: _Resources, taken: bytearray) -> int | None:
    """Number of shared characters if text[i:i+len(term)] is a misheard `term`, else None."""
    n = len(term)
    sub = text[i:i + n]
    if sub == term or not _is_cjk(sub) or any(taken[i:i + n]):
        return None
    diffs = [k for k in range(n) if sub[k] != term[k]]
    shared = n - len(diffs)
    if not all(_same_sound(sub[k], term[k]) for k in diffs):
        return None
    if term in res.places and _place_context(text, i, i + n):
        # "住在无疆…" (吴江), "住在常数" (常熟): where a place certainly stands, a sound-alike is
        # the misheard name, even made of real words or of grammar characters
        return shared
    if shared < max(1, n // 2):
        return None
    if any(sub[k] in _FUNCTION_CHARS for k in diffs) or (n == 2 and any(ch in _FUNCTION_CHARS for ch in sub)):
        return None
    core = res.cores.get(term)
    if core and len(core) == n - 1 and not any(k in core for k in diffs):
        return None  # only a one-character affix differs: 服务全(覆盖) is not 服务券, 低保护 not 低保户
    if n == 2 and not _name_context(text, i, i + 2):
        return None  # "这条路直走" is not 甪直
    words = res.words
    if sub in words or _crosses(text, i, words) or _crosses(text, i + n, words) \
            or _inner_word_on(text, i, i + n, [i + k for k in diffs], words):
        return None
    return shared


def _place_sound_alikes(text: str, res: _Resources, taken: bytearray) -> dict:
    """Right after 住/在/到…, a name that sounds exactly like a district name but shares no
    character with it ("住在无疆" -> 吴江, "在长属" -> 常熟): found by sound, not by characters."""
    out = {}
    for i in range(1, len(text)):
        if text[i - 1] not in _PLACE_BEFORE:
            continue
        for n in (3, 2):
            sub = text[i:i + n]
            if len(sub) < n or not _is_cjk(sub) or any(taken[i:i + n]) or sub in res.places:
                continue
            terms = {t for key in itertools.product(*(sorted(_readings(ch)) for ch in sub))
                     for t in res.place_sounds.get(key, ())}
            if len(terms) == 1:
                out[(i, i + n)] = terms.pop()
                break
        else:
            name = _gazetteer_sound_alike(text, i, res, taken)
            if name:
                out[(i, i + len(name))] = name
    return out


def _gazetteer_sound_alike(text: str, i: int, res: _Resources, taken: bytearray) -> str | None:
    """Right after 住/在/到…, a word that is no real word and no place but sounds like exactly one
    Suzhou place name of the whole gazetteer, or is one character away from a town's or
    landmark's name: "住在木读" -> 木渎, "住在黄代" -> 黄埭, "住在用直" -> 甪直."""
    for n in (4, 3, 2):
        sub = text[i:i + n]
        if len(sub) < n or not _is_cjk(sub) or any(taken[i:i + n]) or sub in res.words \
                or any(ch in _FUNCTION_CHARS or ch in _QUESTION_CHARS for ch in sub) or gazetteer.districts_of(sub) \
                or _crosses(text, i, res.words) \
                or (_crosses(text, i + n, res.words) and not _PLACE_SUFFIX.match(text, i + n)) \
                or not _PLACE_END.match(text, i + n):  # not "住院透析", "在哪看"; "用直镇上" is a place
            continue
        hits = gazetteer.sound_alike(sub, typos=False)
        if not hits and _TYPO_END.match(text, i + n):  # a typo only where the name surely ends: "住在用直"
            hits = gazetteer.sound_alike(sub)
        if len(hits) == 1 and hits[0].name != sub:
            return hits[0].name
    return None


_QUESTION_CHARS = set("哪啥谁几怎么吗呢吧")
# After a misheard name: the clause ends, or a place word follows ("住在黄代那边", "木读镇上").
_PLACE_END = re.compile(r"$|[\s" + re.escape(_BREAKS) + r"]|那|这|一带|附近|周边|旁边|边|的|人|镇|街道|乡|村|社区|小区|上|里|住")
_PLACE_SUFFIX = re.compile(r"镇|街道|乡|村|社区|小区")
_TYPO_END = re.compile(r"$|[\s" + re.escape(_BREAKS) + r"]|镇|街道|乡|村|社区|那边|那里|这边|一带|附近|周边")


def homophones(text: str) -> list[Edit]:
    """Same-length pinyin matches of gazetteer terms: 湘城区 -> 相城区, 长户险 -> 长护险."""
    res = _resources()
    if not res.fuzzy_index or not re.search(r"[\u4e00-\u9fff]", text):
        return []
    taken = _occupied(text, res.vocab_re, res.protected_re)  # exact terms are right as they are
    for place in gazetteer.find_places(text, context=False):  # so are real place names (陆渡, 后塍)
        taken[place.start:place.end] = b"\x01" * (place.end - place.start)
    found: dict[tuple[int, int], list[tuple[int, str]]] = {}
    seen = set()
    for j, ch in enumerate(text):
        for term, pos in res.fuzzy_index.get(ch, ()):
            i = j - pos
            if i < 0 or i + len(term) > len(text) or (i, term) in seen:
                continue
            seen.add((i, term))
            shared = _candidate(text, i, term, res, taken)
            if shared is not None:
                found.setdefault((i, i + len(term)), []).append((shared, term))
    for (i, j), term in _place_sound_alikes(text, res, taken).items():
        found.setdefault((i, j), []).append((0, term))
    edits: list[Edit] = []
    # Longest first, then most shared characters, then leftmost; one term per range.
    ranked = sorted(found.items(), key=lambda kv: (-(kv[0][1] - kv[0][0]), -max(s for s, _ in kv[1]), kv[0][0]))
    used = bytearray(len(text))
    for (i, j), options in ranked:
        best = max(s for s, _ in options)
        terms = sorted({t for s, t in options if s == best})
        if len(terms) != 1 or any(used[i:j]):
            continue  # ambiguous: two terms sound the same
        used[i:j] = b"\x01" * (j - i)
        edits.append((i, j, terms[0]))
    return sorted(edits)


# --- step 7: whitespace -------------------------------------------------------------------

_SPACED = re.compile(r"(?<![^\s，。,.!?！？；;、：:])[\u4e00-\u9fff](?:[ \t]+[\u4e00-\u9fff](?![^\s，。,.!?！？；;、：:]))+")
_NUMERAL_CHARS = set("零〇○一二两三四五六七八九十百")


def _spaced_out(text: str) -> list[Edit]:
    """今 年 八 十 三 -> 今年八十三: single characters typed with a space after each."""
    edits = []
    for m in _SPACED.finditer(text):
        chars = [ch for ch in m.group() if not ch.isspace()]
        if len(chars) >= 3 or all(ch in _NUMERAL_CHARS for ch in chars):
            edits.extend((m.start() + g.start(), m.start() + g.end(), "") for g in re.finditer(r"[ \t]+", m.group()))
    return edits


def whitespace(text: str) -> list[Edit]:
    edits = _spaced_out(text) + [(m.start() + 1, m.end(), "") for m in re.finditer(r"[ \t]{2,}", text)]
    lead = len(text) - len(text.lstrip())
    if lead:
        edits = [(0, lead, "")] + [e for e in edits if e[0] >= lead]
    trail = len(text.rstrip())
    if trail < len(text) and trail >= lead:
        edits = [e for e in edits if e[1] <= trail] + [(trail, len(text), "")]
    return edits


# --- the pipeline -------------------------------------------------------------------------

# (rule name, step function, protected words guard the text from it)
RULES: tuple[tuple[str, Callable[[str], list], bool], ...] = (
    ("t2s", t2s, False),
    ("fullwidth", fullwidth, False),
    ("filler", fillers, True),
    ("stutter", stutter_chars, False),
    ("stutter", stutter_words, False),
    ("numeral", numerals, True),
    ("asr_correction", asr_corrections, True),
    ("homophone", homophones, True),
    ("whitespace", whitespace, False),
)


def _apply_edits(text: str, edits: list[Edit], spans: list | None = None):
    """Apply non-overlapping edits (sorted); returns (text, spans, applied edits)."""
    out, new_spans, applied, pos = [], [] if spans is not None else None, [], 0
    for s, e, new in sorted(edits, key=lambda x: (x[0], x[1])):
        if s < pos or s > e:
            continue  # overlaps an earlier edit
        out.append(text[pos:s])
        if spans is not None:
            new_spans.extend(spans[pos:s])
            if new:
                if len(new) == e - s:
                    new_spans.extend(spans[s:e])
                else:
                    a = spans[s][0] if s < len(spans) else (spans[-1][1] if spans else 0)
                    b = spans[e - 1][1] if e > s else a
                    new_spans.extend([(a, b)] * len(new))
        out.append(new)
        applied.append((s, e, new))
        pos = e
    out.append(text[pos:])
    if spans is not None:
        new_spans.extend(spans[pos:])
    return "".join(out), new_spans, applied


def _unprotected(text: str, edits: list[Edit]) -> list[Edit]:
    res = _resources()
    if not res.protected or not edits:
        return edits
    taken = _occupied(text, res.protected_re)
    return [(s, e, new) for s, e, new in edits if not any(taken[s:e])]


def _pass(text: str, spans: list, changes: list) -> tuple[str, list]:
    for name, rule, guarded in RULES:
        edits = rule(text)
        if guarded:
            edits = _unprotected(text, edits)
        if not edits:
            continue
        before = text
        text, spans, applied = _apply_edits(text, edits, spans)
        changes.extend((name, before[s:e], new) for s, e, new in applied)
    return text, spans


def normalize_verbose(text: str) -> Normalization:
    """Normalise `text` and report each change as (rule, before, after)."""
    if not isinstance(text, str):
        return Normalization("", [], "", [])
    original = text
    spans = [(i, i + 1) for i in range(len(text))]
    changes: list[tuple[str, str, str]] = []
    try:
        for _ in range(MAX_PASSES):
            new, spans = _pass(text, spans, changes)
            if new == text:
                break
            text = new
    except Exception:  # never let odd input break a conversation
        logger.exception("normalizer failed; using the text as it is")  # logs no user text
        return Normalization(original, [], original, [(i, i + 1) for i in range(len(original))])
    return Normalization(text, changes, original, spans)


def normalize(text: str) -> str:
    """The normalised text. Idempotent, never raises, "" -> ""."""
    if not isinstance(text, str) or not text:
        return ""
    return normalize_verbose(text).text


# --- glue for the fact extractor ------------------------------------------------------------

def _remap_span(span, norm: Normalization):
    s, e = norm.to_original(span.start, span.end)
    text = getattr(span, "text", None)
    if isinstance(text, str) and len(text) == span.end - span.start:
        chars = list(norm.original[s:e])
        for k, i in enumerate(range(span.start, span.end)):  # keep the extractor's masking (ID digits)
            if text[k] == "*" and norm.text[i] != "*":
                a, b = norm.spans[i]
                for p in range(a, b):
                    if s <= p < e:
                        chars[p - s] = "*"
        text = "".join(chars)
    return dataclasses.replace(span, start=s, end=e, text=text)


def normalized_input(extract_fn):
    """Decorator for facts_extractor.extract: it reads the normalised text, and the spans it
    returns still index the caller's text (the extractor's contract)."""

    @functools.wraps(extract_fn)
    def wrapper(text, today=None, requested=None, readings=False):
        if not isinstance(text, str) or not text.strip():
            return extract_fn(text, today, requested, readings)
        norm = normalize_verbose(text)
        result = extract_fn(norm.text, today, requested, readings)
        if norm.text == text:
            return result
        try:
            result.spans = [_remap_span(span, norm) for span in result.spans]
        except Exception:  # pragma: no cover - fall back to the raw text
            logger.exception("normalizer: span remapping failed")
            return extract_fn(text, today, requested, readings)
        return result

    return wrapper
