"""Transcript quality: VoiceCoach's offline speech-to-text beside plain faster-whisper.

One run, one loaded model (Whisper tiny.en, int8, beam 1, one thread), the same
audio given to both pipelines:

- **VoiceCoach**: the Silero voice activity of ``analyzers/vad.py``, then
  ``stt.offline.transcribe_channel`` (speech packed end to end), as ``analyze``
  transcribes a channel;
- **plain**: ``WhisperModel.transcribe(audio, vad_filter=True)`` with the same
  language and beam size, faster-whisper's own pipeline.

Sets: the real read speech in ``../shared/data/read/`` (each clip alone, and all
clips concatenated with 1–3 s pauses between them, closer to a call's turns), the
RAVDESS clips of ``../shared/data/emotion/ravdess/`` (each alone: 16 voices, five
emotions, 288 sentences, about 1,400 words), the
same as 8 kHz µ-law telephone audio (band-limited to 300–3400 Hz, µ-law
encoded and decoded, back to 16 kHz), and both channels of generated calls
(``tools.callgen.random_call(seed, voices=("espeak",), minutes=3)``; reference: the
text of each utterance). Read speech and RAVDESS are skipped cleanly when missing, the calls
when espeak-ng is.

Word error rate uses ``tools.scoring.normalize_text`` and jiwer. Times are the
wall and CPU seconds of each pipeline (voice activity included), interleaved item
by item so a busy machine slows both alike; "x RT" is audio seconds per second.

Where the words go: each reference word one pipeline got wrong (deleted or
substituted) is placed on the clock (from the word times of whichever pipeline got
it right, else between its neighbours) and classed by VoiceCoach's packing of
that channel: ``not packed`` (its audio was left out), ``pack join`` (within
``EDGE_S`` of a join between two packed spans), ``group edge`` (of a join between
two model calls), ``clip edge`` (the first or last speech of the audio) or
``inside`` a span.

Targets (issue 14): WER at most 1.00x plain on the read set and its telephone
version; VoiceCoach no slower than 1.10x the plain pipeline.

A decode that differs at all (the audio started 10 ms later) moves a 200-word set by one
to three words; ``--shifts K`` measures every item K times so started and sums the errors.
A second table counts the reference words only one pipeline lost, with an exact sign
test: whether a set's ratio shows a difference between the pipelines at all, or a split
as even as chance gives.

    python3 -m benchmarks.transcript [--data DIR] [--calls 1 2] [--sets "read,read tel,..."] [--shifts K] [--show]
"""
from __future__ import annotations

import argparse
import csv
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.scoring import normalize_text  # noqa: E402
from voicecoach.events import SAMPLE_RATE  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "read"
DEFAULT_RAVDESS = ROOT.parent / "shared" / "data" / "emotion" / "ravdess"
EDGE_S = 0.5          # a lost word this close to a span edge is lost at that edge
CLASSES = ("not packed", "pack join", "group edge", "clip edge", "inside")
SETS = ("read", "read joined", "ravdess", "read tel", "read joined tel", "ravdess tel",
        "call agent", "call customer")            # the names --sets takes
SHIFT_S = 0.010       # --shifts: each repeat starts this much later than the one before


def telephone(x: np.ndarray) -> np.ndarray:
    """16 kHz audio as a phone line carries it: 8 kHz, 300–3400 Hz, µ-law, back to 16 kHz."""
    import soxr
    from scipy.signal import butter, sosfilt

    y = soxr.resample(x.astype(np.float64), SAMPLE_RATE, 8000)
    y = sosfilt(butter(4, [300, 3400], btype="bandpass", fs=8000, output="sos"), y)
    y = np.clip(y, -1.0, 1.0)
    mu = 255.0
    c = np.sign(y) * np.log1p(mu * np.abs(y)) / np.log1p(mu)        # µ-law encode...
    c = np.round((c + 1.0) * 127.5) / 127.5 - 1.0                    # ...to 8 bits
    y = np.sign(c) * np.expm1(np.abs(c) * np.log1p(mu)) / mu         # decode
    return soxr.resample(y, 8000, SAMPLE_RATE).astype(np.float32)


@dataclass
class Item:
    set: str
    name: str
    audio: np.ndarray
    ref: str


