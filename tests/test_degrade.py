"""Degradations of a call's audio with known truth (arrays only: no voices, no Whisper)."""
import numpy as np
import pytest
from scipy import signal

from tools.degrade import (
    SR,
    Condition,
    active_level_db,
    add_fan,
    add_floor,
    add_hum,
    degrade,
    echo_taps,
    energy_db,
    loss_pattern,
    make_echo,
    mulaw,
    packet_loss,
    phone_line,
    quiet_mic,
    room_ir,
)


def _noise(seconds, seed, level_dbfs=-20.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * SR)) * 10 ** (level_dbfs / 20)).astype(np.float32)


def _bursts(seconds, seed, level_dbfs=-20.0, on_s=(0.5, 2.0), off_s=(0.3, 1.5)):
    """Noise in bursts with silences between, like speech; and its activity mask."""
    rng = np.random.default_rng(seed)
    x, mask = _noise(seconds, seed + 1000, level_dbfs), np.zeros(int(seconds * SR), bool)
    pos = int(rng.uniform(*off_s) * SR)
    while pos < len(x):
        n = int(rng.uniform(*on_s) * SR)
        mask[pos:pos + n] = True
        pos += n + int(rng.uniform(*off_s) * SR)
    return np.where(mask, x, 0).astype(np.float32), mask


def _xcorr(ref, y, max_lag):
    """Cross-correlation of ``y`` against ``ref`` at lags 0..max_lag (``y`` late), each lag per
    unit of the energy of the part of ``ref`` that overlaps ``y``: the gain of ``ref`` in ``y``."""
    ref, y = ref.astype(np.float64), y.astype(np.float64)
    c = signal.correlate(y, ref, mode="full", method="fft")
    mid = len(ref) - 1
    e = np.cumsum(ref ** 2)[::-1][:max_lag + 1]             # energy of ref[:n - lag]
    return c[mid:mid + max_lag + 1] / e


def _level(echo, agent, delay_s):
    """Energy of ``echo`` relative to the part of ``agent`` it echoes (dB)."""
    return energy_db(echo) - energy_db(agent[:len(agent) - round(delay_s * SR)]) + 10 * np.log10(
        len(echo) / (len(agent) - round(delay_s * SR)))


def _rms_db(x):
    return 10 * np.log10(np.mean(np.square(x, dtype=np.float64)))


# --- echo ----------------------------------------------------------------------------------

@pytest.mark.parametrize("delay_s", [0.0, 0.18, 0.5])
def test_echo_of_a_single_tap_is_the_agent_late_and_quieter(delay_s):
    agent = _noise(3.0, 1)
    echo, ir = make_echo(agent, -30.0, delay_s, taps=0)
    cc = _xcorr(agent, echo, int(0.6 * SR))
    assert int(np.argmax(np.abs(cc))) == round(delay_s * SR)
    assert 20 * np.log10(cc.max()) == pytest.approx(-30.0, abs=0.1)
    assert np.flatnonzero(ir).tolist() == [round(delay_s * SR)]
    assert echo.dtype == np.float32 and len(echo) == len(agent)


def test_echo_at_minus_30_db_and_180_ms_through_a_short_impulse_response():
    agent = _noise(4.0, 2)
    echo, ir = make_echo(agent, -30.0, 0.18, taps=4, seed=7)
    d = round(0.18 * SR)
    cc = _xcorr(agent, echo, int(0.5 * SR))
    assert int(np.argmax(np.abs(cc))) == d                         # the main tap
    assert cc[d] == pytest.approx(ir[d], rel=0.05)                 # with the main tap's gain
    assert _level(echo, agent, 0.18) == pytest.approx(-30.0, abs=0.05)
    taps = np.flatnonzero(ir)
    assert len(taps) == 5 and taps[0] == d and taps[-1] - d < 0.02 * SR    # a few taps within 20 ms
    assert np.all(np.abs(ir[taps[1:]]) < np.abs(ir[d]))            # decaying after the main one
    for lag in taps[1:]:
        assert cc[lag] == pytest.approx(ir[lag], abs=0.1 * abs(ir[d]))


@pytest.mark.parametrize("level_db", [-20.0, -40.0])
def test_echo_level_is_the_energy_ratio_asked(level_db):
    agent, _ = _bursts(6.0, 3)
    echo, _ = make_echo(agent, level_db, 0.18, taps=4, seed=1)
    assert _level(echo, agent, 0.18) == pytest.approx(level_db, abs=0.05)
    assert active_level_db(echo) - active_level_db(agent) == pytest.approx(level_db, abs=1.0)


