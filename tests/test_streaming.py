"""Streaming speech-to-text: the commit policy on a scripted model, then the real model.

The scripted model reads time from the audio itself: the tests feed "audio" whose
every sample holds its own call-clock time (s), so the model knows which stretch
of the call each buffer holds (context pieces included) and answers with the
scripted words inside it, optionally re-worded per call.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from tools.scoring import wer
from voicecoach.analyzers.vad import Segment, VoiceActivity
from voicecoach.events import SAMPLE_RATE, Word
from voicecoach.stt.offline import transcribe_channel
from voicecoach.stt.streaming import (
    StreamingOptions,
    StreamingTranscriber,
    normalize_word,
)
from voicecoach.stt.whisper import TranscribeOptions, load_model

BLOCK = 320  # 20 ms
DEMO = Path(__file__).resolve().parents[1] / "voicecoach" / "data" / "demo_call.flac"


# -- a scripted model ---------------------------------------------------------------
class ScriptedModel:
    """Answers each decode with the scripted words whose span lies in the buffer.

    ``script`` is a list of ``(start_s, end_s, text)`` on the call clock;
    ``reword(call, words)`` may change the answer of the ``call``-th decode.
    """

    def __init__(self, script, reword=None):
        self.script = script
        self.reword = reword
        self.calls: list[np.ndarray] = []   # the call-clock times each decode saw

    def transcribe(self, audio, **kwargs):
        clock = np.asarray(audio, np.float64)
        self.calls.append(clock)
        words = []
        for start, end, text in self.script:
            i, j = np.searchsorted(clock, [start, end])
            if j < len(clock) and clock[j] - end < 2 / SAMPLE_RATE \
                    and abs(clock[i] - start) < 2 / SAMPLE_RATE and clock[j] - clock[i] < end - start + 0.01:
                words.append(SimpleNamespace(word=" " + text, start=i / SAMPLE_RATE,
                                             end=j / SAMPLE_RATE, probability=0.9))
        if self.reword is not None:
            words = self.reword(len(self.calls) - 1, words)
        end = words[-1].end if words else 0.0
        return [SimpleNamespace(words=words, end=end)], None


def clock_audio(t0: float, t1: float) -> np.ndarray:
    """Audio whose samples are their own call-clock times."""
    return (np.arange(round(t0 * SAMPLE_RATE), round(t1 * SAMPLE_RATE)) / SAMPLE_RATE).astype(np.float32)


def stream(st: StreamingTranscriber, duration_s: float, speech: list[tuple[float, float]],
           audio_fn=clock_audio):
    """Feed 20 ms blocks flagged from ``speech`` spans; return ``(block end, word)`` commits."""
    out = []
    n = round(duration_s * SAMPLE_RATE) // BLOCK
    for k in range(n):
        t0, t1 = k * BLOCK / SAMPLE_RATE, (k + 1) * BLOCK / SAMPLE_RATE
        speaking = any(s <= t0 and t1 <= e for s, e in speech)
        st.insert_audio(t0, audio_fn(t0, t1), speaking)
        out += [(t1, w) for w in st.process()]
    out += [(duration_s, w) for w in st.finish()]
    return out


def words_every(t0: float, t1: float, texts, step=0.5, length=0.4):
    return [(t0 + i * step, t0 + i * step + length, t) for i, t in enumerate(texts)
            if t0 + i * step + length <= t1]


def texts(commits):
    return [w.text for _, w in commits]


# -- the policy ---------------------------------------------------------------------
def test_a_word_is_committed_once_two_hypotheses_agree():
    script = [(0.3, 0.65, "hello"), (0.75, 0.95, "there"), (1.2, 1.6, "my"), (1.7, 2.1, "friend"),
              (2.3, 2.8, "again")]
    st = StreamingTranscriber(ScriptedModel(script), "agent",
                              StreamingOptions(min_chunk_s=1.0, agreement_margin_s=0.3))
    commits = stream(st, 6.0, [(0.2, 3.2)])
    assert texts(commits) == ["hello", "there", "my", "friend", "again"]
    when = dict((w.text, t) for t, w in commits)
    # decodes at 1, 2 and 3 s (the buffer starts with the pre-roll at 0 s): "hello" is in
    # the first two hypotheses; "there" too, but the first heard it only at its very end
    assert when["hello"] == pytest.approx(2.0, abs=0.03)
    assert when["there"] == pytest.approx(3.0, abs=0.03)
    for (t, w), (s, e, text) in zip(commits, script):
        assert (w.start, w.end) == pytest.approx((s, e), abs=0.01)
        assert w.channel == "agent"


def test_a_word_hypotheses_disagree_on_waits():
    script = words_every(0.5, 5.0, ["we", "will", "refund", "the", "duplicate", "charge",
                                    "by", "friday", "okay"])

    def reword(call, words):  # the newest word is misheard differently each time
        if words:
            words[-1] = SimpleNamespace(**{**vars(words[-1]), "word": f" guess{call}"})
        return words

    st = StreamingTranscriber(ScriptedModel(script, reword), "agent")
    commits = stream(st, 5.0, [(0.2, 20.0)])   # still speaking when the audio ends
    said = texts(commits)
    assert not any(t.startswith("guess") for t in said[:-1])  # finish() takes the last as heard
    assert said[:-1] == [t for _, _, t in script][:len(said) - 1]


def test_the_end_of_a_segment_commits_the_rest_at_once():
    script = words_every(0.5, 3.0, ["one", "two", "three", "four", "five"])
    st = StreamingTranscriber(ScriptedModel(script), "agent", StreamingOptions(pause_commit_s=None))
    commits = stream(st, 6.0, [(0.2, 3.2)])
    # the speech ends at 3.2; the segment with the block that completes end_silence_s after it
    assert max(t for t, _ in commits) == pytest.approx(3.2 + StreamingOptions().end_silence_s + 0.02,
                                                       abs=0.01)
    assert st.finish() == []


def test_a_pause_commits_the_words_before_it_and_keeps_the_segment_open():
    script = words_every(0.5, 3.0, ["one", "two", "three", "four", "five"]) \
        + words_every(3.6, 5.0, ["six", "seven"])
    model = ScriptedModel(script)
    st = StreamingTranscriber(model, "agent", StreamingOptions(pause_commit_s=0.1, end_silence_s=0.6))
    commits = stream(st, 8.0, [(0.2, 3.2), (3.5, 5.2)])    # a 0.3 s pause: one segment
    assert texts(commits) == ["one", "two", "three", "four", "five", "six", "seven"]
    when = dict((w.text, t) for t, w in commits)
    # the flag falls at 3.2: the first block 0.1 s into the pause decodes and commits "five"
    assert when["five"] == pytest.approx(3.2 + 0.1 + 0.02, abs=0.01)
    # ...and the words after the pause are decoded with the words before it in the buffer
    last = model.calls[-1]
    assert last[0] < 1.0 and last[-1] > 5.0


def test_a_short_pause_stays_inside_the_segment():
    script = words_every(0.3, 1.6, ["when", "i", "restart"], step=0.4, length=0.35) \
        + words_every(2.0, 3.0, ["it", "works"])
    model = ScriptedModel(script)
    st = StreamingTranscriber(model, "agent", StreamingOptions(end_silence_s=0.6, pause_commit_s=None))
    commits = stream(st, 6.0, [(0.2, 1.6), (1.9, 3.2)])     # a 0.3 s pause, as at a comma
    assert texts(commits) == ["when", "i", "restart", "it", "works"]
    # one segment: the words before the pause are not committed at the pause, as the end of
    # a segment would commit them (with end_silence_s=0.2 "restart" comes at 1.82 s)
    when = dict((w.text, t) for t, w in commits)
    assert when["restart"] > 1.6 + 0.6


def test_a_word_punctuated_differently_later_is_not_emitted_again():
    script = words_every(0.5, 4.0, ["so", "save", "your", "work", "before", "we", "restart"])

    def reword(call, words):  # every hypothesis punctuates its last words differently
        marks = [".", ",", "!", "?"]
        return [SimpleNamespace(**{**vars(w), "word": w.word + marks[(call + i) % 4]})
                if i >= len(words) - 3 else w for i, w in enumerate(words)]

    st = StreamingTranscriber(ScriptedModel(script, reword), "agent")
    commits = stream(st, 6.0, [(0.2, 4.2)])
    assert [normalize_word(t) for t in texts(commits)] == [t for _, _, t in script]


def test_finished_segments_stay_as_context_and_are_not_emitted_again():
    first = words_every(0.5, 2.5, ["thank", "you", "for", "calling"])
    second = words_every(4.0, 6.0, ["how", "can", "i", "help"])

    def reword(call, words):  # with the second segment, the context comes back re-worded
        if model.calls[call][-1] < 3.0:
            return words
        out = []
        for w in words:
            if w.word == " thank":
                out.append(SimpleNamespace(**{**vars(w), "word": " Thank-you."}))
            elif w.word != " you":
                out.append(w)
        return out

    model = ScriptedModel(first + second, reword)
    st = StreamingTranscriber(model, "agent", StreamingOptions(context_s=8.0))
    commits = stream(st, 8.0, [(0.2, 2.6), (3.8, 6.2)])
    assert [normalize_word(t) for t in texts(commits)][-4:] == ["how", "can", "i", "help"]
    assert len(commits) == 8
    # the decodes of the second segment also heard the first
    assert any(c[0] < 1.0 and c[-1] > 5.0 for c in model.calls)
    starts = [w.start for _, w in commits]
    assert starts == sorted(starts)


def test_the_word_a_segment_ended_on_is_not_emitted_again_when_the_next_starts_with_it():
    # the voice activity ended a segment in a short pause after "it"; decoding the next
    # segment, Whisper hears "it" once more at its start
    first = [(0.5, 0.9, "the"), (1.0, 1.5, "light"), (1.6, 2.2, "flashes"), (2.4, 2.8, "it")]
    second = [(3.22, 3.4, "It"), (3.5, 3.9, "used"), (4.0, 4.4, "to")]
    st = StreamingTranscriber(ScriptedModel(first + second), "agent", StreamingOptions(end_silence_s=0.2))
    commits = stream(st, 6.0, [(0.2, 2.9), (3.2, 4.6)])
    assert [normalize_word(t) for t in texts(commits)] == ["the", "light", "flashes", "it", "used", "to"]


def test_a_word_said_again_after_a_pause_is_kept():
    first = [(0.5, 0.9, "thank"), (1.0, 1.4, "you")]
    second = [(2.6, 3.0, "you"), (3.1, 3.5, "too")]
    st = StreamingTranscriber(ScriptedModel(first + second), "agent")
    commits = stream(st, 5.0, [(0.2, 1.5), (2.4, 3.7)])
    assert texts(commits) == ["thank", "you", "you", "too"]


def test_without_context_each_segment_is_decoded_alone():
    script = words_every(0.5, 2.5, ["a", "b", "c"]) + words_every(4.0, 6.0, ["d", "e", "f"])
    model = ScriptedModel(script)
    st = StreamingTranscriber(model, "agent", StreamingOptions(context_s=0.0))
    commits = stream(st, 8.0, [(0.2, 2.6), (3.8, 6.2)])
    assert texts(commits) == ["a", "b", "c", "d", "e", "f"]
    assert all(c[0] > 3.0 for c in model.calls if c[-1] > 4.0)


def test_only_the_decodes_that_commit_at_a_pause_hear_the_longer_context():
    # three 3 s segments; the third one's decodes while it is spoken hear 4 s of context
    # (the second segment and the end of the first), the one at its end 12 s (all of it)
    script = (words_every(0.5, 3.0, ["a", "b", "c", "d", "e"]) + words_every(4.5, 7.0, ["f", "g", "h", "i", "j"])
              + words_every(8.5, 11.5, ["k", "l", "m", "n", "o", "p"]))
    model = ScriptedModel(script)
    st = StreamingTranscriber(model, "agent", StreamingOptions(context_s=4.0, pause_context_s=12.0,
                                                               pause_commit_s=None))
    commits = stream(st, 14.0, [(0.2, 3.1), (4.2, 7.1), (8.2, 11.6)])
    assert texts(commits) == list("abcdefghijklmnop")
    third = [c for c in model.calls if c[-1] > 8.5]
    assert all(c[0] > 3.0 for c in third[:-1])       # not the first segment: 4 s of context
    assert any(c[0] < 4.0 for c in third[:-1])       # but the second
    assert third[-1][0] < 1.0                        # the segment's end: 12 s, the first too


def test_a_hypothesis_that_stops_early_is_decoded_again_without_context():
    first = words_every(0.5, 2.5, ["first", "part"])
    second = words_every(4.0, 7.0, ["and", "the", "second", "part", "of", "it"])

    def reword(call, words):  # with context in front, Whisper gives up after it
        return [w for w in words if w.start < 2.5] if words and words[0].word == " first" else words

    model = ScriptedModel(first + second, reword)
    st = StreamingTranscriber(model, "agent")
    commits = stream(st, 9.0, [(0.2, 2.6), (3.8, 7.2)])
    assert texts(commits) == ["first", "part", "and", "the", "second", "part", "of", "it"]


def test_a_long_segment_is_cut_after_committed_words():
    script = words_every(0.5, 29.0, [f"w{i}" for i in range(60)])
    model = ScriptedModel(script)
    st = StreamingTranscriber(model, "agent", StreamingOptions(max_buffer_s=8.0))
    commits = stream(st, 31.0, [(0.2, 29.5)])
    assert texts(commits) == [t for _, _, t in script]
    assert max(len(c) for c in model.calls) / SAMPLE_RATE < 8.0 + 1.5


def test_behind_it_commits_stable_words_from_one_hypothesis_and_says_so():
    script = words_every(0.5, 6.0, [f"w{i}" for i in range(11)])
    st = StreamingTranscriber(ScriptedModel(script), "agent", StreamingOptions(max_lag_s=2.0))
    for k in range(round(5.0 * SAMPLE_RATE) // BLOCK):   # 5 s queued while the worker was busy
        t0 = k * BLOCK / SAMPLE_RATE
        st.insert_audio(t0, clock_audio(t0, t0 + BLOCK / SAMPLE_RATE), t0 >= 0.2)
    assert st.lag_s == pytest.approx(5.0, abs=0.01)   # from the onset's pre-roll
    words = st.process()
    assert st.catching_up and st.lag_s == 0.0
    # one hypothesis, no agreement yet: the words ending a second before the buffer end
    assert [w.text for w in words] == [f"w{i}" for i in range(7)]
    st.insert_audio(5.0, clock_audio(5.0, 5.02), True)
    assert st.process() == [] and not st.catching_up


def test_silence_after_a_committed_segment_is_never_read_as_lag():
    """A piece's end once drifted by a float rounding step when its start was cut
    (context dropped at a sentence): the silence after the segment then read as
    seconds of undecoded speech, up to 10 s on a generated call, and the next
    decode committed without agreement as if the transcriber were behind."""
    spans = [(164.4, 167.9), (169.47, 171.11), (173.39, 176.81), (179.74, 181.19)]
    texts = [f"w{i}." if i % 3 == 2 else f"w{i}" for i in range(20)]
    script = [w for s, e in spans for w in words_every(s, e, texts)]
    st = StreamingTranscriber(ScriptedModel(script), "agent", StreamingOptions(context_s=1.0))
    silent_lags = []
    for k in range(round(163.0 * SAMPLE_RATE) // BLOCK, round(184.0 * SAMPLE_RATE) // BLOCK):
        t0, t1 = k * BLOCK / SAMPLE_RATE, (k + 1) * BLOCK / SAMPLE_RATE
        st.insert_audio(t0, clock_audio(t0, t1), any(s <= t0 and t1 <= e for s, e in spans))
        st.process()
        if not any(s <= t0 <= e + 0.7 for s, e in spans):    # the segment has ended (0.6 s)
            silent_lags.append(st.lag_s)
            assert not st.catching_up
    assert len(silent_lags) > 300 and max(silent_lags) == 0.0
    assert st.n_decodes > 10


class NoModel:
    def transcribe(self, audio, **kwargs):
        raise AssertionError("silence must not be decoded")


def test_silence_costs_nothing_and_gives_no_words():
    rng = np.random.default_rng(0)
    st = StreamingTranscriber(NoModel(), "customer")
    va = VoiceActivity()
    noise = (rng.standard_normal(10 * SAMPLE_RATE) * 0.003).astype(np.float32)
    for i in range(0, len(noise), BLOCK):
        va.feed(noise[i:i + BLOCK])
        st.insert_audio(i / SAMPLE_RATE, noise[i:i + BLOCK], va.speaking)
        assert st.process() == []
    assert st.finish() == [] and st.n_decodes == 0 and st.lag_s == 0.0


# -- the real model -----------------------------------------------------------------
def _demo_utterances():
    """Agent channel of the demo call's first 15 s and its utterances."""
    import soundfile as sf

    audio, sr = sf.read(DEMO, dtype="float32")
    assert sr == SAMPLE_RATE
    truth = json.loads(DEMO.with_suffix(".truth.json").read_text())
    utts = [(u["start"], u["end"], u["text"]) for u in truth["utterances"]
            if u["channel"] == "agent" and u["end"] < 15.0]
    return audio[:15 * SAMPLE_RATE, 0].copy(), utts


