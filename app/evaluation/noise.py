"""Reproducible ASR-style noise for the evaluation set.

``make_asr(text, rng)`` turns a clean utterance into what a voice-to-text engine might
return: no punctuation, Arabic numerals spoken as Chinese numerals, fillers (嗯, 那个,
就是), a stuttered word, homophone errors on gazetteer terms (asr_noise.yml) and, rarely,
Traditional characters. ``widen(utterances)`` makes ASR copies of the clean, elder and
relative utterances with the same intent and facts.

Run ``python -m app.evaluation.noise data/eval/utterances.yml`` to print the widened set.
"""
from __future__ import annotations

import argparse
import copy
import random
import re
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import cn2an
import yaml
from pypinyin import Style, pinyin

NOISE_FILE = Path(__file__).with_name("asr_noise.yml")
EVAL_FILE = Path(__file__).resolve().parents[2] / "data" / "eval" / "utterances.yml"
WIDEN_STYLES = ("clean", "elder", "relative")
GENERATED_STYLE = "asr_generated"

_DIGITS = "零一二三四五六七八九"
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_NUMBER = re.compile(r"\d+(?:\.\d+)?%?")
# units after which a 4-digit number is an amount, not a year
_AMOUNT_UNITS = ("元", "块", "岁", "人", "户", "米", "分", "个", "万", "千", "百", "天", "小时")


# ----------------------------------------------------------------------------- table

@lru_cache(maxsize=None)
def load_noise_table(path: Path = NOISE_FILE) -> dict:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    table = {
        "rates": {"filler": 0.3, "repeat": 0.25, "homophone": 0.7, "traditional": 0.05,
                  **(raw.get("rates") or {})},
        "fillers": list(raw.get("fillers") or ["嗯", "那个", "就是"]),
        "repeatable": sorted(raw.get("repeatable") or [], key=len, reverse=True),
        "homophones": {str(k): [str(v) for v in vs] for k, vs in (raw.get("homophones") or {}).items()},
    }
    return table


# ----------------------------------------------------------------------------- pinyin check

# Near-homophones: confusions common in southern Mandarin and in ASR (tones ignored).
_INITIAL_MERGES = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("f", "h"), ("r", "l"))
_FINAL_MERGES = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))


def _readings(char: str) -> set[str]:
    """All toneless pinyin readings of one character (heteronyms included)."""
    return set(pinyin(char, style=Style.NORMAL, heteronym=True)[0])


def _fuzzy(syllable: str) -> str:
    for long, short in _INITIAL_MERGES:
        if syllable.startswith(long):
            syllable = short + syllable[len(long):]
            break
    for long, short in _FINAL_MERGES:
        if syllable.endswith(long):
            syllable = syllable[: -len(long)] + short
            break
    return syllable


def homophone_kind(a: str, b: str) -> str | None:
    """"homophone" if every character pair shares a toneless reading, "near" if they do
    after merging zh/z, ch/c, sh/s, n/l, f/h, r/l and -ng/-n finals, else None."""
    if len(a) != len(b) or a == b:
        return None
    kind = "homophone"
    for x, y in zip(a, b):
        rx, ry = _readings(x), _readings(y)
        if rx & ry:
            continue
        if {_fuzzy(s) for s in rx} & {_fuzzy(s) for s in ry}:
            kind = "near"
            continue
        return None
    return kind


# ----------------------------------------------------------------------------- numbers

def _digit_by_digit(digits: str) -> str:
    return "".join(_DIGITS[int(d)] for d in digits)


def _number_to_chinese(match: re.Match, text: str) -> str:
    token = match.group(0)
    after = text[match.end(): match.end() + 1]
    if token.endswith("%"):
        return "百分之" + cn2an.an2cn(token[:-1], "low")
    if "." in token:
        return cn2an.an2cn(token, "low")
    if len(token) >= 5 or (len(token) > 1 and token.startswith("0")):
        return _digit_by_digit(token)          # phone, ID, reference numbers
    if len(token) == 4 and 1900 <= int(token) <= 2099 and after not in _AMOUNT_UNITS:
        return _digit_by_digit(token)          # a year: 1950 -> 一九五零
    return cn2an.an2cn(token, "low")            # 85 -> 八十五, 3000 -> 三千


