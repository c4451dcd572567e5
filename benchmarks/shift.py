"""A replayed shift: 20 generated calls back to back, each found, coached, saved once.

Generates 20 support calls (``tools/callgen.py``, espeak-ng voices, 30-90 s each,
and 3 minutes for the four on a line with no noise floor) and plays them one after another with 5-60 s of digital silence
between them (what a PulseAudio monitor gives when no stream plays), through
:class:`voicecoach.shift.Shift` straight from a :class:`PlaylistSource`, as fast as
the engine takes it (``--realtime`` paces it like devices). Call 6 starts 5 s after
call 5 ends, while call 5's end-silence timer (``[shift] end_silence_s``, 12 s) is
still running. Calls 4, 10, 15 and 19 are on a line with no noise floor (nothing
between words), so they can only end on silence; the gaps after them are longer than
the end silence. Each call is saved and added to a history in a temporary data folder.

It prints, beside the targets (issue 17):

- calls found (one detected call per played call, start and end within 2 s);
- merged (a detected call spanning two played calls) and split (a played call
  found as two);
- the worst start and end error;
- records written and history rows;
- resident memory after call 2 and after call 20.

    python3 -m benchmarks.shift [--calls 20] [--transcribe] [--realtime] [--seed 17] [--holds K]

``--transcribe`` adds streaming speech-to-text (tiny.en) to every call (slower).
``--holds K`` puts the caller of K calls (on lines with a floor) on hold mid-call: the
agent asks ("Let me put you on hold for a moment…"), the caller agrees, then 20-90 s in
which the line is nothing at all (a softphone on hold plays nothing to the agent) and the
agent's mic only its floor, then the agent is back. Each must stay one call; the request
is heard in the words, so this needs ``--transcribe --realtime``.
"""
import argparse
import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


HOLD_ASKS = ("Let me put you on hold for a moment while I check that with the team.",
             "Can I place you on a brief hold while I look into this? One moment please.",
             "Bear with me, I'm going to put you on hold for a minute.")
HOLD_BACKS = ("Thank you for holding, I have the answer here.",
              "Thanks for waiting, I've checked with the team.",
              "Sorry about the wait, I can see what happened now.")


def with_hold(call, hold_s: float, rng):
    """``call`` (a generated :class:`tools.callgen.Call`) with a hold spliced in after the
    first agent turn past 20 s that the caller answers after a gap. Returns the audio."""
    from tools.callgen import Turn, render_call

    utts = sorted(call.truth["utterances"], key=lambda u: u["start"])
    at = next(u["end"] for u, v in zip(utts, utts[1:])
              if u["channel"] == "agent" and u["start"] > 20.0 and not u["label"] and v["start"] > u["end"])
    voice = {u["channel"]: u["voice"] for u in utts}
    ask = render_call([Turn("agent", HOLD_ASKS[int(rng.integers(len(HOLD_ASKS)))], voice["agent"], 0.4),
                       Turn("customer", "Sure, no problem.", voice["customer"], 0.5)], tail_s=0.5).audio
    back = render_call([Turn("agent", HOLD_BACKS[int(rng.integers(len(HOLD_BACKS)))], voice["agent"], 0.3)],
                       tail_s=0.2).audio
    hold = np.zeros((int(hold_s * 16000), 2), np.float32)
    hold[:, 0] = rng.normal(0.0, 10 ** (-65 / 20), len(hold))        # the agent's mic: its floor
    k = int(at * 16000)
    return np.concatenate([call.audio[:k], ask, hold, back, call.audio[k:]])


def make_calls(n: int, seed: int, holds: int = 0):
    """``[(gap_s, loader)]``, which calls have no noise floor, and which are put on hold
    (``{index: hold_s}``)."""
    from tools.callgen import RandomCallOptions, random_call
    from voicecoach.sources.audio import CallAudio

    rng = np.random.default_rng(seed)
    gaps = rng.uniform(5.0, 60.0, n).round(1)
    gaps[0] = 3.0
    if n > 5:
        gaps[5] = 5.0                      # call 6 starts inside call 5's end silence
    no_floor = {i for i in (3, 9, 14, 18) if i < n}
    for i in no_floor:
        if i + 1 < n:
            gaps[i + 1] = max(gaps[i + 1], 20.0)
    # three minutes on the lines with no floor: dozens of caller turns, each word's edges
    # a sliver of sound the voice activity does not call speech
    minutes = [3.0 if i in no_floor else float(m) for i, m in enumerate(rng.uniform(0.5, 1.5, n).round(1))]
    can_hold = [i for i in range(1, n) if i not in no_floor and i != 5]
    picked = [can_hold[round(k * len(can_hold) / holds)] for k in range(holds)] if holds and can_hold else []
    held = {i: round(float(rng.uniform(20.0, 90.0)), 1) for i in picked}
    specs = []
    for i in range(n):
        options = RandomCallOptions(noise_dbfs=-300.0 if i in no_floor else -65.0)

        def load(i=i, options=options):
            c = random_call(seed * 100 + i, minutes=minutes[i], options=options)
            audio = with_hold(c, held[i], np.random.default_rng(seed + i)) if i in held else c.audio
            return CallAudio(np.ascontiguousarray(audio[:, 0]), np.ascontiguousarray(audio[:, 1]),
                             f"generated call {i + 1}")
        specs.append((float(gaps[i]), load))
    return specs, no_floor, held


