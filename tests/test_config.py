"""The config loader: defaults, the TOML file that overrides them, its errors, and
`voicecoach config`'s TOML round trip."""
from __future__ import annotations

import dataclasses
import json
import re
import sys
import tomllib

import pytest

from voicecoach.config import (Config, ConfigError, apply, default_config_path, load_config,
                               setting_notes, to_toml)
from voicecoach.stt.streaming import StreamingOptions


def write(tmp_path, text: str, name: str = "config.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- defaults and where the file is --------------------------------------------------------
@pytest.fixture
def user_config_dir(tmp_path, monkeypatch):
    """The user's config folder, moved into tmp_path (never the real one)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("XDG_CONFIG_HOME places the user config folder on Linux only")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = default_config_path()
    assert path == tmp_path / "xdg" / "voicecoach" / "config.toml"
    return path


def test_no_file_gives_every_default(user_config_dir):
    assert not user_config_dir.exists()
    assert load_config() == Config()


def test_the_user_file_is_read_when_no_path_is_given(user_config_dir):
    user_config_dir.parent.mkdir(parents=True)
    user_config_dir.write_text("[turns]\ndead_air_s = 7.5\n", encoding="utf-8")
    config = load_config()
    assert config.turns.dead_air_s == 7.5
    assert config.vad == Config().vad                   # everything else stays default


def test_an_explicit_file_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such config file") as err:
        load_config(tmp_path / "missing.toml")
    assert "missing.toml" in str(err.value)


# -- overriding -------------------------------------------------------------------------------
def test_a_file_saved_with_a_byte_order_mark_is_read(tmp_path):
    """Windows Notepad saves UTF-8 with a byte-order mark: it was "not valid TOML"."""
    path = tmp_path / "config.toml"
    path.write_bytes("\ufeff[turns]\nmin_overlap_s = 0.7\n".encode("utf-8"))
    assert load_config(path).turns.min_overlap_s == 0.7


def test_file_overrides_with_the_types_of_the_defaults(tmp_path):
    config = load_config(write(tmp_path, """
[turns]
min_overlap_s = 1           # an integer where a float is expected: taken as 1.0
backchannel_max_s = 1.2

[language]
lexicon_dirs = ["~/team-lexicons", "/srv/lexicons"]
replace_lexicons = true

[transcribe]
model = "base.en"
beam_size = 5

[live]
customer_device = "alsa_output.usb-headset.analog-stereo.monitor"
"""))
    assert config.turns.min_overlap_s == 1.0 and isinstance(config.turns.min_overlap_s, float)
    assert config.turns.backchannel_max_s == 1.2
    assert config.language.lexicon_dirs == ["~/team-lexicons", "/srv/lexicons"]
    assert config.language.replace_lexicons is True
    assert config.transcribe.model == "base.en" and config.transcribe.beam_size == 5
    assert config.live.customer_device.endswith(".monitor")
    assert config.turns.dead_air_s == Config().turns.dead_air_s


def test_apply_overrides_a_parsed_mapping_in_place():
    config = Config()
    assert apply(config, {"coach": {"min_gap_s": 20}}, "test") is config
    assert config.coach.min_gap_s == 20.0


def test_each_call_gets_fresh_defaults(tmp_path):
    """Options are per Config: a loaded file never changes another config's defaults."""
    load_config(write(tmp_path, '[language]\nlexicon_dirs = ["x"]\n'))
    assert Config().language.lexicon_dirs == []


@pytest.mark.parametrize("value, expected", [('""', None), ("0.05", 0.05), ("1", 1.0)])
def test_capture_latency_is_an_optional_number(tmp_path, value, expected):
    config = load_config(write(tmp_path, f"[capture]\nlatency_s = {value}\n"))
    assert config.capture.latency_s == expected
    if expected is not None:
        assert isinstance(config.capture.latency_s, float)


# -- errors: one line naming the file, the section and the key -----------------------------
@pytest.mark.parametrize("text, message", [
    ("[turnz]\nmin_overlap_s = 1.0\n", r"unknown section \[turnz\] \(known: echo, vad, turns, "),
    ("dead_air_s = 5\n", r"dead_air_s must be under a section, e\.g\. \[turns\]"),
    ('[overlay]\nhotkey_call = "Ctrl+Alt+V"\n', r'hotkey_show: "Ctrl\+Alt\+V" is hotkey_call\'s key too'),
    ("[live]\nagent_channel = -1\n", r"\[live\] agent_channel must be 0 or more"),
    ("[language]\nmax_sentence_words = 0\n", r"max_sentence_words must be 1 or more, not 0"),
    ("nonsense = 5\n", r"nonsense must be under a section \(sections: echo, vad, "),
    ("[turns]\nmin_overlap = 1.0\n", r"unknown setting 'min_overlap' in \[turns\] \(known: .*min_overlap_s"),
    ("[streaming]\nrevise_every_s = 30\n",
     r"\[streaming\] revise_every_s is no longer a setting: use second_pass = true or false"),
    ("turns = 3\n", r"\[turns\] must be a table of settings"),
    ('[turns]\nmin_overlap_s = "0.5"\n', r'\[turns\] min_overlap_s must be a number, not "0.5"'),
    ("[turns]\nmin_overlap_s = true\n", r"\[turns\] min_overlap_s must be a number, not true"),
    ("[language]\nreplace_lexicons = 1\n", r"\[language\] replace_lexicons must be true or false, not 1"),
    ("[transcribe]\nmodel = 3\n", r"\[transcribe\] model must be a string, not 3$"),
    ("[live]\nagent_device = 3\n",              # README: a device by its index, here as in --agent 3
     r"\[live\] agent_device must be a string \(in quotes: \"3\"\), not 3$"),
    ("[transcribe]\nmodel = true\n", r"\[transcribe\] model must be a string, not true"),
    ('[language]\nlexicon_dirs = "~/lex"\n', r'\[language\] lexicon_dirs must be a list, not "~/lex"'),
    ("[transcribe]\nbeam_size = 1.5\n", r"\[transcribe\] beam_size must be a whole number, not 1.5"),
    ("[capture]\nlatency_s = true\n", r"\[capture\] latency_s must be a number or \"\", not true"),
    ('[capture]\nlatency_s = "low"\n', r'\[capture\] latency_s must be a number or "", not "low"'),
    ("[turns]\nmin_overlap_s = \n", r"not valid TOML"),
    # rules between settings, and bounds the types cannot say
    ("[prosody]\nfmin_hz = 500\n", r"\[prosody\] fmin_hz \(500\) must be below fmax_hz \(400\)"),
    ("[prosody]\nframe_s = 0.001\n", r"\[prosody\] hop_s \(0.01\) must not be longer than frame_s"),
    ("[prosody]\nframe_s = 0.02\nhop_s = 0.01\n", r"\[prosody\] frame_s \(0.02\) is too short for fmin_hz"),
    ("[prosody]\nlpc_order = 1000\n", r"\[prosody\] lpc_order must be from 2 to 40"),
    ("[prosody]\nhop_s = 1000\n", r"\[prosody\] hop_s \(1000\) must not be longer than frame_s"),
    ("[vad]\nneg_threshold = 0.9\n", r"\[vad\] neg_threshold \(0.9\) must not be above threshold \(0.5\)"),
    ("[capture]\nlatency_s = -1\n", r"\[capture\] latency_s must be more than 0 and at most 1 s"),
    ('[overlay]\nhotkey_call = "Banana+Q"\n', r'\[overlay\] hotkey_call: "Banana\+Q" is not a key combination'),
    ("[overlay]\nopacity = 0.05\n", r"\[overlay\] opacity must be from 0.3 to 1 \(1 = opaque\), not 0.05$"),
    ('[transcribe]\nlanguage = "xx"\n', r"\[transcribe\] language 'xx' with the English-only model 'tiny.en'"),
    ('[transcribe]\nlanguage = "English"\n', r"\[transcribe\] language must be a language code"),
    ("[shift]\nlead_in_s = 900000\n", r"\[shift\] lead_in_s must be at most 60 s"),
    ("[pace]\nband_low_wpm = 200\nband_high_wpm = 100\n",
     r"\[pace\] band_low_wpm \(200\) must be below band_high_wpm \(100\), and that at most fast_wpm"),
    ("[pace]\nband_high_syl_s = 6\n", r"\[pace\] band_low_syl_s \(3\) must be below band_high_syl_s \(6\), and"),
    ('[transcribe]\nmodel = ""\n', r'\[transcribe\] model must name a model \(such as "tiny.en"\)'),
    ("[capture]\nreconnect_s = -1\n", r"\[capture\] reconnect_s must be 0 \(off\) or more, not -1"),
    ("[capture]\nclock_tolerance_s = 0.01\n", r"\[capture\] clock_tolerance_s must be from 0.04 to 1 s, not 0.01"),
])
def test_bad_files_are_one_line_errors_that_name_file_section_and_key(tmp_path, text, message):
    path = write(tmp_path, text, "bad.toml")
    with pytest.raises(ConfigError, match=message) as err:
        load_config(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


@pytest.mark.parametrize("value", [0.05, 1.5, -0.5, 0])
def test_every_bad_opacity_gets_the_one_message_with_its_range(tmp_path, value):
    """Above 1 was "a fraction from 0 to 1", below 0 "must not be negative", between
    them "from 0.3 to 1.0": one setting, one rule, one message."""
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, f"[overlay]\nopacity = {value}\n"))
    assert str(err.value).endswith(f"[overlay] opacity must be from 0.3 to 1 (1 = opaque), not {value:g}")


