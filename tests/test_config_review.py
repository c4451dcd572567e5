"""Bugs found by a helper's review of the config file and the voice profile (`config`,
`calibrate`, `warmth`, and how `[warmth] profile` and other settings reach the commands
that read them). Each test runs the real CLI (in a subprocess, with a throwaway HOME and
XDG folders) or the real config loader, on slices of the packaged demo call. No mocks."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicecoach.analyze import demo_call_path
from voicecoach.config import ConfigError, load_config

SR = 16000


def _user(tmp_path: Path) -> dict:
    """An environment with a user of its own: HOME, config and data folders in tmp_path."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local/share"), XDG_STATE_HOME=str(home / ".local/state"),
               VOICECOACH_DATA_DIR=str(home / "data"), OPENBLAS_NUM_THREADS="1",
               QT_QPA_PLATFORM="offscreen")
    env.pop("VOICECOACH_DEBUG", None)
    return env


def _vc(env: dict, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voicecoach", *map(str, args)], capture_output=True,
                          encoding="utf-8", errors="replace", env=env, cwd=cwd, timeout=600)


def _agent(tmp_path: Path, seconds: float = None, name: str = "me.wav") -> Path:
    """The demo call's agent (its left channel) as a mono file, whole or its first ``seconds``."""
    audio, sr = sf.read(demo_call_path(), dtype="float32")
    assert sr == SR
    left = audio[:, 0] if seconds is None else audio[: int(seconds * SR), 0]
    path = tmp_path / name
    sf.write(path, left, SR)
    return path


def _config_path(env: dict) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "voicecoach" / "config.toml"


# 1 ─────────────────────────────────────────────────────────────────────────────────────

def test_report_of_a_recording_with_a_record_does_not_need_the_remembered_profile(tmp_path):
    """README: "`review`, `report` and `history` [use the remembered profile] when they analyse
    a recording that has no call record yet (one that has a record keeps its warmth: `report
    call.wav` and `report call.json` agree)". With the remembered profile moved away, `report
    call.json` and `review call.wav` open the record, but `report call.wav` -- the same record
    -- refuses to run at all, because the profile is loaded before it looks for the record."""
    env = _user(tmp_path)
    me = _agent(tmp_path)
    profile = tmp_path / "profiles" / "me.json"
    res = _vc(env, "calibrate", me, "-o", profile)
    assert res.returncode == 0, res.stderr
    rec = tmp_path / "calls"
    rec.mkdir()
    call = rec / "call.wav"
    call.write_bytes(_agent(tmp_path, 30, "c.wav").read_bytes())
    res = _vc(env, "analyze", call, "--no-transcript", "--quiet", "-o", rec / "call.json")
    assert res.returncode == 0, res.stderr
    profile.rename(tmp_path / "profiles" / "moved.json")          # the profile folder was tidied

    by_record = _vc(env, "report", rec / "call.json", "-o", tmp_path / "a.html")
    assert by_record.returncode == 0, by_record.stderr            # the record keeps its warmth
    by_recording = _vc(env, "report", call, "-o", tmp_path / "b.html")
    assert by_recording.returncode == 0, by_recording.stderr      # fails: "no such voice profile"


# 2 ─────────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("where", ["config profile", "history", "calibrate -o"])
def test_a_path_with_a_tilde_and_no_such_user_is_one_clear_line_not_an_internal_error(tmp_path, where):
    """`profile = "~me.json"` (a slash forgotten after the tilde), or `-o ~me.json`: Python's
    Path.expanduser() raises RuntimeError for "~NAME" when NAME is no user, and every command
    ends in "internal error: RuntimeError: Could not determine home directory. (please report
    it...)". `history`, which is meant to warn about a remembered profile it cannot read and go
    on, fails the same way."""
    env = _user(tmp_path)
    conf = tmp_path / "c.toml"
    conf.write_text('[warmth]\nprofile = "~me.json"\n')
    if where == "config profile":
        res = _vc(env, "warmth", _agent(tmp_path, 10), "--config", conf)
        assert res.returncode == 2 and res.stderr.startswith("voicecoach: error: "), res.stderr
    elif where == "history":
        res = _vc(env, "history", "--config", conf)
        assert res.returncode == 0, res.stderr                   # a warning, as for a moved profile
    else:
        res = _vc(env, "calibrate", _agent(tmp_path), "-o", "~me.json", "--no-remember")
        assert res.returncode in (0, 2) and "internal error" not in res.stderr, res.stderr
    assert "internal error" not in res.stderr, res.stderr


# 3 ─────────────────────────────────────────────────────────────────────────────────────

def test_calibrate_remembers_the_profile_where_it_wrote_it_when_the_tilde_is_not_expanded(tmp_path):
    """`calibrate me.wav --output=~/vc/me.json`: bash does not expand a tilde after `--output=`,
    so VoiceCoach gets "~/vc/me.json". It writes the profile to $HOME/vc/me.json (write_private
    expands the tilde) but remembers Path("~/vc/me.json").resolve() -- "<cwd>/~/vc/me.json", a
    file that does not exist -- and says "Set as your voice profile". From then on `analyze`,
    `live` and `warmth` fail with "no such voice profile"."""
    env = _user(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    res = _vc(env, "calibrate", _agent(tmp_path), "--output=~/vc/me.json", cwd=work)
    assert res.returncode == 0 and "Set as your voice profile" in res.stdout, res.stderr
    written = Path(env["HOME"]) / "vc" / "me.json"
    assert written.is_file()
    remembered = load_config(_config_path(env)).warmth.profile
    assert Path(remembered).expanduser() == written, remembered  # fails: "<cwd>/~/vc/me.json"
    res = _vc(env, "warmth", _agent(tmp_path, 15, "clip.wav"), cwd=work)
    assert res.returncode == 0, res.stderr


# 4 ─────────────────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("section, key, value", [("vad", "floor_dbfs", 70), ("prosody", "silence_db", 60),
                                                 ("pace", "min_peak_db", 55)])
