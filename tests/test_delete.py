"""Deleting a call (`voicecoach history --delete`, the History tab's "Delete call…"): its
record, its recording and its history row go, what stays is said and why, and bad input
is one line that deletes nothing. Real files, a real SQLite history, the real command in a
subprocess (on a real pseudo-terminal where it asks) and the real window offscreen; no mocks."""
from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicecoach.store.calls import save_call, save_record
from voicecoach.store.history import History
from voicecoach.store.record import SCHEMA

REPO = Path(__file__).resolve().parents[1]
SECONDS = 20.0


@pytest.fixture
def user(tmp_path, monkeypatch):
    """A user of their own: data folder (the history), config folder, and a calls folder."""
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "calls").mkdir()
    return tmp_path


def record(name: str, day: int, seconds: float = SECONDS) -> dict:
    return {"schema": SCHEMA, "created": f"2026-11-{day:02d}T09:00:00+00:00",
            "source": {"name": name, "channels": ["agent", "customer"]}, "duration": seconds,
            "talk_time": {"agent": 8.0, "customer": 6.0}, "talk_share": {"agent": 0.57, "customer": 0.43},
            "interruptions": [], "warmth": {"mean": 0.5}, "pace": {"agent_wpm": 160.0},
            "transcript": [{"channel": "customer", "start": 1.0, "end": 3.0,
                            "text": "My card number is 4111 1111 1111 1111."}]}


def recording(path: Path, seconds: float = SECONDS) -> Path:
    noise = np.random.default_rng(len(path.name)).normal(0.0, 0.05, (int(seconds * 16000), 2))
    sf.write(path, noise.astype("float32"), 16000)            # (a silent one is no call to play)
    return path


def analysed(folder: Path, name: str, day: int, record_name: str = "") -> tuple[Path, Path]:
    """A recording and its record (beside it, or ``record_name`` elsewhere), in the history
    with the recording it was made from, as `analyze CALL -o` leaves them."""
    wav = folder / name if (folder / name).exists() else recording(folder / name)
    out = Path(record_name) if record_name else wav.with_suffix(".json")
    assert save_call(record(name, day), out, recordings=(wav,)) == ""
    return out, wav


def vc(cwd: Path, *args, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO), OPENBLAS_NUM_THREADS="1", QT_QPA_PLATFORM="offscreen")
    env.pop("VOICECOACH_DEBUG", None)
    env.update(kw.pop("env", {}))
    return subprocess.run([*kw.pop("prefix", []), sys.executable, "-m", "voicecoach", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120, **kw)


def listed() -> list[str]:
    with History() as history:
        return [Path(r.record_path).name for r in history.calls(None)]


def one_error(res: subprocess.CompletedProcess, *said: str) -> None:
    assert res.returncode == 2 and res.stdout == "", (res.stdout, res.stderr)
    assert res.stderr.startswith("voicecoach: error: ") and res.stderr.count("\n") == 1, res.stderr
    assert "Traceback" not in res.stderr
    for words in said:
        assert words in res.stderr, res.stderr


def test_history_numbers_its_calls_and_deletes_one_by_its_number(user):
    """`history` numbers the calls (#, 1 the oldest, whatever -n shows) and `--delete N --yes`
    deletes that call's record, its recording and its row, in one line naming each; the
    other calls keep theirs."""
    calls = [analysed(user / "calls", f"{n}.wav", day) for day, n in enumerate(("mon", "tue", "wed"), 1)]
    shown = vc(user, "history", "-n", "2").stdout.splitlines()
    assert shown[2].split()[0] == "#"
    assert [line.split()[0] for line in shown[4:6]] == ["2", "3"] and "tue.wav" in shown[4]

    res = vc(user, "history", "--delete", "2", "--yes")
    (tue_json, tue_wav) = calls[1]
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert res.stdout == (f"Deleted call 2 ({_when(2)}, tue.wav): its record {tue_json}, "
                          f"its recording {tue_wav} and its row in your history.\n")
    assert not tue_json.exists() and not tue_wav.exists()
    assert listed() == ["mon.json", "wed.json"]
    assert all(p.exists() for pair in (calls[0], calls[2]) for p in pair)
    assert [line.split()[:1] + line.split()[3:4] for line in vc(user, "history").stdout.splitlines()[4:6]] \
        == [["1", "mon.wav"], ["2", "wed.wav"]]


def _when(day: int) -> str:
    """When :func:`record` of ``day`` began, as the lists show it (local time)."""
    from voicecoach.store.history import local_time

    return local_time(record("x", day)["created"])


def test_a_call_is_deleted_by_its_record_file_too(user):
    """A record file (relative to where the command runs) names the call as its number does."""
    (mon_json, mon_wav), (tue_json, tue_wav) = (analysed(user / "calls", "mon.wav", 1),
                                                analysed(user / "calls", "tue.wav", 2))
    res = vc(user / "calls", "history", "--delete", "tue.json", "--yes")
    assert res.returncode == 0 and res.stdout.startswith("Deleted call 2 ("), res.stderr
    assert not tue_json.exists() and not tue_wav.exists() and mon_json.exists() and mon_wav.exists()
    assert listed() == ["mon.json"]
    one_error(vc(user / "calls", "history", "--delete", "tue.json", "--yes"),    # deleted already
              "tue.json: no such file, and no call in your history has that record")


def _on_a_terminal(cwd: Path, answer: str, *args) -> tuple[int, str]:
    """Run the command with a pseudo-terminal as its terminal, type ``answer`` once it asks;
    its exit status and all it wrote."""
    env = dict(os.environ, PYTHONPATH=str(REPO), OPENBLAS_NUM_THREADS="1")
    main, side = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "voicecoach", *args], stdin=side, stdout=side, stderr=side,
                            cwd=cwd, env=env, close_fds=True)
    os.close(side)
    out, typed, end = b"", False, time.monotonic() + 120
    while time.monotonic() < end:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:             # the command ended: its side of the terminal is closed
                break
            if not chunk:
                break
            out += chunk
        if not typed and b"[y/N]" in out:
            os.write(main, answer.encode() + b"\n")
            typed = True
        if proc.poll() is not None and not ready:
            break
    os.close(main)
    return proc.wait(timeout=30), out.decode("utf-8", "replace").replace("\r\n", "\n")


