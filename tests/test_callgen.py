"""The call generator's truth must match its audio (espeak-ng voices only)."""
import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from tools.callgen import (
    AGENT_CLOSINGS,
    AGENT_STEPS,
    COLLEAGUE_LINES,
    SR,
    RandomCallOptions,
    Turn,
    colleague_tracks,
    degrade_call,
    random_call,
    render_call,
    split_sentences,
    trim_silence,
    write_call,
)
from tools.degrade import Condition, active_level_db

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs Debian espeak-ng")

A, C = "agent", "customer"
AV, CV = "espeak-us-f", "espeak-gb-m"
NOISE_DBFS = -80.0
QUIET = 10 ** (-60 / 20)   # well above the -80 dBFS noise's peaks, well below any onset


def _db(x):
    return 20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12)


SCRIPT = [
    Turn(A, "Thank you for calling, how can I help you today?", AV, gap_s=0.3),
    Turn(C, "My internet keeps dropping every evening, and I was charged twice on my last bill as well.",
         CV, gap_s=0.6),
    Turn(A, "Mm-hm.", AV, overlap_s=2.0, label="backchannel"),
    Turn(C, "It started on Monday and it has been getting worse every single day since then.", CV, gap_s=0.5),
    Turn(A, "Okay, let me run a line test on your connection right now.", AV, overlap_s=1.2,
         label="interruption"),
    Turn(C, "Sure, go ahead and run it.", CV, overlap_s=0.2, label="near_miss"),
]


@pytest.fixture(scope="module")
def call():
    return render_call(SCRIPT, noise_dbfs=NOISE_DBFS, seed=3)


def test_truth_lists_every_turn_with_its_words(call):
    t = call.truth
    assert call.audio.shape == (int(round(t["duration"] * SR)), 2) and call.audio.dtype == np.float32
    assert sorted(u["text"] for u in t["utterances"]) == sorted(turn.text for turn in SCRIPT)
    assert [u["start"] for u in t["utterances"]] == sorted(u["start"] for u in t["utterances"])
    words = sum(len(turn.text.split()) for turn in SCRIPT if turn.speaker == A)
    talk = sum(u["end"] - u["start"] for u in t["utterances"] if u["channel"] == A)
    assert t["agent_words"] == words
    assert t["talk_time"]["agent"] == pytest.approx(talk, abs=1e-3)
    assert t["agent_wpm"] == pytest.approx(words / (talk / 60), rel=1e-3)


def test_speech_starts_and_ends_on_the_truth_span(call):
    for u in call.truth["utterances"]:
        x = call.audio[:, 0 if u["channel"] == A else 1]
        i0, i1 = int(round(u["start"] * SR)), int(round(u["end"] * SR))
        assert np.abs(x[i0:i0 + 160]).max() > QUIET, u["text"]        # sound in the first 10 ms
        assert np.abs(x[i1 - 160:i1]).max() > QUIET, u["text"]        # and in the last 10 ms
        assert np.abs(x[i0 - 800:i0]).max() < QUIET, u["text"]        # 50 ms of quiet before
        assert np.abs(x[i1:i1 + 800]).max() < QUIET, u["text"]        # and after
        assert _db(x[i0:i1]) > -40, u["text"]


def test_the_other_channel_is_silent_when_only_one_side_talks(call):
    utts = call.truth["utterances"]
    active = np.zeros((len(call.audio), 2), bool)
    for u in utts:
        active[int(round(u["start"] * SR)):int(round(u["end"] * SR)), 0 if u["channel"] == A else 1] = True
    for ch in (0, 1):
        only_other = active[:, 1 - ch] & ~active[:, ch]
        assert only_other.sum() > SR                                    # there is such time
        assert np.abs(call.audio[only_other, ch]).max() < QUIET
        assert _db(call.audio[only_other, ch]) == pytest.approx(NOISE_DBFS, abs=1.0)