def test_no_pad_after_a_calls_last_speech_is_a_setting(tmp_path):
    """`[shift] end_pad_s = 0` (a call ends at its last speech) was refused as "must be
    more than 0" (found by a helper walking through README)."""
    assert load_config(write(tmp_path, "[shift]\nend_pad_s = 0\n")).shift.end_pad_s == 0
    with pytest.raises(ConfigError, match=r"\[shift\] end_pad_s must be 0 \(none\) or more, not -1"):
        load_config(write(tmp_path, "[shift]\nend_pad_s = -1\n"))


@pytest.mark.parametrize("value", [-1, 0, 41])
def test_every_bad_font_size_gets_the_one_message_with_its_range(tmp_path, value):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, f"[overlay]\nfont_pt = {value}\n"))
    assert str(err.value).endswith(f"[overlay] font_pt must be from 6 to 40, not {value:g}")


@pytest.mark.parametrize("value", [30, 0.5, 0.201, 0.004, 0, -0.02])
def test_a_capture_block_length_must_fit_live_coaching(tmp_path, value):
    """A 30 s block (accepted before) delivers audio 30 s at a time: no live nudges."""
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, f"[capture]\nblock_s = {value}\n"))
    assert str(err.value).endswith(f"[capture] block_s must be from 0.005 to 0.2 s, not {value:g}")


