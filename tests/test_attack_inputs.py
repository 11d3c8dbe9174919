"""Hostile and careless input on every way in: the FIFO, the synthesis socket,
kk-synth --phonemes, kk-play's streams and sound files, kk-synth's output.

Each case runs real processes with a timeout and asserts the documented exit
status and one line on stderr; the daemon must answer afterwards."""

from __future__ import annotations

import io
import json
import socket
import struct
import subprocess

import numpy as np
import pytest
import soundfile
from conftest import command
from daemon_rig import SpeakDaemon, module_daemon
from test_synth_daemon import client_env, jobs, served, synth

from kokoro_pipe.daemon import synth_protocol as protocol
from kokoro_pipe.framing import (
    HEADER,
    KIND_AUDIO,
    KIND_END,
    KIND_WORD,
    LENGTH,
    MAGIC,
    encode_audio,
    encode_end,
    encode_header,
    read_stream,
)
from kokoro_pipe.voice import files as models

TIMEOUT = 120  # seconds for any one process: a hung one fails, a slow machine passes
DEEP = 1500  # the nesting


def nest(n: int = DEEP, kind: str = "[") -> str:
    return ('{"a":' * n + "0" + "}" * n) if kind == "{" else "[" * n + "]" * n


speakd = module_daemon("attackd")


def one_line(stderr: bytes, prog: str) -> str:
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: "), lines
    return lines[0]


# -- the FIFO ----------------------------------------------------------------

FIFO_ATTACKS = [  # (line, what the logged reason says)
    (f'{{"text":"hi","id":{nest()}}}', "nested deeper than 32"),
    (f'{{"text":{nest(1000, "{")}}}', "nested deeper than 32"),
    (f'{{"bogus":{nest()},"text":"hi"}}', "nested deeper than 32"),
    ('{"text":"hi","speed":[[[[[[' + "{" * 600 + "]", "nested deeper than 32"),  # unbalanced
    ('{"text":"hi","speed":1e999}', "speed must be a number"),
    ('{"text":"hi","speed":NaN}', "NaN is not a JSON number"),
    ('{"text":"hi","id":' + "7" * 5000 + "}", "more than 100 digits"),
    ('{"text":"hi","id":"' + "x" * 10_000 + '"}', "longer than 64 characters"),
    (b'{"text":"caf\xe9"}', "not valid UTF-8"),
    (b'{"text":"a\x00b"}', "NUL byte"),
    ('{"text":"hi"}' + "}" * 200, "Extra data"),
    ('{"text":"' + "[" * 20_000 + '"}', "longer than the limit"),
]


def test_fifo_attacks_are_each_rejected_and_logged_and_the_daemon_speaks_on(speakd):
    before = len([r for r in speakd.requests() if r["outcome"] == "rejected"])
    for line, _ in FIFO_ATTACKS:  # one write each: lines over 4 KiB are not atomic
        speakd.write(line)
    speakd.write(json.dumps({"text": "Still here.", "id": "alive"}))
    assert speakd.request("alive", timeout=TIMEOUT)["outcome"] == "spoken"
    assert speakd.proc.poll() is None
    rejected = [r for r in speakd.requests() if r["outcome"] == "rejected"][before:]
    assert len(rejected) == len(FIFO_ATTACKS), rejected
    for (_, reason), record in zip(FIFO_ATTACKS, rejected, strict=True):
        assert reason in record["reason"], record


# -- the synthesis socket ------------------------------------------------------


def exchange(daemon: SpeakDaemon, data: bytes) -> list:
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(TIMEOUT)
        conn.connect(str(daemon.fifo.parent / "synth.sock"))
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        answer = b"".join(iter(lambda: conn.recv(65536), b""))
    return list(read_stream(io.BytesIO(answer), ancillary=True))


def test_socket_attacks_each_get_one_error_frame_and_the_daemon_serves_on(speakd):
    engine = protocol.EngineSettings.of(models.resolve(), "auto", False)
    good = protocol.encode_request(engine, protocol.SynthOptions("af_heart")).rstrip(b"\n")
    attacks = [
        f'{{"protocol":1,"engine":{nest()},"options":{{}}}}'.encode(),
        good.replace(b'"lexicon":null', f'"lexicon":{nest(900, "{")}'.encode()),
        good.replace(b'"speed":1.0', b'"speed":Infinity'),
        good.replace(b'"speed":1.0', b'"speed":' + b"1" * 4000),
        good.replace(b'"voice":"af_heart"', b'"voice":"af_\xff"'),
        good + b"\n" + f'{{"line":{nest()},"text":"x"}}'.encode(),  # a deep input line
        good + b"\n" + b'{"line":1,"text":"' + b"\\" * 7 + b'"}',  # escapes gone astray
    ]
    assert len({good, *attacks}) == len(attacks) + 1  # each replace found its target
    for attack in attacks:
        errors = [json.loads(e.payload) for e in exchange(speakd, attack + b"\n")
                  if getattr(e, "kind", None) == protocol.KIND_ERROR]
        assert len(errors) == 1, attack[:80]
        assert "bad request" in errors[0]["error"] and "internal" not in errors[0]["error"]
    before = len(jobs(speakd))
    assert synth(speakd, "--raw", stdin=b"Fine.\n").returncode == 0
    assert served(speakd, before)


