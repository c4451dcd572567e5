"""Speech-to-text over faster-whisper, with word timestamps on the call clock.

Whisper always encodes 30 s windows, so transcribing each short turn on its own
would cost a full window per turn. Offline, the speech segments the VAD found are
packed end to end (with a short gap of silence between them) and transcribed as
one stream; word times are mapped back to the call clock. Silence costs nothing
and cannot produce hallucinated words.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np

from voicecoach.analyzers.vad import Segment
from voicecoach.events import SAMPLE_RATE, TranscriptSegment, Word
from voicecoach.stt.whisper import TranscribeOptions


class _TimeMap:
    """Maps times in the packed audio back to the call clock."""

    def __init__(self):
        self.packed: list[float] = []   # start of each piece in the packed audio (s)
        self.orig: list[float] = []     # its start on the call clock (s)

    def add(self, packed_s: float, orig_s: float) -> None:
        self.packed.append(packed_s)
        self.orig.append(orig_s)

    def __call__(self, t: float) -> float:
        i = max(0, int(np.searchsorted(self.packed, t, side="right")) - 1)
        return self.orig[i] + (t - self.packed[i])


def pack_plan(segments: Sequence[Segment], duration_s: float,
              options: Optional[TranscribeOptions] = None) -> list[list[tuple[float, float]]]:
    """Which audio is transcribed, and how it is grouped into model calls.

    Returns
    -------
    list of groups (one ``model.transcribe`` call each), each a list of
    ``(start, end)`` spans on the call clock (s), packed end to end in that order.
    """
    o = options or TranscribeOptions()
    plan = []
    for group in _groups(segments, o.max_pack_s):
        spans: list[list[float]] = []
        for seg in group:   # merge segments whose padded spans touch
            s, e = max(0.0, seg.start - o.pad_s), min(duration_s, seg.end + o.pad_s)
            if spans and s <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], e)
            else:
                spans.append([s, e])
        plan.append([(s, e) for s, e in spans])
    return plan


def pack_spans(audio: np.ndarray, spans: Sequence[tuple[float, float]],
               gap_s: float) -> tuple[np.ndarray, _TimeMap]:
    """Concatenate the audio of ``spans`` with ``gap_s`` silences after each."""
    pieces, tmap, pos = [], _TimeMap(), 0
    gap = np.zeros(int(gap_s * SAMPLE_RATE), np.float32)
    for s, e in spans:
        a = audio[int(s * SAMPLE_RATE):int(e * SAMPLE_RATE)]
        tmap.add(pos / SAMPLE_RATE, s)
        pieces += [a, gap]
        pos += len(a) + len(gap)
    if not pieces:
        return np.zeros(0, np.float32), tmap
    return np.concatenate(pieces).astype(np.float32), tmap


def transcribe_channel(model, channel: str, audio: np.ndarray, segments: Sequence[Segment],
                       options: Optional[TranscribeOptions] = None,
                       progress: Optional[Callable[[float], None]] = None) -> list[TranscriptSegment]:
    """Transcribe one channel's speech segments.

    Parameters
    ----------
    model : faster_whisper.WhisperModel
    channel : str
    audio : np.ndarray [shape=(n,)], float32, 16 kHz — the whole channel
    segments : speech segments on the call clock (from :mod:`voicecoach.analyzers.vad`)
    progress : callable, optional
        Called with the seconds of packed audio done so far.

    Returns
    -------
    list of TranscriptSegment, in time order, words on the call clock.
    """
    o = options or TranscribeOptions()
    out: list[TranscriptSegment] = []
    done = 0.0
    for spans in pack_plan(segments, len(audio) / SAMPLE_RATE, o):
        packed, tmap = pack_spans(audio, spans, o.join_gap_s)
        if len(packed) == 0:
            continue
        pieces, _ = model.transcribe(
            packed, language=o.language, beam_size=o.beam_size, word_timestamps=True,
            vad_filter=False, condition_on_previous_text=False, without_timestamps=False)
        for piece in pieces:
            words = [Word(channel, float(tmap(w.start)), float(tmap(w.end)), w.word.strip(),
                          float(w.probability))
                     for w in (piece.words or []) if w.word.strip()]
            if words:
                out.append(TranscriptSegment(channel, words[0].start, words[-1].end,
                                             piece.text.strip(), words))
            if progress is not None:
                progress(done + piece.end)
        done += len(packed) / SAMPLE_RATE
    return out


def _groups(segments: Sequence[Segment], max_s: float) -> list[list[Segment]]:
    """Consecutive segments in groups of at most ``max_s`` seconds of speech."""
    groups: list[list[Segment]] = [[]]
    total = 0.0
    for seg in segments:
        if groups[-1] and total + seg.duration > max_s:
            groups.append([])
            total = 0.0
        groups[-1].append(seg)
        total += seg.duration
    return [g for g in groups if g]
