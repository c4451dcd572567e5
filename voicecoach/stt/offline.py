"""Speech-to-text over faster-whisper, with word timestamps on the call clock.

Whisper always encodes 30 s windows, so transcribing each short turn on its own
would cost a full window per turn. Offline, the speech segments the VAD found are
packed end to end and transcribed as one stream; word times are mapped back to
the call clock. Long silences cost nothing and cannot produce hallucinated words.

How the speech is packed decides which words Whisper hears (``benchmarks/transcript.py``
shows where words are lost):

- each packed span keeps ``pad_s`` of the channel's own audio
  before and after its speech (at most half the pause to the next span), so a
  word the voice activity clipped or missed at a segment's edge (a soft onset, a
  short "And" it dropped as too short, most of all on telephone audio) is still
  heard, and Whisper hears each onset after a real pause, not after digital zeros;
- speech separated by less than ``merge_gap_s`` (or by less than two such
  paddings) stays one span with its pause as it was, so a sentence with commas
  in it is never cut at a pack join;
- spans are joined end to end, the pause between them made of their own padding:
  no inserted digital silence;
- model calls (``max_pack_s`` of packed audio each) are cut between spans only;
- a word's times are mapped to the call clock through the span that holds its
  midpoint, so a word at a join never stretches over the pause left out.
"""
from __future__ import annotations

from typing import Callable, Iterable, Optional, Sequence

import numpy as np

from voicecoach.analyzers.vad import Segment
from voicecoach.events import SAMPLE_RATE, TranscriptSegment, Word
from voicecoach.stt.whisper import TranscribeOptions

class _TimeMap:
    """Maps times in the packed audio back to the call clock, span by span."""

    def __init__(self):
        self.packed: list[float] = []   # start of each span in the packed audio (s)
        self.orig: list[float] = []     # its start on the call clock (s)
        self.length: list[float] = []   # its length (s)

    def add(self, packed_s: float, orig_s: float, length_s: float) -> None:
        self.packed.append(packed_s)
        self.orig.append(orig_s)
        self.length.append(length_s)

    def span(self, a: float, b: float) -> tuple[float, float]:
        """Packed ``(start, end)`` of a word to the call clock, within the span holding its midpoint."""
        i = max(0, int(np.searchsorted(self.packed, (a + b) / 2, side="right")) - 1)
        a, b = (min(max(t - self.packed[i], 0.0), self.length[i]) for t in (a, b))
        return self.orig[i] + a, self.orig[i] + max(a, b)


def pack_plan(segments: Sequence[Segment], duration_s: float,
              options: Optional[TranscribeOptions] = None) -> list[list[tuple[float, float]]]:
    """Which audio is transcribed, and how it is grouped into model calls.

    Parameters
    ----------
    segments : speech segments on the call clock, in time order
    duration_s : float
        Length of the channel (s).
    options : TranscribeOptions, optional
        ``pad_s``, ``merge_gap_s`` and ``max_pack_s`` (see the module docstring).

    Returns
    -------
    list of groups (one ``model.transcribe`` call each), each a list of
    ``(start, end)`` spans on the call clock (s), packed end to end in that order.

    Examples
    --------
    >>> from voicecoach.analyzers.vad import Segment
    >>> pack_plan([Segment(1.0, 2.0), Segment(2.5, 3.0), Segment(9.0, 9.5)], 12.0)
    [[(0.7, 3.3), (8.7, 9.8)]]
    """
    o = options or TranscribeOptions()
    keep = o.pad_s                              # own audio kept each side of the speech
    merge = max(o.merge_gap_s, 2 * keep)
    speech: list[list[float]] = []
    for seg in segments:
        if speech and seg.start - speech[-1][1] < merge:
            speech[-1][1] = max(speech[-1][1], seg.end)
        else:
            speech.append([seg.start, seg.end])
    spans = []
    for i, (s, e) in enumerate(speech):
        before = (s - speech[i - 1][1]) / 2 if i else keep
        after = (speech[i + 1][0] - e) / 2 if i + 1 < len(speech) else keep
        spans.append((round(max(0.0, s - min(keep, before)), 3),
                      round(min(duration_s, e + min(keep, after)), 3)))
    plan: list[list[tuple[float, float]]] = [[]]
    total = 0.0
    for s, e in spans:
        if plan[-1] and total + (e - s) > o.max_pack_s:
            plan.append([])
            total = 0.0
        plan[-1].append((s, e))
        total += e - s
    return [g for g in plan if g]


