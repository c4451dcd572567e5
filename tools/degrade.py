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
- **Packet loss** (:func:`packet_loss`): the call audio in 20 ms packets, bursts of
  them lost (a two-state Gilbert model, :func:`loss_pattern`) at a given loss rate,
  each gap concealed as phones do (the last pitch period repeated, fading out over
  60 ms, after G.711 Appendix I) or left silent.
- **Quiet mic** (:func:`quiet_mic`): the agent's channel some dB quieter (e.g. -18),
  the mic's self-noise added after the gain at a realistic floor (-65 dBFS).
- **Mains hum** (:func:`add_hum`): 50 or 60 Hz and its harmonics in the agent's mic,
  a given level relative to the agent's active speech level.
- **Fan / HVAC noise** (:func:`add_fan`): low-pass-shaped noise in the agent's mic at
  a given SNR against the agent's active speech level.

:func:`degrade` applies a :class:`Condition` to a two-channel array in the order of
a real call: colleagues and a fan into the agent's mic, the mic's gain and self-noise,
hum, the echo of what the mic sent into the call audio, the phone line on the call
audio (the echo comes back through it), then packets of it lost and concealed.
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


# --- packet loss on the caller's line ----------------------------------------------------

PLC_FULL_S = 0.01
"""Concealment repeats at full level for this long into a gap (s), after ITU-T G.711 Appendix I."""

PLC_MUTE_S = 0.06
"""...then fades by 20 % per 10 ms and is silent this far into a gap (s)."""


def loss_pattern(n_packets: int, loss_rate: float, burst_packets: float = 2.0, seed: int = 0) -> np.ndarray:
    """Which packets a line loses: a two-state (Gilbert) model of bursty loss.

    Runs of received packets and runs of lost packets alternate, each run's length
    geometric: lost runs of mean ``burst_packets``, received runs of mean
    ``burst_packets * (1 - loss_rate) / loss_rate``, so that ``loss_rate`` of the
    packets are lost in the long run. The first run is lost with probability
    ``loss_rate``.

    Returns
    -------
    np.ndarray [shape=(n_packets,), dtype=bool]
        True where a packet is lost.
    """
    if not 0.0 <= loss_rate < 1.0:
        raise ValueError(f"loss_rate must be in [0, 1), not {loss_rate}")
    if burst_packets < 1.0:
        raise ValueError(f"burst_packets must be >= 1, not {burst_packets}")
    lost = np.zeros(n_packets, bool)
    if loss_rate == 0.0 or n_packets == 0:
        return lost
    rng = np.random.default_rng(seed)
    p_end_bad = 1.0 / burst_packets
    p_end_good = min(1.0, loss_rate / ((1.0 - loss_rate) * burst_packets))
    pos, bad = 0, bool(rng.random() < loss_rate)
    while pos < n_packets:
        run = int(rng.geometric(p_end_bad if bad else p_end_good))
        if bad:
            lost[pos:pos + run] = True
        pos += run
        bad = not bad
    return lost


def _pitch_period(history: np.ndarray, sr: int, lo_hz: float = 66.0, hi_hz: float = 400.0,
                  voiced: float = 0.5) -> Optional[int]:
    """The period (samples) of the end of ``history`` by normalized autocorrelation; None if unvoiced."""
    p_min, p_max = int(sr / hi_hz), int(sr / lo_hz)
    if len(history) < 2 * p_max:
        return None
    tail = history[-p_max:]
    e0 = float(np.dot(tail, tail))
    if e0 <= 1e-12:
        return None
    best, best_lag = voiced, None
    for lag in range(p_min, p_max + 1):
        past = history[len(history) - p_max - lag:len(history) - lag]
        c = float(np.dot(tail, past)) / np.sqrt(e0 * float(np.dot(past, past)) + 1e-30)
        if c > best:
            best, best_lag = c, lag
    return best_lag


