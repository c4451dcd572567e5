"""The whole engine on generated two-channel calls whose true timings are known."""
import json
import shutil

import pytest

from tools.scoring import match_events, score_turns
from voicecoach.analyze import analyze_call, demo_call_path
from voicecoach.sources.audio import CallAudio, load_call

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def as_call(generated, name="generated"):
    return CallAudio(generated.audio[:, 0].copy(), generated.audio[:, 1].copy(), name)


@pytest.fixture(scope="module")
def generated_calls():
    from tools.callgen import random_call

    return [random_call(seed, voices=("espeak",), minutes=1.5) for seed in (11, 12, 13)]


@needs_espeak
def test_turn_taking_on_generated_calls(generated_calls):
    for call in generated_calls:
        rec = analyze_call(as_call(call), transcribe=False)
        s = score_turns(rec, call.truth)
        assert s["int_true"] > 0 and s["bc_true"] > 0 and s["nm_true"] > 0
        assert s["int_hits"] == s["int_true"] == s["int_found"], s
        assert s["bc_as_interruption"] == 0, s
        assert s["nm_as_interruption"] == 0, s
        assert s["bc_found"] >= s["bc_true"] - 1, s
        for ch in ("agent", "customer"):
            assert rec["talk_time"][ch] == pytest.approx(call.truth["talk_time"][ch], rel=0.05)
        true_dead = [s for s in call.truth["silences"] if s["end"] - s["start"] >= 5.3]
        assert match_events([dict(d, by="-") for d in rec["dead_air"]],
                            [dict(d, by="-") for d in true_dead], tol_s=0.3) == len(true_dead)


def test_demo_call_record_has_every_cue():
    call = load_call(demo_call_path())
    truth = json.loads(demo_call_path().with_suffix(".truth.json").read_text())
    rec = analyze_call(call)
    assert rec["schema"] == "voicecoach.call/1"
    assert rec["duration"] == pytest.approx(truth["duration"], abs=0.05)
    s = score_turns(rec, truth)
    assert s["int_hits"] == s["int_true"] == s["int_found"] == 1
    assert s["bc_found"] == 1 and s["nm_as_interruption"] == 0
    assert rec["pace"]["agent_wpm"] == pytest.approx(truth["agent_wpm"], rel=0.10)
    kinds = {c["kind"] for c in rec["cues"]}
    assert {"greeting", "empathy", "jargon", "scary", "commitment", "closing_question"} <= kinds
    assert all(rec["checklist"].values())
    assert any("call you back tomorrow" in c["text"] for c in rec["commitments"])
    assert len(rec["caller_problems"]) >= 2
    assert 0.0 <= rec["warmth"]["mean"] <= 1.0 and rec["warmth"]["timeline"]
    channels = {seg["channel"] for seg in rec["transcript"]}
    assert channels == {"agent", "customer"}
    words = [w for seg in rec["transcript"] for w in seg["words"]]
    assert all(0 <= w["start"] <= w["end"] <= rec["duration"] + 0.5 for w in words)
    json.dumps(rec)


def test_mono_call_reports_caller_cues_as_unavailable():
    call = load_call(demo_call_path())
    rec = analyze_call(CallAudio(call.agent, None, "agent only"), transcribe=False)
    assert rec["interruptions"] is None and rec["talk_time"]["customer"] is None
    assert "interruptions" in rec["unavailable"] and "caller_problems" in rec["unavailable"]
    assert rec["talk_time"]["agent"] > 20
