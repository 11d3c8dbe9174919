"""kk-play against a real PulseAudio server: what reaches the sink is recorded
from its monitor and compared with what went in."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time

import numpy as np
import pytest
import soundfile
from conftest import command
from pulse_rig import RATE, REWINDING, WIDE, WIDE_CHANNELS, WIDE_RATE, locate

from kokoro_pipe.audio.devices import PulseDefaultSink
from kokoro_pipe.audio.player import FADE, fade_in, fade_out
from kokoro_pipe.errors import EXIT_DATA, EXIT_SIGINT, EXIT_SIGTERM, EXIT_UNAVAILABLE
from kokoro_pipe.framing import Audio, End, encode_audio, encode_end, encode_header, read_stream

FADE_FRAMES = round(FADE * RATE)
SIGNAL_LIMIT = 0.100  # seconds from SIGINT to the process gone (the number)
EXIT_AFTER_SOUND = 0.2 + 0.3  # kk-play's device latency + room for a slow machine (goal 0.15)


@pytest.fixture
def rig(pulse):
    pulse.set_default("one")
    yield pulse
    pulse.set_default("one")


def play(rig, *args: str, stdin: bytes | None = None, env: dict | None = None):
    """Run kk-play to its end; returns (exit status, stderr lines, --stats dict)."""
    result = subprocess.run([command("kk-play"), "--stats", *args], input=stdin,
                            capture_output=True, timeout=120, env=env or rig.env)
    lines = result.stderr.decode().splitlines()
    stats = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(stats) == 1, lines
    return result.returncode, [line for line in lines if not line.startswith("{")], stats[0]


def chirp(seconds: float, start_hz: float = 200, end_hz: float = 3000) -> np.ndarray:
    """A sweep: unambiguous to align, non-zero in its first and last sample."""
    t = np.arange(round(seconds * RATE)) / RATE
    phase = 2 * np.pi * (start_hz * t + (end_hz - start_hz) * t**2 / (2 * seconds)) + 0.7
    return (0.4 * np.sin(phase)).astype(np.float32)


def with_fades(x: np.ndarray) -> np.ndarray:
    """What the player makes of one utterance: 2 ms fades at both ends."""
    y = x.astype(np.float32)
    y[:FADE_FRAMES] *= fade_in(FADE_FRAMES)
    y[-FADE_FRAMES:] *= fade_out(FADE_FRAMES)
    return y


def framed(*utterances: np.ndarray, rate: int = RATE) -> bytes:
    return encode_header(rate) + b"".join(encode_audio(u) + encode_end() for u in utterances)


def assert_heard_whole(capture: np.ndarray, utterance: np.ndarray) -> int:
    """The utterance is in the capture, every sample, first to last, as the
    player means it (2 ms fades at its ends): so no zero run, no sample lost
    or repeated. Returns where it starts."""
    expected = with_fades(utterance)
    offset, score = locate(capture, expected)
    assert score > 0.999, f"correlation {score:.5f}"
    heard = capture[offset : offset + len(utterance)]
    assert np.max(np.abs(heard - expected)) < 1e-6, "samples differ, or some are missing"
    first, last = np.flatnonzero(expected)[[0, -1]]
    assert heard[first] == expected[first] and heard[last] == expected[last]
    return offset


def test_lists_the_rig_sinks_and_marks_the_default(rig):
    result = subprocess.run([command("kk-play"), "--list-devices"], capture_output=True,
                            text=True, env=rig.env, timeout=60)
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert {"one", "two", "default"} <= {row[1] for row in rows}
    assert [row[1] for row in rows if row[-1] == "default"] == ["default"]


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_a_tone_in_a_wav_file_is_heard_whole(rig, tmp_path, how):
    tone = chirp(1.5)
    path = tmp_path / "tone.wav"
    soundfile.write(path, tone, RATE, subtype="FLOAT")
    with rig.record("one") as capture:
        if how == "file":
            status, errors, stats = play(rig, str(path))
        else:
            status, errors, stats = play(rig, stdin=path.read_bytes())
    assert (status, errors) == (0, [])
    assert_heard_whole(capture.samples(), tone)
    assert np.count_nonzero(capture.samples()) == np.count_nonzero(tone), "nothing else"
    assert stats["samples_played"] == len(tone) and stats["underruns"] == 0
    assert stats["devices"] == ["default (one)"]


def test_synthesized_speech_is_heard_whole_utterance_by_utterance(rig, tmp_path):
    saved = tmp_path / "speech.kkp"
    pipeline = 'set -o pipefail; "$0" -t "$1" -t "$2" | tee "$3" | "$4" --stats'
    with rig.record("one") as capture:
        result = subprocess.run(
            ["bash", "-c", pipeline, command("kk-synth"), "Hello from the pipe.",
             "A second line, after a pause.", str(saved), command("kk-play")],
            capture_output=True, timeout=300, env=rig.env)
    assert result.returncode == 0, result.stderr.decode()
    utterances, audio = [], []
    with open(saved, "rb") as f:
        for event in read_stream(f):
            if isinstance(event, Audio):
                audio.append(event.samples[:, 0])
            elif isinstance(event, End):
                utterances.append(np.concatenate(audio))
                audio = []
    assert len(utterances) == 2
    offsets = [assert_heard_whole(capture.samples(), u) for u in utterances]
    assert offsets[0] + len(utterances[0]) <= offsets[1], "in order, nothing overlapping"
    stats = json.loads(result.stderr.decode().splitlines()[-1])
    assert stats["samples_played"] == sum(map(len, utterances))
    assert stats["underruns"] == 0
    print(f"speech: first input byte -> first write {stats['first_input_to_write_ms']} ms")


@pytest.mark.parametrize("sink", ["one", WIDE])
@pytest.mark.parametrize("client_ms", [5, 10, 50])
@pytest.mark.parametrize("seconds", [0.5, 3.0])
def test_every_sample_is_heard_whatever_the_pace_of_the_sink(rig, sink, client_ms, seconds):
    """The end of the stream too: a monitor client of 50 ms makes the sink
    render in big steps, where a drain that sleeps a guess lost up to 225 ms.
    On the 48 kHz stereo sink PulseAudio resamples, so it is judged by length,
    to within 1 ms (the resampler's filter blurs the faded edges)."""
    rig.set_default(sink)
    tone = chirp(seconds) + np.float32(0.45)  # never zero: every sample is visible
    with rig.record(sink, latency_ms=client_ms) as capture:
        status, errors, stats = play(rig, "--raw", stdin=tone.tobytes())
        exited = time.time()
    assert (status, errors, stats["samples_played"]) == (0, [], len(tone))
    heard = capture.samples()
    if sink == WIDE:
        assert heard.shape[1] == WIDE_CHANNELS
        loud = np.flatnonzero(np.abs(heard[:, 0]) > 1e-5)
        span = (loud[-1] - loud[0] + 1) * RATE / WIDE_RATE
        assert abs(span - len(tone)) <= RATE // 1000, f"{len(tone) - span:+.0f} samples at 24 kHz"
    else:
        assert_heard_whole(heard, tone)
    took = exited - capture.sound_ends(1e-5)
    print(f"{sink} client {client_ms} ms {seconds} s: exit {took * 1000:.0f} ms after the end")
    assert took < EXIT_AFTER_SOUND


def test_raw_input_on_a_named_device(rig):
    tone = chirp(0.8)
    with rig.record("two") as capture:
        status, errors, stats = play(rig, "--raw", "--rate", str(RATE), "--device", "two",
                                     stdin=tone.tobytes())
    assert (status, errors) == (0, [])
    assert_heard_whole(capture.samples(), tone)
    assert stats["devices"] == ["two"]


def test_ten_seconds_through_a_pipe_without_underruns(rig):
    long = chirp(10.0, 100, 1000)
    with rig.record("one") as capture:
        status, errors, stats = play(rig, stdin=framed(long))
    assert (status, errors) == (0, [])
    assert stats["underruns"] == 0
    assert_heard_whole(capture.samples(), long)


def test_start_survives_a_rewinding_sink(rig):
    """On a sink that rewinds, a fresh stream loses its first milliseconds
    unless silence goes first: the pre-roll takes the loss."""
    tone = chirp(0.5)
    for _ in range(3):
        with rig.record(REWINDING) as capture:
            status, errors, _ = play(rig, "--device", REWINDING, stdin=framed(tone))
        assert (status, errors) == (0, [])
        assert_heard_whole(capture.samples(), tone)


def test_a_new_default_sink_takes_the_rest_of_the_stream(rig):
    signal_ = chirp(4.0, 150, 1500)
    with rig.record("one") as on_one, rig.record("two") as on_two:
        player = subprocess.Popen([command("kk-play"), "--stats"], stdin=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=rig.env)
        feeder = threading.Thread(target=_feed, args=(player, framed(signal_)))
        feeder.start()
        _wait_for_sound(on_one, seconds=1.0)
        rig.set_default("two")
        feeder.join()
        assert player.wait(timeout=60) == 0
    stats = json.loads(player.stderr.read().decode().splitlines()[-1])
    assert stats["reopens"] == 1 and stats["devices"] == ["default (one)", "default (two)"]
    first, rest = on_one.samples(), on_two.samples()
    first, rest = first[first != 0], rest[rest != 0]  # the audio, gaps closed
    assert len(first) > RATE and len(rest) > RATE, (len(first), len(rest))
    lost = len(signal_) - len(first) - len(rest)
    print(f"switch: {len(first)} samples on one, {len(rest)} on two, {lost} lost")
    assert abs(lost) <= 0.005 * RATE, "within a few ms of the input"
    _, score_first = locate(signal_, first[FADE_FRAMES:-FADE_FRAMES])
    _, score_rest = locate(signal_, rest[FADE_FRAMES:-FADE_FRAMES])
    assert score_first > 0.999 and score_rest > 0.999, (score_first, score_rest)
    assert np.array_equal(first[FADE_FRAMES:1000], signal_[FADE_FRAMES:1000]), "from the start"
    assert np.array_equal(rest[-1000:-FADE_FRAMES], signal_[-1000:-FADE_FRAMES]), "to the end"


def _feed(process: subprocess.Popen, data: bytes) -> None:
    try:
        process.stdin.write(data)
        process.stdin.close()
    except BrokenPipeError:
        pass  # stopped before the end: what the signal tests do


def _wait_for_sound(capture, seconds: float, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while np.count_nonzero(capture.samples()) < seconds * RATE:
        assert time.monotonic() < deadline, "no sound reached the sink"
        time.sleep(0.05)


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, EXIT_SIGINT),
                                            (signal.SIGTERM, EXIT_SIGTERM)])
