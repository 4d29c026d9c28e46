"""The jieba user dictionary, generated from the KB and the fact lexicon.

Keeping district, policy and care words whole in segmentation stops jieba from merging
them into longer tokens (a known Chinese-NLU pitfall with Rasa's JiebaTokenizer).
"""
from __future__ import annotations

from pathlib import Path

import yaml

from understanding.yaml_strings import yaml_strings

from policy_kb.facts import load_facts
from policy_kb.kb import KnowledgeBase

LEXICON = Path(__file__).with_name("lexicon.yml")
FREQ = 2000


def _is_word(text: str) -> bool:
    """Chinese words of 2-8 characters, without spaces, digits or regex syntax."""
    return 2 <= len(text) <= 8 and all("\u4e00" <= ch <= "\u9fff" for ch in text)


def words(kb: KnowledgeBase) -> list[str]:
    found: set[str] = set()
    for fact in load_facts().values():
        found.update(str(v) for v in fact.values)
        found.update(str(o[1]) for o in fact.options)
    for policy in kb.policies:
        found.add(policy.name)
        found.update(policy.aliases)
    if LEXICON.exists():
        found.update(yaml_strings(yaml.safe_load(LEXICON.read_text(encoding="utf-8"))))
    return sorted(w for w in found if _is_word(w))


def write(directory: Path, kb: KnowledgeBase | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "userdict.txt"
    entries = words(kb or KnowledgeBase.from_directory())
    path.write_text("".join(f"{w} {FREQ}\n" for w in entries), encoding="utf-8")
    return path
