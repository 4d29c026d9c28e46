"""The spoken form of a reply: what a hotline operator reads aloud (and what a voice channel
would say). The same wording as the chat without what only a screen needs: no "回复…", no
bullets, no counts of cards the listener cannot see, numbers as they are read ("八十四岁").

Each wording file keeps a `spoken:` section beside its chat text, under the same keys
(actions/wording.yml, actions/booking_fields.yml; a profile question's spoken form and the
operator's note sit with the question in policy_kb/facts.yml). A key left out is said as
written; an empty one is not said. A chat line is traced back to its wording key by the key's
template, so the conversation code never deals with the spoken form.
"""
from __future__ import annotations

import re
import string
from functools import lru_cache

import cn2an

from .profile import FACTS
from .render import WORDING_FILE, wording
from .booking_support import FIELDS_FILE, spec

# placeholders whose values have a known shape; every other one is any text
SHAPES = {"n": r"\d+", "n_yes": r"\d+", "n_maybe": r"\d+", "shown": r"\d+", "position": r"\d+", "tier": r"\d+",
          "low": r"\d+", "high": r"\d+"}
SENTENCE = re.compile(r"[^。！？]*[。！？]?")
READ_BY_DIGIT = 5                  # a longer run of digits (phone, reference) is read digit by digit as written
MEASURE_TWO = "项位个种次天周岁"      # "2项" is said 两项


def _flat(data, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in (data or {}).items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, path + "."))
        elif isinstance(value, str):
            out[path] = value
    return out


def _pattern(template: str, whole: bool) -> re.Pattern | None:
    parts, seen = [], set()
    for literal, name, _spec, _conv in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if not name.isidentifier():
            return None
        if name in seen:
            parts.append(f"(?P={name})")
        elif name == "status":
            parts.append("(?P<status>" + "|".join(map(re.escape, wording()["status"].values())) + ")")
        elif name == "unverified":
            parts.append(f"(?P<unverified>(?:{re.escape(wording()['card_unverified'])})?)")
        else:
            parts.append(f"(?P<{name}>{SHAPES.get(name, '.+?')})")
        seen.add(name)
    if not any(literal.strip() for literal, *_ in string.Formatter().parse(template)):
        return None   # a line that is only a placeholder ("{lines}") would claim every line
    return re.compile("^" + "".join(parts) + ("$" if whole else ""))


class Form:
    """One wording key: its chat template as a pattern, and what is said instead."""

    def __init__(self, key: str, chat: str, spoken: str):
        self.key, self.chat, self.spoken = key, chat, spoken
        self.pattern = _pattern(chat, whole=True)

    def say(self, line: str, subject: str | None) -> str | None:
        found = self.pattern.match(line) if self.pattern else None
        if not found:
            return None
        if self.key.startswith("question."):   # said to whoever is on the line
            elder = found.groupdict().get("elder")
            elder = None if elder == "老人家" else elder
            said = spoken_question(self.key.split(".", 1)[1], "relative" if elder else subject)
            return said.replace("老人家", elder) if elder else said
        values = {"hotline": _hotline(), **{k: (v or "") for k, v in found.groupdict().items()}}
        return self.spoken.format_map(_Blank(values))


@lru_cache(maxsize=1)
def _hotline() -> str:
    """The deployment's hotline number, which a spoken form may name ({hotline})."""
    from storage.settings import Settings
    return Settings.from_env().hotline


class _Blank(dict):
    def __missing__(self, key):   # a spoken form may leave out what the chat said
        return ""


def _forms_of(path, chat_root: dict) -> list[Form]:
    chat = _flat({k: v for k, v in chat_root.items() if k != "spoken"})
    spoken = _flat(chat_root.get("spoken"))
    forms = []
    for key, said in spoken.items():
        if key not in chat:
            raise ValueError(f"{path}: spoken.{key} has no chat wording of the same key")
        # a template of several lines is matched line by line
        for i, (c, s) in enumerate(zip(chat[key].split("\n"), _lines_like(said, chat[key]))):
            forms.append(Form(f"{key}" if "\n" not in chat[key] else f"{key}.{i}", c, s))
    return forms


def _lines_like(said: str, chat: str) -> list[str]:
    lines = said.split("\n")
    wanted = chat.count("\n") + 1
    return lines + [""] * (wanted - len(lines)) if len(lines) < wanted else lines[:wanted - 1] + ["".join(lines[wanted - 1:])]


@lru_cache(maxsize=1)
def forms() -> list[Form]:
    """Every key with a spoken form, the most specific template first."""
    found = _forms_of(WORDING_FILE, wording())
    found += _forms_of(FIELDS_FILE, spec())
    w = wording()
    found += [Form("card", w["card"], "{name}，{status}{reason}"),
              Form("card", w["card_unknown"], "{name}，还要知道{missing}才能确定")]
    for f in FACTS.values():
        for text in f.question.values():
            found.append(Form(f"question.{f.name}", text, ""))
        if "老人家" in f.question.get("relative", ""):   # the elder by the family's word: 母亲, 您父亲
            found.append(Form(f"question.{f.name}", f.question["relative"].replace("老人家", "{elder}", 1), ""))
    return sorted(found, key=lambda f: -len(f.chat))


