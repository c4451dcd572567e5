"""The agent's voice profile, and warmth scores of whole clips.

A voice profile is the baseline of :mod:`voicecoach.analyzers.voice` made once from recordings
of the agent's ordinary speech (or a reading from the microphone): per-feature means
and spreads over windows of speech, never audio. Only what voice activity calls
speech is measured, cut into windows by the live warmth meter's own cutter
(:func:`voicecoach.analyzers.warmth.speech_window`, set by ``WarmthOptions``), so a
profile, a scored clip and the live meter share one scale: 0.5 is the agent's
ordinary voice.

- :func:`build_profile` / :func:`profile_from_audio`: recordings to a profile dict
  (``Baseline.as_dict()`` plus how much speech it saw), ready for JSON.
- :func:`score_clips` / :func:`score_audio`: warmth of each clip against a profile
  (or, without one, against the training speakers' average voice), or ``None`` with
  a reason when a clip has too little voiced speech.

Recording the agent from a microphone for ``calibrate --mic`` is
:mod:`voicecoach.sources.mic`'s.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from voicecoach.analyzers.prosody import ProsodyFrames, ProsodyOptions, ProsodyTracker
from voicecoach.analyzers.vad import SileroVad, VadOptions, VoiceActivity
from voicecoach.analyzers.voice import Baseline, VoiceStats, voice_stats
from voicecoach.analyzers.warmth import (
    WarmthModel,
    WarmthOptions,
    default_model,
    population_baseline,
    speech_window,
)
from voicecoach.events import SAMPLE_RATE
from voicecoach.sources.audio import AudioError, AudioWarning, check_call_channels, read_audio

PROFILE_KIND = "voicecoach-voice-profile"
"""Value of a profile's ``"kind"`` key."""
NO_SPEECH_S = 1.0      # a recording with less voiced speech gave none (a muted take, the wrong file)


@dataclass
class ProfileOptions:
    """Settings for profiles and clip scores.

    The windows are the live meter's: their length, step and span come from
    ``warmth`` (``window_s``, ``update_s``, ``max_span_s`` of the warmth options, the
    ``[warmth]`` section of the config), never from numbers of their own.

    Attributes
    ----------
    warmth : WarmthOptions
        The live warmth meter's settings, whose windows profiles and clip scores cut.
    min_voiced_s : float
        Least voiced time for a clip or a window to be measured (s); a clip with
        less gets no score ("not enough speech"). Lower than the live meter's
        ``WarmthOptions.min_voiced_s`` on purpose: a short clip, the unit
        ``voicecoach warmth`` scores and the model was trained on, may hold only
        about 1 s of voiced speech.
    min_profile_voiced_s : float
        Least voiced time, over all recordings, for a profile (s).
    """

    warmth: WarmthOptions = field(default_factory=WarmthOptions)
    min_voiced_s: float = 0.5
    min_profile_voiced_s: float = 5.0


def speech_frames(audio: np.ndarray, sr: int = SAMPLE_RATE,
                  prosody_options: Optional[ProsodyOptions] = None,
                  vad_options: Optional[VadOptions] = None,
                  vad_model: Optional[SileroVad] = None) -> ProsodyFrames:
    """Prosody frames of the parts of one recording that voice activity calls speech.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,)]
        Mono audio, full scale +-1.
    sr : int
        Sample rate of ``audio`` (Hz); resampled to 16 kHz when different.
    prosody_options, vad_options : optional
        Analysis settings; defaults when None.
    vad_model : SileroVad or None
        A voice activity model to reuse (its state is reset first); a new Silero
        model when None. Anything with ``reset()`` and ``__call__(windows)`` works.

    Returns
    -------
    ProsodyFrames
        Frames whose centre lies in a speech segment, in time order (s from the
        start of the recording).
    """
    x = np.asarray(audio, dtype=np.float32).reshape(-1)
    if sr != SAMPLE_RATE:
        import soxr

        x = soxr.resample(x, sr, SAMPLE_RATE).astype(np.float32)
    model = vad_model if vad_model is not None else SileroVad()
    model.reset()
    va = VoiceActivity(vad_options, model=model)
    va.feed(x)
    va.flush()
    tracker = ProsodyTracker(prosody_options, sr=SAMPLE_RATE)
    frames = ProsodyFrames.concat([tracker.feed(0.0, x), tracker.flush()])
    if len(frames) == 0:
        return frames
    speech = np.zeros(len(frames), bool)
    for seg in va.segments:
        speech |= (frames.t >= seg.start) & (frames.t < seg.end)
    return frames.select(speech)