@pytest.mark.parametrize("value", [0.005, 0.01, 0.02, 0.2])
def test_capture_block_lengths_in_the_range_load(tmp_path, value):
    assert load_config(write(tmp_path, f"[capture]\nblock_s = {value}\n")).capture.block_s == value


def test_a_file_that_is_not_text_is_an_error(tmp_path):
    path = tmp_path / "binary.toml"
    path.write_bytes(b"\xff\xfe\x00[turns]")
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(path)


# -- `voicecoach config`: every setting as TOML that loads back ------------------------------
def test_every_setting_round_trips_through_toml(tmp_path):
    text = to_toml(Config())
    data = tomllib.loads(text)
    assert set(data) == {f.name for f in dataclasses.fields(Config)}
    for name, values in data.items():
        assert set(values) == {f.name for f in dataclasses.fields(getattr(Config(), name))}
    assert data["capture"]["latency_s"] == ""           # None is written as "" (unset)
    assert load_config(write(tmp_path, text)) == Config()


def test_changed_settings_round_trip_through_toml(tmp_path):
    config = Config()
    config.turns.min_overlap_s = 0.65
    config.capture.latency_s = 0.08
    config.language.lexicon_dirs = ["~/team lexicons", r"C:\Users\dana\lexicons"]
    config.language.replace_lexicons = True
    config.live.agent_device = 'Headset "Pro" (USB)'
    config.transcribe.beam_size = 3
    config.prosody.dip_threshold = 1e-3
    loaded = load_config(write(tmp_path, to_toml(config)))
    assert loaded == config
    assert loaded.as_dict() == config.as_dict()


