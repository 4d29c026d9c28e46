"""Read the booking answers elders and relatives type or dictate.

Dates (今天, 下周三下午, 十二月五号, 12/5, 3天后 ...), time slots, phone numbers,
booking references, service types and how to address the elder (王阿姨). Pure functions, no Rasa, never raise:
each parser returns None when it cannot read the answer. Input may be
voice-to-text without punctuation ("那个明天上午吧"), full-width, or spaced.
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass

from understanding.numbers import parse_int, to_halfwidth

MAX_DAYS_AHEAD = 180


@dataclass(frozen=True)
class DateAnswer:
    date: _dt.date | None
    slot: str | None     # "上午" | "下午" | "晚上" | None
    problem: str | None  # None | "past" | "too_far" | "invalid"


# ---------------------------------------------------------------- slots

# Longer/more specific phrases first: 中午前 is morning, 中午后 afternoon.
_SLOTS = (
    ("上午", r"中午(?:以|之)?前|上午|早上|早晨|清早|一早|上半天|午前|[今明]早"),
    ("下午", r"中午(?:以|之)?后|下午|午后|下半天"),
    ("晚上", r"晚上|夜里|夜间|夜晚|晚间|傍晚|[今明]晚"),
)


def parse_slot(text: str) -> str | None:
    s = _compact(text)
    hits = [(m.start(), slot) for slot, pat in _SLOTS for m in [re.search(pat, s)] if m]
    return min(hits)[1] if hits else None  # the first slot mentioned wins


# ---------------------------------------------------------------- dates

_CN_NUM = r"[一二三四五六七八九十廿]{1,3}"
_NUM = rf"(?:\d{{1,2}}|{_CN_NUM})"
# Not a day when the 号 names a building, bed, line, window ...
_NOT_DAY_AFTER = r"(?!楼|床|房|门|线|院|窗|室|码|机|位|柜|桌|车|台|栋|幢|单元|球|病区)"
_YEAR = r"(?:(\d{4}|\d{2}|[零〇○一二三四五六七八九]{2,4})年|([今明去前])年)"

_FULL_ISO = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
# [year] month day: 2026年12月5日, 十二月五号, 明年3月5号, 12月5 (号 optional).
_MONTH_DAY = re.compile(rf"{_YEAR}?(?<![\d一二三四五六七八九十])({_NUM})月份?"
                        rf"({_NUM})(?:[日号]{_NOT_DAY_AFTER}|(?![\d月个天号日]))")
_SLASH_DAY = re.compile(r"(?<![\d./])(\d{1,2})[./](\d{1,2})(?![\d./%])"
                        r"(?!元|块|斤|公斤|米|岁|万|度|分|倍|小时|个|克|毫|折)")
_REL_MONTH_DAY = re.compile(rf"(下下|下|这|本|上)个?月({_NUM})[日号]?{_NOT_DAY_AFTER}")
_WEEKDAY = re.compile(r"(下下|下|这|本|上)?个?(?:周|星期|礼拜)([一二三四五六日天])(?!气)")
_REL_DAY = re.compile(r"大大后天|大后天|(?<![以之然午最])后天|明天|明日|明儿|明早|明晚|今天|今日|今儿|今早|今晚"
                      r"|大前天|前天|昨天|昨日|昨晚")
_IN_N = re.compile(rf"(?:(\d{{1,3}}|{_CN_NUM}|两)个?(天|日|周|星期|礼拜)(?:以后|之后|后)"
                   rf"|过(\d{{1,3}}|{_CN_NUM})天)")
_DAY_ONLY = re.compile(rf"(?<![\d一二三四五六七八九十廿零〇两])({_NUM})"
                       rf"(?:号|日(?![一二三四五六七八九十两游])){_NOT_DAY_AFTER}")  # not 一日三餐

_REL_OFFSETS = {"大大后天": 4, "大后天": 3, "后天": 2, "明天": 1, "明日": 1, "明儿": 1,
                "明早": 1, "明晚": 1, "今天": 0, "今日": 0, "今儿": 0, "今早": 0, "今晚": 0,
                "大前天": -3, "前天": -2, "昨天": -1, "昨日": -1, "昨晚": -1}
_WEEKDAYS = "一二三四五六日"
_WEEK_SHIFT = {None: None, "这": 0, "本": 0, "下": 1, "下下": 2, "上": -1}
_MONTH_SHIFT = {"这": 0, "本": 0, "下": 1, "下下": 2, "上": -1}
_YEAR_SHIFT = {"今": 0, "明": 1, "去": -1, "前": -2}


def _compact(text: str) -> str:
    """Half-width, lower case, no whitespace: "12 月 5 号" == "12月5号"."""
    return re.sub(r"\s+", "", to_halfwidth(text or "")).lower()


def _make(year: int, month: int | None, day: int | None) -> _dt.date | None:
    try:
        return _dt.date(year, month, day)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _shift_month(today: _dt.date, months: int) -> tuple[int, int]:
    idx = today.year * 12 + today.month - 1 + months
    return idx // 12, idx % 12 + 1


def _find_date(s: str, today: _dt.date) -> tuple[_dt.date | None, bool] | None:
    """(date, ok) for the first date form found by priority; ok=False = impossible date."""
    if m := _FULL_ISO.search(s):
        d = _make(int(m[1]), int(m[2]), int(m[3]))
        return d, d is not None

    if m := _MONTH_DAY.search(s):
        month, day = parse_int(m[3]), parse_int(m[4])
        if m[1]:  # explicit year: 2026年, 二〇二六年, 26年 (19xx if that would be the future)
            year = parse_int(m[1]) or 0
            if year < 100:
                year += 2000 if 2000 + year <= today.year + 1 else 1900
        elif m[2]:
            year = today.year + _YEAR_SHIFT[m[2]]
        else:  # no year: an earlier month means next year
            year = today.year + (1 if month is not None and month < today.month else 0)
        d = _make(year, month, day)
        return d, d is not None

    if m := _SLASH_DAY.search(s):
        month, day = int(m[1]), int(m[2])
        if 1 <= month <= 12 and 1 <= day <= 31:  # otherwise a ratio/score, not a date
            year = today.year + (1 if month < today.month else 0)
            d = _make(year, month, day)
            return d, d is not None

    if m := _REL_MONTH_DAY.search(s):
        year, month = _shift_month(today, _MONTH_SHIFT[m[1]])
        d = _make(year, month, parse_int(m[2]))
        return d, d is not None

    if m := _WEEKDAY.search(s):
        wd = _WEEKDAYS.index("日" if m[2] == "天" else m[2])
        shift = _WEEK_SHIFT[m[1]]
        if shift is None:  # bare 周三: the next Wednesday after today
            return today + _dt.timedelta(days=(wd - today.weekday() - 1) % 7 + 1), True
        monday = today - _dt.timedelta(days=today.weekday())  # weeks start on Monday
        return monday + _dt.timedelta(days=7 * shift + wd), True

    if m := _REL_DAY.search(s):
        return today + _dt.timedelta(days=_REL_OFFSETS[m[0]]), True

    if m := _IN_N.search(s):
        n = parse_int(m[1] or m[3])
        if n is not None:
            unit = 1 if (m[2] or "天") in ("天", "日") else 7
            return today + _dt.timedelta(days=n * unit), True

    if m := _DAY_ONLY.search(s):
        day = parse_int(m[1])
        if day is None or not 1 <= day <= 31:
            return None  # 85号 is a house number, not a day
        months = 0 if day >= today.day else 1  # 5号 when the 5th has passed: next month
        year, month = _shift_month(today, months)
        d = _make(year, month, day)
        return d, d is not None
    return None


def parse_date(text: str, today: _dt.date) -> DateAnswer | None:
    """A booking date and/or slot; None when the text names neither."""
    s = _compact(text)
    slot = parse_slot(s)
    found = _find_date(s, today)
    if found is None:
        return DateAnswer(None, slot, None) if slot else None
    date, ok = found
    if not ok:
        return DateAnswer(None, slot, "invalid")
    problem = None
    if date < today:
        problem = "past"
    elif (date - today).days > MAX_DAYS_AHEAD:
        problem = "too_far"
    return DateAnswer(date, slot, problem)


# ---------------------------------------------------------------- phones

_PUNCT_TABLE = str.maketrans({"（": "(", "）": ")", "＋": "+", "—": "-", "–": "-", "‐": "-"})
_CN_DIGIT_TABLE = str.maketrans({"零": "0", "〇": "0", "○": "0", "幺": "1", "一": "1", "二": "2",
                                 "两": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7",
                                 "八": "8", "九": "9"})
_CN_DIGIT_RUN = re.compile(r"[零〇○幺一二两三四五六七八九](?:[\s-]*[零〇○幺一二两三四五六七八九]){6,}")
_PHONE_RUN = re.compile(r"(\+|00)?\(?\d(?:[\d\-() ]*\d)?")
_MOBILE = re.compile(r"1[3-9]\d{9}")


def _phone_digits(text: str) -> str:
    """The longest digit run (separators dropped), minus a +86/0086/86 prefix."""
    s = to_halfwidth(text or "")
    # Dictated numbers: only long runs of Chinese digits, so 三天 stays a word.
    s = _CN_DIGIT_RUN.sub(lambda m: m[0].translate(_CN_DIGIT_TABLE), s).translate(_PUNCT_TABLE)
    best, intl = "", False
    for m in _PHONE_RUN.finditer(s):
        digits = re.sub(r"\D", "", m[0])
        if len(digits) > len(best):
            best, intl = digits, m[0].startswith(("+", "00"))
    if intl and best.startswith("0086"):
        best = best[2:]
    if best.startswith("86") and len(best) > 11:
        rest = best[2:]
        if _MOBILE.fullmatch(rest):
            best = rest
        elif intl:  # +86 512 6523 1234: the domestic trunk 0 is dropped abroad
            best = rest if rest.startswith("0") else "0" + rest
    return best


def _format_phone(d: str) -> str | None:
    if _MOBILE.fullmatch(d):
        return d
    if d.startswith("0") and len(d) > 1 and d[1] != "0":
        code = 3 if d[1] in "12" else 4  # 010 and 02x are 3-digit area codes
        local = d[code:]
        if 7 <= len(local) <= 8:
            return f"{d[:code]}-{local}"
        return None
    if len(d) == 8 and d[0] not in "01":
        return f"0512-{d}"  # no area code: a Suzhou local number
    return None


def parse_phone(text: str) -> str | None:
    d = _phone_digits(text)
    return _format_phone(d) if d else None


def phone_problem(text: str) -> str | None:
    """"too_short" / "too_long" / "not_mobile" for a wrong number; None if valid or no digits."""
    d = _phone_digits(text)
    if not d or _format_phone(d):
        return None
    if len(d) == 11:
        return "not_mobile"
    if d[0] == "0":  # judge the local part after the 3/4-digit area code
        n, lo, hi = len(d) - (3 if d[1:2] in ("1", "2") else 4), 7, 8
    else:
        n, lo, hi = len(d), *((11, 11) if d[0] == "1" else (8, 8))
    if n < lo:
        return "too_short"
    if n > hi:
        return "too_long"
    return "not_mobile"  # right length but no valid number (e.g. a 00 prefix)


# ---------------------------------------------------------------- references

_REF_PREFIX = r"(?<![A-Z])(JY|LH|PG|GW)"
_REF_SEP = r"[\s\-_—–‐杠·.#:：]*"
_REF_STRICT = re.compile(rf"{_REF_PREFIX}{_REF_SEP}(\d{{8}}){_REF_SEP}(\d{{1,4}})(?!\d)")
_REF_LOOSE = re.compile(rf"{_REF_PREFIX}{_REF_SEP}(\d[\d\s\-_—–‐杠]*\d)")


def parse_reference(text: str) -> str | None:
    """JY-20261129-0042 in any spacing/width/case; the date part must be a real date."""
    s = to_halfwidth(text or "").upper()
    m = _REF_STRICT.search(s)
    if m:
        prefix, day, tail = m[1], m[2], m[3]
    else:  # digits grouped differently: "JY 2026 1129 0042", "JY-2026-11-29-42"
        m = _REF_LOOSE.search(s)
        raw = m[2] if m else ""
        digits = re.sub(r"\D", "", raw)
        cut = [i for i, ch in enumerate(raw) if ch.isdigit()][7] + 1 if len(digits) >= 8 else 0
        # The date must end at a separator, so JY-2026112-42 is not re-split.
        if not 9 <= len(digits) <= 12 or raw[cut].isdigit():
            return None
        prefix, day, tail = m[1], digits[:8], digits[8:]
    if not (2000 <= int(day[:4]) <= 2099 and _make(int(day[:4]), int(day[4:6]), int(day[6:]))):
        return None
    if int(tail) == 0:
        return None  # sequence numbers start at 1
    return f"{prefix}-{day}-{int(tail):04d}"


# ---------------------------------------------------------------- service types

# Checked in order: specific phrases before broad ones (晚上陪护 before 护理,
# 护理评估 is an assessment).
_SERVICES = (
    ("夜间照护", ("夜间照护", "夜间陪护", "夜间看护", "夜间护理", "晚上陪护", "晚上照护", "晚上照顾",
              "夜里陪护", "夜里照顾", "陪夜", "守夜")),
    ("上门评估", ("上门评估", "评估")),
    ("助医", ("助医", "陪看病", "陪同就医", "陪诊", "配药", "拿药", "取药", "开药", "看病", "就医",
            "陪去医院")),
    ("助浴", ("助浴", "洗澡", "洗浴", "擦身")),
    ("助餐", ("助餐", "送饭", "送餐", "吃饭", "做饭", "老年食堂", "午饭")),
    ("助洁", ("助洁", "打扫", "保洁", "搞卫生", "做卫生", "清洁")),
    ("康复护理", ("康复护理", "康复", "按摩", "推拿", "理疗", "护理")),
)
_NEGATION = re.compile(r"(?:不|别|没|无)[要用需是]?要?$")


def parse_service_type(text: str) -> str | None:
    s = _compact(text)
    for name, words in _SERVICES:
        for w in words:
            for m in re.finditer(re.escape(w), s):
                if not _NEGATION.search(s[max(0, m.start() - 3):m.start()]):  # 不要送饭
                    return name
    return None


# ---------------------------------------------------------------- form of address

# A home visit needs a way to greet the elder (王阿姨, 李老先生, 老王), never a full name.
_HONORIFICS = ("老先生", "老太太", "老爷子", "阿姨", "奶奶", "爷爷", "老太", "先生", "女士", "伯伯", "伯母",
               "叔叔", "婶婶", "阿婆", "阿公", "婆婆", "公公", "外婆", "外公", "姥姥", "姥爷", "大爷", "大妈",
               "大娘", "老伯", "老师", "师傅", "阿爹", "阿娘", "姨", "伯", "叔", "奶", "爷")
_ADDRESS_LEAD = re.compile(r"^(?:(?:就|可以|你们?|您|麻烦)?(?:叫|喊|称呼|称)(?:她|他|老人家?|我)?(?:为|做|作)?|(?:她|他|我)是)")
_ADDRESS = re.compile(r"[\u4e00-\u9fff]{1,4}")


def parse_addressed_as(text: str) -> tuple[str | None, bool]:
    """(form of address, looked like a full name instead). "叫她王阿姨吧" -> ("王阿姨", False);
    "王秀英" -> (None, True): only a form of address is kept."""
    s = _ADDRESS_LEAD.sub("", _compact(text).rstrip("吧呀啊哦嘛就行。.!！"))
    if not _ADDRESS.fullmatch(s or ""):
        return None, False
    if s.endswith(_HONORIFICS) and len(s) >= 2 or re.fullmatch(r"老[\u4e00-\u9fff]|[\u4e00-\u9fff]老", s):
        return s, False
    return None, len(s) in (2, 3)


# ---------------------------------------------------------------- the elder's name

# Common family names (the 100 most frequent and the compound ones): a name is told apart from
# any other 2–4 characters ("都行", "不知道") by its first character(s).
_SURNAMES = set("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
                "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
                "向汤殷缪费倪蒯浦华包季施翁屠尤盛陶鲍柏俞戚邢钮祝凌糜")
_COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "夏侯", "令狐")
_NAME_LEAD = re.compile(r"^(?:(?:老人家?|她|他|我|我妈|我爸|我母亲|我父亲|老人的?)?(?:的名字|名字)?(?:叫做|叫|是))")
_NAME_INSIDE = re.compile(r"(?:名字|姓名)(?:叫做|叫|是)?[:：]?([\u4e00-\u9fff]{2,4})|(?:她|他|我妈|我爸|老人家?|我|母亲|父亲)叫([\u4e00-\u9fff]{2,4})")


def looks_like_name(s: str) -> bool:
    if s.startswith(_COMPOUND_SURNAMES):
        return 3 <= len(s) <= 4
    return 2 <= len(s) <= 3 and s[0] in _SURNAMES and not s.endswith(_HONORIFICS) \
        and not re.search(r"[的了吧吗呢啊呀么都不没是在有]", s[1:])


def parse_name(text: str) -> tuple[str | None, str | None]:
    """(form of address, the elder's full name): "叫她王阿姨吧" -> ("王阿姨", None); "王秀英" ->
    (None, "王秀英"); "她叫王秀英，叫王阿姨就行" -> ("王阿姨", "王秀英"). A home visit needs only the
    first; a care-home application needs the name."""
    s = _compact(text)
    name = None
    inside = _NAME_INSIDE.search(s)
    if inside:
        candidate = (inside[1] or inside[2]).rstrip("吧呀啊哦嘛")
        candidate = re.split(r"[叫喊称,，。]", candidate)[0]
        if looks_like_name(candidate):
            name = candidate
    address = None
    for part in re.split(r"[,，。;；、]|就行|就可以", s):
        if not part:
            continue
        value, full = parse_addressed_as(part)
        if value and not (name and value == name):
            address = address or value
        elif name is None:
            bare = _NAME_LEAD.sub("", part.rstrip("吧呀啊哦嘛就行。.!！"))
            if looks_like_name(bare):
                name = bare
    return address, name


# ---------------------------------------------------------------- "any time will do"

_ANY_TIME = re.compile(r"都行|都可以|都好|随便|随意|无所谓|哪天都|什么时候都|啥时候都|几点都|看你们|你们定|你们安排|"
                       r"听你们的|越快越好|越早越好|尽快|尽早|最早|早点|快点|马上|不限|没要求|没有要求|都方便")


def any_time(text: str) -> bool:
    """"都行", "随便", "越快越好": any slot will do, and the earliest date."""
    return bool(_ANY_TIME.search(_compact(text)))


# ---------------------------------------------------------------- a whole request in one message

_ADDRESS_START = re.compile(r"(?:地址(?:是|在)?|住址(?:是|在)?|家住|住在|家在|上门到)[:：]?")
# where an address dictated without punctuation ends: the next thing said
_ADDRESS_STOP = re.compile(r"[,，。;；!！?？]|电话|手机|联系|号码|打我|[今明后]天|下周|星期|礼拜|上午|下午|晚上|"
                           r"她叫|他叫|老人叫|名字|姓名|我是|谢谢")
_ADDRESS_TAIL = re.compile(r"(?:\d+|[一二三四五六七八九十百零]+)(?:号|栋|幢|室|楼|单元|弄|组|巷)|村|小区|苑|花园|新村|大厦|公寓|路|街|巷|弄")


def find_address(text: str) -> str | None:
    """The address in a dictated request ("…地址是园区星海街200号12栋302电话139…"): from its lead
    word to the next thing said; None unless it looks like an address."""
    s = to_halfwidth(text or "")
    m = _ADDRESS_START.search(s)
    if not m:
        return None
    rest = s[m.end():]
    stop = _ADDRESS_STOP.search(rest)
    address = rest[:stop.start()] if stop else rest
    # a phone number run straight after the house number: "302 13912345678"
    address = re.split(r"\s*1[3-9]\d{9}|\s*0\d{2,3}-?\d{7,8}", address)[0].strip(" :：")
    if len(address) >= 4 and _ADDRESS_TAIL.search(address):
        return address[:200]
    return None


# ---------------------------------------------------------------- a request said in words

_WISH = r"(?:约|预约|安排|叫个?人|请个?人|帮我?(?:妈|爸|老人|外婆|奶奶|爷爷|外公)?(?:约|申请|办|排))"
_REQUESTS = (
    ("apply_waitlist", re.compile(r"申请.{0,8}(?:养老院|敬老院|福利院|轮候|排队)|(?:排队|排号|轮候).{0,4}(?:养老院|敬老院)|"
                                  r"(?:进|住)(?:公办)?养老院.{0,4}(?:申请|排队)")),
    ("request_assessment", re.compile(r"(?:申请|约|预约|做|安排).{0,6}(?:能力)?评估|评估.{0,3}(?:申请|预约)")),
    ("book_advisor", re.compile(_WISH + r".{0,6}顾问")),
    ("book_service", re.compile(_WISH + r".{0,10}(?:助餐|助浴|助洁|助医|康复|护理|上门|送饭|送餐|洗澡|打扫|保洁|陪.{0,2}看病|"
                                         r"夜间照护|陪夜)")),
)


def request_kind(text: str) -> str | None:
    """The request a message asks for in so many words ("帮我妈约一下上门助洁明天上午…"), as the
    intent that starts it; None when it asks for none."""
    s = _compact(text)
    return next((intent for intent, pattern in _REQUESTS if pattern.search(s)), None)