def test_a_signal_stops_playback_within_100_ms(rig, signum, status):
    with rig.record("one") as capture:
        player = subprocess.Popen([command("kk-play"), "--stats"], stdin=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=rig.env)
        threading.Thread(target=_feed, args=(player, framed(chirp(20.0))), daemon=True).start()
        _wait_for_sound(capture, seconds=0.5)
        sent = time.monotonic()
        player.send_signal(signum)
        try:
            player.wait(timeout=10)
        finally:
            player.kill()  # a player still playing would be heard by the next tests
        took = time.monotonic() - sent
    print(f"{signal.Signals(signum).name}: exited {took * 1000:.1f} ms after the signal")
    assert player.returncode == status
    assert took < SIGNAL_LIMIT
    heard = np.count_nonzero(capture.samples())
    assert heard < 5 * RATE, "the sound stopped"
    stderr = player.stderr.read().decode().splitlines()
    assert len(stderr) == 1 and json.loads(stderr[0])["samples_played"] > 0


def test_truncated_input_plays_what_is_whole_and_says_so(rig):
    whole = chirp(0.6)
    cut = framed(whole)[:-len(encode_end())] + encode_audio(chirp(0.2))[:-100]
    with rig.record("one") as capture:
        status, errors, stats = play(rig, stdin=cut)
    assert status == EXIT_DATA
    assert len(errors) == 1 and errors[0].startswith("kk-play: input truncated: "), errors
    assert_heard_whole(capture.samples(), whole)
    assert stats["samples_played"] == len(whole)


