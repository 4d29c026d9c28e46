"""Answering a question about one policy, on the aspect asked (how much, how long, who, …)."""
from __future__ import annotations

import datetime as dt

from policy_kb import clock
from policy_kb.clock import date_words
from policy_kb.engine import Result
from policy_kb.schema import Policy

from .render import status_word, who, wording

# Cues the FactExtractor sets from understanding/lexicon.yml (cues: ask_amount …), most specific first:
# ask_dates before ask_time ("什么时候结束" is a date, "什么时候能批" a processing time), ask_documents
# and ask_where-like details before the broad ask_how ("怎么申请，要带什么" asks for the documents).
ASPECTS = ("ask_amount", "ask_dates", "ask_time", "ask_documents", "ask_how", "ask_where", "ask_who")


def _running(policy: Policy, today: dt.date) -> str:
    if policy.valid_from and today < policy.valid_from:
        return "not_started"
    if policy.valid_to and today > policy.valid_to:
        return "ended"
    return "open"


def _dates_lines(policy: Policy, contact: str, today: dt.date) -> list[str]:
    """When the programme starts and ends (valid_from / valid_to), and whether it runs today."""
    w, start, end = wording(), policy.valid_from, policy.valid_to
    words = {"name": policy.name, "contact": contact,
             "start": date_words(start) if start else "", "end": date_words(end) if end else ""}
    key = ("policy_dates_span" if start and end else "policy_dates_from" if start
           else "policy_dates_to" if end else "policy_dates_none")
    running = _running(policy, today)
    lines = [w[key].format(**words), w[f"policy_dates_{running}"].format(**words)]
    if end and running != "not_started":  # "明年还有吗": the KB does not say, the contact may
        lines.append(w["policy_dates_later"].format(**words))
    return lines


def _how_lines(policy: Policy, contact: str) -> list[str]:
    """How to apply: the steps, where, what to bring, whom to ask."""
    w, apply = wording(), policy.apply
    lines = [w["policy_how"].format(name=policy.name)]
    lines += [f"{i}. {step}" for i, step in enumerate(apply.get("steps") or [], 1)]
    lines.append(w["policy_how_where"].format(where=apply["where"]))
    if apply.get("documents"):
        lines.append(w["policy_documents"].format(documents="、".join(apply["documents"])))
    if apply.get("contact") and apply["contact"] != apply["where"]:
        lines.append(w["policy_how_contact"].format(contact=contact))
    return lines


def aspect_of(cues) -> str | None:
    return next((a for a in ASPECTS if a in cues), None)


def answer_lines(policy: Policy, result: Result, aspect: str | None, subject, profile_known: bool,
                 today: dt.date | None = None) -> list[str]:
    """The answer on the aspect asked; `today` is Suzhou's date (whether a dated programme runs)."""
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
    elif aspect == "ask_dates":
        lines = _dates_lines(policy, contact, today or clock.today())
    elif aspect == "ask_time":
        if apply.get("processing_time"):   # only what the KB gives: never a guess
            lines = [w["policy_time"].format(name=policy.name, time=apply["processing_time"].rstrip("。"))]
        else:
            lines = [w["policy_time_unknown"].format(name=policy.name, contact=contact)]
            if apply.get("steps"):
                lines.append(w["policy_time_steps"].format(steps="；".join(apply["steps"])))
    elif aspect == "ask_how":
        lines = _how_lines(policy, contact)
    elif aspect == "ask_who":
        lines = [w["policy_who"].format(name=policy.name, summary=policy.summary)]
        labels = [f"{t['tier']} {t['label']}" for t in policy.raw.get("priority_tiers") or [] if t.get("label")]
        if labels:
            lines.append(w["policy_tiers"].format(tiers="；".join(labels)))
    elif aspect == "ask_where":
        lines = [w["policy_where"].format(name=policy.name, where=apply["where"], contact=contact)]
    elif aspect == "ask_documents" and apply.get("documents"):
        lines = [f"{policy.name}\n" + w["policy_documents"].format(documents="、".join(apply["documents"]))]
    elif aspect == "ask_documents":   # the KB lists none: say so, and where to ask
        lines = [w["policy_documents_unknown"].format(name=policy.name, where=apply["where"], contact=contact)]
    else:
        lines = [w["policy_answer"].format(name=policy.name, summary=policy.summary,
                                           benefit=result.benefit, where=apply["where"])]
        if apply.get("documents"):
            lines.append(w["policy_documents"].format(documents="、".join(apply["documents"])))
    if profile_known:
        line = w["policy_personal"].format(who=who(subject), status=status_word(result.status))
        closed = aspect == "ask_dates" and _running(policy, today or clock.today()) != "open"
        if result.status in ("not_eligible", "possible") and result.reasons and not closed:  # else said above
            line = line.rstrip("。") + w["policy_personal_reason"].format(reason=result.reasons[-1])
        lines.append(line)
    return lines
