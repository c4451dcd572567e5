"""VoiceCoach's hand-written prosody agrees with librosa on a few seconds of the demo
call's agent (a small version of benchmarks/prosody_check.py). librosa is not a test
dependency: it is in the bench extra, and this test is skipped without it."""
import pytest

pytest.importorskip("librosa")

from benchmarks.prosody_check import TARGETS, compare_clip, meets  # noqa: E402
from voicecoach.analyze import demo_call_path  # noqa: E402
from voicecoach.events import SAMPLE_RATE  # noqa: E402
from voicecoach.sources.audio import load_call  # noqa: E402


def test_prosody_agrees_with_librosa_on_the_demo_agent():
    agent = load_call(demo_call_path()).agent[:5 * SAMPLE_RATE]     # the greeting
    m = compare_clip(agent).metrics()
    assert m["f0_n"] >= 200 and m["f1_n"] >= 100 and m["centroid_n"] >= 200   # not vacuous
    missed = {label: round(m[key], 2) for key, label, *_ in TARGETS
              if key != "f0_within_1" and not meets(key, m[key])}
    assert not missed
    # F0 within 1 %: the benchmark's target (85 %) is met pooled over all clips, but the
    # demo's agent voice agrees less closely at this grain (77 % over the whole call, 83 %
    # here; see the benchmark's docstring for why), so the bar here is lower.
    assert m["f0_within_1"] >= 75.0
    # the centroid formula itself, given VoiceCoach's input (mean-free frames, no 0 Hz bin)
    assert m["centroid_meanfree_med_hz"] < 0.01
