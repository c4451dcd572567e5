"""Turn-taking on known speech timings (VAD probabilities made from spans), and on
generated speech through the real Silero VAD."""
import shutil

import numpy as np
import pytest

from voicecoach.analyzers.turns import TurnOptions, TurnTaking
from voicecoach.analyzers.vad import WINDOW_S, VoiceActivity


def probs_from_spans(spans, duration_s):
    n = int(round(duration_s / WINDOW_S))
    t = np.arange(n) * WINDOW_S
    p = np.zeros(n, np.float32)
    for s, e in spans:
        p[(t >= s) & (t < e)] = 0.95
    return p


def run(agent_spans, customer_spans, duration_s=30.0, block_windows=1, options=None):
    a, c = VoiceActivity(), VoiceActivity()
    tt = TurnTaking(a, c, options)
    pa, pc = probs_from_spans(agent_spans, duration_s), probs_from_spans(customer_spans, duration_s)
    events = []
    for i in range(0, len(pa), block_windows):
        a.step_probs(pa[i:i + block_windows])
        events += tt.update()        # as the engine does: after each channel's block
        c.step_probs(pc[i:i + block_windows])
        events += tt.update()
    events += tt.finish()
    return tt, events


def kinds(events):
    return [(e.kind, e.channel) for e in events if e.kind != "dead_air"]


def test_agent_cutting_in_is_an_interruption():
    tt, ev = run([(4.0, 7.0)], [(0.0, 5.5)])
    assert kinds(ev) == [("interruption", "agent")]
    (i,) = tt.summary()["interruptions"]
    assert i["start"] == pytest.approx(4.0, abs=0.07)
    assert i["end"] == pytest.approx(5.5, abs=0.07)


def test_interruption_is_decided_as_soon_as_it_is_clear():
    tt, ev = run([(4.0, 9.0)], [(0.0, 8.0)])
    (e,) = [e for e in ev if e.kind == "interruption"]
    assert e.data["decided_t"] == pytest.approx(5.0, abs=0.05)


def test_short_acknowledgement_is_a_backchannel():
    tt, ev = run([(3.0, 3.4)], [(0.0, 6.0)])
    assert kinds(ev) == [("backchannel", "agent")]
    assert tt.summary()["interruptions"] == []


def test_long_acknowledgement_over_the_caller_is_still_a_backchannel():
    tt, ev = run([(3.0, 3.9)], [(0.0, 6.0)])
    assert kinds(ev) == [("backchannel", "agent")]


def test_acknowledgement_in_a_short_pause_of_the_caller_is_a_backchannel():
    """The agent starts in a short pause of the caller (shorter than a segment
    break): the caller's turn is still going on, so it covers the onset."""
    a, c = VoiceActivity(), VoiceActivity()
    tt = TurnTaking(a, c)
    pa = probs_from_spans([(3.0, 3.6)], 8.0)
    pc = probs_from_spans([(0.0, 6.0)], 8.0)
    t = np.arange(len(pc)) * WINDOW_S
    pc[(t >= 2.9) & (t < 3.05)] = 0.0          # a comma: too short to end the segment
    events = []
    for i in range(len(pa)):
        a.step_probs(pa[i:i + 1])
        events += tt.update()
        c.step_probs(pc[i:i + 1])
        events += tt.update()
    events += tt.finish()
    assert kinds(events) == [("backchannel", "agent")]


def test_fast_turn_change_is_a_near_miss():
    tt, ev = run([(4.8, 9.0)], [(0.0, 5.0)])
    assert kinds(ev) == [("near_miss", "agent")]
    assert tt.summary()["interruptions"] == []


def test_starting_together_is_not_an_interruption():
    tt, ev = run([(2.0, 6.0)], [(2.1, 5.0)])
    assert kinds(ev) == []


def test_customer_interruptions_are_counted_separately():
    tt, ev = run([(0.0, 6.0)], [(3.0, 8.0)])
    assert kinds(ev) == [("interruption", "customer")]
    assert tt.state()["interruptions"] == {"agent": 0, "customer": 1}


def test_result_does_not_depend_on_block_size():
    spans_a = [(1.0, 3.0), (5.0, 5.4), (8.8, 12.0), (14.0, 18.0)]
    spans_c = [(3.3, 9.0), (12.3, 16.0)]
    one = run(spans_a, spans_c, block_windows=1)[0].summary()
    big = run(spans_a, spans_c, block_windows=500)[0].summary()
    assert one == big
    assert [i["start"] for i in one["backchannels"]] == pytest.approx([5.0], abs=0.07)
    assert [i["by"] for i in one["near_misses"]] == ["agent"]
    assert [i["by"] for i in one["interruptions"]] == ["agent"]