def numerals_to_chinese(text: str) -> str:
    text = text.translate(_FULLWIDTH)
    return _NUMBER.sub(lambda m: _number_to_chinese(m, text), text)


# ----------------------------------------------------------------------------- noise

def _is_break(char: str) -> bool:
    """Punctuation, symbols and spaces: where an ASR transcript has nothing."""
    if char.isspace():
        return True
    category = unicodedata.category(char)
    return category[0] in ("P", "S")


def _swap_homophones(text: str, rng: random.Random, table: Mapping[str, list], rate: float) -> str:
    if not table:
        return text
    pattern = re.compile("|".join(re.escape(k) for k in sorted(table, key=len, reverse=True)))

    def swap(m: re.Match) -> str:
        if rng.random() < rate:
            return rng.choice(table[m.group(0)])
        return m.group(0)

    return pattern.sub(swap, text)


def _clauses(text: str) -> list[str]:
    parts, current = [], []
    for char in text:
        if _is_break(char):
            if current:
                parts.append("".join(current))
                current = []
        else:
            current.append(char)
    if current:
        parts.append("".join(current))
    return parts


def _repeat_word(text: str, rng: random.Random, words: list[str]) -> str:
    if not words:
        return text
    pattern = re.compile("|".join(re.escape(w) for w in words))
    spans = [m.span() for m in pattern.finditer(text)]
    if not spans:
        return text
    start, end = rng.choice(spans)
    return text[:end] + text[start:end] + text[end:]


@lru_cache(maxsize=1)
def _s2t():
    try:
        import opencc
        return opencc.OpenCC("s2t")
    except Exception:  # pragma: no cover - opencc is a project dependency
        return None


def make_asr(text: str, rng: random.Random, table: Mapping[str, Any] | None = None) -> str:
    """An ASR-style transcript of ``text``; the same rng state gives the same result."""
    table = table or load_noise_table()
    rates = table["rates"]
    out = numerals_to_chinese(text)
    out = _swap_homophones(out, rng, table["homophones"], rates["homophone"])
    pieces = []
    for clause in _clauses(out):
        if rng.random() < rates["filler"]:
            pieces.append(rng.choice(table["fillers"]))
        pieces.append(clause)
    out = "".join(pieces)
    if rng.random() < rates["repeat"]:
        out = _repeat_word(out, rng, table["repeatable"])
    if rng.random() < rates["traditional"]:
        converter = _s2t()
        if converter is not None:
            out = converter.convert(out)
    return out or numerals_to_chinese(text)


def widen(utterances: Iterable[Mapping[str, Any]] | Mapping[str, Any], seed: int = 7,
          copies: int = 1) -> list[dict]:
    """ASR copies of the clean/elder/relative utterances, style ``asr_generated``.

    Each copy draws from its own generator seeded by (seed, copy number, source text), so
    the result is deterministic for a seed and adding an utterance does not change the
    noise of the others. Intent and facts are copied unchanged; ``source`` keeps the text.
    """
    if isinstance(utterances, Mapping):
        utterances = utterances["utterances"]
    table = load_noise_table()
    widened = []
    for record in utterances:
        if record.get("style") not in WIDEN_STYLES:
            continue
        for n in range(copies):
            rng = random.Random(f"{seed}:{n}:{record['text']}")
            widened.append({
                "text": make_asr(record["text"], rng, table),
                "style": GENERATED_STYLE,
                "intent": record["intent"],
                "facts": copy.deepcopy(dict(record.get("facts") or {})),
                "source": record["text"],
            })
    return widened


def load_eval_set(path: Path | str = EVAL_FILE) -> dict:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="打印加了语音识别噪声的评测语句")
    parser.add_argument("path", nargs="?", default=str(EVAL_FILE))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--copies", type=int, default=1)
    args = parser.parse_args(argv)
    data = load_eval_set(args.path)
    out = {"version": 1, "as_of": data.get("as_of"),
           "utterances": widen(data, seed=args.seed, copies=args.copies)}
    yaml.safe_dump(out, sys.stdout, allow_unicode=True, sort_keys=False, width=200)
    return 0


if __name__ == "__main__":
    sys.exit(main())
