"""Issue 17's tone-and-trust evaluation: messages that must never wipe, mislead or hurt.

Each case (data/eval/trust17_*.yml, written blind from the policy brief and the issue's classes)
sends its `before` messages, then the message under test, to the real servers over the REST
channel, and reads the conversation's state from Rasa's tracker before and after. Reported per
class: conversations wiped (a fact or a request in progress lost), goodbyes not meant, goodbyes
missed, out-of-scope questions answered with a policy card, referrals named, the help that fits
named, the impatient given an answer, and households whose facts got mixed between people.
"""
from __future__ import annotations

import json
import re
import statistics
import urllib.request
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from app.evaluation.personas import RestChat
from storage.settings import PROJECT_ROOT

EVAL = PROJECT_ROOT / "data" / "eval"
FILES = sorted(EVAL.glob("trust17_*.yml"))
CLASSES = ("grief", "hardship", "frustration", "closing", "out_of_scope", "impatience", "households")
PERSONAL = {"age", "care_level", "dementia", "disability_grade", "care_assessed"}
GOODBYE = re.compile(r"^好的，祝.{1,8}身体健康")
REFERRAL = re.compile(r"这个我答不了|请马上打 ?120|如果老人现在有危险")
RESULTS_SHOWN = re.compile(r"一般都能用这些|项可以享受|项可能可以|没有找到明确符合")


def _facts_names() -> set[str]:
    from policy_kb.facts import load_facts
    return set(load_facts())


def _policies() -> dict[str, list[str]]:
    """Policy id -> the names a reply may use for it (name, and the name in brackets)."""
    from policy_kb.kb import KnowledgeBase
    out = {}
    for p in KnowledgeBase.from_directory().by_id.values():
        names = [p.name] + re.findall(r"（(.+?)）", p.name) + [re.sub(r"（.+?）", "", p.name)]
        out[p.id] = [n for n in names if len(n) >= 3]
    return out


@dataclass
class Outcome:
    id: str
    cls: str
    style: str
    message: str
    reply: str = ""
    bubbles: list = field(default_factory=list)
    wiped: list = field(default_factory=list)        # what was lost
    goodbye: bool = False
    card: bool = False
    referred: bool | None = None
    helped: bool | None = None
    answered_now: bool | None = None
    request_lost: bool = False
    facts_ok: int = 0
    facts_total: int = 0
    mixed: list = field(default_factory=list)
    persons_ok: int = 0
    persons_total: int = 0
    error: str | None = None


