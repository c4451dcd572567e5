"""Every file that holds a call is the user's alone (0600), and every folder VoiceCoach makes
for one is too (0700), whatever the umask; a folder the user made keeps its mode. Through the
command line, as a user makes them: a call record, the history, a report, a voice profile, a
live recording with its record, and the live event log."""
from __future__ import annotations

import os
import stat

import numpy as np
import pytest
import soundfile as sf

from voicecoach.analyze import demo_call_path
from voicecoach.cli import main


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)                  # the usual umask: what is private is so by choice
    yield
    os.umask(old)


def test_every_file_and_folder_holding_a_call_is_private(tmp_path, monkeypatch, umask_022, capsys):
    data = tmp_path / "data"
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(data))
    t = np.arange(16000 * 3) / 16000
    call = tmp_path / "call.wav"
    sf.write(call, np.stack([0.3 * np.sin(2 * np.pi * 180 * t), 0.2 * np.sin(2 * np.pi * 260 * t)], 1), 16000)
    mine = tmp_path / "mine"                       # a folder the user made, readable by others
    mine.mkdir(mode=0o755)
    os.chmod(mine, 0o755)

    out = tmp_path / "new" / "deeper"
    assert main(["analyze", str(call), "--no-transcript", "-q", "-o", str(out / "call.json")]) == 0
    assert main(["report", str(out / "call.json"), "-o", str(tmp_path / "reports" / "call.html")]) == 0
    assert main(["calibrate", str(demo_call_path()), "-o", str(tmp_path / "profiles" / "me.json")]) == 0
    speech = tmp_path / "speech.wav"               # shift mode keeps only a call with speech in it
    sf.write(speech, sf.read(demo_call_path(), frames=16000 * 9, dtype="float32")[0], 16000)
    assert main(["live", "--replay", str(speech), "--console", "--no-transcript", "--stop-after", "8",
                 "--record", str(mine / "calls"), "--events", str(tmp_path / "logs" / "e.jsonl")]) == 0
    assert main(["live", "--replay", str(speech), "--console", "--no-transcript", "--stop-after", "8",
                 "--record", str(mine)]) == 0
    capsys.readouterr()

    files = [out / "call.json", tmp_path / "reports" / "call.html", tmp_path / "profiles" / "me.json",
             tmp_path / "logs" / "e.jsonl", data / "history.sqlite",
             *(mine / "calls").iterdir(), *(p for p in mine.iterdir() if p.is_file())]
    assert len(files) >= 9 and {p.suffix for p in files} >= {".json", ".html", ".jsonl", ".sqlite", ".wav"}
    folders = [tmp_path / "new", out, tmp_path / "reports", tmp_path / "profiles", tmp_path / "logs",
               mine / "calls", data]
    assert {str(p): oct(mode(p)) for p in files if mode(p) != 0o600} == {}
    assert {str(p): oct(mode(p)) for p in folders if mode(p) != 0o700} == {}
    assert mode(mine) == 0o755                     # the user's own folder is left as they made it


def test_an_output_follows_a_symlink_and_never_replaces_a_fifo(tmp_path, monkeypatch, capsys):
    """`-o link.json` writes the file the link names (atomically, 0600) and keeps the link;
    `-o fifo` (or a device: as root `-o /dev/null` replaced /dev/null) is refused in one
    line, and the FIFO is left as it was, mode included. The same for every writer of a
    file that holds a call: a report, a profile, the event log, a screenshot."""
    import json

    from voicecoach.store.private import private_file, write_private

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    call = tmp_path / "call.wav"
    t = np.arange(16000 * 2) / 16000
    sf.write(call, np.stack([0.3 * np.sin(2 * np.pi * 180 * t), 0.2 * np.sin(2 * np.pi * 260 * t)], 1), 16000)
    target = tmp_path / "target.json"
    target.write_text("{}")
    os.chmod(target, 0o644)
    link = tmp_path / "link.json"
    link.symlink_to("target.json")
    assert main(["analyze", str(call), "--no-transcript", "-q", "-o", str(link)]) == 0
    assert link.is_symlink() and json.loads(target.read_text())["source"]["name"] == "call.wav"
    assert mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []

    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    os.chmod(fifo, 0o644)
    capsys.readouterr()
    for argv in (["analyze", str(call), "--no-transcript", "-q", "-o", str(fifo)],
                 ["report", str(target), "-o", str(fifo)],
                 ["calibrate", str(demo_call_path()), "--no-remember", "-o", str(fifo)],
                 ["live", "--replay", str(call), "--console", "--no-transcript", "--stop-after", "1",
                  "--events", str(fifo)]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("voicecoach: error: cannot write"), err
        assert "it is not a regular file" in err, err
        assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and mode(fifo) == 0o644, argv
    for write in (lambda p: write_private(p, "{}"), private_file):     # a screenshot's, the history's
        with pytest.raises(OSError, match="not a regular file"):
            write(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and mode(fifo) == 0o644


def test_a_file_written_through_a_dangling_symlink_is_private(tmp_path, umask_022):
    """A screenshot or the history named by a symlink whose target is not there yet: the
    target is made 0600 before Qt or SQLite writes into it (it was made with the umask's
    0644: the link itself 'existed', so nothing was created)."""
    from voicecoach.store.private import private_file

    link = tmp_path / "shot.png"
    link.symlink_to(tmp_path / "out" / "target.png")
    private_file(link)
    target = tmp_path / "out" / "target.png"
    assert link.is_symlink() and target.is_file() and mode(target) == 0o600
    assert mode(tmp_path / "out") == 0o700


def test_the_config_file_calibrate_makes_is_private(tmp_path, monkeypatch, umask_022):
    """It names the agent's voice profile and may name their team store."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    assert main(["calibrate", str(demo_call_path()), "-o", str(tmp_path / "me.json")]) == 0
    config = tmp_path / "config" / "voicecoach" / "config.toml"
    assert "profile = " in config.read_text()
    assert mode(config) == 0o600 and mode(config.parent) == 0o700
