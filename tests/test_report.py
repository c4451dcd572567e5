"""The HTML report: self-contained, carries the record's scores, transcript and lists."""
from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from voicecoach.events import SAMPLE_RATE
from voicecoach.sinks.report import audio_data_uri, curve_svg, report_html, timeline_svg, write_report
from voicecoach.sinks.view import CARE_NOTE, line_at, scorecard, transcript_lines
from voicecoach.sources.audio import CallAudio
from voicecoach.store.record import SCHEMA

DURATION = 4.0


def words(start, texts, step=0.3):
    return [{"start": round(start + i * step, 3), "end": round(start + i * step + 0.25, 3), "text": t,
             "probability": 0.9} for i, t in enumerate(texts)]


@pytest.fixture
def record():
    agent_1 = words(0.1, ["Hello,", "how", "can", "I", "help?", "Let", "me"])
    agent_2 = words(2.2, ["check", "that", "<now>."])
    caller = words(1.0, ["My", "bill", "is", "wrong", "&", "late."], step=0.2)
    return {
        "schema": SCHEMA, "created": "2026-11-20T10:00:00+00:00", "voicecoach_version": "0.1.0",
        "source": {"name": "tuesday <call>.flac", "channels": ["agent", "customer"]},
        "duration": DURATION, "stt_model": "tiny.en", "unavailable": [],
        "talk_time": {"agent": 2.6, "customer": 1.2},
        "talk_share": {"agent": 0.684, "customer": 0.316},
        "interruptions": [{"start": 1.4, "end": 1.9, "by": "agent"},
                          {"start": 3.0, "end": 3.2, "by": "customer"}],
        "backchannels": [{"start": 2.0, "end": 2.1, "by": "agent"}],
        "near_misses": [], "dead_air": [{"start": 3.3, "end": 3.9}],
        "response_gaps": [0.3, 0.9, 1.7], "longest_agent_monologue": 12.4,
        "pace": {"agent_wpm": 231.0, "agent_words": 10, "syllables_per_s": 5.1,
                 "timeline": [[1.0, 225.0], [2.0, 236.0], [3.0, 231.0]]},
        "warmth": {"mean": 0.27, "first_minute_mean": 0.31, "baseline": "call", "model": "heuristic-v1",
                   "timeline": [[1.0, 0.2], [2.0, 0.3], [3.0, 0.31]]},
        "caller_arousal": None,
        "checklist": {"greeting": True, "empathy": False, "questions": True, "closing_question": False},
        "questions": {"open": 1, "closed": 0},
        "commitments": [{"t": 2.2, "text": "I'll check that now."}],
        "caller_problems": [{"t": 1.0, "text": "My bill is wrong & late."}],
        "language_counts": {},
        "transcript": [
            {"channel": "agent", "start": 0.1, "end": 2.05, "text": "Hello, how can I help? Let me",
             "words": agent_1},
            {"channel": "agent", "start": 2.2, "end": 3.05, "text": "check that <now>.", "words": agent_2},
            {"channel": "customer", "start": 1.0, "end": 2.25, "text": "My bill is wrong & late.",
             "words": caller},
        ],
        "cues": [{"t": 0.1, "kind": "greeting", "text": "Greeting: \"Hello\"", "channel": "agent",
                  "phrase": "Hello"},
                 {"t": 2.5, "kind": "jargon", "text": "Jargon: \"DNS\" -> a setting", "channel": "agent",
                  "phrase": "DNS", "suggestion": "a setting"}],
        "config": {"pace": {"band_low_wpm": 140.0, "band_high_wpm": 190.0, "fast_wpm": 210.0},
                   "warmth": {"low_warmth": 0.3}, "language": {"sentence_gap_s": 1.5}},
    }


@pytest.fixture
def audio():
    t = np.arange(int(DURATION * SAMPLE_RATE)) / SAMPLE_RATE
    agent = (0.3 * np.sin(2 * np.pi * 220 * t) * (t < 2.0)).astype(np.float32)
    customer = (0.2 * np.sin(2 * np.pi * 330 * t) * (t > 1.0)).astype(np.float32)
    return CallAudio(agent, customer, "tuesday.flac")


def assert_self_contained(page: str) -> None:
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "@import" not in page and "url(" not in page
    for src in re.findall(r"src=['\"]([^'\"]*)", page):
        assert src.startswith("data:")


