"""The self-contained HTML report of a call record.

The report is one HTML file: inline CSS, inline SVG plots drawn here, a few lines of
inline script to seek the embedded audio, and no reference to anything outside the
file, so it opens in any browser with no network. Its scorecard, transcript lines,
markers and colours come from the view model the review window shows too.

See Also
--------
voicecoach.sinks.view : the view model (scores, lines, markers, colours) this formats.
voicecoach.sinks.summary.summary_text : the same scores as plain text for the terminal.
"""
from __future__ import annotations

import base64
import functools
import html
import io
from pathlib import Path
from typing import Optional, Union

import numpy as np

from voicecoach.events import SAMPLE_RATE
from voicecoach.sinks.view import (
    CARE_NOTE,
    CUE_GROUPS,
    PALETTE,
    also_named,
    call_name,
    turn_legend,
    checklist_items,
    clock,
    cue_group,
    cue_tooltip,
    timeline_cues,
    empty_list_text,
    empty_transcript_text,
    level_scale,
    mark_text,
    marker_spans,
    marks,
    moments,
    pace_points,
    pace_range,
    peak_envelope,
    record_config,
    rephrase_cues,
    scorecard,
    transcript_lines,
    unavailable_text,
    without_audio,
)
from voicecoach.sources.audio import CallAudio, load_call
from voicecoach.store.calls import NOT_RECORDED, not_recorded
from voicecoach.store.history import local_time

MAX_EMBED_BYTES = 12_000_000
"""Largest encoded audio (bytes) embedded in a report; longer calls link nothing."""


def call_date(record: dict) -> str:
    """The record's creation time in local time, ``YYYY-MM-DD HH:MM`` ("" when unknown)."""
    return local_time(record.get("created") or "")


# --------------------------------------------------------------------------- SVG

_W = 1000          # viewBox width of every plot
_L, _R = 64, 14    # left and right margins (px in the viewBox)


def _x(t: float, duration: float) -> float:
    return _L + (_W - _L - _R) * (t / duration if duration > 0 else 0.0)


def _tick_step(duration: float) -> float:
    for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800):
        if duration / step <= 12:
            return step
    return 3600


def _time_axis(duration: float, y: float, top: float) -> list[str]:
    out = [f'<line x1="{_L}" y1="{y}" x2="{_W - _R}" y2="{y}" class="axis"/>']
    step = _tick_step(duration)
    t = 0.0
    while t <= duration + 1e-6:
        x = _x(t, duration)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{y}" class="grid"/>')
        out.append(f'<text x="{x:.1f}" y="{y + 14}" class="tick" text-anchor="middle">{clock(t)}</text>')
        t += step
    return out