def match(truth, found, tol_s: float = 2.0):
    """Per played call: the detected calls that overlap it; and the errors."""
    rows, merged = [], 0
    for f in found:
        n = sum(1 for a, b in truth if f["t"] < b and f["end_t"] > a)
        merged += n > 1
    for i, (a, b) in enumerate(truth):
        hits = [f for f in found if f["t"] < b and f["end_t"] > a]
        ok = len(hits) == 1 and abs(hits[0]["t"] - a) <= tol_s and abs(hits[0]["end_t"] - b) <= tol_s
        rows.append({"call": i + 1, "start": a, "end": b, "hits": hits, "ok": ok})
    return rows, merged


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=20)
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--transcribe", action="store_true", help="streaming speech-to-text on every call")
    ap.add_argument("--realtime", action="store_true", help="pace the audio like devices")
    ap.add_argument("--holds", type=int, default=0, metavar="K",
                    help="put K calls on hold mid-call (needs --transcribe --realtime)")
    args = ap.parse_args(argv)
    if args.calls < 2 or args.holds < 0:
        ap.error("--calls must be 2 or more (memory is measured from call 2) and --holds 0 or more")
    if args.holds and not (args.transcribe and args.realtime):
        ap.error("--holds needs --transcribe --realtime: the request to hold is heard in the words")

    from voicecoach.config import Config
    from voicecoach.shift import Shift
    from voicecoach.sources.files import PlaylistSource
    from voicecoach.store.history import History
    from voicecoach.sinks.view import ticked_live_only
    from voicecoach.stt.whisper import tune_malloc

    tune_malloc()                  # as `voicecoach live` does

    specs, no_floor, held = make_calls(args.calls, args.seed, args.holds)
    tmp = Path(tempfile.mkdtemp(prefix="vc-shift-"))
    os.environ["VOICECOACH_DATA_DIR"] = str(tmp / "data")
    source = PlaylistSource(specs, realtime=args.realtime)
    shift = Shift(source, Config(), transcribe=args.transcribe, records_folder=tmp / "records",
                  history_path=tmp / "data" / "history.sqlite")
    memory = {}

    def watch(kind, payload):
        if kind == "call" and payload.get("state") == "ended":
            gc.collect()
            memory[payload["index"]] = rss_mb()
            print(f"  call {payload['index']:>2} {payload['t']:7.1f}-{payload['end_t']:7.1f} s "
                  f"(started by {payload['reason']}, ended by {payload['ended_by']}), "
                  f"RSS {memory[payload['index']]:.0f} MB", flush=True)
        elif kind == "call" and payload.get("state") == "dropped":
            print(f"  dropped {payload['t']:.1f}-{payload['end_t']:.1f} s", flush=True)

    shift.subscribe(watch)
    t0 = time.monotonic()
    found = shift.run()
    wall = time.monotonic() - t0
    rows, merged = match(source.spans, found)
    split = sum(len(r["hits"]) > 1 for r in rows)
    n_ok = sum(r["ok"] for r in rows)
    starts = [abs(r["hits"][0]["t"] - r["start"]) for r in rows if len(r["hits"]) == 1]
    ends = [abs(r["hits"][0]["end_t"] - r["end"]) for r in rows if len(r["hits"]) == 1]
    records = sorted((tmp / "records").glob("*.json"))
    with History(tmp / "data" / "history.sqlite") as h:
        history_rows = len(h.calls(None))
    played = source.spans[-1][1] if source.spans else 0.0
    n = args.calls
    m2, mlast = memory.get(2), memory.get(n)
    growth = (mlast - m2) / m2 * 100 if m2 and mlast else float("nan")
    for r in rows:
        if not r["ok"]:
            got = ", ".join(f"{f['t']:.1f}-{f['end_t']:.1f}" for f in r["hits"]) or "nothing"
            print(f"  MISSED call {r['call']}: played {r['start']:.1f}-{r['end']:.1f}, found {got}")
    print()
    print(f"shift of {n} calls, {played / 60:.1f} min of audio in {wall:.0f} s "
          f"({played / wall:.1f}x real time), speech-to-text {'on' if args.transcribe else 'off'}"
          + (f"; calls {', '.join(str(i + 1) for i in sorted(no_floor))} on a line with no noise floor"
             if no_floor else "")
          + "".join(f"; call {i + 1} on hold {s:.0f} s" for i, s in sorted(held.items())))
    print(f"{'measure':<36}{'value':>12}   target")
    print(f"{'calls found (start, end within 2 s)':<36}{f'{n_ok}/{n}':>12}   {n}/{n}")
    print(f"{'calls merged':<36}{merged:>12}   0")
    print(f"{'calls split':<36}{split:>12}   0")
    print(f"{'worst start error (s)':<36}{max(starts, default=float('nan')):>12.2f}   <= 2")
    print(f"{'worst end error (s)':<36}{max(ends, default=float('nan')):>12.2f}   <= 2")
    print(f"{'call records written':<36}{len(records):>12}   {n}")
    print(f"{'history rows':<36}{history_rows:>12}   {n}")
    print(f"{f'RSS after call 2 / call {n} (MB)':<36}{f'{m2 or 0:.0f} / {mlast or 0:.0f}':>12}   within 10 %")
    if args.transcribe:             # the checklist the agent saw live, against the record's
        saved = [json.loads(r.read_text()) for r in records]
        items = sum(len(x.get("checklist") or {}) for x in saved)
        taken_back = sum(len(ticked_live_only(x)) for x in saved)
        print(f"{'checklist ticks live only':<36}{f'{taken_back} of {items}':>12}   "
              "(items the overlay ticked that the record's better words do not have)")
    print(f"{'memory growth call 2 -> call ' + str(n) + ' (%)':<36}{growth:>12.1f}   <= 10")
    ok = (n_ok == n and not merged and not split and len(records) == n and history_rows == n
          and abs(growth) <= 10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
