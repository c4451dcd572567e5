"""The call detector on generated calls whose start and end are known: a line with a
noise floor that hangs up, a line that is nothing between words (it ends on
silence, a long pause inside the call does not split it), a call starting while the
previous one's end silence still runs, the hotkey, playback streams, a blip
that is not a call, holds, and a support desk's day: a caller quiet for a while on a
line still up, a dropout, a busy tone, a colleague chatted to before the call, a
voicemail played back; a call paused and resumed."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from voicecoach.calldetect import CallDetector
from voicecoach.coach import HoldWatch
from voicecoach.config import ShiftOptions
from voicecoach.events import SAMPLE_RATE

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")

BLOCK = 320


def feed(det, agent, customer, t0=0.0, decide=True):
    changes = []
    for i in range(0, len(agent), BLOCK):
        t = t0 + i / SAMPLE_RATE
        changes += det.feed("agent", t, agent[i:i + BLOCK], decide)
        changes += det.feed("customer", t, customer[i:i + BLOCK], decide)
    return changes


@pytest.fixture(scope="module")
def calls():
    from tools.callgen import RandomCallOptions, random_call

    floor = random_call(3, minutes=0.4)
    bare = random_call(4, minutes=0.4, options=RandomCallOptions(noise_dbfs=-300.0))
    return floor.audio, bare.audio, bare.truth


def silence(s):
    return np.zeros((int(s * SAMPLE_RATE), 2), np.float32)


@needs_espeak
def test_two_calls_five_seconds_apart_on_a_line_that_hangs_up(calls):
    floor, _, _ = calls
    shift = np.concatenate([silence(3.0), floor, silence(5.0), floor, silence(4.0)])
    det = CallDetector()
    got = feed(det, shift[:, 0], shift[:, 1]) + det.finish()
    n = len(floor) / SAMPLE_RATE
    truth = [("start", 3.0), ("end", 3.0 + n), ("start", 8.0 + n), ("end", 8.0 + 2 * n)]
    assert [c.kind for c in got] == [k for k, _ in truth]
    for c, (_, t) in zip(got, truth):
        assert abs(c.t - t) < 0.5, (c, t)
    assert [c.reason for c in got if c.kind == "end"] == ["hangup", "hangup"] and all(c.keep for c in got)


@needs_espeak
def test_the_agents_goodbye_after_the_caller_hung_up_is_part_of_the_call(calls):
    """The caller's line goes dead while the agent still says goodbye: the call ends after
    the goodbye, not where the line went, so its last words are inside the record."""
    from tools.callgen import Turn, render_call

    floor, _, _ = calls
    bye = render_call([Turn("agent", "Thanks for calling, goodbye.", "espeak-us-f", 0.0)],
                      tail_s=0.0, noise_dbfs=-300.0).audio[:, 0]
    said = np.flatnonzero(np.abs(bye) > 1e-3)
    hangup = silence(0.3 + len(bye) / SAMPLE_RATE + 6.0)
    start = int(0.3 * SAMPLE_RATE)
    hangup[start:start + len(bye), 0] = bye                 # the agent, on a dead line
    shift = np.concatenate([silence(3.0), floor, hangup])
    det = CallDetector()
    got = feed(det, shift[:, 0], shift[:, 1]) + det.finish()
    assert [(c.kind, c.reason) for c in got] == [("start", "line"), ("end", "hangup")], got
    goodbye_end = (3.0 * SAMPLE_RATE + len(floor) + start + said[-1]) / SAMPLE_RATE
    assert goodbye_end - 0.2 <= got[1].t <= goodbye_end + 0.8, (got[1].t, goodbye_end)
    # the shift stopped (Ctrl-C) during the goodbye, before the hang-up was decided
    cut_s = goodbye_end - 0.3
    cut = int(cut_s * SAMPLE_RATE)
    det = CallDetector()
    got = feed(det, shift[:cut, 0], shift[:cut, 1]) + det.finish()
    assert [(c.kind, c.reason) for c in got] == [("start", "line"), ("end", "shift end")], got
    assert got[1].t >= cut_s - 0.3, (got[1].t, cut_s)                # not where the line went dead


@needs_espeak
def test_a_line_with_no_floor_ends_on_silence_and_a_pause_does_not_split_it(calls):
    _, bare, truth = calls
    last = max(u["end"] for u in truth["utterances"])
    pause = silence(4.0)                                           # both quiet, mid-call
    half = len(bare) // 2
    call = np.concatenate([bare[:half], pause, bare[half:]])
    shift = np.concatenate([silence(2.0), call, silence(20.0)])
    det = CallDetector()
    got = feed(det, shift[:, 0], shift[:, 1]) + det.finish()
    assert [c.kind for c in got] == ["start", "end"], got
    first = min(u["start"] for u in truth["utterances"])
    assert abs(got[0].t - (2.0 + first)) < 0.6
    assert got[1].reason == "silence" and abs(got[1].t - (2.0 + 4.0 + last + 0.5)) < 0.6


@needs_espeak
def test_a_long_call_on_a_line_with_no_floor_is_one_call():
    """Three minutes on a line that is nothing between words: the slivers of sound at the
    edges of the caller's words must not add up to a floor that makes a pause a hang-up
    (they did: every such call split in two or three)."""
    from tools.callgen import RandomCallOptions, random_call

    bare = random_call(1, minutes=3.0, options=RandomCallOptions(noise_dbfs=-100.0))
    shift = np.concatenate([silence(2.0), bare.audio, silence(20.0)])
    det = CallDetector()
    got = feed(det, shift[:, 0], shift[:, 1]) + det.finish()
    assert [(c.kind, c.reason) for c in got] == [("start", "line"), ("end", "silence")], got
    last = max(u["end"] for u in bare.truth["utterances"])
    assert abs(got[1].t - (2.0 + last + 0.5)) < 0.6


@needs_espeak
@pytest.mark.parametrize("lost_at, back_at, why", [
    (15.0, 18.5, "the caller quiet at the loss, talking when the input comes back"),
    (10.0, 11.0, "the caller talking at the loss and when it comes back"),
])
def test_a_call_goes_on_at_once_when_a_lost_input_comes_back(lost_at, back_at, why):
    """A lost input ends the call; the source leaves the time away off the clock, so the
    audio resumes where that call ended. The caller talking then is the call going on:
    the next call starts there. (It waited for the caller's next sentence, 9.6 s later
    here and 13-15 s on real PulseAudio devices: the voice activity dated the resumed
    speech 30 ms before the join, as if it were the lost call's.)"""
    from tools.callgen import random_call

    floor = random_call(3, minutes=0.4).audio
    before = np.concatenate([silence(3.0), floor[:int(lost_at * SAMPLE_RATE)]])
    det = CallDetector()
    got = feed(det, before[:, 0], before[:, 1]) + det.finish("device lost")
    joined = len(before) / SAMPLE_RATE
    assert [(c.kind, c.reason) for c in got] == [("start", "line"), ("end", "device lost")]
    after = floor[int(back_at * SAMPLE_RATE):]
    start = feed(det, after[:, 0], after[:, 1], t0=joined)[0]
    assert start.kind == "start" and joined <= start.t < joined + 0.5, why
    assert start.reason == "device back"


@needs_espeak
def test_after_a_lost_input_a_later_start_or_a_pause_is_an_ordinary_call_and_the_rest_is_kept():
    """Speech starting more than REJOIN_S after the input came back, or after coaching was
    paused and resumed, starts a call as any speech does; the rest of a cut call is kept
    however short (2.5 s of the caller's words were dropped as "too short")."""
    from tools.callgen import random_call

    from voicecoach.calldetect import REJOIN_S

    floor = random_call(3, minutes=0.4).audio

    def lost_then(back_at, resume=False, until=None):
        det = CallDetector()
        before = np.concatenate([silence(3.0), floor[:int((back_at - 2.0) * SAMPLE_RATE)]])
        feed(det, before[:, 0], before[:, 1])
        det.finish("device lost")
        if resume:
            det.resume()
        after = floor[int(back_at * SAMPLE_RATE):int(until * SAMPLE_RATE) if until else None]
        joined = len(before) / SAMPLE_RATE
        tail = silence(12.0) if until else silence(0.0)
        both = np.concatenate([after, tail])
        return joined, feed(det, both[:, 0], both[:, 1], t0=joined) + det.finish()

    joined, got = lost_then(27.0)                     # both quiet at the join; the caller at +3.4 s
    assert got[0].kind == "start" and got[0].reason == "speech" and got[0].t > joined + REJOIN_S - 0.5
    _, got = lost_then(18.5, resume=True)             # paused while the input was away
    assert got[0].reason == "speech"
    joined, got = lost_then(18.5, until=21.0)         # 2.5 s of the caller, then nothing
    assert [(c.kind, c.reason) for c in got[:1]] == [("start", "device back")]
    assert got[1].kind == "end" and got[1].t - got[0].t < 4.0 and got[1].keep


def test_by_hand_and_playback_streams():
    det = CallDetector()
    quiet = np.zeros(SAMPLE_RATE, np.float32)
    feed(det, quiet, quiet)
    (start,) = det.by_hand()
    assert start.kind == "start" and start.reason == "hand" and start.t == pytest.approx(1.0)
    feed(det, quiet, quiet, 1.0)
    (end,) = det.by_hand()
    assert end.kind == "end" and end.reason == "hand" and not end.keep          # nobody spoke
    a, = det.stream(True, 2.5)
    assert a.kind == "start" and a.reason == "stream"
    b, c = det.stream(True, 3.0)                                   # a new stream: the old call ends first
    assert (b.kind, c.kind) == ("end", "start") and b.t == c.t == 3.0
    d, = det.stream(False, 4.0)
    assert d.kind == "end" and d.t == 4.0


def test_a_stream_seen_after_the_line_came_alive_is_the_same_call():
    """The output is polled: its stream is often seen after the caller's first sound.
    That call keeps its start (nothing of it is lost); a stream seen much later is a
    new call."""
    rng = np.random.default_rng(1)
    line = rng.normal(0, 0.01, 3 * SAMPLE_RATE).astype(np.float32)
    customer = np.concatenate([np.zeros(SAMPLE_RATE, np.float32), line])
    det = CallDetector()
    (start,) = feed(det, np.zeros_like(customer), customer)
    assert start.reason == "line" and start.t == pytest.approx(1.0, abs=0.02)
    assert det.stream(True, 2.6) == [] and det.in_call and det.call_start == start.t
    assert det.stream(True, 3.0)[0].kind == "end"          # a second stream: a new call


def test_a_blip_on_the_line_is_not_a_call():
    rng = np.random.default_rng(0)
    customer = np.concatenate([np.zeros(SAMPLE_RATE), rng.normal(0, 0.01, SAMPLE_RATE),
                               np.zeros(4 * SAMPLE_RATE)]).astype(np.float32)
    det = CallDetector(ShiftOptions(floor_s=0.5))
    got = feed(det, np.zeros_like(customer), customer)
    assert [c.kind for c in got] == ["start", "end"] and not got[1].keep


@needs_espeak
def test_mic_only_a_call_is_the_agents_talk_with_pauses_shorter_than_mic_only_end_s():
    """No call audio: the agent's speech starts a call; a 20 s pause (the caller talking,
    unheard) does not end it; 35 s of nothing does, at the agent's last word."""
    from tools.callgen import Turn, render_call

    said = render_call([Turn("agent", "Thanks for calling, this is Sam. How can I help you today?",
                             "espeak-us-f", 0.0)], tail_s=0.0, noise_dbfs=-300.0).audio[:, 0]
    n = len(said) / SAMPLE_RATE

    def quiet(s):
        return np.zeros(int(s * SAMPLE_RATE), np.float32)

    agent = np.concatenate([quiet(3.0), said, quiet(20.0), said, quiet(35.0), said, quiet(2.0)])
    agent += np.random.default_rng(0).normal(0.0, 10 ** (-65 / 20), len(agent)).astype(np.float32)  # a mic's floor
    det = CallDetector(channels=("agent",))
    got = []
    for i in range(0, len(agent), BLOCK):
        got += det.feed("agent", i / SAMPLE_RATE, agent[i:i + BLOCK])
    got += det.finish()
    second_end = 3.0 + n + 20.0 + n
    truth = [("start", 3.0), ("end", second_end + ShiftOptions().end_pad_s),
             ("start", second_end + 35.0), ("end", len(agent) / SAMPLE_RATE)]
    assert [c.kind for c in got] == [k for k, _ in truth], got
    for c, (_, t) in zip(got, truth):
        assert abs(c.t - t) < 0.5, (c, t)
    assert [c.reason for c in got] == ["speech", "silence", "speech", "shift end"]
    assert all(c.keep for c in got)


def _held(floor, hold_s):
    """A call on a line with a floor, a hold (the softphone plays nothing to the agent:
    the line is dead, the agent's mic holds only its floor), then the call again."""
    hold = silence(hold_s)
    hold[:, 0] = np.random.default_rng(2).normal(0.0, 10 ** (-65 / 20), len(hold))
    return np.concatenate([silence(3.0), floor, hold, floor, silence(4.0)])


def _feed_held(det, shift, split_s, words_at=None, words=None):
    """Feed ``shift``; at ``split_s`` (the hold's start) the agent's words so far are in
    (``words``: hold_at, words_t), or only ``words_at`` s into the hold."""
    cut = int(split_s * SAMPLE_RATE) // BLOCK * BLOCK
    got = feed(det, shift[:cut, 0], shift[:cut, 1])
    if words_at:
        det.words_t = det.call_start                 # none of the agent's words are in yet
    later = int((words_at or 0.0) * SAMPLE_RATE) // BLOCK * BLOCK
    got += feed(det, shift[cut:cut + later, 0], shift[cut:cut + later, 1], cut / SAMPLE_RATE)
    if words is not None:
        det.hold_at, det.words_t = words(det)
    got += feed(det, shift[cut + later:, 0], shift[cut + later:, 1], (cut + later) / SAMPLE_RATE)
    return got + det.finish()


def _last_speech(det):
    return max(va.last_voice_t for va in det.vad.values())


@needs_espeak
def test_a_hold_the_agent_asked_for_keeps_the_call_open_over_a_dead_line(calls):
    """"Let me put you on hold": the softphone then plays nothing to the agent for 40 s.
    Told of the request (``hold_at``), the detector keeps one call over the hold; not
    told, the dead line is a hang-up and the call splits in two, as it did before."""
    floor, _, _ = calls
    n = len(floor) / SAMPLE_RATE
    shift = _held(floor, 40.0)
    split = 3.0 + n

    got = _feed_held(CallDetector(), shift, split)
    assert [(c.kind, c.reason) for c in got] == [("start", "line"), ("end", "hangup"),
                                                 ("start", "line"), ("end", "hangup")], got

    got = _feed_held(CallDetector(), shift, split, words=lambda d: (_last_speech(d) - 1.0, None))
    assert [c.kind for c in got] == ["start", "end"], got
    assert abs(got[0].t - 3.0) < 0.5 and abs(got[1].t - (split + 40.0 + n)) < 0.5, got

    # a request to wait made long before the call went quiet is no hold: the hang-up stands
    got = _feed_held(CallDetector(), shift, split, words=lambda d: (_last_speech(d) - 10.0, None))
    assert [c.reason for c in got if c.kind == "end"][0] == "hangup", got


@needs_espeak
def test_a_hangup_waits_for_the_agents_last_words_which_may_ask_for_a_hold(calls):
    """Speech-to-text is a second or two behind: the request to hold can arrive after the
    line has been dead for ``dead_s``. The hang-up waits for it (at most WORDS_WAIT_S
    more), and without it is dated where the line went dead, as before."""
    from voicecoach.calldetect import WORDS_WAIT_S

    floor, _, _ = calls
    n = len(floor) / SAMPLE_RATE
    shift = _held(floor, 40.0)
    split = 3.0 + n
    dead_s = ShiftOptions().dead_s

    def stale(det):
        return None, det.call_start                  # none of the agent's words are in yet

    det = CallDetector()
    cut = int(split * SAMPLE_RATE) // BLOCK * BLOCK
    feed(det, shift[:cut, 0], shift[:cut, 1])
    det.hold_at, det.words_t = stale(det)
    got, t = [], cut / SAMPLE_RATE
    for i in range(cut, len(shift), BLOCK):
        got += det.feed("agent", t, shift[i:i + BLOCK, 0]) + det.feed("customer", t, shift[i:i + BLOCK, 1])
        t += BLOCK / SAMPLE_RATE
        if got:
            break
    assert got[0].reason == "hangup" and abs(got[0].t - split) < 0.6, got
    assert t - split >= dead_s + WORDS_WAIT_S - 0.5, t - split   # decided only once the wait was over

    # the words come 3 s into the dead line and ask for a hold: one call
    got = _feed_held(CallDetector(), shift, split, words_at=dead_s + 1.0,
                     words=lambda d: (_last_speech(d) - 1.0, _last_speech(d)))
    assert [c.kind for c in got] == ["start", "end"], got


@needs_espeak
def test_a_hold_on_a_line_with_no_floor_outlasts_the_end_silence_up_to_hold_s(calls):
    """On a line that is nothing between words the end is a silence of ``end_silence_s``;
    a hold the agent asked for may be silent up to ``hold_s``, and no longer."""
    _, bare, _ = calls
    n = len(bare) / SAMPLE_RATE
    for hold_s, calls_found in ((30.0, 1), (75.0, 2)):
        shift = np.concatenate([silence(2.0), bare, silence(hold_s), bare, silence(20.0)])
        det = CallDetector(ShiftOptions(hold_s=60.0))
        got = _feed_held(det, shift, 2.0 + n, words=lambda d: (_last_speech(d) - 1.0, _last_speech(d)))
        assert [c.kind for c in got] == ["start", "end"] * calls_found, (hold_s, got)
        assert all(c.reason == "silence" for c in got if c.kind == "end"), got


# --- a support desk's day (a review's cases): waits, dropouts, tones, chat, voicemail ---
AGENT_VOICE, CALLER_VOICE = "espeak-us-f", "espeak-gb-m"


def line_floor(s: float, dbfs: float = -65.0, seed: int = 0) -> np.ndarray:
    """A connected line with nobody speaking: the caller's channel carries its noise floor."""
    a = silence(s)
    a[:, 1] = np.random.default_rng(seed).normal(0.0, 10 ** (dbfs / 20), len(a))
    return a


def tone(s: float, freqs=(480, 620), on_s: float = 0.5, off_s: float = 0.5, dbfs: float = -20.0) -> np.ndarray:
    """A cadenced call-progress tone on the caller's channel (default: the North American
    busy tone, 480 + 620 Hz, 0.5 s on, 0.5 s off), digital silence between its beeps."""
    n = round(s * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    y = sum(np.sin(2 * np.pi * f * t) for f in freqs) / len(freqs) * 10 ** (dbfs / 20) * np.sqrt(2)
    a = silence(s)
    a[:, 1] = y * ((t % (on_s + off_s)) < on_s)
    return a


def said(turns, noise_dbfs: float = -65.0, tail_s: float = 0.5, seed: int = 0) -> np.ndarray:
    from tools.callgen import Turn, render_call

    return render_call([Turn(*t) for t in turns], tail_s=tail_s, noise_dbfs=noise_dbfs, seed=seed).audio


def run(shift: np.ndarray, streams: dict | None = None) -> list:
    """Feed a two-channel shift (L = agent, R = caller) to a fresh detector in 20 ms
    blocks, as the shift does; ``streams`` ``{t: present}`` are the call output's
    playback streams as the watcher reports them, applied before the first block at or
    after ``t`` (the shift applies them before each frame)."""
    det = CallDetector()
    pending = sorted((streams or {}).items())
    got = []
    for i in range(0, len(shift), BLOCK):
        t = i / SAMPLE_RATE
        while pending and pending[0][0] <= t:
            got += det.stream(pending[0][1], pending.pop(0)[0])
        got += det.feed("agent", t, shift[i:i + BLOCK, 0])
        got += det.feed("customer", t, shift[i:i + BLOCK, 1])
    for when, present in pending:
        got += det.stream(present, when)
    return got + det.finish()


def calls_of(changes) -> list[tuple[float, float, str, str, bool]]:
    """(start, end, started_by, ended_by, kept) for each call the detector reported."""
    out, start = [], None
    for c in changes:
        if c.kind == "start":
            start = c
        else:
            out.append((start.t, c.t, start.reason, c.reason, c.keep))
    return out


def kept(calls):
    return [c for c in calls if c[4]]


# a support call's opening and its close, each on a line with a noise floor
OPENING = [("agent", "Thank you for calling, this is Sam, how can I help you today?", AGENT_VOICE, 0.5),
           ("customer", "Hi, I would like to pay my bill by card please.", CALLER_VOICE, 0.5),
           ("agent", "Sure, can you read me the card number?", AGENT_VOICE, 0.5),
           ("customer", "Hang on, let me find my wallet.", CALLER_VOICE, 0.5)]
CLOSE = [("customer", "Okay, I have it now, it is four one one one.", CALLER_VOICE, 0.3),
         ("agent", "Thank you, that payment has gone through.", AGENT_VOICE, 0.5),
         ("customer", "Great, thanks, bye.", CALLER_VOICE, 0.5)]
WHOLE = [("agent", "Thank you for calling, this is Sam, how can I help you today?", AGENT_VOICE, 0.5),
         ("customer", "Hi, my internet keeps dropping every evening.", CALLER_VOICE, 0.5),
         ("agent", "I am sorry about that, I have reset your line, anything else?", AGENT_VOICE, 0.5),
         ("customer", "No, that is all, thanks, bye.", CALLER_VOICE, 0.5),
         ("agent", "Bye now.", AGENT_VOICE, 0.3)]


@needs_espeak
def test_a_caller_quiet_for_14_s_on_a_live_line_is_one_call():
    """The agent asks for the card number; the caller says "hang on" and looks for the
    wallet for 14 s while the agent waits (no hold: the line stays connected and keeps
    its noise floor, so the hang-up rule sees a live line): one call. (The silence rule,
    end_silence_s, 12 s, ended it and the caller's "okay, I have it now" started a second:
    3.0-18.5 s and 32.8-42.4 s for one call at 3.0-42.4 s, two cards, two history rows.) Run through the real shift (engine,
    sessions, records), sound only as on a system without playback streams."""
    from voicecoach.config import Config
    from voicecoach.shift import Shift
    from voicecoach.sources.audio import CallAudio
    from voicecoach.sources.files import PlaylistSource

    call = np.concatenate([said(OPENING), line_floor(14.0, seed=1), said(CLOSE, seed=1)])
    audio = CallAudio(np.ascontiguousarray(call[:, 0]), np.ascontiguousarray(call[:, 1]), "card number")
    source = PlaylistSource([(3.0, audio)])
    shift = Shift(source, Config(), transcribe=False, save=False)
    shift.run()
    (start, end), = source.spans
    found = [(round(c["t"], 1), round(c["end_t"], 1), c["reason"], c["ended_by"]) for c in shift.calls]
    assert len(found) == 1, f"one call played at {start:.1f}-{end:.1f} s, found {found}"
    assert abs(shift.calls[0]["t"] - start) <= 2.0 and abs(shift.calls[0]["end_t"] - end) <= 2.0, found


def chat_then_call():
    """The agent tells a colleague "I will grab a coffee after this one" at 3 s; the next
    call's line comes alive with its floor at 10 s, the caller says "Hello?" at 11 s.
    Returns the shift and the call's own audio."""
    chat = said([("agent", "Yeah, I will grab a coffee after this one.", AGENT_VOICE, 0.0)],
                noise_dbfs=-300.0, tail_s=0.0)
    before = silence(10.0)
    before[int(3.0 * SAMPLE_RATE):int(3.0 * SAMPLE_RATE) + len(chat), 0] = chat[:, 0]
    call = said([("customer", "Hello?", CALLER_VOICE, 1.0)] + WHOLE[:3])
    return np.concatenate([before, call, silence(6.0)]), call


@needs_espeak
def test_agent_chatting_before_the_line_comes_alive_is_not_the_calls_start():
    """Between calls the agent tells a colleague "I will grab a coffee after this one";
    the next call connects 4.3 s after the chat ends (its line comes alive with its noise
    floor at 10.0 s, the caller says "Hello?" at 11.0 s): the call starts at 10 s. (The
    start was pulled back to any agent speech up to lead_in_s, 8 s, before, as if it were
    the greeting: 3.0 s, 7 s early, the chat coached as the call's opening.)"""
    shift, call = chat_then_call()
    found = calls_of(run(shift))
    assert len(found) == 1, found
    assert abs(found[0][0] - 10.0) <= 2.0, f"the call connected at 10.0 s; found {found}"


@needs_espeak
def test_on_pulseaudio_chat_before_a_call_does_not_make_a_phantom_call():
    """The same chat before a call on PulseAudio: the softphone's stream is seen at the
    next poll, 0.5 s after the line came alive (playback_check_s): it is the call's own.
    (With the start pulled back 7 s to the chat, the stream came "too late" to be its own,
    stream_join_s, 5 s, and started a new call: a kept 7.5 s phantom call, 3.0-10.5 s, with
    a card and a history row, and the real call lost its first half second.)"""
    shift, call = chat_then_call()
    end = 10.0 + len(call) / SAMPLE_RATE
    found = calls_of(run(shift, streams={10.5: True, end: False}))
    assert len(kept(found)) == 1, f"one call at 10.0-{end:.1f} s; found {found}"
    assert abs(kept(found)[0][0] - 10.0) <= 2.0, found


@needs_espeak
def test_a_busy_tone_after_the_caller_hung_up_is_not_part_of_the_call():
    """The caller hangs up; the agent's phone plays the busy tone (480 + 620 Hz, 0.5 s
    on / 0.5 s off) for 6 s until the agent hangs up too: the call ends where the caller
    left. (The beeps' 0.5 s gaps are shorter than dead_s, so the line counted as live until
    the tone stopped: the end came 5.5 s late, 7.5 s for an 8 s tone, the tone coached as
    dead air.)"""
    call = said(WHOLE)
    hangup = 3.0 + len(call) / SAMPLE_RATE
    shift = np.concatenate([silence(3.0), call, tone(6.0), silence(8.0)])
    found = calls_of(run(shift))
    assert len(found) == 1, found
    assert abs(found[0][1] - hangup) <= 2.0, f"the caller hung up at {hangup:.1f} s; found {found}"


@needs_espeak
def test_a_voicemail_played_back_between_calls_is_not_a_call():
    """Between calls the agent plays a customer's voicemail through the headset (the
    call output): 14 s of a caller's voice and nothing from the agent. It is no call (it
    was kept: a card, a record and a history row for a "call" where the agent said
    nothing, counted in the agent's trends); a real call on two channels has the agent
    speaking. But a call cut by a lost device (or quitting) before the agent spoke is
    kept: its recording must not be thrown away."""
    message = ("Hi, this is Anna Jones, my account number is one two three four, my internet has been "
               "down since this morning, please call me back on five five five one two three four, thanks.")
    voicemail = said([("customer", message, CALLER_VOICE, 0.3)])
    shift = np.concatenate([silence(3.0), voicemail, silence(15.0)])
    changes = run(shift)
    found = calls_of(changes)
    assert kept(found) == [], found
    assert [c.why for c in changes if c.kind == "end"] == ["you said nothing"], changes
    from voicecoach.sinks.view import not_a_call

    assert "check your mic" in not_a_call({"why": "you said nothing"})

    det = CallDetector()                                        # the caller talking when the device went
    half = int((3.0 + 7.0) * SAMPLE_RATE) // BLOCK * BLOCK
    feed(det, shift[:half, 0], shift[:half, 1])
    (end,) = det.finish("device lost")
    assert end.keep and end.why == "", end


@needs_espeak
def test_a_3_s_dropout_while_the_softphones_stream_plays_is_one_call():
    """On PulseAudio the softphone's playback stream stays on the call output for the
    whole call. Mid-call the caller's audio drops out for 3 s (a burst of packet loss,
    a mobile caller's handover, or the PBX re-bridging a transfer: the softphone plays
    digital silence): one call, as the stream says. (The hang-up rule ended it there, and
    the caller's "sorry, you cut out" started a second: 3.3-19.2 s and 22.2-32.1 s.)"""
    first = said(WHOLE[:2] + [("agent", "I am sorry about that, let me check your line.", AGENT_VOICE, 0.5),
                              ("customer", "It happened again last night during a video call.",
                               CALLER_VOICE, 0.5)], tail_s=0.3)
    second = said([("customer", "Sorry, you cut out, what did you say?", CALLER_VOICE, 0.3),
                   ("agent", "No problem, I said I will reset your line now.", AGENT_VOICE, 0.5),
                   ("customer", "Great, thanks, bye.", CALLER_VOICE, 0.5)], seed=1)
    shift = np.concatenate([silence(3.0), first, silence(3.0), second, silence(5.0)])
    end = len(shift) / SAMPLE_RATE - 5.0
    found = calls_of(run(shift, streams={3.3: True, end: False}))
    assert len(found) == 1, f"one call at 3.0-{end:.1f} s with its stream playing throughout; found {found}"


@needs_espeak
def test_a_caller_quiet_for_14_s_while_the_softphones_stream_plays_is_one_call():
    """The card-number wait on PulseAudio, on a line that is digital silence between
    words (no noise floor): the softphone's stream is on the call output from the
    first second to the hang-up: one call. (12 s without speech ended it, "silence", and
    the caller's "okay, I have it now" started another: 3.2-18.5 s and 32.8-42.4 s.)"""
    call = np.concatenate([said(OPENING, noise_dbfs=-300.0), silence(14.0),
                           said(CLOSE, noise_dbfs=-300.0, seed=1)])
    shift = np.concatenate([silence(3.0), call, silence(5.0)])
    end = 3.0 + len(call) / SAMPLE_RATE
    found = calls_of(run(shift, streams={3.2: True, end: False}))
    assert len(found) == 1, f"one call at 3.0-{end:.1f} s with its stream playing throughout; found {found}"


# --- a review of holds and the desk's day: words as speech-to-text gives them ---
WORDS_LAG_S = 1.0                            # speech-to-text gives a turn's words this long after it


def said_with_words(turns, noise_dbfs: float = -65.0, seed: int = 0):
    """A scripted stretch of call (L = agent, R = caller) and its utterances (call clock)."""
    from tools.callgen import Turn, render_call

    call = render_call([Turn(*t) for t in turns], tail_s=0.5, noise_dbfs=noise_dbfs, seed=seed)
    return call.audio, call.truth["utterances"]


def words_of(utterances, offset: float) -> list[tuple[float, list[tuple[str, float]]]]:
    """The agent's words as speech-to-text commits them: each turn's words (spread over its
    span, each dated by its end on the shift clock), arriving WORDS_LAG_S after the turn."""
    out = []
    for u in utterances:
        if u["channel"] != "agent":
            continue
        ws = u["text"].split()
        step = (u["end"] - u["start"]) / len(ws)
        out.append((offset + u["end"] + WORDS_LAG_S,
                    [(w, offset + u["start"] + (i + 1) * step) for i, w in enumerate(ws)]))
    return out


def run_with_words(shift: np.ndarray, words=()) -> list:
    """Feed a two-channel shift to a fresh detector in 20 ms blocks, as the shift does, and
    tell it the open call's agent words after each block as ``Shift._agent_words`` does:
    ``words_t`` where the latest ends (the call's start before the first), ``hold_at`` from
    the call's own coach's :class:`HoldWatch` (a new one for each call)."""
    det = CallDetector()
    pending = sorted(words)
    got: list = []
    hold, latest = HoldWatch(), None
    for i in range(0, len(shift), BLOCK):
        t = i / SAMPLE_RATE
        while pending and pending[0][0] <= t:
            for w, end in pending.pop(0)[1]:
                hold.feed(w, end)
                latest = end
        changes = det.feed("agent", t, shift[i:i + BLOCK, 0]) + det.feed("customer", t, shift[i:i + BLOCK, 1])
        for c in changes:
            if c.kind == "start":                     # a new call: a new session, a new coach
                hold, latest = HoldWatch(), None
        got += changes
        if det.in_call:
            det.words_t = det.call_start if latest is None or latest < det.call_start else latest
            det.hold_at = hold.asked_at
    return got + det.finish()


GREETING = ("agent", "Thank you for calling, this is Sam, how can I help you today?", AGENT_VOICE, 0.5)
NEXT_CALL = [GREETING,
             ("customer", "Hello, my internet keeps dropping every evening.", CALLER_VOICE, 0.5),
             ("agent", "I am sorry about that, I have reset your line, anything else?", AGENT_VOICE, 0.5),
             ("customer", "No, that is all, thanks, bye.", CALLER_VOICE, 0.5)]


def two_calls(first_turns, gap_s: float = 30.0, noise_dbfs: float = -65.0):
    """``first_turns`` then, ``gap_s`` after its line went dead, the next call: the shift,
    the agent's words as they arrive, and (start, end) of each call on the shift clock."""
    first, u1 = said_with_words(first_turns, noise_dbfs)
    second, u2 = said_with_words(NEXT_CALL, noise_dbfs, seed=1)
    t1 = 3.0
    e1 = t1 + len(first) / SAMPLE_RATE
    t2 = e1 + gap_s
    e2 = t2 + len(second) / SAMPLE_RATE
    shift = np.concatenate([silence(t1), first, silence(gap_s), second, silence(5.0)])
    return shift, words_of(u1, t1) + words_of(u2, t2), [(t1, e1), (t2, e2)]



@needs_espeak
def test_a_closing_that_says_in_a_minute_is_no_hold_and_the_next_call_is_its_own():
    """The agent closes: "I have sent it to you by text, it should arrive in a minute. Is
    there anything else?"; the caller says "No, that is all, thanks, bye." and hangs up
    (the line goes dead, as on any hang-up). "in a minute." is no request to wait: taken
    as one (a first version did), the dead line was a hold and the next call, 30 s later,
    was coached as the rest of this one: one 66 s call, two callers on one card."""
    first = [GREETING,
             ("customer", "Hi, I need the link to pay my bill.", CALLER_VOICE, 0.5),
             ("agent", "Sure, I have sent it to you by text, it should arrive in a minute. Is there anything "
                       "else?", AGENT_VOICE, 0.5),
             ("customer", "No, that is all, thanks, bye.", CALLER_VOICE, 0.5)]
    shift, words, truth = two_calls(first)
    found = calls_of(run_with_words(shift, words))
    assert len(found) == 2, f"two calls at {truth}; found {found}"
    assert abs(found[0][1] - truth[0][1]) <= 2.0, found


@needs_espeak
def test_a_transfer_after_please_hold_is_not_a_hold_over_the_next_call():
    """A cold transfer: "Please hold while I transfer you to billing." The caller's leg
    leaves the agent's softphone, the line goes dead and stays dead until the next call
    rings in 30 s later. A transfer ends the hold it asked for: taken as a hold (a first
    version did), the next caller's call was coached as the rest of the transferred one
    (one call, 3-69 s, instead of two)."""
    first = [GREETING,
             ("customer", "Hi, I have a question about a charge on my bill.", CALLER_VOICE, 0.5),
             ("agent", "Billing can sort that out for you. Please hold while I transfer you to billing.",
              AGENT_VOICE, 0.5),
             ("customer", "Okay, thanks.", CALLER_VOICE, 0.5)]
    shift, words, truth = two_calls(first)
    found = calls_of(run_with_words(shift, words))
    assert len(found) == 2, f"two calls at {truth}; found {found}"



@needs_espeak
def test_a_dropout_of_the_callers_line_while_the_agent_talks_does_not_split_the_call():
    """On a line with a noise floor and no playback stream to watch (ALSA, a USB line
    input), the caller's audio drops out for 3 s (packet loss) while the agent is half way
    through a 10 s explanation: the hang-up waits while the agent speaks, and the line
    comes back: one call. (A first version noted the 3 s of nothing as a hang-up when the
    line came back, whatever had made the rule wait, and cut the call there: 3.0-17.1 s
    and 19.4-28.8 s.)"""
    call, utts = said_with_words([GREETING,
                       ("customer", "Hi, my internet keeps dropping every evening.", CALLER_VOICE, 0.5),
                       ("agent", "I am sorry about that. I will walk you through it: first unplug the router "
                                 "from the wall, wait thirty seconds, then plug it back in and wait for the "
                                 "lights to turn green.", AGENT_VOICE, 0.5),
                       ("customer", "Okay, I will do that now, thanks, bye.", CALLER_VOICE, 0.5),
                       ("agent", "Bye now.", AGENT_VOICE, 0.3)])
    explain = utts[2]
    assert explain["channel"] == "agent" and explain["end"] - explain["start"] > 8.0
    drop = explain["start"] + 2.0
    call = call.copy()
    call[int(drop * SAMPLE_RATE):int((drop + 3.0) * SAMPLE_RATE), 1] = 0.0    # the caller's side: nothing
    shift = np.concatenate([silence(3.0), call, silence(5.0)])
    found = calls_of(run_with_words(shift))
    end = 3.0 + len(call) / SAMPLE_RATE
    assert len(found) == 1, f"one call at 3.0-{end:.1f} s (dropout at {3.0 + drop:.1f} s); found {found}"


@needs_espeak
def test_back_to_back_calls_on_a_line_whose_hiss_never_stops_are_two_calls():
    """The call audio is a line input (a desk phone through a USB adapter): its hiss, at
    -60 dBFS, is there all shift long, between calls too, so the line never goes dead and
    calls end on silence (12 s): two calls 40 s apart are two. A floor that never went
    away says nothing about this call being up (a first version took it so, waited
    connected_silence_s, and coached the next call as the rest of the first)."""
    turns = NEXT_CALL + [("agent", "Bye now.", AGENT_VOICE, 0.3)]
    first, _ = said_with_words(turns, noise_dbfs=-300.0)
    second, _ = said_with_words(turns, noise_dbfs=-300.0, seed=1)
    gap = 40.0
    shift = np.concatenate([silence(3.0), first, silence(gap), second, silence(15.0)])
    shift[:, 1] += np.random.default_rng(5).normal(0.0, 10 ** (-60 / 20), len(shift)).astype(np.float32)
    found = calls_of(run_with_words(shift))
    e1 = 3.0 + len(first) / SAMPLE_RATE
    assert len(found) == 2, f"two calls, the first ending at {e1:.1f} s, the next from {e1 + gap:.1f} s; found {found}"


def paused_shift(det, audio, pause_at, resume_at, call_cut=True):
    """``audio`` fed to ``det`` with coaching paused from ``pause_at`` to ``resume_at`` (s),
    as the shift does: the pause ends the open call, and the detector hears the paused
    stretch without deciding on it."""
    a, b = int(pause_at * SAMPLE_RATE), int(resume_at * SAMPLE_RATE)
    got = feed(det, audio[:a, 0], audio[:a, 1])
    got += det.by_hand() if det.in_call else []
    feed(det, audio[a:b, 0], audio[a:b, 1], t0=pause_at, decide=False)
    det.resume(call_cut)
    return got + feed(det, audio[b:, 0], audio[b:, 1], t0=resume_at) + det.finish()


@needs_espeak
def test_a_call_paused_and_resumed_goes_on_as_the_rest_of_it(calls):
    """Coaching paused mid-call (to take a card number, say) and resumed while the caller
    talks on: the rest is the same call going on ("resumed"), which the shift, the card and
    the history treat as such. Before, it started as a new call ("speech"), whose card then
    asked for the greeting said before the pause."""
    floor, _, _ = calls
    audio = np.concatenate([silence(3.0), floor, silence(5.0)])
    got = paused_shift(CallDetector(), audio, 10.0, 14.0)
    assert [(c.kind, c.reason) for c in got] == [("start", "line"), ("end", "hand"),
                                                 ("start", "resumed"), ("end", "hangup")]
    assert 14.0 <= got[2].t < 14.0 + ShiftOptions().end_silence_s and got[3].keep
    # paused between calls: what comes after the resume is a call as any other
    got = paused_shift(CallDetector(), audio, 1.0, 2.0, call_cut=False)
    assert [(c.kind, c.reason) for c in got] == [("start", "line"), ("end", "hangup")]


@needs_espeak
def test_a_call_that_rang_while_coaching_was_paused_is_a_new_call(calls):
    """The paused call hung up and the next one rang during the pause (the line came alive
    after nothing): the call after the resume is that new call, not the paused one going on."""
    floor, _, _ = calls
    n = len(floor) / SAMPLE_RATE
    audio = np.concatenate([silence(3.0), floor, silence(5.0), floor, silence(5.0)])
    resume_at = 3.0 + n + 5.0 + 4.0                      # 4 s into the second call
    got = paused_shift(CallDetector(), audio, 10.0, resume_at)
    assert [(c.kind, c.reason) for c in got] == [("start", "line"), ("end", "hand"),
                                                 ("start", "speech"), ("end", "hangup")]


@needs_espeak
def test_a_pause_in_the_talk_after_resuming_on_a_line_with_no_floor_is_the_same_call(calls):
    """Coaching paused mid-call on a line that carries no floor (nothing between words),
    resumed while both sides wait a few seconds (the caller restarting the router), and the
    caller talks on: the rest is the same call going on ("resumed"), as the same quiet
    stretch does not split an unpaused call. The line coming alive after those seconds of
    nothing was taken for a new call that rang, so its card asked for the greeting again
    (seen with `live --replay demo`, paused at 25 s, resumed at 43 s)."""
    _, bare, _ = calls
    half = len(bare) // 2
    half_s = half / SAMPLE_RATE
    audio = np.concatenate([silence(2.0), bare[:half], silence(4.0), bare[half:], silence(20.0)])
    got = paused_shift(CallDetector(), audio, 2.0 + half_s - 3.0, 2.0 + half_s + 1.0)
    assert [(c.kind, c.reason) for c in got][:3] == [("start", "line"), ("end", "hand"),
                                                     ("start", "resumed")], got
    assert len(got) == 4 and got[3].keep, got
