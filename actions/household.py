"""A household, not one elder: a profile per person, named by relation, facts kept apart.

The fact slots always hold the facts of the person being looked at now (slot `elder_word`:
父亲, 母亲, 本人 …), so every other part of the conversation works on one elder as before. The
other elders wait in the slot `household` (label -> their fact slots and the results they were
shown); switching saves one and loads the other. Who a message is about comes from the NLU
pipeline (understanding/household.py puts `persons` on the message).
"""
from __future__ import annotations

import re

from understanding.booking_parsing import request_kind
from understanding.household import not_counted, spouses

from .profile import FACT_NAMES, dont_know_facts, known_profile
from .render import describe_value, wording

# What is kept per person besides the facts: what they were told, so switching back shows it.
PER_PERSON = FACT_NAMES + ("age_estimate", "shown_results", "shown_count", "care_estimated", "focus")
# Kept for the conversation, not per person.
NOT_PER_PERSON = {"subject"}
# Left when the person changes: the open question was about the other one.
RESET_ON_SWITCH = ("asked_fact", "offer_open", "continuing", "question_key", "question_times", "pending_fact",
                   "not_understood")
# "那我妈呢", "看看我爸的", "回到我爸": a person named to be looked at, with no fact said.
SWITCH_ASK = re.compile(r"呢|看看|看一下|看下|回到|换成|换到|说说|查查|查一下|怎么样|能领|能享受|能拿|有什么|有哪些|的情况|的结果|^看")
REQUEST_INTENTS = {"book_service", "apply_waitlist", "request_assessment", "book_advisor"}
COPIED_TO_SPOUSE = ("district", "hukou")
# The person named is the one who looks after the elder ("我妈照顾他吃不消了"): kept, not switched to.
CARER = re.compile(r"照顾|伺候|服侍|护理|陪护|吃不消|撑不住|扛不住|累|熬|守着")
# "他们都是低保户", "两个人都有医保": said of every elder of the household
TOGETHER = re.compile(r"他们|她们|他俩|她俩|两个人|两人|二人|两位|俩人|我们俩|我们两个|两家头|老两口|两个都|都是")
# "我和我爱人不算，只看我妈": said so (the wording is here, beside the one place that says it).
DROPPED = "好的，{names}不算，只看{who}的情况。"
SHARED_KINDS = ("district", "hukou", "economic_status", "living", "medical_insured", "family_planning_special",
                "emergency", "age", "care_level", "dementia", "disability_grade", "care_assessed")   # said once for a couple ("都住园区") they are usually both


def display(label: str | None, subject) -> str:
    """How the advisor names a person: 您 for the elder typing, else the relation (父亲)."""
    if label == "本人":
        return "您"
    if label == "老伴":
        return "您老伴"
    return label or ("您" if subject == "self" else "老人家")


