"""Issue 16's blind evaluation: single messages and whole conversations written only from the
policy brief and the issue's list of classes (data/eval/blind16_*.yml), reported per class.

Single messages go through the trained model (normaliser, classifier, FactExtractor): intent
accuracy, and profile facts over every fact the message states or the advisor extracts (right
when equal). Class checks: a name shared by two districts gives no district; a vague age gives
no exact age but an estimate that contains the truth; a question about a policy records nothing.
Whole conversations run against the real servers (app/evaluation/personas.py), typed and, when
`tools/speech_eval/` has made it, machine-spoken and transcribed.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import yaml

from storage.settings import PROJECT_ROOT

EVAL = PROJECT_ROOT / "data" / "eval"
UTTERANCES = EVAL / "blind16_utterances.yml"
SPOKEN_UTTERANCES = EVAL / "blind16_utterances_spoken.yml"
CONVERSATIONS = (EVAL / "blind16_conversations_a.yml", EVAL / "blind16_conversations_b.yml")
SPOKEN_CONVERSATIONS = EVAL / "blind16_conversations_spoken.yml"
CLASSES = ("places", "self_correction", "vague_age", "wu_elder", "indirect", "booking_first",
           "question_not_statement", "run_on")
TARGETS = {"typed": 0.95, "spoken": 0.90}


def load_utterances(path: Path = UTTERANCES) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["utterances"] if path.exists() else []


def load_conversations(paths=CONVERSATIONS) -> list[dict]:
    out = []
    for path in paths:
        if Path(path).exists():
            out += yaml.safe_load(Path(path).read_text(encoding="utf-8"))["personas"]
    return out


def _facts(parse: dict) -> dict:
    return {e["entity"]: e["value"] for e in parse.get("entities", []) if e.get("extractor") == "FactExtractor"}


def score_utterances(items: list[dict], parses: list[dict]) -> dict:
    by_class = defaultdict(lambda: {"n": 0, "intent_ok": 0, "facts_ok": 0, "facts_total": 0, "checks_ok": 0,
                                    "checks": 0})
    failures = []
    for item, parse in zip(items, parses):
        row = by_class[item["style"]]
        row["n"] += 1
        intent = (parse.get("intent") or {}).get("name")
        row["intent_ok"] += intent == item["intent"]
        expected = {k: v for k, v in (item.get("facts") or {}).items() if k != "age_estimate"}
        got = _facts(parse)
        problems = [] if intent == item["intent"] else [f"意图: 应为 {item['intent']}，得到 {intent}"]
        for fact in (set(expected) | set(got)) if expected else ():   # nothing stated: the class check
            row["facts_total"] += 1
            if str(expected.get(fact)) == str(got.get(fact)):
                row["facts_ok"] += 1
            else:
                problems.append(f"{fact}: 应为 {expected.get(fact)}，得到 {got.get(fact)}")
        check = _class_check(item, parse, got)
        if check is not None:
            row["checks"] += 1
            row["checks_ok"] += check
            if not check:
                problems.append("class check failed")
        if problems:
            failures.append({"style": item["style"], "text": item["text"], "problems": problems})
    return {"classes": dict(by_class), "failures": failures}


def _class_check(item: dict, parse: dict, got: dict) -> bool | None:
    """What the class is about, beyond the facts: None when it does not apply."""
    if item.get("ambiguous"):
        return "district" not in got
    estimate = (item.get("facts") or {}).get("age_estimate")
    if estimate:
        low, high = estimate
        found = parse.get("age_range")
        return "age" not in got and bool(found) and found[0] <= high and found[1] >= low
    if item["style"] == "question_not_statement":
        return not {k for k in got if k != "subject"}
    return None


def _pct(ok: int, total: int) -> str:
    return f"{ok / total:.3f}" if total else "—"


def utterance_section(scored: dict, spoken: dict | None, n: int) -> list[str]:
    lines = ["## 6. Issue 16's blind single messages (data/eval/blind16_utterances.yml)", "",
             f"{n} messages written by a helper who saw only the policy brief and the issue's classes "
             "(never the lexicon, gazetteer or code), through the trained model. *Profile facts* counts every "
             "fact stated or extracted (right when equal). *Class check*: a place name shared by two districts "
             "gives no district; a vague age gives no exact age and an estimate overlapping the truth; a question "
             "about a policy records no fact.", "",
             "| class | n | intent acc. | profile facts | class check |" + (" transcribed: profile facts |" if spoken else ""),
             "|---|---|---|---|---|" + ("---|" if spoken else "")]
    total = defaultdict(int)
    for name in CLASSES:
        c = scored["classes"].get(name)
        if not c:
            continue
        cells = [name, str(c["n"]), _pct(c["intent_ok"], c["n"]), _pct(c["facts_ok"], c["facts_total"]),
                 _pct(c["checks_ok"], c["checks"])]
        if spoken:
            s = spoken["classes"].get(name) or {}
            cells.append(_pct(s.get("facts_ok", 0), s.get("facts_total", 0)))
        lines.append("| " + " | ".join(cells) + " |")
        for k in ("n", "intent_ok", "facts_ok", "facts_total", "checks_ok", "checks"):
            total[k] += c[k]
    cells = ["**all**", str(total["n"]), _pct(total["intent_ok"], total["n"]),
             _pct(total["facts_ok"], total["facts_total"]), _pct(total["checks_ok"], total["checks"])]
    if spoken:
        ok = sum(c["facts_ok"] for c in spoken["classes"].values())
        all_ = sum(c["facts_total"] for c in spoken["classes"].values())
        cells.append(_pct(ok, all_))
    lines += ["| " + " | ".join(cells) + " |", "", "### The worst 25 failures", ""]
    worst = sorted(scored["failures"], key=lambda f: -len(f["problems"]))[:25]
    lines += [f"- [{f['style']}] 「{f['text']}」 — " + "；".join(f["problems"]) for f in worst] or ["None."]
    return lines + [""]


def conversation_section(typed: list, spoken: list, seconds: float) -> list[str]:
    from app.evaluation.personas import problems, summary
    lines = ["## 7. Issue 16's blind whole conversations (data/eval/blind16_conversations_*.yml)", "",
             f"{len(typed)} conversations written blind in the issue's classes, held with the real servers "
             f"({seconds:.0f} s, same harness as section 5; a booking-first persona also answers the request's "
             "questions from its own `booking.answers` and confirms the summary).", "",
             "| set | class | n | reached results | profile fields | booking reference | moves as expected |",
             "|---|---|---|---|---|---|---|"]

    def row(name, cls, s):
        ref = f"{s['references']}/{s['wanted_references']}" if s["wanted_references"] else "—"
        return (f"| {name} | {cls} | {s['n']} | {s['reached']} | {s['fields']:.3f} ({s['fields_ok']}/{s['fields_total']}) "
                f"| {ref} | {s['moves_met']}/{s['moves']} |")
    sums = {}
    for name, outcomes in (("typed", typed), ("transcribed", spoken)):
        if not outcomes:
            continue
        sums[name] = summary(outcomes)
        for cls in CLASSES:
            if cls in sums[name]["styles"]:
                lines.append(row(name, cls, sums[name]["styles"][cls]))
        lines.append(row(name, "**all**", sums[name]["all"]))
    verdict = lambda ok: "met" if ok else "**not met**"  # noqa: E731
    lines += ["", "### Targets", ""]
    for name, s in sums.items():
        a = s["all"]
        lines.append(f"- {name}: profile fields {a['fields']:.3f} (target ≥ {TARGETS['typed' if name == 'typed' else 'spoken']}: "
                     f"{verdict(a['fields'] >= TARGETS['typed' if name == 'typed' else 'spoken'])}); every conversation "
                     f"reaches results: {a['reached']}/{a['n']} ({verdict(a['reached'] == a['n'])})")
    lines += ["", "### What went wrong", ""]
    for name, outcomes in (("typed", typed), ("transcribed", spoken)):
        for o in outcomes:
            if problems(o):
                lines.append(f"- [{name}] {o.id} ({o.style}): " + "；".join(problems(o)))
    return lines + [""]


def main() -> int:
    """`python -m app.evaluation.blind16`: only this section, printed (quicker than `make eval`)."""
    import asyncio
    import dataclasses
    import sys
    import tempfile
    import time

    from app.evaluation import personas
    from app.evaluation.report import _parse_all
    from app.serve import Advisor, free_port, model_path
    from storage.settings import Settings
    settings = Settings.from_env()
    items, spoken = load_utterances(), load_utterances(SPOKEN_UTTERANCES)
    parses = asyncio.run(_parse_all(model_path(settings), [i["text"] for i in items + spoken]))
    lines = utterance_section(score_utterances(items, parses[:len(items)]),
                              score_utterances(spoken, parses[len(items):]) if spoken else None, len(items))
    if "--no-conversations" not in sys.argv:
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="eldercare-eval-") as tmp:
            local = dataclasses.replace(settings, var_dir=Path(tmp), db_url=f"sqlite:///{tmp}/eldercare.db")
            advisor = Advisor(local, free_port(), free_port(), log_dir=Path(tmp) / "logs")
            advisor.start()
            try:
                typed = personas.run(load_conversations(), advisor.url)
                said = personas.run(load_conversations((SPOKEN_CONVERSATIONS,)), advisor.url)
            finally:
                advisor.stop()
        lines += conversation_section(typed, said, time.monotonic() - started)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