def _espeak_utterances():
    """Two espeak-ng utterances on one channel with silence around them."""
    from tools.callgen import Turn, render_call

    call = render_call([Turn("agent", "Thank you for calling Northwind Broadband, how can I help you?",
                             "espeak-us-f", gap_s=0.8),
                        Turn("customer", "Hello.", "espeak-gb-m", gap_s=0.6),
                        Turn("agent", "I am sorry to hear that. What happens when it drops?",
                             "espeak-us-f", gap_s=1.5)], tail_s=1.5)
    utts = [(u["start"], u["end"], u["text"]) for u in call.truth["utterances"]
            if u["channel"] == "agent"]
    return call.audio[:, 0].copy(), utts


@pytest.fixture(scope="module")
def model():
    return load_model(TranscribeOptions())


@pytest.fixture(scope="module")
def streaming_model():
    """Loaded as the live session loads it: encoding only the part of the window in use."""
    return load_model(TranscribeOptions(), min_window_s=StreamingOptions().min_window_s)


@pytest.fixture(scope="module")
def streamed(model, streaming_model):
    """The utterances streamed in 20 ms blocks, and transcribed offline."""
    if DEMO.exists():
        audio, utts = _demo_utterances()
    elif shutil.which("espeak-ng"):
        audio, utts = _espeak_utterances()
    else:
        pytest.skip("needs voicecoach/data/demo_call.flac or espeak-ng")
    va = VoiceActivity()
    st = StreamingTranscriber(streaming_model, "agent")
    commits, closed_at = [], []
    for i in range(0, len(audio), BLOCK):
        block = audio[i:i + BLOCK]
        closed = va.feed(block)
        st.insert_audio(i / SAMPLE_RATE, block, va.speaking)
        t = (i + len(block)) / SAMPLE_RATE
        closed_at += [(seg, t) for seg in closed]
        commits += [(t, w) for w in st.process()]
    commits += [(len(audio) / SAMPLE_RATE, w) for w in st.finish()]
    va.flush()
    segments = va.segments
    offline = [w for p in transcribe_channel(model, "agent", audio, segments) for w in p.words]
    return SimpleNamespace(audio=audio, utts=utts, commits=commits, words=[w for _, w in commits],
                           closed_at=closed_at, offline=offline, st=st)