def test_it_asks_on_a_terminal_and_refuses_without_one(user):
    """On a terminal the command shows each file that goes and asks; anything but yes deletes
    nothing (exit 1). With no terminal to ask on and no --yes, one line refuses."""
    (mon_json, mon_wav), (tue_json, tue_wav) = (analysed(user / "calls", "mon.wav", 1),
                                                analysed(user / "calls", "tue.wav", 2))
    status, said = _on_a_terminal(user, "n", "history", "--delete", "1", "2")
    assert status == 1, said
    assert f"Call 1 ({_when(1)}, mon.wav), deleted for good:\n  {mon_json}  (its call record)\n" \
           f"  {mon_wav}  (its recording)\n  its row in your history\n" in said
    assert "Delete these 2 calls? [y/N] n\nNothing was deleted." in said
    assert all(p.exists() for p in (mon_json, mon_wav, tue_json, tue_wav)) and len(listed()) == 2

    one_error(vc(user, "history", "--delete", "1", stdin=subprocess.DEVNULL),
              "history --delete asks before it deletes, and there is no terminal to ask on: add --yes")
    assert mon_json.exists() and len(listed()) == 2

    status, said = _on_a_terminal(user, "y", "history", "--delete", "1")
    assert status == 0 and "Delete it? [y/N] y\nDeleted call 1 (" in said, said
    assert not mon_json.exists() and not mon_wav.exists() and listed() == ["tue.json"]


def test_a_recording_another_record_still_names_is_kept(user):
    """The same recording analysed twice is two rows (its file changed between, or a live
    call's record and an `analyze -o` of its recording): deleting one call keeps the
    recording for the other, and says so; deleting the last takes it. A record beside the
    recording that names it (no recording in its row) keeps it as well."""
    first, wav = analysed(user / "calls", "mon.wav", 1)
    (user / "elsewhere").mkdir()
    again, _ = analysed(user / "calls", "mon.wav", 3, record_name=str(user / "elsewhere" / "mon-again.json"))
    assert sorted(listed()) == ["mon-again.json", "mon.json"]

    res = vc(user, "history", "--delete", str(first), "--yes")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"Deleted call 1 ({_when(1)}, mon.wav): its record {first} "
                                 "and its row in your history; ")
    assert f"kept {wav}: the call record {again} was made from it too" in res.stdout
    assert wav.exists() and not first.exists() and listed() == ["mon-again.json"]

    beside = user / "calls" / "mon-right.json"            # beside it, its row without the recording
    save_record(record("mon.wav", 5), beside)
    with History() as history:
        history.add(record("mon.wav", 5), beside)
    res = vc(user, "history", "--delete", str(again), "--yes")
    assert f"kept {wav}: the call record {beside} was made from it too" in res.stdout, res.stdout
    assert wav.exists() and not again.exists()

    res = vc(user, "history", "--delete", "1", "--yes")
    assert res.returncode == 0 and f"its recording {wav}" in res.stdout, res.stdout
    assert not wav.exists() and not beside.exists() and listed() == []