def test_echo_taps_decay_after_the_main_tap():
    h = echo_taps(4, seed=3)
    assert h[0] == 1.0 and np.count_nonzero(h) == 5
    nz = np.abs(h[np.flatnonzero(h)])
    assert np.all(np.diff(nz) < 0)


def test_a_drifting_echo_moves_its_delay_and_gain_slowly_within_the_range():
    sos = signal.butter(4, 2000, fs=SR, output="sos")               # speech-like: correlated over ~1 ms
    agent = signal.sosfilt(sos, _noise(60.0, 4)).astype(np.float32)
    echo, _ = make_echo(agent, -30.0, 0.18, taps=0, drift_ms=20.0, drift_db=3.0, drift_period_s=40.0, seed=5)
    win, back, lags, gains = SR // 2, int(0.3 * SR), [], []
    for i0 in range(back, len(agent) - win, 2 * SR):                # 0.5 s windows every 2 s
        cc = signal.correlate(agent[i0 - back:i0 + win].astype(np.float64),
                              echo[i0:i0 + win].astype(np.float64), mode="valid")
        lag = back - int(np.argmax(cc))
        lags.append(lag / SR)
        gains.append(energy_db(echo[i0:i0 + win]) - energy_db(agent[i0 - lag:i0 - lag + win]))
    assert min(lags) >= 0.18 - 0.021 and max(lags) <= 0.18 + 0.021
    assert max(lags) - min(lags) > 0.03                            # it does move
    assert np.max(np.abs(np.diff(lags))) < 0.01                     # slowly: < 5 ms/s
    assert max(gains) - min(gains) > 3.0 and max(gains) - min(gains) < 6.5
    assert _level(echo, agent, 0.18) == pytest.approx(-30.0, abs=0.1)


def test_echo_refuses_a_negative_delay():
    with pytest.raises(ValueError):
        make_echo(_noise(1.0, 0), -30.0, -0.1)


# --- colleagues on the floor ---------------------------------------------------------------

def test_room_ir_has_the_direct_sound_the_ratio_and_the_decay_asked():
    ir = room_ir(rt60_s=0.4, drr_db=3.0, seed=2)
    assert ir[0] == 1.0 and len(ir) == round(0.4 * SR)
    tail = ir[1:]
    assert 10 * np.log10(1.0 / np.sum(tail ** 2)) == pytest.approx(3.0, abs=1e-6)
    n = len(ir) // 10
    early, late = np.sum(ir[1:n + 1] ** 2), np.sum(ir[-n:] ** 2)
    assert 10 * np.log10(early / late) == pytest.approx(60 * 0.9 * 0.99, abs=6.0)   # ~ -60 dB over rt60


@pytest.mark.parametrize("level_db", [-25.0, -35.0])
def test_floor_speech_sits_at_the_level_asked_below_the_agent(level_db):
    agent, a_mask = _bursts(20.0, 10, level_dbfs=-18.0)
    c1, m1 = _bursts(20.0, 11, level_dbfs=-30.0)
    c2, m2 = _bursts(20.0, 12, level_dbfs=-34.0)
    mixed, floor = add_floor(agent, [c1, c2], level_db, seed=3)
    assert active_level_db(floor) - active_level_db(agent) == pytest.approx(level_db, abs=0.01)
    # Measured independently: each signal's power while it is on (the reverb's tail aside).
    on = m1 | m2
    assert _rms_db(floor[on]) - _rms_db(agent[a_mask]) == pytest.approx(level_db, abs=1.0)
    assert np.allclose(mixed - floor, agent, atol=1e-6)
    assert mixed.dtype == np.float32 and len(mixed) == len(agent)