def test_streamed_words_are_in_order_and_never_repeated(streamed):
    words = streamed.words
    assert len(words) >= 10
    starts = [w.start for w in words]
    assert starts == sorted(starts)
    assert all(w.end >= w.start for w in words)
    said = [normalize_word(w.text) for w in words]
    assert not any(a == b for a, b in zip(said, said[1:]))   # no word emitted twice in a row
    assert len(said) <= len(" ".join(t for _, _, t in streamed.utts).split()) + 2


def test_streamed_words_sit_where_they_were_said(streamed):
    for w in streamed.words:
        assert any(s - 0.5 <= w.start and w.end <= e + 0.5 for s, e, _ in streamed.utts), w
    # and where offline transcription puts the same words
    offline = {}
    for w in streamed.offline:
        offline.setdefault(normalize_word(w.text), []).append(w)
    matched = 0
    for w in streamed.words:
        same = [o for o in offline.get(normalize_word(w.text), []) if abs(o.start - w.start) < 1.5]
        if same:
            matched += 1
            assert min(abs(o.start - w.start) for o in same) <= 0.5, w
    assert matched >= 0.8 * len(streamed.words)


def test_words_are_committed_when_their_segment_closes(streamed):
    # the voice activity closes a segment 0.2 s after the speech; the transcriber ends
    # its own end_silence_s after it, unless more speech follows sooner
    wait = StreamingOptions().end_silence_s
    runs = []                                  # voice-activity segments closer than that: one run
    for seg, t_closed in streamed.closed_at:
        if runs and seg.start < runs[-1][2] + wait:      # speech again before the wait is over
            runs[-1][1:] = [seg.end, t_closed]
        else:
            runs.append([seg.start, seg.end, t_closed])
    for start, end, t_closed in runs:
        inside = [t for t, w in streamed.commits if start <= (w.start + w.end) / 2 <= end]
        assert inside and max(inside) <= t_closed + wait + 1e-6, (start, end, t_closed, inside)


