"""Echo cancellation of the call audio (voicecoach.sources.echo), on arrays.

Speech-like test signals: band-limited noise shaped by a syllable-rate envelope,
so the canceller sees what it sees in calls (bursts and pauses), with known truth.
"""
import numpy as np
import pytest
from scipy import signal

from voicecoach.analyze import demo_call_path
from voicecoach.events import SAMPLE_RATE as SR
from voicecoach.sources.audio import load_call
from voicecoach.sources.echo import EchoCanceller, EchoOptions


def speechlike(seconds: float, seed: int, on: list[tuple[float, float]] | None = None) -> np.ndarray:
    """Band-limited noise with 4 Hz syllable bursts, nonzero only inside ``on`` spans (s)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    x = signal.lfilter(*signal.butter(4, [200 / (SR / 2), 3400 / (SR / 2)], "band"), rng.normal(0, 1, n))
    t = np.arange(n) / SR
    env = 0.55 + 0.45 * np.sin(2 * np.pi * (4 + seed % 3) * t + seed)
    gate = np.zeros(n)
    for a, b in on or [(0, seconds)]:
        gate[int(a * SR):int(b * SR)] = 1
    x = x * env * gate
    return (0.1 * x / np.sqrt(np.mean(x[gate > 0] ** 2))).astype(np.float32)


def line_echo(agent: np.ndarray, level_db: float, delay_s: float, seed: int = 0) -> np.ndarray:
    """The agent as heard back in the call audio: delayed, a short decaying impulse
    response, ``level_db`` below the agent."""
    rng = np.random.default_rng(seed)
    h = np.zeros(int(0.02 * SR))
    h[0] = 1
    h[1:] = rng.normal(0, 0.3, len(h) - 1) * np.exp(-np.arange(1, len(h)) / (0.004 * SR))
    h *= 10 ** (level_db / 20) / np.sqrt(np.sum(h ** 2))
    d = int(delay_s * SR)
    return np.concatenate([np.zeros(d), signal.lfilter(h, 1, agent)[:len(agent) - d]]).astype(np.float32)


def run(agent, customer, block_s=0.02, options=None):
    """Feed both channels in blocks (agent first, as the sources do); the cleaned call audio."""
    ec = EchoCanceller(options)
    out, b = [], int(block_s * SR)
    for i in range(0, len(agent), b):
        ec.reference(agent[i:i + b])
        start, clean = ec.process(customer[i:i + b])
        assert start == sum(len(c) for c in out)       # contiguous, on the call clock
        out.append(clean)
    out.append(ec.process(np.zeros(0, np.float32), final=True)[1])
    return np.concatenate(out)


def db(x):
    return 10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2) + 1e-20)


@pytest.fixture(scope="module")
def demo_agent():
    """The demo call's agent: 40 s of a voice with its pauses."""
    return load_call(demo_call_path()).agent[:40 * SR]


@pytest.mark.parametrize("level_db,delay_s", [(-20, 0.18), (-30, 0.18), (-20, 0.45), (-25, 0.0)])
def test_the_agents_echo_is_taken_out(demo_agent, level_db, delay_s):
    echo = line_echo(demo_agent, level_db, delay_s)
    clean = run(demo_agent, echo)
    assert len(clean) == len(echo)
    speech = slice(3 * SR, 40 * SR)          # after the first words
    assert db(clean[speech]) < db(echo[speech]) - 20, (db(echo[speech]), db(clean[speech]))


def test_echo_of_continuous_talk_is_reduced():
    """Noise-like talk with no pauses is the hardest case for the suppressor."""
    agent = speechlike(12, 1)
    echo = line_echo(agent, -20, 0.18)
    late = slice(2 * SR, 12 * SR)
    assert db(run(agent, echo)[late]) < db(echo[late]) - 8


def test_the_caller_survives_double_talk():
    """Both talk at once (an interruption): the caller must stay at their level."""
    agent = speechlike(16, 1)
    caller = speechlike(16, 2, on=[(6, 8), (11, 13.5)])
    clean = run(agent, caller + line_echo(agent, -20, 0.18))
    for a, b in [(6, 8), (11, 13.5)]:
        span = slice(int((a + 0.2) * SR), int((b - 0.2) * SR))
        assert abs(db(clean[span]) - db(caller[span])) < 3.0
        # and it is the caller's signal, time-aligned (AEC3's latency taken out)
        r = np.corrcoef(clean[span], caller[span])[0, 1]
        assert r > 0.8, r


def test_a_clean_call_passes_through():
    agent = speechlike(8, 1, on=[(0, 3)])
    caller = speechlike(8, 2, on=[(4, 7)])
    clean = run(agent, caller)
    span = slice(int(4.2 * SR), int(6.8 * SR))
    assert abs(db(clean[span]) - db(caller[span])) < 1.0
    assert np.corrcoef(clean[span], caller[span])[0, 1] > 0.95


def test_block_size_does_not_change_the_result():
    agent = speechlike(6, 1)
    customer = speechlike(6, 2, on=[(2, 4)]) + line_echo(agent, -20, 0.1)
    assert np.array_equal(run(agent, customer, 0.02), run(agent, customer, 10.0))
    assert np.array_equal(run(agent, customer, 0.02), run(agent, customer, 0.0173))


