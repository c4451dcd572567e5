"""Coach rules: the right nudge, at once, and not too often."""
from voicecoach.coach import CoachOptions, CoachRules
from voicecoach.events import Event


def interruption(t, by="agent"):
    return Event("interruption", t, by, "", {"decided_t": t + 1.0})


def cue(kind, t):
    return Event("cue", t, "agent", "", {"cue": kind})


def test_agent_interruption_nudges_at_once_customer_interruption_does_not():
    coach = CoachRules()
    (n,) = coach.feed([interruption(10.0)])
    assert n.kind == "nudge" and n.data["nudge"] == "let_them_finish" and n.t == 11.0
    assert coach.feed([interruption(30.0, by="customer")]) == []


def test_cooldown_per_kind_and_minimum_gap():
    coach = CoachRules(CoachOptions(interruption_cooldown_s=10, min_gap_s=8, warmth_cooldown_s=90))
    assert coach.feed([interruption(0.0)])
    assert coach.feed([interruption(5.0)]) == []          # cooling down
    assert coach.feed([interruption(12.0)])               # due again
    assert coach.feed([cue("low_warmth", 15.0)]) == []    # too soon after any nudge
    assert coach.feed([cue("low_warmth", 25.0)])[0].data["nudge"] == "smile"
    assert coach.feed([cue("low_warmth", 60.0)]) == []    # smile cools down for 90 s


def test_most_urgent_nudge_wins_when_two_are_due():
    coach = CoachRules()
    out = coach.feed([cue("monotone", 20.0), cue("caller_heated", 20.0)])
    assert [n.data["nudge"] for n in out] == ["caller_heated"]


def test_slow_down_only_after_a_sustained_fast_pace():
    coach = CoachRules(CoachOptions(fast_for_s=8))
    snap = lambda t, zone: {"t": t, "pace": {"zone": zone}}  # noqa: E731
    assert coach.snapshot(snap(0, "fast")) == []
    assert coach.snapshot(snap(5, "fast")) == []
    assert coach.snapshot(snap(6, "comfortable")) == []
    assert coach.snapshot(snap(10, "fast")) == []
    (n,) = coach.snapshot(snap(18.5, "fast"))
    assert n.data["nudge"] == "slow_down"
