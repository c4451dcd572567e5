"""The `voicecoach` command as a user runs it: help, output, and one-line errors."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "voicecoach", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_help_explains_every_command():
    out = run("--help").stdout
    assert "analyze" in out and "config" in out and "Nothing leaves the machine" in out
    sub = run("analyze", "--help").stdout
    for flag in ("--demo", "--agent", "--customer", "--agent-channel", "--json", "--output", "--model",
                 "--config", "--profile", "left", "mono"):
        assert flag in sub


def test_demo_summary_and_json(tmp_path):
    res = run("analyze", "--demo", "-o", str(tmp_path / "demo.json"))
    assert res.returncode == 0, res.stderr
    assert "Talk" in res.stdout and "interrupted 1×" in res.stdout and "✓ greeting" in res.stdout
    assert "Traceback" not in res.stderr
    record = json.loads((tmp_path / "demo.json").read_text())
    assert record["schema"] == "voicecoach.call/1"
    res = run("analyze", "--demo", "--json", "--no-transcript")
    record = json.loads(res.stdout)
    assert record["stt_model"] is None and record["transcript"] == []
    assert "transcript" in record["unavailable"]
    # named as the other commands name it
    res = run("analyze", "demo", "--json", "--no-transcript")
    assert res.returncode == 0, res.stderr
    named = json.loads(res.stdout)
    assert named["demo"] is True and named["duration"] == record["duration"]



def test_json_to_a_file_says_where_it_went(tmp_path):
    """With -o the record goes to the file, --json or not, and the command says where."""
    res = run("analyze", "--demo", "--no-transcript", "--json", "-o", str(tmp_path / "demo.json"))
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"Call record written to {tmp_path / 'demo.json'}\n"
    assert json.loads((tmp_path / "demo.json").read_text())["stt_model"] is None

def test_a_screenshot_says_where_it_went(tmp_path):
    """`review --screenshot` says what it wrote, as every command that writes a file does."""
    shot = tmp_path / "shot.png"
    res = run("review", "demo", "--screenshot", str(shot))
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"Screenshot written to {shot}\n" and shot.stat().st_size > 0


def test_a_side_too_short_is_refused_as_a_call_too_short_is(tmp_path):
    """One rule for a too short file, whichever file of a call it is and however it is read:
    `analyze` (streamed) refuses a 100 ms --customer file as `review` (read whole) does."""
    from voicecoach.sources.audio import AudioError, load_call

    t = np.arange(3 * 16000) / 16000
    sf.write(tmp_path / "me.wav", (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000)
    sf.write(tmp_path / "them.wav", (0.3 * np.sin(2 * np.pi * 300 * t[:1600])).astype(np.float32), 16000)
    said = f"{tmp_path / 'them.wav'}: only 100 ms of audio; too short to analyse"
    res = run("analyze", "--agent", str(tmp_path / "me.wav"), "--customer", str(tmp_path / "them.wav"),
              "--no-transcript", "-q")
    assert res.returncode == 2 and res.stderr == f"voicecoach: error: {said}\n", res.stderr
    with pytest.raises(AudioError, match=re.escape(said)):
        load_call(agent=tmp_path / "me.wav", customer=tmp_path / "them.wav")


@pytest.mark.parametrize("setup, args, message", [
    (lambda p: None, ["missing.wav"], "no such file"),
    (lambda p: (p / "notes.wav").write_text("not audio at all " * 50), ["notes.wav"], "not an audio file"),
    (lambda p: sf.write(p / "quiet.wav", np.zeros((32000, 2), np.float32), 16000), ["quiet.wav"], "silent"),
    (lambda p: sf.write(p / "six.wav", np.full((32000, 6), 0.1, np.float32), 16000), ["six.wav"], "6 channels"),
    (lambda p: None, [], "no call given"),
    (lambda p: (p / "bad.toml").write_text("[turns]\nmin_overlap_s = 'long'\n"),
     ["--demo", "--config", "bad.toml"], "must be a number"),
    (lambda p: (p / "bad.toml").write_text("[turns]\nmin_overlap = 1\n"),
     ["--demo", "--config", "bad.toml"], "unknown setting 'min_overlap'"),
    (lambda p: None, ["--demo", "--model", "no-such-folder/"], "cannot load speech-to-text model"),
    (lambda p: None, ["--demo", "-o", "/proc/nope/rec.json"], "cannot write"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, setup, args, message):
    setup(tmp_path)
    res = run("analyze", *args, cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and message in res.stderr, res.stderr
    assert res.stderr.startswith("voicecoach: error:")


@pytest.mark.parametrize("command", ["analyze", "report"])
def test_an_output_that_cannot_be_written_is_refused_before_the_work(tmp_path, command):
    """`analyze call.flac -o /read-only/out.json` analysed the whole call, then failed to
    write. The recording given here is not a recording at all: an error naming the output,
    not the recording, shows the output was checked first. As root (who writes anywhere)
    the command runs as ``nobody`` through setpriv."""
    import shutil

    base = Path(subprocess.run(["mktemp", "-d", str(Path(os.environ.get("TMPDIR", "/tmp")) / "vc-out-XXXXXX")],
                               capture_output=True, text=True, check=True).stdout.strip())
    try:
        os.chmod(base, 0o755)
        (base / "call.wav").write_text("not a recording")
        locked = base / "locked"
        locked.mkdir(mode=0o555)
        prefix = []
        if os.geteuid() == 0:
            if not shutil.which("setpriv"):
                pytest.skip("running as root without setpriv to drop privileges")
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]), HOME=str(base),
                   VOICECOACH_DATA_DIR=str(base / "data"), XDG_CONFIG_HOME=str(base / "config"))
        for out in (locked / "out.json", locked / "new folder" / "out.json", base):
            argv = [command, str(base / "call.wav"), "-o", str(out)]
            res = subprocess.run(prefix + [sys.executable, "-m", "voicecoach", *argv], capture_output=True,
                                 text=True, env=env, timeout=120, cwd=base)
            assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
            assert str(out) in res.stderr and ("cannot write" in res.stderr or "is a folder" in res.stderr), \
                res.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_agent_channel_on_a_one_channel_recording_is_said_not_ignored(tmp_path):
    t = np.arange(3 * 16000) / 16000
    sf.write(tmp_path / "mono.wav", (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000)
    res = run("analyze", str(tmp_path / "mono.wav"), "--agent-channel", "right", "--no-transcript", "-q",
              cwd=tmp_path)
    assert res.returncode == 0 and "agent only" in res.stdout
    assert res.stderr == ("voicecoach: note: --agent-channel right does nothing here: mono.wav has one "
                          "channel, taken as yours\n")


def test_config_command_prints_every_setting_as_toml(tmp_path):
    import tomllib

    res = run("config")
    assert res.returncode == 0
    body = tomllib.loads(res.stdout)
    assert body["turns"]["min_overlap_s"] == 0.5 and "lexicon_dirs" in body["language"]
    (tmp_path / "c.toml").write_text(res.stdout.split("\n", 1)[1])     # round trip
    assert run("config", "--config", str(tmp_path / "c.toml")).returncode == 0


def test_a_lexicon_folder_problem_names_the_config_file_that_lists_it(tmp_path, capsys):
    from voicecoach.cli import main

    for folder, said in ((tmp_path / "nowhere", "lexicon folder not found"),
                         (tmp_path / "c.toml", "not a folder (lexicon_dirs lists folders of lexicon files)")):
        (tmp_path / "c.toml").write_text(f'[language]\nlexicon_dirs = ["{folder}"]\n')
        assert main(["config", "--config", str(tmp_path / "c.toml")]) == 2
        assert capsys.readouterr().err == \
            f"voicecoach: error: {tmp_path / 'c.toml'}: [language] lexicon_dirs: {folder}: {said}\n"


def test_config_command_does_not_show_a_password(tmp_path):
    for url in ("postgresql://coach:s3cret@db.example/team", "host=db user=coach password=s3cret dbname=t"):
        (tmp_path / "c.toml").write_text(f'[team]\ndatabase = "{url}"\n')
        res = run("config", "--config", str(tmp_path / "c.toml"))
        assert res.returncode == 0 and "s3cret" not in res.stdout and "hidden: it holds a password" in res.stdout


def test_a_recording_is_dated_by_its_call_not_by_the_analysis(tmp_path):
    """A call recorded yesterday is yesterday's call in its record and the history."""
    import os
    from datetime import datetime, timezone

    from voicecoach.analyze import demo_call_path

    call = tmp_path / "call.flac"
    call.write_bytes(demo_call_path().read_bytes())
    ended = datetime(2026, 3, 9, 14, 30, tzinfo=timezone.utc).timestamp()
    os.utime(call, (ended, ended))
    res = run("analyze", str(call), "--no-transcript", "--json")
    assert res.returncode == 0, res.stderr
    record = json.loads(res.stdout)
    started = datetime.fromisoformat(record["created"]).timestamp()
    assert abs(started - (ended - record["duration"])) < 1.0
    demo = json.loads(run("analyze", "--demo", "--no-transcript", "--json").stdout)
    age = datetime.now(timezone.utc) - datetime.fromisoformat(demo["created"])
    assert 0 <= age.total_seconds() < 120           # the demo is dated when it was analysed


