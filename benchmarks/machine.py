"""Which machine a benchmark's figures come from, printed with them so that runs on
different machines can be told apart."""
from __future__ import annotations

import os
import platform


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