def test_call_audio_waits_for_its_reference_but_not_for_ever():
    ec = EchoCanceller(EchoOptions(max_wait_s=0.5))
    start, clean = ec.process(np.zeros(SR // 5, np.float32))     # 0.2 s ahead of the agent
    assert len(clean) == 0
    ec.reference(np.zeros(SR // 10, np.float32))
    start, clean = ec.process(np.zeros(0, np.float32))
    assert start == 0 and 0 < len(clean) <= SR // 10
    start, clean = ec.process(np.zeros(SR, np.float32))          # now 1.1 s ahead: overdue
    assert start + len(clean) >= int(1.2 * SR) - int(0.5 * SR) - 160 - 128


def test_feed_block_on_a_second_thread_is_feeding_each_channel_in_turn():
    """``analyze`` cancels the echo on a second thread while the agent's block is
    analysed (Engine.feed_block): the same heard audio and events as feeding the
    channels one after the other."""
    from concurrent.futures import ThreadPoolExecutor

    from voicecoach.engine import Engine

    call = load_call(demo_call_path())
    agent = call.agent[:25 * SR]
    customer = call.customer[:25 * SR] + line_echo(agent, -20.0, 0.12)
    block = SR
    one_by_one, side_by_side = Engine(), Engine()
    heard = {id(one_by_one): [], id(side_by_side): []}
    with ThreadPoolExecutor(max_workers=1) as thread:
        for i in range(0, len(agent), block):
            part = {"agent": agent[i:i + block], "customer": customer[i:i + block]}
            for ch in ("agent", "customer"):
                one_by_one.feed(ch, i / SR, part[ch])
            side_by_side.feed_block(i / SR, part, thread)
            for engine in (one_by_one, side_by_side):
                heard[id(engine)] += engine.take_heard("customer")
    for engine in (one_by_one, side_by_side):
        engine.finish_audio()
        heard[id(engine)] += engine.take_heard("customer")
    a, b = ([np.concatenate([x for _, x in heard[id(e)]]) for e in (one_by_one, side_by_side)])
    assert len(a) == len(customer) and np.array_equal(a, b)
    assert len(one_by_one.vad["customer"].segments) >= 2
    assert [(s.start, s.end) for s in one_by_one.vad["customer"].segments] == \
        [(s.start, s.end) for s in side_by_side.vad["customer"].segments]
    assert [(e.kind, e.t, e.channel) for e in one_by_one.events] == \
        [(e.kind, e.t, e.channel) for e in side_by_side.events]


QUIET = 10 ** (-30 / 20)      # a call recorded 30 dB low: peaks near -40 dBFS


def test_a_quiet_calls_caller_survives_double_talk(demo_agent):
    """AEC3's thresholds are absolute: a call recorded 30 dB low must keep its caller
    through double talk as a loud one does (the old canceller cut it 3-9 dB)."""
    agent = demo_agent[:16 * SR] * QUIET
    caller = speechlike(16, 2, on=[(6, 8), (11, 13.5)]) * QUIET
    clean = run(agent, caller + line_echo(agent, -20, 0.18))
    for a, b in [(6, 8), (11, 13.5)]:
        span = slice(int((a + 0.2) * SR), int((b - 0.2) * SR))
        assert abs(db(clean[span]) - db(caller[span])) < 1.5, (a, db(clean[span]) - db(caller[span]))
        assert np.corrcoef(clean[span], caller[span])[0, 1] > 0.9


def test_a_quiet_calls_echo_is_taken_out(demo_agent):
    agent = demo_agent * QUIET
    echo = line_echo(agent, -20, 0.18)
    speech = slice(3 * SR, 40 * SR)
    assert db(run(agent, echo)[speech]) < db(echo[speech]) - 20


def test_no_boost_for_a_call_at_an_ordinary_level_nor_past_the_headroom():
    """The common gain before AEC3 is 1 while the call is loud enough, and never lifts
    a sample of a quiet stretch past -6 dBFS when loud speech arrives."""
    ec = EchoCanceller()
    loud = speechlike(4, 1)                                   # -20 dBFS RMS
    ec.reference(loud)
    ec.process(loud * 0.1)
    assert ec._gain == 1.0
    quiet = speechlike(20, 3) * 0.02                          # -54 dBFS for 20 s: boosted
    ec.reference(quiet)
    ec.process(quiet * 0.5)
    assert ec._gain > 10
    silent = EchoCanceller()                                  # digital silence (-90 dBFS): not lifted
    noise = (np.random.default_rng(4).standard_normal(10 * SR) * 3e-5).astype(np.float32)
    silent.reference(noise)
    silent.process(noise)
    assert silent._gain == 1.0
    burst = np.zeros(SR // 10, np.float32)
    burst[800] = 0.9                                          # a click near full scale
    gain = ec._boost(burst, burst * 0)
    assert gain[0] > 10 and gain[800] == 1.0


def test_a_call_at_an_ordinary_level_is_cancelled_bit_for_bit_as_without_the_boost(demo_agent, monkeypatch):
    """The boost is for quiet calls only: a caller whose words Whisper hears one way must not
    be heard another way because the gain moved by a fraction of a dB."""
    agent = demo_agent[:20 * SR]
    caller = speechlike(20, 2, on=[(0.3, 3), (8, 10)])
    caller[:int(0.3 * SR)] = speechlike(0.3, 5) * 0.05           # a soft first syllable (-46 dBFS)
    call = caller + line_echo(agent, -25, 0.18)
    with_boost = run(agent, call)
    monkeypatch.setattr("voicecoach.sources.echo.MAX_GAIN", 1.0)
    assert np.array_equal(with_boost, run(agent, call))
