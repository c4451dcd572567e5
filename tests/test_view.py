"""One place for each rule: the pace zone, the scores every view shows, the line splitter
and the config defaults, read alike by the tracker, the summary, the report and the console."""
from __future__ import annotations

import io

import numpy as np
import pytest

from voicecoach.analyzers.language import LanguageCues, LanguageOptions
from voicecoach.analyzers.pace import PaceOptions, zone
from voicecoach.config import Config
from voicecoach.events import Event, Word, segments_from_words, split_lines
from voicecoach.sinks.console import ConsoleView
from voicecoach.sinks.report import report_html
from voicecoach.sinks.summary import summary_text
from voicecoach.sinks.view import (
    ZONE_ROLES,
    ZONE_TEXT,
    call_scores,
    moments,
    pace_range,
    peak_envelope,
    record_config,
    scorecard,
    transcript_lines,
)
from voicecoach.store.record import SCHEMA


SPOKEN = [(0.0, "Hello"), (0.3, "there."), (1.0, "did"), (1.3, "you"), (1.6, "restart"), (1.9, "it"),
          (3.9, "okay"), (4.2, "then")]     # a pause of 1.75 s before "okay"


def agent_words(spec=SPOKEN):
    """``[(start, text), ...]`` -> the agent's words, 0.25 s long."""
    return [Word("agent", t, t + 0.25, w) for t, w in spec]


def segment(words):
    return {"channel": words[0].channel, "start": words[0].start, "end": words[-1].end,
            "text": " ".join(w.text for w in words), "words": [w.as_dict() for w in words]}


def make_record(wpm=200.0, **config):
    """A short two-sided call record; ``config`` is the record's config (may be partial)."""
    said = agent_words()
    transcript = [segment(said[:5]), segment(said[5:]), segment([Word("customer", 6.0, 6.3, "My"),
                                                                 Word("customer", 6.3, 6.6, "bill.")])]
    return {
        "schema": SCHEMA, "created": "2026-11-20T10:00:00+00:00", "voicecoach_version": "0.1.0",
        "source": {"name": "call.flac", "channels": ["agent", "customer"]},
        "duration": 8.0, "stt_model": "tiny.en", "unavailable": [],
        "talk_time": {"agent": 4.0, "customer": 1.0}, "talk_share": {"agent": 0.8, "customer": 0.2},
        "interruptions": [], "backchannels": [], "near_misses": [], "dead_air": [], "response_gaps": [],
        "longest_agent_monologue": 4.0,
        "pace": {"agent_wpm": wpm, "agent_words": 7, "syllables_per_s": 4.0, "timeline": [[5.0, wpm]]},
        "warmth": {"mean": 0.5, "first_minute_mean": 0.5, "baseline": "call", "model": "m", "timeline": []},
        "caller_arousal": None,
        "checklist": {"greeting": True, "empathy": False, "questions": True, "closing_question": False},
        "questions": {"open": 1, "closed": 0}, "commitments": [], "caller_problems": [],
        "language_counts": {}, "transcript": transcript,
        "cues": [{"t": 6.0, "kind": "hostile", "text": "Hostile language: \"damn\"", "channel": "customer"},
                 {"t": 7.0, "kind": "low_warmth", "text": "Warmth low", "channel": "agent"},
                 {"t": 7.5, "kind": "greeting", "text": "Greeting", "channel": "agent"}],
        "config": config,
    }


# --------------------------------------------------------------------------- pace zone

@pytest.mark.parametrize("wpm, expected", [(120, "slow"), (140, "comfortable"), (190, "comfortable"),
                                           (200, "brisk"), (210, "brisk"), (231, "fast")])