def test_every_setting_is_explained_where_it_is_defined():
    """`voicecoach config` says what each setting is, from its options class's docstring
    (the one place it is explained): a setting added without an entry fails here."""
    for section in dataclasses.fields(Config):
        options = type(getattr(Config(), section.name))
        notes = setting_notes(options)
        for f in dataclasses.fields(options):
            assert notes.get(f.name, "").endswith((".", ")")), (section.name, f.name, notes.get(f.name))
            note = notes[f.name]
            assert "``" not in note and ":data:" not in note and "None" not in note, note
            assert not re.search(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", note), note   # a constant's value, not its name
            if f.default is None:
                assert '""' in note, (f.name, note)                             # what unset means
        for name, note in notes.items():      # a note two settings share names each ([vad] level_rise_s
            same = [k for k, v in notes.items() if v == note]     # and level_fall_s said "louder and quieter")
            assert len(same) == 1 or all(k in note for k in same), (section.name, same, note)


def test_a_note_gives_a_constants_value_and_drops_pointers_into_the_code():
    from voicecoach.config import CaptureOptions, OverlaySettings

    assert "within 0.005 to 0.2" in setting_notes(CaptureOptions)["block_s"]
    assert "within 0.3 to 1 " in setting_notes(OverlaySettings)["opacity"]
    assert setting_notes(StreamingOptions)["min_window_s"].endswith("at least this much (s).")


def test_config_with_notes_loads_back_and_says_what_was_changed(tmp_path):
    config = Config()
    config.turns.min_overlap_s = 0.65
    text = to_toml(config, notes=True)
    assert load_config(write(tmp_path, text)) == config
    lines = text.splitlines()
    at = lines.index("min_overlap_s = 0.65  # default: 0.5")
    assert lines[at - 1].startswith("# ") and "overlap" in lines[at - 1].lower()
    assert sum("# default:" in line for line in lines) == 1      # only what differs
    assert lines[lines.index("[team]") - 1].startswith("# The team store")


def test_loading_the_config_loads_no_capture_session_or_model():
    """Options live where nothing heavy comes with them: an offline analysis that loads
    the config does not load device capture, the live session, Qt or the models."""
    import subprocess
    import sys

    code = ("import sys, voicecoach.config; "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('sounddevice', 'faster_whisper', 'onnxruntime', 'PyQt6', 'pywebrtc_audio') "
            "or m in ('voicecoach.live', 'voicecoach.sources.capture', 'voicecoach.sources.devices'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", out.stdout


def test_a_compute_type_is_checked_with_the_config_and_one_the_cpu_cannot_run_is_named(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.toml"
    bad.write_text('[transcribe]\ncompute_type = "banana"\n')
    res = subprocess.run([sys.executable, "-m", "voicecoach", "config", "--config", str(bad)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "[transcribe] compute_type must be one of int8, " in res.stderr
    assert "not 'banana'" in res.stderr
    from voicecoach.stt.whisper import ModelError, TranscribeOptions, load_model

    with pytest.raises(ModelError, match=r"compute_type 'float16' does not run on this computer's CPU .*use \"int8\""):
        load_model(TranscribeOptions(compute_type="float16"))


# -- calibrate's edits of the config file, and settings that cannot work together
@pytest.mark.parametrize("text", ["[warmth]  # my warmth settings\nlow_warmth = 0.25\n",
                                  "[ warmth ]\nlow_warmth = 0.25\n",
                                  "warmth.low_warmth = 0.25\n",
                                  '[warmth]\nlow_warmth = 0.25\n"profile" = "/old.json"\n',
                                  'warmth.low_warmth = 0.25\nwarmth.profile = "/old.json"\n[live]\nsnapshot_s = 0.5\n'])
def test_remembering_the_profile_keeps_a_config_valid_however_it_is_written(tmp_path, text):
    """`calibrate` found [warmth] only as that exact line: a comment after it, spaces
    inside it or dotted keys made it add a second [warmth] and end in an internal error."""
    from voicecoach.config import load_config, remember_setting

    path = tmp_path / "c.toml"
    path.write_text(text)
    load_config(path)
    remember_setting(path, "warmth", "profile", "/home/me/me.json")
    config = load_config(path)
    assert config.warmth.profile == "/home/me/me.json" and config.warmth.low_warmth == 0.25


def test_a_section_written_inline_is_left_alone_with_one_clear_error(tmp_path):
    from voicecoach.config import ConfigError, remember_setting

    path = tmp_path / "c.toml"
    path.write_text("warmth = {low_warmth = 0.25}\n")
    with pytest.raises(ConfigError, match="add profile = "):
        remember_setting(path, "warmth", "profile", "/home/me/me.json")
    assert path.read_text() == "warmth = {low_warmth = 0.25}\n"


@pytest.mark.parametrize("value", ["/home/me/Voice\nprofiles/me.json", "/tmp/rec\x01x", 'C:\\me "x".json'])
def test_control_characters_and_quotes_are_written_as_toml_escapes(tmp_path, value):
    from voicecoach.config import load_config, remember_setting, to_toml

    path = tmp_path / "c.toml"
    remember_setting(path, "warmth", "profile", value)
    config = load_config(path)
    assert config.warmth.profile == value
    (tmp_path / "copy.toml").write_text(to_toml(config, notes=True))     # `voicecoach config` reads back
    assert load_config(tmp_path / "copy.toml").warmth.profile == value


@pytest.mark.parametrize("text, said", [("[prosody]\nformant_band_hz = 5.0\n", "formant_band_hz"),
                                        ("[warmth]\nwindow_s = 0.8\n", "min_voiced_s"),
                                        ("[warmth]\nmax_span_s = 0.5\n", "min_voiced_s")])
def test_settings_that_cannot_work_are_refused_up_front(tmp_path, text, said):
    from voicecoach.config import ConfigError, load_config

    (tmp_path / "c.toml").write_text(text)
    with pytest.raises(ConfigError, match=said):
        load_config(tmp_path / "c.toml")


def test_a_short_warmth_baseline_does_not_crash_analyze(tmp_path):
    """[warmth] baseline_s = 1: speech went past it before the first window could be
    scored, and the baseline was updated while there was none (an internal error)."""
    from voicecoach.cli import main

    (tmp_path / "c.toml").write_text("[warmth]\nbaseline_s = 1.0\n")
    assert main(["analyze", "--demo", "--no-transcript", "-q", "-o", str(tmp_path / "x.json"),
                 "--config", str(tmp_path / "c.toml")]) == 0


def test_a_record_keeps_the_settings_but_nothing_that_names_the_agents_machine():
    """A record may be shared with the coach: no home folder, user name or device in it."""
    c = Config()
    c.warmth.profile = "/home/alice/voice/me.json"
    c.language.lexicon_dirs = ["~/team-lexicons"]
    c.live.agent_device = "Alice's Jabra Evolve2"
    c.live.record_dir = "/home/alice/calls"
    c.transcribe.model = "/home/alice/models/small.en/"
    c.pace.band_high_wpm = 170.0
    kept = json.dumps(c.as_dict())
    assert "alice" not in kept.lower() and "team-lexicons" not in kept and "team" not in c.as_dict()
    d = c.as_dict()
    assert d["transcribe"]["model"] == "small.en" and d["pace"]["band_high_wpm"] == 170.0
    assert d["warmth"]["profile"] == "" and d["language"]["lexicon_dirs"] == []


def test_relative_files_in_the_config_are_read_from_its_folder(tmp_path, monkeypatch):
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "c.toml").write_text('[warmth]\nprofile = "me.json"\n[language]\nlexicon_dirs = ["lex", "~/x", "/abs"]\n'
                                   '[live]\nrecord_dir = "calls"\n')
    monkeypatch.chdir(tmp_path)                       # run from elsewhere
    c = load_config(folder / "c.toml")
    assert c.warmth.profile == str(folder / "me.json") and c.live.record_dir == str(folder / "calls")
    assert c.language.lexicon_dirs == [str(folder / "lex"), "~/x", "/abs"]
    assert load_config(write(tmp_path, "")).warmth.profile == ""


def test_config_printed_for_a_relative_config_file_can_be_copied_back_into_it(tmp_path, monkeypatch):
    """`voicecoach config --config conf/c.toml` printed `lexicon_dirs = ["conf/lex"]` and
    `record_dir = "conf/calls"`: the config file's folder joined to the relative path, itself
    relative to where the command ran. Copied into conf/c.toml, as the help says to, those
    are read from the file's folder as conf/conf/lex (an error: "lexicon folder not found")
    and conf/conf/calls (recordings silently go to another folder). What is printed must
    name the same files wherever it is read from: absolute paths."""
    (tmp_path / "conf" / "lex").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "conf" / "c.toml").write_text('[language]\nlexicon_dirs = ["lex"]\n[live]\nrecord_dir = "calls"\n')
    config = load_config("conf/c.toml")
    (tmp_path / "conf" / "c.toml").write_text(to_toml(config, notes=True))   # copied back, as `config` says
    again = load_config("conf/c.toml")                                       # was ConfigError: conf/conf/lex
    assert again.language.lexicon_dirs == config.language.lexicon_dirs
    assert again.live.record_dir == config.live.record_dir
    monkeypatch.chdir(tmp_path / "conf")                                     # and from another folder
    assert load_config("c.toml").live.record_dir == str(tmp_path / "conf" / "calls")


def test_a_replay_takes_a_devices_block_length_from_the_capture_section(monkeypatch):
    """``live --replay`` paces blocks as a device delivers them: ``capture.block_s``'s
    default, not a copy of it."""
    from functools import partialmethod

    import numpy as np

    from voicecoach.config import CaptureOptions
    from voicecoach.sources.audio import CallAudio
    from voicecoach.sources.files import PlaylistSource, ReplaySource

    monkeypatch.setattr(CaptureOptions, "__init__", partialmethod(CaptureOptions.__init__, block_s=0.05))
    call = CallAudio(np.zeros(16000, np.float32), np.zeros(16000, np.float32), "quiet")
    assert ReplaySource(call)._files.block == 800
    assert PlaylistSource([(0.0, call)]).block == 800
