"""The call record's transcript, decoded a second time in the model calls ``analyze`` makes.

Streaming commits each word from decodes of the speech heard so far: a word is
final before Whisper has heard what follows it. ``analyze`` packs the speech the
voice activity found (:func:`voicecoach.stt.offline.pack_plan`) and decodes it in
groups of up to ``max_pack_s``, each word with the speech on both sides of it, and
makes fewer errors on the same audio. So live, each channel's finished speech is
planned exactly as ``analyze`` plans it, from the same closed voice-activity
segments, and each group of that plan is decoded once the next group has begun:
the plan fills groups greedily and a span only grows, so no later speech can join
a group then, and its model call is the one ``analyze`` makes on the same audio.
The decode waits for a pause in the channel (``keep_s`` of quiet), and its words
replace the streamed ones in the call record. What the agent saw live is not
changed.

The second pass has a model of its own (:func:`load_model`), loaded as ``analyze``
loads it (whole 30 s windows) and decoding at a low CPU priority (``NICE``): on a
busy machine the streamed words, which the agent is waiting for, come first, and
the second pass uses what is left.

Only the audio that the second pass still needs is kept: the speech not yet decoded
again, with ``keep_s`` of the channel around each stretch (what packing keeps),
never the silences between.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from voicecoach.analyzers.vad import Segment
from voicecoach.events import SAMPLE_RATE, Word
from voicecoach.stt.offline import Tape, settled_until, transcribe_channel
from voicecoach.stt import whisper
from voicecoach.stt.whisper import TranscribeOptions

NICE = 10
"""The second pass's decoding threads' nice value (Linux): CFS gives a nice-0 thread
about 9x the CPU of a nice-10 one when both want it."""


def load_model(options: Optional[TranscribeOptions] = None):
    """The second pass's model: one decoding thread (it serves every channel in turn),
    whole windows, nice ``NICE``."""
    return whisper.load_model(options or TranscribeOptions(), num_workers=1, nice=NICE)


@dataclass
class Revision:
    """Words that replace the streamed words of one channel from ``start`` to ``end``
    (call clock, s): every streamed word whose midpoint lies in between."""

    channel: str
    start: float
    end: float
    words: list[Word]


RUN_GAP_S = 1.0
"""Streamed words closer than this (s) are one run of speech for :func:`revise_words`."""
MIN_KEPT = 0.5
"""A second decode that gives fewer than this share of a run's streamed words lost
them: the run keeps its streamed words."""


def revise_words(streamed: list[Word], revisions: list[Revision]) -> list[Word]:
    """The streamed words of one channel with each revision's stretch replaced.

    Whisper sometimes stops a decode early: one live call's second pass gave "how?" for
    the sixteen words of "Could you please confirm the full name and the post code on
    the account for me?", which streaming had right. So each run of streamed words (no
    pause of :data:`RUN_GAP_S`) of four or more keeps its words where the revision has
    fewer than :data:`MIN_KEPT` of their number there.

    >>> w = [Word("agent", 0.1, 0.4, "Flush"), Word("agent", 0.5, 0.8, "my"),
    ...      Word("agent", 3.0, 3.3, "what?")]
    >>> [x.text for x in revise_words(w, [Revision("agent", 0.0, 1.0, [Word("agent", 0.1, 0.4, "Fresh")])])]
    ['Fresh', 'what?']
    >>> said = [Word("agent", 5 + 0.3 * i, 5.25 + 0.3 * i, t) for i, t in enumerate("could you confirm the name".split())]
    >>> [x.text for x in revise_words(said, [Revision("agent", 4.0, 7.0, [Word("agent", 5.0, 5.2, "how?")])])]
    ['could', 'you', 'confirm', 'the', 'name']
    """
    out: list[Word] = []
    for r in revisions:
        inside = [w for w in streamed if r.start < (w.start + w.end) / 2 <= r.end]
        words = list(r.words)
        for run in _runs(inside):
            lo, hi = run[0].start - RUN_GAP_S / 2, run[-1].end + RUN_GAP_S / 2
            there = [w for w in words if lo <= (w.start + w.end) / 2 <= hi]
            if len(run) >= 4 and len(there) < MIN_KEPT * len(run):
                words = [w for w in words if w not in there] + run
        out += words
    out += [w for w in streamed if not any(r.start < (w.start + w.end) / 2 <= r.end for r in revisions)]
    return sorted(out, key=lambda w: (w.start, w.end))


def _runs(words: list[Word]) -> list[list[Word]]:
    """``words`` (time order) cut at every pause of :data:`RUN_GAP_S` or more."""
    runs: list[list[Word]] = []
    for w in words:
        if runs and w.start - runs[-1][-1].end < RUN_GAP_S:
            runs[-1].append(w)
        else:
            runs.append([w])
    return runs


class SecondPass:
    """One channel's second decode, fed the blocks its streaming transcriber gets and
    the speech segments its voice activity closes.

    Parameters
    ----------
    model : faster_whisper.WhisperModel
        Loaded as ``analyze`` loads it (whole windows): :func:`load_model`.
    channel : str
    options : TranscribeOptions, optional
        Packing (``pad_s``, ``merge_gap_s``, ``max_pack_s``) and decoding, as
        ``analyze`` uses them.
    max_span_s : float, optional
        Speech not decoded again that spans this much call time (s) is decoded
        whatever the plan says, so the audio kept stays bounded (speech with no pause
        for minutes); by default ``options.piece_s``, where ``analyze`` cuts too.

    Examples
    --------
    Groups of at most 2 s of packed speech: the first is settled once the second has
    begun, and due when the channel is quiet.

    >>> sp = SecondPass(None, "agent", TranscribeOptions(max_pack_s=2.0))
    >>> sp.insert_audio(0.0, np.zeros(16000 * 4, np.float32), True)
    >>> sp.insert_audio(4.0, np.zeros(16000 * 2, np.float32), False, [Segment(0.5, 3.5)])
    >>> sp.ready()
    False
    >>> sp.insert_audio(6.0, np.zeros(16000, np.float32), True)
    >>> sp.insert_audio(7.0, np.zeros(16000 * 2, np.float32), False, [Segment(6.0, 7.0)])
    >>> sp.ready()
    True
    """

    def __init__(self, model, channel: str, options: Optional[TranscribeOptions] = None,
                 max_span_s: Optional[float] = None):
        self.model = model
        self.channel = channel
        self.options = options or TranscribeOptions()
        self.max_span_s = max_span_s or self.options.piece_s
        self.keep_s = max(self.options.pad_s, self.options.merge_gap_s)
        self.n_revisions = 0
        self._tape = Tape()                   # kept audio: speech and what packing keeps
        self._pre: deque[tuple[float, np.ndarray]] = deque()  # the latest keep_s of silence
        self._segments: list[Segment] = []    # closed speech not yet decoded again
        self._speaking = False                # the voice-activity flag after the newest block
        self._last_speech = -np.inf           # end of the newest speech block (s)
        self._t = 0.0                         # end of the newest block (s)
        self._done_t = 0.0                    # the revisions so far replaced words up to here (s)

    def insert_audio(self, start_s: float, samples: np.ndarray, speaking: bool,
                     closed: Sequence[Segment] = ()) -> None:
        """The next block (call-clock order, no gaps), the channel's voice activity
        after it, and the segments it closed (new in ``VoiceActivity.transcript_segments``)."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        self._segments += closed
        end = start_s + len(samples) / SAMPLE_RATE
        self._t = end
        if speaking:
            if not self._speaking:
                self._tape.add(self._pre)          # the audio just before the onset
                self._pre.clear()
            self._speaking = True
            self._tape.add([(start_s, samples)])
            self._last_speech = end
            return
        self._speaking = False
        if end - self._last_speech <= self.keep_s:
            self._tape.add([(start_s, samples)])       # a pause packing may keep
            return
        self._pre.append((start_s, samples))
        while self._pre and self._pre[0][0] < end - self.keep_s:
            self._pre.popleft()

    @property
    def pending_s(self) -> float:
        """Closed speech (s) waiting for its second decode."""
        return sum(s.duration for s in self._segments)

    def _settled(self) -> Optional[float]:
        return settled_until(self._segments, self._t, self.options)

    def ready(self) -> bool:
        """Whether a group is settled (or the speech kept spans ``max_span_s``) and the
        channel has been quiet for ``keep_s``, so the decode does not hold up the
        streamed words of speech going on."""
        if not self._segments or self._speaking or self._t - self._last_speech < self.keep_s:
            return False
        return self._settled() is not None or self._t - self._segments[0].start >= self.max_span_s

    def revise(self, final: bool = False) -> Optional[Revision]:
        """Decode the settled groups again (``final``: all the speech, at the end of the
        call); None when nothing is due."""
        if not self._segments:
            return None
        end = np.inf if final else self._settled()
        if end is None:
            if self._t - self._segments[0].start < self.max_span_s:
                return None
            end = self._t                              # speech kept too long: all of it
        segments = [s for s in self._segments if s.start < end]
        self._segments = self._segments[len(segments):]
        blocks = self._tape.blocks
        stop = end * SAMPLE_RATE
        a = blocks[0][0]
        b = max(s + len(x) for s, x in blocks if s < stop)
        audio = self._tape.audio(a, b)                # silences never kept stay zeros: packing
        self._tape.drop_before(int(min(stop, b)))     # keeps at most keep_s around speech
        pieces = transcribe_channel(self.model, self.channel, audio, segments, self.options,
                                    offset_s=a / SAMPLE_RATE)
        self.n_revisions += 1
        start, self._done_t = self._done_t, end
        return Revision(self.channel, start, end, [w for p in pieces for w in p.words])