def test_thresholds_from_config_change_the_analysis(tmp_path):
    (tmp_path / "strict.toml").write_text("[turns]\nmin_overlap_s = 5.0\n")
    res = run("analyze", "--demo", "--no-transcript", "--json", "--config", str(tmp_path / "strict.toml"))
    assert json.loads(res.stdout)["interruptions"] == []


def test_report_history_calibrate_and_warmth(tmp_path):
    import os
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path / "data"),   # calibrate remembers its profile:
               XDG_CONFIG_HOME=str(tmp_path / "config"))            # in a config of this test's own
    vc = lambda *a: subprocess.run([sys.executable, "-m", "voicecoach", *a], capture_output=True,  # noqa: E731
                                   text=True, cwd=tmp_path, env=env, timeout=300)
    res = vc("analyze", "--demo", "-q", "-o", "demo.json")
    assert res.returncode == 0, res.stderr
    res = vc("report", "demo.json", "-o", "demo.html")
    assert res.returncode == 0, res.stderr
    html = (tmp_path / "demo.html").read_text()
    assert "<svg" in html and "http://" not in html and "https://" not in html
    assert res.stdout == "Report written to demo.html\n", res.stdout
    res = vc("report", "demo.json", "-o", "demo.pdf")              # it wrote a web page under a PDF's name
    assert res.returncode == 0 and res.stdout.rstrip().endswith("(a web page: open it in a browser, or name it .html)")
    res = vc("history")                            # the demo is not the agent's call
    assert res.returncode == 0 and "No calls in your history yet" in res.stdout, res.stdout
    text = ("Thank you for calling. I can certainly help you with that today. Let me look at your "
            "account and check what happened with the last bill, and then we will fix it together.")
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(tmp_path / "me.wav"), text], check=True)
    subprocess.run(["espeak-ng", "-v", "en-us", "-p", "80", "-w", str(tmp_path / "me2.wav"), text], check=True)
    res = vc("calibrate", "me.wav", "-o", "me.json")
    assert res.returncode == 0, res.stderr
    assert "samples" not in (tmp_path / "me.json").read_text()       # statistics, not audio
    res = vc("warmth", "me.wav", "me2.wav", "--profile", "me.json", "--json")
    assert res.returncode == 0, res.stderr
    scores = json.loads(res.stdout)
    assert [s["file"].endswith(n) for s, n in zip(scores, ("me.wav", "me2.wav"))] == [True, True]
    assert all(0.0 <= s["warmth"] <= 1.0 for s in scores)
    assert abs(scores[0]["warmth"] - 0.5) < 0.15                     # one's own voice is ordinary
    res = vc("calibrate", "-o", "x.json")
    assert res.returncode == 2 and res.stderr.count("\n") == 1



def _speak(tmp_path):
    """A recording of an ordinary voice (espeak-ng), as an absolute path: the commands
    below run from this checkout (not ``cwd=tmp_path``), so that ``python -m
    voicecoach`` is this checkout's code whatever package is installed."""
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    text = ("Thank you for calling. I can certainly help you with that today. Let me look at your "
            "account and check what happened with the last bill, and then we will fix it together.")
    path = tmp_path / "me.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(path), text], check=True)
    return str(path)