def test_the_summary_and_the_scorecard_say_the_trackers_zone(wpm, expected):
    record = make_record(wpm, pace={"band_low_wpm": 140.0, "band_high_wpm": 190.0, "fast_wpm": 210.0})
    assert zone(wpm, PaceOptions()) == expected
    text = f"({ZONE_TEXT[expected]}; comfortable is 140–190)"
    assert f"{wpm:.0f} words/min {text}" in summary_text(record)
    row = {r.label: r for r in scorecard(record)}["Pace"]
    assert row.detail.startswith(f"{ZONE_TEXT[expected]}; comfortable is 140–190")
    assert row.status == ("good" if expected == "comfortable" else "watch")
    assert ZONE_TEXT[expected] in report_html(record)


def test_one_silence_is_one_length_in_every_view():
    """A silence of 6.79 s after the caller is the longest response gap and the dead air:
    the scorecard said "longest 6.8 s" of one and "longest 7 s" of the other, the summary
    "7 s"; every view now gives it to a tenth."""
    record = make_record()
    record["dead_air"] = [{"start": 103.134, "end": 109.922}]
    record["response_gaps"] = [0.5, 6.788]
    rows = {r.label: r for r in scorecard(record)}
    assert rows["Response gaps"].detail.endswith("longest 6.8 s")
    assert rows["Dead air"].detail == "longest 6.8 s"
    assert "1 dead-air stretch, longest 6.8 s" in summary_text(record)
    assert "longest 6.8 s" in report_html(record) and "longest 7 s" not in report_html(record)


def test_an_empty_transcript_says_whether_speech_to_text_ran():
    """A call where speech-to-text ran and heard no words said "transcription was off"."""
    heard_nothing = dict(make_record(), transcript=[])
    assert "No words were heard in this call." in report_html(heard_nothing)
    assert "transcription was off" not in report_html(heard_nothing)
    off = dict(heard_nothing, stt_model=None)
    assert "No transcript: transcription was off." in report_html(off)


def test_the_scorecard_says_what_warmth_was_judged_against_as_the_summary_does():
    """Without a voice profile the summary said "against your voice earlier in this call"
    and the review and report's scorecard "0.5 = your ordinary voice", as if calibrated."""
    record = make_record()                                     # baseline "call"
    detail = {r.label: r for r in scorecard(record)}["Warmth"].detail
    assert detail.endswith("0.5 = your voice earlier in this call")
    assert "against your voice earlier in this call" in summary_text(record)
    assert "0.5 = your voice earlier in this call" in report_html(record)
    profiled = make_record()
    profiled["warmth"] = dict(profiled["warmth"], baseline="profile")
    assert {r.label: r for r in scorecard(profiled)}["Warmth"].detail.endswith(
        "0.5 = your ordinary voice (voice profile)")
    assert "against your voice profile" in summary_text(profiled)


def test_slow_down_is_said_only_over_fast_wpm():
    brisk = summary_text(make_record(200.0))
    assert "brisk" in brisk and "slow down" not in brisk
    assert "fast: slow down a little" in summary_text(make_record(231.0))


def test_zone_of_syllables_and_every_zone_has_words_and_a_colour():
    o = PaceOptions()
    assert [zone(v, o, "syllables_per_s") for v in (2.0, 4.0, 4.8, 6.0)] == ["slow", "comfortable", "brisk", "fast"]
    assert zone(None, o) is None
    with pytest.raises(ValueError):
        zone(4.0, o, "syllables")
    assert set(ZONE_TEXT) == set(ZONE_ROLES) == {"slow", "comfortable", "brisk", "fast"}


# --------------------------------------------------------------------------- defaults

def test_record_config_fills_missing_settings_from_the_config_defaults():
    config = record_config(make_record(pace={"fast_wpm": 250.0, "gone_setting": 1}, nosuch={"x": 1}))
    assert config.pace.fast_wpm == 250.0
    assert config.pace.band_low_wpm == Config().pace.band_low_wpm
    assert config.warmth.low_warmth == Config().warmth.low_warmth
    assert config.language.sentence_gap_s == Config().language.sentence_gap_s