def _playhead(top: float, bottom: float) -> str:
    """Where the embedded audio is playing: a line the page's script moves (hidden until then)."""
    return (f'<line class="playhead" x1="{_L}" y1="{top}" x2="{_L}" y2="{bottom}" '
            f'visibility="hidden"/>')


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def timeline_svg(record: dict, audio: Optional[CallAudio] = None) -> str:
    """Both sides on one time axis: envelopes (or speech spans without audio), turn-taking
    markers and a row of cue markers (SVG ``<title>`` tooltips)."""
    dur = float(record["duration"])
    lane_h, top = 46.0, 34.0
    lanes = {ch: top + (2 * i + 1) * lane_h + 8 * i
             for i, ch in enumerate(c for c in ("agent", "customer") if c in record["source"]["channels"])}
    bottom = max(lanes.values()) + lane_h + 4
    height = bottom + 26
    out = [f'<svg class="plot timeline" viewBox="0 0 {_W} {height:.0f}" role="img" '
           f'aria-label="timeline of both sides" data-dur="{dur:.2f}">']
    out += _time_axis(dur, bottom, top - 6)
    for role, t0, t1, tip in marker_spans(record):
        x0, x1 = _x(t0, dur), _x(t1, dur)
        out.append(f'<rect class="mark" data-t="{t0:.2f}" x="{x0:.1f}" y="{top - 6}" '
                   f'width="{max(x1 - x0, 2.5):.1f}" height="{bottom - top + 6:.0f}" '
                   f'fill="{PALETTE[role]}" fill-opacity="{0.16 if role == "dead_air" else 0.28}">'
                   f'<title>{_esc(tip)}</title></rect>')
        if role in ("interruption", "caller_interruption"):
            out.append(f'<path d="M{x0:.1f} {top - 6} l-5 -8 h10 z" fill="{PALETTE[role]}"/>')
    names = {"agent": "You", "customer": "Caller"}
    for ch, mid in lanes.items():
        color = PALETTE[ch]
        out.append(f'<text x="{_L - 8}" y="{mid + 4:.0f}" class="lane" text-anchor="end" '
                   f'fill="{color}">{names[ch]}</text>')
        out.append(f'<line x1="{_L}" y1="{mid:.1f}" x2="{_W - _R}" y2="{mid:.1f}" class="mid"/>')
        samples = audio.channels().get(ch) if audio is not None else None
        if samples is not None:
            level = level_scale(peak_envelope(samples, 900))
            xs = _L + (_W - _L - _R) * (np.arange(len(level)) + 0.5) / len(level)
            upper = " ".join(f"{x:.1f},{mid - v * (lane_h - 4):.1f}" for x, v in zip(xs, level))
            lower = " ".join(f"{x:.1f},{mid + v * (lane_h - 4):.1f}"
                             for x, v in zip(xs[::-1], level[::-1]))
            out.append(f'<polygon points="{upper} {lower}" fill="{color}" fill-opacity="0.75"/>')
        elif not any(seg["channel"] == ch for seg in record.get("transcript") or []):
            out.append(f'<text x="{(_L + _W - _R) / 2:.0f}" y="{mid + 4:.0f}" class="tick" '
                       'text-anchor="middle">no recording or transcript to draw this side from</text>')
        else:
            for seg in record.get("transcript") or []:
                if seg["channel"] != ch:
                    continue
                x0, x1 = _x(seg["start"], dur), _x(seg["end"], dur)
                out.append(f'<rect x="{x0:.1f}" y="{mid - 14:.1f}" width="{max(x1 - x0, 1.5):.1f}" '
                           f'height="28" rx="4" fill="{color}" fill-opacity="0.7">'
                           f'<title>{_esc(clock(seg["start"]) + " " + seg["text"])}</title></rect>')
    cue_y = top - 20
    out.append(f'<text x="{_L - 8}" y="{cue_y + 4}" class="lane" text-anchor="end">cues</text>')
    for cue in timeline_cues(record):
        x = _x(cue["t"], dur)
        group = cue_group(cue["kind"])
        if group == "mark":            # the agent's own mark: a star, drawn over the dots
            continue
        out.append(f'<circle class="cue" data-t="{cue["t"]:.2f}" cx="{x:.1f}" cy="{cue_y}" r="5" '
                   f'fill="{PALETTE[group]}" stroke="#fff" stroke-width="1.2">'
                   f'<title>{_esc(cue_tooltip(cue))}</title></circle>')
    for cue in record.get("cues") or []:
        if cue_group(cue["kind"]) == "mark":
            out.append(f'<polygon class="cue mark-cue" data-t="{cue["t"]:.2f}" '
                       f'points="{_star(_x(cue["t"], dur), cue_y, 8.0)}" fill="{PALETTE["mark"]}" '
                       f'stroke="#fff" stroke-width="1"><title>{_esc(cue_tooltip(cue))}</title></polygon>')
    out.append(_playhead(cue_y - 10, bottom))
    out.append("</svg>")
    return "".join(out)


def _star(cx: float, cy: float, r: float) -> str:
    """The points of a five-pointed star of outer radius ``r`` centred on (cx, cy)."""
    pts = []
    for i in range(10):
        a = np.pi / 2 + i * np.pi / 5
        rr = r if i % 2 == 0 else r * 0.45
        pts.append(f"{cx + rr * np.cos(a):.1f},{cy - rr * np.sin(a):.1f}")
    return " ".join(pts)


