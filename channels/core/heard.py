"""What a voice message said, in the advisor's words: a speech engine gets the sound of a word
right and its characters wrong ("虎口在唐巧" for 户口在塘桥, "我乃乃" for 我奶奶). A stretch of the
transcript that sounds exactly like one word of voice_words.yml, or (where a place stands: after
住/在/到, before 那边/镇) like one Suzhou place name, and like nothing else, is written as that word.

Only voice transcripts pass here (speech.clean: our engine's and WeChat's Recognition); typed
text has its own, more careful homophone matching in the understanding's normaliser. Measured in
`make eval` section 10 (ELDERCARE_VOICE_WORDS=off leaves transcripts as heard).
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import yaml

from understanding import gazetteer

WORDS_FILE = Path(__file__).with_name("voice_words.yml")
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_PLACE_BEFORE = ("住在", "住", "在", "再", "驻", "到", "搬到", "家在", "户口在")   # 再/驻: 在/住 as heard
_PLACE_AFTER = ("那边", "那里", "那块", "那一块", "一带", "镇", "街道", "的人", "本地")
# 八 swallowed by 爸 ("我爸爸十五了" for 我爸八十五了): nobody's father is fifteen
_BA_SWALLOWED = re.compile(r"爸爸(十[一二三四五六七八九]?)(?=[了岁])")


def _sound(text: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin
    return tuple(lazy_pinyin(text))


@lru_cache(maxsize=1)
def _tables() -> tuple[dict, dict, frozenset]:
    data = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    words: dict[tuple, set] = {}
    for word in data["words"]:
        words.setdefault(_sound(word), set()).add(word)
    places: dict[tuple, set] = {}
    for name in gazetteer.town_names():
        if 2 <= len(name) <= 5 and _CJK.fullmatch(name):
            places.setdefault(_sound(name), set()).add(name)
    return words, places, frozenset(data.get("keep") or ())


def _place_stands(text: str, i: int, j: int) -> bool:
    return text[:i].endswith(_PLACE_BEFORE) or text[j:].startswith(_PLACE_AFTER)


def _fix_run(run: str) -> str:
    words, places, keep = _tables()
    out, i = [], 0
    while i < len(run):
        for n in (5, 4, 3, 2):
            sub = run[i:i + n]
            if len(sub) < n or sub in keep:
                continue
            key = _sound(sub)
            found = words.get(key, set())
            if not found and _place_stands(run, i, i + n):
                found = places.get(key, set())
            if len(found) == 1:     # one word sounds so: it is the word (two: nobody can tell)
                out.append(next(iter(found)))
                i += n
                break
        else:
            out.append(run[i])
            i += 1
    return "".join(out)


def warm_up() -> None:
    """Build the tables now (a third of a second), not on the first voice message."""
    _tables()


def as_words(text: str) -> str:
    """The transcript with the advisor's words where they were heard as sound-alikes."""
    if (os.environ.get("ELDERCARE_VOICE_WORDS") or "on").strip().lower() in ("off", "0", "no", "false"):
        return text
    text = _BA_SWALLOWED.sub(r"爸八\1", text)
    return _CJK.sub(lambda m: _fix_run(m.group()), text)
