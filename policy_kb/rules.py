"""Eligibility rules as data: parse, validate and compile a condition tree.

A condition is one of
  {all: [c, ...]} | {any: [c, ...]} | {not: c}
  {fact: F, op: OP, value: V}            a comparison over a canonical fact
      optional  otherwise: possible      failing/unknown turns the result into "possible"
                                         (e.g. an official assessment is still to be done)
      optional  note: "..."              what to tell the user when it is only possible
      optional  holds / fails: "..."     reason wording overrides ({actual}, {value})
  {local_rule: "..."}                    a 待核实 local rule: the result is at best "possible"
  {always: true}

Evaluation is over four truth values ordered FALSE < UNKNOWN < POSSIBLE < TRUE, so that
``all`` is the minimum and ``any`` the maximum of its children.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from .facts import Fact

FALSE, UNKNOWN, POSSIBLE, TRUE = 0, 1, 2, 3
OPS = ("==", "!=", ">=", ">", "<=", "<", "in", "not_in", "known")
ORDERED_OPS = (">=", ">", "<=", "<")
LEAF_KEYS = {"fact", "op", "value", "otherwise", "note", "holds", "fails"}
NO_REASONS: tuple = ()
NO_MISSING: frozenset = frozenset()

Outcome = tuple  # (truth value, reasons: tuple[str], missing: frozenset[str])


class RuleError(ValueError):
    """A rule is malformed; ``field`` is the dotted path inside the policy file."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _fmt(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "、".join(_fmt(v) for v in value)
    if value == "none":
        return "无"
    return str(value)


def _default_texts(fact: Fact, op: str, value: Any) -> tuple[str, str]:
    """Chinese reason templates (held, failed) for a comparison; {actual} is the profile value."""
    label, unit = fact.label, fact.unit
    if fact.type == "bool" and op in ("==", "!="):
        positive = (value is True) == (op == "==")
        return (fact.text_true, fact.text_false) if positive else (fact.text_false, fact.text_true)
    if op == "known":
        return f"{label}：{{actual}}", f"不知道{label}"
    actual = f"{label}{{actual}}{unit}" if fact.type == "int" else f"{label}为{{actual}}"
    v = _fmt(value)
    if fact.type == "int":
        words = {">=": ("满", "未满"), ">": ("超过", "未超过"),
                 "<=": ("不超过", "超过"), "<": ("不满", "已满")}
        if op in words:
            ok, bad = words[op]
            return f"{actual}，{ok}{v}{unit}", f"{actual}，{bad}{v}{unit}"
    if fact.type == "ordinal":
        words = {">=": (f"达到{v}及以上", f"未达到{v}"), ">": (f"重于{v}", f"不重于{v}"),
                 "<=": (f"在{v}及以下", f"重于{v}"), "<": (f"轻于{v}", f"不轻于{v}")}
        if op in words:
            ok, bad = words[op]
            return f"{actual}，{ok}", f"{actual}，{bad}"
    if op == "==":
        return actual, f"{actual}，不是{v}"
    if op == "!=":
        return actual, f"{actual}"
    if op == "in":
        return actual, f"{actual}，不属于{v}"
    if op == "not_in":
        return actual, f"{actual}"
    return actual, actual


def _check_value(fact: Fact, op: str, value: Any, field: str) -> None:
    if op == "known":
        return
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            raise RuleError(f"{field}.value", f"运算符 {op} 需要一个非空列表")
        for i, item in enumerate(value):
            _check_value(fact, "==", item, f"{field}.value[{i}]")
        return
    if op in ORDERED_OPS and fact.type not in ("int", "ordinal"):
        raise RuleError(f"{field}.op", f"{fact.name} 是 {fact.type} 类型，不能用 {op} 比较大小")
    if fact.type == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = fact.accepts(value)
    if not ok:
        raise RuleError(f"{field}.value", f"{value!r} 不是 {fact.name} 的有效值（可用：{fact.describe_values()}）")


def _comparator(fact: Fact, op: str, value: Any) -> Callable[[Any], bool]:
    if op == "known":
        return lambda actual: True
    if op == "in":
        members = frozenset(value)
        return lambda actual: actual in members
    if op == "not_in":
        members = frozenset(value)
        return lambda actual: actual not in members
    if op == "==":
        return lambda actual: actual == value
    if op == "!=":
        return lambda actual: actual != value
    if fact.type == "ordinal":  # compare positions, mildest first
        ranks = {v: i for i, v in enumerate(fact.values)}
        target = ranks[value]
        key = ranks.__getitem__
    else:
        target, key = value, (lambda a: a)
    return {
        ">=": lambda a: key(a) >= target,
        ">": lambda a: key(a) > target,
        "<=": lambda a: key(a) <= target,
        "<": lambda a: key(a) < target,
    }[op]