def test_labelled_turns_overlap_the_other_side(call):
    events = call.truth["events"]
    assert [(e["kind"], e["by"]) for e in events] == [
        ("backchannel", A), ("interruption", A), ("near_miss", C)]
    by_text = {u["text"]: u for u in call.truth["utterances"]}
    cust_2, agent_int = by_text[SCRIPT[3].text], by_text[SCRIPT[4].text]
    assert events[1]["start"] == agent_int["start"]
    assert events[1]["end"] == pytest.approx(cust_2["end"], abs=1e-4)
    assert events[1]["end"] - events[1]["start"] == pytest.approx(1.2, abs=1e-3)
    assert events[2]["end"] - events[2]["start"] == pytest.approx(0.2, abs=1e-3)
    for e in events:
        i0, i1 = int(round(e["start"] * SR)), int(round(e["end"] * SR))
        assert _db(call.audio[i0:i1, 0]) > -45 and _db(call.audio[i0:i1, 1]) > -45, e


def test_backchannel_sits_inside_the_other_utterance(call):
    bc = next(u for u in call.truth["utterances"] if u["label"] == "backchannel")
    host = next(u for u in call.truth["utterances"] if u["text"] == SCRIPT[1].text)
    assert host["start"] + 1.0 < bc["start"] and bc["end"] + 1.0 < host["end"]
    assert host["end"] - bc["start"] == pytest.approx(2.0, abs=1e-3)


def test_turns_that_cannot_be_placed_are_refused():
    with pytest.raises(ValueError, match="same speaker"):
        render_call([Turn(A, "Hello there, this is the help desk.", AV, gap_s=0.2),
                     Turn(A, "How can I help?", AV, gap_s=-0.5)])
    with pytest.raises(ValueError, match="does not start while"):
        render_call([Turn(A, "Hello there.", AV, gap_s=0.2),
                     Turn(C, "Hi.", CV, gap_s=0.3, label="interruption")])
    with pytest.raises(ValueError, match="needs an earlier"):
        render_call([Turn(C, "Hi.", CV, overlap_s=0.3)])


def test_trim_silence_cuts_to_the_sound():
    y = np.zeros(1000, np.float32)
    y[300:700] = 0.5
    y[100] = 0.001                                                      # -54 dB below the peak: cut
    y[800] = 0.01                                                       # -34 dB: kept
    out = trim_silence(y, rel_db=40.0)
    assert len(out) == 501 and out[0] == 0.5 and out[-1] == 0.01


def test_write_call_writes_flac_and_truth(call, tmp_path):
    truth_path = write_call(call, tmp_path / "c.flac")
    assert truth_path == tmp_path / "c.truth.json"
    audio, sr = sf.read(tmp_path / "c.flac", dtype="float32")
    assert sr == SR and audio.shape == call.audio.shape
    assert sf.info(tmp_path / "c.flac").subtype == "PCM_16"
    assert np.abs(audio - call.audio).max() < 1e-4
    assert json.loads(truth_path.read_text()) == call.truth


def test_random_call_is_deterministic_per_seed():
    a = random_call(5, ["espeak"], minutes=0.5)
    b = random_call(5, ["espeak"], minutes=0.5)
    c = random_call(6, ["espeak"], minutes=0.5)
    assert a.truth == b.truth and np.array_equal(a.audio, b.audio)
    assert a.truth != c.truth


def test_random_call_has_the_planned_events():
    o = RandomCallOptions()
    call = random_call(11, ["espeak"], minutes=1.5, options=o)
    t, utts = call.truth, call.truth["utterances"]
    kinds = [(e["kind"], e["by"]) for e in t["events"]]
    assert kinds.count(("interruption", A)) >= 2 and kinds.count(("interruption", C)) >= 1
    assert kinds.count(("near_miss", A)) + kinds.count(("near_miss", C)) >= 2
    assert [e["kind"] for e in t["events"]].count("backchannel") >= 3
    assert any(5.0 <= s["end"] - s["start"] <= 8.0 for s in t["silences"])      # dead air
    assert t["duration"] >= 90.0 and utts[0]["channel"] == A
    assert utts[-3]["text"] in AGENT_CLOSINGS and utts[-3]["channel"] == A
    for e in t["events"]:
        under = next(u for u in utts if u["channel"] != e["by"] and u["start"] <= e["start"] < u["end"])
        own = next(u for u in utts if u["channel"] == e["by"] and u["start"] == e["start"])
        overlap = e["end"] - e["start"]
        if e["kind"] == "interruption":
            assert 0.8 - 1e-3 <= overlap <= 2.0 + 1e-3
            assert e["start"] - under["start"] >= o.cut_in_after_s - 1e-3
            assert own["end"] - own["start"] >= o.long_turn_s
        elif e["kind"] == "near_miss":
            assert 0.05 - 1e-3 <= overlap <= 0.3 + 1e-3
        else:
            assert own["n_words"] <= 2 and e["end"] == own["end"]
            assert e["start"] - under["start"] >= 1.0 - 1e-3 and under["end"] - e["end"] >= 1.0 - 1e-3
    for ch in (A, C):
        spans = [(u["start"], u["end"]) for u in utts if u["channel"] == ch]
        assert all(s1 >= e0 for (_, e0), (s1, _) in zip(spans, spans[1:]))      # no self-overlap


