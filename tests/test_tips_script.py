"""benchmarks/tips.py's call script and its sorting of tips (the live run is the benchmark)."""
from benchmarks.tips import KINDS, decided_by, holds_term, script
from voicecoach.analyzers.lexicon import load_lexicon
from voicecoach.events import AGENT, Event


def test_the_script_says_labelled_tip_sentences_each_turn_answered_by_the_caller():
    turns = script(12, seed=3)
    assert [s for s, _ in turns] == ["agent", "customer"] * (len(turns) // 2)
    said = " ".join(text for s, text in turns if s == "agent")
    assert 6 <= len(turns) // 2 <= 12 and said.count(".") + said.count("?") + said.count("!") >= 12
    assert script(12, seed=3) == turns and script(12, seed=4) != turns


def test_trade_term_scripts_hold_a_trade_term_in_every_agent_turn():
    terms = load_lexicon()["trade_terms"]
    turns = script(10, seed=1, terms=terms)
    assert all(holds_term(text, terms) for s, text in turns if s == "agent")
    assert not holds_term("Thanks for calling, how can I help?", terms)
    assert set(KINDS) == {"jargon", "scary", "patronizing"}


def test_tips_are_sorted_by_what_decided_them():
    terms = load_lexicon()["trade_terms"]

    def tip(phrase, **data):
        return Event("cue", 1.0, AGENT, "", {"cue": "jargon", "phrase": phrase, **data})

    assert decided_by(tip("fused spur"), terms) == "trade term"
    assert decided_by(tip("fused spur behind"), terms) == "phrase list"
    assert decided_by(tip("Reboot"), terms) == "phrase list"
    assert decided_by(tip("The whole sentence.", by="model"), terms) == "sentence model"
