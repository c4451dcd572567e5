"""Which machine a benchmark's figures come from, printed with them so that runs on
different machines can be told apart."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time


def machine() -> str:
    """The CPU the figures come from: model, cores, widest SIMD instruction set."""
    model, flags, family = platform.processor() or platform.machine(), set(), {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "Model", "cpu model") and value.strip():
                    model = value.strip()
                elif key in ("flags", "Features"):
                    flags = set(value.split())
                elif key in ("cpu family", "model") and key not in family:
                    family[key] = value.strip()
    except OSError:
        pass
    simd = next((name for flag, name in (("avx512f", "AVX-512"), ("avx2", "AVX2"), ("avx", "AVX"),
                                         ("sse4_2", "SSE4.2"), ("asimd", "NEON"), ("neon", "NEON"))
                 if flag in flags), "unknown SIMD")
    if len(family) == 2:
        model += f" (family {family['cpu family']}, model {family['model']})"
    return f"{model}, {os.cpu_count()} cores, {simd}"


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages ("?" where there are none)."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


_PEAK_WRAPPER = """\
import atexit, os, runpy, sys

def _peak():
    with open('/proc/self/status') as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith('VmHWM:'))
    with open(os.environ['VOICECOACH_BENCH_PEAK'], 'w') as f:
        f.write(str(kb))

atexit.register(_peak)
sys.argv[0] = 'voicecoach'
runpy.run_module('voicecoach', run_name='__main__', alter_sys=True)
"""


def run_voicecoach(args: list[str], env: dict | None = None, **popen) -> tuple[int, float, float, float]:
    """``python -m voicecoach ARGS`` in a child process: (exit status, wall s, CPU s, peak RSS MB;
    NaN where the child could not say, e.g. killed).

    The peak is the child's own high-water mark (``VmHWM``). ``ru_maxrss`` would not do: Linux
    carries the parent's resident size over fork and exec, so a benchmark holding its calls in
    memory would be charged for them."""
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as peak:
        child_env = dict(env if env is not None else os.environ, VOICECOACH_BENCH_PEAK=peak.name)
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", _PEAK_WRAPPER, *map(str, args)], env=child_env, **popen)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        text = peak.read().strip()
    mb = int(text) / 1024 if text else float("nan")       # killed, or no /proc: not known
    return proc.returncode, wall, usage.ru_utime + usage.ru_stime, mb