def compile_condition(node: Any, facts: Mapping[str, Fact], field: str,
                      in_not: bool = False) -> Callable[[Mapping], Outcome]:
    """Validate ``node`` and return a function profile -> (truth, reasons, missing)."""
    if not isinstance(node, dict) or not node:
        raise RuleError(field, "条件必须是一个映射，例如 {fact: age, op: '>=', value: 60}")
    keys = set(node)
    for combinator in ("all", "any"):
        if combinator in node:
            if keys != {combinator}:
                raise RuleError(field, f"{combinator} 旁边不能有其他键：{sorted(keys - {combinator})}")
            items = node[combinator]
            if not isinstance(items, list) or not items:
                raise RuleError(f"{field}.{combinator}", "需要一个非空的条件列表")
            children = [compile_condition(c, facts, f"{field}.{combinator}[{i}]", in_not)
                        for i, c in enumerate(items)]
            return _all(children) if combinator == "all" else _any(children)
    if "not" in node:
        if keys != {"not"}:
            raise RuleError(field, f"not 旁边不能有其他键：{sorted(keys - {'not'})}")
        return _not(compile_condition(node["not"], facts, f"{field}.not", in_not=True))
    if "local_rule" in node:
        if keys != {"local_rule"} or not isinstance(node["local_rule"], str):
            raise RuleError(field, "local_rule 需要一段说明文字，且不能带其他键")
        if in_not:
            raise RuleError(field, "local_rule 不能放在 not 里面")
        outcome = (POSSIBLE, (node["local_rule"],), NO_MISSING)
        return lambda profile: outcome
    if "always" in node:
        if node != {"always": True}:
            raise RuleError(field, "always 只能写成 {always: true}")
        outcome = (TRUE, NO_REASONS, NO_MISSING)
        return lambda profile: outcome
    return _compile_leaf(node, facts, field, in_not)


def _compile_leaf(node: dict, facts: Mapping[str, Fact], field: str, in_not: bool):
    unknown_keys = set(node) - LEAF_KEYS
    if unknown_keys:
        raise RuleError(field, f"未知的键 {sorted(unknown_keys)}；条件可用 all/any/not/local_rule/always "
                               f"或 {sorted(LEAF_KEYS)}")
    if "fact" not in node or "op" not in node:
        raise RuleError(field, "比较条件需要 fact 和 op")
    name, op = node["fact"], node["op"]
    fact = facts.get(name)
    if fact is None:
        raise RuleError(f"{field}.fact", f"未知的资料项 {name!r}；可用：{', '.join(facts)}")
    if op not in OPS:
        raise RuleError(f"{field}.op", f"未知的运算符 {op!r}；可用：{' '.join(OPS)}")
    if op != "known" and "value" not in node:
        raise RuleError(f"{field}.value", f"运算符 {op} 需要 value")
    value = node.get("value")
    _check_value(fact, op, value, field)
    soft = node.get("otherwise")
    if soft not in (None, "possible"):
        raise RuleError(f"{field}.otherwise", "otherwise 只能是 possible")
    if soft and in_not:
        raise RuleError(f"{field}.otherwise", "otherwise: possible 不能放在 not 里面")
    holds, fails = _default_texts(fact, op, value)
    holds, fails = node.get("holds", holds), node.get("fails", fails)
    note = node.get("note") or fails
    test = _comparator(fact, op, value)
    missing = frozenset((name,))
    value_text = _fmt(value)
    # The outcome depends only on the fact's value, and every fact has a small domain
    # (ages 0-130 included), so each outcome is built once and then looked up.
    cache: dict = {}

    def outcome(actual):
        text = holds if test(actual) else (note if soft else fails)
        truth = TRUE if test(actual) else (POSSIBLE if soft else FALSE)
        result = (truth, (text.format(actual=_fmt(actual), value=value_text),), NO_MISSING)
        cache[actual] = result
        return result

    absent = (POSSIBLE, (note.format(actual="", value=value_text),), missing) if soft \
        else (UNKNOWN, NO_REASONS, missing)

    def leaf(profile):
        actual = profile.get(name)
        if actual is None:
            return absent
        return cache.get(actual) or outcome(actual)
    return leaf


def _all(children):
    def node(profile):
        outcomes = [child(profile) for child in children]
        truth = TRUE
        for o in outcomes:
            if o[0] < truth:
                truth = o[0]
        reasons: list = []
        if truth == FALSE:  # only the failures explain a "no"
            for o in outcomes:
                if o[0] == FALSE:
                    reasons += o[1]
            return FALSE, tuple(reasons), NO_MISSING
        missing = NO_MISSING
        for o in outcomes:
            reasons += o[1]
            if o[2]:
                missing = missing | o[2]
        return truth, tuple(reasons), missing
    return node


def conjoin(*conditions):
    """``all`` over already compiled conditions."""
    return _all(list(conditions))


def _any(children):
    def node(profile):
        outcomes = [child(profile) for child in children]
        truth = max(o[0] for o in outcomes)
        if truth == TRUE:  # the first branch that holds is the reason
            return next(o for o in outcomes if o[0] == TRUE)[:2] + (NO_MISSING,)
        if truth == FALSE:
            return FALSE, tuple(r for o in outcomes for r in o[1]), NO_MISSING
        # POSSIBLE or UNKNOWN: what holds so far, and every fact that could still decide
        reasons = tuple(r for o in outcomes if o[0] == truth for r in o[1])
        missing = frozenset().union(*(o[2] for o in outcomes if o[0] in (UNKNOWN, POSSIBLE)))
        return truth, reasons, missing
    return node


def _not(child):
    flip = {TRUE: FALSE, FALSE: TRUE, UNKNOWN: UNKNOWN}

    def node(profile):
        truth, reasons, missing = child(profile)
        return flip[truth], reasons, missing
    return node


def can_be_possible(node: Any) -> bool:
    """True if the tree has a marker that can make a result 'possible'."""
    if isinstance(node, dict):
        if "local_rule" in node or node.get("otherwise") == "possible":
            return True
        return any(can_be_possible(c) for key in ("all", "any") for c in node.get(key, ()))
    return False
