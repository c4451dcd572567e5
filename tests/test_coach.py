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


def said(text, t, channel="agent"):
    """``text`` as committed words of ``channel`` from ``t``, 0.3 s each."""
    return [Event("word", t + 0.3 * i, channel, w, {"end": round(t + 0.3 * i + 0.25, 3)})
            for i, w in enumerate(text.split())]


def quiet_caller(t, quiet_s):
    return {"t": t, "caller_quiet_s": quiet_s}


def test_the_closing_reminder_waits_out_a_hold_the_agent_asked_for():
    """A caller quiet for 12 s usually means the call is ending; after "let me put you on
    hold" it means they are holding, and the one closing reminder of the call would
    come at the wrong time (and not when the call really ends)."""
    coach = CoachRules()
    coach.feed(said("Okay, I can see the charge.", 80.0, "customer"))
    coach.feed(said("Let me put you on hold for a moment while I check with billing.", 82.0))
    coach.feed(said("Sure.", 86.5, "customer"))
    assert coach.snapshot(quiet_caller(100.0, 13.0)) == []        # on hold
    assert coach.snapshot(quiet_caller(140.0, 53.0)) == []
    coach.feed(said("Thanks for holding, the refund is on its way.", 141.0))
    coach.feed(said("Great.", 144.0, "customer"))
    (n,) = coach.snapshot(quiet_caller(157.0, 12.5))               # quiet after the hold: wrapping up
    assert n.data["nudge"] == "closing"

    coach = CoachRules()                                            # no hold asked for: the reminder
    coach.feed(said("Okay, I can see the charge.", 80.0, "customer"))
    coach.feed(said("The refund will reach your card in five days.", 82.0))
    assert coach.snapshot(quiet_caller(100.0, 13.0))[0].data["nudge"] == "closing"


def test_what_asks_the_caller_to_hold():
    from voicecoach.coach import HoldWatch

    def asked(text):
        hold = HoldWatch()
        for i, w in enumerate(text.split()):
            hold.feed(w, float(i))
        return hold.asked_at is not None

    for text in ("Can I place you on a brief hold?", "Bear with me while I pull that up.",
                 "One moment please.", "Give me a second while I look.", "Just a sec.",
                 "Hold on, let me check.", "Please stay on the line.", "I won't be long.",
                 # as Whisper tiny.en heard "Bear with me, I'm going to put you on hold for a minute."
                 "Where with me, I'm going to put you on the phone for a minute."):
        assert asked(text), text
    for text in ("Thank you for holding.", "Hold the power button for ten seconds.",
                 "It will charge a second card.", "A minute ago you said it worked.",
                 "Is there a second account on the bill?", "Let me put you on hold. Okay, thanks for waiting.",
                 "I'll put a 30 day hold on the account.", "The bill will stay on hold until you've spoken to him.",
                 "Sorry, the line dropped for a second there.", "Hold on to the receipt, please.",
                 "Fine, transferring you now, hold the line.",
                 "In a minute I'll ring the council with you on the line, and after that I'll email you a budget."):
        assert not asked(text), text
