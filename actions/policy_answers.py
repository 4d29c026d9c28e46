"""Answering a question about one policy, on the aspect asked (how much, how long, who, …)."""
from __future__ import annotations

import datetime as dt
import re

from policy_kb import clock
from policy_kb.clock import date_words
from policy_kb.engine import Result
from policy_kb.schema import Policy

from .profile import FACTS
from .relevance import money_policies
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


# "那尊老金到底多少", "尊老金几块钱": an amount asked in words the lexicon has no cue for.
AMOUNT_WORDS = re.compile(r"多少钱|多少|几块|几钿|几多|金额|几百|几千|标准是")


def aspect_of(cues, text: str = "") -> str | None:
    """The aspect a question asks about: the cues first; without one, an amount asked in words."""
    aspect = next((a for a in ASPECTS if a in cues), None)
    if aspect is None and text and AMOUNT_WORDS.search(text):
        return "ask_amount"
    return aspect


# --- "到底能领多少钱": the money items only, with the amounts the KB states ----------------------------
def _short(name: str) -> str:
    m = re.search(r"（(.+?)）", name)
    return m.group(1) if m else name


def amount_words(policy: Policy) -> str:
    """The amount as the KB states it ("最高800元/月", "金额待核实"); never a figure of our own."""
    w = wording()["money"]
    amount = policy.amount or {}
    if amount.get("value") is not None:
        text = f"{amount['value']}{amount.get('unit', '')}"
    elif amount.get("note"):
        text = re.split(r"[；;]", amount["note"])[0]
    else:
        text = w["no_amount"]
    if not policy.verified and "待核实" not in text:
        text += w["unverified"]
    return text


def money_results(results) -> tuple[list, list]:
    """(results that pay and can be had or may be had, results that pay and are still undecided),
    in the order of relevance.yml's `money` topic."""
    by_id = {r.id: r for r in results}
    paying = [by_id[p] for p in money_policies() if p in by_id]
    return ([r for r in paying if r.status in ("eligible", "possible")],
            [r for r in paying if r.status == "unknown" and set(r.missing) - {"subject"}])


def money_lines(kb, results, who_word: str, short: bool = False) -> list[str]:
    """What can be received and how much, as a short list; a second time (or to an impatient user)
    one line. What the KB marks 待核实 stays marked; the total is never added up."""
    w = wording()["money"]
    have, undecided = money_results(results)
    if short:
        if not have:
            return [w["short_none"]]
        items = "；".join(f"{_short(r.name)}：{amount_words(kb.get(r.id))}" for r in have)
        return [w["short"].format(items=items)]
    lines = [w["header"].format(who=who_word)] if have else [w["none"].format(who=who_word)]
    for r in have:
        lines.append(w["line"].format(name=r.name, status=w["possible"] if r.status == "possible" else "",
                                      amount=amount_words(kb.get(r.id))))
    if undecided:
        facts = sorted({f for r in undecided for f in r.missing if f != "subject"}, key=lambda f: FACTS[f].ask_order)
        lines.append(w["open"].format(n=len(undecided), facts="、".join(FACTS[f].label for f in facts[:3])))
    lines.append(w["total"])
    return lines


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
