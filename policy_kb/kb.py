"""Loading the knowledge base: policy YAML files (the source of truth) or stored records."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from .derived import Derivation, derive, load_derivations
from .facts import Fact, load_facts
from .rules import RuleError
from .schema import Policy, PolicyFileError, compile_policy

POLICY_DIR = Path(__file__).with_name("policies")
TEST_DIR = Path(__file__).with_name("tests")


def _json_safe(value: Any) -> Any:
    """YAML gives date objects; the SQL store keeps JSON, so dates become ISO strings."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


class KnowledgeBase:
    def __init__(self, policies: list[Policy], facts: Mapping[str, Fact],
                 derivations: Iterable[Derivation] | None = None):
        self.facts = dict(facts)
        self.policies = sorted(policies, key=lambda p: (p.rank, p.id))
        self.by_id = {p.id: p for p in self.policies}
        self.derivations = tuple(load_derivations() if derivations is None else derivations)

    def derive(self, profile: Mapping) -> tuple[dict, list[dict]]:
        """The profile the rules see (derived.yml applied), and the derivations that changed it."""
        return derive(profile, self.derivations, self.facts)

    def __len__(self) -> int:
        return len(self.policies)

    def get(self, policy_id: str) -> Policy:
        return self.by_id[policy_id]

    @classmethod
    def from_directory(cls, directory: Path | str = POLICY_DIR,
                       facts: Mapping[str, Fact] | None = None) -> "KnowledgeBase":
        facts = facts or load_facts()
        files = sorted(Path(directory).glob("*.yml"))
        if not files:
            raise PolicyFileError(str(directory), "(目录)", "没有找到任何 .yml 政策文件")
        policies, origin = [], {}
        for path in files:
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                raise PolicyFileError(str(path), "(YAML 语法)", str(exc).replace("\n", " ")) from None
            try:
                policy = compile_policy(data, facts, expected_id=path.stem)
            except RuleError as exc:
                raise PolicyFileError(str(path), exc.field, exc.message) from None
            policy.raw = _json_safe(policy.raw)
            policies.append(policy)
            origin[policy.id] = str(path)
        _check_references(policies, origin)
        return cls(policies, facts)

    @classmethod
    def from_records(cls, records: Iterable[tuple[str, dict]],
                     facts: Mapping[str, Fact] | None = None) -> "KnowledgeBase":
        """Rebuild from (source name, raw policy mapping) pairs, e.g. rows of the SQL store."""
        facts = facts or load_facts()
        policies, origin = [], {}
        for source, data in records:
            try:
                policy = compile_policy(data, facts)
            except RuleError as exc:
                raise PolicyFileError(source, exc.field, exc.message) from None
            policies.append(policy)
            origin[policy.id] = source
        _check_references(policies, origin)
        return cls(policies, facts)


def _check_references(policies: list[Policy], origin: Mapping[str, str]) -> None:
    seen: dict[str, str] = {}
    for policy in policies:
        if policy.id in seen:
            raise PolicyFileError(origin[policy.id], "id", f"id {policy.id!r} 重复（另见 {seen[policy.id]}）")
        seen[policy.id] = origin[policy.id]
    for policy in policies:
        for i, ref in enumerate(policy.related):
            if ref not in seen:
                raise PolicyFileError(origin[policy.id], f"related[{i}]",
                                      f"引用了不存在的政策 id {ref!r}")


def load_test_cases(directory: Path | str = TEST_DIR) -> list[tuple[Path, int, dict]]:
    """The YAML test cases next to the policies: (file, index, case)."""
    cases = []
    for path in sorted(Path(directory).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(data, list):
            raise PolicyFileError(str(path), "(文件)", "测试文件必须是一个用例列表")
        cases.extend((path, i, case) for i, case in enumerate(data))
    return cases