def curve_svg(points: list, duration: float, *, lo: float, hi: float, color: str, label: str,
              band: Optional[tuple[float, float]] = None, band_label: str = "",
              band_color: str = PALETTE["band"], reference: Optional[float] = None, fmt: str = "{:.1f}",
              empty: str = "not enough speech for this curve") -> str:
    """A time curve on the timeline's x axis.

    Parameters
    ----------
    points : list of [t_s, value]
    duration : float
        Call length (s), the x range.
    lo, hi : float
        The y range (value units).
    band : (low, high), optional
        A shaded range (e.g. the comfortable pace), labelled ``band_label``, in ``band_color``.
    reference : float, optional
        A dashed horizontal line (e.g. 0.5 = the agent's ordinary voice).
    empty : str
        Shown instead of the curve when there are no points.
    """
    height, top, plot_h = 150, 12.0, 108.0
    bottom = top + plot_h

    def y(v):
        return bottom - plot_h * (min(max(v, lo), hi) - lo) / (hi - lo)

    out = [f'<svg class="plot" viewBox="0 0 {_W} {height}" role="img" aria-label="{_esc(label)}" '
           f'data-dur="{duration:.2f}">']
    out += _time_axis(duration, bottom, top)
    if band is not None:
        out.append(f'<rect x="{_L}" y="{y(band[1]):.1f}" width="{_W - _L - _R}" '
                   f'height="{y(band[0]) - y(band[1]):.1f}" fill="{band_color}" fill-opacity="0.8"/>')
        out.append(f'<text x="{_W - _R - 4}" y="{y(band[1]) + 12:.1f}" class="tick" '
                   f'text-anchor="end">{_esc(band_label)}</text>')
    for v in (lo, (lo + hi) / 2, hi):
        out.append(f'<text x="{_L - 8}" y="{y(v) + 4:.1f}" class="tick" text-anchor="end">'
                   f'{fmt.format(v)}</text>')
    if reference is not None:
        out.append(f'<line x1="{_L}" y1="{y(reference):.1f}" x2="{_W - _R}" y2="{y(reference):.1f}" '
                   f'class="ref"/>')
    if points:
        path = " ".join(f"{'M' if i == 0 else 'L'}{_x(t, duration):.1f} {y(v):.1f}"
                        for i, (t, v) in enumerate(points))
        out.append(f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2.2" '
                   'stroke-linejoin="round"/>')
        for t, v in points:
            out.append(f'<circle cx="{_x(t, duration):.1f}" cy="{y(v):.1f}" r="2.6" fill="{color}">'
                       f'<title>{clock(t)}: {fmt.format(v)}</title></circle>')
    else:
        out.append(f'<text x="{_W / 2}" y="{top + plot_h / 2}" class="tick" text-anchor="middle">'
                   f'{_esc(empty)}</text>')
    out.append(f'<text x="{_L}" y="{top - 1}" class="curve-label" fill="{color}">{_esc(label)}</text>')
    out.append(_playhead(top, bottom))
    out.append("</svg>")
    return "".join(out)


# --------------------------------------------------------------------------- audio

EMBED_BLOCK_S = 30.0
"""The audio is encoded for the page this many seconds at a time (s), so that a call too
long to embed is given up early, not after encoding it all."""

EMBED_FORETOLD = 1.25
"""Encoding stops once the size so far, scaled to the whole call, is over this share of
the limit (the encoded size grows with the call's length, within a few percent)."""

NOT_EMBEDDED = "the {length} recording is too long to play in this page (over {mb} MB); `voicecoach review` plays it"
"""Said in the report and by ``voicecoach report`` when the audio was not embedded."""


def audio_data_uri(audio: CallAudio, max_bytes: Optional[int] = None) -> Optional[str]:
    """Both sides as an Ogg Opus (or FLAC) ``data:`` URI (left = agent), or None when the
    encoded audio would exceed ``max_bytes``. Encoded :data:`EMBED_BLOCK_S` at a time: it
    stops once what is encoded so far foretells more than ``max_bytes`` with a margin
    (:data:`EMBED_FORETOLD`; a 1-hour call took 90 s to encode in whole before it was
    dropped)."""
    import soundfile as sf

    max_bytes = MAX_EMBED_BYTES if max_bytes is None else max_bytes
    chans = audio.channels()
    agent, customer = chans["agent"], chans.get("customer", chans["agent"])
    n, block = len(agent), int(EMBED_BLOCK_S * SAMPLE_RATE)
    for fmt, subtype, mime in (("OGG", "OPUS", "audio/ogg"), ("FLAC", "PCM_16", "audio/flac")):
        buf = io.BytesIO()
        try:
            with sf.SoundFile(buf, "w", SAMPLE_RATE, 2, format=fmt, subtype=subtype) as out:
                for start in range(0, n, block):
                    end = min(start + block, n)
                    out.write(np.stack([agent[start:end], customer[start:end]], axis=1))
                    size = buf.getbuffer().nbytes
                    if size > max_bytes or size * n / end > EMBED_FORETOLD * max_bytes:
                        return None          # past the limit, or foretold past it by what is encoded
        except (sf.LibsndfileError, ValueError, TypeError):
            continue
        blob = buf.getvalue()
        if len(blob) > max_bytes:
            return None
        return f"data:{mime};base64," + base64.b64encode(blob).decode("ascii")
    return None