def settled_until(segments: Sequence[Segment], duration_s: float,
                  options: Optional[TranscribeOptions] = None) -> Optional[float]:
    """Where the plan's last group starts (call clock, s), when it has more than one:
    the groups before it can no longer change, whatever speech comes later.

    :func:`pack_plan` fills groups in order, and more speech only lengthens the last
    span (a later segment joins it or starts a span of its own), so once a group has
    a successor it is settled. ``analyze`` cuts its pieces there and the live second
    pass decodes up to there: both make the model calls of the whole call's plan.
    None: everything may still change.

    >>> from voicecoach.analyzers.vad import Segment
    >>> o = TranscribeOptions(max_pack_s=3.0)
    >>> settled_until([Segment(1.0, 3.0)], 20.0, o) is None
    True
    >>> settled_until([Segment(1.0, 3.0), Segment(9.0, 10.5)], 20.0, o)
    8.7
    """
    plan = pack_plan(segments, duration_s, options)
    return plan[-1][0][0] if len(plan) >= 2 else None


class Tape:
    """One channel's heard audio not yet transcribed, as the blocks it arrived in:
    ``analyze`` keeps all of it from the start of its next piece, the live second
    pass only the speech and what packing keeps around it."""

    def __init__(self):
        self.blocks: list[tuple[int, np.ndarray]] = []    # (first sample, samples)

    def add(self, blocks: Iterable[tuple[float, np.ndarray]]) -> None:
        """``(start_s, samples)`` blocks, in call-clock order."""
        for start_s, x in blocks:
            if len(x):
                self.blocks.append((int(round(start_s * SAMPLE_RATE)), x))

    def audio(self, a: int, b: int) -> np.ndarray:
        """Samples ``a`` to ``b`` of the channel (zeros where nothing was heard)."""
        out = np.zeros(max(0, b - a), np.float32)
        for s, x in self.blocks:
            lo, hi = max(a, s), min(b, s + len(x))
            if lo < hi:
                out[lo - a:hi - a] = x[lo - s:hi - s]
        return out

    def drop_before(self, i: int) -> None:
        """Forget the samples before sample ``i``."""
        kept = []
        for s, x in self.blocks:
            if s + len(x) <= i:
                continue
            if s < i:
                x, s = x[i - s:], i
            kept.append((s, x))
        self.blocks = kept


def pack_spans(audio: np.ndarray, spans: Sequence[tuple[float, float]],
               offset_s: float = 0.0) -> tuple[np.ndarray, _TimeMap]:
    """Concatenate the audio of ``spans``, end to end (``audio`` starts at ``offset_s``
    on the call clock)."""
    pieces, tmap, pos = [], _TimeMap(), 0
    first = int(round(offset_s * SAMPLE_RATE))
    for s, e in spans:
        s = max(s, offset_s)
        a = audio[int(round(s * SAMPLE_RATE)) - first:int(round(e * SAMPLE_RATE)) - first]
        tmap.add(pos / SAMPLE_RATE, s, len(a) / SAMPLE_RATE)
        pieces.append(a)
        pos += len(a)
    if not pieces:
        return np.zeros(0, np.float32), tmap
    return np.concatenate(pieces).astype(np.float32), tmap


def transcribe_channel(model, channel: str, audio: np.ndarray, segments: Sequence[Segment],
                       options: Optional[TranscribeOptions] = None,
                       progress: Optional[Callable[[float], None]] = None,
                       offset_s: float = 0.0) -> list[TranscriptSegment]:
    """Transcribe one channel's speech segments.

    Parameters
    ----------
    model : faster_whisper.WhisperModel
    channel : str
    audio : np.ndarray [shape=(n,)], float32, 16 kHz — the whole channel, or the piece
        of it from ``offset_s`` that holds ``segments``
    segments : speech segments on the call clock (from :mod:`voicecoach.analyzers.vad`)
    progress : callable, optional
        Called with the seconds of packed audio done so far.
    offset_s : float
        Where ``audio`` starts on the call clock (s).

    Returns
    -------
    list of TranscriptSegment, in time order, words on the call clock.
    """
    o = options or TranscribeOptions()
    out: list[TranscriptSegment] = []
    done = 0.0
    for spans in pack_plan(segments, offset_s + len(audio) / SAMPLE_RATE, o):
        packed, tmap = pack_spans(audio, spans, offset_s)
        if len(packed) == 0:
            continue
        pieces, _ = model.transcribe(
            packed, language=o.language, beam_size=o.beam_size, word_timestamps=True,
            vad_filter=False, condition_on_previous_text=False, without_timestamps=False)
        for piece in pieces:
            words = [Word(channel, *map(float, tmap.span(w.start, w.end)), w.word.strip(),
                          float(w.probability))
                     for w in (piece.words or []) if w.word.strip()]
            if words:
                out.append(TranscriptSegment(channel, words[0].start, words[-1].end,
                                             piece.text.strip(), words))
            if progress is not None:
                progress(done + piece.end)
        done += len(packed) / SAMPLE_RATE
    return out