def packet_loss(x: np.ndarray, loss_rate: float, *, burst_packets: float = 2.0, packet_s: float = 0.02,
                concealment: str = "repeat", seed: int = 0, sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """``x`` after a packet line that loses ``loss_rate`` of its packets in bursts, concealed.

    The signal is cut into packets of ``packet_s`` (20 ms, as RTP carries G.711);
    :func:`loss_pattern` picks the lost ones. A receiving phone fills each gap:

    - ``"repeat"`` (the default, what phones do, after ITU-T G.711 Appendix I,
      simplified): the last pitch period before the gap (by autocorrelation, 66–400 Hz;
      the last packet when the sound before the gap is not voiced) is repeated,
      at full level for the first 10 ms, then fading by 20 % per 10 ms, silent from
      60 ms on; the first 2.5 ms after the gap are cross-faded from the repetition
      into the received sound.
    - ``"silence"``: the lost packets are zeros (a receiver without concealment).

    Received packets are otherwise left as they were; nothing moves in time.

    Returns
    -------
    y : np.ndarray [shape=(len(x),), dtype=float32]
    lost : np.ndarray [shape=(packets,), dtype=bool]
        Per packet of ``packet_s`` from the start (the last one may be partial).
    """
    if concealment not in ("repeat", "silence"):
        raise ValueError(f"concealment is 'repeat' or 'silence', not {concealment!r}")
    x = np.asarray(x, dtype=np.float64)
    hop = max(1, int(round(packet_s * sr)))
    n_packets = -(-len(x) // hop)
    lost = loss_pattern(n_packets, loss_rate, burst_packets, seed)
    y = x.copy()
    if not lost.any():
        return y.astype(np.float32), lost
    edges = np.diff(np.concatenate([[0], lost.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    t_full, t_mute = int(round(PLC_FULL_S * sr)), int(round(PLC_MUTE_S * sr))
    fade = int(round(0.0025 * sr))
    for p0, p1 in zip(starts, stops):
        i0, i1 = p0 * hop, min(len(x), p1 * hop)
        if concealment == "silence":
            y[i0:i1] = 0.0
            continue
        history = y[max(0, i0 - 4 * hop):i0]
        if len(history) == 0:
            y[i0:i1] = 0.0
            continue
        period = _pitch_period(history, sr) or min(hop, len(history))
        k = np.arange(i1 - i0 + fade)
        fill = history[len(history) - period:][k % period]
        gain = np.clip(1.0 - (k - t_full) / (t_mute - t_full), 0.0, 1.0)
        fill = fill * gain
        y[i0:i1] = fill[:i1 - i0]
        m = min(fade, len(x) - i1)
        if m > 0:
            w = (np.arange(m) + 0.5) / m
            y[i1:i1 + m] = w * x[i1:i1 + m] + (1.0 - w) * fill[i1 - i0:i1 - i0 + m]
    return y.astype(np.float32), lost


# --- the agent's mic: a quiet mic, mains hum, fan noise ----------------------------------

def quiet_mic(x: np.ndarray, gain_db: float = -18.0, noise_dbfs: float = -65.0, seed: int = 0,
              sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """The agent's channel through a mic ``gain_db`` less sensitive, its self-noise where it was.

    Everything the mic hears (the agent, the room, a fan) is ``gain_db`` quieter; the
    electrical noise of the mic and its converter is not, so white noise of RMS
    ``noise_dbfs`` is added after the gain. -65 dBFS is the floor
    :mod:`tools.callgen` gives a clean call, within the -75 to -60 dBFS of ordinary
    USB and analogue headsets; the quiet agent then sits about 25 dB above it.

    Returns
    -------
    y : np.ndarray [shape=(n,), dtype=float32]
    noise : np.ndarray [shape=(n,), dtype=float32]
        The added self-noise alone.
    """
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(len(x)) * db_to_gain(noise_dbfs)
    y = np.asarray(x, dtype=np.float64) * db_to_gain(gain_db) + noise
    return y.astype(np.float32), noise.astype(np.float32)


def mains_hum(n: int, level_dbfs: float, hz: float = 50.0, harmonics: int = 5, seed: int = 0,
              sr: int = SR) -> np.ndarray:
    """A ground-loop hum: ``hz`` and its harmonics, of total RMS ``level_dbfs``.

    Harmonic ``k`` (1 the fundamental) has amplitude ``1/k`` for odd ``k`` and ``1/(2k)``
    for even ones (the buzz of a rectified supply is mostly odd harmonics), each with a
    seeded random phase. Harmonics at or above half of ``sr`` are left out.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float64]
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    y = np.zeros(n)
    for k in range(1, harmonics + 1):
        phase = rng.uniform(0, 2 * np.pi)
        if k * hz >= sr / 2:
            continue
        y += (1.0 / k if k % 2 else 0.5 / k) * np.sin(2 * np.pi * k * hz * t + phase)
    rms = np.sqrt(np.mean(y * y)) if n else 0.0
    return y * (db_to_gain(level_dbfs) / rms) if rms > 0 else y


def fan_noise(n: int, level_dbfs: float, cutoff_hz: float = 250.0, seed: int = 0, sr: int = SR) -> np.ndarray:
    """Fan / HVAC noise: white noise low-passed, of RMS ``level_dbfs``.

    A 2nd-order Butterworth low-pass at ``cutoff_hz`` (-12 dB per octave above it, so
    the rumble is loud and the hiss above 2 kHz is 35 dB down) after a 1st-order
    high-pass at 20 Hz (no DC), like the broadband roar of a ventilation duct.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float64]
    """
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(n + sr // 2)                      # half a second to settle the filters
    w = signal.sosfilt(signal.butter(1, 20.0, btype="highpass", fs=sr, output="sos"), w)
    w = signal.sosfilt(signal.butter(2, cutoff_hz, fs=sr, output="sos"), w)[sr // 2:]
    rms = np.sqrt(np.mean(w * w)) if n else 0.0
    return w * (db_to_gain(level_dbfs) / rms) if rms > 0 else w


def add_hum(agent: np.ndarray, level_db: float, hz: float = 50.0, harmonics: int = 5, seed: int = 0,
            sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """Mains hum (:func:`mains_hum`) in the agent's mic, ``level_db`` relative to the agent.

    ``level_db`` is the hum's power (it is on all the time) against the agent's active
    speech level (:func:`active_level_db`), e.g. -30.

    Returns
    -------
    mixed, hum : np.ndarray [shape=(n,), dtype=float32]
    """
    ref = active_level_db(agent, sr)
    if not np.isfinite(ref):
        raise ValueError("the agent's channel is silent")
    hum = mains_hum(len(agent), ref + level_db, hz, harmonics, seed, sr)
    return (np.asarray(agent, dtype=np.float64) + hum).astype(np.float32), hum.astype(np.float32)


def add_fan(agent: np.ndarray, snr_db: float, cutoff_hz: float = 250.0, seed: int = 0,
            sr: int = SR) -> tuple[np.ndarray, np.ndarray]:
    """Fan noise (:func:`fan_noise`) in the agent's mic at ``snr_db``.

    ``snr_db`` is the agent's active speech level (:func:`active_level_db`) over the
    noise's power, e.g. 15.

    Returns
    -------
    mixed, fan : np.ndarray [shape=(n,), dtype=float32]
    """
    ref = active_level_db(agent, sr)
    if not np.isfinite(ref):
        raise ValueError("the agent's channel is silent")
    fan = fan_noise(len(agent), ref - snr_db, cutoff_hz, seed, sr)
    return (np.asarray(agent, dtype=np.float64) + fan).astype(np.float32), fan.astype(np.float32)


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
    loss_rate : float or None
        Share of the call audio's 20 ms packets lost (e.g. 0.05), in bursts, concealed
        (:func:`packet_loss`).
    loss_burst_packets : float
        Mean number of packets in a burst of loss.
    loss_concealment : str
        ``"repeat"`` (pitch repetition fading out, as phones do) or ``"silence"``.
    mic_gain_db : float or None
        A quiet mic: the agent's channel this many dB quieter (e.g. -18), with the mic's
        self-noise at ``mic_noise_dbfs`` added after it (:func:`quiet_mic`).
    mic_noise_dbfs : float
        RMS of a quiet mic's self-noise (dBFS).
    hum_db : float or None
        Mains hum in the agent's mic, dB relative to the agent's active level (:func:`add_hum`).
    hum_hz : float
        Mains frequency, 50 or 60 Hz.
    hum_harmonics : int
        The fundamental and this many harmonics in all.
    fan_snr_db : float or None
        Fan noise in the agent's mic, the agent's active level over it (dB, :func:`add_fan`).
    fan_cutoff_hz : float
        Corner of the fan noise's low-pass (Hz).
    level_db : float or None
        The whole recording this many dB quieter, both channels (e.g. -24): a softphone
        or recorder set low. Applied last, so the mic's self-noise and the line's
        noise go down with it.
    """

    echo_db: Optional[float] = None
    echo_delay_s: float = 0.18
    echo_taps: int = 4
    echo_drift_ms: float = 0.0
    echo_drift_db: float = 0.0
    floor_db: Optional[float] = None
    floor_rt60_s: float = 0.35
    phone: bool = False
    loss_rate: Optional[float] = None
    loss_burst_packets: float = 2.0
    loss_concealment: str = "repeat"
    mic_gain_db: Optional[float] = None
    mic_noise_dbfs: float = -65.0
    hum_db: Optional[float] = None
    hum_hz: float = 50.0
    hum_harmonics: int = 5
    fan_snr_db: Optional[float] = None
    fan_cutoff_hz: float = 250.0
    level_db: Optional[float] = None

    def describe(self) -> str:
        """A short human-readable name, e.g. ``"echo -30 dB 180 ms + phone line"``."""
        parts = []
        if self.floor_db is not None:
            parts.append(f"floor {self.floor_db:+.0f} dB")
        if self.fan_snr_db is not None:
            parts.append(f"fan {self.fan_snr_db:.0f} dB SNR")
        if self.mic_gain_db is not None:
            parts.append(f"mic {self.mic_gain_db:+.0f} dB (noise {self.mic_noise_dbfs:.0f} dBFS)")
        if self.hum_db is not None:
            parts.append(f"hum {self.hum_hz:g} Hz {self.hum_db:+.0f} dB")
        if self.echo_db is not None:
            drift = (f" drift ±{self.echo_drift_ms:g} ms ±{self.echo_drift_db:g} dB"
                     if self.echo_drift_ms or self.echo_drift_db else "")
            parts.append(f"echo {self.echo_db:+.0f} dB {self.echo_delay_s * 1000:.0f} ms{drift}")
        if self.phone:
            parts.append("phone line")
        if self.loss_rate is not None:
            parts.append(f"loss {self.loss_rate * 100:g} % ({self.loss_concealment})")
        if self.level_db is not None:
            parts.append(f"recorded {self.level_db:+.0f} dB")
        return " + ".join(parts) or "none"


def degrade(audio: np.ndarray, condition: Condition, seed: int = 0,
            colleagues: Optional[Sequence[np.ndarray]] = None, sr: int = SR) -> np.ndarray:
    """Apply ``condition`` to a two-channel call (column 0 agent, column 1 call audio).

    In the order of a real call: what the mic hears (colleagues, then a fan) goes into
    the agent's channel first; then the mic's sensitivity (a quiet mic, with its own
    self-noise after it) and the mains hum picked up by its cable; the echo is of what
    the mic sent (so it holds all of that too, far below); the phone line carries the
    caller and the echo, and packets of that are lost and concealed at the receiver.

    Parameters
    ----------
    audio : np.ndarray [shape=(n, 2)]
    condition : Condition
    seed : int
        Fixes every random choice (echo taps and drift, rooms, noises, lost packets).
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
    fan_seed, mic_seed, hum_seed, loss_seed = (int(s) for s in rng.integers(2**31, size=4))  # after: old seeds kept
    agent = audio[:, 0].astype(np.float32)
    customer = audio[:, 1].astype(np.float32)
    if condition.floor_db is not None:
        if not colleagues:
            raise ValueError("a floor condition needs the colleagues' speech")
        agent, _ = add_floor(agent, colleagues, condition.floor_db, rt60_s=condition.floor_rt60_s,
                             seed=floor_seed, sr=sr)
    if condition.fan_snr_db is not None:
        agent, _ = add_fan(agent, condition.fan_snr_db, condition.fan_cutoff_hz, seed=fan_seed, sr=sr)
    if condition.mic_gain_db is not None:
        agent, _ = quiet_mic(agent, condition.mic_gain_db, condition.mic_noise_dbfs, seed=mic_seed, sr=sr)
    if condition.hum_db is not None:
        agent, _ = add_hum(agent, condition.hum_db, condition.hum_hz, condition.hum_harmonics, seed=hum_seed,
                           sr=sr)
    if condition.echo_db is not None:
        echo, _ = make_echo(agent, condition.echo_db, condition.echo_delay_s, taps=condition.echo_taps,
                            drift_ms=condition.echo_drift_ms, drift_db=condition.echo_drift_db,
                            seed=echo_seed, sr=sr)
        customer = customer + echo
    if condition.phone:
        customer = phone_line(customer, sr)
    if condition.loss_rate is not None:
        customer, _ = packet_loss(customer, condition.loss_rate, burst_packets=condition.loss_burst_packets,
                                  concealment=condition.loss_concealment, seed=loss_seed, sr=sr)
    if condition.level_db is not None:
        gain = np.float32(db_to_gain(condition.level_db))
        agent, customer = agent * gain, customer * gain
    return np.stack([agent, customer], axis=1).astype(np.float32)
