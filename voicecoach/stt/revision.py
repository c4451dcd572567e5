"""The call record's transcript, decoded a second time as ``analyze`` decodes it.

Streaming commits each word from decodes of the speech heard so far: a word is
final before Whisper has heard what follows it. ``analyze`` decodes packed speech
in 30 s windows, each word with the speech on both sides of it, and makes fewer
errors on the same audio (``benchmarks/live.py``: 15.3 % against 18.2 % streamed
on a 30-minute call). So live, while the channel is quiet, each stretch of about
``every_s`` of finished speech is decoded again with
:func:`voicecoach.stt.offline.transcribe_channel`, and its words replace the
streamed ones in the call record. What the agent saw live is not changed; the
decode costs some 2 % of a core.

Only the audio that the second pass still needs is kept: the speech since the
last revision with ``keep_s`` of the channel around each stretch (what packing
keeps), never the silences between.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Optional

import numpy as np

from voicecoach.analyzers.vad import Segment
from voicecoach.events import SAMPLE_RATE, Word
from voicecoach.stt.offline import transcribe_channel
from voicecoach.stt.whisper import TranscribeOptions


@dataclass
class Revision:
    """Words that replace the streamed words of one channel from ``start`` to ``end``
    (call clock, s): every streamed word whose midpoint lies in between."""

    channel: str
    start: float
    end: float
    words: list[Word]


def revise_words(streamed: list[Word], revisions: list[Revision]) -> list[Word]:
    """The streamed words of one channel with each revision's stretch replaced.

    >>> w = [Word("agent", 0.1, 0.4, "Flush"), Word("agent", 0.5, 0.8, "my"),
    ...      Word("agent", 3.0, 3.3, "what?")]
    >>> [x.text for x in revise_words(w, [Revision("agent", 0.0, 1.0, [Word("agent", 0.1, 0.4, "Fresh")])])]
    ['Fresh', 'what?']
    """
    out = [w for w in streamed
           if not any(r.start < (w.start + w.end) / 2 <= r.end for r in revisions)]
    for r in revisions:
        out += r.words
    return sorted(out, key=lambda w: (w.start, w.end))


class SecondPass:
    """One channel's second decode, fed the same blocks as its streaming transcriber.

    Parameters
    ----------
    model : faster_whisper.WhisperModel
    channel : str
    every_s : float
        Speech (s) gathered before a stretch is decoded again.
    options : TranscribeOptions, optional
        Packing (``pad_s``, ``merge_gap_s``) and decoding, as ``analyze`` uses them.
    max_span_s : float
        A stretch is also decoded once it spans this much call time (s), however
        little speech it holds: it bounds the audio kept.
    """

    def __init__(self, model, channel: str, every_s: float = 30.0,
                 options: Optional[TranscribeOptions] = None, max_span_s: float = 120.0):
        self.model = model
        self.channel = channel
        self.every_s = every_s
        self.options = options or TranscribeOptions()
        self.max_span_s = max_span_s
        self.keep_s = max(self.options.pad_s, self.options.merge_gap_s)
        self.n_revisions = 0
        self._blocks: list[tuple[float, np.ndarray]] = []    # kept audio, in time order
        self._pre: deque[tuple[float, np.ndarray]] = deque()  # the latest keep_s of silence
        self._segments: list[Segment] = []    # finished speech not yet decoded again
        self._onset: Optional[float] = None   # start of the speech now going on
        self._last_speech = -np.inf           # end of the newest speech block (s)
        self._t = 0.0                         # end of the newest block (s)
        self._done_t = -np.inf                # the last revision replaced words up to here (s)

    def insert_audio(self, start_s: float, samples: np.ndarray, speaking: bool) -> None:
        """The next block (call-clock order, no gaps) and the channel's voice activity."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        end = start_s + len(samples) / SAMPLE_RATE
        self._t = end
        if speaking:
            if self._onset is None:
                self._onset = start_s
                self._blocks += self._pre          # the audio just before the onset
                self._pre.clear()
            self._blocks.append((start_s, samples))
            self._last_speech = end
            return
        if self._onset is not None:
            self._segments.append(Segment(self._onset, self._last_speech))
            self._onset = None
        if end - self._last_speech <= self.keep_s:
            self._blocks.append((start_s, samples))    # a pause packing may keep
            return
        self._pre.append((start_s, samples))
        while self._pre and self._pre[0][0] < end - self.keep_s:
            self._pre.popleft()

    @property
    def pending_s(self) -> float:
        """Finished speech (s) waiting for its second decode."""
        return sum(s.duration for s in self._segments)

    def ready(self) -> bool:
        """Whether a stretch is due: enough speech, or a long span, and the speaker has
        been quiet for ``keep_s`` (so the next speech is not packed with this)."""
        if not self._segments or self._onset is not None or self._t - self._last_speech < self.keep_s:
            return False
        return (self.pending_s >= self.every_s
                or self._t - self._segments[0].start >= self.max_span_s)

    def revise(self, final: bool = False) -> Optional[Revision]:
        """Decode the finished speech again (``final``: also speech still going on, at the
        end of the call); None when there is none."""
        if final and self._onset is not None:
            self._segments.append(Segment(self._onset, self._last_speech))
            self._onset = None
        if not self._segments:
            return None
        segments, self._segments = self._segments, []
        cut = segments[-1].end + self.keep_s          # the next stretch starts after this
        blocks = [b for b in self._blocks if b[0] < cut]
        self._blocks = [b for b in self._blocks if b[0] >= cut]
        t0 = blocks[0][0]
        audio = np.zeros(int(round((blocks[-1][0] - t0) * SAMPLE_RATE)) + len(blocks[-1][1]),
                         np.float32)
        for s, b in blocks:                           # silences never kept stay zeros: packing
            i = int(round((s - t0) * SAMPLE_RATE))    # keeps at most keep_s around speech
            audio[i:i + len(b)] = b[:len(audio) - i]
        pieces = transcribe_channel(self.model, self.channel, audio, segments, self.options,
                                    offset_s=t0)
        self.n_revisions += 1
        start = max(self._done_t, segments[0].start - self.options.pad_s)
        self._done_t = cut
        return Revision(self.channel, start, cut, [w for p in pieces for w in p.words])
