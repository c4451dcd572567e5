"""Speed and peak memory of `voicecoach analyze` on a 10-minute two-channel call.

Generates a 10-minute espeak-ng support call, then runs the real command
(`python -m voicecoach analyze CALL --json -o ...`) in a child process and prints
its wall time as a multiple of real time and its peak resident memory.

    python3 -m benchmarks.speed [--minutes 10] [--runs 3]

Targets (issue 3): at least 20x faster than real time, peak memory under 700 MB.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.machine import load_average, machine, run_voicecoach


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not args.minutes > 0 or args.runs < 1:
        ap.error("--minutes must be above 0 and --runs 1 or more")
    from tools.callgen import random_call, write_call

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "call.flac"
        call = random_call(7, voices=("espeak",), minutes=args.minutes)
        write_call(call, path)
        duration = call.audio.shape[0] / 16000
        print(f"machine: {machine()}; load average before: {load_average()}")
        print(f"call: {duration / 60:.1f} min, two channels, espeak-ng voices")
        cmd = ["analyze", str(path), "--quiet", "--json", "-o", str(Path(tmp) / "rec.json")]
        env = dict(os.environ, XDG_CONFIG_HOME=str(Path(tmp) / "config"),   # defaults; not your history
                   VOICECOACH_DATA_DIR=str(Path(tmp) / "data"))
        speeds = []
        for run in range(args.runs):
            rc, wall, cpu, peak_mb = run_voicecoach(cmd, env, stdout=subprocess.DEVNULL)
            if rc != 0:
                raise SystemExit(f"analyze failed with exit status {rc}")
            speeds.append(duration / wall)
            print(f"run {run + 1}: {wall:5.1f} s wall = {duration / wall:5.1f}x real time "
                  f"(target >= 20x), {cpu:5.1f} CPU s; peak RSS {peak_mb:.0f} MB (target < 700 MB)")
        print(f"median of {args.runs} runs: {statistics.median(speeds):.1f}x real time "
              f"(the same work takes more CPU seconds when other jobs share the machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