def test_streaming_wer_is_close_to_offline(streamed):
    ref = " ".join(t for _, _, t in streamed.utts)
    streaming = wer(ref, " ".join(w.text for w in streamed.words))
    offline = wer(ref, " ".join(w.text for w in streamed.offline))
    assert streaming <= offline + 0.05, (streaming, offline)
    assert streaming < 0.25


# -- the second pass (the call record's words) --------------------------------------------
def _feed_flags(sp, pattern, t=0.0):
    """Feed ``SecondPass`` 20 ms blocks of noise following ``[(seconds, speaking), ...]``
    from call time ``t``, each stretch of speech closed as a segment when it ends;
    return the time after them."""
    rng = np.random.default_rng(0)
    onset = None
    for seconds, speaking in pattern:
        for _ in range(int(round(seconds / 0.02))):
            closed = []
            if speaking and onset is None:
                onset = t
            elif not speaking and onset is not None:
                closed, onset = [Segment(onset, t)], None
            sp.insert_audio(t, rng.normal(0, 0.01, BLOCK).astype(np.float32), speaking, closed)
            t += 0.02
    return t


def test_the_second_pass_keeps_only_speech_and_the_audio_packing_keeps_around_it():
    from voicecoach.stt.revision import SecondPass

    sp = SecondPass(None, "agent", TranscribeOptions(max_pack_s=3.0))
    t = _feed_flags(sp, [(30.0, False), (2.0, True), (10.0, False), (2.0, True), (0.5, False)])
    kept = sum(len(b) for _, b in sp._tape.blocks) / SAMPLE_RATE
    # before, during and after each stretch; the pause after the second is still going
    assert kept == pytest.approx((sp.keep_s + 2.0 + sp.keep_s) + (sp.keep_s + 2.0 + 0.5), abs=0.06)
    assert sp.pending_s == pytest.approx(4.0, abs=0.05)
    assert not sp.ready()                       # quiet only 0.5 s: the speaker may go on
    _feed_flags(sp, [(sp.keep_s, False)], t)
    assert sp.ready()                           # the first group is settled: the second began