def test_report_is_self_contained_and_carries_the_scores(record):
    page = report_html(record)
    assert_self_contained(page)
    for text in ("68 % you", "1 by you", "12 s", "0.9 s median", "0.27", "231 words/min",
                 "✓ greeting", "✗ empathy", "✗ closing question", "questions (1 open, 0 closed)",
                 "I&#x27;ll check that now.", "My bill is wrong &amp; late.", "a setting", CARE_NOTE):
        assert text in page, text
    assert "tuesday &lt;call&gt;.flac" in page and "<call>" not in page       # escaped
    assert "<audio" not in page                                             # no audio given
    assert "2026-11-20" in page


def test_scorecard_flags_what_to_watch(record):
    rows = {r.label: r for r in scorecard(record)}
    assert rows["Interruptions"].status == "watch"
    assert rows["Warmth"].status == "watch"             # 0.27 under low_warmth 0.3
    assert rows["Pace"].status == "watch" and "fast" in rows["Pace"].detail
    record["interruptions"] = [i for i in record["interruptions"] if i["by"] != "agent"]
    record["pace"]["agent_wpm"] = 160.0
    rows = {r.label: r for r in scorecard(record)}
    assert rows["Interruptions"].status == "good" and rows["Pace"].status == "good"


def test_a_live_call_is_titled_as_the_review_and_the_history_name_it(record):
    """A call coached live is "live call: <what the caller raised>" in the history and in
    its review; its report was titled "call 1, <date>" (every shift has a call 1), so the
    report of a shift's call did not say which call it was. The report now says what the
    review says, and the call's number in its shift beside the date."""
    from voicecoach.sinks.view import call_name

    live = dict(record, source={"name": "call 1, 2026-12-01 09:15", "channels": ["agent", "customer"]},
                shift={"call": 1, "start_s": 0.0, "end_s": 4.0, "started_by": "speech", "ended_by": "silence"})
    page = report_html(live)
    assert call_name(live) == "live call: My bill is wrong & late."
    assert "<h1>live call: My bill is wrong &amp; late.</h1>" in page
    assert "<title>VoiceCoach — live call: My bill is wrong &amp; late.</title>" in page
    assert "<div class='sub'>call 1 of its shift · " in page         # its date follows once
    page = report_html(record)                                  # a recording's call: its file's name, once
    assert "<h1>tuesday &lt;call&gt;.flac</h1>" in page and "<div class='sub'>tuesday" not in page


def test_a_report_without_the_recording_says_why_it_has_no_player_or_waveforms(record, audio):
    """The review says "not recorded: speech spans from the transcript" (or "recording not
    found") over a timeline drawn without audio; the report drew the same blocks with no
    player and said nothing, so a report opened later (or by the coach) read as broken."""
    live = dict(record, source={"name": "call 3, 2026-12-05 16:13", "channels": ["agent", "customer"]},
                shift={"call": 3, "start_s": 0.0, "end_s": 4.0, "started_by": "speech", "ended_by": "silence"})
    timeline = report_html(live).split("<h2>Timeline</h2>")[1].split("</section>")[0]
    assert ("<p class='empty'>No recording was made of this call (recording was off): no waveforms or "
            "playback; the timeline shows speech spans from the transcript.</p>") in timeline
    timeline = report_html(record).split("<h2>Timeline</h2>")[1].split("</section>")[0]
    assert ("<p class='empty'>This report has no recording of the call: no waveforms or playback; "
            "the timeline shows speech spans from the transcript.</p>") in timeline
    record["transcript"] = []
    assert "the timeline shows the call&#x27;s markers only.</p>" in report_html(record)
    assert "<p class='empty'>" not in report_html(dict(live, transcript=[]), audio).split("<h2>Transcript")[0]


def test_the_times_that_play_the_call_are_named_controls_reached_by_the_keyboard(record, audio):
    """A click on a time played the call from there, but the times were plain text: Tab
    never reached them, Enter did nothing, a screen reader did not say they play, and the
    player itself had no name. A page with nothing to play makes no controls of them."""
    page = report_html(record, audio)
    assert "<audio id='call-audio' controls preload='metadata' aria-label='The call&#x27;s recording'" in page
    times = re.findall(r"<td class='t' data-t='([\d.]+)'><span tabindex='0' role='button' "
                       r"aria-label='Play from ([\d:]+)' data-t='([\d.]+)'>([\d:]+)</span></td>", page)
    assert len(times) == len(transcript_lines(record))        # the cell keeps its role; the time in it plays
    assert "<table class='tx'><thead><tr><th>Time</th><th>Who</th><th>Said</th></tr></thead><tbody>" in page
    assert all(cell == span and label == shown for cell, label, span, shown in times)
    items = re.findall(r"<li data-t='[\d.]+'><span class='t' tabindex='0' role='button' "
                       r"aria-label='Play from [\d:]+' data-t=", page)
    assert len(items) == 3 and len(re.findall(r"<li[ >]", page)) == 3
    assert "addEventListener('keydown'" in page and "e.key==='Enter'||e.key===' '" in page
    silent = report_html(record)
    assert "tabindex" not in silent and "role='button'" not in silent
    # a hand over a time only where a click plays (the script marks the page playable)
    assert re.findall(r"([^}]*)\{cursor:pointer\}", silent) and all(
        rule.strip().startswith(".playable") for rule in re.findall(r"([^}\n]*)\{cursor:pointer\}", silent))


