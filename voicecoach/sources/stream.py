"""A recorded call read block by block, so memory does not grow with the call's length.

:func:`open_call_stream` takes the same inputs as :func:`voicecoach.sources.audio.load_call`
(one stereo or mono file, or one file per side) and gives a :class:`CallStream`: both
channels decoded, resampled to 16 kHz and cut into equal blocks as they are read.
libsndfile reads WAV, FLAC, Ogg/Opus and MP3 a block at a time; other formats (m4a,
aac, wma, video files) are decoded frame by frame with PyAV. Resampling is soxr's
streaming resampler, the same filter ``load_call`` uses on a whole file.

What can be checked before decoding (the sample rate, the channel count, the length
from the header) is checked in :func:`open_call_stream`; what only the samples tell
(invalid samples, a silent or too short recording) is checked as they come, and the
end-of-call checks when the stream ends (:meth:`CallStream.finish`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from voicecoach.events import AGENT, CUSTOMER, SAMPLE_RATE
from voicecoach.sources.audio import SILENCE_PEAK, AudioError

MAX_STREAM_S = 24 * 3600.0
"""Longest recording ``analyze`` takes (s): a day. Memory no longer grows with the
length, so this only catches a wrong file (or a header that lies) before hours of work."""

_READ_S = 1.0          # decoded at a time from a file (s at its own rate)


class _Decoder:
    """One file's samples at its own rate, ``(n, channels)`` float32 a piece at a time."""

    def __init__(self, path: Path):
        self.path = path
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
            info = None
        if info is not None:
            self.kind = "sndfile"
            self.rate, self.channels = int(info.samplerate), int(info.channels)
            self.duration_s: Optional[float] = info.frames / info.samplerate if info.samplerate else None
        else:
            self.kind = "av"
            self._open_av()
        if not 4000 <= self.rate <= 384000:
            raise AudioError(f"{path}: sample rate {self.rate} Hz is not a speech recording")
        if self.duration_s is not None and self.duration_s > MAX_STREAM_S:
            _too_long(path, self.duration_s)

    def _open_av(self) -> None:
        import av

        try:
            container = av.open(str(self.path))
        except Exception:
            raise AudioError(f"{self.path}: not an audio file this program can decode") from None
        try:
            if not container.streams.audio:
                raise AudioError(f"{self.path}: has no audio stream")
            stream = container.streams.audio[0]
            self.rate = int(stream.rate or 0)
            self.channels = int(stream.channels or 0)
            if stream.duration is not None and stream.time_base is not None:
                self.duration_s = float(stream.duration * stream.time_base)
            elif container.duration:
                self.duration_s = container.duration / 1e6      # av.time_base: microseconds
            else:
                self.duration_s = None
        finally:
            container.close()
        if not self.channels:
            raise AudioError(f"{self.path}: not an audio file this program can decode")

    def __iter__(self) -> Iterator[np.ndarray]:
        return self._sndfile() if self.kind == "sndfile" else self._av()

    def _sndfile(self) -> Iterator[np.ndarray]:
        import soundfile as sf

        n = max(1, int(self.rate * _READ_S))
        try:
            with sf.SoundFile(str(self.path)) as f:
                while True:
                    x = f.read(n, dtype="float32", always_2d=True)
                    if len(x) == 0:
                        return
                    yield x
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioError(f"{self.path}: cannot be decoded ({exc})") from None

    def _av(self) -> Iterator[np.ndarray]:
        import av

        try:
            with av.open(str(self.path)) as container:
                stream = container.streams.audio[0]
                for frame in container.decode(stream):
                    x = frame.to_ndarray()
                    if frame.format.is_planar:
                        x = x.T                              # (channels, n) -> (n, channels)
                    else:
                        x = x.reshape(-1, self.channels)     # interleaved
                    if x.dtype.kind == "i":
                        x = x / float(np.iinfo(x.dtype).max)
                    elif x.dtype.kind == "u":                # 8-bit PCM
                        x = (x.astype(np.float32) - 128.0) / 128.0
                    yield np.ascontiguousarray(x, dtype=np.float32)
        except AudioError:
            raise
        except Exception:
            raise AudioError(f"{self.path}: not an audio file this program can decode") from None


def _too_long(path: Path, duration: float) -> None:
    raise AudioError(f"{path}: {duration / 3600:.1f} hours long; a recording longer than "
                     f"{MAX_STREAM_S / 3600:.0f} hours is almost surely the wrong file")


class _Resampler:
    """One mono signal from a file's rate to 16 kHz, piece by piece."""

    def __init__(self, rate: int):
        self.rate = rate
        self._soxr = None
        if rate != SAMPLE_RATE:
            import soxr

            self._soxr = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32")

    def __call__(self, x: np.ndarray, last: bool = False) -> np.ndarray:
        if self._soxr is None:
            return np.ascontiguousarray(x, dtype=np.float32)
        return self._soxr.resample_chunk(np.ascontiguousarray(x, dtype=np.float32), last=last)


