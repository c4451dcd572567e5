"""Frame-level prosody of one channel: pitch, voicing, loudness, spectral shape, formants.

One :class:`ProsodyTracker` per channel is fed audio blocks of any size in call-clock
order and returns the analysis frames each block completes. Frame ``k`` covers the
samples ``[k * hop, k * hop + frame)`` of the call, so its values depend only on the
audio and never on how the audio was cut into blocks. :meth:`ProsodyTracker.feed_raw`
returns the frames cut but not analysed, for a caller that wants only some of them
(:meth:`ProsodyTracker.analyse`): the engine analyses speech only.

Per frame (all vectorized over frames; no Python loop per frame):

- **F0** by YIN (de Cheveigné & Kawahara, 2002): difference function from one FFT
  cross-correlation, cumulative-mean normalisation, the first dip under a threshold
  (else the deepest dip), parabolic refinement.
- **Voicing**: YIN aperiodicity (the normalised dip depth) under a threshold, an
  energy gate, and F0 inside ``[fmin_hz, fmax_hz]``.
- **Loudness**: ``rms_db = 20 log10(RMS)``, so a full-scale square wave is 0 dBFS and a
  full-scale sine -3 dBFS.
- **Spectral shape** from the Hann-windowed spectrum: centroid of the magnitude
  spectrum, and tilt as the *alpha ratio*: energy in 1-5 kHz over energy in
  50 Hz-1 kHz, in dB (higher = brighter; usually negative).
- **Formants** F1-F3 by selective linear prediction on voiced frames: the
  pre-emphasised power spectrum of 0..``formant_band_hz`` gives the autocorrelation,
  Levinson-Durbin gives the predictor, and the roots (eigenvalues of stacked companion
  matrices) give frequencies and bandwidths.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import scipy.fft

_ARRAY_FIELDS = ("t", "f0_hz", "voiced", "aperiodicity", "rms_db", "centroid_hz",
                 "tilt_db", "f1_hz", "f2_hz", "f3_hz")

SILENCE_FLOOR_DB = -120.0
"""``rms_db`` of digital silence (dBFS); centroid, tilt and formants are NaN there."""


@dataclass
class ProsodyOptions:
    """Settings of the frame analysis.

    Attributes
    ----------
    hop_s : float
        Time between frame starts (s).
    frame_s : float
        Length of each analysis frame (s). YIN needs room for ``1 / fmin_hz`` of lag
        plus an integration window of about as much again.
    fmin_hz : float
        Lowest F0 searched (Hz).
    fmax_hz : float
        Highest F0 searched (Hz).
    dip_threshold : float
        YIN absolute threshold: the first normalised-difference dip under it is taken
        as the period (0.1-0.15 in the YIN paper).
    voicing_threshold : float
        A frame is voiced only if its aperiodicity (normalised dip depth, 0 = perfectly
        periodic, about 1 = noise) is below this.
    silence_db : float
        Energy gate: frames quieter than this (dBFS) are never voiced.
    centroid_max_hz : float
        Upper frequency of the band the spectral centroid is taken over (Hz).
    tilt_split_hz : float
        Border between the low and high bands of the alpha ratio (Hz).
    tilt_low_hz : float
        Lower edge of the low band of the alpha ratio (Hz).
    tilt_high_hz : float
        Upper edge of the high band of the alpha ratio (Hz).
    lpc_order : int
        Order of the linear predictor for formants (two poles per formant in the band).
    formant_band_hz : float
        Top of the band modelled for formants (Hz); 5000 suits adult voices.
    pre_emphasis : float
        Pre-emphasis coefficient applied before linear prediction.
    formant_min_hz : float
        Roots below this frequency are not formants (Hz).
    formant_max_bandwidth_hz : float
        Roots wider than this are not formants (Hz).
    formant_stride : int
        Formants are computed on frames whose index is a multiple of this and held for
        the next ``formant_stride - 1`` frames (1 = every frame).
    batch_s : float
        Live audio comes in 20 ms blocks; frames are analysed once this much audio (s)
        beyond a frame has gathered, so each vectorized pass covers several blocks:
        0.1 s costs a fifth of the CPU of one pass per block (4.0 -> 0.8 % of a core
        per channel) and delays the frames, which feed slow meters, by at most 0.1 s.
    """

    hop_s: float = 0.01
    frame_s: float = 0.04
    fmin_hz: float = 65.0
    fmax_hz: float = 400.0
    dip_threshold: float = 0.15
    voicing_threshold: float = 0.3
    silence_db: float = -60.0
    centroid_max_hz: float = 8000.0
    tilt_split_hz: float = 1000.0
    tilt_low_hz: float = 50.0
    tilt_high_hz: float = 5000.0
    lpc_order: int = 10
    formant_band_hz: float = 5000.0
    pre_emphasis: float = 0.97
    formant_min_hz: float = 90.0
    formant_max_bandwidth_hz: float = 600.0
    formant_stride: int = 2
    batch_s: float = 0.1

    def problem(self, sr: int = 16000) -> str:
        """What is wrong with these settings together at sample rate ``sr`` (Hz); "" if nothing.

        >>> ProsodyOptions(fmin_hz=500.0).problem()
        'fmin_hz (500) must be below fmax_hz (400)'
        """
        nyquist = sr / 2
        if round(self.hop_s * sr) < 1 or round(self.frame_s * sr) < 1:
            return f"hop_s and frame_s must be at least one sample ({1 / sr:.6f} s)"
        if self.hop_s > self.frame_s:
            return f"hop_s ({self.hop_s:g}) must not be longer than frame_s ({self.frame_s:g}): audio would be skipped"
        if self.frame_s > 1.0:
            return f"frame_s ({self.frame_s:g}) must be at most 1 s"
        if not self.fmin_hz < self.fmax_hz < nyquist:
            return (f"fmin_hz ({self.fmin_hz:g}) must be below fmax_hz ({self.fmax_hz:g})"
                    if self.fmin_hz >= self.fmax_hz else f"fmax_hz ({self.fmax_hz:g}) must be below {nyquist:g}")
        tau_max = int(np.ceil(sr / self.fmin_hz))
        if int(round(self.frame_s * sr)) - tau_max - 1 < tau_max // 2:
            return (f"frame_s ({self.frame_s:g}) is too short for fmin_hz ({self.fmin_hz:g}): "
                    f"need at least {1.5 * (sr / self.fmin_hz) / sr + 1 / sr:.3f} s")
        if not self.tilt_low_hz < self.tilt_split_hz < self.tilt_high_hz:
            return "tilt_low_hz, tilt_split_hz and tilt_high_hz must rise in that order"
        if not 2 <= self.lpc_order <= 40:
            return f"lpc_order must be from 2 to 40 (two poles per formant), not {self.lpc_order}"
        if not 1000.0 <= self.formant_band_hz <= nyquist:    # F1-F3 lie below 3.5 kHz; 5 Hz was a typo for 5 kHz
            return f"formant_band_hz ({self.formant_band_hz:g}) must be from 1000 to {nyquist:g} Hz"
        if self.formant_stride > 100:
            return f"formant_stride must be at most 100, not {self.formant_stride}"
        if not -150.0 <= self.silence_db < 0.0:      # dB full scale: a dropped minus sign makes all audio quiet
            return f"silence_db ({self.silence_db:g}) is a level in dB full scale: from -150 to below 0"
        return ""


@dataclass
class ProsodyFrames:
    """Equal-length 1-D arrays, one entry per analysis frame.

    Attributes
    ----------
    t : np.ndarray [shape=(n,)]
        Frame centre on the call clock (s).
    f0_hz : np.ndarray [shape=(n,)]
        Fundamental frequency (Hz); NaN where unvoiced.
    voiced : np.ndarray [shape=(n,), dtype=bool]
        Voicing decision.
    aperiodicity : np.ndarray [shape=(n,)]
        YIN normalised dip depth at the chosen period (0 = periodic, ~1 = noise).
    rms_db : np.ndarray [shape=(n,)]
        Frame RMS in dBFS (floored at ``SILENCE_FLOOR_DB``).
    centroid_hz : np.ndarray [shape=(n,)]
        Centroid of the magnitude spectrum (Hz); NaN for digital silence.
    tilt_db : np.ndarray [shape=(n,)]
        Alpha ratio: energy 1-5 kHz over 50 Hz-1 kHz (dB); NaN for digital silence.
    f1_hz, f2_hz, f3_hz : np.ndarray [shape=(n,)]
        First three formants (Hz); NaN where unvoiced or not found.
    hop_s : float
        Time between frames (s); ``len(frames) * hop_s`` is the time they cover.
    """

    t: np.ndarray
    f0_hz: np.ndarray
    voiced: np.ndarray
    aperiodicity: np.ndarray
    rms_db: np.ndarray
    centroid_hz: np.ndarray
    tilt_db: np.ndarray
    f1_hz: np.ndarray
    f2_hz: np.ndarray
    f3_hz: np.ndarray
    hop_s: float = 0.01

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def __getitem__(self, index) -> "ProsodyFrames":
        """Frames selected by a boolean mask, an index array or a slice."""
        return ProsodyFrames(**{name: getattr(self, name)[index] for name in _ARRAY_FIELDS},
                             hop_s=self.hop_s)

    def select(self, mask: np.ndarray) -> "ProsodyFrames":
        """Frames where ``mask`` (bool, shape=(n,)) is true."""
        return self[np.asarray(mask, dtype=bool)]

    @property
    def duration_s(self) -> float:
        """Time covered by the frames (s): ``len(self) * hop_s``."""
        return len(self) * self.hop_s

    @property
    def voiced_s(self) -> float:
        """Voiced time among the frames (s)."""
        return float(np.count_nonzero(self.voiced)) * self.hop_s

    @classmethod
    def empty(cls, hop_s: float = 0.01) -> "ProsodyFrames":
        """No frames."""
        arrays = {name: np.zeros(0, dtype=bool if name == "voiced" else float)
                  for name in _ARRAY_FIELDS}
        return cls(**arrays, hop_s=hop_s)

    @classmethod
    def concat(cls, parts: Sequence["ProsodyFrames"]) -> "ProsodyFrames":
        """Frames of ``parts`` one after the other (all must share ``hop_s``)."""
        parts = list(parts)
        if not parts:
            return cls.empty()
        hops = {p.hop_s for p in parts}
        if len(hops) != 1:
            raise ValueError(f"cannot concatenate frames with different hops: {sorted(hops)}")
        return cls(**{name: np.concatenate([getattr(p, name) for p in parts])
                      for name in _ARRAY_FIELDS}, hop_s=parts[0].hop_s)


class RawFrames:
    """Analysis frames cut from the audio but not yet analysed (see
    :meth:`ProsodyTracker.feed_raw`): the engine holds them until voice activity
    has decided which are speech, and has only those analysed.

    Attributes
    ----------
    index : np.ndarray [shape=(n,), dtype=int]
        Frame numbers on the call clock's hop grid, increasing.
    samples : np.ndarray [shape=(n, frame)], float32
        Each frame's audio (a read-only view of the tracker's audio, as cut).
    t : np.ndarray [shape=(n,)]
        Frame centres on the call clock (s).
    """

    def __init__(self, index: np.ndarray, samples: np.ndarray, t: np.ndarray):
        self.index, self.samples, self.t = index, samples, t

    def __len__(self) -> int:
        return int(self.index.shape[0])

    def __getitem__(self, index) -> "RawFrames":
        return RawFrames(self.index[index], self.samples[index], self.t[index])

    @classmethod
    def empty(cls, frame: int) -> "RawFrames":
        """No frames of ``frame`` samples."""
        return cls(np.zeros(0, np.int64), np.zeros((0, frame), np.float32), np.zeros(0))

    @classmethod
    def concat(cls, parts: Sequence["RawFrames"]) -> "RawFrames":
        """``parts`` (at least one) one after the other."""
        full = [p for p in parts if len(p)]
        if len(full) <= 1:
            return full[0] if full else parts[0]
        parts = full
        return cls(np.concatenate([p.index for p in parts]),
                   np.concatenate([p.samples for p in parts]),
                   np.concatenate([p.t for p in parts]))


class ProsodyTracker:
    """Incremental prosody analysis of one channel.

    Parameters
    ----------
    options : ProsodyOptions or None
        Analysis settings; defaults when None.
    sr : int
        Sample rate of the fed audio (Hz).

    Examples
    --------
    >>> tracker = ProsodyTracker()
    >>> frames = tracker.feed(0.0, np.zeros(16000, dtype=np.float32))
    >>> len(frames), bool(frames.voiced.any())
    (97, False)
    """

    _CHUNK_FRAMES = 250  # frames analysed per vectorized batch (bounds memory)

    def __init__(self, options: Optional[ProsodyOptions] = None, sr: int = 16000):
        self.options = options or ProsodyOptions()
        self.sr = int(sr)
        o = self.options
        self.hop = int(round(o.hop_s * sr))
        self.frame = int(round(o.frame_s * sr))
        self._batch = int(round(o.batch_s * sr))
        problem = o.problem(self.sr)
        if problem:
            raise ValueError(problem)
        self.tau_min = max(2, int(np.floor(sr / o.fmax_hz)))
        self.tau_max = int(np.ceil(sr / o.fmin_hz))
        self.win = self.frame - self.tau_max - 1
        self._init_spectral_tables()
        self._buf = np.zeros(0, dtype=np.float32)
        self._k0: Optional[int] = None  # global index of the frame starting at _buf[0]
        self._stride = max(1, int(o.formant_stride))
        self._held = np.full(3, np.nan)  # formants of the last anchor frame analysed...
        self._held_index = -1                # ...and its index

    # -- spectral tables ------------------------------------------------------
    def _init_spectral_tables(self) -> None:
        o, n = self.options, self.frame
        self.freqs = np.arange(n // 2 + 1) * self.sr / n
        self._hann = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)).astype(np.float32)
        self._lags = np.arange(self.tau_max + 2, dtype=np.float32)
        f = self.freqs
        self._centroid_band = (f > 0) & (f <= o.centroid_max_hz)
        self._tilt_low = (f >= o.tilt_low_hz) & (f < o.tilt_split_hz)
        self._tilt_high = (f >= o.tilt_split_hz) & (f < o.tilt_high_hz)
        df = self.sr / n
        self._k_band = int(min(round(o.formant_band_hz / df), n // 2))
        self.formant_band_hz = self._k_band * df
        k = np.arange(self._k_band + 1)
        omega = 2 * np.pi * k / n
        emphasis = 1 + o.pre_emphasis ** 2 - 2 * o.pre_emphasis * np.cos(omega)
        # autocorrelation of the band read as a whole band sampled at twice its top:
        # r[m] = sum_k w_k P_k cos(pi m k / K)
        weights = np.where((k == 0) | (k == self._k_band), 1.0, 2.0)
        lags = np.arange(o.lpc_order + 1)
        self._acf_matrix = (emphasis * weights)[:, None] * np.cos(
            np.pi * np.outer(k, lags) / self._k_band)

    # -- streaming ------------------------------------------------------------
    def feed(self, start_s: float, samples: np.ndarray) -> ProsodyFrames:
        """Add one block of audio and return the frames it completes, analysed.

        Parameters
        ----------
        start_s : float
            Call-clock time of ``samples[0]`` (s). Blocks must come in call-clock
            order; a gap of up to one frame is filled with silence; after a longer
            gap the earlier audio is flushed (see :meth:`flush`) and framing restarts
            on the hop grid; audio overlapping what was already fed is dropped.
        samples : np.ndarray [shape=(n,)]
            Mono audio at ``sr``, full scale +-1.

        Returns
        -------
        ProsodyFrames
            The frames completed so far and not yet returned (none until ``batch_s``
            of audio beyond a frame has gathered), in time order.
        """
        return self.analyse(self.feed_raw(start_s, samples))

    def feed_raw(self, start_s: float, samples: np.ndarray) -> RawFrames:
        """:meth:`feed`, but the frames are returned unanalysed, for :meth:`analyse`
        to analyse those that are wanted (the engine: speech only)."""
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        start = int(round(start_s * self.sr))
        ended = self._no_frames()
        if self._k0 is not None and start > self._k0 * self.hop + self._buf.size + self.frame:
            ended = self.flush_raw()
        if self._k0 is None:
            self._restart(start, x)
        else:
            end = self._k0 * self.hop + self._buf.size
            if start >= end:
                self._buf = np.concatenate([self._buf, np.zeros(start - end, dtype=np.float32), x])
            else:
                self._buf = np.concatenate([self._buf, x[end - start:]])
        if self._buf.size < self.frame + self._batch:
            return ended
        return RawFrames.concat([ended, self._drain(self._buf.size)])

    def flush(self) -> ProsodyFrames:
        """Complete the frames whose centre lies in the audio fed so far, padding with
        silence, and start over: the next ``feed`` begins a new stream.

        Returns
        -------
        ProsodyFrames
            The remaining frames.
        """
        return self.analyse(self.flush_raw())

    def flush_raw(self) -> RawFrames:
        """:meth:`flush`, the frames unanalysed."""
        if self._k0 is None:
            return self._no_frames()
        n = self._buf.size
        n_frames = max(0, (n - self.frame // 2 - 1) // self.hop + 1) if n > self.frame // 2 else 0
        need = (n_frames - 1) * self.hop + self.frame if n_frames else 0
        if need > n:
            self._buf = np.concatenate([self._buf, np.zeros(need - n, dtype=np.float32)])
        out = self._drain(need)
        self._buf = np.zeros(0, dtype=np.float32)
        self._k0 = None
        return out

    def _restart(self, start: int, x: np.ndarray) -> None:
        k0 = -(-start // self.hop)  # ceil: first frame starting at or after the block
        self._k0 = k0
        self._buf = x[k0 * self.hop - start:].copy()

    def _no_frames(self) -> RawFrames:
        return RawFrames.empty(self.frame)

    def _drain(self, available: int) -> RawFrames:
        n_frames = (available - self.frame) // self.hop + 1 if available >= self.frame else 0
        if n_frames <= 0:
            return self._no_frames()
        span = self._buf[:(n_frames - 1) * self.hop + self.frame]    # (_buf is never written in place)
        samples = np.lib.stride_tricks.sliding_window_view(span, self.frame)[::self.hop]
        index = self._k0 + np.arange(n_frames)
        self._buf = self._buf[n_frames * self.hop:]
        self._k0 += n_frames
        return RawFrames(index, samples, (index * self.hop + self.frame / 2) / self.sr)

    def anchored(self, frames: RawFrames, wanted: np.ndarray) -> np.ndarray:
        """``wanted`` (bool, shape=(n,)) with, for each wanted frame, the frame its
        formants are held from (see ``formant_stride``), when that is among ``frames``."""
        wanted = np.asarray(wanted, bool)
        if self._stride == 1 or not wanted.any():
            return wanted
        anchors = frames.index[wanted] - frames.index[wanted] % self._stride
        return wanted | np.isin(frames.index, anchors)

    def split(self, frames: RawFrames, t: float) -> tuple[RawFrames, RawFrames]:
        """``frames`` centred before call-clock time ``t`` (s), and the rest; moved back
        so that the rest starts at a formant anchor: analysed in that order, each
        frame is analysed with its anchor."""
        n = int(np.searchsorted(frames.t, t))
        if n < len(frames):
            n = max(0, n - int(frames.index[n]) % self._stride)
        return frames[:n], frames[n:]

    def analyse(self, frames: RawFrames) -> ProsodyFrames:
        """Analyse frames from :meth:`feed_raw` / :meth:`flush_raw`, in call-clock order.

        A frame's formants are held from the frame before it whose index is a multiple
        of ``formant_stride`` (its anchor). Analysed together with their anchors
        (:meth:`anchored` adds them), frames get the values :meth:`feed` gives; a
        frame whose anchor was never analysed has no formants (NaN).
        """
        if len(frames) == 0:
            return ProsodyFrames.empty(self.options.hop_s)
        parts = [self._analyse(frames.samples[i:i + self._CHUNK_FRAMES],
                               frames.index[i:i + self._CHUNK_FRAMES])
                 for i in range(0, len(frames), self._CHUNK_FRAMES)]
        return parts[0] if len(parts) == 1 else ProsodyFrames.concat(parts)

    # -- analysis -------------------------------------------------------------
    def _analyse(self, frames: np.ndarray, index: np.ndarray) -> ProsodyFrames:
        o = self.options
        n_frames = frames.shape[0]
        t = (index * self.hop + self.frame / 2) / self.sr

        dc = frames.mean(axis=1, dtype=np.float64)
        x = (frames - dc[:, None]).astype(np.float32)
        csum = np.zeros((n_frames, self.frame + 1), dtype=np.float32)
        np.cumsum(x * x, axis=1, out=csum[:, 1:])
        power = csum[:, -1].astype(np.float64) / self.frame + dc ** 2
        rms_db = np.maximum(10 * np.log10(np.maximum(power, 1e-30)), SILENCE_FLOOR_DB)
        silent = rms_db <= SILENCE_FLOOR_DB

        spec = scipy.fft.rfft(x, axis=1)
        f0, aperiodicity = self._yin(x, spec, csum)
        voiced = (aperiodicity < o.voicing_threshold) & (rms_db > o.silence_db) \
            & (f0 >= o.fmin_hz) & (f0 <= o.fmax_hz)
        f0 = np.where(voiced, f0, np.nan)

        windowed = scipy.fft.rfft(x * self._hann, axis=1)
        pspec = windowed.real ** 2 + windowed.imag ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            mag = np.sqrt(pspec[:, self._centroid_band])
            centroid = mag @ self.freqs[self._centroid_band] / mag.sum(axis=1)
            low = pspec[:, self._tilt_low].sum(axis=1)
            high = pspec[:, self._tilt_high].sum(axis=1)
            tilt = 10 * np.log10((high + 1e-20) / (low + 1e-20))
        centroid[silent] = np.nan
        tilt[silent] = np.nan

        formants = self._formants(pspec, voiced, index)
        return ProsodyFrames(t=t, f0_hz=f0.astype(np.float64), voiced=voiced,
                             aperiodicity=aperiodicity.astype(np.float64),
                             rms_db=rms_db, centroid_hz=centroid, tilt_db=tilt.astype(np.float64),
                             f1_hz=formants[:, 0], f2_hz=formants[:, 1],
                             f3_hz=formants[:, 2], hop_s=o.hop_s)

    def _yin(self, x: np.ndarray, spec: np.ndarray,
             csum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """F0 (Hz, shape=(n,)) and aperiodicity (shape=(n,)) of mean-free frames.

        ``spec`` is ``rfft(x)`` and ``csum`` the running sum of ``x ** 2`` with a
        leading zero column.
        """
        n, w, tmax = self.frame, self.win, self.tau_max
        head = scipy.fft.rfft(x[:, :w], n=n, axis=1)
        head.imag *= -1
        head *= spec
        cross = scipy.fft.irfft(head, n=n, axis=1)[:, :tmax + 2]
        # d(tau) = sum_{j<w} x_j^2 + sum_{j<w} x_{j+tau}^2 - 2 sum_{j<w} x_j x_{j+tau}
        diff = csum[:, w:w + tmax + 2] - csum[:, :tmax + 2]
        diff += csum[:, w:w + 1]
        diff -= 2 * cross
        np.maximum(diff, 0.0, out=diff)
        running = np.cumsum(diff[:, 1:], axis=1)
        cmnd = np.ones_like(diff)
        floor = 1e-12 * (1.0 + csum[:, -1:])
        np.divide(diff[:, 1:] * self._lags[1:], running, out=cmnd[:, 1:], where=running > floor)

        lo, hi = self.tau_min, tmax
        mid = cmnd[:, lo:hi + 1]
        is_min = (mid < cmnd[:, lo - 1:hi]) & (mid <= cmnd[:, lo + 1:hi + 2])
        under = is_min & (mid < self.options.dip_threshold)
        has_under = under.any(axis=1)
        best = np.argmin(np.where(is_min, mid, np.inf), axis=1)
        pick = np.where(has_under, np.argmax(under, axis=1), best)
        rows = np.arange(x.shape[0])
        tau = lo + pick
        found = is_min[rows, pick]
        a, b, c = cmnd[rows, tau - 1], cmnd[rows, tau], cmnd[rows, tau + 1]
        denom = a - 2 * b + c
        with np.errstate(invalid="ignore", divide="ignore"):
            shift = np.where(denom > 0, np.clip(0.5 * (a - c) / denom, -1, 1), 0.0)
        aperiodicity = np.where(found, np.clip(b - 0.25 * (a - c) * shift, 0.0, None), 1.0)
        f0 = np.where(found, self.sr / (tau + shift), np.nan)
        return f0, aperiodicity

    def _formants(self, pspec: np.ndarray, voiced: np.ndarray, index: np.ndarray) -> np.ndarray:
        """F1-F3 (Hz, shape=(n, 3)); computed on voiced anchor frames (index a multiple
        of ``formant_stride``), each held over the frames up to the next anchor."""
        stride = self._stride
        out = np.full((index.size, 3), np.nan)
        anchor = (index % stride) == 0
        todo = np.flatnonzero(anchor & voiced)
        values = np.full((index.size, 3), np.nan)
        if todo.size:
            values[todo] = self._lpc_formants(pspec[todo, :self._k_band + 1])
        # each frame's anchor: in this batch, else the one analysed last (the batch before)
        own = index - index % stride
        pos = np.searchsorted(index, own)
        here = (pos < index.size) & (index[np.minimum(pos, index.size - 1)] == own)
        out[here] = values[pos[here]]
        out[~here & (own == self._held_index)] = self._held
        anchor_pos = np.flatnonzero(anchor)
        if anchor_pos.size:
            self._held = values[anchor_pos[-1]].copy()
            self._held_index = int(index[anchor_pos[-1]])
        out[~voiced] = np.nan
        return out

    def _lpc_formants(self, band_power: np.ndarray) -> np.ndarray:
        """Formants (Hz, shape=(m, 3)) from band power spectra (shape=(m, K+1))."""
        o = self.options
        p = o.lpc_order
        r = band_power @ self._acf_matrix
        r[:, 0] *= 1.0 + 1e-6
        r /= np.maximum(r[:, :1], 1e-30)
        a = np.zeros((r.shape[0], p + 1))
        a[:, 0] = 1.0
        err = r[:, 0].copy()
        for i in range(1, p + 1):  # Levinson-Durbin, vectorized over frames
            acc = np.einsum("ij,ij->i", a[:, :i], r[:, i:0:-1])
            k = -acc / np.maximum(err, 1e-30)
            a[:, 1:i + 1] = a[:, 1:i + 1] + k[:, None] * a[:, i - 1::-1][:, :i]
            err *= 1.0 - k ** 2
        companion = np.zeros((r.shape[0], p, p))
        companion[:, 0, :] = -a[:, 1:]
        companion[:, np.arange(1, p), np.arange(p - 1)] = 1.0
        roots = np.linalg.eigvals(companion)
        fs_band = 2.0 * self.formant_band_hz
        freq = np.angle(roots) * fs_band / (2 * np.pi)
        with np.errstate(divide="ignore"):
            bandwidth = -np.log(np.abs(roots)) * fs_band / np.pi
        ok = (freq > o.formant_min_hz) & (freq < self.formant_band_hz - o.formant_min_hz) \
            & (bandwidth < o.formant_max_bandwidth_hz) & (np.abs(roots.imag) > 0)
        freq = np.sort(np.where(ok, freq, np.inf), axis=1)[:, :3]
        return np.where(np.isfinite(freq), freq, np.nan)


class SpeechWindow:
    """Trailing window over a stream of (speech) frames, cut at regular update points.

    Every ``update_s`` worth of frames fed, it yields the last ``window_s`` worth of
    frames, leaving out frames more than ``max_span_s`` of call time before the newest.
    Update points depend only on the number of frames fed, so the windows do not
    depend on how the frames were grouped. The first windows of a stream are shorter
    (``update_s``, ``2 update_s``, ... until ``window_s`` of speech has been fed).
    When a stream has an end (a whole recording), :meth:`flush` yields the window
    that ends at its last frame.

    Parameters
    ----------
    window_s : float
        Speech time per window (s).
    update_s : float
        Speech time between windows (s).
    max_span_s : float
        Call-clock span limit of a window (s), so that speech from long ago is not
        mixed with speech now.
    """

    def __init__(self, window_s: float, update_s: float, max_span_s: float):
        self.window_s = window_s
        self.update_s = update_s
        self.max_span_s = max_span_s
        self._recent = ProsodyFrames.empty()
        self._count = 0

    def feed(self, frames: ProsodyFrames) -> list[ProsodyFrames]:
        """Add frames; return the windows completed (oldest first)."""
        if len(frames) == 0:
            return []
        hop = frames.hop_s
        window_n = max(1, int(round(self.window_s / hop)))
        update_n = max(1, int(round(self.update_s / hop)))
        recent = self._recent if len(self._recent) else ProsodyFrames.empty(hop)
        both = ProsodyFrames.concat([recent, frames])
        offset = len(recent)
        first_cut = update_n - (self._count % update_n)
        windows = []
        for cut in range(first_cut, len(frames) + 1, update_n):
            end = offset + cut
            part = both[max(0, end - window_n):end]
            part = part.select(part.t >= part.t[-1] - self.max_span_s)
            windows.append(part)
        self._count += len(frames)
        self._recent = both[max(0, len(both) - window_n):]
        return windows

    def flush(self) -> list[ProsodyFrames]:
        """End the stream: the window ending at the last frame fed, if frames came
        after the last update point (else none); then start afresh."""
        recent, count = self._recent, self._count
        self._recent, self._count = ProsodyFrames.empty(), 0
        if len(recent) == 0:
            return []
        update_n = max(1, int(round(self.update_s / recent.hop_s)))
        if count % update_n == 0:
            return []
        return [recent.select(recent.t >= recent.t[-1] - self.max_span_s)]
