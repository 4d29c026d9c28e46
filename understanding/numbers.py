"""Chinese/Arabic number helpers for the fact extractor.

Kept free of Rasa so they can be unit-tested and reused (CLI, actions).
Everything here is deterministic and never raises on odd input: parsers
return None when they cannot read a number.
"""
from __future__ import annotations

import datetime as _dt
import re

# Full-width digits/letters are common in phone input methods. Mapping them
# one-to-one keeps character offsets valid for spans.
_FULLWIDTH = {chr(0xFF10 + i): str(i) for i in range(10)}
_FULLWIDTH.update({chr(0xFF21 + i): chr(0x41 + i) for i in range(26)})
_FULLWIDTH.update({chr(0xFF41 + i): chr(0x61 + i) for i in range(26)})
_FULLWIDTH.update({"\u3000": " ", "／": "/", "－": "-", "．": "."})
_FULLWIDTH_TABLE = str.maketrans(_FULLWIDTH)

CN_DIGITS = {"零": 0, "〇": 0, "○": 0, "Ｏ": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2,
             "三": 3, "叁": 3, "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6,
             "七": 7, "柒": 7, "八": 8, "捌": 8, "九": 9, "玖": 9}
CN_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}

_CN_CHARS = "".join(CN_DIGITS) + "".join(CN_UNITS) + "廿"
# A number token: Arabic digits, or Chinese numerals with an optional classical
# "有" ("九十有三" = 93). "有" only counts after a tens word, so "十有八九" is not 18.
NUMBER_PATTERN = (
    r"(?:\d+(?:\.\d+)?"
    r"|[二三四五六七八九]十有[一二三四五六七八九]"
    r"|[" + _CN_CHARS + r"]+)"
)
NUMBER_RE = re.compile(NUMBER_PATTERN)


def to_halfwidth(text: str) -> str:
    """Full-width digits/letters -> ASCII. Same length, so offsets stay valid."""
    return text.translate(_FULLWIDTH_TABLE)


def _parse_cn(s: str) -> int | None:
    if "有" in s:  # 九十有三: tens + units joined by 有
        head, _, tail = s.partition("有")
        a, b = _parse_cn(head), _parse_cn(tail)
        if a is None or b is None or a < 20 or a % 10 or b >= 10:
            return None
        return a + b
    s = s.replace("廿", "二十")
    if not any(ch in CN_UNITS for ch in s):
        # Digit by digit (一九五〇, 八五): every char must be a digit.
        if all(ch in CN_DIGITS for ch in s):
            return int("".join(str(CN_DIGITS[ch]) for ch in s))
        return None
    total, current, last_unit = 0, None, 10_000
    for i, ch in enumerate(s):
        if ch in CN_DIGITS:
            if current is not None and CN_DIGITS[ch] != 0:
                return None  # two digits in a row inside a positional number: 八十五六
            current = CN_DIGITS[ch] if CN_DIGITS[ch] != 0 else None
            if CN_DIGITS[ch] == 0:
                last_unit = min(last_unit, 10)  # 一百零二: 零 only pads
        elif ch in CN_UNITS:
            unit = CN_UNITS[ch]
            if unit >= last_unit:
                return None  # units must descend: 十百 is not a number
            if current is None:
                # A bare 十 at the start means 10 (十五 = 15); a bare 百/千 is a word
                # (百岁老人, 千万), not a number we should read.
                if unit != 10 or i != 0:
                    return None
                current = 1
            total += current * unit
            current, last_unit = None, unit
        else:
            return None
    if current is not None:
        # 一百五 = 150 (colloquial: trailing digit takes the next lower unit).
        if last_unit >= 100 and s[-2] in CN_UNITS:
            current *= last_unit // 10
        total += current
    return total


def parse_int(text: str) -> int | None:
    """Read an integer written in Arabic or Chinese numerals; None if unsure."""
    s = to_halfwidth((text or "").strip())
    if not s:
        return None
    if s.isdigit():
        return int(s)
    if re.fullmatch(r"\d+\.\d+", s):
        return None  # a decimal is never a count/age/grade here
    try:
        return _parse_cn(s)
    except (KeyError, IndexError, ValueError):
        return None


def parse_year(text: str, today: _dt.date) -> int | None:
    """A birth year: 1950, 一九五〇, or two digits (50, 五零, 四一) read as 19xx.

    Two-digit years are the elder's own shorthand; 19xx is right for anyone
    over ~25, and this extractor is about elders. If 19xx is more than 125
    years ago, 20xx is taken instead (e.g. "05年" for a child is 2005).
    """
    s = to_halfwidth((text or "").strip())
    if re.fullmatch(r"\d{4}", s):
        return int(s)
    if re.fullmatch(r"\d{2}", s):
        yy = int(s)
    elif s and all(ch in CN_DIGITS for ch in s) and len(s) in (2, 4):
        digits = "".join(str(CN_DIGITS[ch]) for ch in s)
        if len(digits) == 4:
            return int(digits)
        yy = int(digits)
    else:
        return None
    year = 1900 + yy
    if today.year - year > 125 and 2000 + yy <= today.year:
        year = 2000 + yy
    return year


def full_years(birth: _dt.date, today: _dt.date) -> int:
    """Completed years of age on `today` (birthday-aware)."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


# --- Resident ID numbers (GB 11643-1999) -------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECK[total % 11]


def id_birth_date(id_number: str) -> _dt.date | None:
    """Birth date of a valid 18-character ID number, else None.

    Valid means: 17 digits + digit/X, correct check character, and a real
    calendar date in positions 7-14.
    """
    s = to_halfwidth(id_number or "").upper()
    if not re.fullmatch(r"\d{17}[\dX]", s) or id_check_char(s[:17]) != s[17]:
        return None
    try:
        return _dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return None


def mask_id(id_number: str) -> str:
    """3205**********1234: enough to recognise it, never the full number."""
    s = id_number or ""
    if len(s) <= 8:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 8) + s[-4:]


# A short spoken number a recogniser wrote as other words with the same sound: 其实医 (qi shi yi)
# is 七十一, 巴士 (ba shi) 八十. Tone-less pinyin, not relaxed: 十 (shi) must not become 四 (si).
_NUMERAL_SOUNDS = {"ling": "零", "yi": "一", "er": "二", "liang": "两", "san": "三", "si": "四", "wu": "五",
                   "liu": "六", "qi": "七", "ba": "八", "jiu": "九", "shi": "十", "bai": "百"}


def _numeral_of(ch: str) -> str | None:
    from pypinyin import Style, pinyin
    if ch in "零〇一二两三四五六七八九十百":
        return ch
    readings = {p for group in pinyin(ch, style=Style.NORMAL, heteronym=True, errors="ignore") for p in group}
    found = {_NUMERAL_SOUNDS[r] for r in readings if r in _NUMERAL_SOUNDS}
    return found.pop() if len(found) == 1 else None


def sounded_number(text: str) -> int | None:
    """The number a short reply sounds like ("其实医疗" -> 71), or None. All characters but at
    most one at the end (a misheard 了/岁) must sound like numerals, and at least two must."""
    core = re.sub(r"[\s，。,.!！?？]+", "", text or "")
    if not 2 <= len(core) <= 6 or not all("\u4e00" <= ch <= "\u9fff" for ch in core):
        return None
    numerals = []
    for ch in core:
        n = _numeral_of(ch)
        if n is None:
            break
        numerals.append(n)
    rest = len(core) - len(numerals)
    if len(numerals) < 2 or rest > 1:
        return None
    return _parse_cn("".join(numerals))
