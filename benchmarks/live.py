"""The live path at real-time pace: latency, CPU, memory, dropped blocks, streaming WER.

Replays a generated two-channel support call (espeak-ng voices) through
`LiveSession` exactly as `voicecoach live --replay` does, in 20 ms blocks at
real-time pace, both channels transcribed, and prints:

- latency p50/p95 of "let them finish" nudges (from the moment the overlap passes
  the interruption threshold) and of transcript words (from the end of the word);
- average CPU of the process (user + system over wall time, % of the 2 cores);
- resident memory at 10 and 30 minutes (or at the end of shorter runs);
- dropped audio blocks;
- streaming WER against offline WER of the same model on the same audio.

    python3 -m benchmarks.live [--minutes 30]

Targets (issue 4): nudge p95 <= 250 ms; words p50 <= 2.0 s, p95 <= 3.5 s; CPU <= 60 %
of two cores; no dropped blocks; memory at 30 min within 10 % of 10 min and under
600 MB; streaming WER <= 1.10x offline WER.
"""
import argparse
import os
import resource
import sys
import time

from tools.scoring import word_errors


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * q / 100))] if v else float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--seed", type=int, default=300)
    args = ap.parse_args()
    from tools.callgen import random_call
    from voicecoach.analyze import analyze_call
    from voicecoach.audio import CallAudio
    from voicecoach.config import Config
    from voicecoach.live import LiveSession, ReplaySource
    from voicecoach.transcribe import load_model

    gen = random_call(args.seed, voices=("espeak",), minutes=args.minutes)
    call = CallAudio(gen.audio[:, 0].copy(), gen.audio[:, 1].copy(), "benchmark")
    refs = {ch: " ".join(u["text"] for u in gen.truth["utterances"] if u["channel"] == ch)
            for ch in ("agent", "customer")}
    config = Config()
    model = load_model(config.transcribe, num_workers=2)
    print(f"call: {call.duration / 60:.1f} min, two channels, replayed at real-time pace", flush=True)

    memory = {}
    session = LiveSession(ReplaySource(call), config, model=model, name="benchmark")
    marks = [m for m in (600.0, 1800.0) if m < call.duration - 1.0] + [call.duration - 1.0]

    def watch(kind, payload):
        if kind == "snapshot" and marks and payload["t"] >= marks[0]:
            memory[marks.pop(0)] = rss_mb()

    session.subscribe(watch)
    dropped = []
    session.subscribe(lambda k, p: dropped.append(p["dropped_blocks"]) if k == "snapshot" else None)
    r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    record = session.run()
    r1, w1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) / (w1 - w0)

    nudges = [n.latency for n in session.coach.nudges if n.data["nudge"] == "let_them_finish"
              and n.latency is not None]
    words = session.latencies.get("word", [])
    print(f"\n'let them finish' nudges: {len(nudges)}, latency p50 {pct(nudges, 50) * 1000:.0f} ms, "
          f"p95 {pct(nudges, 95) * 1000:.0f} ms (target p95 <= 250 ms)")
    print(f"transcript words: {len(words)}, latency p50 {pct(words, 50):.2f} s, p95 {pct(words, 95):.2f} s "
          f"(target p50 <= 2.0 s, p95 <= 3.5 s)")
    print(f"average CPU: {cpu * 100:.0f} % of one core = {cpu * 50:.0f} % of the two cores (target <= 60 %)")
    print("memory: " + ", ".join(f"{m / 60:.0f} min {v:.0f} MB" for m, v in memory.items())
          + " (target: 30 min within 10 % of 10 min, under 600 MB)")
    print(f"dropped blocks: {max(dropped) if dropped else 0} (target 0)")

    off = analyze_call(call, config, model=model)
    for name, rec in (("streaming", record), ("offline", off)):
        e = n = 0
        for ch, ref in refs.items():
            hyp = " ".join(seg["text"] for seg in rec["transcript"] if seg["channel"] == ch)
            de, dn = word_errors(ref, hyp)
            e, n = e + de, n + dn
        print(f"{name} WER: {e / n:.1%} ({e}/{n} words)")
        if name == "streaming":
            s_wer = e / n
    print(f"streaming / offline WER: {s_wer / max(1e-9, e / n):.2f}x (target <= 1.10x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
