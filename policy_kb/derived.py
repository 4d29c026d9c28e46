"""Derived facts (derived.yml): facts the engine computes from other facts before any rule.

One truth for rules such as "a dementia diagnosis moves an estimated care level one step
worse": declared as data, applied by the engine, so every caller sees the same profile.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from .facts import Fact, load_facts
from .rules import TRUE, RuleError, compile_condition
from .schema import PolicyFileError

DERIVED_FILE = Path(__file__).with_name("derived.yml")
KEYS = {"id", "explain", "source", "when", "unless", "set"}


@dataclass(frozen=True)
class Derivation:
    id: str
    explain: str
    fact: str
    when: Callable
    unless: Callable | None
    value: Any = None
    step: int = 0

    def new_value(self, profile: Mapping, facts: Mapping[str, Fact]) -> Any:
        """The value this derivation gives its fact, or None when it does not apply."""
        if self.step and profile.get(self.fact) is None:
            return None  # nothing to move
        if self.when(profile)[0] != TRUE:
            return None
        if self.unless is not None and self.unless(profile)[0] == TRUE:
            return None
        if not self.step:
            return self.value
        values = facts[self.fact].values
        current = profile.get(self.fact)
        return values[min(values.index(current) + self.step, len(values) - 1)]


def compile_derivations(data: Any, facts: Mapping[str, Fact]) -> list[Derivation]:
    if not isinstance(data, list):
        raise RuleError("(文件)", "derived.yml 必须是一个列表")
    out, seen = [], set()
    for i, item in enumerate(data):
        f = f"[{i}]"
        if not isinstance(item, dict):
            raise RuleError(f, "每一项需要 id, explain, when, set")
        extra = set(item) - KEYS
        if extra:
            raise RuleError(f"{f}.{sorted(extra)[0]}", f"未知的字段；可用：{', '.join(sorted(KEYS))}")
        for key in ("id", "explain", "when", "set"):
            if key not in item:
                raise RuleError(f"{f}.{key}", "缺少必填字段")
        if item["id"] in seen:
            raise RuleError(f"{f}.id", f"id {item['id']!r} 重复")
        seen.add(item["id"])
        target = item["set"]
        if not isinstance(target, dict) or "fact" not in target or len(set(target) & {"value", "step"}) != 1 \
                or set(target) - {"fact", "value", "step"}:
            raise RuleError(f"{f}.set", "写成 {fact: F, value: V} 或 {fact: F, step: N}")
        fact = facts.get(target["fact"])
        if fact is None:
            raise RuleError(f"{f}.set.fact", f"未知的资料项 {target['fact']!r}")
        step = target.get("step", 0)
        if "step" in target:
            if fact.type != "ordinal" or not isinstance(step, int) or isinstance(step, bool) or step == 0:
                raise RuleError(f"{f}.set.step", f"step 只能用于有顺序的资料项（{fact.name} 是 {fact.type}），且为非零整数")
        elif not fact.accepts(target["value"]):
            raise RuleError(f"{f}.set.value", f"{target['value']!r} 不是 {fact.name} 的有效值（可用：{fact.describe_values()}）")
        when = compile_condition(item["when"], facts, f"{f}.when")
        unless = compile_condition(item["unless"], facts, f"{f}.unless") if "unless" in item else None
        out.append(Derivation(item["id"], str(item["explain"]), fact.name, when, unless,
                              target.get("value"), step))
    return out


@lru_cache(maxsize=None)
def load_derivations(path: Path = DERIVED_FILE) -> tuple[Derivation, ...]:
    """derived.yml compiled; a mistake raises PolicyFileError naming the file and the field."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) if Path(path).exists() else []
        return tuple(compile_derivations(data or [], load_facts()))
    except yaml.YAMLError as exc:
        raise PolicyFileError(str(path), "(YAML 语法)", str(exc).replace("\n", " ")) from None
    except RuleError as exc:
        raise PolicyFileError(str(path), exc.field, exc.message) from None


def derive(profile: Mapping, derivations, facts: Mapping[str, Fact]) -> tuple[dict, list[dict]]:
    """The profile with every derivation applied in order, and what changed (for explaining)."""
    out, applied = dict(profile), []
    for d in derivations:
        value = d.new_value(out, facts)
        if value is not None and out.get(d.fact) != value:
            applied.append({"id": d.id, "fact": d.fact, "from": out.get(d.fact), "to": value,
                            "explain": d.explain})
            out[d.fact] = value
    return out, applied
