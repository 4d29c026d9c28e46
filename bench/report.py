"""`make bench`: the advisor beside Rasa's own starter bot, measured in one run → docs/benchmarks.md.

Both bots are served on free ports and driven by the same asyncio client (bench/load.py) at
1, 10 and 50 concurrent users. Also measured: the policy engine, training time, cold start to
the first answer, peak memory of every process, and — to say where a turn's time goes — a
sampling profile (py-spy) of the advisor's Rasa server under the 10-user load. Shared machines
are noisy: absolute figures move from run to run; the ratios within one run are what count.
"""
from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from app.serve import free_port
from bench import engine_bench, scaleout
from bench import notify as notify_bench
from bench import voice as voice_bench
from bench.load import advisor_script, drive, starter_script

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks.md"
LEVELS = ((1, 3), (10, 2), (50, 1))        # (concurrent users, conversations each)
TARGETS = {"single_p50_ms": 50, "p95_10_ms": 150, "turns_per_s_50": 60}
RASA = str(Path(sys.executable).with_name("rasa"))


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def first_answer(url: str, text: str, timeout: float = 300) -> float:
    """Seconds until the bot answers `text` (polls while it starts)."""
    started = time.monotonic()
    body = json.dumps({"sender": f"cold-{time.time_ns()}", "message": text}).encode()
    while time.monotonic() - started < timeout:
        try:
            request = urllib.request.Request(f"{url}/webhooks/rest/webhook", data=body,
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as reply:
                if json.loads(reply.read()):
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url} within {timeout} s")


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(),
            "kernel": platform.release(), "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M")}