def test_calibrate_reads_warmth_settings_from_the_config(tmp_path):
    me = _speak(tmp_path)

    def toml(name, text):
        (tmp_path / name).write_text(text)
        return str(tmp_path / name)

    bad = toml("bad.toml", "[warmth]\nwindow = 2.0\n")
    res = run("calibrate", me, "-o", str(tmp_path / "x.json"), "--config", bad)
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "unknown setting 'window' in [warmth]" in res.stderr
    assert not (tmp_path / "x.json").exists()
    res = run("calibrate", me, "-o", str(tmp_path / "x.json"), "--config", str(tmp_path / "none.toml"))
    assert res.returncode == 2 and "no such config file" in res.stderr
    plain, short = toml("plain.toml", ""), toml("short.toml", "[warmth]\nwindow_s = 2.0\nupdate_s = 0.5\n")
    for name, config in (("plain", plain), ("short", short)):
        res = run("calibrate", me, "-o", str(tmp_path / f"{name}.json"), "--config", config)
        assert res.returncode == 0, res.stderr
    plain = json.loads((tmp_path / "plain.json").read_text())
    short = json.loads((tmp_path / "short.json").read_text())
    assert plain["window_s"] == 4.0 and short["window_s"] == 2.0
    assert short["n_windows"] > 1.5 * plain["n_windows"]      # a window every 0.5 s, not 1 s


def test_warmth_reads_prosody_settings_from_the_config(tmp_path):
    me = _speak(tmp_path)
    (tmp_path / "bad.toml").write_text("[prosody]\nsilence_db = 'quiet'\n")
    res = run("warmth", me, "--json", "--config", str(tmp_path / "bad.toml"))
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "[prosody] silence_db must be a number" in res.stderr and res.stdout == ""
    (tmp_path / "plain.toml").write_text("")
    res = run("warmth", me, "--json", "--config", str(tmp_path / "plain.toml"))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)[0]["warmth"] is not None
    assert json.loads(res.stdout)[0]["baseline"] == "average voice"      # no profile: it says so
    (tmp_path / "deaf.toml").write_text("[prosody]\nsilence_db = -1.0\n")  # nothing is voiced
    res = run("warmth", me, "--json", "--config", str(tmp_path / "deaf.toml"))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)[0]["warmth"] is None
    res = run("warmth", me, "--config", str(tmp_path / "deaf.toml"))
    assert "not enough speech" in res.stdout


def test_warmth_is_a_table_like_the_others(tmp_path):
    """What each row is comes first, then its numbers, under a header, as in `history` and
    `team trend`; a clip with no score says why in a column of its own."""
    me = _speak(tmp_path)
    sf.write(tmp_path / "quiet.wav", np.zeros(16000, np.float32), 16000)
    (tmp_path / "plain.toml").write_text("")
    res = run("warmth", me, str(tmp_path / "quiet.wav"), "--config", str(tmp_path / "plain.toml"))
    assert res.returncode == 0, res.stderr
    head, rule, mine, quiet = res.stdout.splitlines()[-4:]
    assert head.split("  ")[0] == "Clip" and head.split()[1:] == ["Warmth", "Why", "none"]
    assert set(rule) == {"─", " "}
    assert mine.split()[0] == me and 0.0 <= float(mine.split()[1]) <= 1.0
    assert quiet.split()[:2] == [str(tmp_path / "quiet.wav"), "–"] and "not enough speech" in quiet
    res = run("warmth", me, str(tmp_path / "quiet.wav"), "--json", "--config", str(tmp_path / "plain.toml"))
    mine, quiet_json = json.loads(res.stdout)         # --json says why as the table does
    assert mine["reason"] is None and quiet_json["warmth"] is None
    assert quiet_json["reason"] and quiet_json["reason"] in quiet


@pytest.mark.parametrize("args, message", [
    (["analyze", "--bogus"], "voicecoach analyze: error: unrecognized arguments: --bogus"),
    (["analyze", "--demo", "-o", ""], "voicecoach analyze: error: argument -o/--output: an empty file name"),
    (["history", "-n", "0"], "voicecoach history: error: argument -n/--last: 0 must be 1 or more"),
    (["live", "--replay", "demo", "--stop-after", "-1"], "--stop-after: -1 must be a number of seconds above 0"),
    (["live", "--replay", "demo", "--gap", "nan"], "--gap: nan must be a number of seconds, 0 or more"),
    (["live", "--replay", "demo", "--gap", "-1"], "--gap: -1 must be a number of seconds, 0 or more"),
    (["live", "--replay", "demo", "--screenshot", "z.png"], "give --stop-after SECONDS too"),
    (["live", "--replay", "demo", "--screenshot", "z.png", "--console", "--stop-after", "3"],
     "--screenshot pictures the overlay; --console coaches in the terminal instead"),
    (["live", "--replay", "demo", "--screenshot", "."], "--screenshot: . is a folder"),
    (["review", "demo", "--screenshot", "x.txt"], "screenshots are PNG pictures; name it x.png"),
    (["live", "--replay", "demo", "--agent-channel", "5"], "--agent-channel chooses a device; --replay plays"),
    (["analyze", "--customer", "them.wav"], "--customer needs --agent"),
    (["calibrate", "me.wav", "--seconds", "10", "-o", "me.json"],          # not silently ignored
     "--seconds is for recording with --mic; recordings given are measured whole"),
    (["calibrate", "me.wav", "--device", "3", "-o", "me.json"], "--device is for recording with --mic"),
    (["calibrate", "--mic", "--seconds", "100000", "-o", "me.json"],     # 27 hours; 1e12 ran out of memory
     "--seconds: 100000 is longer than calibrate records (600 s at most; 30 s is enough)"),
    (["live", "--replay", "demo", "mine.wav"], "--replay demo replays the demo call, which is kept out of your"),
])
def test_arguments_that_make_no_sense_are_refused_in_the_commands_own_words(tmp_path, args, message):
    res = run(*args, cwd=tmp_path)
    assert res.returncode == 2 and message in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_a_remembered_profile_that_is_gone_is_one_line_saying_where_it_is_set(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[warmth]\nprofile = "{tmp_path / "gone.json"}"\n')
    res = run("analyze", "--demo", "--no-transcript", "--config", str(cfg))
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "no such voice profile" in res.stderr and "[warmth] profile" in res.stderr
    res = run("history", "--config", str(cfg))          # showing calls needs no profile: a warning
    assert res.returncode == 0 and res.stderr.startswith("voicecoach: warning: ") and \
        res.stderr.count("\n") == 1 and "no such voice profile" in res.stderr, res.stderr


def test_a_fragment_of_speech_gives_no_words_per_minute(tmp_path):
    """Under ``[pace] min_speech_s`` of talking a rate means little and would move the pace
    trend: words/min is withheld as syllables/s already was ("205 words/min" from 1.8 s)."""
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed")
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(tmp_path / "short.wav"), "Thank you for calling."],
                   check=True)
    res = run("analyze", str(tmp_path / "short.wav"), "--json", "-o", str(tmp_path / "short.json"))
    assert res.returncode == 0, res.stderr
    record = json.loads((tmp_path / "short.json").read_text())
    assert 0 < record["talk_time"]["agent"] < 3.0 and record["pace"]["agent_words"] >= 3
    assert record["pace"]["agent_wpm"] is None
    res = run("analyze", str(tmp_path / "short.wav"), "-q")
    assert "Pace        not enough speech" in res.stdout, res.stdout