def test_speech_that_fits_one_group_waits_for_more_unless_it_spans_too_long():
    from voicecoach.stt.revision import SecondPass

    sp = SecondPass(None, "agent", TranscribeOptions(max_pack_s=30.0), max_span_s=60.0)
    t = _feed_flags(sp, [(1.0, True), (20.0, False), (1.0, True), (20.0, False)])
    assert not sp.ready()                       # both fit one model call: more may join it
    _feed_flags(sp, [(20.0, False)], t)
    assert sp.ready()                           # but not kept longer than max_span_s


def test_the_second_pass_makes_the_model_calls_analyze_makes(streamed, model):
    """Fed as the live session feeds it, with the model the live session loads for it
    (its own, at a low priority), it decodes the call's speech in the groups of the whole
    call's plan: its words are the offline words, to the letter and the millisecond."""
    import os

    from voicecoach.stt import revision
    from voicecoach.stt.offline import pack_plan
    from voicecoach.stt.revision import SecondPass, revise_words

    audio, options = streamed.audio, TranscribeOptions(max_pack_s=4.0)
    before = set(os.listdir("/proc/self/task"))
    second_model = revision.load_model(options)
    started = set(os.listdir("/proc/self/task")) - before   # CTranslate2's decoding thread

    def nice(tid: str):
        try:
            return os.getpriority(os.PRIO_PROCESS, int(tid))
        except ProcessLookupError:      # a short-lived helper thread of the load, gone
            return None

    niceness = [n for n in map(nice, started) if n is not None]
    assert niceness and all(n == revision.NICE for n in niceness)
    assert os.getpriority(os.PRIO_PROCESS, 0) == 0         # this thread (the process) is not niced
    va, sp, revisions = VoiceActivity(), SecondPass(second_model, "agent", options), []
    for i in range(0, len(audio), BLOCK):
        block = audio[i:i + BLOCK]
        closed = va.feed(block)
        sp.insert_audio(i / SAMPLE_RATE, block, va.speaking, closed)
        if sp.ready():
            revisions.append(sp.revise())
    sp.insert_audio(len(audio) / SAMPLE_RATE, np.zeros(0, np.float32), False, va.flush())
    revisions.append(sp.revise(final=True))
    assert sp.revise(final=True) is None
    assert len(pack_plan(va.segments, len(audio) / SAMPLE_RATE, options)) >= 3
    assert len(revisions) >= 2
    spans = [(r.start, r.end) for r in revisions]
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))       # stretches meet, never overlap
    record = revise_words(streamed.words, revisions)
    offline = [w for p in transcribe_channel(model, "agent", audio, va.segments, options) for w in p.words]
    assert [w.text for w in record] == [w.text for w in offline]
    assert [(round(w.start, 3), round(w.end, 3)) for w in record] == \
        [(round(w.start, 3), round(w.end, 3)) for w in offline]