class Chat(RestChat):
    """personas.RestChat, plus the conversation's slots read from Rasa's tracker (the API is on)."""

    def __init__(self, url: str):
        super().__init__(url)
        self.sender = f"trust-{uuid.uuid4().hex[:12]}"

    def slots(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/conversations/{self.sender}/tracker", timeout=30) as reply:
            return json.loads(reply.read()).get("slots") or {}


def load(files=FILES) -> list[dict]:
    cases = []
    for path in files:
        cases += yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
    return cases


def _persons(slots: dict, facts: set[str]) -> dict[str, dict]:
    """Each elder the conversation keeps, with their facts (the one looked at from the fact slots)."""
    current = slots.get("elder_word") or "_"
    people = {current: {k: slots[k] for k in facts if slots.get(k) not in (None, "不知道") and k != "subject"}}
    for label, state in (slots.get("household") or {}).items():
        people[label] = {k: v for k, v in (state.get("facts") or {}).items() if v not in (None, "不知道")}
    return people


def _same(a, b) -> bool:
    return str(a) == str(b)


def run_case(case: dict, url: str, facts: set[str], policies: dict) -> Outcome:
    expect = case.get("expect") or {}
    out = Outcome(case["id"], case.get("class", "?"), case.get("style", "?"), case["message"])
    chat = Chat(url)
    try:
        for text in case.get("before") or []:
            chat.say(str(text))
        before = chat.slots()
        messages = chat.say(str(case["message"]))
        after = chat.slots()
    except Exception as exc:   # a server error is a result too: reported, never hidden
        out.error = f"{type(exc).__name__}: {exc}"
        return out
    out.bubbles = [m.get("text") or "" for m in messages if m.get("text")]
    out.reply = "\n".join(out.bubbles)
    custom = next((m["custom"] for m in messages if isinstance(m.get("custom"), dict)
                   and m["custom"].get("type") == "recommendations"), None)
    # wiped: a fact of any person recorded before and gone after (a change of value is no wipe)
    people_before, people_after = _persons(before, facts), _persons(after, facts)
    for label, known in people_before.items():
        now = people_after.get(label) or (people_after.get("_") if label == "_" else None) or {}
        if label == "_" and not now and len(people_after) == 1:
            now = next(iter(people_after.values()))
        lost = [k for k in known if k not in now and not any(k in p for p in people_after.values())]
        out.wiped += [f"{label}.{k}" for k in lost]
    if before.get("booking_kind") and not before.get("booking_reference") and not after.get("booking_kind") \
            and expect.get("request_open"):
        out.request_lost = True
    out.goodbye = any(GOODBYE.match(b) for b in out.bubbles)
    referral = bool(REFERRAL.search(out.reply))
    named = [pid for pid, names in policies.items()
             if any(re.search(rf"(?:^|\n|· ){re.escape(n)}", out.reply) for n in names)]
    out.card = bool(named) and not referral
    if "refer" in expect:
        out.referred = str(expect["refer"]) in out.reply
    if expect.get("help"):
        out.helped = any(n in out.reply for pid in expect["help"] for n in policies.get(pid, [pid]))
    if "results" in expect:   # results, what applies to everyone, or the policy they asked about
        out.answered_now = bool(custom and custom.get("cards")) or bool(RESULTS_SHOWN.search(out.reply)) \
            or any(b.split("\n")[0].startswith(n) for b in out.bubbles for names in policies.values() for n in names)
    for k, v in (expect.get("facts") or {}).items():
        out.facts_total += 1
        held = people_after.get(after.get("elder_word") or "_", {}).get(k)
        out.facts_ok += _same(held, v)
    if expect.get("persons"):
        _score_household(out, expect["persons"], people_after)
    return out


def _score_household(out: Outcome, expected: dict, recorded: dict) -> None:
    """Right when each expected person holds their facts; mixed when a person holds a value that
    was said of another person (and not of them)."""
    if "_" in recorded and len(expected) == 1:
        recorded = {next(iter(expected)): recorded.pop("_"), **recorded}
    for label, facts in expected.items():
        mine = recorded.get(label) or {}
        out.persons_total += 1
        out.persons_ok += label in recorded
        for k, v in (facts or {}).items():
            out.facts_total += 1
            out.facts_ok += _same(mine.get(k), v)
    for label, mine in recorded.items():
        own = (expected.get(label) or {}) if label in expected else None
        for k, v in mine.items():
            if k not in PERSONAL or (own is not None and _same(own.get(k), v)):
                continue
            others = [o for o, facts in expected.items() if o != label and _same((facts or {}).get(k), v)]
            if others:
                out.mixed.append(f"{label}.{k}={v}（是{others[0]}的）")


def run(cases: list[dict], url: str, workers: int = 4) -> list[Outcome]:
    facts, policies = _facts_names(), _policies()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda c: run_case(c, url, facts, policies), cases))


def _rate(ok: int, n: int) -> str:
    return f"{ok}/{n}" if n else "—"