def test_views_of_a_record_without_config_use_the_defaults():
    record = make_record(231.0)
    record.pop("config")
    scores = call_scores(record)
    defaults = Config().pace
    assert (scores.pace.low, scores.pace.high, scores.pace.fast) == \
        (defaults.band_low_wpm, defaults.band_high_wpm, defaults.fast_wpm)
    assert scores.pace.zone == "fast" and scores.low_warmth == Config().warmth.low_warmth
    lo, hi = pace_range(record)
    assert lo <= defaults.band_low_wpm and hi >= max(defaults.fast_wpm, 231.0)
    assert "comfortable is 140–190" in summary_text(record) and report_html(record)


def test_no_speech_at_all_in_every_view():
    record = make_record(None)
    record["talk_share"] = {"agent": None, "customer": None}
    assert "no speech heard on either side" in summary_text(record)
    row = {r.label: r for r in scorecard(record)}["Talk share"]
    assert (row.value, row.status) == ("–", "na")


def test_a_coachs_view_names_the_agent_where_the_agents_own_says_you():
    from voicecoach.sinks.view import marker_spans, turn_legend

    record = make_record()
    record["interruptions"] = [{"by": "agent", "start": 2.0, "end": 2.5}]
    record["backchannels"] = [{"by": "agent", "start": 6.1, "end": 6.3}]
    own, coach = scorecard(record), scorecard(record, "alice")
    assert [r.value for r in own][:1] == ["80 % you"] and [r.value for r in coach][:1] == ["80 % alice"]
    assert {r.label: r.value for r in coach}["Interruptions"] == "1 by alice"
    assert "alice's “mm-hm”s" in {r.label: r.detail for r in coach}["Acknowledgements"]
    assert not any("you" in (r.value + r.detail).lower().split() for r in coach)
    assert [tip for *_, tip in marker_spans(record, "alice")] == [
        "alice interrupted at 0:02", "Acknowledgement by alice at 0:06 (good listening)"]
    assert [tip for *_, tip in marker_spans(record)][0] == "You interrupted at 0:02"
    assert dict(turn_legend("alice"))["agent"] == "alice" and dict(turn_legend())["agent"] == "You"
    # a one-channel call has no caller and no turn-taking marks: its legend lists none of them
    assert turn_legend(record={"source": {"channels": ["agent"]}}) == [("agent", "You")]
    assert len(turn_legend(record={"source": {"channels": ["agent", "customer"]}})) == 7


def test_interruption_times_are_listed_alike_in_every_view():
    """The terminal listed five times and no "…" where the report and review list four and
    say there are more."""
    record = make_record()
    record["interruptions"] = [{"by": "agent", "start": float(t), "end": t + 0.5} for t in (43, 143, 152, 162, 261)]
    assert "you interrupted 5× at 0:43, 2:23, 2:32, 2:42 …;" in summary_text(record)
    assert {r.label: r.detail for r in scorecard(record)}["Interruptions"].startswith("at 0:43, 2:23, 2:32, 2:42 …;")


def test_moments_are_the_voice_cues_in_the_summary_and_the_report():
    record = make_record()
    assert [c["kind"] for c in moments(record)] == ["hostile", "low_warmth"]
    text = summary_text(record)
    assert "Moments     0:06 Hostile language" in text and "0:07 Warmth low" in text


