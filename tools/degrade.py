"""What a real headset call adds to clean channels, applied to arrays with known truth.

Pure numpy/scipy (with soxr for resampling), deterministic given a seed. Each
function takes and returns 16 kHz mono float32 arrays; none changes timing, so a
generated call's truth (who spoke when, the words, the interruptions) stays the
truth of the degraded audio. :func:`tools.callgen.degrade_call` applies a
:class:`Condition` to a generated call.

- **Line echo / sidetone** (:func:`make_echo`): the agent's voice comes back in the
  call audio, ``level_db`` relative to the agent (the energy ratio over the call,
  i.e. an echo return loss of ``-level_db``), ``delay_s`` late, through a short
  impulse response (a main tap and a few decaying taps a few ms apart), optionally
  with a delay and gain that drift slowly (sinusoidally) through the call.
- **Colleagues on the open floor** (:func:`add_floor`): other voices in the agent's
  mic, each through its own small-room impulse response (:func:`room_ir`), their sum
  ``level_db`` relative to the agent's active speech level (:func:`active_level_db`).
- **Phone line** (:func:`phone_line`): down to 8 kHz, band-limited to 300–3400 Hz
  (zero-phase, so no delay), 8-bit µ-law (G.711-like, µ = 255) and back to 16 kHz.

:func:`degrade` applies a :class:`Condition` to a two-channel array in the order of
a real call: colleagues into the agent's mic, the echo of what the mic sent into the
call audio, then the phone line on the call audio (the echo comes back through it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import soxr
from scipy import signal

SR = 16000
"""Sample rate of the arrays (Hz)."""

P56_MARGIN_DB = 15.9
"""Frames this far below the active level are left out of it (after ITU-T P.56)."""


def db_to_gain(db: float) -> float:
    """Amplitude factor of ``db`` decibels."""
    return float(10.0 ** (db / 20.0))


def energy_db(x: np.ndarray) -> float:
    """Mean power of ``x`` in dB (dBFS for full-scale 1.0)."""
    return float(10.0 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-30))


def active_level_db(x: np.ndarray, sr: int = SR, frame_s: float = 0.02,
                    floor_db: float = -70.0) -> float:
    """Active speech level (dBFS): the power of the frames that hold speech.

    A simplified ITU-T P.56: 20 ms frames; start from every frame above ``floor_db``,
    then repeatedly keep the frames no more than :data:`P56_MARGIN_DB` below the level
    of the kept frames until that settles. Pauses and a low noise floor are left out,
    so two signals that talk for different shares of the time compare by how loud
    they are while they talk.

    Returns
    -------
    float
        The level in dB; ``-inf`` when no frame is above ``floor_db``.
    """
    hop = max(1, int(round(frame_s * sr)))
    n = len(x) // hop
    if n == 0:
        return float("-inf")
    e = np.mean(np.square(x[:n * hop].reshape(n, hop), dtype=np.float64), axis=1)
    db = 10.0 * np.log10(e + 1e-30)
    act = db > floor_db
    if not act.any():
        return float("-inf")
    level = 10.0 * np.log10(e[act].mean())
    for _ in range(20):
        act = (db > floor_db) & (db > level - P56_MARGIN_DB)
        new = 10.0 * np.log10(e[act].mean())
        if abs(new - level) < 1e-3:
            break
        level = new
    return float(new)


# --- line echo ---------------------------------------------------------------------------

def echo_taps(taps: int = 4, seed: int = 0, sr: int = SR, spacing_s: tuple[float, float] = (0.0015, 0.004),
              decay_db: float = 6.0) -> np.ndarray:
    """The short impulse response of an echo path, without its bulk delay.

    A main tap of 1 at sample 0, then ``taps`` more, each ``spacing_s`` (uniform) after
    the one before, each about ``decay_db`` weaker than the one before, of random sign:
    the dispersion of a hybrid or a handset's acoustic path.

    Returns
    -------
    np.ndarray [shape=(m,), dtype=float64]
    """
    rng = np.random.default_rng(seed)
    offsets = np.cumsum(np.round(rng.uniform(*spacing_s, size=taps) * sr).astype(int))
    h = np.zeros(int(offsets[-1]) + 1 if taps else 1)
    h[0] = 1.0
    for k, off in enumerate(offsets, 1):
        h[off] += rng.choice((-1.0, 1.0)) * db_to_gain(-decay_db * k) * rng.uniform(0.7, 1.0)
    return h


def make_echo(agent: np.ndarray, level_db: float, delay_s: float, *, taps: int = 4, seed: int = 0,
              drift_ms: float = 0.0, drift_db: float = 0.0, drift_period_s: float = 45.0,
              sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """The agent's voice as it comes back in the call audio.

    Parameters
    ----------
    agent : np.ndarray [shape=(n,)]
        What the agent's mic sent.
    level_db : float
        Energy of the echo relative to the agent's (dB, e.g. -30): the echo path's
        gain makes the whole echo of the agent that level; the part of it that the
        call's end cuts off (the last ``delay_s``) is not in the returned echo.
    delay_s : float
        Bulk delay of the main tap (s), 0 or more.
    taps : int
        Further taps after the main one (:func:`echo_taps`); 0 for a pure delayed copy.
    seed : int
        Fixes the taps and the drift's phases.
    drift_ms, drift_db : float
        Peak deviation of a slow sinusoidal drift of the delay (ms) and of the gain
        (dB); 0 for a fixed echo path. The delay never goes below 0.
    drift_period_s : float
        Period of the delay drift (s); the gain drifts with 1.37 times that period.

    Returns
    -------
    echo : np.ndarray [shape=(n,), dtype=float32]
        The echo alone, to add to the call audio.
    ir : np.ndarray [shape=(m,), dtype=float64]
        The (mean) impulse response from ``agent`` to ``echo``, bulk delay and final
        gain included: ``ir[round(delay_s * sr)]`` is the main tap's gain.
    """
    if delay_s < 0:
        raise ValueError(f"delay_s must be >= 0, not {delay_s}")
    x = np.asarray(agent, dtype=np.float64)
    n = len(x)
    rng = np.random.default_rng(seed)
    h = echo_taps(taps, seed=int(rng.integers(2**31)), sr=sr)
    y = signal.oaconvolve(x, h)[:n] if len(h) > 1 else x.copy()
    d = int(round(delay_s * sr))
    if drift_ms == 0.0 and drift_db == 0.0:
        out = np.zeros(n)
        if d < n:
            out[d:] = y[:n - d]
    else:
        ph_d, ph_g = rng.uniform(0, 2 * np.pi, size=2)
        t = np.arange(n) / sr
        delay = np.maximum(0.0, delay_s + drift_ms / 1000.0 * np.sin(2 * np.pi * t / drift_period_s + ph_d))
        gain = 10.0 ** (drift_db / 20.0 * np.sin(2 * np.pi * t / (1.37 * drift_period_s) + ph_g))
        gain /= np.sqrt(np.mean(gain * gain))
        out = gain * np.interp(np.arange(n) - delay * sr, np.arange(n), y, left=0.0, right=0.0)
    # The path's gain: the whole echo of the agent (none of it cut off by the call's end)
    # is level_db relative to the agent. A drifting path is measured on its output
    # against the part of the agent it echoes (interpolation loses a little treble).
    e_x = np.sum(x * x)
    if drift_ms == 0.0 and drift_db == 0.0:
        e_h = np.sum(signal.oaconvolve(x, h) ** 2) if len(h) > 1 else e_x
    else:
        e_h = np.sum(out * out) * e_x / max(np.sum(x[:max(1, n - d)] ** 2), 1e-30)
    g = db_to_gain(level_db) * np.sqrt(e_x / e_h) if e_h > 0 else 0.0
    ir = np.zeros(d + len(h))
    ir[d:] = g * h
    return (g * out).astype(np.float32), ir


# --- colleagues on the floor -------------------------------------------------------------

def room_ir(rt60_s: float = 0.35, drr_db: float = 3.0, seed: int = 0, sr: int = SR,
            predelay_s: float = 0.003) -> np.ndarray:
    """A small room's impulse response: the direct sound, then an exponentially decaying tail.

    Parameters
    ----------
    rt60_s : float
        Time for the tail to decay by 60 dB (s); the response is that long.
    drr_db : float
        Direct-to-reverberant energy ratio (dB): lower is farther away.
    seed : int
        Fixes the tail's noise.
    predelay_s : float
        Gap between the direct sound and the first reflections (s).

    Returns
    -------
    np.ndarray [shape=(m,), dtype=float64]
        ``ir[0] == 1`` (the direct sound).
    """
    rng = np.random.default_rng(seed)
    n = max(2, int(round(rt60_s * sr)))
    t = np.arange(n) / sr
    tail = rng.standard_normal(n) * 10.0 ** (-3.0 * t / rt60_s)
    tail[:max(1, int(round(predelay_s * sr)))] = 0.0
    tail *= np.sqrt(10.0 ** (-drr_db / 10.0) / np.sum(tail * tail))
    tail[0] = 1.0
    return tail


def add_floor(agent: np.ndarray, voices: Sequence[np.ndarray], level_db: float, *,
              rt60_s: float = 0.35, drr_db: tuple[float, float] = (0.0, 6.0), seed: int = 0,
              sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """Colleagues' speech in the agent's mic.

    Parameters
    ----------
    agent : np.ndarray [shape=(n,)]
        The agent's channel.
    voices : sequence of np.ndarray [shape=(n,)]
        Each colleague's dry speech on the call clock (their relative levels are kept).
    level_db : float
        Active level of the colleagues' sum relative to the agent's (dB, e.g. -25),
        both by :func:`active_level_db`, reverb included.
    rt60_s : float
        Reverberation time of the room (s).
    drr_db : (float, float)
        Range of each colleague's direct-to-reverberant ratio (dB), drawn per colleague.
    seed : int
        Fixes the rooms.

    Returns
    -------
    mixed : np.ndarray [shape=(n,), dtype=float32]
        ``agent`` plus the colleagues.
    floor : np.ndarray [shape=(n,), dtype=float32]
        The colleagues alone, as added.
    """
    rng = np.random.default_rng(seed)
    n = len(agent)
    total = np.zeros(n)
    for v in voices:
        if len(v) != n:
            raise ValueError(f"a colleague's track has {len(v)} samples, the agent's {n}")
        ir = room_ir(rt60_s, float(rng.uniform(*drr_db)), seed=int(rng.integers(2**31)), sr=sr)
        total += signal.oaconvolve(np.asarray(v, dtype=np.float64), ir)[:n]
    have, want = active_level_db(total, sr), active_level_db(agent, sr) + level_db
    if not np.isfinite(have):
        raise ValueError("the colleagues' tracks are silent")
    floor = total * db_to_gain(want - have)
    return (np.asarray(agent, dtype=np.float64) + floor).astype(np.float32), floor.astype(np.float32)


# --- phone line --------------------------------------------------------------------------

def mulaw(x: np.ndarray, mu: int = 255, bits: int = 8) -> np.ndarray:
    """``x`` (full scale 1.0) through a ``bits``-bit µ-law codec and back.

    Continuous µ-law companding quantized to ``2**bits - 1`` levels, close to G.711's
    segmented µ-law: about 38 dB signal-to-quantization noise over a wide range of levels.
    """
    x = np.clip(np.asarray(x, dtype=np.float64), -1.0, 1.0)
    steps = 2 ** (bits - 1) - 1
    code = np.round(np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu) * steps)
    y = code / steps
    return np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu


def phone_line(x: np.ndarray, sr: int = SR, low_hz: float = 300.0, high_hz: float = 3400.0,
               line_sr: int = 8000, order: int = 4) -> np.ndarray:
    """``x`` as it sounds after a narrowband telephone line.

    Resampled to ``line_sr``, band-limited to ``low_hz``–``high_hz`` (a Butterworth
    band-pass of ``order``, run forwards and backwards so that nothing is delayed),
    through 8-bit µ-law (:func:`mulaw`) and resampled back to ``sr``.

    Returns
    -------
    np.ndarray [shape=(len(x),), dtype=float32]
    """
    y = soxr.resample(np.asarray(x, dtype=np.float64), sr, line_sr, quality="HQ")
    sos = signal.butter(order, [low_hz, high_hz], btype="bandpass", fs=line_sr, output="sos")
    y = mulaw(signal.sosfiltfilt(sos, y))
    z = soxr.resample(y, line_sr, sr, quality="HQ")
    out = np.zeros(len(x))
    out[:min(len(x), len(z))] = z[:len(x)]
    return out.astype(np.float32)


# --- conditions --------------------------------------------------------------------------

@dataclass(frozen=True)
class Condition:
    """What a call goes through; the defaults change nothing.

    Attributes
    ----------
    echo_db : float or None
        The agent's echo in the call audio, dB relative to the agent (:func:`make_echo`).
    echo_delay_s : float
        The echo's bulk delay (s).
    echo_taps : int
        Taps after the echo's main one.
    echo_drift_ms, echo_drift_db : float
        Slow drift of the echo's delay (ms) and gain (dB).
    floor_db : float or None
        Colleagues' speech in the agent's mic, dB relative to the agent (:func:`add_floor`).
    floor_rt60_s : float
        Reverberation time of the floor (s).
    phone : bool
        The call audio through a narrowband µ-law phone line (:func:`phone_line`).
    """

    echo_db: Optional[float] = None
    echo_delay_s: float = 0.18
    echo_taps: int = 4
    echo_drift_ms: float = 0.0
    echo_drift_db: float = 0.0
    floor_db: Optional[float] = None
    floor_rt60_s: float = 0.35
    phone: bool = False

    def describe(self) -> str:
        """A short human-readable name, e.g. ``"echo -30 dB 180 ms + phone line"``."""
        parts = []
        if self.floor_db is not None:
            parts.append(f"floor {self.floor_db:+.0f} dB")
        if self.echo_db is not None:
            drift = (f" drift ±{self.echo_drift_ms:g} ms ±{self.echo_drift_db:g} dB"
                     if self.echo_drift_ms or self.echo_drift_db else "")
            parts.append(f"echo {self.echo_db:+.0f} dB {self.echo_delay_s * 1000:.0f} ms{drift}")
        if self.phone:
            parts.append("phone line")
        return " + ".join(parts) or "none"


def degrade(audio: np.ndarray, condition: Condition, seed: int = 0,
            colleagues: Optional[Sequence[np.ndarray]] = None, sr: int = SR) -> np.ndarray:
    """Apply ``condition`` to a two-channel call (column 0 agent, column 1 call audio).

    Colleagues go into the agent's mic first; the echo is of what the mic sent (so it
    holds them too, far below); the phone line carries the caller and the echo.

    Parameters
    ----------
    audio : np.ndarray [shape=(n, 2)]
    condition : Condition
    seed : int
        Fixes every random choice (echo taps and drift, rooms).
    colleagues : sequence of np.ndarray, optional
        The colleagues' dry speech (each ``(n,)``); needed when ``condition.floor_db`` is set.

    Returns
    -------
    np.ndarray [shape=(n, 2), dtype=float32]
        A new array; ``audio`` is left as it was.
    """
    audio = np.asarray(audio)
    if audio.ndim != 2 or audio.shape[1] != 2:
        raise ValueError(f"need a (n, 2) call, not {audio.shape}")
    rng = np.random.default_rng(seed)
    floor_seed, echo_seed = (int(s) for s in rng.integers(2**31, size=2))
    agent = audio[:, 0].astype(np.float32)
    customer = audio[:, 1].astype(np.float32)
    if condition.floor_db is not None:
        if not colleagues:
            raise ValueError("a floor condition needs the colleagues' speech")
        agent, _ = add_floor(agent, colleagues, condition.floor_db, rt60_s=condition.floor_rt60_s,
                             seed=floor_seed, sr=sr)
    if condition.echo_db is not None:
        echo, _ = make_echo(agent, condition.echo_db, condition.echo_delay_s, taps=condition.echo_taps,
                            drift_ms=condition.echo_drift_ms, drift_db=condition.echo_drift_db,
                            seed=echo_seed, sr=sr)
        customer = customer + echo
    if condition.phone:
        customer = phone_line(customer, sr)
    return np.stack([agent, customer], axis=1).astype(np.float32)
