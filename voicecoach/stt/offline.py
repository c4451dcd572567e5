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
  midpoint, so a word at a join never stretches over the pause left out;
- speech the packed decode passed over (a voice-activity segment with no heard word
  on it or near it: Whisper at times drops a short sentence after a pause, "Great.")
  is decoded again on its own (``refill``).
"""
from __future__ import annotations

from typing import Callable, Iterable, Optional, Sequence

import numpy as np

from voicecoach.analyzers.vad import Segment
from voicecoach.events import SAMPLE_RATE, TranscriptSegment, Word
from voicecoach.stt.whisper import TranscribeOptions

NEAR_S = 0.5
"""A heard word this close (s) to a speech segment may be its word, timed a little off
(Whisper times a word after a pause late: "Okay," at 15.00 s for speech that ended at
14.97 s): such a segment is not decoded again, or its word would be heard twice."""


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
        a, b = _padded(s, e, speech[i - 1][1] if i else -np.inf,
                       speech[i + 1][0] if i + 1 < len(speech) else np.inf, keep, 0.0, duration_s)
        spans.append((round(a, 3), round(b, 3)))
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


def _padded(start: float, end: float, prev_end: float, next_start: float, keep: float,
            lo: float, hi: float) -> tuple[float, float]:
    """``start``..``end`` (s) with ``keep`` of the channel's audio each side, at most half
    the pause to the speech before (ending ``prev_end``) and after (``next_start``),
    within ``lo``..``hi``."""
    return (max(lo, start - min(keep, (start - prev_end) / 2)),
            min(hi, end + min(keep, (next_start - end) / 2)))


def _decode(model, audio: np.ndarray, o: TranscribeOptions):
    """faster-whisper's segments of ``audio`` (16 kHz), with word times: the one model
    call offline transcription makes, on packed audio or on speech passed over."""
    pieces, _ = model.transcribe(
        audio.astype(np.float32, copy=False), language=o.language, beam_size=o.beam_size,
        word_timestamps=True, vad_filter=False, condition_on_previous_text=o.previous_text,
        without_timestamps=False)
    return pieces


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
        got = []
        for piece in _decode(model, packed, o):
            got += _segment(channel, piece, tmap)
            if progress is not None:
                progress(done + piece.end)
        done += len(packed) / SAMPLE_RATE
        if o.refill:
            got = sorted(got + refill(model, channel, audio, segments, spans, got, o, offset_s),
                         key=lambda s: s.start)
        out += got
    return out


def _segment(channel: str, piece, tmap: Optional[_TimeMap] = None, offset_s: float = 0.0,
             within: Optional[Segment] = None) -> list[TranscriptSegment]:
    """One of faster-whisper's segments as a TranscriptSegment on the call clock (none
    if it has no words): through ``tmap`` from packed audio, or from audio that starts
    at ``offset_s``, its word times kept ``within`` a speech segment."""
    words = []
    for w in piece.words or []:
        if not w.word.strip():
            continue
        a, b = tmap.span(w.start, w.end) if tmap is not None else (offset_s + w.start, offset_s + w.end)
        if within is not None:
            a = min(max(a, within.start), within.end)
            b = min(max(b, a), within.end)
        words.append(Word(channel, float(a), float(b), w.word.strip(), float(w.probability)))
    if not words:
        return []
    return [TranscriptSegment(channel, words[0].start, words[-1].end, piece.text.strip(), words)]


def skipped(segments: Sequence[Segment], heard: Sequence[TranscriptSegment],
            spans: Sequence[tuple[float, float]], min_s: float) -> list[Segment]:
    """The speech segments (at least ``min_s`` long, inside ``spans``) with no heard
    word on them or within :data:`NEAR_S` of them: Whisper passed over them.

    >>> from voicecoach.analyzers.vad import Segment
    >>> w = TranscriptSegment("agent", 1.0, 1.4, "Hi.", [Word("agent", 1.0, 1.4, "Hi.")])
    >>> skipped([Segment(0.9, 1.5), Segment(1.6, 2.0), Segment(3.0, 3.5), Segment(5.0, 5.1)],
    ...         [w], [(0.6, 5.4)], 0.3)
    [Segment(start=3.0, end=3.5)]
    """
    words = [(w.start - NEAR_S, w.end + NEAR_S) for s in heard for w in s.words]
    return [seg for seg in segments
            if seg.duration >= min_s
            and any(a <= seg.start and seg.end <= b for a, b in spans)
            and not any(a < seg.end and seg.start < b for a, b in words)]


def refill(model, channel: str, audio: np.ndarray, segments: Sequence[Segment],
           spans: Sequence[tuple[float, float]], heard: list[TranscriptSegment],
           o: TranscribeOptions, offset_s: float) -> list[TranscriptSegment]:
    """Decode each stretch of speech the packed decode passed over (:func:`skipped`)
    again on its own: Whisper at times drops a short sentence after a pause ("Great.")
    that it hears in the same audio alone. The audio is padded as :func:`pack_plan`
    pads it, never into the speech beside it. A short decode times its first word from
    the audio's start, so word times are kept within the segment, where the voice
    activity found the speech. faster-whisper drops what it takes for silence (its
    ``no_speech_threshold``), as in the packed decode."""
    out = []
    first = int(round(offset_s * SAMPLE_RATE))
    for seg in skipped(segments, heard, spans, o.refill_min_s):
        a, b = _padded(seg.start, seg.end,
                       max((s.end for s in segments if s.end <= seg.start), default=-np.inf),
                       min((s.start for s in segments if s.start >= seg.end), default=np.inf),
                       o.pad_s, offset_s, offset_s + len(audio) / SAMPLE_RATE)
        x = audio[int(round(a * SAMPLE_RATE)) - first:int(round(b * SAMPLE_RATE)) - first]
        for piece in _decode(model, x, o):
            out += _segment(channel, piece, offset_s=a, within=seg)
    return out
