"""Policy files: the schema, its validation with messages naming file and field, compilation."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .facts import Fact
from .rules import RuleError, compile_condition, conjoin as _conjoin

REQUIRED = ("id", "name", "summary", "benefit", "apply", "sources", "verified", "eligibility")
OPTIONAL = ("aliases", "amount", "valid_from", "valid_to", "districts", "related",
            "priority_tiers", "rank", "next_step", "category")
APPLY_KEYS = ("where", "steps", "documents", "contact", "processing_time")
AMOUNT_KEYS = ("value", "unit", "note")


class PolicyFileError(ValueError):
    """A policy file is invalid. The message names the file and the field."""

    def __init__(self, file: str, field: str, message: str):
        super().__init__(f"{file}: {field}: {message}")
        self.file, self.field, self.message = file, field, message


@dataclass
class Policy:
    id: str
    name: str
    summary: str
    benefit_text: str
    benefit_variants: list  # [(condition fn, text)]
    apply: dict
    sources: list
    verified: bool
    eligibility: Callable
    raw: dict                   # the validated file content, for the SQL store and search
    aliases: list = field(default_factory=list)
    amount: dict | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    districts: tuple | None = None  # None = every district
    related: list = field(default_factory=list)
    priority_tiers: list = field(default_factory=list)  # [(tier, condition fn)]
    rank: int = 100
    next_step: str = ""
    category: str = ""
    dated: bool = False


def _date(value: Any, field: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        raise RuleError(field, f"{value!r} 应为日期 YYYY-MM-DD，不要带时间")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise RuleError(field, f"{value!r} 不是 YYYY-MM-DD 格式的日期（例如 2026-01-01）")


def _text(data: Mapping, key: str, field: str | None = None, required: bool = True) -> str:
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise RuleError(field or key, "需要一段非空的文字")
    return value.strip()


def _str_list(value: Any, field: str, required: bool = False) -> list:
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value) or \
            not all(isinstance(v, str) and v.strip() for v in value):
        raise RuleError(field, "需要一个文字列表，例如 [甲, 乙]")
    return value


def compile_policy(data: Any, facts: Mapping[str, Fact], expected_id: str | None = None) -> Policy:
    """Validate one policy mapping and compile it; raises RuleError(field, message)."""
    if not isinstance(data, dict):
        raise RuleError("(文件)", "政策文件的内容必须是一个映射（键: 值）")
    unknown = set(data) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        raise RuleError(sorted(unknown)[0], f"未知的字段；可用：{', '.join(REQUIRED + OPTIONAL)}")
    for key in REQUIRED:
        if key not in data:
            raise RuleError(key, "缺少必填字段")
    pid = _text(data, "id")
    if expected_id is not None and pid != expected_id:
        raise RuleError("id", f"id {pid!r} 与文件名 {expected_id!r} 不一致")
    if not pid.isidentifier() or pid.lower() != pid:
        raise RuleError("id", "id 只能用小写英文字母、数字和下划线")
    if not isinstance(data["verified"], bool):
        raise RuleError("verified", "只能是 true 或 false")

    benefit = data["benefit"]
    variants = []
    if isinstance(benefit, str):
        benefit_text = _text(data, "benefit")
    elif isinstance(benefit, dict):
        extra = set(benefit) - {"text", "variants"}
        if extra:
            raise RuleError(f"benefit.{sorted(extra)[0]}", "未知的字段；可用：text, variants")
        benefit_text = _text(benefit, "text", "benefit.text")
        for i, variant in enumerate(benefit.get("variants") or []):
            f = f"benefit.variants[{i}]"
            if not isinstance(variant, dict) or set(variant) != {"when", "text"}:
                raise RuleError(f, "每个 variant 需要 when 和 text 两个键")
            variants.append((compile_condition(variant["when"], facts, f"{f}.when"),
                             _text(variant, "text", f"{f}.text")))
    else:
        raise RuleError("benefit", "需要一段文字，或 {text: ..., variants: [...]}")

    apply = data["apply"]
    if not isinstance(apply, dict):
        raise RuleError("apply", f"需要一个映射，键可用：{', '.join(APPLY_KEYS)}")
    extra = set(apply) - set(APPLY_KEYS)
    if extra:
        raise RuleError(f"apply.{sorted(extra)[0]}", f"未知的字段；可用：{', '.join(APPLY_KEYS)}")
    _text(apply, "where", "apply.where")
    _str_list(apply.get("steps"), "apply.steps")
    _str_list(apply.get("documents"), "apply.documents")
    for key in ("contact", "processing_time"):  # processing_time: only what a source says, never a guess
        if apply.get(key) is not None:
            _text(apply, key, f"apply.{key}")

    amount = data.get("amount")
    if amount is not None:
        if not isinstance(amount, dict) or set(amount) - set(AMOUNT_KEYS):
            raise RuleError("amount", f"需要一个映射，键可用：{', '.join(AMOUNT_KEYS)}（金额未知时留空）")
        if amount.get("value") is not None and (isinstance(amount["value"], bool) or
                                                not isinstance(amount["value"], (int, float))):
            raise RuleError("amount.value", "金额必须是数字；不知道就留空，不要编")

    valid_from = _date(data.get("valid_from"), "valid_from")
    valid_to = _date(data.get("valid_to"), "valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise RuleError("valid_to", "结束日期早于开始日期")

    districts = data.get("districts", "all")
    if districts == "all" or districts is None:
        districts = None
    else:
        allowed = facts["district"].values
        if not isinstance(districts, list) or not districts:
            raise RuleError("districts", "写 all，或区名列表")
        for i, d in enumerate(districts):
            if d not in allowed:
                raise RuleError(f"districts[{i}]", f"未知的区 {d!r}；可用：{'、'.join(allowed)}")
        districts = tuple(districts)

    tiers = []
    for i, tier in enumerate(data.get("priority_tiers") or []):
        f = f"priority_tiers[{i}]"
        if not isinstance(tier, dict) or "tier" not in tier or set(tier) - {"tier", "when", "label"}:
            raise RuleError(f, "每一档需要 tier（数字），可选 when 和 label")
        if not isinstance(tier["tier"], int) or isinstance(tier["tier"], bool):
            raise RuleError(f"{f}.tier", "tier 必须是整数")
        tiers.append((tier["tier"], compile_condition(tier.get("when", {"always": True}),
                                                      facts, f"{f}.when")))

    eligibility = compile_condition(data["eligibility"], facts, "eligibility")
    if districts is not None:  # a district-scoped policy: the scope is one more condition
        scope = {"fact": "district", "op": "in", "value": list(districts),
                 "holds": "住在{actual}",
                 "fails": f"这项政策只在{'、'.join(districts)}实施（现住{{actual}}）"}
        eligibility = _conjoin(compile_condition(scope, facts, "districts"), eligibility)

    rank = data.get("rank", 100)
    if not isinstance(rank, int) or isinstance(rank, bool):
        raise RuleError("rank", "rank 必须是整数（越小越靠前）")

    return Policy(
        id=pid,
        name=_text(data, "name"),
        summary=_text(data, "summary"),
        benefit_text=benefit_text,
        benefit_variants=variants,
        apply=apply,
        sources=_str_list(data["sources"], "sources", required=True),
        verified=data["verified"],
        eligibility=eligibility,
        dated=bool(valid_from or valid_to),
        raw=data,
        aliases=_str_list(data.get("aliases"), "aliases"),
        amount=amount,
        valid_from=valid_from,
        valid_to=valid_to,
        districts=districts,
        related=_str_list(data.get("related"), "related"),
        priority_tiers=tiers,
        rank=rank,
        next_step=_text(data, "next_step", required=False),
        category=_text(data, "category", required=False),
    )