def section(outcomes: list[Outcome], seconds: float, title: str = "## 8. Issue 17's tone and trust "
                                                                    "(data/eval/trust17_*.yml)") -> list[str]:
    by = defaultdict(list)
    for o in outcomes:
        by[o.cls].append(o)
    lines = [title, "",
             f"{len(outcomes)} messages written blind from the brief and the issue's classes, each after its own "
             f"earlier messages, against the real servers ({seconds:.0f} s). Targets: wiped 0, goodbyes not meant 0, "
             "out-of-scope answered with a policy card 0, households with facts mixed 0.", "",
             "| class | n | wiped | goodbye not meant | goodbye missed | policy card (out of scope) | referred | "
             "help named | answered now | facts | households mixed | errors |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    totals = defaultdict(int)
    for cls in CLASSES + tuple(sorted(set(by) - set(CLASSES))):
        group = by.get(cls) or []
        if not group:
            continue
        wiped = sum(1 for o in group if o.wiped or o.request_lost)
        cases = CASES_BY_ID
        unmeant = sum(1 for o in group if o.goodbye and not (cases.get(o.id, {}).get("expect") or {}).get("goodbye"))
        missed = sum(1 for o in group if not o.goodbye and (cases.get(o.id, {}).get("expect") or {}).get("goodbye"))
        card = sum(1 for o in group if o.card and (cases.get(o.id, {}).get("expect") or {}).get("policy_card") is False)
        wanted_card = sum(1 for o in group if (cases.get(o.id, {}).get("expect") or {}).get("policy_card") is False)
        referred = [o.referred for o in group if o.referred is not None]
        helped = [o.helped for o in group if o.helped is not None]
        now = [o.answered_now for o in group if o.answered_now is not None]
        fok, ftot = sum(o.facts_ok for o in group), sum(o.facts_total for o in group)
        mixed = sum(1 for o in group if o.mixed)
        errors = sum(1 for o in group if o.error)
        for k, v in (("wiped", wiped), ("unmeant", unmeant), ("card", card), ("mixed", mixed), ("errors", errors)):
            totals[k] += v
        lines.append(f"| {cls} | {len(group)} | {wiped} | {unmeant} | {missed} | {_rate(card, wanted_card) if wanted_card else '—'} "
                     f"| {_rate(sum(referred), len(referred))} | {_rate(sum(helped), len(helped))} "
                     f"| {_rate(sum(now), len(now))} | {_rate(fok, ftot)} | "
                     f"{_rate(mixed, len(group)) if cls == 'households' else '—'} | {errors} |")
    verdict = lambda n: "met" if n == 0 else "**not met**"  # noqa: E731
    lines += ["", f"- Wiped conversations: {totals['wiped']} ({verdict(totals['wiped'])}); goodbyes not meant: "
              f"{totals['unmeant']} ({verdict(totals['unmeant'])}); out-of-scope answered with a policy card: "
              f"{totals['card']} ({verdict(totals['card'])}); households with facts mixed: {totals['mixed']} "
              f"({verdict(totals['mixed'])}); server errors: {totals['errors']}.", ""]
    lengths = [len(b) for o in outcomes for b in o.bubbles]
    if lengths:
        lines += [length_line("Bubble length in these replies", lengths), ""]
    lines += ["### What went wrong", ""]
    for o in outcomes:
        why = problems(o)
        if why:
            lines.append(f"- {o.id} ({o.cls}, {o.style}) 「{o.message[:40]}」: " + "；".join(why))
    return lines + [""]


def length_line(what: str, lengths: list[int]) -> str:
    ordered = sorted(lengths)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    over = sum(1 for n in ordered if n > 200)
    return (f"{what}: {len(ordered)} bubbles, median {statistics.median(ordered):.0f} characters, p95 {p95}, "
            f"max {ordered[-1]}; over 200: {over}.")


CASES_BY_ID: dict = {}


def problems(o: Outcome) -> list[str]:
    expect = (CASES_BY_ID.get(o.id) or {}).get("expect") or {}
    out = []
    if o.error:
        out.append(o.error)
    if o.wiped:
        out.append("wiped " + ", ".join(o.wiped))
    if o.request_lost:
        out.append("the request in progress was lost")
    if o.goodbye and not expect.get("goodbye"):
        out.append("goodbye not meant")
    if not o.goodbye and expect.get("goodbye"):
        out.append("goodbye missed")
    if o.card and expect.get("policy_card") is False:
        out.append("answered with a policy card")
    if o.referred is False:
        out.append(f"no {expect.get('refer')}")
    if o.helped is False:
        out.append("help not named (" + ",".join(expect.get("help") or []) + ")")
    if o.answered_now is False:
        out.append("no answer now")
    if o.mixed:
        out.append("mixed " + ", ".join(o.mixed))
    if o.facts_total and o.facts_ok < o.facts_total:
        out.append(f"facts {o.facts_ok}/{o.facts_total}")
    if out and o.reply:
        out.append("reply: " + o.reply.replace("\n", " / ")[:160])
    return out


def evaluate(url: str, files=FILES) -> tuple[list[Outcome], float]:
    import time
    cases = load(files)
    CASES_BY_ID.update({c["id"]: c for c in cases})
    started = time.monotonic()
    return run(cases, url), time.monotonic() - started


def sections(url: str) -> list[str]:
    """Section 8: the set the fixes were found with, then the held-out set written afterwards."""
    dev, seconds = evaluate(url)
    lines = section(dev, seconds)
    if HELDOUT.exists():
        held, seconds = evaluate(url, (HELDOUT,))
        lines += section(held, seconds, title="### 8b. Held out: written after the first fixes by another helper "
                                              "(data/eval/heldout17_trust.yml); its classes were then fixed too")
    if FINAL.exists():
        final, seconds = evaluate(url, (FINAL,))
        lines += section(final, seconds, title="### 8c. Final: written by a third helper after 8b's fixes "
                                               "(data/eval/final17_trust.yml); its first run, before the fixes "
                                               "of its own classes, is quoted in README")
    return lines


def main() -> int:
    """`python -m app.evaluation.trust17`: only this section, printed (quicker than `make eval`)."""
    import dataclasses
    import tempfile

    from app.serve import Advisor, free_port
    from storage.settings import Settings
    settings = Settings.from_env()
    with tempfile.TemporaryDirectory(prefix="eldercare-eval-") as tmp:
        local = dataclasses.replace(settings, var_dir=Path(tmp), db_url=f"sqlite:///{tmp}/eldercare.db")
        advisor = Advisor(local, free_port(), free_port(), log_dir=Path(tmp) / "logs", enable_api=True)
        advisor.start()
        try:
            lines = sections(advisor.url)
        finally:
            advisor.stop()
    print("\n".join(lines))
    return 0



# --- reply shape over whole conversations: bubble lengths, rank of the most relevant result ----------
MOST_RELEVANT = EVAL / "most_relevant.yml"
HELDOUT = EVAL / "heldout17_trust.yml"
FINAL = EVAL / "final17_trust.yml"


def shape_section(outcomes: list) -> list[str]:
    """From the persona conversations (section 5 and 7's harness): characters per bubble, and where
    the result that matters most for each family (labelled blind: data/eval/most_relevant.yml) came
    in the first results they saw."""
    labels = (yaml.safe_load(MOST_RELEVANT.read_text(encoding="utf-8")) or {}).get("labels", {}) \
        if MOST_RELEVANT.exists() else {}
    lines = ["## 9. Reply shape (issue 17): bubble length and the rank of the most relevant result", ""]
    lengths = [n for o in outcomes for n in getattr(o, "bubbles", [])]
    if lengths:
        lines += [length_line(f"All advisor bubbles in {len(outcomes)} persona conversations", lengths), ""]
    ranks, missing = [], []
    for o in outcomes:
        label = (labels.get(o.id) or {}).get("policy")
        if not label or not o.first_order:
            continue
        if label in o.first_order:
            ranks.append((o.id, o.first_order.index(label) + 1, label))
        else:
            missing.append((o.id, label))
    if ranks or missing:
        n = len(ranks) + len(missing)
        top1 = sum(1 for _, r, _ in ranks if r == 1)
        top3 = sum(1 for _, r, _ in ranks if r <= 3)
        med = statistics.median([r for _, r, _ in ranks]) if ranks else 0
        lines += [f"The most relevant result, labelled blind for {n} personas: first {top1}/{n}, in the first page "
                  f"(top 3) {top3}/{n}, median rank {med:.0f}; not among the results shown (not eligible or "
                  f"possible for what was said, or not yet decided) {len(missing)}/{n}.", "",
                  "Ranked lowest:", ""]
        for pid, r, label in sorted(ranks, key=lambda x: -x[1])[:10]:
            lines.append(f"- {pid}: {label} at {r}")
        for pid, label in missing[:10]:
            lines.append(f"- {pid}: {label} not shown")
    return lines + [""]


if __name__ == "__main__":
    raise SystemExit(main())