def _call_recording(tmp_path):
    """A call as `live --record` writes it: the agent (an ordinary espeak-ng voice) on the
    left, then the caller (another voice) on the right; and the agent's voice alone."""
    me = _speak(tmp_path)
    agent, sr = sf.read(me, dtype="float32")
    subprocess.run(["espeak-ng", "-v", "en-us+f3", "-p", "70", "-w", str(tmp_path / "caller.wav"),
                    "Hello. My bill is wrong again this month and nobody could tell me why. "
                    "I would really like this to be sorted out today, please."], check=True)
    caller, _ = sf.read(tmp_path / "caller.wav", dtype="float32")
    call = np.zeros((len(agent) + len(caller), 2), np.float32)
    call[:len(agent), 0] = agent
    call[len(agent):, 1] = caller
    sf.write(tmp_path / "call.wav", call, sr)
    sf.write(tmp_path / "left.wav", call[:, 0], sr)
    return tmp_path / "call.wav", me


def test_calibrate_and_warmth_hear_the_agent_of_a_call_and_refuse_three_channels(tmp_path):
    """A stereo file is a call: calibrate and warmth measure its left channel (the agent), as
    every other command does, not the caller's voice mixed in; three channels are one line."""
    call, _ = _call_recording(tmp_path)
    left = tmp_path / "left.wav"
    (tmp_path / "c.toml").write_text("")
    cfg = ["--config", str(tmp_path / "c.toml")]
    for name, source in (("from_call", call), ("from_left", left)):
        res = run("calibrate", str(source), "-o", str(tmp_path / f"{name}.json"), "--no-remember", *cfg)
        assert res.returncode == 0, res.stderr
    from_call, from_left = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("from_call", "from_left"))
    assert from_call.pop("recordings") == ["call.wav"] and from_left.pop("recordings") == ["left.wav"]
    assert from_call == from_left
    import soundfile as sf_

    both, rate = sf_.read(call, dtype="float32")
    sf_.write(tmp_path / "swapped.wav", np.ascontiguousarray(both[:, ::-1]), rate)   # you on the right
    res = run("calibrate", str(tmp_path / "swapped.wav"), "--agent-channel", "right", "-o",
              str(tmp_path / "from_right.json"), "--no-remember", *cfg)
    assert res.returncode == 0, res.stderr
    from_right = json.loads((tmp_path / "from_right.json").read_text())
    assert from_right.pop("recordings") == ["swapped.wav"] and from_right == from_left
    res = run("warmth", str(call), str(left), "--profile", str(tmp_path / "from_left.json"), "--json", *cfg)
    assert res.returncode == 0, res.stderr
    scores = [s["warmth"] for s in json.loads(res.stdout)]
    assert scores[0] is not None and scores[0] == scores[1]
    res = run("warmth", str(tmp_path / "swapped.wav"), "--agent-channel", "right",      # as calibrate takes it
              "--profile", str(tmp_path / "from_left.json"), "--json", *cfg)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)[0]["warmth"] == scores[0]
    sf.write(tmp_path / "three.wav", np.zeros((16000, 3), np.float32) + 0.1, 16000)
    for args in (["calibrate", str(tmp_path / "three.wav"), "-o", str(tmp_path / "x.json")],
                 ["warmth", str(tmp_path / "three.wav")]):
        res = run(*args, *cfg)
        assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
        assert "three.wav: has 3 channels; expected 2 (agent and customer) or 1 (the agent alone)" in res.stderr
    assert not (tmp_path / "x.json").exists()


def test_warmth_uses_the_profile_calibrate_remembered(tmp_path):
    """`calibrate` says "Set as your voice profile": `warmth` then scores against it, as if
    given with --profile, and does not say it scored against an average voice."""
    me = _speak(tmp_path)
    subprocess.run(["espeak-ng", "-v", "en-us", "-p", "80", "-w", str(tmp_path / "clip.wav"),
                    "I'm so glad you called, let's get this sorted out for you right away."], check=True)
    clip = str(tmp_path / "clip.wav")
    (tmp_path / "c.toml").write_text("")
    (tmp_path / "none.toml").write_text("")
    cfg = ["--config", str(tmp_path / "c.toml")]
    res = run("calibrate", me, "-o", str(tmp_path / "me.json"), *cfg)
    assert res.returncode == 0 and "Set as your voice profile" in res.stdout, res.stderr
    given = run("warmth", clip, "--profile", str(tmp_path / "me.json"), "--json", *cfg)
    remembered = run("warmth", clip, "--json", *cfg)
    assert given.returncode == remembered.returncode == 0, remembered.stderr
    assert json.loads(remembered.stdout) == json.loads(given.stdout)
    res = run("warmth", clip, *cfg)
    assert res.returncode == 0 and "average voice" not in res.stdout
    res = run("warmth", clip, "--config", str(tmp_path / "none.toml"))      # no profile anywhere
    assert res.returncode == 0 and "(no voice profile: scored against an average voice" in res.stdout


