"""Answering a question about one policy, on the aspect asked (how much, how long, who, …)."""
from __future__ import annotations

from policy_kb.engine import Result
from policy_kb.schema import Policy

from .render import status_word, who, wording

# Cues the FactExtractor sets from understanding/lexicon.yml (cues: ask_amount …), most specific first.
ASPECTS = ("ask_amount", "ask_time", "ask_documents", "ask_where", "ask_who")


def aspect_of(cues) -> str | None:
    return next((a for a in ASPECTS if a in cues), None)


def answer_lines(policy: Policy, result: Result, aspect: str | None, subject, profile_known: bool) -> list[str]:
    w = wording()
    apply = policy.apply
    contact = apply.get("contact") or apply["where"]
    if aspect == "ask_amount":
        lines = [w["policy_amount"].format(name=policy.name, benefit=result.benefit)]
        amount = policy.amount or {}
        if amount.get("value") is not None:
            lines.append(w["policy_amount_value"].format(value=amount["value"], unit=amount.get("unit", "")))
        elif "待核实" not in result.benefit and (amount or not policy.verified):
            lines.append(w["policy_amount_unknown"].format(note=amount.get("note") or "金额待核实"))
    elif aspect == "ask_time":
        steps = "；".join(apply.get("steps") or [apply["where"]])
        lines = [w["policy_time"].format(name=policy.name, contact=contact, steps=steps)]
    elif aspect == "ask_who":
        lines = [w["policy_who"].format(name=policy.name, summary=policy.summary)]
        labels = [f"{t['tier']} {t['label']}" for t in policy.raw.get("priority_tiers") or [] if t.get("label")]
        if labels:
            lines.append(w["policy_tiers"].format(tiers="；".join(labels)))
    elif aspect == "ask_where":
        lines = [w["policy_where"].format(name=policy.name, where=apply["where"], contact=contact)]
    elif aspect == "ask_documents" and apply.get("documents"):
        lines = [f"{policy.name}\n" + w["policy_documents"].format(documents="、".join(apply["documents"]))]
    else:
        lines = [w["policy_answer"].format(name=policy.name, summary=policy.summary,
                                           benefit=result.benefit, where=apply["where"])]
        if apply.get("documents"):
            lines.append(w["policy_documents"].format(documents="、".join(apply["documents"])))
    if profile_known:
        line = w["policy_personal"].format(who=who(subject), status=status_word(result.status))
        if result.status in ("not_eligible", "possible") and result.reasons:
            line = line.rstrip("。") + w["policy_personal_reason"].format(reason=result.reasons[-1])
        lines.append(line)
    return lines
