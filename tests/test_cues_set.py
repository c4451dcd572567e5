"""The language cues on the labelled sentences of benchmarks/data/cues.txt (dev) and
cues_held_out.txt, as written.

Floors: on the dev parts the rules were written against and the sentence model learned
from every scored cue kind meets the issue's targets (precision >= 0.90, recall >= 0.80);
the calibration parts (dev, written blind in sessions 21-25, never fitted by a list)
only choose the model's thresholds. The held-out parts (10, 14, 18, 25, 33-36) were
written blind (by people who saw neither the rules nor the dev sentences); there the five
target kinds only keep a regression floor below what they measure now (``python -m
benchmarks.cues`` prints the figures beside the targets, some of them missed): with v18
and session 35's trade terms (voted on as soon as they are heard since session 36), pooled,
jargon 0.91 / 0.80 (0.805), scary 0.91 / 0.87,
patronizing 0.92 / 0.83, caller's problems 0.85 / 0.93 (0.89 / 0.94 on the sentences a
second labeller labels alike; on parts 35 and 36 VoiceCoach also lists the caller's
background and reactions), commitments 0.97 / 0.83 (precision / recall). A new writer's wordings are far
from what the model learned, and jargon's lists are trade terms, domain by domain.
"""
import re
import shutil
import tomllib
from importlib import resources

import pytest

from benchmarks.cues import (DATA, HEARD_LABELS, HELD_OUT, KINDS, ORDER, SPLITS, TARGETS, Line,
                            agreement_report, by_voice, context_words, fired, heard_labels, load, main,
                            score, second_labels, written_words)
from tools.train_cues import CALIBRATION_PARTS
from voicecoach.events import AGENT, CUSTOMER

HELD_OUT_PRECISION_FLOOR = 0.75
HELD_OUT_RECALL_FLOOR = 0.50
HELD_OUT_JARGON_RECALL_FLOOR = 0.72   # 0.69 without the trade terms


@pytest.fixture(scope="module")
def scores():
    lines = load()
    got = [fired(written_words(l.text, l.channel), l.channel, before=context_words(l)) for l in lines]
    out = {split: score([l for l in lines if l.split == split],
                        [g for l, g in zip(lines, got) if l.split == split])
           for split in SPLITS}
    fitted = [i for i, l in enumerate(lines) if l.split == "dev" and l.part not in CALIBRATION_PARTS]
    out["fitted"] = score([lines[i] for i in fitted], [got[i] for i in fitted])
    return out


def test_the_set_is_large_both_sided_and_has_a_held_out_part():
    lines = load()
    assert len(lines) >= 300
    assert sum(l.split == "held-out" for l in lines) >= 400
    assert {l.source for l in lines if l.split == "dev"} == {DATA.name}     # training reads DATA alone
    assert {l.source for l in lines if l.split == "held-out"} == {HELD_OUT.name}
    assert {l.channel for l in lines} == {AGENT, CUSTOMER}
    labelled = {c for l in lines for c in l.cues}
    assert labelled == set(KINDS[AGENT]) | set(KINDS[CUSTOMER])


@pytest.mark.parametrize("kind", ORDER)
def test_dev_meets_the_targets(scores, kind):
    """On the dev parts the lists were written against: the calibration parts, which
    they never were, only choose the sentence model's thresholds."""
    s = scores["fitted"][kind]
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


def _two_calls(tmp_path):
    call = tmp_path / "cues.txt"
    call.write_text("[dev]\n"
                    "C | problem | My car was hit in the car park this morning.\n"
                    "A | question_closed | Was anyone hurt?\n"
                    "C | - | No, just shaken.\n"
                    "C | - | The bumper is smashed and the light is hanging off.\n"
                    "A | - | Okay.\n"
                    "C | - | I have photos of the damage if you need them.\n"
                    "# ---\n"
                    "C | - | No, just shaken.\n"
                    "A | - | Right, let me look at that.\n")
    return call


def test_a_line_comes_after_the_turn_before_it_as_the_analyzer_counts_turns(tmp_path):
    """A caller's line too short for the sentence model is no turn of the caller's own
    (``context_at``), but is one for the agent's next line; "Okay." is no turn at all."""
    hit, asked, short, bumper, okay, photos, new_call, reply = load(_two_calls(tmp_path))
    assert hit.before is None and asked.before[1] == hit.text
    assert short.before[1] == asked.text and short.context == ("after_question",)
    assert bumper.before[1] == asked.text and bumper.context == ("after_question",)
    assert okay.before[1] == bumper.text
    assert photos.before[1] == bumper.text and photos.context == ("continues_turn",)
    assert new_call.before is None and not new_call.problem_before
    assert reply.before[1] == new_call.text                # a turn for the other side