def test_mono_call_without_transcript(record):
    record["source"]["channels"] = ["agent"]
    for key in ("talk_share", "interruptions", "backchannels", "near_misses", "dead_air", "response_gaps",
                "longest_agent_monologue", "checklist", "questions", "commitments", "caller_problems"):
        record[key] = None
    record["talk_time"]["customer"] = None
    record["transcript"], record["stt_model"] = [], None
    record["pace"]["agent_wpm"] = None
    record["unavailable"] = ["interruptions", "transcript"]
    page = report_html(record)
    assert_self_contained(page)
    assert "need the caller&#x27;s channel" in page and "No transcript" in page
    assert ("Not measured (a recording of your side only; speech-to-text was off): interruptions, "
            "the transcript." in page)


def test_svgs_are_well_formed(record, audio):
    for svg in (timeline_svg(record), timeline_svg(record, audio),
                curve_svg(record["warmth"]["timeline"], DURATION, lo=0, hi=1, color="#f80", label="w <1>"),
                curve_svg([], DURATION, lo=0, hi=1, color="#f80", label="empty")):
        root = ET.fromstring(svg)
        assert root.tag == "svg"
    with_audio = ET.fromstring(timeline_svg(record, audio))
    assert len(with_audio.findall("polygon")) == 2            # one envelope per side
    spans = ET.fromstring(timeline_svg(record))
    assert len(spans.findall("polygon")) == 0
    assert len([c for c in spans.findall("circle") if c.get("class") == "cue"]) == 2