def test_marked_moments_are_a_group_of_their_own():
    """A moment the agent marked (the overlay's Ctrl+Alt+M) is a cue of kind "mark": not a
    follow-up, in a colour of its own, listed by :func:`marks`; its empty list says why."""
    from voicecoach.sinks.view import PALETTE, cue_group, empty_list_text, mark_text, marks

    record = make_record()
    record["cues"] = record["cues"] + [{"t": 9.0, "kind": "mark", "text": "You marked this moment",
                                        "channel": None},
                                       {"t": 3.0, "kind": "mark", "text": "You marked this moment",
                                        "channel": None}]
    assert cue_group("mark") == "mark" and cue_group("commitment") == "note"
    assert PALETTE["mark"] not in (PALETTE["note"], PALETTE["good"], PALETTE["rephrase"], PALETTE["voice"])
    assert [c["t"] for c in marks(record)] == [3.0, 9.0]
    assert mark_text() == "Marked by you" and mark_text("alice") == "Marked by alice"
    record["cues"] = [c for c in record["cues"] if c["kind"] != "mark"]
    assert marks(record) == []
    assert "No moments marked" in empty_list_text(dict(record, live={"latency_p50_s": {}}), "marks")
    assert "recording" in empty_list_text(dict(record, live=None), "marks")


# --------------------------------------------------------------------------- lines

LINES = ["Hello there.", "did you restart it", "okay then"]


def test_one_splitter_one_setting():
    words = agent_words()
    assert [[w.text for w in line] for line in split_lines(words, 1.5)] == [s.split() for s in LINES]
    assert len(split_lines(words, 2.0)) == 2                          # the pause is under 2 s
    assert [s.text for s in segments_from_words("agent", words, 1.5)] == LINES


@pytest.mark.parametrize("gap, lines", [(1.5, LINES), (2.0, [LINES[0], LINES[1] + " " + LINES[2]])])
def test_the_pause_setting_cuts_transcript_console_and_language_alike(gap, lines):
    record = make_record(language={"sentence_gap_s": gap})
    assert [ln.text for ln in transcript_lines(record) if ln.channel == "agent"] == lines

    out = io.StringIO()
    view = ConsoleView(out, captions=True, sentence_gap_s=gap)
    for w in agent_words():
        view("event", Event("word", w.start, "agent", w.text, {"end": w.end}))
    assert [row.split(": ", 1)[1] for row in out.getvalue().splitlines()] == lines[:-1]   # the last is open

    cues = LanguageCues(LanguageOptions(sentence_gap_s=gap))
    events = cues.feed(agent_words()) + cues.flush()
    assert [e.data["phrase"] for e in events if e.data["cue"] == "question_closed"] == [lines[1]]


def test_peak_envelope():
    x = np.zeros(1000, dtype=np.float32)
    x[150] = -0.8
    x[720] = 0.5
    env = peak_envelope(x, 10)
    assert env.shape == (10,)
    assert env[1] == pytest.approx(0.8) and env[7] == pytest.approx(0.5)
    assert env[[0, 2, 3, 4, 5, 6, 8, 9]].max() == 0.0
    assert peak_envelope(x[:3], 10).shape == (3,)


def test_a_call_saved_after_the_next_started_is_summed_up_without_saying_waiting():
    """Saving a call takes seconds; when the next call has started meanwhile, the
    terminal shows the saved call's summary but does not claim to wait for a call."""
    import io

    from voicecoach.sinks.console import CallPrinter

    record = make_record()
    out = io.StringIO()
    show = CallPrinter(out)
    show("call", {"state": "started", "index": 1, "t": 0.0, "reason": "speech"})
    show("call", {"state": "ending", "index": 1, "t": 0.0, "end_t": 95.0, "reason": "speech", "ended_by": "silence"})
    show("call", {"state": "started", "index": 2, "t": 97.0, "reason": "device back"})
    show("call", {"state": "ended", "index": 1, "t": 0.0, "end_t": 95.0, "record": record, "record_path": "/r/1.json"})
    first = out.getvalue()
    assert "call 2 started (1:37 into the shift; the call going on now the input is back)" in first
    assert "Call record: /r/1.json" in first
    assert "Waiting for the next call" not in first
    assert first.rstrip().endswith("── call 2 goes on ──")       # the lines after it are call 2's again
    show("call", {"state": "ended", "index": 2, "t": 97.0, "end_t": 190.0, "record": record, "record_path": "/r/2.json"})
    assert "Waiting for the next call" in out.getvalue()[len(first):]
    assert "goes on ──" not in out.getvalue()[len(first):]
    show("call", {"state": "started", "index": 3, "t": 250.0, "reason": "resumed"})   # a pause ended call 2
    assert "call 3 started (4:10 into the shift; call 2 going on, coached again)" in out.getvalue()