@pytest.mark.parametrize("garbage", [
    b"this is not audio\n" * 20,
    bytes(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8)),
    encode_header(RATE)[:4] + b"\x09" + encode_header(RATE)[5:],  # unknown version
    encode_header(RATE) + b"\x05\x00\x00\x00\x33abcd",  # reserved frame kind
], ids=["text", "random", "version", "kind"])
def test_garbage_is_one_line_and_status_65(rig, garbage):
    status, errors, stats = play(rig, stdin=garbage)
    assert status == EXIT_DATA
    assert len(errors) == 1 and errors[0].startswith("kk-play: "), errors
    assert "Traceback" not in errors[0] and stats["samples_played"] == 0


def test_no_server_means_no_device(rig):
    status, errors, _ = play(rig, stdin=framed(chirp(0.2)), env=rig.env_without_server)
    assert status == EXIT_UNAVAILABLE
    assert len(errors) == 1
    assert errors[0].startswith("kk-play: no audio output device found ("), errors


def test_an_unknown_device_name_is_refused(rig):
    status, errors, _ = play(rig, "--device", "nonesuch", stdin=framed(chirp(0.2)))
    assert status == EXIT_UNAVAILABLE
    assert errors == ["kk-play: no audio output device found "
                      "(none matches 'nonesuch'; see --list-devices)"]