# -- kk-synth --phonemes (kk-g2p --json lines) ---------------------------------

PHONEME_ATTACKS = [
    f'{{"phonemes":"hˈI","words":{nest()}}}',
    f'{{"phonemes":{nest(800, "{")}}}',
    '{"phonemes":"hˈI","words":[[0,' + "9" * 300 + ',0,1]]}',
    '{"phonemes":"hˈI","text":NaN}',
]
GOOD_PHONEMES = ["hˈI", '{"text":"hi","phonemes":"hˈI","words":[[0,3,0,2]]}']


def phoneme_input() -> bytes:
    """Good lines first and last, the attacks between: lines 1, 2..5, 6."""
    return "\n".join([GOOD_PHONEMES[0], *PHONEME_ATTACKS, GOOD_PHONEMES[1]]).encode() + b"\n"


def assert_bad_lines_named_and_skipped(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 65, result.stderr.decode()
    said = [x for x in result.stderr.decode().splitlines() if x.startswith("kk-synth:")]
    assert [x.split(":")[1].strip() for x in said] == [f"line {n}" for n in range(2, 6)], said
    assert all("invalid JSON" in x and x.endswith("skipped") for x in said), said
    ends = [e for e in read_stream(io.BytesIO(result.stdout)) if type(e).__name__ == "End"]
    assert [e.meta["text"] for e in ends] == [GOOD_PHONEMES[0], "hi"]  # the good ones spoken


def test_phoneme_attacks_via_the_daemon_are_named_skipped_and_status_65(speakd):
    assert_bad_lines_named_and_skipped(
        synth(speakd, "--phonemes", stdin=phoneme_input(), timeout=TIMEOUT * 3))


def test_phoneme_attacks_in_process_are_named_skipped_and_status_65():
    result = subprocess.run([command("kk-synth"), "--no-daemon", "--phonemes"],
                            input=phoneme_input(), capture_output=True, timeout=TIMEOUT * 3)
    assert_bad_lines_named_and_skipped(result)


# -- kk-synth's own text and output ----------------------------------------------


def test_emoji_named_are_speech_as_kk_g2p_says(speakd):
    emoji = "🎉🎉🎉👍"
    spoken = subprocess.run([command("kk-g2p"), "--spoken", "--emoji", "name", "-t", emoji],
                            capture_output=True, timeout=TIMEOUT, text=True)
    assert spoken.stdout.startswith("party popper party popper")
    result = synth(speakd, "--raw", "--emoji", "name", "-t", emoji, timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr.decode()
    audio = np.frombuffer(result.stdout, np.float32)
    assert len(audio) > 24_000 and np.abs(audio).max() > 0.05  # seconds of speech
    skipped = synth(speakd, "--raw", "-t", emoji, timeout=TIMEOUT)  # the default: emoji unsaid
    assert skipped.returncode == 65 and "nothing to speak" in one_line(skipped.stderr, "kk-synth")


@pytest.mark.parametrize("args", [["-o", "/dev/full", "--format", "kkp"],
                                  ["-o", "/dev/full", "--wav"], ["-o", "/dev/full", "--raw"],
                                  [">/dev/full"], ["--wav", ">/dev/full"]],
                         ids=["kkp", "wav", "raw", "stdout-kkp", "stdout-wav"])
def test_a_full_disk_is_status_74_in_one_line(speakd, args):
    """/dev/full: every write fails with ENOSPC, as on a full file system."""
    line = " ".join([command("kk-synth"), "-t", "'The disk is full.'", *args])
    result = subprocess.run(["sh", "-c", line], capture_output=True, timeout=TIMEOUT * 3,
                            env=client_env(speakd))
    assert result.returncode == 74
    assert one_line(result.stderr, "kk-synth").endswith("No space left on device")


# -- kk-play ---------------------------------------------------------------------


def kkp_header(rate: int = 24000, channels: int = 1) -> bytes:
    return HEADER.pack(MAGIC, 1, 0, channels, rate, 0)


def frame(kind: int, payload: bytes) -> bytes:
    return LENGTH.pack(len(payload) + 1) + bytes([kind]) + payload


def wav(frames: int = 4800, size: int | None = None) -> bytes:
    """16-bit mono WAV; `size`: what its header says of the RIFF and data sizes."""
    out = io.BytesIO()
    soundfile.write(out, np.full(frames, 0.1, np.float32), 24000, "PCM_16", format="WAV")
    data = bytearray(out.getvalue())
    if size is not None:
        data[4:8] = data[40:44] = struct.pack("<I", size)
    return bytes(data)


SOUND = encode_header(24000) + encode_audio(np.full(2400, 0.1, np.float32))
PLAY_ATTACKS = {  # input -> (status, what its one line says)
    "deep end meta": (SOUND + frame(KIND_END, nest().encode()), 65, "nested deeper"),
    "deep object in end": (SOUND + frame(KIND_END, nest(900, "{").encode()), 65, "nested"),
    "NaN in end": (SOUND + frame(KIND_END, b'{"id":NaN}'), 65, "NaN"),
    "invalid UTF-8 in end": (SOUND + frame(KIND_END, b'{"t":"\xc3"}'), 65, "UTF-8"),
    "end meta not an object": (SOUND + frame(KIND_END, b"[1]"), 65, "not a JSON object"),
    "absurd frame length": (SOUND + LENGTH.pack(0xFFFFFFF0) + b"\x01", 65, "outside 1.."),
    "zero frame length": (SOUND + LENGTH.pack(0), 65, "outside 1.."),
    "cut-off frame": (SOUND + LENGTH.pack(4001) + bytes([KIND_AUDIO]) + b"\0" * 10, 65,
                      "truncated"),
    "unknown kind": (SOUND + frame(0x03, b""), 65, "unknown frame kind"),
    "half a sample": (SOUND + frame(KIND_AUDIO, b"\0\0\0"), 65, "not whole"),
    "65 channels": (kkp_header(channels=65), 65, "channel count 65"),
    "0 channels": (kkp_header(channels=0), 65, "channel count 0"),
    "absurd rate": (kkp_header(rate=0xFFFFFFFF), 65, "sample rate"),
    "33 channels": (kkp_header(channels=33), 69, "no audio output device"),
    "WAV cut mid-sample": (wav()[:-1], 65, "inside a sample frame"),
    "streaming WAV cut mid-sample": (wav(size=0xFFFFFFFF)[:-1], 65, "inside a sample"),
    "WAV cut at a whole sample": (wav()[:-100], 0, None),
    "not audio at all": (b"\x00" * 64, 65, "neither a kokoro-pipe stream"),
}


def play(rig, stdin: bytes, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([command("kk-play"), *args], input=stdin, capture_output=True,
                          env=rig.env, timeout=TIMEOUT)


@pytest.mark.parametrize("case", PLAY_ATTACKS, ids=list(PLAY_ATTACKS))
def test_kk_play_refuses_bad_input_with_its_documented_status(pulse, case):
    data, status, reason = PLAY_ATTACKS[case]
    result = play(pulse, data)
    assert result.returncode == status, result.stderr.decode()
    if reason:
        assert reason in one_line(result.stderr, "kk-play")


def test_kk_play_reads_a_deep_word_mark_as_bad_input(pulse):
    mark = frame(KIND_WORD, f'{{"utterance":1,"start":0,"end":1,"text":{nest()}}}'.encode())
    result = play(pulse, SOUND + mark + encode_end(), "--words")
    assert result.returncode == 65 and "word frame" in one_line(result.stderr, "kk-play")


def test_a_device_failing_while_the_input_is_open_is_status_69(pulse):
    """The read-ahead thread is still blocked reading the pipe when kk-play exits."""
    player = subprocess.Popen([command("kk-play")], stdin=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=pulse.env)
    try:
        player.stdin.write(kkp_header(channels=33))
        player.stdin.flush()
        status = player.wait(timeout=TIMEOUT)  # the input stays open meanwhile
        stderr = player.stderr.read()
    finally:
        player.stdin.close()
        if player.poll() is None:
            player.kill()
            player.wait()
    assert status == 69, stderr.decode()
    assert "no audio output device" in one_line(stderr, "kk-play")


@pytest.mark.parametrize("file", [[], ["-"]], ids=["implicit", "dash"])
def test_kk_play_with_stdin_closed_is_status_66(pulse, file):
    result = subprocess.run(["sh", "-c", 'exec "$@" <&-', "sh", command("kk-play"), *file],
                            capture_output=True, env=pulse.env, timeout=TIMEOUT)
    assert result.returncode == 66
    assert "standard input" in one_line(result.stderr, "kk-play")