def test_audio_is_embedded_and_decodes(record, audio):
    import soundfile as sf

    page = report_html(record, audio)
    assert_self_contained(page)
    uri = re.search(r"<audio id='call-audio'[^>]* src='(data:audio/[a-z]+;base64,[^']+)'", page).group(1)
    data, sr = sf.read(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert data.shape[1] == 2 and abs(len(data) / sr - DURATION) < 0.1
    # left = agent: loud in the first two seconds only
    assert np.abs(data[: sr, 0]).max() > 0.1 and np.abs(data[int(2.5 * sr):, 0]).max() < 0.05
    assert audio_data_uri(audio, max_bytes=100) is None
    assert "<audio" not in report_html(record, audio, embed_audio=False)


def test_a_call_too_long_to_embed_is_given_up_early_and_said(tmp_path, record, monkeypatch):
    """A long call's audio is not encoded in whole only to be dropped (a 1-hour call spent
    90 s on it): encoding stops once what is done foretells more than the limit. And the
    page and the command say why there is no player, instead of leaving it out silently."""
    import soundfile as sf

    import voicecoach.sinks.report as report

    rng = np.random.default_rng(3)
    n = 120 * SAMPLE_RATE
    speechlike = (rng.standard_normal(n) * 0.1 * (np.sin(np.arange(n) / SAMPLE_RATE * 3) > 0)).astype(np.float32)
    long_call = CallAudio(speechlike, np.roll(speechlike, SAMPLE_RATE).copy(), "long.flac")
    whole = audio_data_uri(long_call, max_bytes=10 ** 9)
    size = len(base64.b64decode(whole.split(",", 1)[1]))
    # the frames handed to the real encoder (it still encodes them): how far it went before
    # giving up, counted rather than timed
    encoded = []
    real_write = sf.SoundFile.write
    monkeypatch.setattr(sf.SoundFile, "write", lambda self, data: (encoded.append(len(data)),
                                                                   real_write(self, data))[1])
    assert audio_data_uri(long_call, max_bytes=size // 3) is None
    # a third of the whole is reached only half way through; foretold, it stops after the first block
    assert 0 < sum(encoded) <= report.EMBED_BLOCK_S * SAMPLE_RATE < n / 2, (encoded, n)
    monkeypatch.undo()
    assert audio_data_uri(long_call, max_bytes=int(size * 1.05)) is not None   # under the limit: embedded

    long_record = dict(record, duration=120.0)
    notes: list = []
    out = write_report(long_record, long_call, tmp_path / "long.html", notes=notes)
    assert notes == []                                             # 2 minutes: embedded
    assert "<audio id='call-audio'" in out.read_text(encoding="utf-8")
    saved = report.MAX_EMBED_BYTES
    try:
        report.MAX_EMBED_BYTES = size // 3
        page = write_report(long_record, long_call, tmp_path / "long.html", notes=notes).read_text(encoding="utf-8")
    finally:
        report.MAX_EMBED_BYTES = saved
    assert notes and notes[0].startswith("the 2:00 recording is too long to play in this page")
    assert "<audio" not in page and "The 2:00 recording is too long to play in this page" in page
    assert "`voicecoach review` plays it" in notes[0]


def test_write_report(tmp_path, record, audio):
    out = write_report(record, audio, tmp_path / "r.html")
    assert out == tmp_path / "r.html"
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not list(tmp_path.glob("*.tmp"))


def test_transcript_lines_join_segments_and_split_sentences(record):
    lines = transcript_lines(record)
    texts = [(ln.channel, ln.text) for ln in lines]
    assert texts == [("agent", "Hello, how can I help?"), ("customer", "My bill is wrong & late."),
                     ("agent", "Let me check that <now>.")]
    assert lines[2].start == pytest.approx(1.6) and lines[2].end == pytest.approx(3.05)
    assert line_at(lines, 0.0) == -1 and line_at(lines, 1.2) == 1 and line_at(lines, 9.0) == 2


def _without_transcript(record):
    """``record`` as ``analyze --no-transcript`` writes it: no words, so no word-based lists."""
    for key in ("checklist", "questions", "commitments", "caller_problems", "language_counts"):
        record[key] = None
    record["transcript"], record["stt_model"] = [], None
    record["pace"]["agent_wpm"] = record["pace"]["agent_words"] = None
    record["cues"] = [c for c in record["cues"] if c["kind"] not in ("greeting", "jargon")]
    record["unavailable"] = ["transcript", "pace.agent_wpm", "language cues"]
    return record


def test_lists_without_a_transcript_say_they_were_not_measured(record):
    page = report_html(_without_transcript(record))
    assert page.count("Not measured: no transcript (speech-to-text was off).") == 3
    for claim in ("Nothing to rephrase", "No promises to follow up", "No problems reported by the caller"):
        assert claim not in page, claim


def test_the_callers_list_of_a_mono_call_says_there_is_no_caller_channel(record):
    record["source"]["channels"] = ["agent"]
    for key in ("talk_share", "interruptions", "backchannels", "near_misses", "dead_air", "response_gaps",
                "longest_agent_monologue", "caller_problems"):
        record[key] = None
    record["talk_time"]["customer"] = None
    record["unavailable"] = ["interruptions", "backchannels", "near_misses", "talk_share", "dead_air",
                             "response_gaps", "caller_arousal", "caller_problems"]
    page = report_html(record)
    assert "Not measured: no caller channel in this recording." in page
    assert "No problems reported by the caller" not in page
    assert "I&#x27;ll check that now." in page                     # the agent's words were heard
    _without_transcript(record)
    record["unavailable"] = ["caller_problems", "transcript", "language cues"]
    page = report_html(record)
    assert "Not measured: no caller channel in this recording." in page     # the likelier reason
    assert page.count("Not measured: no transcript (speech-to-text was off).") == 2


def test_lists_that_were_measured_and_found_nothing_say_so(record):
    record["commitments"], record["caller_problems"] = [], []
    record["cues"] = [c for c in record["cues"] if c["kind"] != "jargon"]
    page = report_html(record)
    for text in ("Nothing to rephrase: plain, kind words throughout.", "No promises to follow up.",
                 "No problems reported by the caller were found."):
        assert text in page, text
    assert "Not measured:" not in page


def test_marked_moments_have_their_own_marker_legend_and_list(record):
    """The agent's marks (Ctrl+Alt+M) are stars of their own colour on the timeline, in the
    legend, and listed with their times ("Marked by you"); no list when there are none."""
    from voicecoach.sinks.view import PALETTE

    assert "Your marks" not in report_html(record)
    record["cues"].append({"t": 3.5, "kind": "mark", "text": "You marked this moment", "channel": None})
    record["cues"].append({"t": 1.25, "kind": "mark", "text": "You marked this moment", "channel": None})
    page = report_html(record)
    svg = ET.fromstring(timeline_svg(record))
    stars = [el for el in svg.iter() if el.get("class") == "cue mark-cue"]
    assert [float(el.get("data-t")) for el in stars] == [3.5, 1.25]
    assert all(el.tag.endswith("polygon") and el.get("fill") == PALETTE["mark"] for el in stars)
    assert "Marked moment" in page.split("<div class='legend'>")[1].split("</div>")[0]
    marks = page.split("<h2>Your marks</h2>")[1].split("</section>")[0]
    assert re.findall(r"data-t='([\d.]+)'><span class='t'>([\d:]+)</span>Marked by you", marks) == \
        [("1.25", "0:01"), ("3.50", "0:04")]


def test_the_nudges_a_live_call_showed_are_on_its_timeline(record):
    """A live call's record keeps the nudges the overlay showed ("Let them finish" at 0:21):
    the report's timeline puts them on the cue row, with a legend entry; a call without
    nudges has neither."""
    from voicecoach.sinks.view import PALETTE, timeline_cues

    assert "Nudge shown" not in report_html(record)
    record["nudges"] = [{"kind": "nudge", "t": 2.5, "channel": "agent", "text": "Let them finish",
                         "data": {"nudge": "let_them_finish"}, "latency": 0.02}]
    assert [c["kind"] for c in timeline_cues(record)].count("nudge") == 1
    svg = ET.fromstring(timeline_svg(record))
    shown = [el for el in svg.iter() if el.get("fill") == PALETTE["nudge"]]
    assert [float(el.get("data-t")) for el in shown] == [2.5]
    assert "Let them finish" in "".join(shown[0].itertext())
    assert "Nudge shown during the call" in report_html(record).split("<div class='legend'>")[1]


def _chromium():
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(_chromium() is None, reason="no Chromium to run the page's script in")
def test_clicking_along_a_plot_plays_from_there_and_the_playhead_follows(tmp_path, record, audio):
    """In a real browser: a click on the timeline away from any marker seeks to the time
    under the pointer, a click on the transcript to its line, and every plot's playhead
    moves there."""
    import subprocess

    from voicecoach.sinks.report import _L, _R, _W

    probe = """<script>window.addEventListener('load',function(){
    var a=document.getElementById('call-audio'),out=[];
    function click(el,fx){var r=el.getBoundingClientRect();
      el.dispatchEvent(new MouseEvent('click',{bubbles:true,clientX:r.left+r.width*fx,clientY:r.top+r.height/2}));}
    var tl=document.querySelector('svg.timeline');
    click(tl,(%(L)d+0.75*(%(W)d-%(L)d-%(R)d))/%(W)d);a.pause();out.push(a.currentTime.toFixed(2));
    click(document.querySelectorAll('table.tx td.t')[1],0.5);a.pause();out.push(a.currentTime.toFixed(2));
    setTimeout(function(){var hs=document.querySelectorAll('.playhead');var xs=[];
      for(var i=0;i<hs.length;i++)xs.push(hs[i].getAttribute('visibility')+'@'+parseFloat(hs[i].getAttribute('x1')).toFixed(0));
      var p=document.createElement('pre');p.id='probe';p.textContent=out.join(' ')+'|'+xs.join(' ');
      document.body.appendChild(p);},300);});</script>""" % {"L": _L, "R": _R, "W": _W}
    page = tmp_path / "call.html"
    page.write_text(report_html(record, audio).replace("</body>", probe + "</body>"))
    out = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--mute-audio",
                          "--autoplay-policy=no-user-gesture-required", "--window-size=1200,2400",
                          "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    found = re.search(r"<pre id=\"probe\">([^<]*)</pre>", out.stdout)
    assert found, out.stderr[-2000:]
    times, heads = found.group(1).split("|")
    on_plot, on_line = (float(t) for t in times.split())
    assert on_plot == pytest.approx(0.75 * DURATION, abs=0.05)
    second_line = transcript_lines(record)[1]
    assert on_line == pytest.approx(second_line.start, abs=0.01)
    x = _L + (_W - _L - _R) * second_line.start / DURATION
    heads = [h.split("@") for h in heads.split()]
    assert len(heads) == 3                                    # the timeline and both curves
    for shown, at in heads:
        assert shown == "visible" and float(at) == pytest.approx(x, abs=1.5)