def train_seconds(out: Path) -> float:
    from understanding import jieba_dict
    from policy_kb.kb import KnowledgeBase
    jieba_dict.write(ROOT / "build" / "jieba", KnowledgeBase.from_directory())
    started = time.monotonic()
    subprocess.run([RASA, "train", "--force", "--config", "config.yml", "--domain", "domain.yml", "--data", "data/nlu",
                    "data/rules.yml", "--out", str(out), "--fixed-model-name", "bench"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


# The stages of a turn in the Rasa server, by a function on the sample's stack (first match wins,
# innermost stages first, since the prediction loop contains the action calls).
STAGES = (
    ("tracker store (retrieve, save)", ("tracker_store.py)",)),
    ("action calls (the tracker sent as JSON, the reply validated and applied)",
     ("actions/action.py)", "actions/loops.py)", "aiohttp/client.py)", "jsonschema/")),
    ("NLU pipeline (normaliser, tokenizer, featurizers, classifier, fact extractor)", ("parse_message (",)),
    ("dialogue policies (Memoization, Rule: predicting the next action)",
     ("predict_next_with_tracker", "generate_all_prior_trackers", "core/policies/")),
    ("rest of the turn (tracker copies, events, channel)", ("core/processor.py)", "core/trackers.py)")),
    ("outside a turn, or a coroutine stack py-spy saw cut (HTTP, event loop)", ("",)),
)


def profile(pid: int, seconds: int, out: Path) -> dict:
    """Where the Rasa server's CPU goes: py-spy samples only while the server holds the GIL (it
    is one Python thread doing the work; waiting threads would otherwise swamp the profile),
    each attributed to the stage of the turn on its stack."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    proc = subprocess.run([spy, "record", "-p", str(pid), "-d", str(seconds), "-f", "raw", "-o", str(out),
                           "--gil", "--nonblocking"], capture_output=True, text=True)
    if proc.returncode != 0 or not out.exists():
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    stages, leaf, total = collections.Counter(), collections.Counter(), 0
    for line in out.read_text().splitlines():  # "func (file.py:12);func (file.py:40) 17"
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        named = ";".join(_frame_name(f) for f in stack.split(";"))
        total += int(n)
        stages[next(label for label, marks in STAGES if any(m in named for m in marks))] += int(n)
        leaf[_package(stack.split(";")[-1])] += int(n)
    if not total:
        return {"stages": [], "leaf": []}
    return {"stages": [(label, stages[label] / total) for label, _ in STAGES],
            "leaf": [(name, n / total) for name, n in leaf.most_common(12)], "samples": total}


def _frame_name(frame: str) -> str:
    """"validate (jsonschema/validators.py:1300)" -> "validate (jsonschema/validators.py)"."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    parts = path.split("/")
    short = "/".join(parts[parts.index("site-packages") + 1:]) if "site-packages" in parts else "/".join(parts[-2:])
    return f"{name} ({short})" if where else name


def _package(frame: str) -> str:
    """The library a leaf frame belongs to: jsonschema, sqlalchemy, rasa, our own code …
    (py-spy writes paths relative to site-packages or the standard library)."""
    path = frame.partition(" (")[2].rsplit(":", 1)[0]
    parts = [p for p in path.split("/") if p]
    if "site-packages" in parts:
        parts = parts[parts.index("site-packages") + 1:]
    if not parts:
        return frame
    if len(parts) == 1:
        return "Python standard library" if parts[0].endswith(".py") else parts[0]
    return parts[0]


def run_advisor(tmp: Path, profile_seconds: int) -> dict:
    from app.serve import Advisor, model_path
    from storage.bookings import BookingStore
    from storage.db import migrated_engine
    from storage.settings import Settings
    settings = dataclasses.replace(Settings.from_env(), var_dir=tmp, db_url=f"sqlite:///{tmp}/eldercare.db")
    if not model_path(settings).exists():
        raise SystemExit("没有训练好的模型：先运行 `make train`")
    advisor = Advisor(settings, free_port(), free_port(), log_dir=tmp / "logs")
    started = time.monotonic()
    advisor.start()
    cold = time.monotonic() - started + first_answer(advisor.url, "你好")
    out = {"cold_start_s": cold, "levels": {}}
    try:
        for users, rounds in LEVELS:
            if users == 10 and profile_seconds:
                import threading
                holder = {}
                spy = threading.Thread(target=lambda: holder.update(
                    top=profile(advisor.procs[1].pid, profile_seconds, tmp / "profile.txt")))
                spy.start()
                run = drive(advisor.url, advisor_script, users, rounds)
                spy.join()
                out["profile"] = holder.get("top", [])
            else:
                run = drive(advisor.url, advisor_script, users, rounds)
            out["levels"][users] = run.summary()
            if users == 1:
                out["single_by_turn"] = {i: sorted(v)[len(v) // 2] * 1000 for i, v in sorted(run.by_turn.items())}
            out.setdefault("references", []).extend(run.references)
        out["rss_mb"] = {"rasa server": peak_rss_mb(advisor.procs[1].pid),
                         "action server": peak_rss_mb(advisor.procs[0].pid)}
    finally:
        advisor.stop()
    store = BookingStore(migrated_engine(settings.db_url))
    acknowledged = {ref for ref, _ in out["references"]}
    stored = [b for b in store.list(kind="home_service")]
    by_phone = collections.Counter(b.phone for b in stored)
    out["bookings"] = {"acknowledged": len(acknowledged),
                       "acknowledged_and_stored": sum(1 for r in acknowledged if store.get(r) is not None),
                       "stored": len(stored), "duplicates": sum(n - 1 for n in by_phone.values() if n > 1)}
    return out


def run_starter(tmp: Path) -> dict:
    project = tmp / "starter"
    project.mkdir()
    started = time.monotonic()
    subprocess.run([RASA, "init", "--no-prompt", "--init-dir", str(project)], cwd=project, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = {"init_and_train_s": time.monotonic() - started, "levels": {}}
    port = free_port()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.monotonic()
    proc = subprocess.Popen([RASA, "run", "--model", str(project / "models"), "--port", str(port),
                             "--interface", "127.0.0.1"], cwd=project, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        first_answer(url, "hello")
        out["cold_start_s"] = time.monotonic() - started
        for users, rounds in LEVELS:
            run = drive(url, starter_script, users, rounds)
            out["levels"][users] = run.summary()
        out["rss_mb"] = {"rasa server": peak_rss_mb(proc.pid)}
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return out


def render(m: dict, engine: dict, engine_nf: dict, train_s: float, adv: dict, st: dict, command: str) -> str:
    def row(name, s):
        return (f"| {name} | {s['users']} | {s['turns']} | {s['turns_per_s']:.1f} | {s['p50_ms']:.0f} | "
                f"{s['p95_ms']:.0f} | {s['p99_ms']:.0f} | {s['errors']} |")
    a10, s10 = adv["levels"][10], st["levels"][10]
    a1, a50 = adv["levels"][1], adv["levels"][50]
    verdict = lambda ok: "met" if ok else "**not met**"  # noqa: E731
    lines = ["# Benchmarks", "",
             f"Written by `{command}` on {m['date']} — {m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, "
             f"Linux {m['kernel']}. One run; shared machines are noisy, so compare within the run.", "",
             "## Turns over the REST channel", "",
             "The same asyncio client (`bench/load.py`) drives both bots; each simulated user sends its next "
             "message as soon as the reply arrives. The advisor's conversation (16 turns): greeting, facts, "
             "户籍, accepting the offer, 不清楚 twice, a numbered choice, 更多, a policy question, a home-care "
             "booking through to its reference number, 重新开始 — on the embedded defaults (SQLite for the "
             "KB, bookings and trackers). The starter bot (`rasa init --no-prompt`: TED, in-memory tracker, "
             "no custom actions): its own greet / mood / goodbye turns (12).", "",
             "| bot | users | turns | turns/s | p50 ms | p95 ms | p99 ms | errors |", "|---|---|---|---|---|---|---|---|"]
    for users, _ in LEVELS:
        lines.append(row("advisor", adv["levels"][users]))
    for users, _ in LEVELS:
        lines.append(row("starter bot", st["levels"][users]))
    ratio_p95 = a10["p95_ms"] / s10["p95_ms"] if s10.get("p95_ms") else float("nan")
    ratio_tp = a10["turns_per_s"] / s10["turns_per_s"] if s10.get("turns_per_s") else float("nan")
    b = adv["bookings"]
    lines += ["", f"Ratios at 10 users (advisor / starter bot): p95 **{ratio_p95:.2f}×**, throughput "
              f"**{ratio_tp:.2f}×**.", "",
              f"Bookings: {b['acknowledged']} reference numbers acknowledged to users, "
              f"{b['acknowledged_and_stored']} of them found in the database, {b['stored']} stored, "
              f"{b['duplicates']} duplicates.", "",
              "### Targets", "",
              f"- single user p50 ≤ {TARGETS['single_p50_ms']} ms: {a1['p50_ms']:.0f} ms "
              f"({verdict(a1['p50_ms'] <= TARGETS['single_p50_ms'])})",
              f"- 10 users p95 ≤ {TARGETS['p95_10_ms']} ms: {a10['p95_ms']:.0f} ms "
              f"({verdict(a10['p95_ms'] <= TARGETS['p95_10_ms'])}); no worse than the starter bot's "
              f"{s10['p95_ms']:.0f} ms ({verdict(a10['p95_ms'] <= s10['p95_ms'])})",
              f"- ≥ {TARGETS['turns_per_s_50']} turns/s with 50 users, 0 errors, nothing lost: "
              f"{a50['turns_per_s']:.1f} turns/s, {a50['errors']} errors, "
              f"{b['acknowledged'] - b['acknowledged_and_stored']} acknowledged bookings missing, "
              f"{b['duplicates']} duplicates ("
              f"{verdict(a50['turns_per_s'] >= TARGETS['turns_per_s_50'] and a50['errors'] == 0 and b['acknowledged'] == b['acknowledged_and_stored'] and b['duplicates'] == 0)})",
              "", "### Single user, median per turn (ms)", "",
              "| " + " | ".join(f"{i + 1}. {t}" for i, t in enumerate(advisor_script(0, 0))) + " |",
              "|" + "---|" * len(adv["single_by_turn"]),
              "| " + " | ".join(f"{v:.0f}" for v in adv["single_by_turn"].values()) + " |", ""]
    prof = adv.get("profile") or {}
    if prof.get("error"):
        lines += ["## Profile", "", f"py-spy could not sample the Rasa server: {prof['error']}", ""]
    if prof.get("leaf"):
        lines += ["## Where the advisor's Rasa server spends its time (10 users)", "",
                  f"py-spy sampling of the Rasa server process during the 10-user load, only while it holds "
                  f"the GIL ({prof['samples']} samples). By the stage of the turn:", "", "| share | stage |", "|---|---|"]
        lines += [f"| {share:.0%} | {label} |" for label, share in prof["stages"]]
        lines += ["", "By the library the CPU was in (self time):", "", "| share | library |", "|---|---|"]
        lines += [f"| {share:.0%} | {name} |" for name, share in prof["leaf"]]
        lines.append("")
    lines += ["## Other figures", "",
              f"- Policy engine (one core): {engine['per_second']:,.0f} full {engine['policies']}-policy "
              f"evaluations/s, mean {engine['mean_us']:.1f} µs, p99 {engine['p99_us']:.1f} µs; with next_fact "
              f"{engine_nf['per_second']:,.0f}/s, p99 {engine_nf['p99_us']:.1f} µs.",
              f"- Training (`rasa train` of this project): {train_s:.0f} s; the starter bot's `rasa init` "
              f"(creating and training it): {st['init_and_train_s']:.0f} s.",
              f"- Cold start to the first answer: advisor {adv['cold_start_s']:.1f} s (both servers), starter "
              f"bot {st['cold_start_s']:.1f} s.",
              "- Peak memory (VmHWM): " + ", ".join(f"advisor {k} {v:.0f} MB" for k, v in adv["rss_mb"].items() if v)
              + f", starter bot {st['rss_mb']['rasa server']:.0f} MB.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--engine-seconds", type=float, default=3.0)
    parser.add_argument("--profile-seconds", type=int, default=15)
    parser.add_argument("--notify-profiles", type=int, default=1_000_000,
                        help="kept profiles for the notifier's bench (bench/notify.py)")
    args = parser.parse_args()
    command = "make bench" if os.environ.get("MAKELEVEL") else "python -m bench.report"
    m = machine()
    print("engine …", flush=True)
    engine = engine_bench.run(args.engine_seconds, False)
    engine_nf = engine_bench.run(args.engine_seconds, True)
    with tempfile.TemporaryDirectory(prefix="eldercare-bench-") as tmp:
        tmp = Path(tmp)
        print("training time …", flush=True)
        train_s = train_seconds(tmp / "models")
        print("advisor …", flush=True)
        (tmp / "advisor").mkdir()
        adv = run_advisor(tmp / "advisor", args.profile_seconds)
        print("starter bot …", flush=True)
        st = run_starter(tmp)
        print("two instances vs one …", flush=True)
        (tmp / "scale").mkdir()
        scale = scaleout.run(tmp / "scale")
    print(f"notifier over {args.notify_profiles:,} kept profiles …", flush=True)
    notifier = notify_bench.run_all(args.notify_profiles)   # 政策找人: PostgreSQL and SQLite
    print("voice notes …", flush=True)
    with tempfile.TemporaryDirectory(prefix="eldercare-bench-voice-") as tmp:
        voice = voice_bench.run(Path(tmp))                  # Telegram voice notes: the default engine
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(render(m, engine, engine_nf, train_s, adv, st, command) + "\n".join(scaleout.render(scale))
                      + "\n\n" + "\n".join(notify_bench.render(notifier)) + "\n\n" + "\n".join(voice_bench.render(voice)),
                      encoding="utf-8")
    print(f"写好了 {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
