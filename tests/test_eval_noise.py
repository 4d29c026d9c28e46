"""The development evaluation set (data/eval/utterances.yml) and its ASR noise generator."""
from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml

from app.evaluation.noise import (
    GENERATED_STYLE, WIDEN_STYLES, homophone_kind, load_eval_set, load_noise_table, make_asr,
    numerals_to_chinese, widen,
)
from policy_kb.facts import load_facts, validate_profile

ROOT = Path(__file__).resolve().parents[1]
EVAL_FILE = ROOT / "data" / "eval" / "utterances.yml"
STYLES = ("clean", "elder", "relative", "asr", "operator")
DIGITS = re.compile(r"[0-9０-９]")


@pytest.fixture(scope="module")
def eval_set():
    return load_eval_set(EVAL_FILE)


@pytest.fixture(scope="module")
def utterances(eval_set):
    return eval_set["utterances"]


def _punctuation(text: str) -> list[str]:
    return [c for c in text if unicodedata.category(c).startswith("P")]


# ----------------------------------------------------------------------------- generator

SAMPLES = [
    "我今年82岁，住在吴中区，有苏州户口。",
    "我妈1950年出生，住在姑苏区，是低保户！",
    "老人住相城区（黄埭），长护险、适老化改造都想问问？",
    "我爸85岁，虎丘区，电话13812345678。",
]


def test_make_asr_is_deterministic_for_a_seed():
    for text in SAMPLES:
        first = make_asr(text, random.Random(3))
        assert make_asr(text, random.Random(3)) == first
    runs = {tuple(make_asr(t, random.Random(seed)) for t in SAMPLES) for seed in range(20)}
    assert len(runs) > 1, "different seeds should give different noise"


def test_widen_is_deterministic(utterances):
    assert widen(utterances, seed=7) == widen(utterances, seed=7)
    assert widen(utterances, seed=7) != widen(utterances, seed=8)
    assert widen(utterances, seed=7, copies=2)[::2] == widen(utterances, seed=7)


def test_no_punctuation_left(utterances):
    for record in widen(utterances, seed=7, copies=2):
        assert not _punctuation(record["text"]), record
        assert " " not in record["text"], record
    for text in SAMPLES:
        assert not _punctuation(make_asr(text, random.Random(0)))


def test_numerals_converted(utterances):
    assert numerals_to_chinese("我今年85岁") == "我今年八十五岁"
    assert numerals_to_chinese("1950年出生") == "一九五零年出生"
    assert numerals_to_chinese("出生年份1950") == "出生年份一九五零"
    assert numerals_to_chinese("补贴3000元，100岁") == "补贴三千元，一百岁"
    assert numerals_to_chinese("８２岁") == "八十二岁"
    assert numerals_to_chinese("50%") == "百分之五十"
    assert numerals_to_chinese("13812345678") == "一三八一二三四五六七八"
    assert "八十五" in make_asr("我妈85岁。", random.Random(1))
    for record in widen(utterances, seed=7, copies=2):
        assert not DIGITS.search(record["text"]), record


def test_widen_keeps_intent_and_facts(utterances):
    sources = [u for u in utterances if u["style"] in WIDEN_STYLES]
    before = yaml.safe_dump(utterances, allow_unicode=True)
    widened = widen(utterances, seed=7, copies=2)
    assert yaml.safe_dump(utterances, allow_unicode=True) == before, "input was modified"
    assert len(widened) == 2 * len(sources)
    for n, record in enumerate(widened):
        source = sources[n // 2]
        assert record["style"] == GENERATED_STYLE
        assert record["source"] == source["text"]
        assert record["intent"] == source["intent"]
        assert record["facts"] == source["facts"]
        assert record["facts"] is not source["facts"]
    assert sum(r["text"] != r["source"] for r in widened) > 0.8 * len(widened)


def test_homophone_swaps_happen():
    table = load_noise_table()["homophones"]
    text = "我妈住在姑苏区，是低保户，想问长护险和适老化。"
    joined = "".join(make_asr(text, random.Random(seed)) for seed in range(30))
    for term in ("姑苏", "低保", "长护险", "适老化"):
        assert any(variant in joined for variant in table[term]), term


def test_every_table_entry_is_a_pinyin_homophone():
    table = load_noise_table()["homophones"]
    assert {"姑苏", "相城", "虎丘", "长护险", "适老化", "低保"} <= set(table)
    for term, replacements in table.items():
        assert replacements, term
        for replacement in replacements:
            assert homophone_kind(term, replacement) in ("homophone", "near"), (term, replacement)


def test_homophone_check_rejects_non_homophones():
    assert homophone_kind("吴中", "无锡") is None
    assert homophone_kind("姑苏", "姑苏") is None
    assert homophone_kind("姑苏", "姑苏区") is None
    assert homophone_kind("相城", "湘城") == "homophone"
    assert homophone_kind("长护险", "常护险") == "homophone"   # 长 is chang/zhang
    assert homophone_kind("独生子女", "独身子女") == "near"


# ----------------------------------------------------------------------------- eval set

def _domain_intents() -> set[str]:
    return set(yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"])


def test_eval_set_header(eval_set):
    assert eval_set["version"] == 1
    assert str(eval_set["as_of"]) == "2026-11-29"


def test_eval_records_are_valid(utterances):
    intents = _domain_intents()
    seen = set()
    for record in utterances:
        assert set(record) <= {"text", "style", "intent", "facts", "note"}, record
        assert isinstance(record["text"], str) and record["text"].strip(), record
        assert record["text"] not in seen, f"duplicate: {record['text']}"
        seen.add(record["text"])
        assert record["style"] in STYLES, record
        assert record["intent"] in intents, record
        facts = record["facts"]
        assert isinstance(facts, dict), record
        assert validate_profile(facts) == facts, record   # canonical names and values, no None


def test_eval_set_sizes(utterances):
    styles = Counter(u["style"] for u in utterances)
    assert len(utterances) >= 330
    for style in STYLES:
        assert styles[style] >= 60, (style, styles[style])
    intents = Counter(u["intent"] for u in utterances)
    assert intents["inform"] >= 0.55 * len(utterances)
    styles_per_intent: dict[str, set] = {}
    for u in utterances:
        styles_per_intent.setdefault(u["intent"], set()).add(u["style"])
    for intent in _domain_intents():
        assert len(styles_per_intent.get(intent, ())) >= 2, intent


def test_eval_set_covers_every_fact_value(utterances):
    values = Counter()
    for u in utterances:
        for name, value in u["facts"].items():
            values[(name, value)] += 1
    for fact in load_facts().values():
        if fact.type == "int":
            continue
        expected = (True, False) if fact.type == "bool" else fact.values
        for value in expected:
            assert values[(fact.name, value)] >= 2, (fact.name, value)


def test_asr_style_looks_like_asr(utterances):
    for u in utterances:
        if u["style"] == "asr":
            assert not _punctuation(u["text"]), u
            assert not DIGITS.search(u["text"]), u