def test_report_and_review_judge_a_recording_against_the_remembered_profile(tmp_path):
    """`report` and `review` of a recording judge warmth against the profile `calibrate`
    remembered, as `analyze` and `live` do; `report` opens a recording as `review` does
    (its record when it has one), so `report rec.wav` and `report rec.json` agree."""
    import hashlib
    import shutil

    call, me = _call_recording(tmp_path)
    (tmp_path / "c.toml").write_text("")
    cfg = ["--config", str(tmp_path / "c.toml")]
    res = run("calibrate", me, "-o", str(tmp_path / "me.json"), *cfg)
    assert res.returncode == 0, res.stderr
    profile_id = hashlib.sha1((tmp_path / "me.json").read_bytes()).hexdigest()[:12]

    res = run("report", str(call), "-o", str(tmp_path / "first.html"), *cfg)
    assert res.returncode == 0, res.stderr
    assert f"analysed; call record saved to {tmp_path / 'call.json'}" in res.stdout
    warmth = json.loads((tmp_path / "call.json").read_text())["warmth"]
    assert warmth["baseline"] == "profile" and warmth["profile_id"] == profile_id
    res = run("report", str(call), "-o", str(tmp_path / "again.html"), *cfg)
    assert res.returncode == 0 and "analysed" not in res.stdout, res.stderr      # its record, as it is
    res = run("report", str(tmp_path / "call.json"), "-o", str(tmp_path / "record.html"), *cfg)
    assert res.returncode == 0, res.stderr
    page = lambda name: re.sub(r"data:audio/\w+;base64,[\w+/=]+", "AUDIO",        # noqa: E731
                               (tmp_path / name).read_text())      # Ogg's stream serial is random
    assert page("again.html") == page("record.html") and "AUDIO" in page("again.html")

    shutil.copy(call, tmp_path / "other.wav")                       # a recording the review analyses
    res = run("review", str(tmp_path / "other.wav"), "--screenshot", str(tmp_path / "shot.png"), *cfg)
    assert res.returncode == 0, res.stderr
    warmth = json.loads((tmp_path / "other.json").read_text())["warmth"]
    assert warmth["baseline"] == "profile" and warmth["profile_id"] == profile_id


def test_review_and_report_read_a_recording_as_analyze_does(tmp_path):
    """`review` and `report` take analyze's audio options (one definition): a stereo file
    with the agent on the right, and a file per side, are reviewed and reported right."""
    from voicecoach.analyze import demo_call_path

    for command in ("analyze", "review", "report"):
        usage = run(command, "--help").stdout
        assert all(o in usage for o in ("--agent-channel", "--agent FILE", "--customer FILE")), usage
    y, sr = sf.read(demo_call_path(), dtype="float32")
    sf.write(tmp_path / "swapped.flac", y[:, ::-1], sr)           # the agent on the right
    sf.write(tmp_path / "me.flac", y[:, 0], sr)
    sf.write(tmp_path / "them.flac", y[:, 1], sr)
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path / "data"))
    vc = lambda *a: subprocess.run([sys.executable, "-m", "voicecoach", *a], capture_output=True,  # noqa: E731
                                   text=True, env=env, timeout=300)
    truth = json.loads(vc("analyze", str(tmp_path / "swapped.flac"), "--agent-channel", "right",
                          "--json", "--no-transcript", "-q").stdout)["talk_time"]
    assert truth["agent"] > truth["customer"] + 5           # the demo's agent talks more

    res = vc("report", str(tmp_path / "swapped.flac"), "--agent-channel", "right", "-o", str(tmp_path / "r.html"))
    assert res.returncode == 0 and f"call record saved to {tmp_path / 'swapped.json'}" in res.stdout, res.stderr
    record = json.loads((tmp_path / "swapped.json").read_text())
    assert record["source"]["agent_channel"] == "right"
    assert record["talk_time"]["agent"] == pytest.approx(truth["agent"], abs=0.5)
    res = vc("review", str(tmp_path / "swapped.flac"), "--screenshot", str(tmp_path / "r.png"))
    assert res.returncode == 0 and "analysed" not in res.stdout, res.stderr     # its record, as it is
    # a record analysed the other way round is not this reading's: analysed again, kept apart
    res = vc("report", str(tmp_path / "swapped.flac"), "--agent-channel", "left", "-o", str(tmp_path / "l.html"))
    assert res.returncode == 0 and "call record saved to " + str(tmp_path / "data" / "records") in res.stdout
    assert json.loads((tmp_path / "swapped.json").read_text()) == record

    res = vc("review", "--agent", str(tmp_path / "me.flac"), "--customer", str(tmp_path / "them.flac"),
             "--screenshot", str(tmp_path / "p.png"))
    assert res.returncode == 0, res.stderr
    pair = json.loads((tmp_path / "me.json").read_text())
    assert pair["source"]["name"] == "me.flac + them.flac"
    assert pair["talk_time"]["agent"] == pytest.approx(truth["agent"], abs=0.5)
    res = vc("report", "--agent", str(tmp_path / "me.flac"), "--customer", str(tmp_path / "them.flac"),
             "-o", str(tmp_path / "p.html"))
    assert res.returncode == 0 and "analysed" not in res.stdout, res.stderr     # the record review saved


@pytest.mark.parametrize("args, message", [
    (["review"], "no call given: name a recording, a call record (.json) or 'demo', or --agent FILE"),
    (["report", "demo", "--agent-channel", "right", "-o", "r.html"], "the demo call has the agent on the left"),
    (["review", "call.json", "--agent-channel", "right"], "call.json is a call record, analysed already"),
    (["report", "--agent", "a.wav", "--customer", "b.wav", "--agent-channel", "right", "-o", "r.html"],
     "with --agent and --customer each side is a file of its own"),
    (["review", "call.wav", "--agent", "a.wav"], "give either one call file or --agent/--customer files, not both"),
    (["analyze", "--demo", "--agent-channel", "right"], "give no other recording or --agent-channel with it"),
])
def test_call_options_that_make_no_sense_are_one_line(args, message):
    res = run(*args)
    assert res.returncode == 2 and res.stderr.startswith("voicecoach: error: "), res.stderr
    assert message in res.stderr and res.stderr.count("\n") == 1, res.stderr


