"""Reading a recorded call into two 16 kHz float32 channels.

A call is a stereo file (left = agent, right = customer, or swapped), two files
(one per side), or a mono file (the agent alone). Anything else, or anything
unreadable, raises :class:`AudioError` with one line a user can act on.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from voicecoach.events import SAMPLE_RATE

MAX_CALL_S = 4 * 3600.0      # longer than any support call: almost surely a wrong file
SILENCE_PEAK = 10 ** (-70 / 20)   # -70 dBFS: digital silence or a muted device


class AudioError(Exception):
    """Input a user gave that cannot be analysed; the message is one clear line."""


@dataclass
class CallAudio:
    """Both sides of a call on one clock.

    Attributes
    ----------
    agent : np.ndarray [shape=(n,)], float32, 16 kHz
    customer : np.ndarray [shape=(n,)] or None
        None for a mono recording of the agent alone.
    name : str
        Where it came from, for reports.
    """

    agent: np.ndarray
    customer: Optional[np.ndarray]
    name: str

    sr = SAMPLE_RATE

    @property
    def duration(self) -> float:
        return len(self.agent) / SAMPLE_RATE

    def channels(self) -> dict[str, np.ndarray]:
        out = {"agent": self.agent}
        if self.customer is not None:
            out["customer"] = self.customer
        return out


def read_audio(path: str | Path) -> tuple[np.ndarray, int]:
    """Decode any common audio file.

    Returns
    -------
    audio : np.ndarray [shape=(n, channels)], float32, at the file's own rate
    sr : int
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty")
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        audio, sr = _read_with_av(path)
    else:
        if info.samplerate and info.frames / info.samplerate > MAX_CALL_S:
            _too_long(path, info.frames / info.samplerate)    # before decoding hours of audio
        audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    if audio.shape[0] == 0:
        raise AudioError(f"{path}: contains no audio samples (empty or truncated)")
    return audio, sr


def _read_with_av(path: Path) -> tuple[np.ndarray, int]:
    """Formats libsndfile does not read (m4a, aac, wma, video files) through PyAV."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise AudioError(f"{path}: has no audio stream")
            stream = container.streams.audio[0]
            sr = stream.rate
            chunks = [frame.to_ndarray() for frame in container.decode(stream)]
    except AudioError:
        raise
    except Exception:
        raise AudioError(f"{path}: not an audio file this program can decode") from None
    if not chunks or sr is None:
        raise AudioError(f"{path}: contains no audio samples (empty or truncated)")
    audio = np.concatenate(chunks, axis=1)       # planar: (channels, n)
    if audio.dtype.kind == "i":
        audio = audio / float(np.iinfo(audio.dtype).max)
    return np.ascontiguousarray(audio.T, dtype=np.float32), int(sr)


def _too_long(path: Path, duration: float) -> None:
    raise AudioError(f"{path}: {duration / 3600:.1f} hours long; a call longer than "
                     f"{MAX_CALL_S / 3600:.0f} hours is almost surely the wrong file")


def _resample(x: np.ndarray, sr: int) -> np.ndarray:
    if sr == SAMPLE_RATE:
        return np.ascontiguousarray(x, dtype=np.float32)
    import soxr

    return soxr.resample(x, sr, SAMPLE_RATE).astype(np.float32)


def _check(path: Path, audio: np.ndarray, sr: int) -> None:
    if not 4000 <= sr <= 384000:
        raise AudioError(f"{path}: sample rate {sr} Hz is not a speech recording")
    duration = audio.shape[0] / sr
    if duration > MAX_CALL_S:
        _too_long(path, duration)
    if duration < 0.5:
        raise AudioError(f"{path}: only {duration * 1000:.0f} ms of audio; too short to analyse")
    if not np.isfinite(audio.sum(dtype=np.float64)):   # no big temporary on long calls
        raise AudioError(f"{path}: contains invalid (NaN or infinite) samples")


def load_call(path: str | Path | None = None, *, agent: str | Path | None = None,
              customer: str | Path | None = None, agent_channel: str = "left") -> CallAudio:
    """Load a call from one file or from one file per side.

    Parameters
    ----------
    path : path, optional
        A stereo recording (``agent_channel`` says which side is the agent) or a
        mono recording of the agent alone.
    agent, customer : path, optional
        One file per side instead of ``path`` (``customer`` may be omitted).
    agent_channel : {"left", "right"}

    Returns
    -------
    CallAudio
        Both channels at 16 kHz, padded to the same length.

    Raises
    ------
    AudioError
        Unreadable, empty, silent, too long, or with the wrong channel count.
    """
    if agent_channel not in ("left", "right"):
        raise AudioError(f"--agent-channel must be 'left' or 'right', not {agent_channel!r}")
    if path is not None and (agent is not None or customer is not None):
        raise AudioError("give either one call file or --agent/--customer files, not both")
    if path is not None:
        path = Path(path)
        audio, sr = read_audio(path)
        _check(path, audio, sr)
        n_ch = audio.shape[1]
        if n_ch == 1:
            a, c = audio[:, 0], None
        elif n_ch == 2:
            a, c = (audio[:, 0], audio[:, 1]) if agent_channel == "left" else (audio[:, 1], audio[:, 0])
        else:
            raise AudioError(f"{path}: has {n_ch} channels; expected 2 (agent and customer) "
                             "or 1 (the agent alone)")
        a, c = np.ascontiguousarray(a), (None if c is None else np.ascontiguousarray(c))
        del audio                        # keep one copy of a long call in memory, not two
        a, c = _resample(a, sr), (None if c is None else _resample(c, sr))
        name = path.name
    elif agent is not None:
        a = _load_side(Path(agent))
        c = _load_side(Path(customer)) if customer is not None else None
        name = Path(agent).name + (f" + {Path(customer).name}" if customer else "")
    else:
        raise AudioError("no call given: name a recording, or --agent FILE [--customer FILE], or --demo")
    if c is not None:
        n = max(len(a), len(c))
        a, c = np.pad(a, (0, n - len(a))), np.pad(c, (0, n - len(c)))
    peak = max(_peak(a), _peak(c) if c is not None else 0.0)
    if peak < SILENCE_PEAK:
        raise AudioError(f"{name}: the recording is silent (peak below -70 dBFS); nothing to analyse")
    return CallAudio(a, c, name)


def _peak(x: np.ndarray) -> float:
    return max(float(x.max()), -float(x.min()))


def _load_side(path: Path) -> np.ndarray:
    """One side's file: mono, or several channels mixed down to one."""
    audio, sr = read_audio(path)
    _check(path, audio, sr)
    return _resample(audio.mean(axis=1), sr)
