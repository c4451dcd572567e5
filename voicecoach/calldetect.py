"""When a call starts and ends, from the call audio: shift mode's call detector.

Fed the same frames as the engine, on the shift's clock (seconds since the shift
began), it says when a call started and when it ended. No threads, no I/O, no Qt.

The rules (thresholds in :class:`voicecoach.config.ShiftOptions`):

Start
    * the caller's line comes alive (sound louder than ``alive_dbfs`` for
      ``start_alive_s``) after a stretch of nothing at least ``dead_s`` long: the call
      starts where the sound began; or
    * the caller starts talking (``start_speech_s`` of speech) after the last call
      ended: the call starts at their first word, or earlier at the agent's greeting
      (agent speech up to ``lead_in_s`` before it, running up to it with pauses under
      :data:`GREETING_GAP_S`: not a chat with a colleague a while before) or where the
      line came alive.
      After a lost input comes back, speech already running counts from where the
      audio resumed, and speech starting within ``REJOIN_S`` of it is the lost call
      going on ("device back"; kept however short). After coaching was paused during a
      call and resumed, the caller's speech running then, or starting within
      ``end_silence_s`` of it (before which the call could not have ended in
      silence), is that call going on ("resumed"), unless the line came alive after
      nothing in between (a new call rang).
End
    * hang-up: a line that carried a noise floor during the call (``floor_s`` of
      sound without caller speech, in one stretch) falls to nothing for ``dead_s``:
      the call ended where it fell silent, or after the agent's words that go on past
      it (the goodbye). A line that is nothing between words has no floor to lose, so
      this rule waits for a floor before it trusts a silence. The floor must be one
      stretch: on such a line the slivers of sound at the edges of each word, which the
      voice activity does not call speech, add up to seconds over a call, and would
      make every pause in it a hang-up. Where only short sounds came after the last
      speech (the beeps of a busy tone), the call ended where the floor did. While the
      call's own playback stream plays, the line must be nothing for
      ``end_silence_s`` (a dropout, a transfer being bridged, is shorter); or
    * silence: neither side has spoken for ``end_silence_s``: the call ended at the
      last speech (plus ``end_pad_s``). While the line shows the call is still up (the
      floor that came with the call still on, or its own playback stream playing),
      ``connected_silence_s``: a caller looking for a card number is quiet, not gone.
On hold
    * a silence that begins just after the agent asked the caller to wait ("let me
      put you on hold", "bear with me": :class:`voicecoach.coach.HoldWatch`, from the
      agent's words, given as :attr:`CallDetector.hold_at`) is a hold: the call goes
      on through it, the line dead or not, for up to ``hold_s``. A softphone on hold
      plays nothing to the agent, so the line going dead is no hang-up then; and since
      the words come a moment after the speech, a hang-up waits for the agent's last
      words (up to :data:`WORDS_WAIT_S` more) when speech-to-text runs.
Mic only (no call audio: ``channels`` without the caller)
    * the agent starts talking (``start_speech_s`` of speech) after the last call
      ended: the call starts at their first word;
    * the agent has said nothing for ``mic_only_end_s`` (the caller may talk for a
      while, unheard): the call ended at their last speech (plus ``end_pad_s``).
Stronger signals
    * :meth:`CallDetector.stream`: a playback stream appearing on the call output
      starts a call (ending one still open), and its leaving ends the call
      (PulseAudio / PipeWire, where the shift can see the output's streams). A
      stream seen within ``stream_join_s`` of what the audio heard start a call (the
      line coming alive, the caller's first words; not the greeting before them) is
      that call's own (the output is polled): the call keeps its earlier start.
    * :meth:`CallDetector.by_hand`: the agent's hotkey starts or ends a call now.

A call shorter than ``min_call_s``, or with no speech on either side, is reported
as not kept (``keep=False``); so is one where the agent, heard on the mic, never spoke
(a voicemail played back through the call output), unless the agent started or ended
it by hand, quitting or a lost device cut it, or it is the rest of a call a lost input
cut.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Optional

import numpy as np

from voicecoach.analyzers.vad import VadOptions, VoiceActivity
from voicecoach.coach import is_hold
from voicecoach.events import AGENT, CUSTOMER, SAMPLE_RATE

UNHEARD = "you said nothing"
"""Why a stretch is not a call when the caller's side sounded and the agent's mic heard
nothing: a voicemail played back, or the wrong or a muted mic (then the caller's side is
all that was heard of a real call)."""


REJOIN_S = 1.0
"""Speech starting this soon (s) after a lost input came back is the lost call going on
(a call start says ``"device back"``): a new call does not ring in the first second."""

GOING_ON = ("device back", "resumed")
"""The start reasons of a call that is the one before it going on: its input was lost and
came back, or the agent paused coaching during it (to take a card number, say) and
resumed. Kept however short; the shift counts what the part before ticked off on the
checklist (:meth:`voicecoach.shift.Shift._close`)."""

WORDS_WAIT_S = 4.0
"""A line gone dead long enough to have hung up (``dead_s``; ``end_silence_s`` while the
call's stream plays) waits at most this much longer (s) for the agent's
last words (speech-to-text is a second or two behind the speech) before it is taken
as a hang-up: they may have asked the caller to hold."""

GREETING_GAP_S = 3.0
"""The agent's speech before the caller's first sound is the greeting only when it runs
up to it with no pause longer than this (s); earlier talk (to a colleague between
calls) is not the call's."""

WORD_SLACK_S = 1.0
"""The agent's words are in when the latest ends this close (s) to the end of their
speech (a word's end and the voice activity's differ by a few tenths)."""


@dataclass(frozen=True)
class CallChange:
    """A call started or ended.

    Attributes
    ----------
    kind : str
        ``"start"`` or ``"end"``.
    t : float
        Shift-clock time (s) the call started or ended (not when it was decided).
    reason : str
        ``"line"`` (the line came alive), ``"speech"``, ``"device back"`` (speech
        running on where a lost input came back: the call going on), ``"resumed"`` (the
        call a pause ended, going on: :data:`GOING_ON`), ``"hangup"``, ``"silence"``,
        ``"stream"``, ``"hand"``, ``"shift end"`` or ``"device lost"``.
    keep : bool
        For an end: False when it was not a call.
    why : str
        Why not (``keep`` False): "too short", "nobody spoke", or "you said nothing"
        (the agent never spoke: a recording played back through the call output).
    """

    kind: str
    t: float
    reason: str
    keep: bool = True
    why: str = ""


class CallDetector:
    """Decides when calls start and end from the two channels' audio.

    Parameters
    ----------
    options : ShiftOptions, optional
    vad_options : VadOptions, optional
        Voice activity settings (``[vad]``), as the engine uses them.
    channels : tuple of str
        The channels fed; without the caller's, the mic-only rules apply.

    Attributes
    ----------
    hold_at : float or None
        Where (shift clock, s) the agent last asked the caller to wait in the open
        call; None when they have not, or are back. Set by whoever reads the words.
    words_t : float or None
        Where the agent's latest word in the open call ends (shift clock, s; the
        call's start before their first); None when no words come (no speech-to-text),
        so nothing waits for them.

    Examples
    --------
    >>> det = CallDetector()                                     # doctest: +SKIP
    >>> for frame in source:
    ...     for change in det.feed(frame.channel, frame.start_s, frame.samples):
    ...         print(change.kind, change.t, change.reason)
    """

    def __init__(self, options=None, vad_options: Optional[VadOptions] = None,
                 channels: tuple[str, ...] = (AGENT, CUSTOMER)):
        if options is None:
            from voicecoach.config import ShiftOptions

            options = ShiftOptions()
        self.options = options
        self.mic_only = CUSTOMER not in channels
        self.vad = {ch: VoiceActivity(vad_options) for ch in (AGENT, CUSTOMER)}
        self.in_call = False
        self.call_start: Optional[float] = None
        self.last_end = -np.inf            # audio before this cannot start a call
        self.time = 0.0                    # shift time fed so far on the caller's channel (mic only: the agent's)
        self._alive = False
        self._alive_since: Optional[float] = None
        self._nothing_since: Optional[float] = -np.inf   # a shift starts on a quiet line
        self._after_nothing = True         # the current sound followed a long enough nothing
        self._nothing_s = np.inf           # how long that nothing was (s)
        self._floor_run = 0.0              # the current stretch of sound without caller speech (s)
        self._floor = False                # this call's line has shown a noise floor
        self._agent_spans: deque = deque(maxlen=64)  # recent agent speech (start, end)
        self._call_stream = False          # the open call has had its playback stream
        self._resumed_at: Optional[float] = None  # the last call was cut (its input lost, or a pause):
                                                  # the audio, or coaching, resumes here
        self._rejoin = "device back"              # which of GOING_ON a call going on from there is
        self._cut_at = -np.inf                    # where that call was cut
        self._started_by = ""              # what started the open (or last) call
        self._quiet_seen = False                  # the line has been nothing at some time (one that hisses
                                                  # all day has never been: its floor says nothing)
        self._floor_end: Optional[float] = None   # where the line's last stretch of floor (>= floor_s) ended
        self._onset: Optional[float] = None       # what started the open call (before any greeting)
        self._hung_up_at: Optional[float] = None  # the line was dead long enough, then came back while
                                                  # the hang-up waited for the agent's words
        self.hold_at: Optional[float] = None
        self.words_t: Optional[float] = None

    # ------------------------------------------------------------------ audio
    def feed(self, channel: str, start_s: float, samples: np.ndarray, decide: bool = True) -> list[CallChange]:
        """Take the next block of one channel; return the calls that started or ended.

        ``decide=False`` (coaching paused): the block only keeps the voice activity and
        the line on the shift's clock; no call starts or ends on it. The voice activity
        counts time by the samples it is fed, so a block left out would set every later
        speech time back by its length."""
        samples = np.asarray(samples, np.float32)
        va = self.vad[channel]
        va.feed(samples)
        va.forget(keep=4)                            # a shift is long: keep only the latest
        if channel == AGENT:
            if va.segments and (not self._agent_spans or va.segments[-1].start > self._agent_spans[-1][0]):
                self._agent_spans.append((va.segments[-1].start, va.segments[-1].end))
            if not self.mic_only:
                return []
            self.time = start_s + len(samples) / SAMPLE_RATE
            if not decide:
                return []
            return self._check_end_mic_only() if self.in_call else self._check_start_mic_only()
        out: list[CallChange] = []
        step = max(1, int(0.01 * SAMPLE_RATE))       # liveness in 10 ms steps
        for i in range(0, len(samples), step):
            part = samples[i:i + step]
            t0 = start_s + i / SAMPLE_RATE
            level = 10 * np.log10(float(np.mean(np.square(part, dtype=np.float64))) + 1e-20)
            self._line(level > self.options.alive_dbfs, t0, t0 + len(part) / SAMPLE_RATE)
        self.time = start_s + len(samples) / SAMPLE_RATE
        if not decide:
            return out
        if self.in_call:
            if self._alive and not self.vad[CUSTOMER].speaking:
                self._floor_run += len(samples) / SAMPLE_RATE
                self._floor = self._floor or self._floor_run >= self.options.floor_s
            else:
                self._floor_run = 0.0
            out += self._check_end()
        else:
            out += self._check_start()
        return out

    def _line(self, sound: bool, t0: float, t1: float) -> None:
        o = self.options
        self._quiet_seen = self._quiet_seen or not sound
        if sound and not self._alive:
            if (self._dead_line() and t0 - self._nothing_since >= self._dead_for()
                    and not self.vad[AGENT].speaking and self._words_due()):
                self._hung_up_at = self._nothing_since   # the hang-up was waiting for the agent's words
            self._alive, self._alive_since = True, t0
            self._after_nothing = self._nothing_since is not None and t0 - self._nothing_since >= o.dead_s
            self._nothing_s = t0 - self._nothing_since if self._nothing_since is not None else 0.0
            self._nothing_since = None
        elif not sound and self._alive:
            if self._alive_since is not None and t0 - self._alive_since >= o.floor_s:
                self._floor_end = t0           # a tone's beeps after it are shorter
            self._alive, self._nothing_since = False, t0

    def _last_speech(self) -> float:
        return max(va.last_voice_t for va in self.vad.values())

    def _speech_onset(self, va: VoiceActivity) -> Optional[float]:
        """Where speech of ``start_speech_s`` or more began on ``va`` since the last call.

        After a lost input the audio resumes where the last call ended: speech running
        on there is new (its onset is dated a little before the join, or it began
        before the loss) and counts from the join."""
        o = self.options
        spans = [(va.current_start, va.last_voice_t)] if va.speaking else []
        for start, end in spans + [(seg.start, seg.end) for seg in va.segments]:
            if self._resumed_at is not None:
                start = max(start, self.last_end)
            if start >= self.last_end and end - start >= o.start_speech_s:
                return start
        return None

    def _check_start(self) -> list[CallChange]:
        o = self.options
        onset, reason = None, "speech"
        if (self._alive and self._after_nothing and self._alive_since >= self.last_end
                and self.time - self._alive_since >= o.start_alive_s):
            onset, reason = self._alive_since, "line"
        else:
            onset = self._speech_onset(self.vad[CUSTOMER])
        if onset is None:
            return []
        if self._going_on(onset):
            reason = self._rejoin
        start, earliest = self._with_greeting(onset), max(self.last_end, onset - o.lead_in_s)
        if self._alive and self._alive_since is not None and earliest <= self._alive_since < start:
            start = self._alive_since
        return self._start(start, reason, onset)

    def _going_on(self, onset: float) -> bool:
        """Whether speech from ``onset`` is the cut call going on: it runs on where the
        lost input came back, or starts within :data:`REJOIN_S` of it; after a pause,
        within ``end_silence_s`` of the resume (``mic_only_end_s`` mic only), with no
        new call rung since the cut."""
        if self._resumed_at is None:
            return False
        if self._rejoin == "device back":
            return onset - self._resumed_at <= REJOIN_S
        o = self.options
        # the line came alive after nothing, since the cut: a new call rang where the cut
        # call's line had a floor (its going dead was a hang-up) or the nothing lasted as
        # long as silence that ends a call; a floorless line is nothing whenever both wait
        rang = (self._after_nothing and self._alive_since is not None and self._alive_since >= self._cut_at
                and (self._floor or self._nothing_s >= o.end_silence_s))
        quiet_s = o.mic_only_end_s if self.mic_only else o.end_silence_s
        return onset - self._resumed_at <= quiet_s and not rang

    def _with_greeting(self, onset: float) -> float:
        """``onset``, or earlier where the agent began speaking up to ``lead_in_s`` before
        it, talking on up to it with pauses under :data:`GREETING_GAP_S` (the greeting;
        mic only, the short words before the first long one)."""
        start, earliest = onset, max(self.last_end, onset - self.options.lead_in_s)
        for a0, a1 in sorted(list(self._agent_spans) + self._agent_open(), reverse=True):
            if earliest <= a0 < start and a1 >= start - GREETING_GAP_S:
                start = a0
        return start

    def _agent_open(self) -> list[tuple[float, float]]:
        va = self.vad[AGENT]
        return [(va.current_start, va.last_voice_t)] if va.speaking else []

    def _dead_line(self) -> bool:
        """The open call's line, which carried a floor, is nothing now (since ``_nothing_since``)."""
        return self._floor and self._nothing_in_call()

    def _nothing_in_call(self) -> bool:
        """The open call's line is nothing now, since ``_nothing_since``, a time in the call."""
        return (self.in_call and not self._alive and self._nothing_since is not None
                and self._nothing_since > self.call_start)

    def _dead_for(self) -> float:
        """How long (s) the line must be nothing to have hung up: ``dead_s``, or while the
        call's own playback stream still plays (the softphone says the call is up: a
        dropout, a transfer being bridged), ``end_silence_s``."""
        return self.options.end_silence_s if self._call_stream else self.options.dead_s

    def _connected(self) -> bool:
        """The call is still up by what the line shows: its own playback stream plays, or
        its floor is on (sound for ``floor_s`` and more, now), a floor that came with the
        call (a line that hisses all day says nothing): a caller looking for a card number
        is quiet, not gone."""
        o = self.options
        return self._call_stream or (self._floor and self._alive and self._quiet_seen
                                     and self._alive_since >= self.call_start - o.floor_s
                                     and self.time - self._alive_since >= o.floor_s)

    def _went(self) -> float:
        """Where the line hung up: where it fell to nothing, or where its floor ended when
        only short sounds came after the last speech (the beeps of a busy tone)."""
        if self._floor_end is not None and self._last_speech() < self._floor_end < self._nothing_since:
            return self._floor_end
        return self._nothing_since

    def _on_hold(self, silent_from: float) -> bool:
        """Whether a silence from ``silent_from`` (s) follows the agent asking the caller to
        wait in this call (:class:`voicecoach.coach.HoldWatch`'s rule)."""
        return self.hold_at is not None and self.hold_at >= self.call_start and is_hold(self.hold_at, silent_from)

    @property
    def holding(self) -> bool:
        """The open call is on hold now: silent longer than ``end_silence_s`` after the agent
        asked the caller to wait (said on the status line: the call goes on)."""
        if not self.in_call or any(va.speaking for va in self.vad.values()):
            return False
        last = max(self._last_speech(), self.call_start)
        return self._on_hold(last) and self.time - last >= self.options.end_silence_s

    def _words_due(self) -> bool:
        """The agent spoke in this call and the words of their latest speech are not in yet."""
        agent = self.vad[AGENT]
        return (self.words_t is not None and agent.last_voice_t > self.call_start
                and self.words_t < agent.last_voice_t - WORD_SLACK_S)

    def _check_end(self) -> list[CallChange]:
        o = self.options
        last = max(self._last_speech(), self.call_start)
        hold = self._on_hold(last)
        if self._hung_up_at is not None:             # dead long enough, back while the words were awaited
            hung_up, self._hung_up_at = self._hung_up_at, None
            if not hold:
                return self._end(self._after_agent(hung_up), "hangup")
        dead_for = self._dead_for()
        if not hold and self._dead_line() and self.time - self._nothing_since >= dead_for:
            agent = self.vad[AGENT]
            if agent.speaking and self.time - self._nothing_since < o.end_silence_s:
                return []                  # the agent's goodbye after the line went: still the call's
            if self._words_due() and self.time - self._nothing_since < dead_for + WORDS_WAIT_S:
                return []                  # their last words may yet ask the caller to hold
            return self._end(self._after_agent(self._went()), "hangup")
        quiet_s = o.hold_s if hold else o.connected_silence_s if self._connected() else o.end_silence_s
        if not any(va.speaking for va in self.vad.values()) and self.time - last >= quiet_s:
            return self._end(min(self.time, last + o.end_pad_s), "silence")
        return []

    def _check_start_mic_only(self) -> list[CallChange]:
        onset = self._speech_onset(self.vad[AGENT])
        if onset is None:
            return []
        return self._start(self._with_greeting(onset), self._rejoin if self._going_on(onset) else "speech")

    def _check_end_mic_only(self) -> list[CallChange]:
        o = self.options
        agent = self.vad[AGENT]
        last = max(agent.last_voice_t, self.call_start)
        quiet_s = o.hold_s if self._on_hold(last) else o.mic_only_end_s
        if not agent.speaking and self.time - last >= quiet_s:
            return self._end(min(self.time, last + o.end_pad_s), "silence")
        return []

    # ------------------------------------------------------------------ signals
    def stream(self, present: bool, t: float) -> list[CallChange]:
        """A playback stream appeared on (``present``) or left the call output at ``t``."""
        if (present and self.in_call and not self._call_stream
                and t - self._onset <= self.options.stream_join_s):
            self._call_stream = True                 # the call's own stream, seen late
            return []
        out = []
        if self.in_call:
            out += self._end(max(t, self.call_start), "stream")
        if present:
            out += self._start(max(t, self.last_end), "stream")
        return out

    def by_hand(self, t: Optional[float] = None) -> list[CallChange]:
        """The agent's hotkey: end the open call, or start one, at ``t`` (default: now)."""
        t = self.time if t is None else t
        if self.in_call:
            return self._end(max(t, self.call_start), "hand")
        return self._start(max(t, self.last_end), "hand")

    def resume(self, call_cut: bool = False) -> None:
        """Coaching resumed after a pause: only what comes from now on can start a call.
        ``call_cut``: the pause ended a call, which may be going on ("resumed")."""
        self.last_end = self.time
        self._resumed_at, self._rejoin = (self.time if call_cut else None), "resumed"

    def finish(self, reason: str = "shift end") -> list[CallChange]:
        """The shift is over (``reason``: "shift end", or "device lost" when capture
        stopped): end the open call where its sound last was."""
        if not self.in_call:
            return []
        if self._nothing_in_call():
            return self._end(self._after_agent(self._nothing_since), reason)
        return self._end(self.time, reason)

    def _after_agent(self, t: float) -> float:
        """``t``, where the caller's line went dead, or after the agent's words that go on
        past it (the goodbye)."""
        agent = self.vad[AGENT]
        return min(self.time, agent.last_voice_t + self.options.end_pad_s) if agent.last_voice_t > t else t

    # ------------------------------------------------------------------ transitions
    def _start(self, t: float, reason: str, onset: Optional[float] = None) -> list[CallChange]:
        self.in_call, self.call_start, self._resumed_at = True, t, None
        self._onset = t if onset is None else onset
        self.hold_at = self.words_t = self._hung_up_at = self._floor_end = None
        self._started_by = reason
        self._floor, self._floor_run = False, 0.0
        self._call_stream = reason == "stream"
        return [CallChange("start", round(t, 3), reason)]

    def _end(self, t: float, reason: str) -> list[CallChange]:
        why = self._not_a_call(t, reason)
        self.in_call, self.last_end = False, t
        self._after_nothing = False                  # sound still on the line is this call's tail
        self._resumed_at = self.time if reason == "device lost" else None
        self._rejoin, self._cut_at = "device back", t
        return [CallChange("end", round(t, 3), reason, not why, why)]

    def _not_a_call(self, t: float, reason: str) -> str:
        """Why the call ending at ``t`` is not kept ("" when it is: :attr:`CallChange.why`)."""
        if self._last_speech() <= self.call_start:
            return "nobody spoke"
        cut = reason in ("shift end", "device lost")     # quitting, a lost device: still a call
        kept_anyway = cut or self._started_by in GOING_ON   # and the rest of a call cut before
        if not (self.mic_only or kept_anyway or "hand" in (self._started_by, reason)
                or self.vad[AGENT].last_voice_t > self.call_start):
            return UNHEARD                 # a voicemail played back through the call output
        if t - self.call_start < self.options.min_call_s and not kept_anyway:
            return "too short"
        return ""