@dataclass
class Result:
    text: str
    words: list            # (start, end, text) on the clock, when known
    wall: float
    cpu: float
    plan: list = field(default_factory=list)


def read_items(data: Path, rng: np.random.Generator) -> tuple[list[Item], list[Item]]:
    """(each clip alone, all clips concatenated with 1–3 s pauses)."""
    import soundfile as sf
    import soxr

    tsv = data / "transcripts.tsv"
    if not tsv.exists():
        print(f"skipped read speech: {data} (transcripts.tsv missing)")
        return [], []
    with tsv.open(newline="") as f:
        rows = [r for r in csv.reader(f, delimiter="\t") if r and not r[0].startswith("#")]
    if rows and not (data / rows[0][0]).exists():
        rows = rows[1:]                                     # a header line
    alone = []
    for name, ref in rows:
        a, sr = sf.read(data / name, dtype="float32", always_2d=True)
        a = a.mean(axis=1)
        if sr != SAMPLE_RATE:
            a = soxr.resample(a, sr, SAMPLE_RATE).astype(np.float32)
        alone.append(Item("read", name, a, ref))
    floor = lambda n: (rng.standard_normal(n) * 10 ** (-65 / 20)).astype(np.float32)  # noqa: E731
    pieces = [floor(SAMPLE_RATE)]
    for it in alone:
        pieces += [it.audio, floor(int(rng.uniform(1.0, 3.0) * SAMPLE_RATE))]
    joined = Item("read joined", "all clips", np.concatenate(pieces), " ".join(i.ref for i in alone))
    return alone, [joined]


def ravdess_items(data: Path) -> list[Item]:
    """Each RAVDESS clip alone: 16 actors, every emotion and intensity, one sentence each.

    A larger real-speech set than ``read/`` (288 clips, about 1,400 words), so that a
    word more or less moves the WER ratio less. The clips are not joined: the same two
    sentences said again and again are not speech a call holds, and Whisper takes
    the repetition for a decoding loop. Evaluation only (CC BY-NC-SA); skipped when
    missing.
    """
    import soundfile as sf
    import soxr

    labels = data / "labels.csv"
    if not labels.exists():
        print(f"skipped RAVDESS: {data} (labels.csv missing)")
        return []
    with labels.open(newline="") as f:
        rows = list(csv.DictReader(f))
    items = []
    for r in rows:
        a, sr = sf.read(data / r["file"], dtype="float32", always_2d=True)
        a = a.mean(axis=1)
        if sr != SAMPLE_RATE:
            a = soxr.resample(a, sr, SAMPLE_RATE).astype(np.float32)
        items.append(Item("ravdess", r["file"], a, r["text"]))
    return items


def call_items(seeds: list[int], minutes: float) -> list[Item]:
    if not seeds:
        return []
    if shutil.which("espeak-ng") is None:
        print("skipped generated calls: espeak-ng missing")
        return []
    from tools.callgen import random_call

    items = []
    for seed in seeds:
        call = random_call(seed, voices=("espeak",), minutes=minutes)
        for k, ch in enumerate(("agent", "customer")):
            ref = " ".join(u["text"] for u in call.truth["utterances"] if u["channel"] == ch)
            items.append(Item(f"call {ch}", f"seed {seed}", call.audio[:, k].copy(), ref))
    return items


def prepare(wanted: set[str], data: Path, ravdess: Path, seeds: list[int], minutes: float) -> list[Item]:
    """The items of the sets ``wanted`` (all when empty): only their audio is read,
    generated or put through the telephone line (``--sets read`` neither generates calls
    nor converts a clip), and only a missing set that was asked for is said skipped."""
    def want(*names: str) -> bool:
        return not wanted or any(n in wanted for n in names)

    sources: list[Item] = []
    if want("read", "read joined", "read tel", "read joined tel"):
        alone, joined = read_items(data, np.random.default_rng(0))
        sources += alone + joined
    if want("ravdess", "ravdess tel"):
        sources += ravdess_items(ravdess)
    items = [i for i in sources if want(i.set)]
    items += [Item(i.set + " tel", i.name, telephone(i.audio), i.ref) for i in sources if want(i.set + " tel")]
    if want("call agent", "call customer"):
        items += [i for i in call_items(seeds, minutes) if want(i.set)]
    return items


