"""Streaming speech-to-text against offline: word latency, CPU and WER.

Real-time pacing is simulated without sleeping. Each channel has one worker (as
in the live engine); 20 ms blocks arrive at their call-clock time; an idle worker
inserts every block that has arrived and calls ``process()``; a busy worker lets
blocks queue up. The CPU time of each call is measured, so a word committed by a
call that started at ``t`` is emitted at ``t + cpu``, and the worker is busy
until then. Word latency is emission time minus the word's end.

Speech: the demo call (both channels), ``../shared/data/read`` (the read
utterances one after another on one channel) when it exists, and with
``--espeak`` a generated monologue. Offline WER is ``transcribe_channel`` on the
same audio with the same model (encoding full 30 s windows, as ``analyze`` does)
and voice-activity segments.

    python3 benchmarks/streaming_check.py [--espeak] [--min-chunk-s 1.0] [--context-s 8]
    python3 benchmarks/streaming_check.py --call 300 --minutes 5   # a generated call only

``--lost`` lists, per channel, the reference words the streamed words lost where
offline had them right, as runs in context: scattered single words would point at
the commit policy, whole phrases at too little audio around them.
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tools.scoring import normalize_text, wer  # noqa: E402
from voicecoach.analyzers.vad import VoiceActivity  # noqa: E402
from voicecoach.events import SAMPLE_RATE  # noqa: E402
from voicecoach.stt.offline import transcribe_channel  # noqa: E402
from voicecoach.stt import revision  # noqa: E402
from voicecoach.stt.revision import SecondPass, revise_words  # noqa: E402
from voicecoach.stt.streaming import StreamingOptions, StreamingTranscriber  # noqa: E402
from voicecoach.stt.whisper import TranscribeOptions, load_model  # noqa: E402

BLOCK = 320  # 20 ms
READ_DIR = ROOT.parent / "shared" / "data" / "read"
DEMO = ROOT / "voicecoach" / "data" / "demo_call.flac"
ESPEAK_TEXT = (
    "Thanks for holding. I have your account open now, and I can see the two charges "
    "from last month. The second one was a mistake on our side, so I will refund it today. "
    "You should see the money back on your card within three to five working days. "
    "While I have you, the router on your account is quite old. A newer one would fix "
    "the evening drop outs you mentioned, and there is no charge for the swap. "
    "Would you like me to send one out? It would arrive on Thursday, and the engineer "
    "can help you set it up over the phone if you need it. Is there anything else I can "
    "help you with today?")


def streams(espeak: bool, call_seed: int | None = None, call_minutes: float = 3.0):
    """(name, {channel: audio}, {channel: reference text})."""
    if call_seed is not None:  # the kind of call benchmarks/live.py replays
        from tools.callgen import random_call

        gen = random_call(call_seed, voices=("espeak",), minutes=call_minutes)
        refs = {ch: " ".join(u["text"] for u in gen.truth["utterances"] if u["channel"] == ch)
                for ch in ("agent", "customer")}
        yield f"call{call_seed}", {"agent": gen.audio[:, 0].copy(), "customer": gen.audio[:, 1].copy()}, refs
        return
    if DEMO.exists():
        audio, sr = sf.read(DEMO, dtype="float32")
        truth = json.loads(DEMO.with_suffix(".truth.json").read_text())
        refs = {ch: " ".join(u["text"] for u in truth["utterances"] if u["channel"] == ch)
                for ch in ("agent", "customer")}
        yield "demo_call", {"agent": audio[:, 0], "customer": audio[:, 1]}, refs
    else:
        print("demo call missing: skipped")
    if (READ_DIR / "transcripts.tsv").exists():
        rows = list(csv.DictReader(open(READ_DIR / "transcripts.tsv"), delimiter="\t"))
        gap = np.zeros(SAMPLE_RATE, np.float32)
        pieces, texts = [gap], []
        for row in rows:
            a, sr = sf.read(READ_DIR / row["file"], dtype="float32")
            assert sr == SAMPLE_RATE
            pieces += [a if a.ndim == 1 else a.mean(axis=1), gap]
            texts.append(row["text"])
        yield "read", {"agent": np.concatenate(pieces)}, {"agent": " ".join(texts)}
    else:
        print(f"{READ_DIR} missing: skipped")
    if espeak:
        if shutil.which("espeak-ng") is None:
            print("espeak-ng missing: skipped")
            return
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "s.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "165", "-w", str(wav), ESPEAK_TEXT],
                           check=True)
            a, sr = sf.read(wav, dtype="float32")
        a = soxr.resample(a, sr, SAMPLE_RATE, quality="HQ").astype(np.float32)
        a = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), a, np.zeros(SAMPLE_RATE, np.float32)])
        yield "espeak", {"agent": a}, {"agent": ESPEAK_TEXT}


def simulate(model, channel: str, audio: np.ndarray, options: StreamingOptions,
             slowdown: float = 1.0, second_model=None):
    """Paced streaming of one channel: (words, emission times, cpu seconds, transcriber,
    max lag, the call record's words).

    ``slowdown`` multiplies each call's CPU time, as on a slower or busier machine. The
    second pass (``options.second_pass``, with ``second_model``) runs as the live session
    runs it, on a thread of its own once the channel is quiet: its CPU counts, but it
    does not hold up the streamed words.
    """
    va = VoiceActivity()
    flags, closed = [], []
    for i in range(0, len(audio), BLOCK):
        closed.append(va.feed(audio[i:i + BLOCK]))
        flags.append(va.speaking)
    closed[-1] += va.flush()
    st = StreamingTranscriber(model, channel, options)
    second = SecondPass(second_model, channel) if options.second_pass else None
    words, emitted, cpu, free_at, lags, revisions = [], [], 0.0, 0.0, [], []
    for n, i in enumerate(range(0, len(audio), BLOCK)):
        t = (i + BLOCK) / SAMPLE_RATE
        st.insert_audio(i / SAMPLE_RATE, audio[i:i + BLOCK], flags[n])
        if second is not None:
            second.insert_audio(i / SAMPLE_RATE, audio[i:i + BLOCK], flags[n], closed[n])
            if second.ready():
                c0 = time.process_time()
                revisions.append(second.revise())
                cpu += (time.process_time() - c0) * slowdown
        if free_at > t:
            continue  # the worker is busy: the block waits in its queue
        lags.append(st.lag_s)
        c0 = time.process_time()
        new = st.process()
        c = (time.process_time() - c0) * slowdown
        cpu += c
        free_at = t + c
        words += new
        emitted += [free_at] * len(new)
    c0 = time.process_time()
    new = st.finish()
    c = (time.process_time() - c0) * slowdown
    cpu += c
    if second is not None:
        c0 = time.process_time()
        revisions.append(second.revise(final=True))
        cpu += (time.process_time() - c0) * slowdown
    words += new
    emitted += [max(free_at, len(audio) / SAMPLE_RATE) + c] * len(new)
    record = revise_words(words, [r for r in revisions if r is not None])
    return words, np.array(emitted), cpu, st, max(lags, default=0.0), record


def offline(model, channel: str, audio: np.ndarray) -> tuple[str, float]:
    va = VoiceActivity()
    segments = va.feed(audio) + va.flush()
    c0 = time.process_time()
    pieces = transcribe_channel(model, channel, audio, segments, TranscribeOptions())
    return " ".join(w.text for p in pieces for w in p.words), time.process_time() - c0


def _right(ref: str, hyp: str) -> list[bool]:
    """Per reference word (normalised): whether ``hyp`` has it, by jiwer's alignment."""
    from benchmarks.transcript import align

    words, _, chunks = align(ref, hyp)
    right = [False] * len(words)
    for kind, r0, r1, _, _ in chunks:
        if kind == "equal":
            right[r0:r1] = [True] * (r1 - r0)
    return right


def lost_alone(ref: str, streamed: str, offline_text: str, width: int = 4) -> tuple[int, int, list[str]]:
    """Reference words the streamed words lost where offline had them right, and the other
    way round; and the streamed words' losses as runs in context (``[lost words]``).

    >>> lost_alone("please call me back today", "please fall be back today", "please call me back today")
    (2, 0, ['please [call me] back today'])
    """
    words = normalize_text(ref)
    s, o = _right(ref, streamed), _right(ref, offline_text)
    alone = [i for i in range(len(words)) if o[i] and not s[i]]
    runs: list[list[int]] = []
    for i in alone:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    lines = [" ".join(words[max(0, r[0] - width):r[0]]) + " [" + " ".join(words[r[0]:r[-1] + 1]) + "] "
             + " ".join(words[r[-1] + 1:r[-1] + 1 + width]) for r in runs]
    return len(alone), sum(1 for i in range(len(words)) if s[i] and not o[i]), [x.strip() for x in lines]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--espeak", action="store_true", help="also a generated monologue")
    ap.add_argument("--min-chunk-s", type=float, default=StreamingOptions.min_chunk_s)
    ap.add_argument("--agreement-n", type=int, default=StreamingOptions.agreement_n)
    ap.add_argument("--agreement-margin-s", type=float, default=StreamingOptions.agreement_margin_s)
    ap.add_argument("--context-s", type=float, default=StreamingOptions.context_s)
    ap.add_argument("--pause-context-s", type=float, default=StreamingOptions.pause_context_s,
                    help="context (s) of the decodes that commit at a pause (default: --context-s)")
    ap.add_argument("--pre-roll-s", type=float, default=StreamingOptions.pre_roll_s)
    ap.add_argument("--max-lag-s", type=float, default=StreamingOptions.max_lag_s)
    ap.add_argument("--min-window-s", type=float, default=StreamingOptions.min_window_s,
                    help="encode at least this much of Whisper's window (0: all 30 s)")
    ap.add_argument("--pause-commit-s", type=float, default=StreamingOptions.pause_commit_s,
                    help="commit the words before a pause this long (s); negative: never")
    ap.add_argument("--end-silence-s", type=float, default=StreamingOptions.end_silence_s)
    ap.add_argument("--no-second-pass", action="store_true", help="the record keeps the streamed words")
    ap.add_argument("--slowdown", type=float, default=1.0,
                    help="pretend each decode takes this many times its CPU time")
    ap.add_argument("--call", type=int, default=None, metavar="SEED",
                    help="only a generated call (tools/callgen.random_call with this seed)")
    ap.add_argument("--minutes", type=float, default=3.0, help="length of the --call")
    ap.add_argument("--show", action="store_true", help="print the streamed text")
    ap.add_argument("--lost", action="store_true",
                    help="print the reference words only the streamed words lost (needs jiwer)")
    ap.add_argument("--only", default="", help="comma-separated stream names (demo_call, read, espeak)")
    args = ap.parse_args()
    unknown = [n for n in args.only.split(",") if n and n not in ("demo_call", "read", "espeak")]
    if unknown and args.call is None:
        ap.error(f"--only: unknown streams {unknown}; known: demo_call, read, espeak")
    options = StreamingOptions(min_chunk_s=args.min_chunk_s, agreement_n=args.agreement_n,
                               agreement_margin_s=args.agreement_margin_s,
                               context_s=args.context_s, pause_context_s=args.pause_context_s,
                               pre_roll_s=args.pre_roll_s,
                               max_lag_s=args.max_lag_s, min_window_s=args.min_window_s,
                               end_silence_s=args.end_silence_s, second_pass=not args.no_second_pass,
                               pause_commit_s=None if args.pause_commit_s < 0 else args.pause_commit_s)
    model = load_model(TranscribeOptions(), min_window_s=options.min_window_s or None)  # as live loads it
    full = load_model(TranscribeOptions())                                              # as analyze loads it
    second_model = revision.load_model() if options.second_pass else None
    model.transcribe(np.zeros(SAMPLE_RATE, np.float32), language="en")  # warm up
    all_lat, tot_cpu, channel_s = [], 0.0, 0.0
    ref_all, hyp_all, off_all, rec_all = [], [], [], []
    print(f"options: {options}")
    for name, channels, refs in streams(args.espeak, args.call, args.minutes):
        if args.only and name not in args.only.split(","):
            continue
        duration = len(next(iter(channels.values()))) / SAMPLE_RATE
        stream_cpu = 0.0
        for ch, audio in channels.items():
            words, emitted, cpu, st, max_lag, record = simulate(model, ch, audio, options, args.slowdown,
                                                                        second_model)
            rec_text = " ".join(w.text for w in record)
            off_text, off_cpu = offline(full, ch, audio)
            text = " ".join(w.text for w in words)
            lat = emitted - np.array([w.end for w in words]) if words else np.zeros(0)
            all_lat.append(lat)
            stream_cpu += cpu
            ref_all.append(refs[ch]), hyp_all.append(text), off_all.append(off_text)
            rec_all.append(rec_text)
            ordered = all(a.start <= b.start for a, b in zip(words, words[1:]))
            said = normalize_text(text)
            repeats = sum(a == b for a, b in zip(said, said[1:]))
            print(f"{name}/{ch}: {duration:.1f} s, {len(words)} words, {st.n_decodes} decodes, "
                  f"cpu {cpu:.1f} s ({cpu / duration:.0%} of a core; offline {off_cpu:.1f} s), "
                  f"latency p50 {np.percentile(lat, 50):.2f} s p95 {np.percentile(lat, 95):.2f} s, "
                  f"max lag {max_lag:.2f} s, in order: {ordered}, repeated words: {repeats}, "
                  f"WER streaming {wer(refs[ch], text):.3f} call record {wer(refs[ch], rec_text):.3f} "
                  f"offline {wer(refs[ch], off_text):.3f}")
            if args.show:
                print("   stream :", text)
                print("   offline:", off_text)
            if args.lost:
                alone, off_alone, runs = lost_alone(refs[ch], text, off_text)
                print(f"   lost by the streamed words alone: {alone} reference words in {len(runs)} runs "
                      f"(by offline alone: {off_alone})")
                print("\n".join(f"     {r}" for r in runs))
        tot_cpu += stream_cpu
        channel_s += duration * len(channels)
        if len(channels) == 2:
            print(f"{name}: both channels {stream_cpu / (2 * duration):.0%} of 2 cores")
    if not ref_all:
        print("no speech to test: skipped")
        return
    lat = np.concatenate(all_lat)
    ref, hyp, off = " ".join(ref_all), " ".join(hyp_all), " ".join(off_all)
    w_s, w_o, w_r = wer(ref, hyp), wer(ref, off), wer(ref, " ".join(rec_all))
    print(f"ALL: {len(lat)} words, cpu {tot_cpu / channel_s:.0%} of a core per channel, "
          f"latency p50 {np.percentile(lat, 50):.2f} s "
          f"p95 {np.percentile(lat, 95):.2f} s max {lat.max():.2f} s; "
          f"WER streaming {w_s:.3f} offline {w_o:.3f} (ratio {w_s / max(w_o, 1e-9):.2f}); "
          f"call record (second pass) {w_r:.3f} (ratio {w_r / max(w_o, 1e-9):.2f})")


if __name__ == "__main__":
    main()
