"""A recorded call read block by block, so memory does not grow with the call's length.

:func:`open_call_stream` takes the same inputs as :func:`voicecoach.sources.audio.load_call`
(one stereo or mono file, or one file per side) and gives a :class:`CallStream`: both
channels decoded, resampled to 16 kHz and cut into equal blocks as they are read.
libsndfile reads WAV, FLAC, Ogg/Opus and MP3 a block at a time; other formats (m4a,
aac, wma, video files) are decoded frame by frame with PyAV. Resampling is soxr's
streaming resampler, the same filter ``load_call`` uses on a whole file.

The input checks are :mod:`voicecoach.sources.audio`'s, the same as for a file read
whole: the header before decoding (:func:`~voicecoach.sources.audio.check_header`, up to
:data:`~voicecoach.sources.audio.MAX_STREAM_S`), every decoded piece's samples
(``check_samples``), decoders' messages kept off the terminal (``quiet_decoders``), and a
file that breaks part-way analysed up to there with one ``AudioWarning`` saying where it
ends. What only the whole call tells (a silent or too short recording) is checked when
the stream ends (:meth:`CallStream.finish`).
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from voicecoach.events import AGENT, CUSTOMER, SAMPLE_RATE
from voicecoach.sources.audio import (FILE_BLOCK_S, MAX_STREAM_S, SILENCE_PEAK, AudioError, AudioWarning,
                                      LevelCheck, lengths_differ, OneVoice, av_samples,
                                      av_stream,
                                      check_call_args, check_call_channels, check_file, check_header,
                                      check_length, check_samples, damaged_from_start, ended_early, further_ended, sndfile_info,
                                      too_long, undecodable, warn_truncated)
from voicecoach.sources.library_noise import quiet_decoders

_READ_S = 1.0          # decoded at a time from a file (s at its own rate)


class _Decoder:
    """One file's samples at its own rate, ``(n, channels)`` float32 a piece at a time.

    The checks are :mod:`voicecoach.sources.audio`'s, as :func:`~voicecoach.sources.audio.read_audio`
    makes them on a whole file: the header before decoding (up to :data:`MAX_STREAM_S`),
    every piece's samples, decoders' messages kept off the terminal; a file that breaks
    part-way is read on with FFmpeg where libsndfile gives up, and one ``AudioWarning``
    says where it ends."""

    def __init__(self, path: Path):
        self.path = path
        check_file(path)
        with quiet_decoders():
            info = sndfile_info(path)
            if info is None:
                self.kind, self.extra_info = "av", ""
                self.rate, self.channels, self.frames = self._av_header()
            else:
                self.kind, self.extra_info = "sndfile", info.extra_info or ""
                self.rate, self.channels, self.frames = int(info.samplerate), int(info.channels), int(info.frames or 0)
        check_header(path, self.rate, self.channels, self.frames, MAX_STREAM_S)
        self.duration_s: Optional[float] = self.frames / self.rate if self.frames > 0 else None
        self.n = 0                 # frames given so far
        self.ended = ""            # where and why it ended early ("": it did not)
        self.error: Optional[BaseException] = None    # the decoder's error part-way

    def _av_header(self) -> tuple[int, int, int]:
        import av

        try:
            container = av.open(str(self.path))
        except Exception:
            raise AudioError(f"{self.path}: not an audio file this program can decode") from None
        with container:
            _, rate, channels, frames = av_stream(container, self.path)
        return rate, channels, frames

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.kind == "av":
            yield from self._checked(self._av())
            if self.n == 0 and self.error is not None:
                raise damaged_from_start(self.path, self.error)
            ended = ended_early(self.rate, self.n, self.frames, self.error)
        else:
            yield from self._checked(self._sndfile())
            ended = ended_early(self.rate, self.n, self.frames, self.error, self.extra_info)
            if self.error is not None or self.n == 0:
                ended = yield from self._more_with_av(ended)
        self.ended = ended
        warn_truncated(self.path, ended)

    def _checked(self, pieces: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
        """Each piece decoded quietly, its samples checked, the length kept in bounds."""
        limit = MAX_STREAM_S * self.rate
        while True:
            with quiet_decoders():
                x = next(pieces, None)
            if x is None:
                return
            check_samples(self.path, x)
            self.n += len(x)
            if self.n > limit:
                too_long(self.path, self.n / self.rate, MAX_STREAM_S)
            yield x

    def _sndfile(self) -> Iterator[np.ndarray]:
        import soundfile as sf

        n = max(1, int(self.rate * _READ_S))
        try:
            f = sf.SoundFile(str(self.path))
        except (sf.LibsndfileError, RuntimeError, OSError) as exc:
            raise undecodable(self.path, exc) from None
        with f:
            while True:
                try:
                    x = f.read(n, dtype="float32", always_2d=True)
                except (sf.LibsndfileError, RuntimeError) as exc:
                    self.error = exc
                    return
                if len(x) == 0:
                    return
                yield x

    def _av(self, skip: int = 0) -> Iterator[np.ndarray]:
        """PyAV's pieces after the first ``skip`` frames; an error part-way ends them
        (in :attr:`error`)."""
        import av

        try:
            container = av.open(str(self.path))
        except Exception:
            raise AudioError(f"{self.path}: not an audio file this program can decode") from None
        with container:
            stream, rate, channels, _ = av_stream(container, self.path)
            if (rate, channels) != (self.rate, self.channels):
                raise AudioError(f"{self.path}: FFmpeg reads it differently from libsndfile")
            try:
                for frame in container.decode(stream):
                    x = av_samples(frame, channels).T            # (n, channels)
                    if skip >= len(x):
                        skip -= len(x)
                        continue
                    x, skip = x[skip:], 0
                    yield np.ascontiguousarray(x)
            except Exception as exc:
                self.error = exc

    def _more_with_av(self, ended: str):
        """libsndfile gave up part-way (its FLAC decoder drops the whole block that
        breaks): FFmpeg often decodes further, so what it gives after libsndfile's last
        frame follows; returns what to say of the end (read_audio's rule)."""
        n = self.n
        self.error = None
        try:
            yield from self._checked(self._av(skip=n))
        except AudioError as exc:
            if self.n > n:                    # FFmpeg went on, then refused: stop there
                raise
            refused = str(exc).partition(": ")[2]
        else:
            refused = self.error or "contains no audio samples (empty or truncated)"
        if self.n == n:                       # FFmpeg got no further: libsndfile's reading stands
            if n == 0:
                raise damaged_from_start(self.path, ended.partition("(")[2].rstrip(")") or refused)
            return ended
        more = ended_early(self.rate, self.n, self.frames, self.error)
        return further_ended(ended, more, n / self.rate, self.n / self.rate)


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

    def __init__(self, sides: dict, name: str, block_s: float = FILE_BLOCK_S):
        # sides: channel -> (decoder, column index or None for a mixdown)
        self._sides = sides
        self.name = name
        self.channels = tuple(sides)
        self.block = max(1, int(round(block_s * SAMPLE_RATE)))
        hints = [d.duration_s for d, _ in sides.values()]
        for d, _ in sides.values():          # a short file whose header says so: now, not after the call
            if d.duration_s is not None:
                check_length(d.path, d.duration_s)
        self.duration_hint = max(hints) if all(h is not None for h in hints) else None
        self.samples = 0
        self.peak = 0.0
        self.levels = LevelCheck()

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
        one_voice = {id(d): OneVoice(d.path, d.rate) for d, col in self._sides.values() if col is None}
        while True:
            for key, feed in feeds.items():
                if done[key]:
                    continue
                # keep each file's channels fed until every channel holds a block
                sides = [(ch, col) for ch, (d, col) in self._sides.items() if id(d) == key]
                if all(counts[ch] >= self.block for ch, _ in sides):
                    continue
                x = next(feed, None)
                if key in one_voice:                    # a side's file mixed down
                    one_voice[key].feed(x) if x is not None else one_voice[key].finish()
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
        for ch, x in block.items():               # the decoded samples are checked as they are read
            self.peak = max(self.peak, float(np.abs(x).max()) if len(x) else 0.0)
            self.levels.feed(ch, x)
        if "customer" in block:
            self.levels.compare(block["agent"], block["customer"])
        self.samples += len(next(iter(block.values())))

    def finish(self) -> None:
        """The checks only the whole call can answer; call after iterating.

        Raises
        ------
        AudioError
            Too short, or silent.
        """
        if self.samples == 0:
            raise AudioError(f"{self.name}: contains no audio samples (empty or truncated)")
        for d in {id(d): d for d, _ in self._sides.values()}.values():    # each file, as load_call checks it
            check_length(d.path, d.n / d.rate)
        if self.peak < SILENCE_PEAK:
            raise AudioError(f"{self.name}: the recording is silent (peak below -70 dBFS); nothing to analyse")
        self.levels.warn(self.name)
        self._warn_lengths()

    def _warn_lengths(self) -> None:
        files = {ch: d for ch, (d, col) in self._sides.items() if col is None}
        if len(files) == 2 and not any(d.ended for d in files.values()):   # a cut file was said
            message = lengths_differ(files[AGENT].path.name, files[AGENT].n / files[AGENT].rate,
                                     files[CUSTOMER].path.name, files[CUSTOMER].n / files[CUSTOMER].rate)
            if message:
                warnings.warn(AudioWarning(message), stacklevel=3)


def _decoded(decoder: _Decoder) -> Iterator[np.ndarray]:
    for x in decoder:
        if len(x):
            yield x


def open_call_stream(path: str | Path | None = None, *, agent: str | Path | None = None,
                     customer: str | Path | None = None, agent_channel: str = "left",
                     block_s: float = FILE_BLOCK_S) -> CallStream:
    """Open a call to be read block by block; the arguments are those of
    :func:`voicecoach.sources.audio.load_call`.

    Raises
    ------
    AudioError
        Unreadable, too long (from the header), a wrong sample rate or channel count.
    """
    check_call_args(path, agent, customer, agent_channel)
    if path is not None:
        path = Path(path)
        d = _Decoder(path)
        check_call_channels(path, d.channels)
        if d.channels == 1:
            sides = {AGENT: (d, 0)}
        else:
            a = 0 if agent_channel == "left" else 1
            sides = {AGENT: (d, a), CUSTOMER: (d, 1 - a)}
        return CallStream(sides, path.name, block_s)
    if agent is None:
        raise AudioError("no call given: name a recording, or --agent FILE [--customer FILE], or --demo")
    sides = {AGENT: (_Decoder(Path(agent)), None)}
    if customer is not None:
        sides[CUSTOMER] = (_Decoder(Path(customer)), None)
    name = Path(agent).name + (f" + {Path(customer).name}" if customer else "")
    return CallStream(sides, name, block_s)