def speech_windows(frames: ProsodyFrames, options: Optional[ProfileOptions] = None
                   ) -> list[ProsodyFrames]:
    """Cut one recording's speech frames into the windows that are measured.

    The live warmth meter's windows (:func:`voicecoach.analyzers.warmth.speech_window`
    with ``options.warmth``), as if the recording were a call of its own: every
    ``update_s`` of speech, the last ``window_s`` of it (shorter at the start),
    within ``max_span_s`` of call time. Because a recording, unlike a call, has an
    end, a last window ends at its last frame when that falls between two update
    points (so speech shorter than ``update_s`` still gives one window).

    Parameters
    ----------
    frames : ProsodyFrames
        Speech frames of one recording (see :func:`speech_frames`).
    options : ProfileOptions or None

    Returns
    -------
    list of ProsodyFrames
    """
    o = options or ProfileOptions()
    cutter = speech_window(o.warmth)
    return cutter.feed(frames) + cutter.flush()


def one_stream(recordings: Sequence[ProsodyFrames]) -> ProsodyFrames:
    """The speech frames of several recordings as one stream, one recording after the
    other on one clock: what the live meter would hear if they were said in one call.

    Each recording's frames keep their spacing (the pauses voice activity left out
    still count against ``max_span_s``); the next recording starts one frame after
    the last frame of the one before.
    """
    parts, start = [], 0.0
    for frames in recordings:
        if len(frames) == 0:
            continue
        parts.append(replace(frames, t=frames.t - frames.t[0] + start))
        start = parts[-1].t[-1] + frames.hop_s
    return ProsodyFrames.concat(parts)


def window_stats(frames: ProsodyFrames, options: Optional[ProfileOptions] = None
                 ) -> list[VoiceStats]:
    """:class:`VoiceStats` of every window of one recording with enough voiced speech."""
    o = options or ProfileOptions()
    stats = (voice_stats(w, o.min_voiced_s) for w in speech_windows(frames, o))
    return [s for s in stats if s is not None]


def voiced_seconds(frames: ProsodyFrames) -> float:
    """Voiced time in ``frames`` (s)."""
    return float(np.count_nonzero(frames.voiced & np.isfinite(frames.f0_hz)) * frames.hop_s)


def profile_from_frames(recordings: Sequence[ProsodyFrames],
                        options: Optional[ProfileOptions] = None,
                        names: Optional[Sequence[str]] = None) -> dict:
    """A voice profile from the speech frames of several recordings of one speaker.

    The recordings are measured as one stream (:func:`one_stream`), in the live
    meter's windows (:func:`speech_windows`): the profile is what the meter would
    have made of them said in one call, not of each recording started afresh (the
    meter's first windows of a stream are shorter, and the start of every short
    recording would otherwise weigh in).

    Parameters
    ----------
    recordings : sequence of ProsodyFrames
        Speech frames of each recording (see :func:`speech_frames`).
    options : ProfileOptions or None
    names : sequence of str, optional
        What each recording was, kept in the profile for the user's reference.

    Returns
    -------
    dict
        ``Baseline.as_dict()`` (``source="profile"``) plus ``"kind"``,
        ``"speech_s"``, ``"voiced_s"``, ``"window_s"``, ``"recordings"`` and
        ``"without_speech"`` (those of them under ``NO_SPEECH_S`` of voiced speech); read it
        back with ``Baseline.from_dict``.

    Raises
    ------
    AudioError
        Less than ``min_profile_voiced_s`` of voiced speech, or no window with
        enough of it.
    """
    o = options or ProfileOptions()
    names = list(names) if names is not None else [f"recording {i + 1}" for i in range(len(recordings))]
    each = [voiced_seconds(f) for f in recordings]
    voiced_s = sum(each)
    stats = window_stats(one_stream(recordings), o)
    if voiced_s < o.min_profile_voiced_s or not stats:
        where = f"{names[0]}: " if len(names) == 1 else f"{len(names)} recordings: "
        raise AudioError(f"{where}not enough speech for a voice profile: {voiced_s:.1f} s of voiced "
                         f"speech, need {o.min_profile_voiced_s:.1f} s; record more of your "
                         "ordinary voice")
    profile = {"kind": PROFILE_KIND}
    profile.update(Baseline.from_stats(stats, source="profile").as_dict())
    profile.update({"speech_s": round(sum(len(f) * f.hop_s for f in recordings), 2),
                    "voiced_s": round(voiced_s, 2), "window_s": o.warmth.window_s,
                    "recordings": names,
                    # a muted take or the wrong file: the profile is the others' (the user is told)
                    "without_speech": [n for n, v in zip(names, each) if v < NO_SPEECH_S]})
    return profile


