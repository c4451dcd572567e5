"""benchmarks/caller_list.py: whole calls whose caller sentences carry a problem's id."""
import pytest

from benchmarks.caller_list import DATA, SECOND, caller_list, holds, load
from voicecoach.events import CUSTOMER


@pytest.mark.parametrize("path", [DATA, SECOND], ids=["first", "second"])
def test_the_shipped_calls_load_each_with_a_problem_and_agent_lines_unlabelled(path):
    calls = load(path)
    assert len(calls) == 45
    for call in calls:
        ids = [pid for ch, pid, _ in call.lines if ch == CUSTOMER and pid != "-"]
        assert ids and ids[0] == "P1", call.name
        assert all(pid == "-" for ch, pid, _ in call.lines if ch != CUSTOMER), call.name


@pytest.mark.parametrize("bad", ["A | P1 | The agent has no problem ids.", "C | X1 | Not an id.",
                                 "C | - |", "Just text."])
def test_a_malformed_line_names_its_place(tmp_path, bad):
    path = tmp_path / "calls.txt"
    path.write_text(f"# --- Broadband: drops\nC | P1 | My internet keeps dropping.\n{bad}\n")
    with pytest.raises(ValueError, match=r"calls\.txt:3: expected"):
        load(path)


def test_a_problem_restated_in_later_turns_is_listed_again_under_its_first_mentions_id():
    """What the benchmark counts: the list holds a later turn's restatement too (a
    repeat); the sentences of one turn are one item."""
    [call] = [c for c in load(DATA) if c.name.startswith("Broadband provider (UK): connection keeps dropping")]
    got = caller_list(call)
    assert got[0] == ({"P1"}, "Hi Kieran, yeah, I'm calling about my internet. It keeps dropping out on me.")
    assert ({"P1"}, "It cut out three times last night alone.") in got
    assert [pids for pids, _ in got].count({"P1"}) >= 3


def test_an_item_that_lists_a_lines_second_sentence_alone_holds_that_lines_problem():
    """A line of two sentences whose first states no problem is listed as its second alone:
    the item holds the line's problem (it was counted as "no problem", and the problem as
    missed); a sentence too short to tell lines apart does not count."""
    line = "And there's something else. I paid for an extra legroom seat and they put me at the back."
    assert holds("I paid for an extra legroom seat and they put me at the back.", line)
    assert holds("Hi. " + line.replace("else.", "else,"), line)             # the whole line, joined
    assert not holds("It still hasn't arrived. Okay.", "Okay. It has arrived now.")
