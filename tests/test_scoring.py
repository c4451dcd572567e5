"""Word error rate: one helper (tools/scoring.py, counted by jiwer) for tests and benchmarks."""
import pytest

from tools.scoring import normalize_text, wer, word_errors


def test_normalisation_ignores_case_and_punctuation_but_keeps_contractions():
    assert normalize_text("Hi, I'm Dana — how can I help?") == ["hi", "i'm", "dana", "how", "can", "i", "help"]
    assert normalize_text("a well-known 'quote'") == ["a", "well", "known", "quote'"]


def test_word_errors_count_substitutions_deletions_and_insertions():
    assert word_errors("Thank you for calling.", "thank you for calling") == (0, 4)
    assert word_errors("the router blinks orange", "the router blinks") == (1, 4)          # deletion
    assert word_errors("the router blinks", "the old router blinks") == (1, 3)             # insertion
    assert word_errors("flush your DNS cache", "flash your DNS cash") == (2, 4)           # substitutions
    assert wer("one two three four", "one too three") == pytest.approx(0.5)


def test_empty_sides():
    assert word_errors("", "hello there") == (2, 0)
    assert word_errors("hello there", "") == (2, 2)
    assert wer("", "") == 0.0