def test_a_second_decode_that_stopped_early_does_not_lose_the_streamed_words():
    """One live call's second pass gave "how?" for a sixteen-word question streaming had
    right; the record kept "how?" alone. A run of streamed words keeps its words where
    the revision has fewer than half their number; a revision with as many words wins."""
    from voicecoach.stt.revision import Revision, revise_words

    text = "could you please confirm the full name and the post code on the account for me?".split()
    streamed = [Word("agent", 289.4 + 0.3 * i, 289.65 + 0.3 * i, t) for i, t in enumerate(text)]
    streamed += [Word("agent", 300.8, 301.0, "Can"), Word("agent", 301.1, 301.3, "you")]
    early = Revision("agent", 280.0, 295.0, [Word("agent", 289.4, 289.6, "How?")])
    assert [w.text for w in revise_words(streamed, [early])] == text + ["Can", "you"]
    better = [Word("agent", w.start, w.end, w.text.upper()) for w in streamed[:16]]
    full = Revision("agent", 280.0, 295.0, better)
    assert [w.text for w in revise_words(streamed, [full])][:16] == [t.upper() for t in text]


def test_no_pre_roll_is_allowed():
    script = words_every(0.5, 2.5, ["a", "b", "c"])
    st = StreamingTranscriber(ScriptedModel(script), "agent", StreamingOptions(pre_roll_s=0.0))
    assert texts(stream(st, 4.0, [(0.4, 2.6)])) == ["a", "b", "c"]