def test_the_history_keeps_no_trace_of_a_deleted_call(user):
    """A live call is listed by its caller's first words, here a card number: once the call
    is deleted, neither the history's database nor its write-ahead log holds them, even
    while `live` has the history open all along (SQLite's log then keeps every page as it
    was written until it is emptied)."""
    card = "4111 1111 1111 1111"
    live = record("call-20261102-090000.wav", 2) | {
        "live": {"latency_p50_s": {}}, "shift": {"call": 1, "start_s": 0.0, "end_s": SECONDS},
        "caller_problems": [{"t": 1.0, "text": f"My card number is {card} and it was charged twice."}]}
    db = user / "data" / "history.sqlite"
    with History() as shift:                       # a shift coaching live, the history open
        analysed(user / "calls", "mon.wav", 1)
        shift.add(live, save_record(live, user / "calls" / "call-20261102-090000.json"))
        analysed(user / "calls", "wed.wav", 3)
        assert card.encode() in Path(f"{db}-wal").read_bytes()
        res = vc(user, "history", "--delete", "2", "--yes")
        assert res.returncode == 0 and f"live call: My card number is {card}" in res.stdout, res.stderr
        for f in (db, Path(f"{db}-wal")):
            assert not f.exists() or card.encode() not in f.read_bytes(), f
        assert [Path(r.record_path).name for r in shift.calls(None)] == ["mon.json", "wed.json"]


def test_bad_input_is_one_line_and_deletes_nothing(user):
    """No such number, a file that is not there, a recording instead of its record, a JSON
    file that is not a call record, the demo: one line each, exit 2, no traceback; one bad
    call among good ones and none is deleted."""
    mon_json, mon_wav = analysed(user / "calls", "mon.wav", 1)
    (user / "notes.json").write_text('{"todo": "call back"}')
    cases = [(("7",), "7: no call 7 in your history: its calls are numbered 1 to 1"),
             (("0",), "no call 0"),
             (("1", "gone.json"), "gone.json: no such file, and no call in your history has that record"),
             (("calls/mon.wav",), "calls/mon.wav: not a call record: give the call's record (.json)"),
             (("notes.json",), "not a VoiceCoach call record (no schema field): only a call record is deleted"),
             (("demo",), "the demo call is not one of your calls")]
    for refs, said in cases:
        one_error(vc(user, "history", "--delete", *refs, "--yes"), said)
    one_error(vc(user, "history", "--yes"), "--yes goes with --delete CALL")
    assert mon_json.exists() and mon_wav.exists() and (user / "notes.json").exists() and listed() == ["mon.json"]


def test_the_demo_call_is_never_deleted(user):
    """The demo's record is refused by name; a record of the agent's that names the demo's
    file (an old version's) goes, the demo call that ships with VoiceCoach never does."""
    from voicecoach.analyze import demo_call_path

    demo_record = dict(record("demo_call.flac", 1), demo=True)
    save_record(demo_record, user / "demo.json")
    one_error(vc(user, "history", "--delete", "demo.json", "--yes"), "the demo call is not one of your calls")
    assert (user / "demo.json").exists()

    old = user / "calls" / "old.json"
    assert save_call(record("demo_call.flac", 2, seconds=74.0), old) == ""
    res = vc(user, "history", "--delete", "1", "--yes")
    assert res.returncode == 0 and "no recording found" in res.stdout, res.stdout
    assert str(demo_call_path()) not in res.stdout and demo_call_path().is_file() and not old.exists()