def test_team_reads_the_config_given_before_its_command(tmp_path):
    """`team --config F list AGENT` and `team list AGENT --config F` read the same file (the
    sub-command's own option used to overwrite the one before it with its default)."""
    missing = str(tmp_path / "team.toml")
    for args in (["team", "--config", missing, "list", "alice"], ["team", "list", "alice", "--config", missing]):
        res = run(*args)
        assert res.returncode == 2 and f"{missing}: no such config file" in res.stderr, (args, res.stderr)


def test_an_output_never_overwrites_the_commands_own_input(tmp_path, capsys, monkeypatch):
    """`-o` (and --events, --screenshot) naming a file the command reads is refused in one
    line before any work, however it is spelled (another path, a hard link): `report
    call.json -o call.json` right after `analyze … -o call.json` destroyed the record."""
    import os

    from voicecoach.cli import main

    monkeypatch.chdir(tmp_path)
    t = np.arange(16000 * 2) / 16000
    sf.write(tmp_path / "s5.wav", np.stack([0.3 * np.sin(2 * np.pi * 180 * t),
                                            0.2 * np.sin(2 * np.pi * 260 * t)], 1), 16000)
    sf.write(tmp_path / "side.wav", 0.2 * np.sin(2 * np.pi * 260 * t), 16000)
    assert main(["analyze", "s5.wav", "--no-transcript", "-q", "-o", "s5.json"]) == 0
    (tmp_path / "sub").mkdir()
    os.link(tmp_path / "s5.wav", tmp_path / "hard.wav")
    (tmp_path / "me.json").write_text("{}")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    capsys.readouterr()
    for argv, what in [
        (["analyze", "s5.wav", "-q", "-o", "s5.wav"], "the recording"),
        (["analyze", "s5.wav", "-q", "-o", "sub/../s5.wav"], "the recording"),
        (["analyze", "s5.wav", "-q", "-o", "hard.wav"], "the recording"),
        (["analyze", "--agent", "s5.wav", "--customer", "side.wav", "-q", "-o", "side.wav"],
         "the customer's recording"),
        (["analyze", "s5.wav", "-q", "--profile", "me.json", "-o", "me.json"], "the voice profile"),
        (["report", "s5.json", "-o", "s5.json"], "the call record"),
        (["report", "s5.json", "--no-audio", "-o", "s5.wav"], "the record's recording"),
        (["report", "s5.wav", "-o", "s5.wav"], "the recording"),
        (["report", "s5.wav", "-o", "s5.json"], "the recording's call record"),
        (["calibrate", "s5.wav", "--no-remember", "-o", str(tmp_path / "s5.wav")], "a recording"),
        (["live", "--replay", "s5.wav", "--console", "--no-transcript", "--stop-after", "1",
          "--events", "s5.wav"], "a recording"),
    ]:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("voicecoach: error: "), err
        assert f"is {what} this command reads" in err and "name another file" in err, err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


def test_live_events_never_go_into_a_call_record(tmp_path, monkeypatch, capsys):
    """`live --events call.json`, the name `analyze` gives a call's record, added the event
    lines to the record: it was no longer JSON, and the history and the review lost it."""
    from voicecoach.cli import main

    monkeypatch.chdir(tmp_path)
    t = np.arange(16000 * 2) / 16000
    sf.write(tmp_path / "s5.wav", np.stack([0.3 * np.sin(2 * np.pi * 180 * t),
                                            0.2 * np.sin(2 * np.pi * 260 * t)], 1), 16000)
    assert main(["analyze", "s5.wav", "--no-transcript", "-q", "-o", "s5.json"]) == 0
    record = (tmp_path / "s5.json").read_bytes()
    capsys.readouterr()
    assert main(["live", "--replay", "s5.wav", "--console", "--no-transcript", "--stop-after", "1",
                 "--events", "s5.json"]) == 2
    assert capsys.readouterr().err == ("voicecoach: error: --events s5.json is a call record, and adding "
                                       "the event log to it would destroy it: name another file, e.g. "
                                       "shift.jsonl\n")
    assert (tmp_path / "s5.json").read_bytes() == record
    from voicecoach.analyzers.profile import PROFILE_KIND

    profile = json.dumps({"kind": PROFILE_KIND, "median_f0": 180.0}, indent=1).encode()   # used by --profile
    (tmp_path / "me.json").write_bytes(profile)
    assert main(["live", "--replay", "s5.wav", "--console", "--no-transcript", "--stop-after", "1",
                 "--events", "me.json"]) == 2
    assert capsys.readouterr().err.startswith("voicecoach: error: --events me.json is a voice profile, "
                                              "and adding the event log to it would destroy it")
    assert (tmp_path / "me.json").read_bytes() == profile


def test_the_demo_named_by_its_path_is_still_the_demo(tmp_path):
    """The demo's file given by path, not as `demo`, was the agent's call: analysed into the
    history, replayed beside their own recordings."""
    from voicecoach.analyze import demo_call_path

    res = run("analyze", str(demo_call_path()), "--no-transcript", "-q", "-o", str(tmp_path / "d.json"))
    assert res.returncode == 0, res.stderr
    assert json.loads((tmp_path / "d.json").read_text())["demo"] is True
    res = run("live", "--replay", str(demo_call_path()), str(tmp_path / "mine.wav"), cwd=tmp_path)
    assert res.returncode == 2 and "--replay demo replays the demo call" in res.stderr, res.stderr


def test_a_second_live_coach_is_refused_in_one_line(tmp_path, monkeypatch):
    """Two `live` on the same devices would coach, record and save every call twice."""
    from voicecoach.store.running import AlreadyRunning, claim_live

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    held = claim_live(tmp_path / "data")
    with pytest.raises(AlreadyRunning) as exc:
        claim_live(tmp_path / "data")
    assert exc.value.pid == os.getpid()
    res = run("live", "--console", "--stop-after", "1")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines() == [
        f"voicecoach: error: VoiceCoach is already coaching your calls (process {os.getpid()}); quit it "
        "first (tray icon or overlay menu: Quit, or Ctrl-C in its terminal), or every call would be "
        "coached and saved twice"]
    held.close()                          # the first one quits: the next start may coach
    again = claim_live(tmp_path / "data")
    assert again is not None and (tmp_path / "data" / "live.lock").stat().st_mode & 0o077 == 0
    again.close()