def test_one_sides_sentences_are_scored_alone(tmp_path, capsys):
    assert main(["--data", str(_two_calls(tmp_path)), "--only", "dev", "--side", "caller"]) == 0
    out = capsys.readouterr().out
    assert "on 5 labelled sentences (5 dev, 0 held-out)" in out
    rows = [l.split()[0] for l in out.splitlines()[3:] if l.strip()]
    assert rows == ["problem"], out                          # the agent's kinds are not scored


def test_the_second_labels_are_for_the_held_out_sentences_as_they_are():
    """``cues_second.txt`` labels the held-out sentences of the parts it names, in
    order, with target kinds only; an edit to ``cues.txt`` that it does not follow is an
    error, not a silent mismatch."""
    lines = load()
    pick, second = second_labels(lines)
    first = [lines[i] for i in pick]
    assert len(first) == len(second) >= 7000
    assert {l.split for l in first} == {"held-out"}
    assert {l.part for l in first} == {l.part for l in lines if l.split == "held-out"}
    assert set().union(*second) == set(TARGETS)
    with pytest.raises(ValueError, match="does not label the held-out sentences"):
        second_labels([l for l in lines if l is not first[5]])


def test_the_heard_labels_are_for_the_held_out_agent_sentences_as_they_are():
    """``cues_heard.txt`` labels each held-out agent sentence as heard, in order; one heard
    otherwise on this machine is left out and counted, and an edit to the held-out set
    that it does not follow is an error."""
    lines = load()
    agent = [i for i, l in enumerate(lines) if l.split == "held-out" and l.channel == AGENT]
    labelled = load(HEARD_LABELS)
    assert len(labelled) == len(agent) >= 4000
    heard = [""] * len(lines)
    for i, l in zip(agent, labelled):
        heard[i] = l.text
    pick, seen, left = heard_labels(lines, heard)
    assert (pick, left) == (agent, 0)
    assert set().union(*seen) == {"commitment", "jargon", "scary", "patronizing"}
    heard[agent[2]] = heard[agent[2]].upper().replace(",", "").replace(".", "!")   # the same words
    assert heard_labels(lines, heard)[2] == 0
    heard[agent[7]] += " extra"
    pick, seen, left = heard_labels(lines, heard)
    assert (len(pick), len(seen), left) == (len(agent) - 1, len(agent) - 1, 1) and agent[7] not in pick
    with pytest.raises(ValueError, match="does not label the held-out agent sentences"):
        heard_labels([l for l in lines if l is not lines[agent[3]]], heard)


