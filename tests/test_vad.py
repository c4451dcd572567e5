"""Voice activity segments on known speech probabilities: what turn-taking gets and what
speech-to-text gets."""
import numpy as np

from voicecoach.analyzers.vad import WINDOW_S, VadOptions, VoiceActivity


def probs(spans, duration_s):
    """Window probabilities: 0.95 inside the (start, end) spans (s), 0 elsewhere."""
    t = np.arange(int(round(duration_s / WINDOW_S))) * WINDOW_S
    p = np.zeros(len(t), np.float32)
    for s, e in spans:
        p[(t >= s) & (t < e)] = 0.95
    return p


def closed(spans, duration_s=6.0, options=None):
    va = VoiceActivity(options)
    returned = va.step_probs(probs(spans, duration_s)) + va.flush()
    return va, returned


def test_a_short_burst_is_not_a_turn_but_is_transcribed():
    """A 64 ms burst (a word's consonant on a phone line, where Silero's probability dips)
    is under min_speech_s: turn-taking drops it, speech-to-text keeps it."""
    va, returned = closed([(1.0, 2.5), (3.2, 3.264)])
    o = va.options
    assert len(va.segments) == 1 and va.segments[0].start < 1.03 and va.segments[0].end > 2.5
    assert returned == va.segments
    assert len(va.transcript_segments) == 2
    assert va.transcript_segments[0] == va.segments[0]
    burst = va.transcript_segments[1]
    assert burst.start < 3.2 and 3.264 < burst.end
    assert burst.duration < o.min_speech_s + o.speech_pad_s


def test_transcript_segments_never_overlap():
    """Two segments whose padding would overlap are cut at the first one's end, in both lists."""
    va, _ = closed([(1.0, 1.5), (1.73, 1.8), (1.99, 2.6)], options=VadOptions(speech_pad_s=0.1, min_speech_s=0.3))
    for segs in (va.segments, va.transcript_segments):
        assert all(a.end <= b.start for a, b in zip(segs, segs[1:]))
        assert all(s.duration > 0 for s in segs)
    assert len(va.transcript_segments) > len(va.segments)


def test_forget_keeps_the_latest_of_both_lists():
    va, _ = closed([(k * 1.0, k * 1.0 + 0.5) for k in range(8)] + [(8.6, 8.65)], duration_s=10.0)
    va.forget(keep=3)
    assert len(va.segments) == 3 and len(va.transcript_segments) == 3
    assert va.transcript_segments[-1].start > va.segments[-1].end


def test_noise_floor_percentile_is_numpys():
    """The VAD's fast percentile gives numpy's value on a ring filling up, NaNs and all."""
    from voicecoach.analyzers.vad import _nanpercentile

    rng = np.random.default_rng(3)
    levels = rng.normal(-55.0, 6.0, 312)
    for n in (1, 2, 7, 21, 100, 311, 312):
        ring = np.full(312, np.nan)
        ring[:n] = levels[:n]
        for q in (0, 5, 50, 97.5, 100):
            assert _nanpercentile(ring, q) == np.nanpercentile(ring, q)


def test_each_voice_activity_keeps_its_own_state_over_one_shared_model():
    """A shift's next call makes new voice activity on the engine thread: the model is read
    from disk once per process, and two channels fed in turn hear what each would alone."""
    from voicecoach.analyzers.vad import SileroVad
    from voicecoach.analyze import demo_call_path
    from voicecoach.sources.audio import load_call

    call = load_call(demo_call_path())
    a, b = call.agent[:20 * 16000], call.customer[:20 * 16000]
    alone = []
    for x in (a, b):
        va = VoiceActivity()
        alone.append(va.feed(x) + va.flush())
    together = [VoiceActivity(), VoiceActivity()]
    assert together[0].model._session is together[1].model._session is SileroVad()._session
    heard: list[list] = [[], []]
    for i in range(0, len(a), 320):                # 20 ms blocks, the channels in turn
        heard[0] += together[0].feed(a[i:i + 320])
        heard[1] += together[1].feed(b[i:i + 320])
    assert [h + va.flush() for h, va in zip(heard, together)] == alone
    assert alone[0] and alone[1]
