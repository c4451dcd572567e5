"""VoiceCoach's hand-written prosody against librosa, frame by frame.

`voicecoach/analyzers/prosody.py` is written by hand so that it is incremental (any
block size, same result) and fast, and so that the live path never imports librosa
(numba's JIT costs seconds and ~185 MB per process). librosa is the well-kept
reference it is checked against, here.

Clips: the demo call's two channels (`demo_call_path()`, through `load_call`), and
the real read speech in ../shared/data/read/*.flac when it exists (skipped cleanly
when it does not; it is read in place, never copied).

Same frames on both sides. VoiceCoach's frame ``k`` is the samples
``[k * hop, k * hop + frame)`` (hop 10 ms = 160 samples, frame 40 ms = 640 samples
at 16 kHz, centre ``k * hop + frame / 2``); librosa is called with
``center=False``, ``frame_length=640``, ``hop_length=160`` (and, for formants at
10 kHz, 400 / 100), so its frame ``k`` is the same stretch of audio. The settings
come from ``ProsodyOptions`` (F0 range 65-400 Hz, YIN threshold 0.15, LPC order 10,
formant band 0-5 kHz, pre-emphasis 0.97, root limits 90 Hz and 600 Hz bandwidth).

- **F0**: ``librosa.yin`` (same range, ``trough_threshold`` = VoiceCoach's
  ``dip_threshold``) on the frames that both VoiceCoach and ``librosa.pyin`` call
  voiced. |difference| in cents; within 1 % / 5 %; octave errors = |difference|
  over 600 cents (nearer an octave than agreement). The two YIN variants differ:
  librosa 0.11 sums the difference function over the frame's overlap with itself
  (it shrinks as the lag grows), VoiceCoach over a fixed window of the frame's first
  ``frame - tau_max - 1`` samples, so VoiceCoach's F0 describes audio about 5 ms
  before the frame centre it reports (giving librosa the audio 80 samples earlier
  lifts "within 1 %" on the demo agent from 77 % to 85 %; irrelevant for coaching,
  which pools seconds). Both explain most of the differences under 5 %.
- **Voicing**: VoiceCoach's decision against pYIN's ``voiced_flag`` on the frames
  above VoiceCoach's energy gate (``silence_db``). Reported without a target: pYIN
  decides with an HMM over the whole clip, VoiceCoach per frame with a threshold;
  they are different definitions of "voiced", not two codings of one.
- **Formants**: the signal resampled to 10 kHz (``librosa.resample``), pre-emphasised
  (``librosa.effects.preemphasis``), each frame Hann-windowed, ``librosa.lpc``
  (Burg) of order 10, roots by ``np.roots``, the same root rule as VoiceCoach. On
  the frames where VoiceCoach computes formants (voiced, every ``formant_stride``-th
  frame) and where both sides found that formant.
- **Spectral centroid**: ``librosa.feature.spectral_centroid`` (Hann, n_fft 640)
  on the unaltered audio, on VoiceCoach's voiced frames (the frames `voice.py`
  summarises). The definitions differ in one place, on purpose: VoiceCoach removes
  each frame's mean and leaves out the 0 Hz bin, librosa keeps both, so a recording
  with a DC offset or slow drift pulls librosa's centroid down (the DC column shows
  each clip's offset: on the LibriVox clips, 9-17 % of the RMS, it is worth 20-40
  Hz). The "m-free" column gives librosa's formula VoiceCoach's input (each frame's
  mean removed, the 0 Hz bin zeroed, through ``S=``): what remains there is
  VoiceCoach's own arithmetic.

Times: VoiceCoach's ``ProsodyTracker`` fed each clip in one block, against the
librosa calls above (pyin counted apart: it only gives the voicing). librosa's
import and first-call compilation are timed once, apart.

Targets for "the same" (pooled over all clips; PASS/FAIL printed beside each):

    F0 median |difference|        <= 10 cents      (1 % is 17 cents)
    F0 within 5 %                 >= 95 % of frames both call voiced
    F0 within 1 %                 >= 85 %
    F0 octave errors              <= 1 %
    F1 / F2 / F3 median |diff|    <= 25 / 50 / 75 Hz (about 5 % of 500 / 1500 / 2500 Hz)
    F1 / F2 / F3 within 10 %      >= 80 % of frames (LPC by two methods, on audio
                                  resampled differently: a root found or missed
                                  shifts the numbering, so not all frames can agree)
    spectral centroid median |diff| <= 10 Hz       (one formula; only DC handling differs)

Per-clip rows mark a figure that misses its target with ``*``. The exit status is 1
when a pooled figure fails, 0 otherwise; without the read speech the figures are printed
with no verdict (exit 0), since the targets are for both sets pooled.

    python3 -m benchmarks.prosody_check [--data DIR]      # needs the bench extra (librosa)
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from voicecoach.analyzers.prosody import ProsodyFrames, ProsodyOptions, ProsodyTracker  # noqa: E402
from voicecoach.events import SAMPLE_RATE  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "read"

# (key, label, comparison, threshold, unit)
TARGETS = (
    ("f0_med_cents", "F0 median |difference|", "<=", 10.0, "cents"),
    ("f0_within_5", "F0 within 5 %", ">=", 95.0, "%"),
    ("f0_within_1", "F0 within 1 %", ">=", 85.0, "%"),
    ("f0_octave", "F0 octave errors", "<=", 1.0, "%"),
    ("f1_med_hz", "F1 median |difference|", "<=", 25.0, "Hz"),
    ("f1_within_10", "F1 within 10 %", ">=", 80.0, "%"),
    ("f2_med_hz", "F2 median |difference|", "<=", 50.0, "Hz"),
    ("f2_within_10", "F2 within 10 %", ">=", 80.0, "%"),
    ("f3_med_hz", "F3 median |difference|", "<=", 75.0, "Hz"),
    ("f3_within_10", "F3 within 10 %", ">=", 80.0, "%"),
    ("centroid_med_hz", "centroid median |difference|", "<=", 10.0, "Hz"),
)


def meets(key: str, value: float) -> bool:
    """Whether ``value`` of metric ``key`` meets its target (NaN: no frames, fails)."""
    for k, _, op, threshold, _ in TARGETS:
        if k == key:
            if not np.isfinite(value):
                return False
            return value <= threshold if op == "<=" else value >= threshold
    raise KeyError(key)


@dataclass
class Comparison:
    """Per-frame differences of one clip (or several, pooled)."""

    frames: int = 0
    gated: int = 0                   # frames above VoiceCoach's energy gate
    voicing_agree: int = 0           # of those, same voicing decision as pYIN
    vc_voiced: int = 0
    pyin_voiced: int = 0
    f0_cents: np.ndarray = field(default_factory=lambda: np.zeros(0))  # VoiceCoach vs yin, both voiced
    formant_vc: list = field(default_factory=lambda: [np.zeros(0)] * 3)
    formant_lr: list = field(default_factory=lambda: [np.zeros(0)] * 3)
    formant_frames: int = 0          # frames where VoiceCoach computed formants
    centroid_diff: np.ndarray = field(default_factory=lambda: np.zeros(0))
    centroid_meanfree_diff: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seconds_vc: float = 0.0
    seconds_lr: float = 0.0          # yin + centroid + formants
    seconds_pyin: float = 0.0
    audio_s: float = 0.0
    dc_pct: float = float("nan")     # the clip's mean as % of its RMS (NaN when pooled)

    @classmethod
    def pool(cls, parts: list["Comparison"]) -> "Comparison":
        out = cls()
        for p in parts:
            for name in ("frames", "gated", "voicing_agree", "vc_voiced", "pyin_voiced",
                         "formant_frames", "seconds_vc", "seconds_lr", "seconds_pyin", "audio_s"):
                setattr(out, name, getattr(out, name) + getattr(p, name))
        out.f0_cents = np.concatenate([p.f0_cents for p in parts] or [np.zeros(0)])
        out.centroid_diff = np.concatenate([p.centroid_diff for p in parts] or [np.zeros(0)])
        out.centroid_meanfree_diff = np.concatenate([p.centroid_meanfree_diff for p in parts]
                                                    or [np.zeros(0)])
        out.formant_vc = [np.concatenate([p.formant_vc[i] for p in parts] or [np.zeros(0)]) for i in range(3)]
        out.formant_lr = [np.concatenate([p.formant_lr[i] for p in parts] or [np.zeros(0)]) for i in range(3)]
        return out

    def metrics(self) -> dict:
        """Every figure of the table (NaN where there were no frames to compare)."""
        def pct(mask: np.ndarray) -> float:
            return 100.0 * float(np.mean(mask)) if mask.size else float("nan")

        def median(x: np.ndarray) -> float:
            return float(np.median(x)) if x.size else float("nan")

        c = np.abs(self.f0_cents)
        ratio = 2.0 ** (c / 1200.0)
        m = {
            "frames": self.frames,
            "f0_n": int(c.size),
            "voicing_agree": 100.0 * self.voicing_agree / self.gated if self.gated else float("nan"),
            "vc_voiced": 100.0 * self.vc_voiced / max(1, self.frames),
            "pyin_voiced": 100.0 * self.pyin_voiced / max(1, self.frames),
            "f0_med_cents": median(c),
            "f0_within_1": pct(ratio <= 1.01),
            "f0_within_5": pct(ratio <= 1.05),
            "f0_octave": pct(c > 600.0),
            "centroid_med_hz": median(np.abs(self.centroid_diff)),
            "centroid_n": int(self.centroid_diff.size),
            "centroid_meanfree_med_hz": median(np.abs(self.centroid_meanfree_diff)),
            "formant_frames": self.formant_frames,
            "seconds_vc": self.seconds_vc,
            "seconds_lr": self.seconds_lr,
            "seconds_pyin": self.seconds_pyin,
            "audio_s": self.audio_s,
            "dc_pct": self.dc_pct,
        }
        for i in range(3):
            vc, lr = self.formant_vc[i], self.formant_lr[i]
            m[f"f{i + 1}_n"] = int(vc.size)
            m[f"f{i + 1}_med_hz"] = median(np.abs(vc - lr))
            m[f"f{i + 1}_within_10"] = pct(np.abs(vc - lr) <= 0.10 * lr)
        return m


def voicecoach_frames(y: np.ndarray, options: ProsodyOptions,
                      sr: int = SAMPLE_RATE) -> tuple[ProsodyFrames, ProsodyTracker, float]:
    """VoiceCoach's frames of the whole clip (fed in one block, then flushed)."""
    t0 = time.perf_counter()
    tracker = ProsodyTracker(options, sr=sr)
    frames = ProsodyFrames.concat([tracker.feed(0.0, y), tracker.flush()])
    return frames, tracker, time.perf_counter() - t0