class CallStream:
    """Both sides of a recorded call as equal 16 kHz blocks, read as they are needed.

    Iterating yields ``{channel: samples}`` dicts, every channel the same length
    (``block_s``, the last block shorter), in call-clock order. Iterate once.

    Attributes
    ----------
    name : str
        Where the call came from, for reports.
    channels : tuple of str
        ``("agent", "customer")``, or ``("agent",)`` for a mono recording.
    duration_hint : float or None
        The length (s) the file headers give, for progress; None when they do not say.
    duration : float
        Seconds read so far (the call's length once iterated).
    """

    def __init__(self, sides: dict, name: str, block_s: float = 10.0):
        # sides: channel -> (decoder, column index or None for a mixdown)
        self._sides = sides
        self.name = name
        self.channels = tuple(sides)
        self.block = max(1, int(round(block_s * SAMPLE_RATE)))
        hints = [d.duration_s for d, _ in sides.values()]
        self.duration_hint = max(hints) if all(h is not None for h in hints) else None
        self.samples = 0
        self.peak = 0.0

    @property
    def duration(self) -> float:
        return self.samples / SAMPLE_RATE

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        decoders = {id(d): d for d, _ in self._sides.values()}
        feeds = {k: _decoded(d) for k, d in decoders.items()}     # one pass over each file
        resamplers = {ch: _Resampler(d.rate) for ch, (d, _) in self._sides.items()}
        pending = {ch: [] for ch in self.channels}
        counts = dict.fromkeys(self.channels, 0)
        done = dict.fromkeys(decoders, False)
        key_of = {ch: id(d) for ch, (d, _) in self._sides.items()}
        while True:
            for key, feed in feeds.items():
                if done[key]:
                    continue
                # keep each file's channels fed until every channel holds a block
                sides = [(ch, col) for ch, (d, col) in self._sides.items() if id(d) == key]
                if all(counts[ch] >= self.block for ch, _ in sides):
                    continue
                x = next(feed, None)
                for ch, col in sides:
                    mono = x[:, col] if (x is not None and col is not None) else (
                        x.mean(axis=1) if x is not None else np.zeros(0, np.float32))
                    y = resamplers[ch](mono, last=x is None)
                    if len(y):
                        pending[ch].append(y)
                        counts[ch] += len(y)
                if x is None:
                    done[key] = True
            # a side whose file has ended is padded with silence to the other's length
            if not all(counts[ch] >= self.block or done[key_of[ch]] for ch in self.channels):
                continue
            n = min(self.block, max(counts.values()))
            if n == 0:
                return
            block = {}
            for ch in self.channels:
                x = np.concatenate(pending[ch]) if pending[ch] else np.zeros(0, np.float32)
                if len(x) < n:                                  # the shorter side, at the end
                    x = np.concatenate([x, np.zeros(n - len(x), np.float32)])
                block[ch], rest = x[:n], x[n:]
                pending[ch] = [rest] if len(rest) else []
                counts[ch] = len(rest)
            self._check(block)
            yield block

    def _check(self, block: dict[str, np.ndarray]) -> None:
        for x in block.values():
            peak = float(np.abs(x).max()) if len(x) else 0.0
            if not np.isfinite(peak):
                raise AudioError(f"{self.name}: contains invalid (NaN or infinite) samples")
            self.peak = max(self.peak, peak)
        self.samples += len(next(iter(block.values())))
        if self.samples / SAMPLE_RATE > MAX_STREAM_S:
            _too_long(Path(self.name), self.samples / SAMPLE_RATE)

    def finish(self) -> None:
        """The checks only the whole call can answer; call after iterating.

        Raises
        ------
        AudioError
            Too short, or silent.
        """
        if self.samples == 0:
            raise AudioError(f"{self.name}: contains no audio samples (empty or truncated)")
        if self.duration < 0.5:
            raise AudioError(f"{self.name}: only {self.duration * 1000:.0f} ms of audio; too short to analyse")
        if self.peak < SILENCE_PEAK:
            raise AudioError(f"{self.name}: the recording is silent (peak below -70 dBFS); nothing to analyse")


def _decoded(decoder: _Decoder) -> Iterator[np.ndarray]:
    for x in decoder:
        if len(x):
            yield x


def open_call_stream(path: str | Path | None = None, *, agent: str | Path | None = None,
                     customer: str | Path | None = None, agent_channel: str = "left",
                     block_s: float = 10.0) -> CallStream:
    """Open a call to be read block by block; the arguments are those of
    :func:`voicecoach.sources.audio.load_call`.

    Raises
    ------
    AudioError
        Unreadable, too long (from the header), a wrong sample rate or channel count.
    """
    if agent_channel not in ("left", "right"):
        raise AudioError(f"--agent-channel must be 'left' or 'right', not {agent_channel!r}")
    if path is not None and (agent is not None or customer is not None):
        raise AudioError("give either one call file or --agent/--customer files, not both")
    if path is not None:
        path = Path(path)
        d = _Decoder(path)
        if d.channels == 1:
            sides = {AGENT: (d, 0)}
        elif d.channels == 2:
            a = 0 if agent_channel == "left" else 1
            sides = {AGENT: (d, a), CUSTOMER: (d, 1 - a)}
        else:
            raise AudioError(f"{path}: has {d.channels} channels; expected 2 (agent and customer) "
                             "or 1 (the agent alone)")
        return CallStream(sides, path.name, block_s)
    if agent is None:
        raise AudioError("no call given: name a recording, or --agent FILE [--customer FILE], or --demo")
    sides = {AGENT: (_Decoder(Path(agent)), None)}
    if customer is not None:
        sides[CUSTOMER] = (_Decoder(Path(customer)), None)
    name = Path(agent).name + (f" + {Path(customer).name}" if customer else "")
    return CallStream(sides, name, block_s)
