"""Canonical profile facts (facts.yml): their types, values and profile validation."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

FACTS_FILE = Path(__file__).with_name("facts.yml")
FACT_TYPES = ("bool", "int", "enum", "ordinal")


class ProfileError(ValueError):
    """A profile names an unknown fact or gives a value the fact cannot take."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class Fact:
    name: str
    type: str
    label: str
    values: tuple = ()
    min: int | None = None
    max: int | None = None
    unit: str = ""
    text_true: str = ""
    text_false: str = ""
    ask_order: int = 99
    basic: bool = False   # decides most results: asked before the first results are shown
    question: Mapping[str, str] = field(default_factory=dict)
    options: tuple = ()
    spoken: Mapping[str, str] = field(default_factory=dict)   # the question as said on the phone
    operator_note: str = ""   # a sensitive question: why it is asked, and that it may be declined

    def rank(self, value: Any) -> int:
        """Position of an ordinal value (mildest first)."""
        return self.values.index(value)

    def accepts(self, value: Any) -> bool:
        if self.type == "bool":
            return isinstance(value, bool)
        if self.type == "int":
            return (isinstance(value, int) and not isinstance(value, bool)
                    and (self.min is None or value >= self.min)
                    and (self.max is None or value <= self.max))
        # bool is an int in Python: True must not pass for disability grade 1
        return not isinstance(value, bool) and value in self.values

    def words(self, value: Any) -> str:
        """A value as a person reads it beside the fact's label: 83岁, 有苏州户口, 中度失能."""
        for option, text in self.options:
            if option == value and isinstance(option, bool) == isinstance(value, bool):
                return text
        if self.type == "bool":
            return (self.text_true or "是") if value else (self.text_false or "否")
        return f"{value}{self.unit}"

    def describe_values(self) -> str:
        if self.type == "bool":
            return "true 或 false"
        if self.type == "int":
            return f"{self.min}–{self.max} 的整数"
        return "、".join(str(v) for v in self.values)

    def parse_text(self, text: str) -> Any:
        """Parse a command-line value (``--what-if age=80``) into this fact's type."""
        raw = text.strip()
        if self.type == "bool":
            lowered = raw.lower()
            if lowered in ("true", "1", "yes", "是", "有"):
                return True
            if lowered in ("false", "0", "no", "否", "没有", "无"):
                return False
            raise ProfileError(self.name, f"值 {raw!r} 不是 true/false")
        if self.type == "int" or (raw.isdigit() and int(raw) in self.values):
            try:
                value = int(raw)
            except ValueError:
                raise ProfileError(self.name, f"值 {raw!r} 不是整数") from None
        else:
            value = raw
        if not self.accepts(value):
            raise ProfileError(self.name, f"值 {raw!r} 无效，可用：{self.describe_values()}")
        return value


@lru_cache(maxsize=None)
def load_facts(path: Path = FACTS_FILE) -> dict[str, Fact]:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    facts: dict[str, Fact] = {}
    for name, spec in raw.items():
        if spec.get("type") not in FACT_TYPES:
            raise ValueError(f"{path}: {name}.type must be one of {FACT_TYPES}")
        facts[name] = Fact(
            name=name,
            type=spec["type"],
            label=spec.get("label", name),
            values=tuple(spec.get("values", ())),
            min=spec.get("min"),
            max=spec.get("max"),
            unit=spec.get("unit", ""),
            text_true=spec.get("text_true", ""),
            text_false=spec.get("text_false", ""),
            ask_order=spec.get("ask_order", 99),
            basic=bool(spec.get("basic", False)),
            question=spec.get("question", {}),
            options=tuple(tuple(o) for o in spec.get("options", ())),
            spoken=spec.get("spoken", {}),
            operator_note=spec.get("operator_note", ""),
        )
    return facts


def validate_profile(profile: Mapping[str, Any], facts: Mapping[str, Fact] | None = None) -> dict:
    """Return the profile unchanged if every key and value is canonical; else raise ProfileError.

    ``None`` means "not known" and is dropped, so callers can pass slot values directly.
    """
    facts = facts or load_facts()
    if not isinstance(profile, Mapping):
        raise ProfileError("profile", "资料必须是一个 JSON 对象（键: 值）")
    clean = {}
    for key, value in profile.items():
        fact = facts.get(key)
        if fact is None:
            raise ProfileError(key, f"未知的资料项 {key!r}；可用：{', '.join(facts)}")
        if value is None:
            continue
        if not fact.accepts(value):
            raise ProfileError(key, f"值 {value!r} 无效，可用：{fact.describe_values()}")
        clean[key] = value
    return clean
