"""The language cues on the labelled sentences of benchmarks/data/cues.txt, as written.

Floors: on the dev part (the sentences the rules were written against and the sentence
model learned from) every scored cue kind meets the issue's targets (precision >= 0.90,
recall >= 0.80). The held-out parts were written blind (by someone who saw neither the
rules nor the dev sentences); there the five target kinds only keep a regression floor
below what they measure now (``python -m benchmarks.cues`` prints the figures beside the
targets, some of them missed): part 10 measures scary R 0.73, patronizing R 0.66 (the
sentence model carries their recall, and a new writer's wordings are far from what it
learned), jargon R 0.60 (its lists are trade terms domain by domain, and part 10's 40
trades find half of them), caller's problems P 0.82 (its writer counts narration as no
problem more often than earlier writers); part 14 is lower still (jargon R 0.48,
patronizing R 0.47), so the floors hold for both parts together.
"""
import tomllib
from importlib import resources

import pytest

from benchmarks.cues import DATA, KINDS, ORDER, SPLITS, TARGETS, fired, load, score, written_words
from voicecoach.events import AGENT, CUSTOMER

HELD_OUT_PRECISION_FLOOR = 0.75
HELD_OUT_RECALL_FLOOR = 0.50
HELD_OUT_JARGON_RECALL_FLOOR = 0.45


@pytest.fixture(scope="module")
def scores():
    lines = load()
    got = [fired(written_words(l.text, l.channel), l.channel) for l in lines]
    return {split: score([l for l in lines if l.split == split],
                         [g for l, g in zip(lines, got) if l.split == split])
            for split in SPLITS}


def test_the_set_is_large_both_sided_and_has_a_held_out_part():
    lines = load()
    assert len(lines) >= 300
    assert sum(l.split == "held-out" for l in lines) >= 400
    assert {l.channel for l in lines} == {AGENT, CUSTOMER}
    labelled = {c for l in lines for c in l.cues}
    assert labelled == set(KINDS[AGENT]) | set(KINDS[CUSTOMER])


@pytest.mark.parametrize("kind", ORDER)
def test_dev_meets_the_targets(scores, kind):
    s = scores["dev"][kind]
    assert s.precision >= 0.90 and s.recall >= 0.80, (kind, s)


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_held_out_precision_and_recall_floor(scores, kind):
    s = scores["held-out"][kind]
    recall_floor = HELD_OUT_JARGON_RECALL_FLOOR if kind == "jargon" else HELD_OUT_RECALL_FLOOR
    assert s.precision >= HELD_OUT_PRECISION_FLOOR and s.recall >= recall_floor, (kind, s)


def test_the_demo_calls_turns_fire_the_cues_its_script_names():
    """The demo call is what a newcomer sees first: each turn fires exactly the cues
    ``voicecoach/data/demo_script.toml`` names for it (a sentence model that learned
    "save your work before we restart it" as patronizing once did not)."""
    script = tomllib.loads(resources.files("voicecoach.data").joinpath("demo_script.toml")
                           .read_text(encoding="utf-8"))
    got, want = [], []
    for turn in script["turn"]:
        channel = AGENT if turn["speaker"] == "agent" else CUSTOMER
        got.append((turn["text"], sorted(fired(written_words(turn["text"], channel), channel))))
        want.append((turn["text"], sorted(turn.get("cues", []))))
    assert got == want
    assert sum(bool(cues) for _, cues in want) >= 10


def test_a_malformed_line_is_an_error_naming_it(tmp_path):
    bad = tmp_path / "cues.txt"
    bad.write_text("[dev]\nA | commitment, problem | I'll call you back.\n")
    with pytest.raises(ValueError, match=r"cues.txt:2: \['problem'\]"):
        load(bad)
    assert DATA.exists()