# --- pauses inside a turn ------------------------------------------------------------------

STEPS = "First unplug the router from the wall. Wait about thirty seconds. Then plug it back in."


def test_split_sentences():
    assert split_sentences(STEPS) == ["First unplug the router from the wall.", "Wait about thirty seconds.",
                                      "Then plug it back in."]
    assert split_sentences("Okay, I see. Really? Yes!") == ["Okay, I see.", "Really?", "Yes!"]
    assert split_sentences("No pause here, just commas.") == ["No pause here, just commas."]


@pytest.fixture(scope="module")
def paused_call():
    return render_call([
        Turn(A, "Hello, thanks for calling.", AV, gap_s=0.3),
        Turn(C, "Hi, my router keeps dropping.", CV, gap_s=0.5),
        Turn(A, STEPS, AV, gap_s=0.5, pause_s=(0.8, 1.1)),
        Turn(C, "Okay, I'll try that now.", CV, gap_s=0.6),
        Turn(A, "Good. Let me know how it goes.", AV, gap_s=0.5, pause_s=0.6),
    ], noise_dbfs=NOISE_DBFS, seed=4)


def test_truth_turns_contain_their_pauses(paused_call):
    t, x = paused_call.truth, paused_call.audio[:, 0]
    steps = next(u for u in t["utterances"] if u["text"] == STEPS)
    assert [round(b - a, 3) for a, b in steps["pauses"]] == [0.8, 1.1]
    for a, b in steps["pauses"]:
        assert steps["start"] < a < b < steps["end"]
        i0, i1 = int(round(a * SR)), int(round(b * SR))
        assert np.abs(x[i0:i1]).max() < QUIET                       # silent inside the pause
        assert np.abs(x[i0 - 160:i0]).max() > QUIET and np.abs(x[i1:i1 + 160]).max() > QUIET   # speech either side
    short = next(u for u in t["utterances"] if u["text"].startswith("Good."))
    assert [round(b - a, 3) for a, b in short["pauses"]] == [0.6]
    assert all(u["pauses"] == [] for u in t["utterances"] if u["channel"] == C)


def test_talk_time_counts_the_pauses_and_voiced_time_does_not(paused_call):
    t = paused_call.truth
    agent = [u for u in t["utterances"] if u["channel"] == A]
    span = sum(u["end"] - u["start"] for u in agent)
    paused = sum(b - a for u in agent for a, b in u["pauses"])
    assert paused == pytest.approx(2.5, abs=1e-3)
    assert t["talk_time"][A] == pytest.approx(span, abs=1e-3)
    assert t["voiced_time"][A] == pytest.approx(span - paused, abs=1e-3)
    assert t["voiced_time"][C] == t["talk_time"][C]
    words = sum(u["n_words"] for u in agent)
    assert t["agent_wpm"] == pytest.approx(words / (span / 60), rel=1e-3)
    assert t["agent_articulation_wpm"] == pytest.approx(words / ((span - paused) / 60), rel=1e-3)


def test_pauses_that_do_not_fit_the_sentences_are_refused():
    with pytest.raises(ValueError, match="2 pauses"):
        render_call([Turn(A, STEPS, AV, pause_s=(0.8,))])
    with pytest.raises(ValueError, match=">= 0"):
        render_call([Turn(A, STEPS, AV, pause_s=-0.5)])


