"""Streaming speech-to-text for one channel: words are committed once they are stable.

The policy follows whisper_streaming's LocalAgreement: the buffer is re-decoded
each time ``min_chunk_s`` of new speech has arrived, and a word is committed when
``agreement_n`` successive hypotheses agree on it (and on every word before it).
Voice activity gates the buffer:

- only speech enters it (with ``pre_roll_s`` of audio before each onset, and
  pauses shorter than ``end_silence_s`` inside it), so silence costs nothing
  and cannot produce hallucinated words;
- when the speaker pauses (``pause_commit_s`` after the voice-activity flag
  falls) or stops (``end_silence_s`` without speech), the words before the
  silence are committed at once from one decode instead of waiting for a second
  hypothesis: a pause is the cheapest moment to commit, and Whisper is surest of
  the words it heard the silence after. After a pause the segment goes on, so the
  next words are still decoded with these before them.

The speech segments are packed end to end, as offline transcription packs them.
Finished segments stay in the buffer as audio context (cut at a segment or
sentence start): ``context_s`` of it for the decodes while the speaker talks,
optionally more (``pause_context_s``) for the decodes that commit at a pause.
Whisper transcribes a short turn ("Flush my what?") much better after the turns
before it than alone. A new hypothesis
only contributes words after the finished segments (by time) and after the words
of the current segment committed so far (matched by their text, or by time where
Whisper changed its mind about them), so a word is never emitted twice; its text
is fixed when it is committed, so a hypothesis that punctuates it differently
later changes nothing. Should a hypothesis skip new speech (Whisper misled by
its context stops early), the buffer is decoded again without the context. A
segment longer than ``max_buffer_s`` is cut after its last committed sentence.

The class owns no thread and no clock: the live engine feeds it and calls
:meth:`StreamingTranscriber.process` from one worker thread per channel.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Optional

import numpy as np

from voicecoach.events import SAMPLE_RATE, Word
from voicecoach.stt.whisper import TranscribeOptions

_SENTENCE_END = (".", "?", "!")
_MAX_TOKENS_PER_S = 12   # far above speech; stops a decoding loop early
_ALIGN_SLACK_S = 1.0     # a committed word is looked for no later than this in a new hypothesis
_TAIL_S = 0.2            # silence kept after a segment's last speech (s)
_WINDOW_S = 28.0         # audio (s) a decode may hear: inside Whisper's 30 s window
_REPEAT_GAP_S = 0.5      # the committed word again this soon after it is the same word


@dataclass
class StreamingOptions:
    """Streaming speech-to-text settings.

    Attributes
    ----------
    min_chunk_s : float
        New speech (s) that must arrive before the buffer is decoded again. Each
        decode encodes at least ``min_window_s`` of Whisper's window, so this
        sets the CPU cost per second of speech. 0.6 s rather than 0.5 s costs 14 %
        less CPU for about 0.1 s more word latency, with no loss in WER
        (``benchmarks/streaming_check.py --call 300`` and ``--call 301``).
    agreement_n : int
        Successive hypotheses that must agree on a word before it is committed
        (2 is LocalAgreement-2; 1 commits each hypothesis as it comes).
    agreement_margin_s : float
        A word counts as agreed on only if it ends at least this long (s) before
        the end of the audio that the earliest of those hypotheses heard: Whisper
        guesses at the words it hears last, and two guesses may agree.
    context_s : float
        Audio (s) of finished segments kept before the current one as context
        (0: each segment is decoded alone). Each decode decodes the context's words
        again, so context costs CPU and word latency: on two generated 3-minute calls
        (``benchmarks/streaming_check.py --call 300`` and ``301``, an AVX2 2-core
        machine) 16 s gave streamed WER 16.6 %, 53 % of a core per channel, words p50
        2.04 s; 10 s: 17.6 %, 47 %, 1.71 s; 6 s: 18.1 %, 39 %, 1.57 s. A later run
        side by side: 6 s: 18.5 %, 40 %, 1.59 s; 4 s: 18.6 %, 30 %, 1.45 s (3 s: no
        cheaper on call 300, as ``min_window_s`` then sets the encoder's cost). The
        call record is decoded again (``second_pass``) and does not depend on it.
        Giving the words committed before the buffer to Whisper as its prompt
        instead did not help (4 s and a 200-character prompt: 20.1 %). Forcing the
        buffer's committed words as the start of Whisper's answer (a decoder prefix)
        gave the same words at the same cost: CTranslate2 steps through a prefix
        token by token, as through words it generates. Where the streamed words
        lose against offline (``benchmarks/streaming_check.py --call 300 --lost``,
        and 301; 1,093 words, a Zen 5 machine):
        whole phrases of the phone-line caller and a call's first sentence, heard
        with little audio around them; 10 s of context made 188 errors where 4 s
        made 208 and offline 152, for twice the CPU. Decoding without Whisper's
        timestamp tokens made more errors and cost more CPU, not less. Session 22 (Zen 5,
        ``--call 300`` / ``301``, one run each, streamed / offline WER): 4 s 1.44× / 1.29×
        at 14 % / 13 % of a core per channel; 10 s 1.17× / 1.33× at 26 % / 29 %, words
        p50 +0.15 / +0.22 s; 16 s 1.19× (call 300, 33 %); 24 s 1.11× (31 %): no length
        reaches 1.05× on both calls, and one call's ratio moves as much between runs.
        Beam search (5) on the decodes that commit at a pause: 1.40× against 1.44× on
        call 300 for 1 % more of a core: within that noise, not adopted.
    pause_context_s : float, optional
        Context (s) that the decodes which commit at a pause or a segment end hear
        (at most what keeps the decode inside Whisper's window); the others hear
        ``context_s`` of it. None: ``context_s`` too. Those decodes commit many
        words at once from one hypothesis, so more context there was tried: 12 s
        on four generated 3-minute calls (``benchmarks/streaming_check.py --call
        300`` to ``303``, Zen 5, one run each, side by side) gave streamed WER
        20.5 / 17.4 / 23.5 / 17.8 % against 23.9 / 17.2 / 23.1 / 18.8 % (1.26x offline
        against 1.32x: one call gained, three moved within a run's noise), for 35 %
        more CPU (28 % of a core per channel against 21 %) and 0.07 s more word
        latency (p50). On the slow machine of issue 18 that CPU would break its
        target (42 % of two cores, at most 45 %): not adopted.
    max_buffer_s : float
        A buffer longer than this (s) is cut after its last committed sentence
        (or word), so it stays well inside Whisper's 30 s window.
    pre_roll_s : float
        Audio (s) kept from before each speech onset, so the first word is whole.
    max_unheard_s : float
        New speech (s) at the end of the buffer that a hypothesis may leave
        untranscribed; when more is left, Whisper stopped early (its context
        misled it) and the buffer is decoded again without the context.
    max_word_s : float
        A new word longer than this (s) means Whisper skipped the speech under
        it; the buffer is then decoded again without the context.
    max_lag_s : float
        Undecoded audio (s) above which the transcriber is behind and catches up:
        it commits the stable part of one hypothesis (see ``stable_tail_s``)
        instead of waiting for agreement.
    stable_tail_s : float
        When catching up, or cutting a long buffer in which nothing was agreed on,
        words that end at least this long (s) before the end of the buffer are
        taken as stable.
    min_window_s : float
        The live session loads its model to encode only the part of Whisper's
        30 s window that holds the buffer, but at least this much (s); see
        :func:`voicecoach.stt.whisper.load_model`. 0 would encode the full window.
    end_silence_s : float
        A segment ends after this much silence (s); shorter pauses (a comma, a
        breath) stay inside it. The voice-activity flags end speech after a
        fifth of a second, which suits turn-taking but would split sentences,
        each piece then decoded with less of the sentence around it.
    pause_commit_s : float
        After this much silence (s) inside a segment (counted from where the
        voice-activity flag fell, itself a fifth of a second after the last
        word), the buffer is decoded once and every word before the pause is
        committed without waiting for a second hypothesis: Whisper is surest
        of words it heard the silence after, and a pause is where speech-to-text
        costs least latency. The segment stays open (the next words are still
        decoded with these as context). None: only segment ends commit at once.
    second_pass : bool
        Live, each channel's finished speech is decoded a second time in the
        model calls ``analyze`` makes on it, while the channel is quiet; the call
        record keeps those words (:mod:`voicecoach.stt.revision`). False: the
        record keeps the streamed words.
    """

    min_chunk_s: float = 0.6
    agreement_n: int = 2
    agreement_margin_s: float = 0.3
    context_s: float = 4.0
    pause_context_s: Optional[float] = None
    max_buffer_s: float = 20.0
    pre_roll_s: float = 0.3
    max_unheard_s: float = 1.0
    max_word_s: float = 1.5
    max_lag_s: float = 2.0
    stable_tail_s: float = 1.0
    min_window_s: float = 10.0
    end_silence_s: float = 0.6
    pause_commit_s: Optional[float] = 0.1
    second_pass: bool = True


def normalize_word(text: str) -> str:
    """A word as compared between hypotheses: lower case, no punctuation.

    >>> normalize_word(" Broadband.")
    'broadband'
    """
    return re.sub(r"[^\w']", "", text.lower()).strip("'")


class _Piece:
    """Contiguous audio of one speech segment (with its pre-roll).

    Its place on the call clock is kept in whole samples, so its end is the same
    number however often its start is cut: the transcriber compares that end with
    the end of the audio a decode heard, and a float that drifts by a rounding step
    once read as seconds of undecoded speech.
    """

    def __init__(self, t0: float):
        self.first = int(round(t0 * SAMPLE_RATE))   # call-clock sample of the first sample
        self.blocks: list[np.ndarray] = []
        self.n = 0

    @property
    def t0(self) -> float:
        """Call-clock time (s) of the first sample."""
        return self.first / SAMPLE_RATE

    @property
    def end(self) -> float:
        return (self.first + self.n) / SAMPLE_RATE

    def append(self, samples: np.ndarray) -> None:
        self.blocks.append(samples)
        self.n += len(samples)

    def audio(self) -> np.ndarray:
        if len(self.blocks) != 1:
            self.blocks = [np.concatenate(self.blocks)]
        return self.blocks[0]

    def _index(self, t: float) -> int:
        """The sample at call-clock time ``t``, within the piece."""
        return min(self.n, max(0, int(round(t * SAMPLE_RATE)) - self.first))

    def cut_after(self, t: float) -> None:
        """Drop the audio after call-clock time ``t``."""
        k = self._index(t)
        self.blocks = [self.audio()[:k]]
        self.n = k

    def cut_before(self, t: float) -> None:
        """Drop the audio before call-clock time ``t``."""
        k = self._index(t)
        self.blocks = [self.audio()[k:]]
        self.n -= k
        self.first += k


class StreamingTranscriber:
    """Streaming speech-to-text for one channel.

    Feed audio with :meth:`insert_audio` in call-clock order, each block with the
    channel's voice-activity flag (``VoiceActivity.speaking`` right after feeding
    it that block); call :meth:`process` whenever convenient (best after inserting
    every block that has queued up) to get the newly committed words; call
    :meth:`finish` at the end of the call.

    Parameters
    ----------
    model : faster_whisper.WhisperModel
        Loaded with :func:`voicecoach.stt.whisper.load_model` (best with
        ``min_window_s=options.min_window_s``); one model can serve both channels
        (``num_workers=2``), each from its own thread.
    channel : str
        ``"agent"`` or ``"customer"``: the channel of the words.
    options : StreamingOptions, optional
    transcribe_options : TranscribeOptions, optional
        Language and beam size of the decodes (the model is already loaded).

    Attributes
    ----------
    n_decodes : int
        Decodes run so far (each costs about the same CPU).
    catching_up : bool
        Whether the latest :meth:`process` found the transcriber behind
        (``lag_s > max_lag_s``) and committed without waiting for agreement.

    Examples
    --------
    >>> st = StreamingTranscriber(model, "agent")              # doctest: +SKIP
    >>> for start_s, block in blocks:                           # doctest: +SKIP
    ...     va.feed(block)
    ...     st.insert_audio(start_s, block, va.speaking)
    ...     words = st.process()
    >>> words = st.finish()                                     # doctest: +SKIP
    """

    def __init__(self, model, channel: str, options: Optional[StreamingOptions] = None,
                 transcribe_options: Optional[TranscribeOptions] = None):
        self.model = model
        self.channel = channel
        self.options = options or StreamingOptions()
        self.transcribe_options = transcribe_options or TranscribeOptions()
        self.n_decodes = 0
        self.catching_up = False
        self._pieces: list[_Piece] = []        # the buffer: context segments, then the current one
        self._speaking = False                 # the last piece is still growing
        self._final_t = -np.inf                # end of the latest ended segment (s)
        self._finalized_t = -np.inf            # ended segments up to here are committed (s)
        self._decoded_t = -np.inf              # end of the audio the latest decode saw (s)
        self._committed: list[Word] = []       # committed words whose audio is in the buffer
        self._tails: list[tuple[float, list[Word]]] = []  # latest hypotheses: (heard until, words)
        self._last: Optional[Word] = None      # the latest committed word
        self._pre_roll: deque[tuple[float, np.ndarray]] = deque()
        self._audio_t = 0.0                    # end of the newest inserted audio (s)
        self._speech_end = 0.0                 # end of the newest speech block (s)
        self._pause_done_t = -np.inf           # words up to here were committed at a pause (s)

    # -- input ----------------------------------------------------------------------
    def insert_audio(self, start_s: float, samples: np.ndarray, speaking: bool) -> None:
        """Add the next block of the channel.

        Parameters
        ----------
        start_s : float
            Call-clock time (s) of the block's first sample. Blocks come in order
            and without gaps.
        samples : np.ndarray [shape=(n,)], float32, 16 kHz
        speaking : bool
            The channel's voice activity after this block (``VoiceActivity.speaking``
            once the block is fed to it). A block with ``speaking`` starts a segment
            (with ``pre_roll_s`` of the audio before it) or continues it; the first
            block without it ends the segment, whose words the next :meth:`process`
            commits.
        """
        samples = np.asarray(samples, np.float32).reshape(-1)
        self._audio_t = start_s + len(samples) / SAMPLE_RATE
        if speaking:
            if not self._speaking:
                self._pieces.append(self._start_piece(start_s))
                self._speaking = True
            self._pieces[-1].append(samples)
            self._speech_end = self._audio_t
            return
        if self._speaking:
            self._pieces[-1].append(samples)   # a pause inside the segment, or its end
            if self._audio_t - self._speech_end >= self.options.end_silence_s:
                self._end_segment()
            return
        self._pre_roll.append((start_s, samples))
        while self._pre_roll and self._pre_roll[0][0] + len(self._pre_roll[0][1]) / SAMPLE_RATE \
                <= self._audio_t - self.options.pre_roll_s:
            self._pre_roll.popleft()

    def _end_segment(self) -> None:
        """The speaker stopped: drop the silence after the speech (but ``_TAIL_S``)."""
        self._speaking = False
        piece = self._pieces[-1]
        piece.cut_after(self._speech_end + _TAIL_S)
        self._final_t = piece.end

    def _start_piece(self, start_s: float) -> _Piece:
        keep = [(t, s) for t, s in self._pre_roll if t >= start_s - self.options.pre_roll_s - 0.05]
        self._pre_roll.clear()
        piece = _Piece(keep[0][0] if keep else start_s)
        for _, s in keep:
            piece.append(s)
        return piece

    # -- state ----------------------------------------------------------------------
    @property
    def lag_s(self) -> float:
        """Call-clock seconds of inserted speech not yet decoded.

        Between decodes this grows up to ``min_chunk_s``; more than ``max_lag_s``
        means the transcriber is behind (its worker was busy while audio queued
        up). Audio still waiting in the caller's queue is not counted.
        """
        pending = [p for p in self._pieces if p.end > self._decoded_t]
        if not pending:
            return 0.0
        return max(0.0, self._audio_t - max(self._decoded_t, pending[0].t0))

    # -- output ---------------------------------------------------------------------
    def process(self) -> list[Word]:
        """Decode if there is enough new speech; return the newly committed words.

        The buffer is decoded when a segment has ended since the last commit (all
        its words are then committed) or when ``min_chunk_s`` of new speech has
        arrived (the words ``agreement_n`` successive hypotheses agree on are
        committed).

        Returns
        -------
        list of Word
            In call-clock order, each word once, times on the call clock (s).
        """
        o = self.options
        self.catching_up = self.lag_s > o.max_lag_s
        if not self._pieces:
            return []
        end = self._pieces[-1].end
        ended = self._final_t > self._finalized_t
        paused = (self._speaking and o.pause_commit_s is not None
                  and self._audio_t - self._speech_end >= o.pause_commit_s
                  and self._speech_end > self._pause_done_t)
        if ended and self._decoded_t >= end and self._tails:
            # the latest hypothesis already heard the whole segment: no new decode
            words = self._advance(self._tails[-1][1], self._tails[:-1], agree=False)
        elif ended or paused or (self._speaking and end - max(self._decoded_t, self._pieces[-1].t0)
                                 >= o.min_chunk_s):
            context_s = o.context_s
            if (ended or paused) and o.pause_context_s is not None:
                current_s = sum(p.n for p in self._pieces if p.end > self._finalized_t) / SAMPLE_RATE
                context_s = min(o.pause_context_s, max(o.context_s, _WINDOW_S - current_s))
            from_t = self._context_start(context_s)
            hyp, segment_ends = self._decode(from_t)
            if self._implausible(hyp, from_t):  # the context misled Whisper: decode without it
                self._cut_before(self._current_start())
                hyp, segment_ends = self._decode()
            if paused:
                self._pause_done_t = self._speech_end
            words = self._advance(self._align(hyp), self._tails, agree=True,
                                  pause_t=self._speech_end if paused else None)
            t = self._context_start(o.context_s)
            if sum(p.n - (p._index(t) if t > p.t0 else 0) for p in self._pieces if p.end > t) \
                    / SAMPLE_RATE > o.max_buffer_s:
                words += self._cut_long(segment_ends)
        else:
            return []
        self._finalized_t = self._final_t
        self._drop_old_context()
        return words

    def finish(self) -> list[Word]:
        """End the current segment now and commit everything left (end of the call)."""
        if self._speaking:
            self._end_segment()
        return self.process()

    # -- policy ---------------------------------------------------------------------
    def _advance(self, new: list[Word], history: list[tuple[float, list[Word]]],
                 agree: bool, pause_t: Optional[float] = None) -> list[Word]:
        """Commit the leading words of ``new`` that are final, agreed on or stable.

        ``history`` holds earlier hypotheses as ``(end of the audio heard, words
        not yet committed)``; words before a pause that starts at ``pause_t``
        are final.
        """
        o = self.options
        k = _count_ending_by(new, self._final_t, midpoint=True)   # words of ended segments
        if pause_t is not None:
            k = max(k, _count_ending_by(new, pause_t, midpoint=True))
        history = history[len(history) - (o.agreement_n - 1):] if o.agreement_n > 1 else []
        if agree and len(history) == o.agreement_n - 1:
            agreed = _common_prefix([h for _, h in history] + [new])
            if history:  # not what the earliest of them only guessed at the end of its audio
                agreed = min(agreed, _count_ending_by(new, history[0][0] - o.agreement_margin_s))
            k = max(k, agreed)
        if self.catching_up:
            k = max(k, _count_ending_by(new, self._pieces[-1].end - o.stable_tail_s))
        commit = new[:k]
        key = [normalize_word(w.text) for w in commit]
        self._tails = [(end, h[k:]) for end, h in history
                       if [normalize_word(w.text) for w in h[:k]] == key]
        self._tails.append((self._decoded_t, new[k:]))
        return self._commit(commit)

    def _align(self, hyp: list[Word]) -> list[Word]:
        """The words of a hypothesis that come after those already committed.

        Nothing is taken from segments whose words were all committed when they
        ended. In the current segment, the words committed so far are matched to
        the hypothesis words that start before ``_ALIGN_SLACK_S`` after them, by
        their text; the hypothesis goes on after the match of the last of them
        (the last matched run, plus as many words as committed words remain
        unmatched after it). With no match at all, by time. A first word that
        repeats the latest committed word right after it is that word again.
        """
        def current(words: list[Word]) -> list[Word]:
            return [w for w in words if (w.start + w.end) / 2 > self._finalized_t]

        hyp, done = current(hyp), current(self._committed)
        if done:
            near = [w for w in hyp if w.start < done[-1].end + _ALIGN_SLACK_S]
            matcher = SequenceMatcher(None, [normalize_word(w.text) for w in done],
                                      [normalize_word(w.text) for w in near], autojunk=False)
            blocks = [b for b in matcher.get_matching_blocks() if b.size]
            if not blocks:
                hyp = [w for w in hyp if (w.start + w.end) / 2 > done[-1].end]
            else:
                a, b, size = blocks[-1]
                hyp = hyp[b + size + len(done) - (a + size):]
        last = self._last
        if hyp and last is not None and hyp[0].start < last.end + _REPEAT_GAP_S \
                and normalize_word(hyp[0].text) == normalize_word(last.text):
            hyp = hyp[1:]  # the word a segment ended on, heard again at the start of the next
        return hyp

    def _commit(self, words: list[Word]) -> list[Word]:
        out = []
        for w in words:
            if self._last is not None and w.start < self._last.start:  # keep call-clock order
                w = Word(w.channel, self._last.start, max(w.end, self._last.start), w.text,
                         w.probability)
            out.append(w)
            self._last = w
        self._committed += out
        return out

    def _current_start(self) -> float:
        """Call-clock start of the audio whose words are not all committed yet."""
        return next(p.t0 for p in self._pieces if p.end > self._finalized_t)

    def _implausible(self, hyp: list[Word], from_t: float = -np.inf) -> bool:
        """Whether Whisper skipped new speech: it stopped early or stretched a word over it."""
        if not any(from_t < p.end <= self._finalized_t for p in self._pieces):
            return False  # no context (heard) to blame
        o = self.options
        new = [w for w in hyp if (w.start + w.end) / 2 > self._finalized_t]
        heard = max([w.end for w in new], default=self._current_start())
        return (self._pieces[-1].end - heard > o.max_unheard_s
                or any(w.end - w.start > o.max_word_s for w in new))

    def _context_start(self, context_s: float) -> float:
        """Call-clock time from which the buffer holds at most ``context_s`` of finished
        segments (whose words are committed), at a segment or sentence start (-inf: the
        whole buffer)."""
        finished = [p for p in self._pieces if p.end <= self._finalized_t]
        if not finished:
            return -np.inf
        excess = sum(p.n for p in finished) / SAMPLE_RATE - context_s
        if excess <= 0:
            return -np.inf
        for p in finished:
            t = p.t0 + excess
            if t < p.end:
                break
            excess -= p.n / SAMPLE_RATE
        starts = [p.t0 for p in finished]
        starts += [(a.end + b.start) / 2 for a, b in zip(self._committed, self._committed[1:])
                   if a.text.endswith(_SENTENCE_END)]
        return min([s for s in starts if t <= s < finished[-1].end], default=finished[-1].end)

    def _drop_old_context(self) -> None:
        """Keep the context the decodes that commit at a pause hear (the longer one)."""
        t = self._context_start(max(self.options.context_s, self.options.pause_context_s or 0.0))
        if t > -np.inf:
            self._cut_before(t)

    def _cut_long(self, segment_ends: list[float]) -> list[Word]:
        """Cut a long buffer after its last committed sentence (or word)."""
        words = []
        if not self._committed:  # nothing agreed on in a long buffer: take the stable part
            end, new = self._tails[-1]
            k = _count_ending_by(new, self._pieces[-1].end - self.options.stable_tail_s)
            words = self._commit(new[:k])
            self._tails = [(end, new[k:])]
        if not self._committed:
            return words
        last = self._committed[-1].end
        cuts = [w.end for w in self._committed if w.text.endswith(_SENTENCE_END)]
        cuts += [t for t in segment_ends if t <= last + 1e-3]
        cut = max(cuts) if cuts else last
        following = [w.start for w in self._committed + self._tails[-1][1] if w.start >= cut]
        if following:  # cut in the pause before the next word, not at a word's edge
            cut = (cut + min(following)) / 2
        self._cut_before(cut)
        return words

    def _cut_before(self, t: float) -> None:
        """Drop the buffer's audio (and committed words) before call-clock time ``t``."""
        while self._pieces and self._pieces[0].end <= t:
            self._pieces.pop(0)
        if self._pieces:
            self._pieces[0].cut_before(t)
        self._committed = [w for w in self._committed if (w.start + w.end) / 2 > t]

    def _decode(self, from_t: float = -np.inf) -> tuple[list[Word], list[float]]:
        """Transcribe the buffer from call-clock time ``from_t`` (a segment or sentence
        start; default: the whole buffer): words and Whisper segment ends, on the call clock.

        Where one decode's CPU goes (``benchmarks.decode_cost``: 7 s of read speech,
        12 words, a Zen 5 core, three runs): encoding the 10 s window 30-35 ms, 13
        generated tokens 42-51 ms (3-3.7 ms each), word alignment 9-11 ms, the
        log-mel features 1 ms, faster-whisper's own code and its timestamp tokens
        6-16 ms of the 90-110 ms. Calling CTranslate2 directly would save little.
        """
        o = self.transcribe_options
        pieces = [p for p in self._pieces if p.end > from_t]
        skip = [p._index(from_t) if from_t > p.t0 else 0 for p in pieces]  # the first may start later
        parts = [p.audio()[k:] for p, k in zip(pieces, skip)]
        audio = np.concatenate(parts)
        offsets = np.cumsum([0] + [len(a) for a in parts[:-1]]) / SAMPLE_RATE
        starts = np.array([(p.first + k) / SAMPLE_RATE for p, k in zip(pieces, skip)])
        duration = len(audio) / SAMPLE_RATE

        def span(a: float, b: float) -> tuple[float, float]:
            """Buffer times to the call clock, within the piece holding the midpoint."""
            i = max(0, int(np.searchsorted(offsets, (a + b) / 2, side="right")) - 1)
            length = len(parts[i]) / SAMPLE_RATE
            a, b = (min(max(t - offsets[i], 0.0), length) for t in (a, b))
            return float(starts[i] + a), float(starts[i] + max(a, b))

        segments, _ = self.model.transcribe(
            audio, language=o.language, beam_size=o.beam_size, word_timestamps=True,
            vad_filter=False, condition_on_previous_text=False, temperature=0.0,
            max_new_tokens=min(200, int(_MAX_TOKENS_PER_S * duration) + 20))
        words, ends = [], []
        for seg in segments:
            for w in seg.words or []:
                text = w.word.strip()
                if normalize_word(text):  # a lone punctuation mark is no word
                    start, end = span(w.start, w.end)
                    words.append(Word(self.channel, start, end, text, float(w.probability)))
            ends.append(span(seg.end, seg.end)[1])
        self.n_decodes += 1
        self._decoded_t = self._pieces[-1].end
        return words, ends


def _common_prefix(hypotheses: list[list[Word]]) -> int:
    """Length of the longest word prefix that all hypotheses share (normalised text)."""
    n = min(len(h) for h in hypotheses)
    for i in range(n):
        if len({normalize_word(h[i].text) for h in hypotheses}) > 1:
            return i
    return n


def _count_ending_by(words: list[Word], t: float, midpoint: bool = False) -> int:
    """How many leading words end (or have their midpoint, if ``midpoint``) by time ``t``."""
    k = 0
    while k < len(words) and ((words[k].start + words[k].end) / 2 if midpoint else words[k].end) <= t:
        k += 1
    return k
