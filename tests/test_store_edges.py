"""The history and the records at their edges, through the real commands: a call is one
row however its recording is reached (a symlink, recovered after a crash and analysed
again), a rebuild is all or nothing, two first runs at once both land, and odd file names
(not UTF-8, control characters, 250 bytes) give records every command reads."""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from voicecoach.analyze import demo_call_path

DEMO = demo_call_path()


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    e = dict(os.environ, HOME=str(home), XDG_DATA_HOME=str(home / "share"),
             XDG_CONFIG_HOME=str(home / "config"), VOICECOACH_DATA_DIR=str(home / "data"),
             OPENBLAS_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen")
    e.pop("VOICECOACH_DEBUG", None)
    return e


def vc(env, *args, cwd):
    return subprocess.run([sys.executable, "-m", "voicecoach", *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, errors="surrogateescape", timeout=300)


def rows(env):
    db = Path(env["VOICECOACH_DATA_DIR"]) / "history.sqlite"
    with sqlite3.connect(db) as c:
        return c.execute("SELECT record_path, name FROM calls ORDER BY record_path").fetchall()


def wav(path: Path, seconds=20.0):
    x, sr = sf.read(str(DEMO))
    tmp = path.with_name("_tmp.wav")
    sf.write(str(tmp), x[: int(sr * seconds)], sr)
    os.replace(tmp, path)              # soundfile cannot open a non-UTF-8 name itself
    return path


def test_a_recovered_recording_analysed_again_is_one_call(tmp_path, env):
    """A `live --record` recording left by kill -9 (header never rewritten) is recovered by
    `history`; analysing that same recording again (`analyze call-….wav -o again.json`)
    replaces its row (it was listed twice: "live call" and "call-….wav")."""
    rec = tmp_path / "rec"
    rec.mkdir()
    x, sr = sf.read(str(DEMO), dtype="int16")
    pcm = x[: 16000 * 20].tobytes()
    head = (b"RIFF" + struct.pack("<I", 36) + b"WAVE" + b"fmt "
            + struct.pack("<IHHIIHH", 16, 1, 2, 16000, 64000, 4, 16) + b"data" + struct.pack("<I", 0))
    call = rec / "call-20261101-090000.wav"
    call.write_bytes(head + pcm)
    r = vc(env, "history", "--rebuild", rec, cwd=tmp_path)
    assert r.returncode == 0 and "recovered" in r.stderr, r.stderr
    assert len(rows(env)) == 1
    r = vc(env, "analyze", call, "--no-transcript", "-q", "-o", tmp_path / "again.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert len(rows(env)) == 1, rows(env)


def test_a_recording_analysed_through_a_symlink_is_one_call(tmp_path, env):
    wav(tmp_path / "call.wav")
    (tmp_path / "latest.wav").symlink_to("call.wav")
    vc(env, "analyze", "call.wav", "--no-transcript", "-q", "-o", "one.json", cwd=tmp_path)
    vc(env, "analyze", "latest.wav", "--no-transcript", "-q", "-o", "two.json", cwd=tmp_path)
    assert len(rows(env)) == 1, rows(env)


def test_a_record_with_a_damaged_shift_is_skipped_and_the_rebuild_keeps_the_rest(tmp_path, env):
    """A record whose "shift" is not an object made `history --rebuild` end in an internal
    error after it had deleted every row: the calls indexed from other folders were gone
    for good. It is now not a valid record, and a rebuild is one transaction."""
    (tmp_path / "calls").mkdir()
    wav(tmp_path / "a.wav")
    r = vc(env, "analyze", "a.wav", "--no-transcript", "-q", "-o", "elsewhere/kept.json", cwd=tmp_path)
    assert r.returncode == 0 and len(rows(env)) == 1
    bad = json.loads((tmp_path / "elsewhere" / "kept.json").read_text())
    bad["shift"] = "morning"
    bad["source"]["name"] = "b.wav"
    (tmp_path / "calls" / "b.json").write_text(json.dumps(bad))
    os.utime(tmp_path / "calls" / "b.json", (1_600_000_000, 1_600_000_000))   # an older record
    r = vc(env, "history", "--rebuild", "calls", cwd=tmp_path)
    assert len(rows(env)) == 1, "history emptied: " + r.stderr
    assert r.returncode in (0, 2), r.stderr


def test_a_file_name_that_is_not_utf8_is_listed_and_reported(tmp_path, env):
    name = os.fsdecode(b"caf\xe9.wav")
    wav(tmp_path / name)
    r = vc(env, "analyze", name, "--no-transcript", "-q", "-o", "out.json", cwd=tmp_path)
    assert r.returncode == 0
    indexed = "not added to the history" not in r.stderr
    rep = vc(env, "report", "out.json", "-o", "out.html", cwd=tmp_path)
    assert indexed and rep.returncode in (0, 2), (r.stderr, rep.returncode, rep.stderr)
    assert [name for _, name in rows(env)] == ["caf\ufffd.wav"]


def _first_add(args):
    db, i, barrier = args
    from voicecoach.store.calls import add_to_history
    rec = json.loads(Path(db).with_name("r.json").read_text())
    rec["source"]["name"] = f"c{i}.wav"
    barrier.wait()                                   # all at once
    return add_to_history(rec, Path(db).with_name(f"r{i}.json"), db)


def test_first_runs_at_once_all_land_in_the_history(tmp_path, env):
    """Several `analyze -o` of a user with no history yet: each makes the new database;
    one died on "duplicate column name" (or "database is locked" setting its journal mode)
    and its call was not in the history. Processes of their own ("spawn": a fork of this
    process, whose other threads may hold locks, can hang)."""
    wav(tmp_path / "a.wav")
    assert vc(env, "analyze", "a.wav", "--no-transcript", "-q", "-o", "r.json", cwd=tmp_path).returncode == 0
    ctx = mp.get_context("spawn")
    lost = []
    with ctx.Manager() as manager, ctx.Pool(6) as pool:
        for t in range(8):
            barrier = manager.Barrier(6)
            notes = pool.map(_first_add, [(str(tmp_path / f"h{t}.sqlite"), i, barrier) for i in range(6)])
            lost += [n for n in notes if n]
    assert not lost, lost[:3]


def test_a_control_character_in_a_file_name_gives_a_record_report_reads(tmp_path, env):
    name = "a\rb.wav"
    wav(tmp_path / name)
    assert vc(env, "analyze", name, "--no-transcript", "-q", "-o", "cr.json", cwd=tmp_path).returncode == 0
    r = vc(env, "report", "cr.json", "-o", "cr.html", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "cr.json").read_text())["source"]["name"] == "a?b.wav"


def test_a_250_byte_output_name_is_written(tmp_path, env):
    wav(tmp_path / "a.wav")
    out = "x" * 245 + ".json"                  # 250 bytes: a legal name
    (tmp_path / out).touch()
    (tmp_path / out).unlink()
    r = vc(env, "analyze", "a.wav", "--no-transcript", "-q", "-o", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
