"""Turn-taking, pace and talk-time accuracy on generated calls with known truth.

Renders support calls with espeak-ng voices (not the demo call's voices), runs the
whole analysis (speech-to-text included) and prints, over all calls:
agent-interruption precision/recall/F1, how many backchannels and near misses
were counted as interruptions, the agent's words-per-minute error and the
talk-time error against the truth.

    python3 -m benchmarks.accuracy [--calls 10] [--minutes 3]

Targets (issue 3): agent interruptions F1 >= 0.95; backchannels counted as
interruptions <= 5 %; near misses counted <= 1 in 10; agent wpm within +-5 %;
talk time within +-3 %.
"""
import argparse
import sys

from tools.scoring import prf, score_turns


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--first-seed", type=int, default=100)
    args = ap.parse_args()
    if args.calls < 1 or not args.minutes > 0:
        ap.error("--calls must be 1 or more and --minutes above 0")
    from tools.callgen import random_call
    from voicecoach.analyze import analyze_call
    from voicecoach.config import Config
    from voicecoach.sources.audio import CallAudio
    from voicecoach.stt.whisper import load_model

    config = Config()
    model = load_model(config.transcribe)
    total: dict[str, int] = {}
    wpm_err, talk_err = [], []
    print(f"{'seed':>5} {'int':>7} {'bc->int':>8} {'nm->int':>8} {'wpm true':>9} {'wpm':>6} "
          f"{'talk err a/c %':>15}")
    for seed in range(args.first_seed, args.first_seed + args.calls):
        call = random_call(seed, voices=("espeak",), minutes=args.minutes)
        rec = analyze_call(CallAudio(call.audio[:, 0].copy(), call.audio[:, 1].copy(), f"seed {seed}"),
                           config, model=model)
        s = score_turns(rec, call.truth)
        for k, v in s.items():
            total[k] = total.get(k, 0) + v
        t_wpm, wpm = call.truth["agent_wpm"], rec["pace"]["agent_wpm"]
        wpm_err.append((wpm - t_wpm) / t_wpm * 100)
        errs = [(rec["talk_time"][ch] - call.truth["talk_time"][ch]) / call.truth["talk_time"][ch] * 100
                for ch in ("agent", "customer")]
        talk_err += errs
        print(f"{seed:>5} {s['agent_int_hits']:>3}/{s['agent_int_true']:<3} {s['bc_as_interruption']:>4}/"
              f"{s['bc_true']:<3} {s['nm_as_interruption']:>4}/{s['nm_true']:<3} {t_wpm:>9.1f} {wpm:>6.1f} "
              f"{errs[0]:>+7.1f}/{errs[1]:+.1f}")
    p, r, f = prf(total["agent_int_hits"], total["agent_int_found"], total["agent_int_true"])
    pa, ra, fa = prf(total["int_hits"], total["int_found"], total["int_true"])
    print()
    print(f"agent interruptions: precision {p:.3f} recall {r:.3f} F1 {f:.3f}  (target F1 >= 0.95)")
    print(f"all interruptions (both sides): precision {pa:.3f} recall {ra:.3f} F1 {fa:.3f}")
    print(f"backchannels counted as interruptions: {total['bc_as_interruption']}/{total['bc_true']} "
          f"= {100 * total['bc_as_interruption'] / max(1, total['bc_true']):.1f} % (target <= 5 %); "
          f"found as backchannels {total['bc_found']}/{total['bc_true']}")
    print(f"near misses counted as interruptions: {total['nm_as_interruption']}/{total['nm_true']} "
          f"(target <= 1 in 10)")
    mean_abs = sum(abs(e) for e in wpm_err) / len(wpm_err)
    print(f"agent wpm error: mean {sum(wpm_err) / len(wpm_err):+.1f} %, mean |err| {mean_abs:.1f} %, "
          f"worst {max(wpm_err, key=abs):+.1f} % (target within +-5 %)")
    print(f"talk time error: mean |err| {sum(abs(e) for e in talk_err) / len(talk_err):.1f} %, "
          f"worst {max(talk_err, key=abs):+.1f} % (target within +-3 %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
