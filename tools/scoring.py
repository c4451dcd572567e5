"""Scoring an analysis against a generated call's truth (shared by tests and benchmarks)."""
from __future__ import annotations

import re

ONSET_TOLERANCE_S = 0.35


def match_events(found: list[dict], truth: list[dict], tol_s: float = ONSET_TOLERANCE_S) -> int:
    """Count one-to-one matches: same ``by`` and onsets within ``tol_s``."""
    used, hits = set(), 0
    for t in truth:
        for i, f in enumerate(found):
            if i not in used and f["by"] == t["by"] and abs(f["start"] - t["start"]) <= tol_s:
                used.add(i)
                hits += 1
                break
    return hits


def score_turns(record: dict, truth: dict) -> dict:
    """Interruption hits/false alarms, and what happened to backchannels and near misses."""
    ev = truth["events"]
    true_int = [e for e in ev if e["kind"] == "interruption"]
    true_bc = [e for e in ev if e["kind"] == "backchannel"]
    true_nm = [e for e in ev if e["kind"] == "near_miss"]
    found = record["interruptions"]
    agent_found = [f for f in found if f["by"] == "agent"]
    agent_true = [e for e in true_int if e["by"] == "agent"]
    return {
        "agent_int_true": len(agent_true),
        "agent_int_found": len(agent_found),
        "agent_int_hits": match_events(agent_found, agent_true),
        "int_true": len(true_int),
        "int_found": len(found),
        "int_hits": match_events(found, true_int),
        "bc_true": len(true_bc),
        "bc_as_interruption": match_events(found, true_bc),
        "bc_found": match_events(record["backchannels"], true_bc),
        "nm_true": len(true_nm),
        "nm_as_interruption": match_events(found, true_nm),
    }


def prf(hits: int, found: int, true: int) -> tuple[float, float, float]:
    p = hits / found if found else 1.0
    r = hits / true if true else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def normalize_text(text: str) -> list[str]:
    """Lowercase words without punctuation, for word error rate: hyphens split words,
    apostrophes inside words stay ("don't"), every other mark is a space."""
    text = text.lower().replace("-", " ")
    return re.sub(r"[^a-z0-9' ]+", " ", text).replace(" '", " ").split()


def word_errors(ref: str, hyp: str) -> tuple[int, int]:
    """(word edits: substitutions + deletions + insertions, reference words) after
    :func:`normalize_text`, counted by ``jiwer``; sum both over clips for a corpus WER."""
    r, h = normalize_text(ref), normalize_text(hyp)
    if not r:                       # jiwer refuses an empty reference: every word is inserted
        return len(h), 0
    import jiwer

    out = jiwer.process_words(" ".join(r), " ".join(h))
    return out.substitutions + out.deletions + out.insertions, len(r)


def wer(ref: str, hyp: str) -> float:
    """Word error rate of one hypothesis (see :func:`word_errors`)."""
    errors, words = word_errors(ref, hyp)
    return errors / max(1, words)