# --- numbers as they are read ----------------------------------------------------------------------
# a number with what it counts (岁, 项, 月…) is said in words; a bare one (a room, a phone) as written
NUMBER = re.compile(r"(?<![\w.*\-/])(\d+)(?:\.(\d+))?(?=\s?[%岁项位个种次天周年月日号元分级点倍人幢栋层楼档到至多余])"
                    r"|(?<=第)\s?(\d+)(?!\d)", re.ASCII)


def _number_words(found: re.Match) -> str:
    whole, fraction = found.group(1) or found.group(3), found.group(2)
    percent = found.string[found.end():found.end() + 1] == "%"
    text, after = found.string, found.string[found.end():found.end() + 1]
    if len(whole) >= READ_BY_DIGIT or (whole.startswith("0") and len(whole) > 1):
        return found.group(0)          # a phone number, a reference: read as written
    if len(whole) == 4 and after == "年":
        return "".join("〇一二三四五六七八九"[int(d)] for d in whole)   # 2026年: 二〇二六年
    words = cn2an.an2cn(whole, "low")
    if fraction:
        words += "点" + "".join("零一二三四五六七八九"[int(d)] for d in fraction)
    if percent:
        return "百分之" + words + "\0"   # the % sign itself is dropped below
    before = text[found.start() - 1] if found.start() else ""
    if whole == "2" and after and after in MEASURE_TWO and before != "第":
        return "两"
    return words


def read_numbers(text: str) -> str:
    said = NUMBER.sub(_number_words, text).replace("\0%", "")
    return re.sub(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])", "", said)   # "第 一 位" → "第一位"


# --- what only a screen needs ----------------------------------------------------------------------
SCREEN_ONLY = re.compile(r"[（(][^（）()]*(?:回复|点击|按钮|输入)[^（）()]*[）)]")   # "（不想办了，回复「不约了」。）"
TYPED = re.compile(r"回复|点击|按钮|输入|写到|写清楚")
ARROW = re.compile(r"\s*(?:→|->)\s*")
WHOLE_ASIDE = re.compile(r"[（(]([^（）()]*[。！？])[）)]")
HERE = re.compile(r"(也)?可以在这里直接")
MASKED_PHONE = re.compile(r"[\d\-]*\*{3,}(\d{4})")   # 138****5678, 0512****1234: "尾号5678"


def _plain(line: str) -> str:
    """A line no key claims: said as written, less what only a screen needs."""
    line = SCREEN_ONLY.sub("", line).strip()
    line = re.sub(r"^[·•\-*]\s*", "", line)
    line = ARROW.sub("，变成", line)
    line = WHOLE_ASIDE.sub(r"\1", line)            # "（身体情况是按您说的估计的。）": said as a sentence
    line = HERE.sub(r"\1可以现在就帮您", line)      # "可以在这里直接预约": the operator does it now
    # a sentence about typing or tapping is not said; the rest of the line is
    kept = [s for s in SENTENCE.findall(line) if s and not TYPED.search(s)]
    line = "".join(kept).strip()
    if line and line[-1] not in "。！？：；…":
        line += "。"
    return line


def _say_line(line: str, subject: str | None) -> tuple[str | None, str]:
    """(wording key or None, what is said) for one chat line."""
    line = line.strip()
    if not line:
        return None, ""
    for form in forms():
        said = form.say(line, subject)
        if said is not None:
            return form.key, said
    # a line that starts with a known sentence ("好的，记下了：…。请问…？")
    for sentence in SENTENCE.findall(line):
        if sentence and sentence != line:
            for form in forms():
                said = form.say(sentence, subject)
                if said is not None:
                    rest = line[line.index(sentence) + len(sentence):]
                    _, tail = _say_line(rest, subject)
                    head = line[:line.index(sentence)]
                    return form.key, "".join(x for x in (_plain(head) if head else "", said, tail) if x)
    return None, _plain(line)


def speak(messages: list[dict], subject: str | None = None, screen_lines: dict | None = None) -> dict:
    """The reply's spoken form: lines tagged with their wording key ("card", "question.age"…; a
    line of the payload's `lines` as "screen.<name>"), so that a channel showing every result on
    a screen may leave the cards and their paging out, and the note an operator needs for a
    sensitive question."""
    lines, notes = [], []
    screen = {text.strip(): name for name, text in (screen_lines or {}).items() if text}
    for message in messages:
        for raw in (message.get("text") or "").split("\n"):
            key, said = _say_line(raw, subject)
            if raw.strip() in screen:
                key = "screen." + screen[raw.strip()]
            if key and key.startswith("question."):
                fact = FACTS[key.split(".", 1)[1]]
                if fact.operator_note and fact.operator_note not in notes:
                    notes.append(fact.operator_note)
            said = read_numbers(MASKED_PHONE.sub(r"尾号\1", said.strip()))
            if said:
                lines.append({"key": key, "text": said})
    # the caveat is said before the question, so that the question is what the caller answers
    last = len(lines) - 1
    if last > 0 and lines[last]["key"] == "screen.final_word" and lines[last - 1]["text"].endswith("？"):
        lines[last - 1], lines[last] = lines[last], lines[last - 1]
    return {"type": "spoken", "lines": lines, "note": "\n".join(notes)}


def spoken_question(fact: str, subject: str | None) -> str:
    """A profile question as said on the phone: to a relative about 老人家, otherwise to the elder."""
    spec = FACTS[fact]
    if subject == "relative":
        return spec.spoken.get("relative") or spec.question.get("relative", "")
    said = spec.spoken.get("self") or spec.question.get("self", "")
    return said if subject == "self" else "老人家，" + said
