"""Offline analysis of a recorded call: the engine over the call's blocks, and speech-to-text.

Audio analysis (echo cancellation, voice activity, prosody, turn-taking) runs
block by block, 10 s at a time, as :mod:`voicecoach.sources.stream` decodes them;
the call audio's echo is cancelled on a second thread while the agent's block is
analysed. Each channel's speech (the call audio as the analyzers heard it, without
the agent's echo) is transcribed in pieces of about ``transcribe.piece_s`` of call
time, each cut at a pause of at least ``transcribe.merge_gap_s`` that no packed
span crosses; the pieces run on whichever core is free (faster-whisper's
``num_workers``: one per channel), beside the audio analysis, and their words are
fed to the engine at the end, in call order. Only the audio of the pieces not yet
transcribed is kept, so memory does not grow with the call's length; a call
shorter than a piece is transcribed in one go, as a whole.
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Optional

import numpy as np

from voicecoach.analyzers.vad import Segment
from voicecoach.analyzers.voice import Baseline
from voicecoach.config import Config
from voicecoach.engine import Engine
from voicecoach.events import AGENT, SAMPLE_RATE
from voicecoach.sources.audio import FILE_BLOCK_S, CallAudio
from voicecoach.store.record import build_record
from voicecoach.stt.offline import Tape, settled_until, transcribe_channel
from voicecoach.stt.whisper import load_model

if TYPE_CHECKING:
    from voicecoach.sources.stream import CallStream

# progress(stage, done, total): stage is "audio" or a channel name; units are seconds
Progress = Callable[[str, float, float], None]

MAX_PENDING = 4    # pieces cut but not transcribed yet, at most (two per channel)


def demo_call_path() -> Path:
    """The demo call that ships with the package (a generated two-voice support call)."""
    return Path(str(resources.files("voicecoach") / "data" / "demo_call.flac"))


def analyze_call(call: CallAudio, config: Optional[Config] = None, *, transcribe: bool = True,
                 baseline: Optional[Baseline] = None, progress: Optional[Progress] = None,
                 model=None) -> dict:
    """Analyse a whole call held in memory and return its call record (a JSON-ready dict).

    Parameters
    ----------
    call : CallAudio
    config : Config, optional
    transcribe : bool
        False skips speech-to-text (and so the word-based cues), for a quick look.
    baseline : voice.Baseline, optional
        The agent's voice profile.
    progress : callable, optional
        ``progress(stage, done_s, total_s)``.
    model : faster_whisper.WhisperModel, optional
        A loaded model to reuse; by default ``config.transcribe.model`` is loaded.
    """
    channels = call.channels()
    return _analyse(_blocks(channels), tuple(channels), call.name, call.duration, config,
                    transcribe=transcribe, baseline=baseline, progress=progress, model=model)


def analyze_stream(stream: "CallStream", config: Optional[Config] = None, *, transcribe: bool = True,
                   baseline: Optional[Baseline] = None, progress: Optional[Progress] = None,
                   model=None) -> dict:
    """Analyse a call read block by block (:func:`voicecoach.sources.stream.open_call_stream`):
    the same record as :func:`analyze_call`, in memory that does not grow with its length.

    Raises
    ------
    AudioError
        The recording turns out unreadable, silent or too short while it is read.
    """
    return _analyse(iter(stream), stream.channels, stream.name, stream.duration_hint, config,
                    transcribe=transcribe, baseline=baseline, progress=progress, model=model,
                    at_end=stream.finish)


def _blocks(channels: dict[str, np.ndarray], block_s: float = FILE_BLOCK_S) -> Iterator[dict[str, np.ndarray]]:
    n = max(1, int(round(block_s * SAMPLE_RATE)))
    for start in range(0, len(channels[AGENT]), n):
        yield {ch: x[start:start + n] for ch, x in channels.items()}


def _analyse(blocks: Iterable[dict[str, np.ndarray]], channels: tuple[str, ...], name: str,
             total_s: Optional[float], config: Optional[Config], *, transcribe: bool,
             baseline: Optional[Baseline], progress: Optional[Progress], model,
             at_end: Optional[Callable[[], None]] = None) -> dict:
    config = config or Config()
    engine = Engine(config, channels, baseline=baseline)
    pieces = _Pieces(engine, config, progress, model, total_s) if transcribe else None
    n = 0
    echo_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="echo")
    try:
        for block in blocks:
            engine.feed_block(n / SAMPLE_RATE, block, echo_thread)
            for ch in channels:
                heard = engine.take_heard(ch)
                if pieces is not None:
                    pieces.tape[ch].add(heard)
            n += len(block[AGENT])
            if progress:
                progress("audio", n / SAMPLE_RATE, max(total_s or 0.0, n / SAMPLE_RATE))
            if pieces is not None:
                pieces.transcribe_ready()
        engine.finish_audio()
        if at_end is not None:
            at_end()
        duration = n / SAMPLE_RATE
        if pieces is not None:
            for ch in channels:
                pieces.tape[ch].add(engine.take_heard(ch))
            pieces.transcribe_ready(end_s=duration)
            engine.finish_words()
    finally:
        echo_thread.shutdown()
        if pieces is not None:
            pieces.close()
    transcript = sorted(pieces.transcript, key=lambda p: p.start) if pieces is not None else []
    return build_record(engine, transcript, name=name, duration=duration,
                        model=config.transcribe.model if transcribe else None)


class _Pieces:
    """Transcribes each channel's speech a piece at a time, as the audio analysis goes.

    A channel's next piece is cut once ``piece_s`` of its call time is waiting: where
    the last group of the plan of its speech begins
    (:func:`voicecoach.stt.offline.settled_until`), so the pieces make the model calls
    of the whole call's plan, the calls the live second pass makes too. Continuous
    speech with no pause to cut at for ``3 * piece_s`` is cut where the voice activity
    has got to, so memory stays bounded even then.
    """

    def __init__(self, engine: Engine, config: Config, progress: Optional[Progress], model,
                 total_s: Optional[float]):
        self.engine = engine
        self.total_s = total_s or 0.0
        self.options = config.transcribe
        self.progress = progress
        self.channels = engine.channels
        self.tape = {ch: Tape() for ch in self.channels}
        self.cut = dict.fromkeys(self.channels, 0.0)     # call time transcribed up to (s)
        self.next_seg = dict.fromkeys(self.channels, 0)  # first segment not wholly transcribed
        self.transcript: list = []
        self._pool = ThreadPoolExecutor(max_workers=len(self.channels))
        self._pending: deque = deque()                   # (channel, cut, total, future), oldest first
        # the model loads while the first piece's audio is analysed
        self._model = model if model is not None else self._pool.submit(
            load_model, self.options, num_workers=len(self.channels))

    def _cut_point(self, ch: str, end_s: Optional[float]) -> Optional[tuple[float, list[Segment]]]:
        """Where channel ``ch``'s next piece ends and its segments; None: not yet."""
        va = self.engine.vad[ch]
        o = self.options
        segs = va.transcript_segments[self.next_seg[ch]:]
        if end_s is not None:
            return end_s, segs
        now = va.time
        if now - self.cut[ch] < o.piece_s:
            return None
        settled = settled_until(segs, now, o)
        if settled is not None and settled > self.cut[ch]:
            return settled, [s for s in segs if s.start < settled]
        if now - self.cut[ch] < 3 * o.piece_s:
            return None
        cut = max(self.cut[ch], now - 1.0)                            # forced: inside speech
        open_seg = [Segment(va.current_start, cut)] if va.speaking and va.current_start < cut else []
        return cut, [s for s in segs if s.start < cut] + open_seg

    def transcribe_ready(self, end_s: Optional[float] = None) -> None:
        """Start transcribing every channel's piece that is ready (all that is left when
        ``end_s``, the call's length, is given) and return while it runs; at the end,
        wait for them all and feed their words to the engine.

        Pieces do not depend on each other, so whichever core is free takes the next
        one, and the audio analysis goes on meanwhile; it waits only while
        ``MAX_PENDING`` pieces are not done yet, which bounds the audio held. The
        words reach the engine at the end, in call order, so the record does not
        depend on how fast the machine is.
        """
        jobs = {}
        for ch in self.channels:
            found = self._cut_point(ch, end_s)
            if found is None:
                continue
            cut, segs = found
            lo = self.cut[ch]
            segs = [Segment(max(s.start, lo), min(s.end, cut)) for s in segs
                    if s.end > lo and s.start < cut]
            a, b = int(round(lo * SAMPLE_RATE)), int(round(cut * SAMPLE_RATE))
            jobs[ch] = (lo, cut, segs, self.tape[ch].audio(a, b))
            self.tape[ch].drop_before(b)        # the piece is a copy: one of it in memory, not two
            self.cut[ch] = cut
            va_segs = self.engine.vad[ch].transcript_segments
            while self.next_seg[ch] < len(va_segs) and va_segs[self.next_seg[ch]].end <= cut:
                self.next_seg[ch] += 1
        if jobs and isinstance(self._model, Future):
            self._model = self._model.result()
        total = end_s if end_s is not None else max([self.total_s] + [j[1] for j in jobs.values()])
        for ch, job in jobs.items():
            while len(self._pending) >= MAX_PENDING:
                self._collect_oldest()
            self._pending.append((ch, job[1], total, self._pool.submit(self._run, ch, job, total)))
        if end_s is not None:
            while self._pending:
                self._collect_oldest()
            self.engine.feed_words_in_order(
                {ch: [w for p in self.transcript if p.channel == ch for w in p.words]
                 for ch in self.channels})

    def _run(self, ch: str, job: tuple, total: float) -> list:
        lo, cut, segs, audio = job
        packed = sum(s.duration for s in segs) or 1.0
        report = ((lambda done: self.progress(ch, lo + (cut - lo) * min(done / packed, 1.0), total))
                  if self.progress else None)
        return transcribe_channel(self._model, ch, audio, segs, self.options, report, offset_s=lo)

    def _collect_oldest(self) -> None:
        """Wait for the oldest piece not collected yet and keep its transcript."""
        ch, cut, total, future = self._pending.popleft()
        self.transcript += future.result()
        if self.progress:
            self.progress(ch, cut, total)

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)
