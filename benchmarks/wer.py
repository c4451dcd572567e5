"""Word error rate of `analyze`'s speech-to-text on real read speech.

Reads ../shared/data/read/ (beside the checkout; human recordings with reference
transcripts) and transcribes each clip the way `analyze` does (voice activity,
then faster-whisper over the speech only). Skips cleanly when the data is missing.

    python3 -m benchmarks.wer [--data DIR] [--model tiny.en]
"""
import argparse
import csv
import sys
from pathlib import Path

from tools.scoring import word_errors

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "read"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--model", default="tiny.en")
    args = ap.parse_args()
    tsv = args.data / "transcripts.tsv"
    if not tsv.exists():
        print(f"skipped: no real speech at {args.data} (transcripts.tsv missing)")
        return 0
    from voicecoach.analyzers.vad import VoiceActivity
    from voicecoach.sources.audio import load_call
    from voicecoach.stt.offline import transcribe_channel
    from voicecoach.stt.whisper import ModelError, TranscribeOptions, load_model

    options = TranscribeOptions(model=args.model)
    try:
        model = load_model(options, num_workers=1)
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    errors = words = 0
    with tsv.open(newline="") as f:
        rows = [r for r in csv.reader(f, delimiter="\t") if r and not r[0].startswith("#")]
    if rows and not (args.data / rows[0][0]).exists():
        rows = rows[1:]                                     # a header line
    for name, ref in rows:
        call = load_call(args.data / name)
        va = VoiceActivity()
        segments = va.feed(call.agent) + va.flush()
        hyp = " ".join(seg.text for seg in transcribe_channel(model, "agent", call.agent, segments, options))
        e, n = word_errors(ref, hyp)
        errors, words = errors + e, words + n
        print(f"{name:<40} WER {e / max(1, n):6.1%}  ({e}/{n})")
    print(f"\n{args.model}: WER {errors / max(1, words):.1%} over {words} words in {len(rows)} clips")
    return 0


if __name__ == "__main__":
    sys.exit(main())