def _roots_to_formants(a: np.ndarray, fs: float, options: ProsodyOptions) -> np.ndarray:
    """F1-F3 (Hz, shape=(m, 3)) from predictor polynomials (shape=(m, p+1)), by the
    same root rule as VoiceCoach: above ``formant_min_hz``, below the band top minus
    it, narrower than ``formant_max_bandwidth_hz``; the lowest three."""
    out = np.full((a.shape[0], 3), np.nan)
    top = fs / 2.0
    for row, poly in enumerate(a):
        if not np.all(np.isfinite(poly)):
            continue
        r = np.roots(poly)
        r = r[r.imag > 0]
        freq = np.angle(r) * fs / (2 * np.pi)
        with np.errstate(divide="ignore"):
            bandwidth = -np.log(np.abs(r)) * fs / np.pi
        ok = (freq > options.formant_min_hz) & (freq < top - options.formant_min_hz) \
            & (bandwidth < options.formant_max_bandwidth_hz)
        f = np.sort(freq[ok])[:3]
        out[row, :f.size] = f
    return out


def librosa_frames(y: np.ndarray, options: ProsodyOptions, tracker: ProsodyTracker,
                   formant_index: np.ndarray, sr: int = SAMPLE_RATE) -> dict:
    """librosa's F0 (yin), voicing (pyin), centroid and formants on VoiceCoach's
    frames ``0..n-1`` (``center=False``, same frame length and hop); formants on the
    frames ``formant_index`` only. Also the seconds each took."""
    import librosa

    frame, hop = tracker.frame, tracker.hop
    out: dict = {}
    t0 = time.perf_counter()
    out["f0"] = librosa.yin(y, fmin=options.fmin_hz, fmax=options.fmax_hz, sr=sr,
                            frame_length=frame, hop_length=hop,
                            trough_threshold=options.dip_threshold, center=False)
    out["centroid"] = librosa.feature.spectral_centroid(
        y=y, sr=sr, n_fft=frame, hop_length=hop, window="hann", center=False)[0]
    t2 = time.perf_counter()
    # the same formula on VoiceCoach's input to it: mean-free frames, no 0 Hz bin
    framed = librosa.util.frame(y, frame_length=frame, hop_length=hop, axis=0)
    framed = (framed - framed.mean(axis=1, keepdims=True)) * librosa.filters.get_window(
        "hann", frame, fftbins=True)
    spec = np.abs(np.fft.rfft(framed, axis=1)).T
    spec[0] = 0.0
    out["centroid_meanfree"] = librosa.feature.spectral_centroid(S=spec, sr=sr, n_fft=frame)[0]
    t2b = time.perf_counter()
    fs = 2.0 * options.formant_band_hz
    y_band = librosa.resample(y, orig_sr=sr, target_sr=int(fs))
    y_band = librosa.effects.preemphasis(y_band, coef=options.pre_emphasis)
    frame_b, hop_b = int(round(options.frame_s * fs)), int(round(options.hop_s * fs))
    n_band = 1 + (y_band.size - frame_b) // hop_b if y_band.size >= frame_b else 0
    index = formant_index[formant_index < n_band]
    formants = np.full((formant_index.size, 3), np.nan)
    if index.size:
        framed = librosa.util.frame(y_band, frame_length=frame_b, hop_length=hop_b, axis=0)[index]
        framed = framed * librosa.filters.get_window("hann", frame_b, fftbins=True)
        a = librosa.lpc(np.ascontiguousarray(framed), order=options.lpc_order, axis=-1)
        formants[:index.size] = _roots_to_formants(a, fs, options)
    out["formants"] = formants
    t3 = time.perf_counter()
    _, out["voiced"], _ = librosa.pyin(y, fmin=options.fmin_hz, fmax=options.fmax_hz, sr=sr,
                                       frame_length=frame, hop_length=hop, center=False)
    t4 = time.perf_counter()
    out["seconds"] = (t2 - t0) + (t3 - t2b)
    out["seconds_pyin"] = t4 - t3
    return out