def profile_from_audio(recordings: Sequence[np.ndarray], sr: int = SAMPLE_RATE,
                       options: Optional[ProfileOptions] = None,
                       names: Optional[Sequence[str]] = None,
                       prosody_options: Optional[ProsodyOptions] = None,
                       vad_options: Optional[VadOptions] = None,
                       vad_model: Optional[SileroVad] = None) -> dict:
    """A voice profile from mono recordings (arrays) of one speaker's ordinary voice.

    Parameters
    ----------
    recordings : sequence of np.ndarray [shape=(n,)]
        Mono audio at ``sr``, full scale +-1.
    sr : int
        Their sample rate (Hz).
    options, names
        As for :func:`profile_from_frames`.
    prosody_options, vad_options, vad_model
        As for :func:`speech_frames`.

    Returns
    -------
    dict
        See :func:`profile_from_frames`.
    """
    model = vad_model if vad_model is not None else SileroVad()
    frames = [speech_frames(x, sr, prosody_options, vad_options, model) for x in recordings]
    return profile_from_frames(frames, options, names)


def read_mono(path: str | Path, channel: str = "left") -> np.ndarray:
    """The agent's voice in one audio file, as 16 kHz mono float32: a mono file as it is,
    a stereo file's ``channel`` side (a call recording, as ``live --record`` writes it, has
    the agent on the left and the caller on the right, whose voice is not the agent's;
    some softphones record the agent on the right).

    Raises
    ------
    AudioError
        Missing, unreadable or empty file, or more than two channels.

    Warns
    -----
    AudioWarning
        ``channel`` is "right" and the file has one channel (it is taken whole).
    """
    audio, sr = read_audio(path)
    check_call_channels(path, audio.shape[1])
    if channel == "right" and audio.shape[1] == 1:
        warnings.warn(AudioWarning(f"{path}: one channel, no right side: all of it is taken as "
                                   "your voice"), stacklevel=2)
    x = audio[:, 1 if channel == "right" and audio.shape[1] > 1 else 0]
    if sr != SAMPLE_RATE:
        import soxr

        x = soxr.resample(x, sr, SAMPLE_RATE)
    return np.ascontiguousarray(x, dtype=np.float32)