def test_a_row_whose_record_is_gone_is_taken_out(user):
    """A record deleted by hand leaves its row: `--delete N` takes the row out, and keeps the
    recording (without the record it cannot be checked to be that call's), saying so."""
    mon_json, mon_wav = analysed(user / "calls", "mon.wav", 1)
    mon_json.unlink()
    res = vc(user, "history", "--delete", "1", "--yes")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"Deleted call 1 ({_when(1)}, mon.wav): its row in your "
                                 f"history; kept {mon_wav}: ")
    assert mon_wav.exists() and listed() == []


def test_what_stays_is_said_a_report_another_record_and_the_team_copy(user):
    """With a team store set, the line names the command that takes a shared copy back (the
    store itself is not reached); a report beside the call and an older record of the same
    recording that the history replaced are named, not deleted."""
    from voicecoach.store.team import call_id

    config = user / "config" / "voicecoach" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[team]\ndatabase = "postgresql://alice@db.invalid/voicecoach"\n')
    mon_json, mon_wav = analysed(user / "calls", "mon.wav", 1)
    (user / "calls" / "mon.html").write_text("<html>a report</html>")
    older = user / "data" / "records" / "mon.json"       # where versions before the hash kept a record
    save_record(record("mon.wav", 1), older)
    res = vc(user, "history", "--delete", "1", "--yes")
    assert res.returncode == 0, res.stderr
    assert f"kept {user / 'calls' / 'mon.html'}: a report, which may hold this call" in res.stdout
    assert (f"kept {older}: another record of this recording, not in your history "
            f"(`voicecoach history --delete {older}` deletes it)") in res.stdout
    assert ("the team store is not touched: if you shared this call with your coach, "
            f"`voicecoach share --undo {call_id(record('mon.wav', 1))[:8]}` takes it back.") in res.stdout
    assert not mon_json.exists() and not mon_wav.exists() and older.exists() and (user / "calls" / "mon.html").exists()


def test_a_folder_that_will_not_let_the_call_go_deletes_nothing(tmp_path):
    """A record in a folder the agent may not write is refused before anything is deleted
    (its recording, its row). As root (who may delete anything) the command runs as
    ``nobody``, whose files the call's are, in a folder of root's."""
    base = Path(subprocess.run(["mktemp", "-d", "/tmp/vc-delete-XXXXXX"], capture_output=True, text=True,
                               check=True).stdout.strip())
    try:
        os.chmod(base, 0o755)
        (base / "calls").mkdir()
        env = {"VOICECOACH_DATA_DIR": str(base / "data"), "XDG_CONFIG_HOME": str(base / "config"),
               "HOME": str(base)}
        wav = recording(base / "calls" / "mon.wav")
        save_call(record("mon.wav", 1), base / "calls" / "mon.json", base / "data" / "history.sqlite", (wav,))
        prefix = []
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                pytest.skip("running as root without setpriv to drop privileges")
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            for p in (base / "data", *(base / "data").iterdir(), wav, base / "calls" / "mon.json"):
                os.chown(p, 65534, 65534)
        else:
            os.chmod(base / "calls", 0o555)
        res = vc(base, "history", "--delete", "1", "--yes", env=env, prefix=prefix)
        one_error(res, f"{base / 'calls' / 'mon.json'} cannot be deleted: its folder is not writable for you; "
                       "nothing was deleted")
        assert wav.exists() and (base / "calls" / "mon.json").exists()
        with History(base / "data" / "history.sqlite") as history:
            assert history.count() == 1
    finally:
        os.chmod(base / "calls", 0o755)
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------- the History tab

def _answer(qtbot, button: str, said: list) -> None:
    """Once the confirmation shows, note its text and press ``button`` on it."""
    from PyQt6.QtCore import QTimer
    from PyQt6.QtWidgets import QApplication

    def press():
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(50, press)
            return
        said.append((box.text(), box.informativeText()))
        next(b for b in box.buttons() if b.text().replace("&", "") == button).click()

    QTimer.singleShot(50, press)