def test_floor_has_a_little_room_reverb():
    agent, _ = _bursts(10.0, 20)
    c = np.zeros(len(agent), np.float32)
    c[SR:SR + SR // 2] = _noise(0.5, 21)                            # one burst, then silence
    _, floor = add_floor(agent, [c], -25.0, rt60_s=0.35, seed=1)
    after = floor[int(1.5 * SR) + 80:int(1.5 * SR) + 1680]          # 5..105 ms after it ends
    assert _rms_db(after) < _rms_db(floor[SR:SR + SR // 2]) - 3     # a tail, weaker than the burst
    assert np.abs(after).max() > 0
    assert np.abs(floor[int(1.9 * SR):]).max() < 1e-9               # and gone after rt60


def test_floor_needs_tracks_as_long_as_the_call():
    with pytest.raises(ValueError):
        add_floor(_noise(2.0, 0), [_noise(1.0, 1)], -25.0)


# --- phone line ----------------------------------------------------------------------------

def test_mulaw_has_255_levels_and_38_db_of_snr():
    t = np.arange(8000) / 8000
    for amp in (0.5, 0.05, 0.005):
        x = amp * np.sin(2 * np.pi * 440 * t)
        y = mulaw(x)
        assert len(np.unique(y)) <= 255
        snr = 10 * np.log10(np.sum(x ** 2) / np.sum((y - x) ** 2))
        assert snr > 30, amp


def test_phone_line_has_no_energy_above_4_khz_or_below_300_hz():
    x = _noise(4.0, 30)
    y = phone_line(x)
    assert y.dtype == np.float32 and len(y) == len(x)
    f, p = signal.welch(y.astype(np.float64), fs=SR, nperseg=1024)
    total = p.sum()
    assert 10 * np.log10(p[f > 4000].sum() / total) < -60
    assert 10 * np.log10(p[f < 150].sum() / total) < -30
    band = (f > 500) & (f < 3000)
    assert 10 * np.log10(np.mean(p[band])) == pytest.approx(10 * np.log10(np.mean(
        signal.welch(x.astype(np.float64), fs=SR, nperseg=1024)[1][band])), abs=1.5)   # passband kept


def test_phone_line_keeps_timing():
    x, _ = _bursts(6.0, 31)
    y = phone_line(x)
    c = signal.correlate(y.astype(np.float64), x.astype(np.float64), mode="full", method="fft")
    mid = len(x) - 1
    assert int(np.argmax(c[mid - 200:mid + 201])) == 200            # lag 0 of -200..200 samples


# --- packet loss ---------------------------------------------------------------------------

PACKET = round(0.02 * SR)


def _voiced(seconds, f0=140.0):
    """A steady vowel-like sound: f0 and four harmonics."""
    t = np.arange(int(seconds * SR)) / SR
    return sum(0.1 / k * np.sin(2 * np.pi * k * f0 * t + k) for k in range(1, 6)).astype(np.float32)


def _runs(lost):
    edges = np.diff(np.concatenate([[0], lost.astype(np.int8), [0]]))
    return np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)


@pytest.mark.parametrize("rate,burst", [(0.05, 2.0), (0.02, 1.0), (0.10, 3.0)])
def test_loss_pattern_loses_the_rate_asked_in_bursts(rate, burst):
    lost = loss_pattern(60_000, rate, burst, seed=3)                # 20 min of 20 ms packets
    assert lost.mean() == pytest.approx(rate, rel=0.12)
    assert _runs(lost).mean() == pytest.approx(burst, rel=0.12)
    assert np.array_equal(lost, loss_pattern(60_000, rate, burst, seed=3))
    assert not np.array_equal(lost, loss_pattern(60_000, rate, burst, seed=4))


def test_no_loss_changes_nothing():
    x = _noise(2.0, 60)
    y, lost = packet_loss(x, 0.0, seed=1)
    assert not lost.any() and np.array_equal(y, x)
    with pytest.raises(ValueError):
        packet_loss(x, 0.05, concealment="comfort noise")


@pytest.mark.parametrize("concealment", ["repeat", "silence"])
def test_packet_loss_gaps_sit_on_the_lost_packets_at_the_rate_asked(concealment):
    x = _voiced(300.0)
    y, lost = packet_loss(x, 0.05, burst_packets=2.0, concealment=concealment, seed=7)
    assert y.dtype == np.float32 and len(y) == len(x) and len(lost) == len(x) // PACKET
    assert lost.mean() == pytest.approx(0.05, abs=0.01)
    changed = np.abs(y - x).reshape(-1, PACKET).max(axis=1) > 1e-6
    after = np.concatenate([[False], lost[:-1]]) & ~lost            # the cross-fade into a received packet
    assert np.array_equal(changed & ~after, lost)                   # only the lost packets change
    if concealment == "silence":
        assert np.all(y.reshape(-1, PACKET)[lost] == 0)


def test_repeat_concealment_continues_the_voice_then_fades_to_silence():
    x = _voiced(300.0)
    y, lost = packet_loss(x, 0.05, burst_packets=2.0, concealment="repeat", seed=7)
    xp, yp = x.reshape(-1, PACKET).astype(np.float64), y.reshape(-1, PACKET).astype(np.float64)
    starts = np.flatnonzero(np.diff(np.concatenate([[0], lost.astype(np.int8)])) == 1)
    first = [i for i in starts if i > 0]
    # The first lost packet of a burst: the voice goes on, at full level for 10 ms, -20 % per 10 ms after.
    for i in first:
        assert np.corrcoef(xp[i], yp[i])[0, 1] > 0.9
        assert _rms_db(yp[i, :PACKET // 2]) == pytest.approx(_rms_db(xp[i, :PACKET // 2]), abs=0.5)
        assert _rms_db(yp[i, PACKET // 2:]) < _rms_db(xp[i, PACKET // 2:]) - 0.5
    # From 60 ms into a burst on, silence.
    long = [i for i, n in zip(starts, _runs(lost)) if n >= 4]
    assert long, "no burst of 4 packets or more"
    for i in long:
        assert np.all(yp[i + 3] == 0)
    # No concealed sample is louder than the voice.
    assert np.abs(yp[lost]).max() <= np.abs(xp).max() * 1.01


def test_packet_loss_is_deterministic_given_the_seed():
    x = _voiced(20.0)
    a, _ = packet_loss(x, 0.05, seed=2)
    b, _ = packet_loss(x, 0.05, seed=2)
    c, _ = packet_loss(x, 0.05, seed=3)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


# --- quiet mic, hum, fan -------------------------------------------------------------------

def test_quiet_mic_is_18_db_down_with_its_self_noise_where_it_was():
    agent, mask = _bursts(20.0, 70, level_dbfs=-20.0)
    agent = agent + _noise(20.0, 71, level_dbfs=-65.0)              # the clean call's own floor
    y, noise = quiet_mic(agent, -18.0, noise_dbfs=-65.0, seed=1)
    assert y.dtype == np.float32 and len(y) == len(agent)
    assert _rms_db(y[mask]) - _rms_db(agent[mask]) == pytest.approx(-18.0, abs=1.0)
    assert active_level_db(y) - active_level_db(agent) == pytest.approx(-18.0, abs=1.0)
    assert _rms_db(y[~mask]) == pytest.approx(-65.0, abs=1.0)       # the floor stays at -65 dBFS
    assert _rms_db(noise) == pytest.approx(-65.0, abs=0.1)
    assert np.array_equal(y, quiet_mic(agent, -18.0, seed=1)[0])


@pytest.mark.parametrize("hz", [50.0, 60.0])
def test_hum_is_at_its_level_and_at_the_mains_frequency_and_harmonics(hz):
    agent, _ = _bursts(20.0, 80, level_dbfs=-20.0)
    mixed, hum = add_hum(agent, -30.0, hz=hz, harmonics=5, seed=2)
    assert _rms_db(hum) - active_level_db(agent) == pytest.approx(-30.0, abs=1.0)
    assert np.allclose(mixed - hum, agent, atol=1e-6)
    f, p = signal.welch(hum.astype(np.float64), fs=SR, nperseg=16 * SR // 10)   # 0.625 Hz bins
    near = np.zeros(len(f), bool)
    for k in range(1, 6):
        near |= np.abs(f - k * hz) < 2.0
        assert 10 * np.log10(p[np.abs(f - k * hz) < 1.0].max() / p.max()) > -20, k   # each harmonic there
    assert p[near].sum() / p.sum() > 0.999                          # and nothing else
    assert f[np.argmax(p)] == pytest.approx(hz, abs=1.0)             # the fundamental strongest


def test_fan_noise_is_at_the_snr_asked_and_low_pass():
    agent, mask = _bursts(30.0, 90, level_dbfs=-20.0)
    mixed, fan = add_fan(agent, 15.0, cutoff_hz=250.0, seed=3)
    assert active_level_db(agent) - _rms_db(fan) == pytest.approx(15.0, abs=1.0)
    assert _rms_db(agent[mask]) - _rms_db(fan) == pytest.approx(15.0, abs=1.0)   # measured independently
    assert np.allclose(mixed - fan, agent, atol=1e-6)
    f, p = signal.welch(fan.astype(np.float64), fs=SR, nperseg=4096)
    low, high = p[(f > 30) & (f < 200)].mean(), p[(f > 2000) & (f < 4000)].mean()
    assert 10 * np.log10(low / high) > 30                            # rumble, little hiss
    assert 10 * np.log10(p[f < 20].mean() / low) < -3                 # no DC
    assert np.array_equal(fan, add_fan(agent, 15.0, seed=3)[1])


# --- conditions ----------------------------------------------------------------------------

def _call(seconds=8.0):
    agent, _ = _bursts(seconds, 40, level_dbfs=-18.0)
    customer, _ = _bursts(seconds, 41, level_dbfs=-22.0)
    return np.stack([agent, customer], axis=1)


def test_no_condition_changes_nothing():
    audio = _call()
    out = degrade(audio, Condition(), seed=1)
    assert np.array_equal(out, audio) and out is not audio
    assert Condition().describe() == "none"


def test_degrade_is_deterministic_given_the_seed():
    audio = _call()
    tracks = [_bursts(8.0, 50)[0], _bursts(8.0, 51)[0]]
    cond = Condition(echo_db=-30.0, floor_db=-30.0, phone=True)
    a = degrade(audio, cond, seed=4, colleagues=tracks)
    b = degrade(audio, cond, seed=4, colleagues=tracks)
    c = degrade(audio, cond, seed=5, colleagues=tracks)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert cond.describe() == "floor -30 dB + echo -30 dB 180 ms + phone line"


def test_realistic_mix_puts_each_part_where_it_belongs():
    audio = _call()
    tracks = [_bursts(8.0, 52)[0]]
    out = degrade(audio, Condition(echo_db=-30.0, floor_db=-30.0, phone=True), seed=2, colleagues=tracks)
    floor = out[:, 0] - audio[:, 0]
    assert active_level_db(floor) - active_level_db(audio[:, 0]) == pytest.approx(-30.0, abs=0.01)
    f, p = signal.welch(out[:, 1].astype(np.float64), fs=SR, nperseg=1024)
    assert 10 * np.log10(p[f > 4000].sum() / p.sum()) < -60          # the call audio went down the line
    # The agent (with the floor) comes back in the call audio 180 ms late.
    cc = _xcorr(out[:, 0], out[:, 1], int(0.4 * SR))
    assert int(np.argmax(np.abs(cc))) == round(0.18 * SR)


def test_echo_only_adds_to_the_call_audio():
    audio = _call()
    out = degrade(audio, Condition(echo_db=-20.0, echo_delay_s=0.25), seed=3)
    assert np.array_equal(out[:, 0], audio[:, 0])
    echo = out[:, 1] - audio[:, 1]
    assert _level(echo, audio[:, 0], 0.25) == pytest.approx(-20.0, abs=0.1)
    assert np.all(echo[:round(0.25 * SR)] == 0)


def test_a_floor_condition_needs_colleagues():
    with pytest.raises(ValueError, match="colleagues"):
        degrade(_call(), Condition(floor_db=-25.0))


def test_mic_conditions_change_only_the_agent_and_loss_only_the_call_audio():
    audio = _call(20.0)
    ref = active_level_db(audio[:, 0])
    out = degrade(audio, Condition(mic_gain_db=-18.0), seed=1)
    assert active_level_db(out[:, 0]) - ref == pytest.approx(-18.0, abs=1.0)
    assert np.array_equal(out[:, 1], audio[:, 1])
    out = degrade(audio, Condition(hum_db=-30.0, hum_hz=60.0), seed=1)
    assert _rms_db(out[:, 0] - audio[:, 0]) - ref == pytest.approx(-30.0, abs=1.0)
    assert np.array_equal(out[:, 1], audio[:, 1])
    out = degrade(audio, Condition(fan_snr_db=15.0), seed=1)
    assert ref - _rms_db(out[:, 0] - audio[:, 0]) == pytest.approx(15.0, abs=1.0)
    out = degrade(audio, Condition(loss_rate=0.05), seed=1)
    assert np.array_equal(out[:, 0], audio[:, 0])
    changed = np.abs(out[:, 1] - audio[:, 1]).reshape(-1, PACKET).max(axis=1) > 0
    assert 0.02 < changed.mean() < 0.10


def test_mic_and_loss_conditions_are_deterministic_and_describe_themselves():
    audio = _call()
    tracks = [_bursts(8.0, 53)[0]]
    cond = Condition(echo_db=-30.0, floor_db=-30.0, mic_gain_db=-18.0, hum_db=-30.0, fan_snr_db=15.0,
                     loss_rate=0.05)
    a = degrade(audio, cond, seed=4, colleagues=tracks)
    assert np.array_equal(a, degrade(audio, cond, seed=4, colleagues=tracks))
    assert not np.array_equal(a, degrade(audio, cond, seed=5, colleagues=tracks))
    assert cond.describe() == ("floor -30 dB + fan 15 dB SNR + mic -18 dB (noise -65 dBFS) + hum 50 Hz -30 dB"
                               " + echo -30 dB 180 ms + loss 5 % (repeat)")


def test_a_call_recorded_low_is_both_channels_quieter_after_everything_else():
    rng = np.random.default_rng(3)
    call = (rng.standard_normal((16000, 2)) * 0.1).astype(np.float32)
    echoed = degrade(call, Condition(echo_db=-30.0), seed=4)
    low = degrade(call, Condition(echo_db=-30.0, level_db=-24.0), seed=4)
    assert np.allclose(low, echoed * 10 ** (-24 / 20), atol=1e-7)
    assert Condition(level_db=-24.0).describe() == "recorded -24 dB"
