"""The engine: every analyzer of one call, fed in call-clock order.

The same engine serves ``analyze`` (a file source, as fast as it goes) and
``live`` (devices): sources call :meth:`Engine.feed` with audio blocks and
:meth:`Engine.feed_words` with committed words; both return the new events.
The engine owns no threads and does no I/O.

The call audio is first cleaned of the agent's own voice (echo, sidetone:
:mod:`voicecoach.sources.echo`), with the agent's mic as the reference; every
analyzer of the customer channel, and speech-to-text, hears the cleaned audio
(:meth:`Engine.take_heard`).

Per channel: voice activity (Silero) and prosody frames. Prosody frames are
cut from the audio as it comes and held until voice activity has decided which
are speech; only those are analysed (each side is silent much of a call) and
passed on to the warmth, pace and caller-arousal analyzers. Across channels:
turn-taking. On words: language cues and words per minute.
"""
from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING, Iterator, Optional, Sequence

import numpy as np

from voicecoach.analyzers.arousal import ArousalTracker
from voicecoach.analyzers.language import CHECKLIST_CUES, CUE_KINDS, LanguageCues
from voicecoach.analyzers.pace import PaceTracker
from voicecoach.analyzers.prosody import ProsodyTracker, RawFrames
from voicecoach.analyzers.turns import TurnTaking
from voicecoach.analyzers.vad import VoiceActivity
from voicecoach.analyzers.voice import Baseline
from voicecoach.analyzers.warmth import WarmthTracker
from voicecoach.events import AGENT, CUSTOMER, SAMPLE_RATE, Event, Word
from voicecoach.sources.echo import EchoCanceller

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from voicecoach.analyzers.lexicon import Lexicon
    from voicecoach.config import Config