def test_the_history_tab_deletes_the_chosen_call_after_asking(user, qtbot):
    """"Delete call…" is for the call chosen in the list: the confirmation names it (number,
    date, name) and every file; Cancel deletes nothing; Delete deletes it by the rule the
    command follows, the list is refreshed and the status line says what went. The call
    shown in the window, deleted, is no longer played or shared."""
    from PyQt6.QtCore import Qt
    from ui.review import ReviewWindow

    (mon_json, mon_wav), (tue_json, tue_wav) = (analysed(user / "calls", "mon.wav", 1),
                                                analysed(user / "calls", "tue.wav", 2))
    win = ReviewWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert win.open_path(tue_json) and win.play_button.isEnabled()
    win.tabs.setCurrentIndex(1)
    view = win.history
    assert view.table.rowCount() == 2 and not view.delete_button.isEnabled()
    view.table.selectRow(0)                                     # newest on top: call 2, tue.wav
    assert view.delete_button.isEnabled() and view.table.item(0, 0).text() == "2"

    said: list = []
    _answer(qtbot, "Cancel", said)
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)               # the Delete key asks as the button does
    assert said[0][0] == f"<qt>Delete call 2 ({_when(2)}, tue.wav)?</qt>"
    assert str(tue_json) in said[0][1] and str(tue_wav) in said[0][1] and "its row in your history" in said[0][1]
    assert tue_json.exists() and tue_wav.exists() and view.table.rowCount() == 2

    assert [a.text() for a in view.table.actions()] == ["Open", "Delete call…\tDel"]    # its context menu
    _answer(qtbot, "Delete", said)
    view.delete_button.click()
    assert not tue_json.exists() and not tue_wav.exists() and mon_json.exists() and mon_wav.exists()
    assert view.table.rowCount() == 1 and view.table.item(0, 2).text() == "mon.wav"
    assert listed() == ["mon.json"]
    assert win.statusBar().currentMessage().startswith("Deleted call 2 (")
    assert win.source is None and not win.play_button.isEnabled() and win.title.text().endswith("(deleted)")
    assert not view.delete_button.isEnabled()                   # nothing chosen after the refresh


def test_the_history_tabs_delete_button_is_pressed_from_the_keyboard(user, qtbot):
    """Tab reaches "Delete call…" after the list of calls; Space (or Enter) on it asks, as a
    click does. (The window's Space shortcut, play/pause, took the key: on the History tab
    it does nothing, so a keyboard user's press of the button was lost.)"""
    from PyQt6.QtCore import Qt
    from PyQt6.QtWidgets import QApplication
    from ui.review import ReviewWindow

    analysed(user / "calls", "mon.wav", 1)
    win = ReviewWindow()
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win)          # the shortcuts act in it
    win.tabs.setCurrentIndex(1)
    view = win.history
    view.table.setFocus()
    view.table.selectRow(0)
    qtbot.keyClick(view.table, Qt.Key.Key_Tab)
    assert win.focusWidget() is view.delete_button
    for key in (Qt.Key.Key_Space, Qt.Key.Key_Return):
        said: list = []
        _answer(qtbot, "Cancel", said)
        qtbot.keyClick(view.delete_button, key)
        assert said and "mon.wav" in said[0][0], key


def test_the_history_tab_numbers_calls_as_the_command_does(user, qtbot):
    """Past the calls the tab shows (the latest 100), its # column and the plots' axis go on
    from the number `voicecoach history` gives the oldest call shown."""
    from ui.review import HISTORY_ROWS, ReviewWindow

    for n in range(HISTORY_ROWS + 1):
        assert save_call(record(f"c{n}.wav", 1 + n % 28) | {"created": f"2026-{1 + n // 28:02d}-{1 + n % 28:02d}T09:00:00"},
                         user / "calls" / f"c{n}.json") == ""
    win = ReviewWindow()
    qtbot.addWidget(win)
    win.tabs.setCurrentIndex(1)
    table = win.history.table
    assert table.rowCount() == HISTORY_ROWS
    assert (table.item(0, 0).text(), table.item(HISTORY_ROWS - 1, 0).text()) == (str(HISTORY_ROWS + 1), "2")
    assert (table.item(0, 2).text(), table.item(HISTORY_ROWS - 1, 2).text()) == (f"c{HISTORY_ROWS}.wav", "c1.wav")
    x = win.history.plots.getItem(0, 2).listDataItems()[0].getData()[0]
    assert (x[0], x[-1]) == (2, HISTORY_ROWS + 1)
    shown = vc(user, "history", "-n", "2").stdout.splitlines()
    assert [line.split()[0] for line in shown[4:6]] == [str(HISTORY_ROWS), str(HISTORY_ROWS + 1)]


