"""The voice activity level gate: the headset's wearer, not the room (real Silero VAD,
the demo call's voices)."""
import numpy as np
import pytest

from voicecoach.analyze import demo_call_path
from voicecoach.analyzers.vad import VadOptions, VoiceActivity
from voicecoach.events import SAMPLE_RATE as SR
from voicecoach.sources.audio import load_call


@pytest.fixture(scope="module")
def call():
    return load_call(demo_call_path())


def speech_level_db(x):
    x = x[np.abs(x) > 1e-3]
    return 10 * np.log10(np.mean(x.astype(np.float64) ** 2))


def segments(x, options=None, block_s=0.02):
    va = VoiceActivity(options)
    b = int(block_s * SR)
    out = []
    for i in range(0, len(x), b):
        out += va.feed(x[i:i + b])
    return out + va.flush()


def talk_s(segs):
    return sum(s.duration for s in segs)


def covered(segs, a, b):
    """Seconds of [a, b) inside the segments."""
    return sum(max(0.0, min(b, s.end) - max(a, s.start)) for s in segs)


def test_a_colleague_25_db_down_is_not_the_agent(call):
    """Another voice in the mic, 25 dB below the agent, while the agent listens."""
    agent = call.agent
    colleague = np.roll(call.customer, 17 * SR)          # other words, other times
    colleague *= 10 ** ((speech_level_db(agent) - speech_level_db(colleague) - 25) / 20)
    mic = (agent + colleague).astype(np.float32)
    clean = segments(agent)
    gated = segments(mic)
    ungated = segments(mic, VadOptions(level_gate_db=0))
    assert talk_s(ungated) > talk_s(clean) * 1.1          # Silero alone hears the colleague
    assert abs(talk_s(gated) - talk_s(clean)) < 0.05 * talk_s(clean)


@pytest.mark.parametrize("gain_db", [-18, +6])
def test_a_quiet_or_loud_mic_is_heard_in_full(call, gain_db):
    agent = call.agent
    scaled = (agent * 10 ** (gain_db / 20)).astype(np.float32)
    assert abs(talk_s(segments(scaled)) - talk_s(segments(agent))) < 0.03 * talk_s(segments(agent))


def test_a_soft_passage_after_loud_speech_is_still_speech(call):
    """The agent drops their voice by 12 dB for 15 s: still talking (a little of the
    softest word ends may go while the running level follows them down)."""
    agent = call.agent.copy()
    soft = slice(30 * SR, 45 * SR)
    reference = segments(agent)
    agent[soft] *= 10 ** (-12 / 20)
    assert covered(reference, 30, 45) - covered(segments(agent), 30, 45) < 0.5


def test_the_gate_does_not_depend_on_block_size(call):
    x = call.agent[:30 * SR]
    a = [(s.start, s.end) for s in segments(x, block_s=0.02)]
    b = [(s.start, s.end) for s in segments(x, block_s=10.0)]
    assert a == b


def test_silence_below_the_floor_is_never_speech():
    va = VoiceActivity()
    assert va.feed(np.full(SR, 1e-5, np.float32)) + va.flush() == []


def fan(n, level_db, seed=0):
    """Low-pass noise (a fan) at ``level_db`` re full scale."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(0, 1, n))
    x -= np.convolve(x, np.ones(400) / 400, mode="same")          # keep it from drifting
    return (x * 10 ** (level_db / 20) / np.sqrt(np.mean(x ** 2))).astype(np.float32)


def test_noise_does_not_stretch_the_ends_of_speech(call):
    """In a noisy room the model's hangover keeps a segment going after the voice
    stops; a window far below the segment's loudest does not (a 0.9 s "mm-hm" must
    not read as 1.1 s and become an interruption)."""
    agent = call.agent[:40 * SR]
    noisy = agent + fan(len(agent), speech_level_db(agent) - 25)   # a fan, 25 dB down
    clean = segments(agent)
    trimmed = segments(noisy)
    untrimmed = segments(noisy, VadOptions(tail_db=0))
    assert talk_s(untrimmed) > talk_s(clean) * 1.02                  # +3 % without the rule
    assert abs(talk_s(trimmed) - talk_s(clean)) < 0.01 * talk_s(clean), (talk_s(clean), talk_s(trimmed))
