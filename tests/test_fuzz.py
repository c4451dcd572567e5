"""Fuzz: every generated malformed input (tests/fuzz_inputs.py) through every command.

The contract (README, issue 16): a refused input is exit status 2 and exactly one line on
stderr (``voicecoach: error: ...``) — no traceback, no decoder chatter; an accepted one is
exit 0 with at most one warning line (a truncated file says so). The CLI runs in this
process through ``main()`` with ``capfd`` (file descriptors 1 and 2, so a C library's
message on stderr is caught too); a representative subset runs as a real subprocess, and
the memory bombs run as subprocesses whose peak memory is measured.
"""
from __future__ import annotations

import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")   # review's screenshots, before Qt is imported

import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

import fuzz_inputs as fz  # noqa: E402
from voicecoach.analyze import analyze_call  # noqa: E402
from voicecoach.cli import main  # noqa: E402
from voicecoach.sources.audio import load_call  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    good, bad = fz.audio_inputs(folder / "audio")
    calls = folder / "calls"
    calls.mkdir()
    shutil.copy(good["wav"], calls / "good.wav")
    record = analyze_call(load_call(calls / "good.wav"), transcribe=False)
    record.update({
        "stt_model": "tiny.en",
        "transcript": [{"channel": "agent", "start": 0.2, "end": 1.4, "text": "Hello, thanks for calling.",
                        "words": [{"start": 0.2, "end": 0.6, "text": "Hello,", "probability": 0.9},
                                  {"start": 0.7, "end": 1.4, "text": "thanks for calling.", "probability": 0.9}]},
                       {"channel": "customer", "start": 1.6, "end": 2.8, "text": "My router is broken.",
                        "words": []}],
        "cues": [{"t": 0.2, "kind": "greeting", "text": "greeting", "channel": "agent"},
                 {"t": 2.0, "kind": "jargon", "text": "DNS", "phrase": "DNS", "suggestion": "a setting",
                  "channel": "agent"}],
        "interruptions": [{"start": 1.0, "end": 1.6, "by": "agent"}],
        "commitments": [{"t": 1.0, "text": "I'll call you back."}],
        "caller_problems": [{"t": 1.6, "text": "My router is broken."}],
        "checklist": {"greeting": True, "empathy": False, "questions": False, "closing_question": False},
        "questions": {"open": 0, "closed": 0},
    })
    records = []
    for i, (name, content, valid) in enumerate(fz.hostile_records(record)):
        path = calls / f"record-{i:02d}.json"
        fz.write_content(path, content)
        records.append((name, path, valid))
    big = calls / "huge.json"                      # sparse: 100 MB claimed, nothing written
    with open(big, "wb") as f:
        f.truncate(100 * 2 ** 20)
    records.append(("100 MB file", big, False))
    for name, dev in (("FIFO record", calls / "fifo.json"), ("/dev/zero record", Path("/dev/zero"))):
        if name.startswith("FIFO"):
            os.mkfifo(dev)
        records.append((name, dev, False))
    configs = []
    for i, (name, text) in enumerate(fz.hostile_configs()):
        p = folder / f"config-{i:02d}.toml"
        p.write_text(text)
        configs.append((name, p))
    configs += [("config is a folder", folder), ("config is /dev/zero", Path("/dev/zero"))]
    profiles = []
    for i, (name, content) in enumerate(fz.hostile_profiles()):
        profiles.append((name, fz.write_content(folder / f"profile-{i}.json", content)))
    profiles.append(("profile is /dev/zero", Path("/dev/zero")))
    return {"folder": folder, "good": good, "bad": bad, "records": records, "base": calls / "record-00.json",
            "configs": configs, "profiles": profiles}