def test_heard_labels_without_heard_or_with_no_sentences_to_score_is_one_error_line(capsys, tmp_path):
    """Said before any sentence is heard (a first heard run takes hours)."""
    assert main(["--heard-labels", "--only", "held-out"]) == 2
    assert capsys.readouterr().err.strip() == "error: --heard-labels scores the heard sentences; add --heard"
    for args in (["--only", "dev"], ["--side", "caller"]):
        assert main(["--heard", "--heard-labels", *args]) == 2
        assert capsys.readouterr().err.startswith("error: --heard-labels labels the held-out agent sentences")
    cut = tmp_path / "cut.txt"
    cut.write_text("\n".join(HEARD_LABELS.read_text(encoding="utf-8").splitlines()[:-1]) + "\n", encoding="utf-8")
    assert main(["--heard", "--heard-labels", str(cut), "--only", "held-out", "--side", "agent",
                 "--cache", str(tmp_path / "no-cache")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not label the held-out agent sentences" in err
    assert not (tmp_path / "no-cache").exists()                   # nothing was heard


def test_agreement_report_scores_each_labeller_and_the_lines_both_agree_on():
    line = lambda side, cues, text: Line("held-out", side, frozenset(cues), text, 0)
    lines = [line(AGENT, ["jargon"], "a"), line(AGENT, ["jargon"], "b"), line(AGENT, [], "c"),
             line(AGENT, [], "d")]
    second = [frozenset({"jargon"}), frozenset(), frozenset({"jargon"}), frozenset()]
    got = [frozenset({"jargon"}), frozenset({"jargon"}), frozenset(), frozenset({"jargon"})]
    row = next(r for r in agreement_report(lines, second, got).splitlines() if r.startswith("jargon"))
    # 2nd vs 1st: 1 tp, 1 fp, 1 fn; VC vs 2nd: 1 tp, 2 fp, 1 fn; both agree (lines a, d):
    # 1 tp, 1 fp
    assert re.findall(r"\d\.\d\d|(?<![\d.])\d+(?![\d.])", row) == [
        "0.50", "0.50", "2", "0.33", "0.50", "2", "0.50", "1.00", "1", "0.90", "0.80"]


def test_the_heard_report_by_voice_scores_each_family_with_its_word_error_rate():
    line = lambda cues, text: Line("held-out", AGENT, frozenset(cues), text, 0)
    lines = [line(["commitment"], "I'll call you tomorrow."), line([], "It's in the post."),
             line(["commitment"], "We'll refund it by Friday."), line([], "Thanks for waiting.")]
    voices = ["espeak-us-m", "espeak-gb-f", "piper-joe", "hibari-heart"]
    heard = ["I call you tomorrow.", "It's in the post.", "We'll refund it by Friday.",
             "Thanks for waiting."]
    text = [frozenset({"commitment"}), frozenset(), frozenset({"commitment"}), frozenset()]
    got = [frozenset(), frozenset(), frozenset({"commitment"}), frozenset()]
    out = by_voice(lines, {"text": text, "heard": got}, {"heard": heard}, voices, ["held-out"])
    # espeak-ng: 1 error in 8 words; piper, hibari: none in 8
    assert "heard espeak 12.5% (2 sentences)" in out
    assert "heard neural 0.0% (2 sentences)" in out
    row = next(r for r in out.splitlines() if r.startswith("commitment"))
    # text espeak 1.00/1.00, heard espeak -/0.00, text and heard neural 1.00/1.00
    assert re.findall(r"\d\.\d\d|-", row.split(">=")[0]) == [
        "1.00", "1.00", "-", "0.00", "1.00", "1.00", "1.00", "1.00"]


def test_thresholds_are_chosen_with_the_margin_a_new_writer_needs():
    """Five writers whose votes run alike but whose sentences are not equally easy: the
    thresholds that just keep 0.90 over all of them give a writer left out of the choice
    less, and the choice then asks for more (a margin) until the left-out parts, pooled,
    keep 0.90. Where the votes separate the classes, no margin is taken."""
    import numpy as np

    from tools.train_cues import choose, choose_for_a_new_writer

    rng = np.random.default_rng(3)
    parts = np.repeat(np.array(["a", "b", "c", "d", "e"]), 400)
    y = rng.random(parts.size) < 0.3
    hard = np.isin(parts, ["d", "e"]) * 0.15      # two writers' negatives sit higher
    p = np.clip(np.where(y, rng.normal(0.75, 0.12, parts.size),
                         rng.normal(0.35, 0.15, parts.size) + hard), 0, 1)
    rules = np.zeros(parts.size, bool)
    *chosen, margin, left_p, left_r = choose_for_a_new_writer(p, y, rules, parts, 0.90, False)
    assert margin > 0 and left_p >= 0.90
    assert tuple(chosen) == choose(p, y, rules, 0.90 + margin, False)
    hits = np.zeros(parts.size, bool)                # the pooled left-out precision, recounted
    for k in "abcde":
        _, th, _, _ = choose(p[parts != k], y[parts != k], rules[parts != k], 0.90 + margin, False)
        hits[parts == k] = p[parts == k] >= th
    assert abs((hits & y).sum() / hits.sum() - left_p) < 1e-9
    _, th0, _, _ = choose(p, y, rules, 0.90, False)
    assert th0 < chosen[1]                            # the margin raised the threshold

    separable = np.where(y, 0.9, 0.1)
    *_, margin, left_p, left_r = choose_for_a_new_writer(separable, y, rules, parts, 0.90, False)
    assert margin == 0.0 and left_p == 1.0 and left_r == 1.0



def test_the_analyzer_finds_what_was_said_before_a_caller_line_as_the_set_labels_it():
    """The model learns a line's context from the labels of the line above it
    (``Line.context``); live, the analyzer finds it in the words, with its own question
    cues. Fed the line above, it must agree on nearly every line, or the weights would
    mean something else live."""
    from voicecoach.analyzers.language import LanguageCues, LanguageOptions

    lines = [l for l in load() if l.channel == CUSTOMER and l.split == "held-out"]
    options = LanguageOptions()
    lexicon = LanguageCues(options).lexicon
    found = []
    for line in lines:
        cues = LanguageCues(options, lexicon)
        cues.feed(context_words(line))
        cues.flush()                                 # closed before the line is judged, as live
        found.append(cues.context_at(0.0, CUSTOMER))
    agree = sum(f == l.context for f, l in zip(found, lines)) / len(lines)
    assert agree >= 0.95, agree
    assert {l.context for l in lines} == {(), ("after_question",), ("continues_turn",)}


def test_a_packed_transcripts_words_go_to_the_sentence_they_were_said_in():
    """``tools.hear_dev`` transcribes several sentences at once and gives each its words
    back: by the written words they align with, and where the alignment cannot tell (a
    misheard stretch across the join), by time. Whisper puts a segment's last word late
    ("Dana." after the silence), which time alone would give to the next sentence."""
    from tools.hear_dev import assign

    texts = ["My name is Dana.", "How can I help?", "Your meter is faulty."]
    bounds = [2.0, 4.0]
    words = [(0.0, 0.3, "My"), (0.3, 0.6, "name"), (0.6, 2.1, "is"), (2.1, 2.1, "Dana."),   # late
             (2.6, 2.8, "How"), (2.8, 3.0, "can"), (3.0, 3.2, "I"), (3.2, 3.5, "help?"),
             (3.8, 3.9, "Uh"),                        # heard in the silence, no written word
             (4.5, 4.7, "Your"), (4.7, 5.0, "meet"), (5.0, 5.3, "harris"), (5.3, 5.6, "faulty.")]
    assert assign(words, bounds, texts) == [["My", "name", "is", "Dana."],
                                            ["How", "can", "I", "help?", "Uh"],   # by time: 3.85 s
                                            ["Your", "meet", "harris", "faulty."]]
    by_time = [[w for s, e, w in words if lo <= (s + e) / 2 < hi] for lo, hi in ((0, 2), (2, 4), (4, 9))]
    assert by_time[1][0] == "Dana."                   # what time alone would have done


def test_dev_transcripts_are_read_back_by_sentence_and_voice_and_a_cut_line_is_skipped(tmp_path):
    """A run stopped mid-write leaves a cut last line; the next run reads the rest and
    hears again only what is missing."""
    import json

    from tools.hear_dev import heard_file, read_heard

    rows = [{"voice": "espeak-us-m", "text": "I'll call you.", "heard": "I call you."},
            {"voice": "piper-joe", "text": "I'll call you.", "heard": "I'll call you."}]
    heard_file(tmp_path).write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"voice": "hib',
                                    encoding="utf-8")
    assert read_heard(tmp_path) == {"I'll call you.": {"espeak-us-m": "I call you.",
                                                       "piper-joe": "I'll call you."}}
    assert read_heard(tmp_path / "none") == {}


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs Debian espeak-ng")
def test_sentences_heard_together_come_back_each_with_its_own_words(tmp_path):
    """Real speech (espeak-ng) and the real Whisper tiny.en, three sentences in one pack."""
    from benchmarks.cues import Hearer
    from tools.hear_dev import hear_packed

    texts = ["I will send you the refund form by email today.",
             "Please restart the router and wait two minutes.",
             "Thank you for calling, have a good evening."]
    hearer = Hearer(tmp_path, ["espeak-us-f"])
    (pack, heard), = hear_packed(hearer, "espeak-us-f", texts)
    assert pack == texts
    words = [set(re.findall(r"[a-z]+", h.lower())) for h in heard]
    assert {"refund", "today"} <= words[0] and {"router", "minutes"} <= words[1]
    assert {"calling", "evening"} <= words[2]
    assert not (words[0] & {"router", "calling"}) and not (words[2] & {"router", "refund"})


@pytest.mark.parametrize("shard", ["2/2", "x", "1/0"])
def test_a_bad_shard_is_one_error_line(capsys, shard):
    from tools.hear_dev import main

    assert main(["--shard", shard]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"--shard {shard}: expected K/N with 0 <= K < N"]