def build_profile(paths: Sequence[str | Path], options: Optional[ProfileOptions] = None,
                  prosody_options: Optional[ProsodyOptions] = None,
                  vad_options: Optional[VadOptions] = None,
                  vad_model: Optional[SileroVad] = None) -> dict:
    """A voice profile from audio files of the agent's ordinary speech.

    Parameters
    ----------
    paths : sequence of path
        Recordings of the agent in the ordinary voice, with the headset used for
        calls: mono, or a call recording whose left channel is the agent (only
        that channel is measured; see :func:`read_mono`).
    options, prosody_options, vad_options, vad_model
        As for :func:`profile_from_audio`.

    Returns
    -------
    dict
        See :func:`profile_from_frames`; ``"recordings"`` lists the file names.

    Raises
    ------
    AudioError
        An unreadable file, one with more than two channels, or too little speech
        in all of them together.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise AudioError("no recordings given for the voice profile")
    return profile_from_audio([read_mono(p) for p in paths], SAMPLE_RATE, options,
                              [p.name for p in paths], prosody_options, vad_options,
                              vad_model)


def score_frames(frames: ProsodyFrames, baseline: Baseline, model: WarmthModel,
                 options: Optional[ProfileOptions] = None) -> dict:
    """Warmth of one clip's speech frames: the mean score of its windows.

    Parameters
    ----------
    frames : ProsodyFrames
        Speech frames of the clip.
    baseline : Baseline
        The speaker's profile (or the population reference).
    model : WarmthModel
    options : ProfileOptions or None

    Returns
    -------
    dict
        ``{"warmth": float in [0, 1] or None, "voiced_s": float, "windows": int,
        "reason": None or why there is no score}``.
    """
    o = options or ProfileOptions()
    voiced_s = voiced_seconds(frames)
    stats = window_stats(frames, o)
    if not stats:
        return {"warmth": None, "voiced_s": round(voiced_s, 2), "windows": 0,
                "reason": f"not enough speech: {voiced_s:.2f} s voiced, need "
                          f"{o.min_voiced_s:.2f} s"}
    scores = [min(max(model.score(s, baseline), 0.0), 1.0) for s in stats]
    return {"warmth": round(float(np.mean(scores)), 3), "voiced_s": round(voiced_s, 2),
            "windows": len(stats), "reason": None}


def reference_baseline(profile: Optional[dict | Baseline]) -> Baseline:
    """The baseline a clip is scored against: the profile (a dict from
    :func:`build_profile` or a :class:`Baseline`), or without one the population
    reference stored with the trained model."""
    if profile is None:
        return population_baseline()
    return profile if isinstance(profile, Baseline) else Baseline.from_dict(profile)


def score_audio(audio: np.ndarray, profile: Optional[dict | Baseline] = None,
                sr: int = SAMPLE_RATE,
                model: Optional[WarmthModel] = None, options: Optional[ProfileOptions] = None,
                prosody_options: Optional[ProsodyOptions] = None,
                vad_options: Optional[VadOptions] = None,
                vad_model: Optional[SileroVad] = None) -> dict:
    """Warmth of one mono clip, on the live meter's scale.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,)]
        Mono audio at ``sr``.
    profile : dict or Baseline or None
        A voice profile (:func:`build_profile`, or read back as a Baseline); None
        scores against the training speakers' average voice
        (``"baseline": "population"``), which is much less reliable.
    sr : int
        Sample rate (Hz).
    model : WarmthModel or None
        :func:`voicecoach.analyzers.warmth.default_model` when None.
    options, prosody_options, vad_options, vad_model
        As for :func:`speech_frames` and :func:`score_frames`.

    Returns
    -------
    dict
        :func:`score_frames`'s result plus ``"baseline"`` and ``"model"``.
    """
    baseline = reference_baseline(profile)
    model = model or default_model()
    frames = speech_frames(audio, sr, prosody_options, vad_options, vad_model)
    result = score_frames(frames, baseline, model, options)
    result.update({"baseline": baseline.source, "model": model.name})
    return result


def score_clips(paths: Sequence[str | Path], profile: Optional[dict | Baseline] = None,
                model: Optional[WarmthModel] = None, options: Optional[ProfileOptions] = None,
                prosody_options: Optional[ProsodyOptions] = None,
                vad_options: Optional[VadOptions] = None,
                vad_model: Optional[SileroVad] = None, channel: str = "left") -> list[dict]:
    """Warmth of each audio file, for ``voicecoach warmth``.

    Parameters
    ----------
    paths : sequence of path
        Clips of one speaker: mono, or stereo with that speaker on the ``channel`` side
        (only that channel is scored; see :func:`read_mono`).
    profile : dict or Baseline or None
        That speaker's voice profile; see :func:`score_audio`.
    model, options, prosody_options, vad_options, vad_model
        As for :func:`score_audio`.
    channel : {"left", "right"}
        The speaker's side of a stereo clip.

    Returns
    -------
    list of dict
        One ``{"file", "warmth", "voiced_s", "windows", "reason", "baseline",
        "model"}`` per clip, in order; ``"warmth"`` is None (with a ``"reason"``) for
        a silent or too short clip.

    Raises
    ------
    AudioError
        A missing or unreadable file, or one with more than two channels.
    """
    baseline = reference_baseline(profile)
    model = model or default_model()
    vad_model = vad_model if vad_model is not None else SileroVad()
    out = []
    for path in paths:
        frames = speech_frames(read_mono(path, channel), SAMPLE_RATE, prosody_options, vad_options,
                               vad_model)
        result = {"file": str(path)}
        result.update(score_frames(frames, baseline, model, options))
        result.update({"baseline": baseline.source, "model": model.name})
        out.append(result)
    return out
