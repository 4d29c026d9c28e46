"""`make bench`, voice notes: what the default speech engine costs, and whether it slows anyone else.

* seconds to transcribe a 10 s and a 30 s voice note with the packaged Whisper base (int8, CPU),
  on 1 and 2 threads, and the engine's peak memory (a process of its own, like the bridge's worker);
* typed turns through the real Telegram bridge (fake Bot API, real advisor): their p50/p95 alone,
  then while 5 voice notes are being transcribed by the bridge's worker pool. Target: p95 within
  1.5× of the p95 without.

The speech is the test clip (tests/data/voice_zh_aishell.ogg: AISHELL-1, Apache-2.0) repeated to
the length wanted, as Telegram OGG/Opus.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CLIP = ROOT / "tests" / "data" / "voice_zh_aishell.ogg"
TOKEN = "123456789:AAFakeTokenForBenchOnly_abcdefghijklmnop"
TEXT_USERS = 3
TEXT_ROUNDS = 2
TEXT_SCRIPT = ["你好", "我妈今年85岁，住在姑苏区", "本地户口", "好的", "不清楚", "不清楚", "1", "更多",
               "长护险怎么申请", "重新开始"]
VOICE_NOTES = 5
TARGET_RATIO = 1.5


SPEECH_CACHE = Path(os.environ.get("SPEECH_VENV", "/work/speech-venv")) / "cache" / "tts"


def material() -> tuple[np.ndarray, str]:
    """16 kHz speech to cut notes from: the evaluation's spoken persona sentences when
    tools/speech_eval has made them on this machine (different sentences, as a person talks;
    never shipped), else the test clip repeated (a repeated sentence makes Whisper retry, so
    it is slower than real speech)."""
    import wave

    from channels.core import speech
    pause = np.zeros(int(0.4 * speech.RATE), np.int16)
    pieces = []
    for path in sorted(SPEECH_CACHE.glob("*.wav"))[:60]:
        with wave.open(str(path)) as w:
            if w.getframerate() == speech.RATE:
                pieces += [np.frombuffer(w.readframes(w.getnframes()), np.int16), pause]
    if sum(len(p) for p in pieces) > 40 * speech.RATE:
        return np.concatenate(pieces), "评测用的合成普通话句子（tools/speech_eval 的缓存，各不相同）"
    wav = speech.to_wav16k(CLIP.read_bytes())
    return np.concatenate([np.frombuffer(wav[44:], np.int16), pause]), "测试片段（AISHELL-1）重复"


def note(seconds: float, offset: float = 0.0) -> bytes:
    """`seconds` of speech as a Telegram voice note (OGG/Opus)."""
    from channels.core import speech
    pcm, _ = material()
    reps = int(np.ceil((seconds + offset) * speech.RATE / len(pcm)))
    start = int(offset * speech.RATE)
    audio = np.concatenate([pcm] * reps)[start:start + int(seconds * speech.RATE)]
    return speech.voice_note(audio, speech.RATE)


_ENGINE_PROBE = r"""
import json, sys, time
from channels.core import speech
threads = int(sys.argv[1])
started = time.monotonic()
engine = speech.FasterWhisper(str(speech.default_model_dir()), threads=threads)
load = time.monotonic() - started
out = {"threads": threads, "load_s": load}
for path in sys.argv[2:]:
    wav = speech.to_wav16k(open(path, "rb").read())
    runs = []
    for _ in range(2):
        t = time.monotonic()
        engine.transcribe(wav)
        runs.append(time.monotonic() - t)
    out[f"{round(speech.wav_seconds(wav))}s"] = min(runs)
out["peak_rss_mb"] = next(int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps(out))
"""


def engine_costs(tmp: Path) -> list[dict]:
    paths = []
    for seconds in (10, 30):
        path = tmp / f"note{seconds}.ogg"
        path.write_bytes(note(seconds))
        paths.append(str(path))
    out = []
    for threads in (1, 2):
        done = subprocess.run([sys.executable, "-c", _ENGINE_PROBE, str(threads), *paths], cwd=ROOT,
                              capture_output=True, text=True, check=True)
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


class _TimedApi:
    """The tests' fake Bot API, noting when each message was sent."""

    def __new__(cls):
        sys.path.insert(0, str(ROOT / "tests"))
        from fake_bot_api import FakeBotApi

        class Timed(FakeBotApi):
            def handle(self, method, params):
                if method == "sendMessage":
                    params["_at"] = time.monotonic()
                return super().handle(method, params)
        return Timed(TOKEN)