def compare_clip(y: np.ndarray, options: Optional[ProsodyOptions] = None,
                 sr: int = SAMPLE_RATE) -> Comparison:
    """VoiceCoach and librosa on the same frames of one mono clip."""
    options = options or ProsodyOptions()
    y = np.ascontiguousarray(y, dtype=np.float32)
    vc, tracker, seconds_vc = voicecoach_frames(y, options, sr)
    frame, hop = tracker.frame, tracker.hop
    n = min(len(vc), 1 + (y.size - frame) // hop if y.size >= frame else 0)
    vc = vc[:n]
    if not np.allclose(vc.t, (np.arange(n) * hop + frame / 2) / sr):
        raise AssertionError("VoiceCoach's frames are not on the grid librosa is given")
    stride = max(1, int(options.formant_stride))
    formant_index = np.flatnonzero(vc.voiced & (np.arange(n) % stride == 0))
    lr = librosa_frames(y, options, tracker, formant_index, sr)
    f0_lr, voiced_lr, centroid_lr = lr["f0"][:n], lr["voiced"][:n], lr["centroid"][:n]

    out = Comparison(frames=n, seconds_vc=seconds_vc, seconds_lr=lr["seconds"],
                     seconds_pyin=lr["seconds_pyin"], audio_s=y.size / sr)
    rms = float(np.sqrt(np.mean(np.square(y, dtype=np.float64))))
    out.dc_pct = 100.0 * abs(float(np.mean(y, dtype=np.float64))) / rms if rms > 0 else 0.0
    gate = vc.rms_db > options.silence_db
    out.gated = int(gate.sum())
    out.voicing_agree = int((vc.voiced == voiced_lr)[gate].sum())
    out.vc_voiced, out.pyin_voiced = int(vc.voiced.sum()), int(voiced_lr.sum())
    both = vc.voiced & voiced_lr & np.isfinite(f0_lr) & (f0_lr > 0)
    out.f0_cents = 1200.0 * np.log2(vc.f0_hz[both] / f0_lr[both])
    cen = vc.voiced & np.isfinite(vc.centroid_hz)
    out.centroid_diff = vc.centroid_hz[cen] - centroid_lr[cen]
    out.centroid_meanfree_diff = vc.centroid_hz[cen] - lr["centroid_meanfree"][:n][cen]
    out.formant_frames = int(formant_index.size)
    ours = np.stack([vc.f1_hz, vc.f2_hz, vc.f3_hz], axis=1)[formant_index]
    theirs = lr["formants"]
    out.formant_vc, out.formant_lr = [], []
    for i in range(3):
        ok = np.isfinite(ours[:, i]) & np.isfinite(theirs[:, i])
        out.formant_vc.append(ours[ok, i])
        out.formant_lr.append(theirs[ok, i])
    return out


def failures(m: dict) -> list[str]:
    """Labels of the targets ``m`` (from :meth:`Comparison.metrics`) misses."""
    return [label for key, label, *_ in TARGETS if not meets(key, m[key])]


# -- printing -----------------------------------------------------------------
def _cell(m: dict, key: str, fmt: str, width: int) -> str:
    value = m[key]
    text = "—" if not np.isfinite(value) else format(value, fmt)
    if any(key == k for k, *_ in TARGETS) and not meets(key, value):
        text += "*"
    return text.rjust(width)


def print_tables(rows: list[tuple[str, dict]]) -> None:
    name_w = max(14, max(len(name) for name, _ in rows))
    print("\nF0 (librosa.yin) and voicing (librosa.pyin), frames of 40 ms every 10 ms")
    print(f"{'clip':<{name_w}} {'frames':>7} {'voiced VC':>9} {'pYIN':>5} {'agree':>6}"
          f" {'both':>6} {'F0 med c':>9} {'≤1 %':>7} {'≤5 %':>7} {'octave':>7}")
    for name, m in rows:
        print(f"{name:<{name_w}} {m['frames']:>7} {m['vc_voiced']:>8.0f}% {m['pyin_voiced']:>4.0f}%"
              f" {_cell(m, 'voicing_agree', '.1f', 5)}% {m['f0_n']:>6}"
              f" {_cell(m, 'f0_med_cents', '.1f', 9)} {_cell(m, 'f0_within_1', '.1f', 6)}%"
              f" {_cell(m, 'f0_within_5', '.1f', 6)}% {_cell(m, 'f0_octave', '.2f', 6)}%")
    print("\nFormants (librosa.lpc at 10 kHz), centroid (librosa.feature.spectral_centroid), time")
    print(f"{'clip':<{name_w}} {'frames':>6} {'F1 med':>7} {'≤10 %':>7} {'F2 med':>7} {'≤10 %':>7}"
          f" {'F3 med':>7} {'≤10 %':>7} {'centr.':>7} {'DC':>5} {'m-free':>7} {'audio':>6} {'VC':>7} {'librosa':>8} {'+pyin':>7}")
    for name, m in rows:
        cells = " ".join(f"{_cell(m, f'f{i}_med_hz', '.1f', 7)} {_cell(m, f'f{i}_within_10', '.1f', 6)}%"
                         for i in (1, 2, 3))
        print(f"{name:<{name_w}} {m['formant_frames']:>6} {cells} {_cell(m, 'centroid_med_hz', '.1f', 7)}"
              f" {'' if not np.isfinite(m['dc_pct']) else format(m['dc_pct'], '.0f') + '%':>5}"
              f" {m['centroid_meanfree_med_hz']:>7.2f}"
              f" {m['audio_s']:>5.1f}s {1000 * m['seconds_vc']:>5.0f}ms {1000 * m['seconds_lr']:>6.0f}ms"
              f" {1000 * m['seconds_pyin']:>5.0f}ms")
    print("(formant and centroid differences in Hz; * = misses its target; DC = the clip's mean as % "
          "of its RMS; m-free = centroid against librosa's formula on VoiceCoach's mean-free frames "
          "without the 0 Hz bin; times exclude librosa's import and first-call compilation)")


def print_verdicts(m: dict, title: str) -> None:
    print(f"\n{title}")
    for key, label, op, threshold, unit in TARGETS:
        value = m[key]
        shown = "—" if not np.isfinite(value) else f"{value:.2f}"
        print(f"  {label:<30} {shown:>8} {unit:<5} (target {op} {threshold:g} {unit})"
              f"  {'PASS' if meets(key, value) else 'FAIL'}")
    print(f"  {'voicing agreement with pYIN':<30} {m['voicing_agree']:>8.2f} %     (no target: "
          "different definitions of voiced)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help="folder of real read speech (*.flac); skipped when missing")
    args = ap.parse_args()

    t0 = time.perf_counter()
    try:
        import librosa
    except ImportError:
        print("needs librosa: pip install -e '.[bench]'", file=sys.stderr)
        return 2
    from voicecoach.analyze import demo_call_path
    from voicecoach.sources.audio import load_call

    options = ProsodyOptions()
    warm = 0.2 * np.sin(2 * np.pi * 150 * np.arange(SAMPLE_RATE) / SAMPLE_RATE).astype(np.float32)
    compare_clip(warm, options)   # librosa loads lazily; numba compiles (or loads its cache) on first use
    t_first = time.perf_counter() - t0
    print(f"librosa {librosa.__version__}: import and first call {t_first:.1f} s "
          "(once per process; why it stays off the live path)")

    clips: list[tuple[str, str, np.ndarray]] = []
    demo = load_call(demo_call_path())
    clips.append(("demo", "demo agent", demo.agent))
    if demo.customer is not None:
        clips.append(("demo", "demo customer", demo.customer))
    read = sorted(args.data.glob("*.flac")) if args.data.is_dir() else []
    if not read:
        print(f"read speech: skipped (no *.flac at {args.data})")
    for path in read:
        clips.append(("read", path.stem, load_call(path).agent))

    results: list[tuple[str, str, Comparison]] = []
    for group, name, y in clips:
        results.append((group, name, compare_clip(y, options)))
    rows = [(name, c.metrics()) for _, name, c in results]
    groups = [("pooled demo", [c for g, _, c in results if g == "demo"])]
    if read:
        groups.append((f"pooled read ({len(read)})", [c for g, _, c in results if g == "read"]))
    pooled_all = Comparison.pool([c for *_, c in results])
    rows += [(name, Comparison.pool(parts).metrics()) for name, parts in groups]
    rows.append(("pooled all", pooled_all.metrics()))
    print_tables(rows)
    m = pooled_all.metrics()
    print_verdicts(m, f"Pooled over {len(results)} clips ({m['audio_s']:.0f} s of audio, "
                      f"{m['f0_n']} frames both voiced):")
    if not read:                     # the targets are for the two sets together
        print("\nNo verdict: the targets are for the demo call and the read speech pooled, "
              "and the read speech is missing")
        return 0
    failed = failures(m)
    print(f"\n{'PASS' if not failed else 'FAIL: ' + ', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