def test_a_data_folder_that_cannot_hold_the_lock_does_not_stop_coaching(tmp_path):
    """A full or read-only data folder stops saving, not coaching; a data folder shared
    with another computer is no reason to refuse."""
    from voicecoach.store.running import claim_live

    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert claim_live(blocked) is None
    (tmp_path / "shared").mkdir(mode=0o700)
    other = claim_live(tmp_path / "shared")
    other.seek(0)
    other.truncate()
    other.write("another-computer 4242\n")          # as the other computer's live writes it
    other.flush()
    assert claim_live(tmp_path / "shared") is None
    other.close()


def test_the_shifts_last_line_says_which_records_are_kept_and_which_are_lost():
    from voicecoach.cli.live import _unsaved_line

    note = "the call record could not be saved to /d/records/x.json (No space left on device)"
    unsaved = [{"index": 2, "note": note, "recording": "/rec/call-1.wav"},
               {"index": 3, "note": note, "recording": None},
               {"index": 5, "note": note, "recording": None}]
    assert _unsaved_line(unsaved, said=False) == (
        f"the records of calls 2, 3 and 5 could not be saved: {note}; call-1.wav is kept: its record is "
        "made once there is room, by `voicecoach history --rebuild /rec` or the next `voicecoach live` "
        "recording there; "
        "the records of calls 3 and 5 are lost (not recorded)")
    assert _unsaved_line(unsaved[1:2], said=True) == (
        "the record of call 3 could not be saved (said above); it is lost (not recorded)")


def test_a_recording_or_a_record_given_as_a_voice_profile_is_named_in_plain_words(tmp_path):
    sf.write(tmp_path / "me.wav", np.zeros((16000, 1), np.float32) + 0.01, 16000)
    sf.write(tmp_path / "long.wav", np.zeros((40 * 16000, 1), np.float32) + 0.01, 16000)   # over 1 MB
    (tmp_path / "call.json").write_text(json.dumps({"schema": "voicecoach.call/1"}))
    for given, why in (("me.wav", "a recording"), ("long.wav", "a recording"),
                       ("call.json", "no voice feature statistics in it")):
        res = run("warmth", "me.wav", "--profile", given, cwd=tmp_path)
        assert res.returncode == 2, res.stderr
        assert res.stderr.strip() == (f"voicecoach: error: {given}: not a voice profile ({why}; "
                                      "`voicecoach calibrate` makes one)"), res.stderr