def test_random_calls_with_pauses_between_steps():
    o = RandomCallOptions(pause_turn_share=1.0)
    voices, pauses = set(), []
    for seed in (21, 22):
        call = random_call(seed, ["espeak"], minutes=1.5, options=o)
        t = call.truth
        paused = [u for u in t["utterances"] if u["pauses"]]
        assert paused and all(u["channel"] == A and u["text"] in AGENT_STEPS and u["label"] is None
                              for u in paused)
        assert not any(e["start"] >= u["start"] and e["start"] < u["end"] for e in t["events"] for u in paused)
        voices |= {u["voice"] for u in paused}
        pauses += [b - a for u in paused for a, b in u["pauses"]]
        # talk time counts the pauses inside turns (and short gaps between one side's
        # utterances while the other only listens); voiced time counts neither
        assert t["talk_time"][A] - t["voiced_time"][A] >= \
            sum(b - a for u in paused for a, b in u["pauses"]) - 1e-3
    assert len(voices) == 2                                          # several voices
    assert min(pauses) >= 0.6 and max(pauses) <= 1.2 and max(pauses) - min(pauses) > 0.2   # several lengths


def test_no_pause_share_leaves_random_calls_as_they_were():
    a = random_call(5, ["espeak"], minutes=0.5)
    b = random_call(5, ["espeak"], minutes=0.5, options=RandomCallOptions(pause_turn_share=0.0))
    assert a.truth == b.truth and all(u["pauses"] == [] for u in a.truth["utterances"])


# --- real headset calls --------------------------------------------------------------------

def test_colleague_tracks_use_other_voices_and_other_lines():
    n = 20 * SR
    tracks, names = colleague_tracks(n, seed=3, voices=["espeak"], exclude=[AV, CV])
    again, _ = colleague_tracks(n, seed=3, voices=["espeak"], exclude=[AV, CV])
    assert len(tracks) == 2 and len(set(names)) == 2 and not {AV, CV} & set(names)
    assert all(len(y) == n and y.dtype == np.float32 for y in tracks)
    assert all(np.array_equal(a, b) for a, b in zip(tracks, again))
    assert active_level_db(tracks[0]) - active_level_db(tracks[1]) == pytest.approx(4.0, abs=1.5)
    talking = [np.mean(np.abs(y) > QUIET) for y in tracks]
    assert all(0.2 < share < 0.9 for share in talking)               # talking and listening
    assert not set(COLLEAGUE_LINES) & {u.text for u in SCRIPT}


def test_degraded_call_keeps_the_truth(call):
    cond = Condition(echo_db=-30.0, floor_db=-25.0, phone=True)
    out = degrade_call(call, cond, seed=2)
    assert out.truth == call.truth and out.truth is not call.truth
    assert out.audio.shape == call.audio.shape and out.audio.dtype == np.float32
    assert not np.array_equal(out.audio, call.audio)
    floor = out.audio[:, 0] - call.audio[:, 0]
    assert active_level_db(floor) - active_level_db(call.audio[:, 0]) == pytest.approx(-25.0, abs=1.0)
    again = degrade_call(call, cond, seed=2)
    assert np.array_equal(again.audio, out.audio)


def test_degraded_call_writes_the_same_truth_file(call, tmp_path):
    clean = write_call(call, tmp_path / "clean.flac").read_text()
    echoed = write_call(degrade_call(call, Condition(echo_db=-20.0), seed=1), tmp_path / "echo.flac").read_text()
    assert echoed == clean


@pytest.mark.parametrize("cond,channel", [
    (Condition(loss_rate=0.05), 1),
    (Condition(mic_gain_db=-18.0), 0),
    (Condition(hum_db=-30.0, hum_hz=60.0), 0),
    (Condition(fan_snr_db=15.0), 0),
])
def test_line_and_mic_conditions_keep_the_truth_and_change_one_channel(call, cond, channel):
    out = degrade_call(call, cond, seed=3)
    assert out.truth == call.truth
    assert out.audio.shape == call.audio.shape and out.audio.dtype == np.float32
    assert np.array_equal(out.audio[:, 1 - channel], call.audio[:, 1 - channel])
    assert not np.array_equal(out.audio[:, channel], call.audio[:, channel])
    assert np.array_equal(degrade_call(call, cond, seed=3).audio, out.audio)
    if cond.mic_gain_db is not None:
        assert active_level_db(out.audio[:, 0]) - active_level_db(call.audio[:, 0]) == pytest.approx(-18.0, abs=1.0)