def test_a_level_in_dbfs_above_zero_is_refused(tmp_path, section, key, value):
    """dB full-scale levels are never above 0, and a dropped minus sign (70 for -70) makes
    all audio "silence": `analyze demo` then says "no speech heard on either side" ([vad]
    floor_dbfs = 70) or "Pace 0.0 syllables/s" and "Warmth not enough speech" ([prosody]
    silence_db = 60) with no word of the setting. `[shift] alive_dbfs` is checked (-150..0);
    these three are accepted."""
    conf = tmp_path / "c.toml"
    conf.write_text(f"[{section}]\n{key} = {value}\n")
    with pytest.raises(ConfigError, match=key):
        load_config(conf)


def test_calibrate_with_a_positive_silence_level_blames_the_setting_not_the_speech(tmp_path):
    """The same typo seen from `calibrate`: 74 s of the agent's speech and the answer is
    "not enough speech for a voice profile: 0.0 s of voiced speech ... record more of your
    ordinary voice" -- the agent is sent to record again, which can never help."""
    env = _user(tmp_path)
    conf = tmp_path / "c.toml"
    conf.write_text("[prosody]\nsilence_db = 60\n")
    res = _vc(env, "calibrate", _agent(tmp_path), "-o", tmp_path / "p.json", "--config", conf)
    assert res.returncode == 2, res.stderr
    assert "silence_db" in res.stderr, res.stderr                # fails: "record more of your ordinary voice"


# 5 ─────────────────────────────────────────────────────────────────────────────────────

def test_warmth_bands_out_of_order_are_refused(tmp_path):
    """[warmth] band_flat_below above band_warm_above is accepted: the meter then calls 0.66
    "flat" although it is above the "warm" mark (0.62), and "steady" never shows. [pace]'s
    and [arousal]'s bands are checked for order; [warmth]'s are not."""
    from voicecoach.analyzers.warmth import warmth_band

    conf = tmp_path / "c.toml"
    conf.write_text("[warmth]\nband_flat_below = 0.7\n")
    try:
        config = load_config(conf)
    except ConfigError as exc:
        assert "band_flat_below" in str(exc)
        return
    o = config.warmth
    assert warmth_band(0.66, o) != "flat", (o.band_flat_below, o.band_warm_above)   # fails: "flat"


# 6 ─────────────────────────────────────────────────────────────────────────────────────

def test_calibrate_says_which_recordings_gave_no_speech(tmp_path):
    """`calibrate me.wav wrong.wav -o me.json` with wrong.wav silent (a muted take, the wrong
    file): the profile is made from me.wav alone, lists wrong.wav among its "recordings", and
    nothing tells the agent that one of the recordings gave nothing (`warmth` gives a silent
    clip a reason; `calibrate` gives no word)."""
    env = _user(tmp_path)
    silent = tmp_path / "wrong.wav"
    sf.write(silent, np.zeros(20 * SR, np.float32), SR)
    out = tmp_path / "p.json"
    res = _vc(env, "calibrate", _agent(tmp_path), silent, "-o", out, "--no-remember")
    assert res.returncode == 0, res.stderr
    assert "wrong.wav" in json.loads(out.read_text())["recordings"]
    assert "wrong.wav" in res.stderr + res.stdout, (res.stdout, res.stderr)   # fails: not a word


# 7 ─────────────────────────────────────────────────────────────────────────────────────

def test_calibrate_into_a_folder_whose_name_is_not_utf8_does_not_end_in_an_internal_error(tmp_path):
    """A folder named in Latin-1 (an old share or USB stick: b"caf\\xe9"): the profile is
    written, then remembering it encodes the path with surrogates as UTF-8 and the command ends
    in "internal error: UnicodeEncodeError" (status 70) -- the agent is told it failed, the
    profile is on disk and the config does not name it."""
    env = _user(tmp_path)
    folder = os.fsencode(tmp_path) + b"/caf\xe9"
    os.mkdir(folder)
    out = os.fsdecode(folder + b"/me.json")
    res = _vc(env, "calibrate", _agent(tmp_path), "-o", out)
    assert "internal error" not in res.stderr, res.stderr         # fails: UnicodeEncodeError
    assert res.returncode == 0 or not os.path.exists(out), (res.returncode, res.stderr)


def test_config_with_a_tilde_config_path_says_the_file_it_read_is_not_present(tmp_path):
    """load_config now expands --config with user_path, but `voicecoach config` still judges
    the file by Path(args.config): `--config=~/c.toml` (the shell leaves a "~" after "=")
    reads the file and prints its settings under "# config file: ~/c.toml (not present:
    defaults apply)"."""
    import sys
    from pathlib import Path

    home = tmp_path / "home"
    home.mkdir()
    (home / "c.toml").write_text("[warmth]\nlow_warmth = 0.3\n")
    env = dict(os.environ, HOME=str(home), VOICECOACH_DATA_DIR=str(tmp_path / "data"),
               XDG_CONFIG_HOME=str(tmp_path / "xdg"), OPENBLAS_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-m", "voicecoach", "config", "--config=~/c.toml"],
                          capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[1],
                          timeout=120)
    assert done.returncode == 0 and "low_warmth = 0.3" in done.stdout, done.stderr
    first = done.stdout.splitlines()[0]
    assert "not present" not in first, first