# --------------------------------------------------------------------------- HTML

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#eef1f5;color:%(ink)s;font:15px/1.45 system-ui,"Segoe UI","DejaVu Sans",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 24px 40px}
header{display:flex;justify-content:space-between;align-items:flex-end;gap:16px;margin-bottom:18px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:16px;margin:0 0 10px;letter-spacing:.02em}
.sub{color:%(muted)s}
.brand{font-weight:600;color:%(agent)s;font-size:13px;text-transform:uppercase;letter-spacing:.08em}
section{background:#fff;border:1px solid %(line)s;border-radius:10px;padding:16px 18px;margin-bottom:16px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:10px}
.card{background:%(panel)s;border-radius:8px;padding:10px 12px;border-left:4px solid %(line)s}
.card.good{border-left-color:%(good)s}.card.watch{border-left-color:%(watch)s}
.card.info{border-left-color:%(agent)s}.card.na{opacity:.65}
.card .label{font-size:12px;color:%(muted)s;text-transform:uppercase;letter-spacing:.05em}
.card .value{font-size:21px;font-weight:650;margin:2px 0}
.card .detail{font-size:13px;color:%(muted)s}
.checks{margin-top:12px;display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.chip{border-radius:999px;padding:3px 11px;font-size:13px;background:%(panel)s;border:1px solid %(line)s}
.chip.ok{color:#1b6e2c;background:#ebfbee;border-color:#b2f2bb}
.chip.no{color:#a61e1e;background:#fff5f5;border-color:#ffc9c9}
svg.plot{width:100%%;height:auto;display:block}
svg .axis{stroke:#adb5bd;stroke-width:1}
svg .grid{stroke:%(line)s;stroke-width:1}
svg .mid{stroke:%(line)s;stroke-width:1}
svg .ref{stroke:#868e96;stroke-width:1;stroke-dasharray:5 4}
svg .tick{font-size:11px;fill:%(muted)s}
svg .lane{font-size:12px;font-weight:600;fill:%(muted)s}
svg .curve-label{font-size:12px;font-weight:600}
.playable svg .cue,.playable svg .mark{cursor:pointer}
svg .playhead{stroke:%(ink)s;stroke-width:1.5;pointer-events:none}
.playable svg[data-dur]{cursor:pointer}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:12.5px;color:%(muted)s;margin-top:8px}
.legend i{display:inline-block;width:11px;height:11px;border-radius:3px;margin-right:5px;vertical-align:-1px}
.legend i.dot{border-radius:50%%}
.legend b.star{font-size:14px;margin-right:4px;line-height:1}
audio{width:100%%;margin-top:10px}
.cols{display:grid;grid-template-columns:3fr 2fr;gap:16px;align-items:start}
.cols section{margin-bottom:0}
.side section{margin-bottom:16px}
table.tx{border-collapse:collapse;width:100%%}
table.tx td{padding:5px 6px;vertical-align:top;border-bottom:1px solid %(panel)s}
table.tx th{padding:0 6px 4px;text-align:left;font-size:12px;font-weight:600;color:%(muted)s;border-bottom:1px solid %(line)s}
table.tx td.t{color:%(muted)s;white-space:nowrap;font-variant-numeric:tabular-nums;width:1%%}
table.tx td.who{font-weight:600;white-space:nowrap;width:1%%}
tr.agent td.who{color:%(agent)s}tr.customer td.who{color:%(customer)s}
tr.customer td.text{color:#3d4852}
.playable [data-t]{cursor:pointer}
ul.items{list-style:none;margin:0;padding:0}
ul.items li{padding:6px 0;border-bottom:1px solid %(panel)s}
ul.items .t{color:%(muted)s;font-variant-numeric:tabular-nums;margin-right:6px}
.kind{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:%(rephrase)s;font-weight:600}
.alt{color:#1b6e2c}
.empty{color:%(muted)s;font-style:italic}
footer{margin-top:18px;padding:12px 16px;border-radius:8px;background:#fff8e6;border:1px solid #ffe3a3;
 font-size:14px}
@media (max-width:800px){.cards{grid-template-columns:repeat(2,1fr)}.cols{grid-template-columns:1fr}}
@media print{body{background:#fff}section{break-inside:avoid}}
""" % PALETTE

_SCRIPT = """
(function(){var a=document.getElementById('call-audio');if(!a)return;
var L=%(L)d,R=%(R)d,W=%(W)d;document.body.classList.add('playable');
function show(t){var hs=document.querySelectorAll('svg[data-dur] .playhead');
for(var i=0;i<hs.length;i++){var d=parseFloat(hs[i].ownerSVGElement.getAttribute('data-dur'));
var x=L+(W-L-R)*(d>0?Math.min(t/d,1):0);
hs[i].setAttribute('x1',x);hs[i].setAttribute('x2',x);hs[i].setAttribute('visibility','visible');}}
function seek(t){t=Math.max(0,t);a.currentTime=t;show(t);var p=a.play();if(p)p.catch(function(){});}
document.addEventListener('click',function(e){var el=e.target.closest('[data-t]');
if(el){seek(parseFloat(el.getAttribute('data-t')));return;}
var s=e.target.closest('svg[data-dur]');if(!s)return;
var p=s.createSVGPoint();p.x=e.clientX;p.y=e.clientY;p=p.matrixTransform(s.getScreenCTM().inverse());
if(p.x>=L&&p.x<=W-R)seek((p.x-L)/(W-L-R)*parseFloat(s.getAttribute('data-dur')));});
document.addEventListener('keydown',function(e){if(e.repeat)return;var el=e.target.closest&&e.target.closest('[data-t][tabindex]');
if(el&&(e.key==='Enter'||e.key===' ')){e.preventDefault();seek(parseFloat(el.getAttribute('data-t')));}});
a.addEventListener('timeupdate',function(){show(a.currentTime);});})();
""" % {"L": _L, "R": _R, "W": _W}
"""Clicking a time (a marker, a cue, a transcript line, a list item) or anywhere along a plot's
time axis plays the call from there; each plot's playhead follows the audio."""


def report_html(record: dict, audio: Optional[CallAudio] = None, *, embed_audio: bool = True,
                notes: Optional[list] = None) -> str:
    """The report of a call as one self-contained HTML page.

    Parameters
    ----------
    record : dict
        A call record (``voicecoach.call/1``).
    audio : CallAudio, optional
        The call's audio: the timeline shows its envelopes (else the transcript's speech
        spans) and, with ``embed_audio``, the page can play it (clicking a time seeks).
    embed_audio : bool
        Embed the audio as a ``data:`` URI when it is small enough (:data:`MAX_EMBED_BYTES`).
    notes : list, optional
        Gets a line (:data:`NOT_EMBEDDED`) when the audio was too long to embed; the page
        says it too, where its player would be.
    """
    dur = float(record["duration"])
    name = call_name(record)                   # as the review and the history name it
    chans = record["source"]["channels"]
    meta = [also_named(record), call_date(record), clock(dur),
            "you + caller" if "customer" in chans else "you only (mono)",
            f"speech-to-text {record['stt_model']}" if record.get("stt_model") else "no transcript"]
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
             f"<title>VoiceCoach — {_esc(name)}</title><style>{_CSS}</style></head><body><main>",
             f"<header><div><div class='brand'>VoiceCoach call review</div><h1>{_esc(name)}</h1>"
             f"<div class='sub'>{_esc(' · '.join(m for m in meta if m))}</div></div></header>"]

    cards = "".join(f"<div class='card {r.status}'><div class='label'>{_esc(r.label)}</div>"
                    f"<div class='value'>{_esc(r.value)}</div><div class='detail'>{_esc(r.detail)}</div></div>"
                    for r in scorecard(record))
    checks = checklist_items(record)
    chips = ("".join(f"<span class='chip {'ok' if ok else 'no'}'>{'✓' if ok else '✗'} {_esc(label)}</span>"
                     for label, ok in checks) if checks
             else "<span class='empty'>transcription was off: no checklist</span>")
    parts.append(f"<section><h2>Scorecard</h2><div class='cards'>{cards}</div>"
                 f"<div class='checks'><b>Checklist</b>{chips}</div></section>")

    uri = audio_data_uri(audio) if (audio is not None and embed_audio) else None
    player = (f"<audio id='call-audio' controls preload='metadata' aria-label='The call&#x27;s recording' "
              f"src='{uri}'></audio>" if uri else "")
    if audio is not None and embed_audio and uri is None:
        note = NOT_EMBEDDED.format(length=clock(dur), mb=round(MAX_EMBED_BYTES / 1e6))
        player = f"<p class='empty'>{_esc(note[0].upper() + note[1:])}.</p>"
        if notes is not None:
            notes.append(note)
    elif audio is None:          # as the review says over its timeline drawn without audio
        shows = without_audio(record)[1]
        why = NOT_RECORDED if not_recorded(record) else "this report has no recording of the call: no waveforms or playback"
        player = f"<p class='empty'>{_esc(why[0].upper() + why[1:])}; the timeline shows {_esc(shows)}.</p>"
    legend = [*turn_legend(record=record), ("rephrase", "Rephrase cue"), ("good", "Good practice cue"),
              ("note", "Follow-up / caller's item"), ("voice", "Voice cue"), ("mark", "Marked moment")]
    if record.get("nudges"):
        legend.append(("nudge", "Nudge shown during the call"))
    keys = "".join((f"<span><b class='star' style='color:{PALETTE[k]}'>★</b>{v}</span>" if k == "mark" else
                    f"<span><i{' class=dot' if k in CUE_GROUPS else ''} style='background:{PALETTE[k]}'>"
                    f"</i>{v}</span>") for k, v in legend)
    parts.append("<section><h2>Timeline</h2>" + timeline_svg(record, audio)
                 + f"<div class='legend'>{keys}</div>" + player + "</section>")

    warmth = record.get("warmth") or {}
    config = record_config(record)
    low, band = config.warmth.low_warmth, config.pace
    lo_wpm, hi_wpm = pace_range(record)
    parts.append("<section><h2>Warmth and pace</h2>"
                 + curve_svg(warmth.get("timeline") or [], dur, lo=0.0, hi=1.0, color=PALETTE["warmth"],
                             label="Warmth (0–1; dashed = your ordinary voice)", reference=0.5,
                             band=(0.0, low), band_label="low", band_color=PALETTE["low_band"],
                             fmt="{:.2f}")
                 + curve_svg(pace_points(record), dur, lo=lo_wpm, hi=hi_wpm, color=PALETTE["pace"],
                             label="Pace (words/min)",
                             band=(band.band_low_wpm, band.band_high_wpm),
                             band_label="comfortable", fmt="{:.0f}",
                             empty=("not enough speech for this curve" if record.get("stt_model")
                                    else "no transcript: words/min unavailable"))
                 + "</section>")

    rows = "".join(f"<tr class='{_esc(ln.channel)}'><td class='t' data-t='{ln.start:.2f}'>"
                   f"{_plays_from(ln.start) if uri else clock(ln.start)}</td>"
                   f"<td class='who'>{'You' if ln.channel == 'agent' else 'Caller'}</td>"
                   f"<td class='text'>{_esc(ln.text)}</td></tr>" for ln in transcript_lines(record))
    head = "<thead><tr><th>Time</th><th>Who</th><th>Said</th></tr></thead>"     # what a screen reader names each cell by
    transcript = (f"<table class='tx'>{head}<tbody>{rows}</tbody></table>" if rows
                  else f"<p class='empty'>{_esc(empty_transcript_text(record))}</p>")
    parts.append(f"<div class='cols'><section><h2>Transcript</h2>{transcript}</section><div class='side'>")
    section = functools.partial(_items_section, playable=bool(uri))
    parts.append(section("Phrases to rephrase", _rephrase_items(record), empty_list_text(record, "rephrase")))
    parts.append(section("Follow up", [(c["t"], _esc(c["text"])) for c in record.get("commitments") or []],
                         empty_list_text(record, "commitments")))
    parts.append(section("The caller's list",
                         [(c["t"], _esc(c["text"])) for c in record.get("caller_problems") or []],
                         empty_list_text(record, "caller_problems")))
    marked = marks(record)
    if marked:
        parts.append(section("Your marks", [(c["t"], _esc(mark_text())) for c in marked], ""))
    voice = moments(record)
    if voice:
        parts.append(section("Moments", [(c["t"], _esc(c["text"])) for c in voice], ""))
    parts.append("</div></div>")
    if record.get("unavailable"):
        parts.append(f"<p class='sub'>{_esc(unavailable_text(record))}</p>")
    parts.append(f"<footer>{_esc(CARE_NOTE)} Warmth least of all: acted or smiled speech is not a "
                 "measure of a person.</footer>")
    if uri:
        parts.append(f"<script>{_SCRIPT}</script>")
    parts.append("</main></body></html>")
    return "".join(parts)


def _rephrase_items(record: dict) -> list[tuple[float, str]]:
    items = []
    for c in rephrase_cues(record):
        body = f"<span class='kind'>{_esc(c['kind'])}</span> “{_esc(c.get('phrase', c['text']))}”"
        if c.get("suggestion"):
            body += f"<br><span class='alt'>try: {_esc(c['suggestion'])}</span>"
        items.append((c["t"], body))
    return items


def _plays_from(t: float, cls: str = "") -> str:
    """A time on a page that plays the call, as a control: reached by Tab, played by Enter
    or Space as by a click (:data:`_SCRIPT`), named "Play from 0:22". A span inside the
    table cell or list item, which keep their own roles."""
    attrs = f" class='{cls}'" if cls else ""
    return (f"<span{attrs} tabindex='0' role='button' aria-label='Play from {clock(t)}' "
            f"data-t='{t:.2f}'>{clock(t)}</span>")


def _items_section(title: str, items: list[tuple[float, str]], empty: str, playable: bool = False) -> str:
    if not items:
        return f"<section><h2>{_esc(title)}</h2><p class='empty'>{_esc(empty)}</p></section>"

    def time(t: float) -> str:
        return _plays_from(t, "t") if playable else f"<span class='t'>{clock(t)}</span>"

    lis = "".join(f"<li data-t='{t:.2f}'>{time(t)}{body}</li>" for t, body in items)
    return f"<section><h2>{_esc(title)}</h2><ul class='items'>{lis}</ul></section>"


def written_line(out: Union[str, Path], notes: list) -> str:
    """What ``report`` and the review say once a report is written."""
    return f"Report written to {out}" + (f" ({'; '.join(notes)})" if notes else "")


def write_report(record: dict, audio: Union[CallAudio, str, Path, None], out_path: Union[str, Path], *,
                 embed_audio: bool = True, notes: Optional[list] = None) -> Path:
    """Write the HTML report of a call.

    Parameters
    ----------
    record : dict
        The call record.
    audio : CallAudio or path or None
        The call's audio, loaded or as a recording to load (left = agent); None for a
        report without waveforms or playback.
    out_path : path
        Where to write the ``.html`` file (written whole, then renamed into place;
        0600, as every file that holds a call).
    embed_audio : bool
        Embed the audio for offline playback when small enough.
    notes : list, optional
        Gets a line when the audio was too long to embed (:func:`report_html`).

    Returns
    -------
    Path
        ``out_path``.

    Raises
    ------
    voicecoach.sources.audio.AudioError
        ``audio`` is a path that cannot be read.
    OSError
        ``out_path`` cannot be written.
    """
    if audio is not None and not isinstance(audio, CallAudio):
        audio = load_call(audio)
    page = report_html(record, audio, embed_audio=embed_audio, notes=notes)
    from voicecoach.store.private import write_private

    return write_private(out_path, page)     # it holds the call: the user's alone