class Pipelines:
    def __init__(self, model_name: str, fw_vad: bool = False, **packing):
        from voicecoach.analyzers.vad import SileroVad
        from voicecoach.stt.whisper import TranscribeOptions, load_model

        self.options = TranscribeOptions(model=model_name, **packing)
        self.fw_vad = fw_vad
        self.model = load_model(self.options, num_workers=1)
        self.vad = SileroVad()
        self.model.transcribe(np.zeros(SAMPLE_RATE, np.float32), language="en")  # warm up

    def voicecoach(self, audio: np.ndarray) -> Result:
        from voicecoach.analyzers.vad import Segment, VoiceActivity
        from voicecoach.stt.offline import pack_plan, transcribe_channel

        w0, c0 = time.perf_counter(), time.process_time()
        if self.fw_vad:   # diagnostic: faster-whisper's own speech segments, VoiceCoach's packing
            from faster_whisper.vad import VadOptions, get_speech_timestamps

            segments = [Segment(t["start"] / SAMPLE_RATE, t["end"] / SAMPLE_RATE)
                        for t in get_speech_timestamps(audio, VadOptions())]
        else:
            self.vad.reset()
            va = VoiceActivity(model=self.vad)
            va.feed(audio)
            va.flush()
            segments = va.transcript_segments
        pieces = transcribe_channel(self.model, "agent", audio, segments, self.options)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        words = [(w.start, w.end, w.text) for p in pieces for w in p.words]
        return Result(" ".join(w[2] for w in words), words, wall, cpu,
                      pack_plan(segments, len(audio) / SAMPLE_RATE, self.options))

    def plain(self, audio: np.ndarray, word_timestamps: bool = False) -> Result:
        o = self.options
        w0, c0 = time.perf_counter(), time.process_time()
        segments, _ = self.model.transcribe(audio, language=o.language, beam_size=o.beam_size,
                                            vad_filter=True, word_timestamps=word_timestamps)
        segments = list(segments)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        words = [(w.start, w.end, w.word) for s in segments for w in (s.words or [])]
        return Result(" ".join(s.text.strip() for s in segments), words, wall, cpu)


def _norm(text: str) -> str:
    return " ".join(normalize_text(text))


def align(ref: str, hyp: str):
    """jiwer's alignment of normalised words: (reference words, hypothesis words, chunks)."""
    import jiwer

    r, h = _norm(ref), _norm(hyp)
    if not h:
        return r.split(), [], [("delete", 0, len(r.split()), 0, 0)]
    out = jiwer.process_words(r, h)
    return (out.references[0], out.hypotheses[0],
            [(c.type, c.ref_start_idx, c.ref_end_idx, c.hyp_start_idx, c.hyp_end_idx)
             for c in out.alignments[0]])


def errors(ref: str, hyp: str) -> Counter:
    _, _, chunks = align(ref, hyp)
    n = Counter(words=len(normalize_text(ref)))
    for kind, r0, r1, h0, h1 in chunks:
        if kind == "substitute":
            n["S"] += r1 - r0
        elif kind == "delete":
            n["D"] += r1 - r0
        elif kind == "insert":
            n["I"] += h1 - h0
    return n


def lost(ref: str, hyp: str) -> list[bool]:
    """Per reference word: whether ``hyp`` lost it (substituted or deleted)."""
    rw, _, chunks = align(ref, hyp)
    out = [False] * len(rw)
    for kind, r0, r1, _, _ in chunks:
        if kind in ("substitute", "delete"):
            out[r0:r1] = [True] * (r1 - r0)
    return out


def sign_test(only_a: int, only_b: int) -> float:
    """Two-sided exact sign test (McNemar's, exact) on paired words: the chance of a split
    at least this uneven if either pipeline were as likely to lose each word the other
    kept. ``only_a`` words only A lost, ``only_b`` only B.

    >>> sign_test(0, 0), sign_test(3, 3), round(sign_test(6, 0), 4)
    (1.0, 1.0, 0.0312)
    """
    from math import comb

    n, k = only_a + only_b, min(only_a, only_b)
    return min(1.0, 2 * sum(comb(n, i) for i in range(k + 1)) / 2 ** n) if n else 1.0


def word_times(result: Result) -> list[tuple[float, float, str]]:
    """The result's words split as normalize_text splits them, each with its word's times."""
    out = []
    for s, e, t in result.words:
        out += [(s, e, w) for w in normalize_text(t)]
    return out