def test_the_terminal_prints_a_calls_header_before_its_first_line():
    """The shift's terminal views share one dispatcher thread: apart, a call's first
    status line could come before its header (seen on a replay)."""
    import time

    from voicecoach.live import Dispatcher
    from voicecoach.sinks.console import CallPrinter, in_order

    out = io.StringIO()
    dispatch = Dispatcher()
    dispatch.subscribe(in_order(CallPrinter(out), ConsoleView(out, captions=False)))
    dispatch.start()
    for i in range(1, 30):
        dispatch.emit("call", {"state": "started", "index": i, "t": 100.0 * i, "reason": "speech"})
        dispatch.emit("snapshot", {"t": 0.0, "warmth": {"warmth": None}, "pace": {}})
        time.sleep(0.005)                               # each call's line printed (a backlog drops some)
    dispatch.drain()
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    headers = [i for i, ln in enumerate(lines) if ln.startswith("── call")]
    assert len(headers) == 29 and headers[0] == 0 and len(lines) > 40
    assert all(lines[i - 1].startswith("── call") for i in range(1, len(lines)) if i not in headers), lines[:6]


def test_a_terminal_view_that_fails_leaves_the_other_printing(capsys):
    from voicecoach.sinks.console import in_order

    def broken(kind, payload):
        raise RuntimeError("boom")

    out = io.StringIO()
    both = in_order(broken, ConsoleView(out, captions=False))
    both("status", "Lost the microphone")
    both("status", "The microphone is back")
    assert out.getvalue().count("!") == 2
    assert capsys.readouterr().err.count("gets nothing more") == 1


