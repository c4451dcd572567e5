"""`voicecoach analyze` on a whole shift: peak memory and speed on 2-hour and 8-hour calls.

Generates two 10-minute espeak-ng support calls (seeds 7 and 8, as `benchmarks.speed`),
then writes a long two-channel FLAC by repeating them with 20 s of the noise floor
between copies, a block at a time (the long call is never held in memory). The real
command (`python -m voicecoach analyze CALL --json -o ...`) runs in a child process on
the 10-minute call alone and on each long call; for each it prints the wall time as a
multiple of real time, its CPU seconds per minute of call (the speed per minute when
other jobs share the machine), the child's peak resident memory, and the word error rate of
the transcript against the script (both channels), so a long call can be compared
with a short one minute for minute.

    python3 -m benchmarks.longfile [--hours 2 8] [--no-short]

A --hours shorter than one generated call is measured as that one whole call (it says
so): a call cut short would be scored against the script of the whole call.

Targets (issue 16): peak memory under 700 MB and at least 20x real time at every
length; WER of a long call no worse than the 10-minute call's.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.machine import machine, run_voicecoach

GAP_S = 20.0
SR = 16000


def run_analyze(path: Path, out: Path) -> tuple[float, float, float]:
    """Wall time (s), CPU time (s, user + system) and peak RSS (MB) of
    `voicecoach analyze path` in a child process, with the default settings (no user
    config file) and a history of its own beside ``out``."""
    cmd = ["analyze", str(path), "--quiet", "--json", "-o", str(out)]
    env = dict(os.environ, XDG_CONFIG_HOME=str(out.parent / "config"),
               VOICECOACH_DATA_DIR=str(out.parent / "data"))
    rc, wall, cpu, peak = run_voicecoach(cmd, env, stdout=subprocess.DEVNULL)
    if rc != 0:
        raise SystemExit(f"analyze failed with exit status {rc}")
    return wall, cpu, peak


def reference(calls, copies: list[int]) -> dict[str, str]:
    """Each channel's script text over the sequence of copies."""
    out = {"agent": [], "customer": []}
    for i in copies:
        for u in sorted(calls[i].truth["utterances"], key=lambda u: u["start"]):
            out[u["channel"]].append(u["text"])
    return {ch: " ".join(t) for ch, t in out.items()}


def transcript_wer(record: dict, ref: dict[str, str]) -> float:
    from tools.scoring import word_errors

    errors = words = 0
    for ch, text in ref.items():
        hyp = " ".join(p["text"] for p in sorted(record["transcript"], key=lambda p: p["start"])
                       if p["channel"] == ch)
        e, n = word_errors(text, hyp)
        errors, words = errors + e, words + n
    return errors / max(words, 1)


def write_long(calls, path: Path, hours: float) -> list[int]:
    """Repeat the calls (and a gap of noise floor) into ``path`` up to ``hours``; the
    order of copies. Written a piece at a time."""
    import soundfile as sf

    rng = np.random.default_rng(0)
    target = round(hours * 3600 * SR)
    written, copies = 0, []
    with sf.SoundFile(path, "w", SR, 2, subtype="PCM_16", format="FLAC") as f:
        while written < target:
            i = len(copies) % len(calls)
            audio = calls[i].audio[:target - written]
            f.write(audio)
            written += len(audio)
            copies.append(i)
            gap = min(int(GAP_S * SR), target - written)
            if gap > 0:
                f.write((rng.standard_normal((gap, 2)) * 10 ** (-65 / 20)).astype(np.float32))
                written += gap
    return copies


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, nargs="+", default=[2.0, 8.0])
    ap.add_argument("--no-short", action="store_true", help="skip the 10-minute call alone")
    args = ap.parse_args()
    if not all(h > 0 for h in args.hours):
        ap.error("--hours must be above 0")
    import soundfile as sf

    from tools.callgen import random_call

    calls = [random_call(seed, voices=("espeak",), minutes=10.0) for seed in (7, 8)]
    whole = len(calls[0].audio) / SR / 3600          # the first copy, the least a long call holds
    if any(h < whole for h in args.hours):
        print(f"--hours {' '.join(f'{h:g}' for h in args.hours if h < whole)}: shorter than one generated "
              f"call ({whole * 60:.1f} min), so measured as that one whole call ({whole:.3g} h)")
        args.hours = list(dict.fromkeys(max(h, whole) for h in args.hours))
    print(f"machine: {machine()}")
    print(f"calls: {', '.join(f'{len(c.audio) / SR / 60:.1f} min' for c in calls)}, two channels, "
          f"espeak-ng voices; long calls repeat them with {GAP_S:.0f} s gaps")
    print(f"{'call':>10} {'wall':>9} {'x real time':>12} {'CPU s/min':>10} {'peak RSS':>9} {'WER':>6}"
          "   targets: >= 20x, < 700 MB")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        jobs = []
        if not args.no_short:
            short = tmp / "short.flac"
            sf.write(short, calls[0].audio, SR, subtype="PCM_16", format="FLAC")
            jobs.append((f"{len(calls[0].audio) / SR / 60:.0f} min", short, [0]))
        for hours in args.hours:
            path = tmp / f"long-{hours:g}h.flac"
            copies = write_long(calls, path, hours)
            # a copy cut short at the end has only part of its script (the first is whole)
            jobs.append((f"{hours:.3g} h", path, copies[:-1] if len(copies) > 1 else copies))
        for label, path, copies in jobs:
            duration = sf.info(str(path)).duration
            out = tmp / "rec.json"
            wall, cpu, peak = run_analyze(path, out)
            record = json.loads(out.read_text())
            if label.endswith("h"):        # score only the whole copies
                copies_end_s = sum(len(calls[i].audio) / SR + GAP_S for i in copies)
                record["transcript"] = [p for p in record["transcript"] if p["start"] < copies_end_s]
            err = transcript_wer(record, reference(calls, copies))
            print(f"{label:>10} {wall / 60:7.1f} m {duration / wall:10.1f}x {cpu / (duration / 60):10.2f}"
                  f" {peak:7.0f} MB {err:6.1%}"
                  f"   ({'ok' if duration / wall >= 20 and peak < 700 else 'MISSED'})", flush=True)
            path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