def test_a_new_sample_rate_mid_stream_reopens_the_device(rig):
    first, second = chirp(0.4), chirp(0.3)[::2].copy()
    data = framed(first) + framed(second, rate=RATE // 2)
    with rig.record("one") as capture:
        status, errors, stats = play(rig, stdin=data)
    assert (status, errors) == (0, [])
    assert stats["samples_played"] == len(first) + len(second)
    assert stats["opens"] == 2
    assert_heard_whole(capture.samples(), first)


def test_an_ambiguous_device_name_is_refused(rig):
    status, errors, _ = play(rig, "--device", "o", stdin=framed(chirp(0.2)))
    assert status == EXIT_UNAVAILABLE
    assert errors[0].startswith("kk-play: no audio output device found ('o' is ambiguous: ")


def test_a_device_by_index(rig):
    listing = subprocess.run([command("kk-play"), "--list-devices"], capture_output=True,
                             text=True, env=rig.env, timeout=60).stdout
    index = next(row.split("\t")[0] for row in listing.splitlines() if "\ttwo\t" in row)
    tone = chirp(0.3)
    with rig.record("two") as capture:
        status, errors, stats = play(rig, "--device", index, stdin=framed(tone))
    assert (status, errors, stats["devices"]) == (0, [], ["two"])
    assert_heard_whole(capture.samples(), tone)


def test_the_pulse_watch_sees_the_default_sink_change(rig, monkeypatch):
    for name in ("PULSE_SERVER", "PULSE_CLIENTCONFIG", "PULSE_COOKIE", "PULSE_RUNTIME_PATH"):
        monkeypatch.setenv(name, rig.env[name])
    watch = PulseDefaultSink()
    try:
        assert watch.current() == "one"
        rig.set_default("two")
        deadline = time.monotonic() + 10
        while watch.current() != "two":
            assert time.monotonic() < deadline, f"still {watch.current()!r}"
            time.sleep(0.01)
    finally:
        watch.close()