def test_a_terminal_whose_reader_is_gone_stops_printing_without_a_traceback(capsys):
    """`live --console | head`: once head had its lines, the call printer and the live view
    each printed a BrokenPipeError traceback (the call was still coached and saved)."""
    from voicecoach.sinks.console import CallPrinter, in_order

    class Gone(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    out = Gone()
    both = in_order(CallPrinter(out), ConsoleView(out, captions=False))
    both("call", {"state": "started", "index": 1, "t": 0.0, "reason": "speech"})
    both("status", "Lost the microphone")
    assert capsys.readouterr().err == ""


def test_a_call_saved_after_ctrl_c_is_summed_up_without_saying_waiting():
    """A call that ended by itself may still be saving when the agent presses Ctrl-C:
    its summary comes, and no line says the shift waits for another call."""
    import io

    from voicecoach.sinks.console import CallPrinter

    ending = [False]
    out = io.StringIO()
    show = CallPrinter(out, ending=lambda: ending[0])
    show("call", {"state": "started", "index": 1, "t": 0.0, "reason": "speech"})
    ending[0] = True
    show("call", {"state": "ended", "index": 1, "t": 0.0, "end_t": 95.0, "record": make_record(),
                  "record_path": "/r/1.json", "ended_by": "silence"})
    assert "Call record: /r/1.json" in out.getvalue()
    assert "Waiting for the next call" not in out.getvalue()


def test_the_console_names_events_as_every_other_view_does():
    """Turn events and language cues in the live console read as in the summary, the report
    and the review ("Acknowledgement", "Open question"), not by their internal kinds."""
    from voicecoach.analyzers.turns import TurnTaking
    from voicecoach.analyzers.vad import WINDOW_S, VoiceActivity

    def probs(spans, n):
        t = np.arange(n) * WINDOW_S
        return np.array([0.95 if any(s <= x < e for s, e in spans) else 0.0 for x in t], np.float32)

    # the agent: "mm-hm" at 3 s, cuts in at 8 s, talks 12-15 s; the caller comes in just before
    # 15 s; 6 s of silence after 18 s
    agent, caller = [(3.0, 3.4), (8.0, 11.0), (12.0, 15.0), (24.0, 26.0)], [(0.0, 6.0), (7.0, 10.0), (14.9, 18.0)]
    n = int(round(27.0 / WINDOW_S))
    a, c = VoiceActivity(), VoiceActivity()
    turns = TurnTaking(a, c)
    events = []
    for pa, pc in zip(probs(agent, n), probs(caller, n)):
        a.step_probs(np.array([pa]))
        c.step_probs(np.array([pc]))
        events += turns.update()
    events += turns.finish()
    cues = LanguageCues(LanguageOptions())
    said = [(30.0, "What"), (30.3, "happens"), (30.6, "when"), (30.9, "you"), (31.2, "restart"), (31.5, "it?"),
            (33.0, "Is"), (33.3, "there"), (33.6, "anything"), (33.9, "else"), (34.2, "I"), (34.5, "can"),
            (34.8, "help"), (35.1, "you"), (35.4, "with?")]
    events += cues.feed(agent_words(said)) + cues.flush()
    assert {"backchannel", "interruption", "near_miss", "dead_air"} <= {e.kind for e in events}
    assert {"question_open", "closing_question"} <= {e.data.get("cue") for e in events}

    out = io.StringIO()
    view = ConsoleView(out, captions=False)
    for e in sorted(events, key=lambda e: e.t):
        view("event", e)
    text = out.getvalue()
    for name in ("Acknowledgement: You acknowledged", "Interruption: You cut in",
                 "Fast turn change: The caller came in just as you finished", "Dead air: ",
                 'Open question: "', 'Closing question: "'):
        assert name in text, (name, text)
    for internal in ("backchannel", "near miss", "near_miss", "dead air by", " by agent", " by customer",
                     " by both", "question_open", "closing_question"):
        assert internal not in text, (internal, text)


def test_the_console_marks_only_problems_as_warnings():
    """A lost device is flagged with "!"; pausing and resuming coaching are states, said
    plainly (they were printed as "! Coaching paused", as a lost device is)."""
    out = io.StringIO()
    view = ConsoleView(out, captions=False)
    view("status", "Lost the microphone 5:31 into the shift; everything so far is kept")
    view("shift", {"paused": True})
    view("shift", {"paused": False})
    view("shift", {"away": None})
    assert [ln.strip() for ln in out.getvalue().splitlines()] == [
        "! Lost the microphone 5:31 into the shift; everything so far is kept",
        "Coaching paused", "Coaching resumed: waiting for a call"]


def test_the_after_call_card_says_when_the_words_were_not_checked():
    """With speech-to-text off no checklist, rephrasing or follow-up was looked for: the card
    must not read as a clean call."""
    from voicecoach.sinks.view import after_call

    record = make_record()
    assert after_call(record).unchecked == ""
    off = dict(record, unavailable=["transcript", "language cues"], commitments=[], caller_problems=[], cues=[])
    assert "not checked (speech-to-text was off)" in after_call(off).unchecked


def test_a_tick_the_agent_saw_live_that_the_final_transcript_lacks_is_explained():
    """The overlay ticked empathy from the streamed words; the record, decoded again, has
    none, and the card said "Acknowledge the trouble" with no word of why the tick the
    agent had just seen was gone. The card now points at the live tick's time and says
    so, as does the checklist line of the summary; a record written before (no such
    field, or a damaged one) reads as it did."""
    from voicecoach.sinks.view import after_call, checklist_items

    plain = make_record()
    before = after_call(plain).work_on
    assert (None, "Acknowledge the trouble: “I'm sorry this happened”") in before
    record = make_record()
    record["live"] = {"ticked_live_only": {"empathy": {"t": 83.2, "text": 'Empathy: "I\'m so sorry"'}}}
    items = after_call(record).work_on
    empathy = [(t, text) for t, text in items if text.startswith("Acknowledge the trouble")]
    assert empathy == [(83.2, "Acknowledge the trouble: “I'm sorry this happened” "
                              "(ticked live here, not in the final transcript)")]
    assert ("empathy (ticked live at 1:23, not in the final transcript)", False) in checklist_items(record)
    assert "empathy (ticked live at 1:23, not in the final transcript)" in summary_text(record)
    for broken in ({"ticked_live_only": ["empathy"]}, {"ticked_live_only": {"empathy": {"t": "soon"}}}, None):
        assert after_call(dict(record, live=broken)).work_on == before


def test_a_tick_made_live_before_a_cut_is_explained_on_the_card_of_the_part_that_goes_on():
    """Part 1 of a call cut by a pause ticked the greeting from its live words only; the
    overlay keeps the tick through the cut, and part 2's card said "Open with a greeting"
    with no word of why. Part 2's record now says the tick was made live in call 1, and
    a third part carries it on."""
    from voicecoach.shift import _live_only, _live_only_before
    from voicecoach.sinks.view import after_call, checklist_items

    part1 = dict(make_record(), shift={"call": 1},
                 live={"ticked_live_only": {"greeting": {"t": 3.5, "text": "Greeting"}}})
    part1["checklist"] = {"greeting": False, "empathy": True, "questions": True, "closing_question": False}
    before = _live_only(part1)
    assert before == {"greeting": 1}
    part2 = dict(make_record(), shift={"call": 2, "continues": 1}, live={"ticked_live_only": {}})
    part2["checklist"] = {"greeting": False, "empathy": False, "questions": True, "closing_question": True}
    _live_only_before(part2, before)
    assert part2["live"]["ticked_live_only"] == {"greeting": {"in_call": 1}}
    tips = [text for t, text in after_call(part2).work_on if "greeting" in text]
    assert tips == ["Open with a greeting and your name (ticked live in call 1, not in the final transcript)"]
    assert ("greeting (ticked live in call 1, not in the final transcript)", False) in checklist_items(part2)
    part3 = dict(part2, shift={"call": 3, "continues": 2}, live={"ticked_live_only": {}})
    _live_only_before(part3, _live_only(part2))
    assert part3["live"]["ticked_live_only"] == {"greeting": {"in_call": 1}}
    said = dict(part2, checklist=dict(part2["checklist"], greeting=True), live={"ticked_live_only": {}})
    _live_only_before(said, before)                   # said again after the cut: nothing to explain
    assert said["live"]["ticked_live_only"] == {}


@pytest.mark.parametrize("width", [60, 80, 100])
def test_a_summary_in_a_terminal_is_wrapped_at_words_under_its_column(width):
    """In a terminal narrower than a row, the row went on past the edge and the terminal
    broke it mid-word at the first column ("4.0 syll" / "ables/s"): each row is wrapped at
    its words, the rest under the text, never past the terminal's width."""
    record = make_record(200.0)
    record["caller_problems"] = [{"t": 6.0, "text": "My internet keeps dropping every evening and it "
                                                    "has been going on for a week now, and I was charged twice."}]
    whole = summary_text(record)
    text = summary_text(record, width=width)
    assert max(len(line) for line in text.splitlines()) <= width
    assert " ".join(text.split()) == " ".join(whole.split())          # nothing lost, nothing cut
    said = [line for line in text.splitlines() if "charged" in line or "My internet" in line]
    assert said[0].startswith("Caller said 0:06")
    rest = text.splitlines()[text.splitlines().index(said[0]) + 1]
    assert rest.startswith(" " * 12) and not rest[12].isspace()
    assert any(line.startswith("Caller said 0:06") and line.endswith("charged twice.”")
               for line in whole.splitlines())                          # no width: rows whole


class Terminal:
    """A real pseudo-terminal ``columns`` wide (what ``live --console`` prints to in a
    terminal window): ``out`` is its writing end, :meth:`lines` what it shows."""

    def __init__(self, columns: int):
        import fcntl
        import os
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        self.out = os.fdopen(slave, "w", encoding="utf-8", buffering=1)
        self._got = b""

    def lines(self) -> list[str]:
        import os
        import select

        self.out.flush()
        while select.select([self.master], [], [], 0.2)[0]:
            self._got += os.read(self.master, 65536)
        return self._got.decode("utf-8").replace("\r\n", "\n").splitlines()

    def close(self) -> None:
        import os

        self.out.close()
        os.close(self.master)


def test_the_call_printer_wraps_a_summary_only_in_a_terminal():
    from voicecoach.sinks.console import CallPrinter

    record = make_record(200.0)
    tty, plain = Terminal(60), io.StringIO()
    try:
        for out in (tty.out, plain):
            CallPrinter(out)("call", {"state": "ended", "index": 1, "t": 0.0, "end_t": 8.0, "record": record})
        shown = tty.lines()
    finally:
        tty.close()
    assert shown and max(len(line) for line in shown) <= 60
    assert max(len(line) for line in plain.getvalue().splitlines()) > 60      # a pipe: rows whole
    assert " ".join(" ".join(shown).split()) == " ".join(plain.getvalue().split())


def test_the_live_lines_in_a_narrow_terminal_wrap_under_their_text():
    """At 60 columns a caption or a cue went past the edge and the terminal broke it
    mid-word at the first column, into the time column: wrapped at words, under the text."""
    tty = Terminal(60)
    view = ConsoleView(tty.out, sentence_gap_s=1.0)
    sentence = ("The router lights blink orange and nothing loads and I was charged twice on my "
                "last bill for internet that doesn't even work.")
    try:
        for i, w in enumerate(sentence.split()):
            view("event", Event("word", 15.0 + 0.3 * i, "customer", w, {"end": 15.2 + 0.3 * i}))
        view("event", Event("interruption", 21.0, "agent", "You cut in while the caller was talking", {}, 0.021))
        lines = tty.lines()
    finally:
        tty.close()
    assert max(len(line) for line in lines) <= 60
    assert lines[0].startswith("[ 0:15] caller: The router")
    assert all(line.startswith(" " * 16) and not line[16].isspace() for line in lines[1:-2])
    assert lines[-2].startswith("[ 0:21]     Interruption: You cut in") and lines[-1].startswith(" " * 12)
    assert " ".join(" ".join(lines[:-2]).split()) == "[ 0:15] caller: " + sentence

    plain = io.StringIO()                       # a pipe or a file: lines stay whole
    ConsoleView(plain)("event", Event("interruption", 21.0, "agent", "You cut in while the caller was talking "
                                      "and went on for a good while", {}, 0.021))
    assert len(plain.getvalue().splitlines()) == 1


def test_a_shift_whose_terminal_reader_is_gone_ends(tmp_path):
    """`live --console | head` (or a pager quit early): the shift coached on, unseen, until
    the replay ran out or, on real devices, until Ctrl-C. Now the shift ends once the
    terminal's reader is gone (the call so far saved), quietly."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, HOME=str(tmp_path), VOICECOACH_DATA_DIR=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "config"))
    proc = subprocess.Popen([sys.executable, "-m", "voicecoach", "live", "--replay", "demo", "--console",
                             "--no-transcript"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    for _ in range(3):                       # what `head -3` reads (the demo call is 74 s long)
        assert proc.stdout.readline()
    proc.stdout.close()
    try:
        err = proc.communicate(timeout=60)[1].decode()
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("the shift went on coaching with no one reading")
    assert proc.returncode == 0 and "Traceback" not in err, err