class Household:
    def __init__(self, conv):
        self.c = conv

    @property
    def current(self) -> str | None:
        return self.c.slots.get("elder_word")

    @property
    def others(self) -> dict:
        return dict(self.c.slots.get("household") or {})

    @property
    def several(self) -> bool:
        return bool(self.others) and self.current is not None

    def labels(self) -> list[str]:
        return ([self.current] if self.current else []) + [x for x in self.others if x != self.current]

    # --- the turn ------------------------------------------------------------------------------
    def take(self) -> None:
        """Before anything else in a turn: whose facts the message states, and whom to look at."""
        c, turn = self.c, self.c.turn
        persons = [p for p in turn.persons if p.get("label")]
        dropped, kept, theirs = not_counted(turn.text)
        if dropped and (set(dropped) & (set(self.others) | {self.current}) or kept):
            self._drop(dropped, kept, theirs)
            persons = [p for p in persons if p["label"] not in dropped]
        chosen = turn.entities.get("person")
        if chosen and (chosen in self.others or chosen == self.current):
            persons = [{"label": chosen, "facts": {}, "own": False, "asked": True}]
        if not persons:
            if self.several and TOGETHER.search(turn.text):
                c.share_with_household = True   # "他们都是低保户": said of every elder
            return
        with_facts = [p for p in persons if p.get("own")]
        if len(with_facts) >= 2:
            self._several_at_once(with_facts)
            return
        person = with_facts[0] if with_facts else (persons[0] if len(persons) == 1 else None)
        if person is None:
            return
        label = person["label"]
        if self.current is None:
            if not with_facts and not set(c.profile) - {"subject"}:
                return
            c._set("elder_word", label)          # the first person named is the one looked at
            return
        if label == self.current:
            return
        asked = person.get("asked") or bool(SWITCH_ASK.search(turn.text)) or (
            label in self.others and (turn.intent in REQUEST_INTENTS or bool(request_kind(turn.text))))   # "给我爸约助洁"
        if not (with_facts or (asked and len(turn.text) <= 20) or label in self.others):
            return
        if not with_facts and not asked:
            return
        if with_facts and not asked and CARER.search(turn.text) and self.current is not None:
            # "喘息服务…我妈七十八了实在吃不消了": the carer is an elder too, kept, but the one being
            # cared for stays the one looked at
            self._keep(label, person["facts"])
            self._use_facts({k: v for k, v in turn.facts.items() if k not in person["facts"]})
            return
        self.switch(label, person.get("facts") or {})

    def _drop(self, dropped: list[str], kept: str | None, theirs: list[str]) -> None:
        """"我和我爱人不算 只看我妈 医保是我妈的": the ones named are no elders of the household; the
        one to look at is looked at, and a fact said to be hers ("医保是我妈的") comes back to her."""
        c = self.c
        others = self.others
        facts_of_dropped: dict = {}
        for label in dropped:
            state = others.pop(label, None)
            if state:
                for k, v in (state.get("facts") or {}).items():
                    facts_of_dropped.setdefault(k, v)
        c._set("household", others)
        if self.current in dropped and (kept and kept not in dropped or others):
            for k, v in self._snapshot()["facts"].items():
                facts_of_dropped.setdefault(k, v)
            target = kept if kept and kept not in dropped else next(iter(others), None)
            entry = others.pop(target, None) if target else None
            c._set("household", others)
            self._load(entry or {})
            c._set("elder_word", target)
        elif kept and kept != self.current and kept in others:
            self.switch(kept, {})
            c.switched = False
        moved = {k: facts_of_dropped[k] for k in theirs if k in facts_of_dropped and k not in c.profile}
        c.turn.facts.update(moved)
        who = self.current
        names = "和".join("您" if x == "本人" else display(x, c.subject) for x in dropped)
        c._note(DROPPED.format(names=names, who=display(who, c.subject) if who else "老人家"))

    def _keep(self, label: str, facts: dict) -> None:
        others = self.others
        entry = dict(others.get(label) or {})
        others[label] = {**entry, "facts": {**(entry.get("facts") or {}), **facts}}
        self.c._set("household", others)
        self.c._note(wording()["household"]["kept"].format(
            who=display(label, self.c.subject), facts="，".join(describe_value(k, v) for k, v in facts.items())))

    def _several_at_once(self, persons: list[dict]) -> None:
        """"我爸妈一个82一个79都住园区": the one looked at gets the turn's facts, the others wait."""
        c = self.c
        labels = [p["label"] for p in persons]
        if SWITCH_ASK.search(c.turn.text) and self.current != labels[0] and self.current is not None:
            # "那我妈自己能享受啥？她是苏州户口，我爸也是": the one asked about is looked at
            self._store(self.current, self._snapshot())
            entry = self.others.get(labels[0]) or {}
            others = self.others
            others.pop(labels[0], None)
            c._set("household", others)
            self._load(entry)
            c._set("elder_word", labels[0])
        if self.current not in labels:
            if self.current is not None and set(c.profile) - {"subject"}:
                self._store(self.current, self._snapshot())
                self._load({})
            c._set("elder_word", labels[0])
        others = self.others
        for p in persons:
            if p["label"] == self.current:
                self._use_facts(p["facts"])
            else:
                entry = dict(others.get(p["label"]) or {})
                facts = {**(entry.get("facts") or {}), **p["facts"]}
                others[p["label"]] = {**entry, "facts": facts}
        c._set("household", others)
        names = "；".join(f"{p['label']}" + ("：" + "，".join(describe_value(k, v) for k, v in p["facts"].items())
                                                      if p["facts"] else "") for p in persons)
        c._note(wording()["household"]["noted"].format(n=len(persons), names=names, first=display(self.current, c.subject)))
        c.household_said = True

    def switch(self, label: str, facts: dict) -> None:
        """Look at another person: the one looked at now waits with everything known of them."""
        c = self.c
        before = self.current
        snapshot = self._snapshot()
        entry = self.others.get(label)
        others = self.others
        others.pop(label, None)
        if before is not None:
            others[before] = snapshot
        c._set("household", others)
        c._set("elder_word", label)
        w = wording()["household"]
        state = dict(entry or {})
        copied = {}
        if entry is None and before is not None and spouses(before, label):
            copied = {k: snapshot["facts"][k] for k in COPIED_TO_SPOUSE
                      if k in snapshot["facts"] and k not in facts and snapshot["facts"][k] is not None}
            state = {"facts": copied}
        self._load(state)
        c._note(w["switched"].format(who=display(label, c.subject)))
        if copied:
            c._note(w["copied"].format(other=display(before, c.subject),
                                       facts="，".join(describe_value(k, v) for k, v in copied.items() if k in known_profile(copied))))
        c.switched = entry is not None and not facts   # an earlier person, nothing new: their results again
        self._use_facts(facts)

    # --- state ---------------------------------------------------------------------------------
    def _use_facts(self, facts: dict) -> None:
        """The facts of the person looked at replace what the whole message seemed to say."""
        turn = self.c.turn
        subject = turn.facts.get("subject")
        turn.facts = {**facts, **({"subject": subject} if subject else {})}
        turn.readings, turn.age_range, turn.place_choices = {}, None, {}

    def _snapshot(self) -> dict:
        slots = self.c.slots
        return {"facts": {k: slots.get(k) for k in FACT_NAMES if k not in NOT_PER_PERSON and slots.get(k) is not None},
                **{k: slots.get(k) for k in PER_PERSON if k not in FACT_NAMES and slots.get(k) is not None}}

    def _store(self, label: str, state: dict) -> None:
        others = self.others
        others[label] = state
        self.c._set("household", others)

    def _load(self, state: dict) -> None:
        c = self.c
        facts = state.get("facts") or {}
        for k in FACT_NAMES:
            if k not in NOT_PER_PERSON:
                c._set(k, facts.get(k))
        for k in PER_PERSON:
            if k not in FACT_NAMES:
                c._set(k, state.get(k))
        for k in RESET_ON_SWITCH:
            c._set(k, None)
        c.profile = known_profile(c.slots)
        c.skipped = dont_know_facts(c.slots)
        c._results = None
        c._profile_changed = True

    def share(self, stated: dict) -> None:
        """Facts said of everyone ("他们都是苏州户口") go to the others too."""
        if not stated:
            return
        others = self.others
        for label, state in others.items():
            facts = dict(state.get("facts") or {})
            facts.update({k: v for k, v in stated.items() if k in SHARED_KINDS})
            others[label] = {**state, "facts": facts}
        self.c._set("household", others)

    def summary(self) -> list[dict]:
        """Each person with their facts (the payload's household), the one looked at first."""
        c = self.c
        out = [{"person": self.current, "profile": {k: v for k, v in c.profile.items() if k != "subject"}}]
        for label, state in self.others.items():
            out.append({"person": label, "profile": known_profile(state.get("facts") or {})})
        return out