def _first_reply(api, chat: int, after: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = api.sent(chat)
        if len(sent) > after:
            return sent[after]
        time.sleep(0.01)
    raise TimeoutError(f"chat {chat}: no reply")


def _text_users(api, base_chat: int, latencies: list, slow: list | None = None, since: float | None = None) -> None:
    def user(chat):
        for text in TEXT_SCRIPT * TEXT_ROUNDS:
            before = len(api.sent(chat))
            pushed = time.monotonic()
            api.text(chat, text)
            reply = _first_reply(api, chat, before)
            latencies.append(reply["_at"] - pushed)
            if slow is not None:
                slow.append((round(reply["_at"] - pushed, 3), round(pushed - (since or pushed), 2), text))
            time.sleep(0.5)                  # the rest of the reply arrives; a person reads it
            while len(api.sent(chat)) and time.monotonic() - api.sent(chat)[-1]["_at"] < 0.3:
                time.sleep(0.1)
    threads = [threading.Thread(target=user, args=(base_chat + u,)) for u in range(TEXT_USERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _pct(values: list, p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] * 1000 if ordered else float("nan")


def text_turns_under_voice(tmp: Path) -> dict:
    import dataclasses

    from app.serve import Advisor, free_port, model_path
    from bench.report import first_answer
    from storage.settings import Settings
    settings = dataclasses.replace(Settings.from_env(), var_dir=tmp, db_url=f"sqlite:///{tmp}/eldercare.db")
    if not model_path(settings).exists():
        raise SystemExit("没有训练好的模型：先运行 `make train`")
    advisor = Advisor(settings, free_port(), free_port(), log_dir=tmp / "logs")
    advisor.start()
    first_answer(advisor.url, "你好")
    api = _TimedApi().start()
    api.server.handle_error = lambda *args: None   # a bridge that stops mid-poll: not news
    log = open(tmp / "bridge.log", "wb")
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": api.base_url,
           "ELDERCARE_VAR_DIR": str(tmp)}
    env.pop("ELDERCARE_STT_ENGINE", None)
    env.pop("ELDERCARE_DB_URL", None)
    if os.environ.get("BENCH_STT_ENGINE"):   # to tell the engine's cost from the rest of a voice turn
        env["ELDERCARE_STT_ENGINE"] = os.environ["BENCH_STT_ENGINE"]
    bridge = subprocess.Popen([sys.executable, "-m", "app.cli", "telegram", "--url", advisor.url], cwd=ROOT,
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while b"speech-to-text ready" not in (tmp / "bridge.log").read_bytes():
            if bridge.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the bridge did not start: " + (tmp / "bridge.log").read_text()[-2000:])
            time.sleep(0.2)
        # warm-up: every code path once, typed and by voice (the advisor builds some of its indexes
        # on the first message that needs them: about a second, once per process, for everyone)
        _text_users(api, 9000, [])
        ogg = {s: note(s, offset=s) for s in (10, 20, 30)}
        for i, seconds in enumerate(ogg):
            api.files[f"warm{i}"] = ogg[seconds]
            api.other(9050 + i, voice={"file_id": f"warm{i}", "file_unique_id": f"warm{i}", "duration": seconds,
                                       "mime_type": "audio/ogg", "file_size": len(ogg[seconds])})
            _first_reply(api, 9050 + i, 2, timeout=300)    # 正在听…, 我听到的是…, then the advisor
        time.sleep(1)
        alone: list = []
        _text_users(api, 9100, alone)
        # five notes of 10–30 s at once in five chats, then the same typed conversations meanwhile
        voice_chats = list(range(9300, 9300 + VOICE_NOTES))
        pushed = time.monotonic()
        for i, chat in enumerate(voice_chats):
            seconds = (10, 20, 30, 10, 20)[i % 5]
            file_id = f"bench{chat}"
            api.files[file_id] = ogg[seconds]
            api.other(chat, voice={"file_id": file_id, "file_unique_id": file_id, "duration": seconds,
                                   "mime_type": "audio/ogg", "file_size": len(ogg[seconds])})
        busy: list = []
        slowest: list = []
        _text_users(api, 9200, busy, slowest, pushed)
        text_done = time.monotonic()
        heard_at = []
        for chat in voice_chats:
            deadline = time.monotonic() + 300
            while not any(m["text"].startswith(("我听到的是", "不好意思")) for m in api.sent(chat)):
                if time.monotonic() > deadline:
                    raise TimeoutError("a voice note was never answered")
                time.sleep(0.1)
            heard_at.append(next(m["_at"] for m in api.sent(chat)
                                 if m["text"].startswith(("我听到的是", "不好意思"))) - pushed)
        return {"alone": {"turns": len(alone), "p50_ms": _pct(alone, 0.5), "p95_ms": _pct(alone, 0.95)},
                "voice": {"turns": len(busy), "p50_ms": _pct(busy, 0.5), "p95_ms": _pct(busy, 0.95),
                          "text_window_s": text_done - pushed, "slowest": sorted(slowest, reverse=True)[:5],
                          "notes": VOICE_NOTES, "audio_s": 90, "heard_after_s": sorted(heard_at),
                          "heard": [next(m["text"] for m in api.sent(c) if m["text"].startswith(("我听到的是", "不好意思")))
                                    for c in voice_chats[:1]]}}
    finally:
        if os.environ.get("BENCH_VOICE_LOG"):
            import shutil
            shutil.copy(tmp / "bridge.log", os.environ["BENCH_VOICE_LOG"])
        bridge.terminate()
        try:
            bridge.wait(timeout=30)
        except subprocess.TimeoutExpired:
            bridge.kill()
        log.close()
        api.stop()
        advisor.stop()


def run(tmp: Path) -> dict:
    tmp.mkdir(parents=True, exist_ok=True)
    from channels.core import speech
    if not (speech.default_model_dir() / "model.bin").is_file():
        return {"unavailable": "没有默认语音模型（make setup 会准备）"}
    return {"engine": engine_costs(tmp), "turns": text_turns_under_voice(tmp)}


def render(result: dict) -> list[str]:
    lines = ["", "", "## 语音消息（Telegram 默认引擎）", ""]
    if "unavailable" in result:
        return lines + [f"未测：{result['unavailable']}", ""]
    lines += [f"Whisper base（CTranslate2 int8，CPU），默认域提示词；语音：{material()[1]}。", "",
              "| 线程 | 载入 s | 10 s 语音 s | 30 s 语音 s | 峰值内存 MB |", "|---|---|---|---|---|"]
    for e in result["engine"]:
        lines.append(f"| {e['threads']} | {e['load_s']:.1f} | {e['10s']:.1f} | {e['30s']:.1f} | {e['peak_rss_mb']:.0f} |")
    t = result["turns"]
    a, v = t["alone"], t["voice"]
    ratio = v["p95_ms"] / a["p95_ms"] if a["p95_ms"] else float("nan")
    lines += ["", f"打字的对话经真实的 Telegram 桥（假 Bot API，真实顾问），{TEXT_USERS} 个用户各 {len(TEXT_SCRIPT)} 轮；"
              f"（{TEXT_ROUNDS} 遍）；第二次同时有 {v['notes']} 条语音（共 {v['audio_s']} s）在桥的转写进程池里（1 个进程，SCHED_IDLE 调度）。", "",
              "| | 轮数 | p50 ms | p95 ms |", "|---|---|---|---|",
              f"| 没有语音 | {a['turns']} | {a['p50_ms']:.0f} | {a['p95_ms']:.0f} |",
              f"| 5 条语音转写中 | {v['turns']} | {v['p50_ms']:.0f} | {v['p95_ms']:.0f} |", "",
              f"p95 之比 {ratio:.2f}（目标 ≤ {TARGET_RATIO}）{'✅' if ratio <= TARGET_RATIO else '❌'}；"
              f"打字对话用了 {v['text_window_s']:.0f} s，语音依次在 "
              + "、".join(f"{s:.0f}" for s in v["heard_after_s"]) + " s 后显示「我听到的是」。", ""]
    return lines


if __name__ == "__main__":
    import tempfile
    with tempfile.TemporaryDirectory(prefix="eldercare-voice-bench-") as d:
        res = run(Path(d))
    print(json.dumps(res, ensure_ascii=False, indent=1))
    print("\n".join(render(res)))
