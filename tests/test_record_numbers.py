"""The call record's numbers mean what README's table says, on calls made from the demo
call's own speech (sliced and rearranged with numpy + soundfile) and analysed by the real
CLI; and `analyze` / `review` at their edges (an output under a file, a Wayland display
that is not there)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from voicecoach.analyze import demo_call_path

SR = 16000
# where the agent speaks in the demo call (its transcript lines, s)
AGENT_LINES = [(0.278, 5.538), (8.614, 14.566), (20.734, 24.334), (26.022, 29.962),
               (31.806, 37.306), (39.006, 42.886)]


def _env(tmp_path: Path, **extra) -> dict:
    env = dict(os.environ)
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), VOICECOACH_DATA_DIR=str(data), OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=str(Path(__file__).resolve().parents[1]))   # this checkout's code
    env.update(extra)
    return env


def _run(tmp_path: Path, *args, env=None, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voicecoach", *args], cwd=tmp_path,
                          env=env or _env(tmp_path), capture_output=True, text=True, timeout=timeout)


def _record(tmp_path: Path, wav: Path) -> dict:
    p = _run(tmp_path, "analyze", str(wav), "--no-transcript", "-q", "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def _demo() -> np.ndarray:
    audio, sr = sf.read(str(demo_call_path()))
    assert sr == SR
    return audio


def test_longest_monologue_does_not_run_through_dead_air(tmp_path):
    """README: `longest_agent_monologue` is "the agent's longest run of talk with the
    caller only backchanneling". The caller states a problem, the agent answers (5 s),
    20 s of silence on both sides (dead air: a hold), the agent speaks 5 s again. The
    agent talks ~10 s in all, so no run of the agent's talk can be longer than that."""
    d = _demo()
    agent, caller = d[:int(5.8 * SR), 0], d[int(5.4 * SR):int(11.4 * SR), 1]
    z = lambda s: np.zeros(int(s * SR))
    a = np.concatenate([z(0.5), z(len(caller) / SR), z(0.5), agent, z(20), agent, z(1)])
    c = np.concatenate([z(0.5), caller])
    c = np.concatenate([c, np.zeros(len(a) - len(c))])
    wav = tmp_path / "hold.wav"
    sf.write(str(wav), np.c_[a, c], SR)
    r = _record(tmp_path, wav)
    assert r["dead_air"], "the 20 s hold is dead air"
    mono = r["longest_agent_monologue"]
    # observed: 30.5 s of "monologue" from 9.5 s of talk, across a 21 s dead-air stretch
    assert mono <= r["talk_time"]["agent"] + 0.5, (mono, r["talk_time"], r["dead_air"])


def test_syllable_rate_is_per_second_of_talking_time(tmp_path):
    """README: "`agent_wpm` is `agent_words` over the agent's `talk_time` in minutes, so
    pausing between steps lowers it; `syllables_per_s` and the timeline use the same
    talking time" (config: "syllables per second of talking"). The same six sentences of
    the agent, with 0.3 s or 1.0 s between them (both under turn_pause_s, 1.5 s, so both
    pauses count as talking): the syllables are the same, the talking time grows, so the
    syllable rate must fall with it, as words/min does."""
    d = _demo()[:, 0]
    recs = {}
    for gap in (0.3, 1.0):
        parts = [np.zeros(SR // 2)]
        for s, e in AGENT_LINES:
            parts += [d[int(s * SR):int(e * SR)], np.zeros(int(gap * SR))]
        wav = tmp_path / f"pauses{gap}.wav"
        sf.write(str(wav), np.concatenate(parts + [np.zeros(SR)]), SR)
        recs[gap] = _record(tmp_path, wav)
    short, long_ = recs[0.3], recs[1.0]
    t_short, t_long = short["talk_time"]["agent"], long_["talk_time"]["agent"]
    assert t_long > t_short + 2.0, (t_short, t_long)       # the pauses count as talking
    syl_short, syl_long = short["pace"]["syllables_per_s"], long_["pace"]["syllables_per_s"]
    # syllables = rate * talking time: the same audio, the same syllables (within 6 %)
    n_short, n_long = syl_short * t_short, syl_long * t_long
    # observed: 4.45/s over 26.6 s (118 syllables) and 4.53/s over 30.1 s (136 "syllables")
    assert abs(n_long - n_short) <= 0.06 * n_short, (syl_short, t_short, syl_long, t_long)


def test_review_with_a_wayland_display_that_does_not_answer_says_so(tmp_path):
    """`voicecoach review` where no screen answers must say so in one line (exit 2), as
    it does for no DISPLAY or an X display that does not answer. A WAYLAND_DISPLAY left
    over (a tmux session that outlived the desktop session, an ssh login that inherited
    it) with nothing behind it makes Qt abort the process instead: SIGABRT, nothing said."""
    env = _env(tmp_path, WAYLAND_DISPLAY="wayland-vc-gone", XDG_RUNTIME_DIR=str(tmp_path))
    env.pop("DISPLAY", None)
    env.pop("QT_QPA_PLATFORM", None)
    p = _run(tmp_path, "review", "demo", env=env, timeout=120)
    # observed: returncode -6 (SIGABRT), stderr empty
    assert p.returncode == 2, (p.returncode, p.stderr[-500:])
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("voicecoach: error:"), p.stderr


def test_output_under_a_file_is_not_called_permission_denied(tmp_path):
    """`analyze CALL -o FILE/x.json`, where FILE is a regular file: the record cannot be
    written because FILE is not a folder. The error line blames permissions or a
    read-only disk instead, which sends the user looking in the wrong place."""
    d = _demo()
    wav = tmp_path / "call.wav"
    sf.write(str(wav), d[:int(10 * SR)], SR)
    (tmp_path / "notes.txt").write_text("a file, not a folder\n")
    p = _run(tmp_path, "analyze", str(wav), "--no-transcript", "-q", "-o", "notes.txt/call.json")
    assert p.returncode == 2
    line = p.stderr.strip()
    assert line.startswith("voicecoach: error:"), line
    # observed: "cannot write notes.txt/call.json: Permission denied (or a read-only disk): ..."
    assert "Permission denied" not in line and "not a folder" in line, line


def test_a_wayland_display_that_answers_is_taken_as_a_screen(tmp_path, monkeypatch):
    import socket

    from voicecoach.ui import screen_problem

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-vc")
    assert screen_problem() == "the Wayland display wayland-vc does not answer (and no DISPLAY)"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(tmp_path / "wayland-vc"))
        server.listen(1)
        assert screen_problem() == ""