class Outcomes:
    """Each run's verdict; the test fails listing every broken contract at once."""

    def __init__(self, capfd):
        self.capfd = capfd
        self.runs = 0
        self.failures = []
        self.times = []

    def run(self, label: str, argv: list[str], expect: str = "any") -> tuple[int, str, str]:
        """Run ``voicecoach ARGV``; ``expect`` is "error" (must be refused), "ok" (must work)
        or "any" (either, each by its contract)."""
        self.capfd.readouterr()
        t0 = time.monotonic()
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:             # argparse
            code = exc.code
        except BaseException as exc:          # a traceback would have reached the user
            code = f"raised {exc.__class__.__name__}: {exc}"
        out, err = self.capfd.readouterr()
        self.times.append((time.monotonic() - t0, label, argv[0]))
        self.runs += 1
        problem = verdict(code, out, err, expect)
        if problem:
            self.failures.append(f"{label}: {' '.join(map(str, argv))}: {problem}")
        return code, out, err


def verdict(code, out: str, err: str, expect: str) -> str:
    """"" when a run keeps the contract, else what is wrong."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if "Traceback" in out + err:
        return "traceback"
    if code == 2:
        if expect == "ok":
            return f"refused: {err.strip()[:200]}"
        if len(lines) != 1 or not lines[0].startswith("voicecoach: error: "):
            return f"exit 2 but stderr is not one error line: {lines[:6]}"
        return ""
    if code == 0:
        if expect == "error":
            return f"accepted (stdout {out[:80]!r})"
        noise = [ln for ln in lines if not ln.startswith(("voicecoach: warning: ", "voicecoach: note: "))]
        if noise or len(lines) > 1:
            return f"exit 0 with stderr {lines[:6]}"
        return ""
    return f"exit {code}: {err.strip()[:300]}"


def test_every_malformed_input_to_every_command(corpus, capfd, tmp_path, monkeypatch, qapp):
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    o = Outcomes(capfd)
    audio = corpus["bad"]
    good = corpus["good"]

    for ext, path in good.items():                          # the good ones work, silently
        o.run(f"good {ext}", ["analyze", path, "--no-transcript", "-q"], "ok")
    for label, path in audio:
        code, out, err = o.run(label, ["analyze", path, "--no-transcript", "-q"])
        if code == 0 and ("cut at 0.5" in label or "cut at 0.3" in label):
            if "truncated" not in err:                     # half a file is never analysed silently
                o.failures.append(f"{label}: analysed without saying it looks truncated: {err!r}")
        o.run(label, ["warmth", path])
        o.run(label, ["calibrate", path, "-o", tmp_path / "profile.json"])
    caller = tmp_path / "caller.flac"                       # a voice of its own (the good files hold both)
    import soundfile as sf
    sf.write(caller, fz.voice_like(4.0, 16000, 180, 7), 16000)
    for i, (label, path) in enumerate(audio[::4]):          # the same decoder: a sample is enough
        o.run(label, ["analyze", "--agent", path, "--customer", caller, "--no-transcript", "-q"])
        # each shift's data folder its own: on a fast machine two of these 0.2 s shifts begin
        # in the same second, and the history takes their two "call 1"s (begun then, as long,
        # as named) for one call, as it must a record copied elsewhere; `history --rebuild`
        # below then added the other again, saying so
        monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / f"live-{i}"))
        o.run(label, ["live", "--replay", path, "--console", "--no-transcript", "--stop-after", "0.2"])
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    for label, path in [a for a in audio if "cut" in a[0]][::6]:
        o.run(label, ["report", path, "-o", tmp_path / "r.html"])      # analysed with speech-to-text

    for label, path, valid in corpus["records"]:
        expect = "ok" if valid else "error"
        o.run(label, ["report", path, "-o", tmp_path / "r.html"], expect)
        o.run(label, ["review", path, "--screenshot", tmp_path / "r.png"], expect)
    o.run("hostile records", ["history", "--rebuild", corpus["base"].parent], "ok")

    for label, path in corpus["configs"]:
        o.run(label, ["config", "--config", path], "error")
        o.run(label, ["analyze", good["wav"], "--no-transcript", "-q", "--config", path], "error")
        o.run(label, ["warmth", good["wav"], "--config", path], "error")
    for label, path in corpus["profiles"]:
        o.run(label, ["analyze", good["wav"], "--no-transcript", "-q", "--profile", path], "error")
        o.run(label, ["warmth", good["wav"], "--profile", path], "error")

    data = tmp_path / "history-cases"
    for label, make in (("history database of garbage", lambda d: (d / "history.sqlite").write_bytes(b"x" * 5000)),
                        ("history database is a folder", lambda d: (d / "history.sqlite").mkdir()),
                        ("data folder is a file", None)):
        shutil.rmtree(data, ignore_errors=True)
        if make is None:
            data.write_text("not a folder") if not data.exists() else None
        else:
            data.mkdir()
            make(data)
        monkeypatch.setenv("VOICECOACH_DATA_DIR", str(data))
        o.run(label, ["history"], "error")
        if data.is_file():
            data.unlink()

    print(f"\nfuzz: {len(audio)} malformed audio files, {len(corpus['records'])} records, "
          f"{len(corpus['configs'])} configs, {len(corpus['profiles'])} profiles; "
          f"{o.runs} runs, {len(o.failures)} failures")
    by_command = {}
    for t, _, command in o.times:
        by_command[command] = by_command.get(command, 0.0) + t
    print("seconds by command: " + ", ".join(f"{c} {t:.1f}" for c, t in sorted(by_command.items())))
    n_inputs = len(audio) + len(corpus["records"]) + len(corpus["configs"]) + len(corpus["profiles"]) + 3
    assert n_inputs >= 100
    assert not o.failures, "\n".join(o.failures)


def test_crafted_record_runs_no_script_and_reads_nothing_outside_its_folder(corpus, tmp_path, monkeypatch):
    from voicecoach.sinks.report import report_html
    from voicecoach.store.calls import recording_files
    from voicecoach.store.record import load_record

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    calls = corpus["base"].parent
    hostile = load_record(calls / "record-01.json")           # script in the text, <img> in the name
    page = report_html(hostile)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # a recording elsewhere, named by an absolute path or a path up and out: never embedded
    outside = tmp_path / "outside.wav"
    shutil.copy(corpus["good"]["wav"], outside)
    for name in (str(outside), "../" * 8 + str(outside).lstrip("/"), "../outside.wav",
                 load_record(corpus["base"])["source"]["name"] + " + ../outside.wav"):
        record = dict(load_record(corpus["base"]), source={"name": name, "channels": ["agent", "customer"]})
        assert recording_files(record, calls / "x.json") == ()
        (calls / "x.json").write_text(json.dumps(record))
        assert main(["report", str(calls / "x.json"), "-o", str(tmp_path / "x.html")]) == 0
        assert "data:audio" not in (tmp_path / "x.html").read_text()
    # the recording beside its record is
    assert main(["report", str(corpus["base"]), "-o", str(tmp_path / "b.html")]) == 0
    assert "data:audio" in (tmp_path / "b.html").read_text()


def test_review_shows_record_text_as_plain_text(corpus, qtbot, tmp_path):
    from PyQt6.QtCore import Qt

    from voicecoach.store.calls import open_call
    from voicecoach.ui.review import ReviewWindow

    win = ReviewWindow(history_path=tmp_path / "h.sqlite")
    qtbot.addWidget(win)                  # closed and deleted by pytest-qt, not by the garbage collector later
    win.load(open_call(corpus["base"].parent / "record-01.json", history_path=tmp_path / "h.sqlite"))
    assert win.title.text() == "<img src=x onerror=alert(1)>.wav"
    assert win.title.textFormat() == Qt.TextFormat.PlainText
    assert win.subtitle.textFormat() == Qt.TextFormat.PlainText


def _subprocess(argv, env=None, timeout=120):
    """``voicecoach ARGV`` as a real process: (exit status, stdout, stderr, peak RSS in MB)."""
    # The peak is this process's own (VmHWM): ru_maxrss carries the parent's resident size over
    # fork and exec, so it read pytest's ~1 GB, not the command's ~0.1 GB.
    code = ("import resource, sys\nfrom voicecoach.cli import main\nrc = main(sys.argv[1:])\n"
            "sys.stdout.flush()\n"
            "try:\n"
            "    peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
            "except OSError:\n"
            "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "print('PEAK_KB', peak)\nsys.exit(rc)")
    full_env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                    **(env or {}))
    res = subprocess.run([sys.executable, "-c", code, *map(str, argv)], capture_output=True, text=True,
                         env=full_env, timeout=timeout)
    out, _, peak = res.stdout.rpartition("PEAK_KB ")
    return res.returncode, out, res.stderr, (int(peak.strip()) / 1024 if peak.strip() else None)


def test_memory_bombs_are_refused_before_allocating(corpus, tmp_path):
    """As real processes: the worst header is refused with one line in well under 1 GB."""
    bombs = [(label, p) for label, p in corpus["bad"]
             if any(k in label for k in ("WAV 1hz", "WAV 3hz", "4ghz", "1000ch", "4 GB", "FLAC header forged"))]
    assert len(bombs) >= 7
    worst = 0.0
    env = {"VOICECOACH_DATA_DIR": str(tmp_path / "data")}
    for label, path in bombs:
        for argv in (["analyze", path, "--no-transcript", "-q"], ["warmth", path]):
            code, out, err, peak_mb = _subprocess(argv, env)
            assert not verdict(code, out, err, "any"), (label, argv, code, err)
            worst = max(worst, peak_mb)
    print(f"\nmemory bombs: {len(bombs)} inputs x 2 commands, worst peak {worst:.0f} MB (target < 1024 MB)")
    assert worst < 1024


def test_subprocess_subset_keeps_the_contract(corpus, tmp_path):
    """The in-process runs are faithful: the same verdicts from real processes (fd 2 included)."""
    env = {"VOICECOACH_DATA_DIR": str(tmp_path / "data")}
    picks = [a for a in corpus["bad"] if any(k in a[0] for k in (
        "flac cut at 0.5", "mp3 cut at 0.5", "random bytes .mp3", "page.mp3", "nan samples", "a FIFO",
        "/dev/zero", "mp3 corrupted"))]
    assert len(picks) >= 8
    for label, path in picks:
        code, out, err, _ = _subprocess(["analyze", path, "--no-transcript", "-q"], env)
        assert not verdict(code, out, err, "any"), (label, code, err)
    for label, path, valid in corpus["records"][:12]:
        code, out, err, _ = _subprocess(["report", path, "-o", tmp_path / "r.html"], env)
        assert not verdict(code, out, err, "ok" if valid else "error"), (label, code, err)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_unreadable_files_are_one_line(corpus, tmp_path):
    """A file the user may not read, and a readable file in a folder they may not enter.
    As root (who reads everything) the command runs as ``nobody`` through setpriv."""
    base = Path(os.environ.get("TMPDIR", "/tmp"))
    folder = Path(subprocess.run(["mktemp", "-d", str(base / "vc-perm-XXXXXX")], capture_output=True,
                                 text=True, check=True).stdout.strip())
    try:
        os.chmod(folder, 0o755)
        unreadable = folder / "unreadable.wav"
        shutil.copy(corpus["good"]["wav"], unreadable)
        os.chmod(unreadable, 0o000)
        closed = folder / "closed"
        closed.mkdir()
        shutil.copy(corpus["good"]["wav"], closed / "inside.wav")
        os.chmod(closed / "inside.wav", 0o644)
        os.chmod(closed, 0o600)                      # no x: cannot be entered
        prefix = []
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                pytest.skip("running as root without setpriv to drop privileges")
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        env = dict(os.environ, PYTHONPATH=str(ROOT), VOICECOACH_DATA_DIR=str(folder / "data"), HOME=str(folder),
                   XDG_CONFIG_HOME=str(folder / "config"))   # a user's own, not the suite's (root's)
        for path in (unreadable, closed / "inside.wav"):
            for argv in (["analyze", path, "--no-transcript", "-q"], ["warmth", path]):
                res = subprocess.run(prefix + [sys.executable, "-m", "voicecoach", *map(str, argv)],
                                     capture_output=True, text=True, env=env, timeout=120, cwd=folder)
                assert res.returncode == 2 and not verdict(res.returncode, res.stdout, res.stderr, "error"), \
                    (argv, res.returncode, res.stderr)
                assert "permission denied" in res.stderr
    finally:
        os.chmod(folder / "closed", 0o700)
        shutil.rmtree(folder, ignore_errors=True)