def test_the_history_tabs_delete_acts_on_the_highlighted_call_only(tmp_path, monkeypatch, qtbot):
    """The agent clicks Monday's call, Ctrl+clicks Tuesday's, then Ctrl+clicks Tuesday's
    again. What "Delete call…" deletes is what is highlighted, one call at a time. (The
    table let several rows be chosen and the tab took the *current* row: with Monday alone
    highlighted it asked to delete Tuesday, and confirming deleted Tuesday's record and
    recording.)"""
    from PyQt6.QtCore import QPoint, Qt, QTimer
    from PyQt6.QtWidgets import QApplication

    from ui.review import ReviewWindow
    from voicecoach.store.calls import save_call

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    calls = tmp_path / "calls"
    calls.mkdir()
    files = {}
    for day, name in ((1, "mon"), (2, "tue")):
        wav = calls / f"{name}.wav"
        sf.write(wav, np.random.default_rng(day).normal(0, 0.05, (20 * 16000, 2)).astype("float32"), 16000)
        assert save_call(record(wav.name, day), calls / f"{name}.json", recordings=(wav,)) == ""
        files[name] = (calls / f"{name}.json", wav)

    win = ReviewWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.tabs.setCurrentIndex(1)
    table = win.history.table
    assert [table.item(r, 2).text() for r in range(2)] == ["tue.wav", "mon.wav"]     # newest on top

    def centre(row):
        return QPoint(table.columnViewportPosition(2) + 5, table.rowViewportPosition(row) + 5)

    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre(1))                 # Monday
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     centre(0))                                                                  # + Tuesday
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     centre(0))                                                                  # - Tuesday
    chosen = [i.row() for i in table.selectionModel().selectedRows()]
    # what the tab would delete is what is highlighted: nothing now (one row at a time)
    assert chosen == [] and win.history.selected() is None and not win.history.delete_button.isEnabled(), chosen
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=centre(1))                 # Monday

    asked = []

    def press():
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(50, press)
            return
        asked.append(box.text())
        next(b for b in box.buttons() if b.text().replace("&", "") == "Delete").click()

    QTimer.singleShot(50, press)
    win.history.delete_button.click()
    assert asked and "mon.wav" in asked[0], f"Monday is the call chosen; the window asked: {asked}"
    assert files["tue"][0].exists() and files["tue"][1].exists(), "Tuesday, not chosen, was deleted"


def test_a_recording_another_record_names_through_a_link_of_another_name_is_kept(user):
    """A record made from a symlink to the recording (``monday-call.wav -> mon.wav``, a
    shortcut the agent made) names it by the link's name: it still needs the file. The
    check looked for rows by the recording's own name and missed it, so deleting the
    other call took the recording from under this one."""
    from voicecoach.store.delete import plan_deletion

    first, wav = analysed(user / "calls", "mon.wav", 1)
    (user / "links").mkdir()
    (user / "links" / "monday-call.wav").symlink_to(wav)
    linked, _ = analysed(user / "links", "monday-call.wav", 2, record_name=str(user / "links" / "monday.json"))
    plan = plan_deletion(first)
    assert wav not in plan.recordings, plan.details()
    assert any(f"kept {wav}: the call record {linked} was made from it too" in s for s in plan.stays), plan.stays


def test_deleting_a_live_call_coached_with_recording_off_does_not_say_its_recording_is_missing(user):
    """A call coached live with recording off (the default) never had a recording: deleting
    it said "no recording found (call 1, 2026-11-02 09:00 is neither beside the record nor
    where it was analysed)", as if a file had gone missing."""
    live = record("call 1, 2026-11-02 09:00", 2) | {
        "live": {"latency_p50_s": {}}, "shift": {"call": 1, "start_s": 0.0, "end_s": SECONDS}}
    assert save_call(live, user / "data" / "records" / "call-20261102-090000-001.json") == ""
    res = vc(user, "history", "--delete", "1", "--yes")
    assert res.returncode == 0 and "Deleted call 1" in res.stdout, res.stderr
    assert "neither beside the record" not in res.stdout and "none was made" in res.stdout, res.stdout
    assert listed() == []