def ref_status(ref: str, result: Result) -> tuple[list[str], list[Optional[tuple[float, float]]]]:
    """Per reference word: 'ok', 'S' or 'D', and its time where this result heard it."""
    rw, hw, chunks = align(ref, " ".join(t for _, _, t in word_times(result)))
    times_h = word_times(result)
    status: list[str] = ["ok"] * len(rw)
    times: list[Optional[tuple[float, float]]] = [None] * len(rw)
    for kind, r0, r1, h0, h1 in chunks:
        for k in range(r1 - r0):
            if kind == "equal":
                if len(times_h) == len(hw):
                    times[r0 + k] = times_h[h0 + k][:2]
            elif kind == "substitute":
                status[r0 + k] = "S"
                if len(times_h) == len(hw):
                    times[r0 + k] = times_h[h0 + k][:2]
            elif kind == "delete":
                status[r0 + k] = "D"
    return status, times


def fill_times(times: list[Optional[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Unknown word times: each run of them spread evenly between its known neighbours."""
    out = list(times)
    i, n = 0, len(times)
    while i < n:
        if times[i] is not None:
            i += 1
            continue
        j = i
        while j < n and times[j] is None:
            j += 1
        prev = times[i - 1][1] if i > 0 else 0.0
        nxt = times[j][0] if j < n else prev + 0.4 * (j - i)
        step = max(0.0, nxt - prev) / (j - i)
        for k in range(i, j):
            out[k] = (prev + (k - i) * step, prev + (k - i + 1) * step)
        i = j
    return out


def classify(t: tuple[float, float], plan: list[list[tuple[float, float]]]) -> str:
    """Where a word at ``t`` sits in VoiceCoach's packing (see the module docstring)."""
    mid = (t[0] + t[1]) / 2
    flat = [(g, k, s, e) for g, spans in enumerate(plan) for k, (s, e) in enumerate(spans)]
    if not flat:
        return "not packed"
    inside = [x for x in flat if x[2] <= mid <= x[3]]
    if not inside:
        return "not packed"
    g, k, s, e = inside[0]
    last_g = len(plan) - 1
    if mid - s < EDGE_S:
        if g == 0 and k == 0:
            return "clip edge"
        return "pack join" if k > 0 else "group edge"
    if e - mid < EDGE_S:
        if g == last_g and k == len(plan[g]) - 1:
            return "clip edge"
        return "pack join" if k < len(plan[g]) - 1 else "group edge"
    return "inside"


def where(item: Item, vc: Result, timed: Result) -> dict[str, Counter]:
    """Lost words by class: {'vc': Counter, 'plain': Counter}, 'S'/'D' prefixed classes."""
    vs, vt = ref_status(item.ref, vc)
    ps, pt = ref_status(item.ref, timed)
    times = fill_times([pt[i] or vt[i] for i in range(len(vs))])
    out = {"vc": Counter(), "plain": Counter(), "vc only": Counter(), "plain only": Counter()}
    for i, t in enumerate(times):
        c = classify(t, vc.plan)
        if vs[i] != "ok":
            out["vc"][(vs[i], c)] += 1
            if ps[i] == "ok":
                out["vc only"][(vs[i], c)] += 1
        if ps[i] != "ok":
            out["plain"][(ps[i], c)] += 1
            if vs[i] == "ok":
                out["plain only"][(ps[i], c)] += 1
    return out


def lost_context(item: Item, vc: Result, timed: Result, width: int = 4) -> list[str]:
    """Reference words lost by VoiceCoach but not by plain, in context, with their class."""
    vs, vt = ref_status(item.ref, vc)
    ps, pt = ref_status(item.ref, timed)
    times = fill_times([pt[i] or vt[i] for i in range(len(vs))])
    words = normalize_text(item.ref)
    out = []
    i = 0
    while i < len(vs):
        if vs[i] != "ok" and ps[i] == "ok":
            j = i
            while j + 1 < len(vs) and vs[j + 1] != "ok" and ps[j + 1] == "ok":
                j += 1
            ctx = " ".join(words[max(0, i - width):i]) + " [" + " ".join(
                f"{w}" if vs[k] == "D" else f"{w}~" for k, w in zip(range(i, j + 1), words[i:j + 1])) \
                + "] " + " ".join(words[j + 1:j + 1 + width])
            out.append(f"{times[i][0]:7.2f}s {classify(times[i], vc.plan):<10} {ctx}")
            i = j + 1
        else:
            i += 1
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--ravdess", type=Path, default=DEFAULT_RAVDESS)
    ap.add_argument("--model", default="tiny.en")
    ap.add_argument("--calls", type=int, nargs="*", default=[1], help="seeds of generated calls")
    ap.add_argument("--minutes", type=float, default=3.0, help="length of each generated call")
    ap.add_argument("--sets", default="", help="comma-separated subset of the set names: " + ", ".join(SETS))
    ap.add_argument("--show", action="store_true", help="print each word VoiceCoach alone lost")
    ap.add_argument("--pad-s", type=float, default=None, help="TranscribeOptions.pad_s (default: its own)")
    ap.add_argument("--merge-gap-s", type=float, default=None, help="TranscribeOptions.merge_gap_s")
    ap.add_argument("--no-refill", action="store_true",
                    help="TranscribeOptions.refill off: speech the packed decode passed over is not "
                         "decoded again on its own")
    ap.add_argument("--previous-text", choices=("on", "off"), default=None,
                    help="TranscribeOptions.previous_text (default: its own, on): each 30 s window "
                         "decoded with the window before's words as Whisper's prompt")
    ap.add_argument("--shifts", type=int, default=1, metavar="K",
                    help="measure each item K times, started 0, 10, ... (K-1)*10 ms later "
                         "(zeros before it), and sum the errors: one run's ratio moves by a few "
                         "words with such a shift, the sum over K much less")
    ap.add_argument("--fw-vad", action="store_true",
                    help="diagnostic: VoiceCoach's packing on faster-whisper's speech segments "
                         "(VadOptions defaults) instead of VoiceCoach's voice activity")
    args = ap.parse_args()
    wanted = {s.strip() for s in args.sets.split(",") if s.strip()}
    if wanted - set(SETS):
        ap.error(f"unknown sets {sorted(wanted - set(SETS))}; known: {', '.join(SETS)}")

    items = prepare(wanted, args.data, args.ravdess, args.calls, args.minutes)
    if not items:
        print("nothing to measure")
        return 0
    if args.shifts > 1:
        items = [Item(i.set, f"{i.name} +{k * SHIFT_S * 1000:.0f} ms",
                      np.concatenate([np.zeros(round(k * SHIFT_S * SAMPLE_RATE), np.float32), i.audio]),
                      i.ref) for i in items for k in range(args.shifts)]
    packing = {k: v for k, v in (("pad_s", args.pad_s), ("merge_gap_s", args.merge_gap_s)) if v is not None}
    if args.previous_text:
        packing["previous_text"] = args.previous_text == "on"
    if args.no_refill:
        packing["refill"] = False
    from voicecoach.stt.whisper import ModelError

    try:
        p = Pipelines(args.model, fw_vad=args.fw_vad, **packing)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sets: dict[str, dict] = {}
    for n, item in enumerate(items):
        # alternate which pipeline goes first, so neither always meets a warm cache
        if n % 2:
            pl, vc = p.plain(item.audio), p.voicecoach(item.audio)
        else:
            vc, pl = p.voicecoach(item.audio), p.plain(item.audio)
        timed = p.plain(item.audio, word_timestamps=True)   # word times only; not timed
        s = sets.setdefault(item.set, {"vc": Counter(), "pl": Counter(), "where": {},
                                       "audio": 0.0, "lost": [], "only": Counter()})
        s["vc"] += errors(item.ref, vc.text) + Counter(wall=vc.wall, cpu=vc.cpu)
        s["pl"] += errors(item.ref, pl.text) + Counter(wall=pl.wall, cpu=pl.cpu)
        for v_lost, p_lost in zip(lost(item.ref, vc.text), lost(item.ref, pl.text)):
            s["only"]["vc"] += v_lost and not p_lost
            s["only"]["pl"] += p_lost and not v_lost
        s["audio"] += len(item.audio) / SAMPLE_RATE
        for k, c in where(item, vc, timed).items():
            s["where"].setdefault(k, Counter()).update(c)
        if args.show:
            s["lost"] += [f"  {item.name}: {line}" for line in lost_context(item, vc, timed)]

    def wer(c: Counter) -> float:
        return (c["S"] + c["D"] + c["I"]) / max(1, c["words"])

    print(f"\nWhisper {args.model} int8, beam {p.options.beam_size}, one thread; "
          f"VoiceCoach = {'faster-whisper VAD (diagnostic)' if args.fw_vad else 'VAD'} + stt.offline.transcribe_channel (pad_s {p.options.pad_s}, "
          f"merge_gap_s {p.options.merge_gap_s}, previous_text {'on' if p.options.previous_text else 'off'}), plain = transcribe(vad_filter=True)"
          + (f"; each item {args.shifts} times, started 0-{(args.shifts - 1) * SHIFT_S * 1000:.0f} ms later"
             if args.shifts > 1 else "") + "\n")
    print("| audio | words | VoiceCoach WER (S/D/I) | plain WER (S/D/I) | ratio "
          "| VoiceCoach x RT | plain x RT | time ratio (wall, CPU) |")
    print("|---|---|---|---|---|---|---|---|")
    total = {"vc": Counter(), "pl": Counter(), "audio": 0.0}
    for name, s in sets.items():
        v, q = s["vc"], s["pl"]
        total["vc"] += v
        total["pl"] += q
        total["audio"] += s["audio"]
        ratio = wer(v) / wer(q) if wer(q) else float("nan")
        print(f"| {name} | {v['words']} | {wer(v):.1%} ({v['S']}/{v['D']}/{v['I']}) "
              f"| {wer(q):.1%} ({q['S']}/{q['D']}/{q['I']}) | {ratio:.2f}x "
              f"| {s['audio'] / v['wall']:.0f}x | {s['audio'] / q['wall']:.0f}x "
              f"| {v['wall'] / q['wall']:.2f}x, {v['cpu'] / q['cpu']:.2f}x |")
    v, q = total["vc"], total["pl"]
    print(f"| all | {v['words']} | {wer(v):.1%} | {wer(q):.1%} | {wer(v) / max(1e-9, wer(q)):.2f}x "
          f"| {total['audio'] / v['wall']:.0f}x | {total['audio'] / q['wall']:.0f}x "
          f"| {v['wall'] / q['wall']:.2f}x, {v['cpu'] / q['cpu']:.2f}x |")

    print("\nIs the difference the pipelines', or the decoder's chance? Reference words one pipeline"
          "\nlost and the other kept, and the exact sign test's p (below 0.05: a difference these"
          "\nwords show; above: a split this even comes as often by chance; inserted words left out):\n")
    print("| audio | only VoiceCoach lost | only plain lost | p | verdict |")
    print("|---|---|---|---|---|")
    both = Counter()
    for name, s in [*sets.items(), ("all", None)]:
        only = s["only"] if s is not None else both
        both += only if s is not None else Counter()
        p_value = sign_test(only["vc"], only["pl"])
        verdict = ("no difference shown" if p_value >= 0.05 else
                   "VoiceCoach loses more" if only["vc"] > only["pl"] else "plain loses more")
        print(f"| {name} | {only['vc']} | {only['pl']} | {p_value:.2f} | {verdict} |")

    print("\nWhere reference words were lost (S substituted, D deleted), by VoiceCoach's packing;"
          "\n'only' = the other pipeline got the word right:\n")
    print("| audio | lost by | " + " | ".join(CLASSES) + " |")
    print("|---|---|" + "---|" * len(CLASSES))
    for name, s in sets.items():
        for who in ("vc", "vc only", "plain", "plain only"):
            c = s["where"].get(who, Counter())
            cells = [f"{c[('S', k)]}/{c[('D', k)]}" if c[("S", k)] or c[("D", k)] else "·"
                     for k in CLASSES]
            label = {"vc": "VoiceCoach", "vc only": "VoiceCoach only",
                     "plain": "plain", "plain only": "plain only"}[who]
            print(f"| {name} | {label} | " + " | ".join(cells) + " |")
    if args.show:
        for name, s in sets.items():
            print(f"\n{name}: words VoiceCoach lost and plain kept ([deleted], [substituted~])")
            print("\n".join(s["lost"]) or "  none")
    return 0


if __name__ == "__main__":
    sys.exit(main())