def test_a_model_folder_or_a_call_name_that_is_not_there_is_said_plainly(tmp_path):
    """`--model /no/such/folder` showed Hugging Face's "Repo id must be in the form
    'repo_name'..."; an empty file name was read as the folder "." ("is a folder")."""
    res = run("analyze", "demo", "--model", str(tmp_path / "no-such-model"), cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip() == f"voicecoach: error: {tmp_path / 'no-such-model'}: no such model folder"
    for args in (["analyze", ""], ["warmth", ""], ["analyze", "--agent", ""]):
        res = run(*args, cwd=tmp_path)
        assert res.returncode == 2 and res.stderr.strip().endswith(": an empty file name"), res.stderr


def test_share_of_one_side_of_a_call_never_advises_overwriting_the_calls_record(tmp_path, capsys, monkeypatch):
    """`voicecoach report --agent me.wav --customer them.wav -o r.html` saves the call's record
    as me.json; `voicecoach share me.wav` then said "me.wav has no call record yet:
    `voicecoach analyze me.wav -o me.json` makes one", and following that advice replaced
    the two-sided call's record with an analysis of the agent's side alone. The advice
    must not name a file that holds another call's record (share the call by its record,
    me.json, or name a free file)."""
    from voicecoach.cli import main
    from voicecoach.store.calls import save_call

    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "data"))
    rng = np.random.default_rng(5)
    for name in ("me.wav", "them.wav"):
        sf.write(tmp_path / name, (0.1 * rng.standard_normal(16000 * 3)).astype(np.float32), 16000)
    pair = {"schema": "voicecoach.call/1", "created": "2026-11-01T09:00:00+00:00",
            "source": {"name": "me.wav + them.wav", "channels": ["agent", "customer"]}, "duration": 3.0,
            "talk_time": {"agent": 1.0, "customer": 1.0}, "talk_share": {"agent": 0.5, "customer": 0.5},
            "interruptions": [], "warmth": {"mean": 0.5}, "pace": {"agent_wpm": 150.0},
            "checklist": {"greeting": True, "empathy": True, "questions": True, "closing_question": True},
            "commitments": []}
    save_call(pair, tmp_path / "me.json", recordings=(tmp_path / "me.wav", tmp_path / "them.wav"))
    assert main(["share", str(tmp_path / "me.wav")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"-o {tmp_path / 'me.json'}`" not in err, err     # me.json is the two-sided call's record


def test_calibrate_says_what_agent_channel_cannot_do(tmp_path):
    """`--agent-channel right` on a one-channel recording was ignored without a word; with
    --mic it was ignored too (the microphone's channel is the config's)."""
    _call_recording(tmp_path)                     # left.wav: the agent's side alone, one channel
    (tmp_path / "c.toml").write_text("")
    out = str(tmp_path / "me.json")
    res = run("calibrate", str(tmp_path / "left.wav"), "--agent-channel", "right", "-o", out, "--no-remember",
              "--config", str(tmp_path / "c.toml"))
    assert res.returncode == 0, res.stderr
    assert res.stderr.count("voicecoach: warning: ") == 1, res.stderr
    assert "left.wav: one channel, no right side: all of it is taken as your voice" in res.stderr
    assert (tmp_path / "me.json").is_file()
    res = run("calibrate", "--mic", "--agent-channel", "right", "-o", str(tmp_path / "m.json"),
              "--config", str(tmp_path / "c.toml"))
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert "--agent-channel chooses your side of a stereo recording" in res.stderr
    assert not (tmp_path / "m.json").exists()


def _cut_short(path: Path) -> None:
    """A 4 s two-channel WAV at ``path`` whose second half is missing (it "looks truncated")."""
    t = np.arange(4 * 16000) / 16000
    sf.write(path.with_name("whole.wav"), np.stack([0.3 * np.sin(2 * np.pi * 180 * t),
                                                   0.2 * np.sin(2 * np.pi * 260 * t)], 1).astype(np.float32),
             16000)
    data = path.with_name("whole.wav").read_bytes()
    path.write_bytes(data[:len(data) // 2])


def test_a_warning_about_one_file_is_given_once(tmp_path):
    """A file cut short said "looks truncated" twice: in `report`'s line that says where it
    wrote and again as a warning, and in `review`, which reads the recording to analyse it
    and again to draw and play it."""
    _cut_short(tmp_path / "cut.wav")
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path / "data"), QT_QPA_PLATFORM="offscreen")
    for analysed in (False, True):            # analysed now, then opened from the record it saved
        res = subprocess.run([sys.executable, "-m", "voicecoach", "review", "cut.wav", "--screenshot", "r.png"],
                             capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
        assert res.returncode == 0, res.stderr
        assert res.stderr.count("looks truncated") == 1, (analysed, res.stderr)
        assert (tmp_path / "cut.json").is_file()
    for analysed in (False, True):            # `report`: the line that says where it wrote says it
        if not analysed:
            (tmp_path / "cut.json").unlink()
        res = subprocess.run([sys.executable, "-m", "voicecoach", "report", "cut.wav", "-o", "r.html"],
                             capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
        assert res.returncode == 0, res.stderr
        said = res.stdout + res.stderr
        assert said.count("looks truncated") == 1 and "Report written" in res.stdout, (analysed, said)


def test_a_warning_about_a_file_whose_name_has_two_spaces_is_given_once(tmp_path):
    """`report` dropped the warnings its line had given by finding their text in it; the
    warning kept had its spaces made one, the line had the file name as it is: a file cut
    short named "cut  short.wav" was said to look truncated twice."""
    _cut_short(tmp_path / "cut  short.wav")
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path / "data"), QT_QPA_PLATFORM="offscreen")
    res = subprocess.run([sys.executable, "-m", "voicecoach", "report", "cut  short.wav", "-o", "r.html"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    said = res.stdout + res.stderr
    assert said.count("looks truncated") == 1 and "Report written" in res.stdout, said


def test_a_record_whose_name_is_not_utf8_is_saved_and_said_why_not_in_the_history(tmp_path):
    """A file name that is not UTF-8 text cannot go into the history's database: the note said
    "incomplete call record", which sent the user looking for a fault in a whole record."""
    t = np.arange(2 * 16000) / 16000
    sf.write(tmp_path / "call.wav", np.stack([0.3 * np.sin(2 * np.pi * 180 * t),
                                              0.2 * np.sin(2 * np.pi * 260 * t)], 1).astype(np.float32), 16000)
    name = os.fsdecode(b"caf\xe9.json")          # Latin-1, as an old archive names it
    env = dict(os.environ, VOICECOACH_DATA_DIR=str(tmp_path / "data"), LANG="C.UTF-8", LC_ALL="C.UTF-8")
    res = subprocess.run([sys.executable, "-m", "voicecoach", "analyze", "call.wav", "--no-transcript", "-q",
                          "-o", name], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
                         errors="replace")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / name).is_file() and json.loads((tmp_path / name).read_text())["schema"]
    assert "incomplete call record" not in res.stderr, res.stderr
    assert "not UTF-8 text" in res.stderr and res.stderr.count("\n") == 1, res.stderr


def test_an_output_never_overwrites_a_recording_it_does_not_read(tmp_path, capsys, monkeypatch):
    """`calibrate -o me1.wav me2.wav` (-o taken for one more input) wrote the profile over
    the agent's recording me1.wav; no output is audio, so an existing recording is refused
    in one line, whatever its case, and the recording is left as it was."""
    from voicecoach.analyze import demo_call_path
    from voicecoach.cli import main

    monkeypatch.chdir(tmp_path)
    x, sr = sf.read(demo_call_path(), frames=16000 * 40)
    for name in ("me1.wav", "me2.wav", "old.FLAC"):       # the agent's side: enough speech for a profile
        sf.write(tmp_path / name, x[:, 0], sr)
    (tmp_path / "me.json").symlink_to("old.FLAC")            # written through, as a profile is
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for argv, output in ((["calibrate", "--no-remember", "-o", "me1.wav", "me2.wav"], "me1.wav"),
                         (["calibrate", "me2.wav", "--no-remember", "-o", "old.FLAC"], "old.FLAC"),
                         (["analyze", "me2.wav", "--no-transcript", "-q", "-o", "me1.wav"], "me1.wav"),
                         (["calibrate", "me2.wav", "--no-remember", "-o", "me.json"], "me.json")):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1, err
        assert err.startswith(f"voicecoach: error: -o {output} is a recording, and writing it would "
                              "destroy it: name another file"), err
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_share_undo_of_neither_a_file_nor_an_id_says_it_is_neither(tmp_path):
    """`share --undo` takes a call's file or a shared call's id; a typo in an id said only
    "no such file" (found by a helper walking through README)."""
    res = run("share", "--undo", "nosuch", cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.count("\n") == 1, res.stderr
    assert res.stderr.startswith("voicecoach: error: nosuch: no such file, nor a shared call's id"), res.stderr
    res = run("share", "nosuch.flac", cwd=tmp_path)          # without --undo an id is no answer
    assert res.stderr == "voicecoach: error: nosuch.flac: no such file\n", res.stderr


@pytest.mark.parametrize("args", [("live", "--events", ""), ("live", "--record", " "), ("analyze", "--demo", "--config", ""),
                                  ("history", "--rebuild", "")])
def test_an_empty_file_name_is_refused_as_one(tmp_path, args):
    """`live --events ''` said "--events  is a folder: name a file in it" (Path("") is
    the folder it was run in): every option that takes a file or folder says the same."""
    res = run(*args, cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.rstrip().endswith(f"argument {args[-2]}: an empty file name"), \
        res.stderr