class Engine:
    """All analyzers of one call.

    Parameters
    ----------
    config : Config
    channels : sequence of str
        ``("agent", "customer")``, or ``("agent",)`` for the agent alone: cues
        that need the caller are then unavailable, not zero.
    baseline : voice.Baseline, optional
        The agent's voice profile; without one, warmth is judged against a
        baseline taken from the call itself.
    lexicon : Lexicon, optional
        The language cues' phrase lists, loaded once for a shift's calls (reading and
        compiling them takes half a second); default: loaded as ``config`` says.
    """

    def __init__(self, config: Optional["Config"] = None, channels: Sequence[str] = (AGENT, CUSTOMER),
                 baseline: Optional[Baseline] = None, lexicon: Optional["Lexicon"] = None):
        if config is None:
            from voicecoach.config import Config

            config = Config()
        self.config = config
        self.channels = tuple(channels)
        self.vad = {ch: VoiceActivity(config.vad) for ch in self.channels}
        self.prosody = {ch: ProsodyTracker(config.prosody) for ch in self.channels}
        self._held = {ch: RawFrames.empty(self.prosody[ch].frame) for ch in self.channels}
        self.turns = (TurnTaking(self.vad[AGENT], self.vad[CUSTOMER], config.turns)
                      if CUSTOMER in self.channels else None)
        self.warmth = WarmthTracker(config.warmth, baseline=baseline)
        self.pace = PaceTracker(config.pace, turn_pause_s=config.turns.turn_pause_s)
        self.arousal = ArousalTracker(config.arousal) if CUSTOMER in self.channels else None
        self.language = LanguageCues(config.language, lexicon, turn_pause_s=config.turns.turn_pause_s)
        self.words: dict[str, list[Word]] = {ch: [] for ch in self.channels}
        self.events: list[Event] = []
        self.ticked_live_only: dict[str, dict] = {}
        self.echo = (EchoCanceller(config.echo)
                     if CUSTOMER in self.channels and config.echo.cancel else None)
        self._heard: dict[str, list[tuple[float, np.ndarray]]] = {ch: [] for ch in self.channels}

    @property
    def time(self) -> float:
        """Call-clock time (s) up to which every channel has been analysed."""
        return min(va.time for va in self.vad.values())

    # -- audio ------------------------------------------------------------------
    def feed(self, channel: str, start_s: float, samples: np.ndarray) -> list[Event]:
        """Analyse the next block of one channel (16 kHz float32 mono, contiguous with
        the channel's previous block)."""
        if self.echo is not None:
            if channel == AGENT:
                self.echo.reference(samples)
            else:
                start, samples = self.echo.process(samples)
                start_s = start / SAMPLE_RATE
        return self._analyse(channel, start_s, samples)

    def feed_block(self, start_s: float, block: dict[str, np.ndarray],
                   executor: Optional["Executor"] = None) -> list[Event]:
        """Analyse the next block of every channel (all starting at ``start_s``): the
        same as :meth:`feed` on each channel in turn. Given an ``executor``, the call
        audio's echo is cancelled on it while the agent's block is analysed (AEC3
        runs without Python's lock), as ``analyze`` does to use a second core."""
        if self.echo is None or executor is None:
            return [e for ch in self.channels for e in self.feed(ch, start_s, block[ch])]
        self.echo.reference(block[AGENT])
        cleaned = executor.submit(self.echo.process, block[CUSTOMER])
        events = self._analyse(AGENT, start_s, block[AGENT])
        start, samples = cleaned.result()
        return events + self._analyse(CUSTOMER, start / SAMPLE_RATE, samples)

    def _analyse(self, channel: str, start_s: float, samples: np.ndarray) -> list[Event]:
        events: list[Event] = []
        if len(samples):
            self._heard[channel].append((start_s, samples))
            self.vad[channel].feed(samples)
            events = self._route_frames(channel, self.prosody[channel].feed_raw(start_s, samples))
        if self.turns is not None:
            events += self.turns.update()
        self.events += events
        return events

    def take_heard(self, channel: str) -> list[tuple[float, np.ndarray]]:
        """The audio of ``channel`` the analyzers have heard since the last call, as
        ``(start_s, samples)`` blocks: the call audio without the agent's echo, for
        speech-to-text. Take it after each :meth:`feed`, or it accumulates."""
        blocks, self._heard[channel] = self._heard[channel], []
        return blocks

    def finish_audio(self) -> list[Event]:
        """End of the audio: flush every analyzer that holds a tail."""
        events: list[Event] = []
        if self.echo is not None:
            start, tail = self.echo.process(np.zeros(0, np.float32), final=True)
            events += self._analyse(CUSTOMER, start / SAMPLE_RATE, tail)
        if self.turns is not None:
            events += self.turns.finish()
        for ch in self.channels:
            self.vad[ch].flush()
            events += self._route_frames(ch, self.prosody[ch].flush_raw(), final=True)
        self.pace.flush()
        self.events += events
        return events

    def _route_frames(self, channel: str, frames: RawFrames, final: bool = False) -> list[Event]:
        """Hold frames until voice activity has decided them; analyse and pass on the
        speech (prosody is computed for speech only: it is wanted nowhere else)."""
        held = RawFrames.concat([self._held[channel], frames])
        if len(held) == 0:
            return []
        va = self.vad[channel]
        if final:
            decided_until = np.inf
        elif va.speaking:
            # a segment that ends up shorter than min_speech_s is dropped when it closes
            # (a click, a breath): its frames wait until it is long enough to be kept
            o = va.options
            kept = not (va.last_voice_t + o.speech_pad_s - va.current_start < o.min_speech_s + o.speech_pad_s)
            decided_until = va.last_voice_t if kept else va.current_start
        else:
            # the next onset's segment starts speech_pad_s before its first speech window
            decided_until = va.time - va.options.speech_pad_s
        tracker = self.prosody[channel]
        ready, self._held[channel] = tracker.split(held, decided_until)
        if len(ready) == 0:
            return []
        speech = self._speech_mask(channel, ready.t)
        if not speech.any():
            return []
        wanted = tracker.anchored(ready, speech)
        frames = tracker.analyse(ready[wanted]).select(speech[wanted])
        if channel == AGENT:
            self.pace.feed_frames(frames)
            return self.warmth.feed(frames)
        return self.arousal.feed(frames)

    def _speech_mask(self, channel: str, t: np.ndarray) -> np.ndarray:
        va = self.vad[channel]
        mask = np.zeros(len(t), bool)
        for seg in reversed(va.segments):
            if seg.end < t[0]:
                break
            mask |= (t >= seg.start) & (t < seg.end)
        if va.speaking:
            mask |= t >= va.current_start
        return mask

    # -- words ------------------------------------------------------------------
    def feed_words(self, channel: str, words: Sequence[Word]) -> list[Event]:
        """Committed words of one channel, in time order."""
        words = list(words)
        if not words:
            return []
        self.words[channel] += words
        if channel == AGENT:
            self.pace.feed_words(words)
        events = [Event("word", w.start, channel, w.text, {"end": round(w.end, 3)}) for w in words]
        events += self.language.feed(words)
        self.events += [e for e in events if e.kind != "word"]
        return events

    def feed_words_in_order(self, words: dict[str, list[Word]]) -> list[Event]:
        """Every channel's committed words at once (channel -> words in call-clock
        order), fed in call order: runs of one channel as they alternate, the order
        the language cues hear a conversation in."""
        events: list[Event] = []
        for channel, run in _runs_in_call_order(words):
            events += self.feed_words(channel, run)
        return events

    def finish_words(self) -> list[Event]:
        events = self.language.flush()
        self.events += events
        return events

    def words_decoded_again(self, words: dict[str, list[Word]]) -> None:
        """Take better words for the call record (the live second pass, after the call).

        The language cues, the call checklist, the follow-up and caller's lists and the
        agent's word count are worked out again from ``words`` (channel -> words in
        call-clock order), so that the review, the report, the history and the
        after-call card stand on the better transcript. What was sent live is not
        changed, and the cues that do not come from words (voice, the caller's
        temperature, marks) stay as they are. A checklist item the streamed words ticked
        and the better ones do not is kept in :attr:`ticked_live_only` (item -> ``{t,
        text}`` of the live cue), so that the card can say why a tick the agent saw is gone.
        """
        language = LanguageCues(self.config.language, self.language.lexicon, self.config.turns.turn_pause_s)
        events: list[Event] = []
        for _, run in _runs_in_call_order(words):
            events += language.feed(run)
        events += language.flush()
        live, final = self.language.summary()["checklist"], language.summary()["checklist"]
        heard: dict[str, list[Event]] = {}
        for e in self.events:
            item = CHECKLIST_CUES.get(e.data.get("cue")) if e.kind == "cue" and e.channel == AGENT else None
            if item is not None and live.get(item) and not final.get(item):
                heard.setdefault(item, []).append(e)
        need = {"questions": self.config.language.min_questions}    # the cue that ticked it
        self.ticked_live_only = {k: {"t": round(e.t, 3), "text": e.text}
                                 for k, es in heard.items() for e in [es[min(need.get(k, 1), len(es)) - 1]]}
        self.events = [e for e in self.events
                       if not (e.kind == "cue" and e.data.get("cue") in CUE_KINDS)] + events
        self.language = language
        self.words = {ch: list(words.get(ch, [])) for ch in self.channels}

    # -- state --------------------------------------------------------------------
    def snapshot(self) -> dict:
        """Live metrics, JSON-ready: what an overlay shows."""
        snap = {"t": round(self.time, 3), "warmth": self.warmth.state(), "pace": self.pace.state()}
        if self.turns is not None:
            snap["turns"] = self.turns.state()
        if self.arousal is not None:
            snap["caller"] = self.arousal.state()
            va = self.vad[CUSTOMER]
            last = self.time if va.speaking else va.last_voice_t
            snap["caller_quiet_s"] = round(self.time - last, 2) if np.isfinite(last) else None
        return snap

    def cues(self) -> list[dict]:
        """Every cue event so far as ``{t, kind, text, channel, suggestion?, phrase?, end?, by?}``
        (``by: "model"``: the sentence model alone found it)."""
        out = []
        for e in sorted((e for e in self.events if e.kind == "cue"), key=lambda e: e.t):
            item = {"t": round(e.t, 3), "kind": e.data.get("cue", "cue"), "text": e.text,
                    "channel": e.channel}
            for key in ("suggestion", "phrase", "end", "by"):
                if e.data.get(key) is not None:
                    item[key] = e.data[key]
            out.append(item)
        return out


def _runs_in_call_order(words: dict[str, list[Word]]) -> Iterator[tuple[str, list[Word]]]:
    """``(channel, words)``: the channels' words merged by start time, in runs of one channel."""
    merged = sorted((w for ws in words.values() for w in ws), key=lambda w: (w.start, w.channel))
    for channel, run in groupby(merged, key=lambda w: w.channel):
        yield channel, list(run)