def test_talk_time_share_gaps_monologue_and_dead_air():
    tt, ev = run([(0.0, 10.0), (18.0, 21.0)], [(10.5, 11.5), (11.6, 12.0)], duration_s=25)
    s = tt.summary()
    assert s["talk_time"]["agent"] == pytest.approx(13.0, abs=0.15)
    assert s["talk_time"]["customer"] == pytest.approx(1.5, abs=0.1)
    assert s["talk_share"]["agent"] == pytest.approx(13 / 14.5, abs=0.01)
    assert s["dead_air"] == [{"start": pytest.approx(12.0, abs=0.1), "end": pytest.approx(18.0, abs=0.1)}]
    assert s["response_gaps"] == [pytest.approx(6.0, abs=0.1)]
    assert s["longest_agent_monologue"] == pytest.approx(10.0, abs=0.1)
    assert [e.kind for e in ev].count("dead_air") == 1


def test_a_monologue_goes_on_through_acknowledgements_but_not_through_a_short_reply():
    """ "Mm-hm" while the agent talks is listening; "Yes, it is." in the agent's pause is
    the caller's turn, however short (the demo call's 16 s "monologue" held two)."""
    tt, _ = run([(0.0, 5.0), (5.8, 9.0), (9.6, 12.0)], [(2.0, 2.4), (5.1, 5.6)], duration_s=15)
    s = tt.summary()
    assert [b["by"] for b in s["backchannels"]] == ["customer"]
    assert s["longest_agent_monologue"] == pytest.approx(6.2, abs=0.1)      # 5.8-12 s, after the reply
    tt, _ = run([(0.0, 5.0), (5.8, 9.0), (9.6, 12.0)], [(2.0, 2.4), (7.0, 7.4)], duration_s=15)
    assert tt.summary()["longest_agent_monologue"] == pytest.approx(12.0, abs=0.1)   # pauses, no reply


def test_thresholds_come_from_options():
    strict = TurnOptions(backchannel_max_s=0.3)
    tt, ev = run([(3.0, 3.9)], [(0.0, 6.0)], options=strict)
    assert kinds(ev) == [("interruption", "agent")]


# -- the real Silero VAD on generated speech -------------------------------------------------
@pytest.fixture(scope="module")
def spoken_call():
    """espeak-ng voices: the agent's "mm-hm" inside the caller's turn, then the agent
    talking over the end of it, then the caller's late reply."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (Debian: apt install espeak-ng)")
    from tools.callgen import Turn, render_call

    return render_call([
        Turn("agent", "Thank you for calling, how can I help you today?", "espeak-us-f", gap_s=0.3),
        Turn("customer", "My internet keeps dropping every evening and the router lights blink "
                         "orange and I have already restarted it three times this week.", "espeak-gb-m",
             gap_s=0.6),
        Turn("agent", "Mm-hm.", "espeak-us-f", overlap_s=4.0, label="backchannel"),
        Turn("agent", "Okay, first I will need to flush your DNS cache and then restart the router.",
             "espeak-us-f", overlap_s=1.5, label="interruption"),
        Turn("customer", "Alright, thank you.", "espeak-gb-m", gap_s=0.8),
    ], tail_s=1.5)


def run_audio(audio, block_s):
    """The real voice activity (Silero through onnxruntime) of both channels, fed as the
    engine feeds it, into turn-taking."""
    agent, customer = VoiceActivity(), VoiceActivity()
    assert agent.model is not customer.model              # each channel keeps its own model state
    tt = TurnTaking(agent, customer)
    events = []
    block = int(round(block_s * 16000))
    for i in range(0, len(audio), block):
        agent.feed(audio[i:i + block, 0])
        events += tt.update()
        customer.feed(audio[i:i + block, 1])
        events += tt.update()
    events += tt.finish()
    agent.flush(), customer.flush()
    return tt, events, {"agent": agent, "customer": customer}


def test_real_vad_on_generated_speech_finds_the_interruption(spoken_call):
    truth = {e["kind"]: e for e in spoken_call.truth["events"]}
    results = {}
    for block_s in (0.02, 10.0):                          # live and analyze block sizes
        tt, events, vad = run_audio(spoken_call.audio, block_s)
        assert kinds(events) == [("backchannel", "agent"), ("interruption", "agent")], block_s
        s = results[block_s] = tt.summary()
        (i,) = s["interruptions"]
        assert i["by"] == "agent"
        assert i["start"] == pytest.approx(truth["interruption"]["start"], abs=0.15)
        assert i["end"] == pytest.approx(truth["interruption"]["end"], abs=0.15)   # the caller stops
        (b,) = s["backchannels"]
        assert b["start"] == pytest.approx(truth["backchannel"]["start"], abs=0.15)
        # each utterance starts and ends a segment (a pause inside it may split it)
        for u in spoken_call.truth["utterances"]:
            segments = vad[u["channel"]].segments
            assert min(abs(seg.start - u["start"]) for seg in segments) <= 0.1, (u, segments)
            assert min(abs(seg.end - u["end"]) for seg in segments) <= 0.15, (u, segments)
    assert results[0.02] == results[10.0]
